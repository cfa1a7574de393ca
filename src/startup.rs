//! What every function does once before serving: logging, a panic hook that says where but
//! never what, its configuration, and its clients. No network call happens here: keys and
//! secrets are read on first use.

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};

use crate::config::{
    ConfigError, FunctionConfig, ParameterConfig, SecretConfig, SigningConfig, StoreConfig,
    Telemetry, VerifyingConfig,
};
use crate::domain::clock::Clock;
use crate::dynamo::{DynamoStore, Limits, with_limits};
use crate::invocation::metrics;
use crate::keys::cache::KeyCache;
use crate::logging;
use crate::secrets::{DerivationSecret, PublicKeysParameter, SigningSecret};

/// The signing keys as the signers read them: the secret, through the instance's cache.
pub type SigningKeys = KeyCache<SigningSecret>;
/// The published keys as the verifiers read them: the parameter, through the cache.
pub type PublicKeys = KeyCache<PublicKeysParameter>;

/// Logging, metrics and the panic hook, then the function's configuration; a refusal is
/// logged, naming the variable.
pub fn configure<C: FunctionConfig>() -> Result<C, ConfigError> {
    let telemetry = Telemetry::from_env();
    logging::init(&telemetry);
    metrics::set_namespace(&telemetry.metrics_namespace);
    // A panic message may quote request data: log where it happened, never what it said.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(location, "panic while handling an invocation");
    }));
    C::from_env().inspect_err(|error| tracing::error!(%error, "refusing to start"))
}

/// Region and credentials from the environment, as Lambda sets them. Each client takes its
/// endpoint from the configuration alone: the SDK's own reading of the endpoint variables
/// takes an empty value for a URL.
pub async fn aws() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The DynamoDB adapter on the configured tables, with the SDK's limits and the instance's
/// caches of the config tables, whose entries age by `clock`.
pub fn dynamo_store(aws: &SdkConfig, store: &StoreConfig, clock: Arc<dyn Clock>) -> DynamoStore {
    let mut builder = aws_sdk_dynamodb::config::Builder::from(aws);
    builder.set_endpoint_url(store.endpoint.clone());
    let client =
        aws_sdk_dynamodb::Client::from_conf(with_limits(builder, &Limits::default()).build());
    DynamoStore::new(client, store.tables.clone()).with_caches(store.cache, clock)
}

pub fn secrets_client(aws: &SdkConfig, secret: &SecretConfig) -> aws_sdk_secretsmanager::Client {
    let limits = Limits::default();
    let mut builder = aws_sdk_secretsmanager::config::Builder::from(aws)
        .timeout_config(limits.timeout_config())
        .retry_config(limits.retry_config());
    builder.set_endpoint_url(secret.endpoint.clone());
    aws_sdk_secretsmanager::Client::from_conf(builder.build())
}

pub fn parameters_client(aws: &SdkConfig, parameter: &ParameterConfig) -> aws_sdk_ssm::Client {
    let limits = Limits::default();
    let mut builder = aws_sdk_ssm::config::Builder::from(aws)
        .timeout_config(limits.timeout_config())
        .retry_config(limits.retry_config());
    builder.set_endpoint_url(parameter.endpoint.clone());
    aws_sdk_ssm::Client::from_conf(builder.build())
}

/// The signing keys and the derivation secret of a function that signs.
pub fn signing(
    aws: &SdkConfig,
    signing: &SigningConfig,
    clock: Arc<dyn Clock>,
) -> (SigningKeys, DerivationSecret) {
    let keys = SigningSecret {
        client: secrets_client(aws, &signing.keys),
        secret_id: signing.keys.secret_id.clone(),
    };
    let derivation = DerivationSecret::new(
        secrets_client(aws, &signing.derivation),
        signing.derivation.secret_id.clone(),
    );
    (
        KeyCache::new(keys, signing.keys_refresh_seconds, clock),
        derivation,
    )
}

/// The published keys of a function that verifies.
pub fn verifying(
    aws: &SdkConfig,
    verifying: &VerifyingConfig,
    clock: Arc<dyn Clock>,
) -> PublicKeys {
    let source = PublicKeysParameter {
        client: parameters_client(aws, &verifying.keys),
        name: verifying.keys.name.clone(),
    };
    KeyCache::new(source, verifying.keys_refresh_seconds, clock)
}
