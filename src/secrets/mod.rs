//! The key store adapters: the signing keys' Secrets Manager secret (private keys, read by
//! the signers and written by the rotation), the public keys' SSM parameter (read by the
//! verifiers, written by the rotation), and the derivation secret. Every read asks for a
//! version stage by name: without one, Secrets Manager may answer a stale version right after
//! a rotation moved `AWSCURRENT`.

pub mod rotation;

use std::sync::Arc;

use aws_sdk_secretsmanager::Client as SecretsClient;
use aws_sdk_ssm::Client as ParameterClient;
use tokio::sync::OnceCell;

use crate::domain::derivation::DerivationKeys;
use crate::domain::secret::Secret;
use crate::error::ApiError;
use crate::invocation::deadline::Dependency;
use crate::keys::cache::KeySource;
use crate::keys::{PublicKeySet, SigningKeySet};
use crate::ports::Derivation;
use crate::sdk::{classify, within_deadline};

/// The stage a secret's version is served under.
pub const CURRENT: &str = "AWSCURRENT";
pub const PENDING: &str = "AWSPENDING";

/// One version of a secret, by stage and optionally by id: its `SecretString`, `None` when
/// there is no such version (or it has no value yet).
pub async fn secret_string(
    client: &SecretsClient,
    secret_id: &str,
    stage: &str,
    version_id: Option<&str>,
) -> Result<Option<Secret>, ApiError> {
    let sent = within_deadline(
        Dependency::Keys,
        client
            .get_secret_value()
            .secret_id(secret_id)
            .version_stage(stage)
            .set_version_id(version_id.map(str::to_owned))
            .send(),
    )
    .await?;
    match sent {
        Ok(output) => Ok(output.secret_string.map(Secret::new)),
        Err(error) => match error.as_service_error() {
            Some(service) if service.is_resource_not_found_exception() => Ok(None),
            _ => Err(classify(&error)),
        },
    }
}

/// The public keys' parameter's value, `None` when it does not exist.
pub async fn parameter_value(
    client: &ParameterClient,
    name: &str,
) -> Result<Option<String>, ApiError> {
    let sent = within_deadline(Dependency::Keys, client.get_parameter().name(name).send()).await?;
    match sent {
        Ok(output) => Ok(output.parameter.and_then(|p| p.value)),
        Err(error) => match error.as_service_error() {
            Some(service) if service.is_parameter_not_found() => Ok(None),
            _ => Err(classify(&error)),
        },
    }
}

/// The signing keys: the secret's `AWSCURRENT` version.
pub struct SigningSecret {
    pub client: SecretsClient,
    pub secret_id: String,
}

impl KeySource for SigningSecret {
    type Set = SigningKeySet;

    async fn fetch(&self) -> Result<SigningKeySet, ApiError> {
        let value = secret_string(&self.client, &self.secret_id, CURRENT, None)
            .await?
            .ok_or(ApiError::StoreUnavailable(
                "the signing keys are not there yet",
            ))?;
        SigningKeySet::parse(value.expose()).map_err(|error| {
            tracing::error!(detail = error.0, "the signing keys cannot be used");
            ApiError::Internal("the signing keys cannot be used")
        })
    }
}

/// The published keys: the public parameter.
pub struct PublicKeysParameter {
    pub client: ParameterClient,
    pub name: String,
}

impl KeySource for PublicKeysParameter {
    type Set = PublicKeySet;

    async fn fetch(&self) -> Result<PublicKeySet, ApiError> {
        let value =
            parameter_value(&self.client, &self.name)
                .await?
                .ok_or(ApiError::StoreUnavailable(
                    "the public keys are not there yet",
                ))?;
        PublicKeySet::parse(&value).map_err(|error| {
            tracing::error!(detail = error.0, "the published keys cannot be used");
            ApiError::Internal("the published keys cannot be used")
        })
    }
}

/// The derivation secret, read on first use and kept: it is never rotated.
pub struct DerivationSecret {
    client: SecretsClient,
    secret_id: String,
    keys: OnceCell<Arc<DerivationKeys>>,
}

impl DerivationSecret {
    pub fn new(client: SecretsClient, secret_id: impl Into<String>) -> DerivationSecret {
        DerivationSecret {
            client,
            secret_id: secret_id.into(),
            keys: OnceCell::new(),
        }
    }
}

impl Derivation for DerivationSecret {
    async fn derivation_keys(&self) -> Result<Arc<DerivationKeys>, ApiError> {
        self.keys
            .get_or_try_init(|| async {
                let secret = secret_string(&self.client, &self.secret_id, CURRENT, None)
                    .await?
                    .ok_or(ApiError::Internal("the derivation secret has no value"))?;
                DerivationKeys::from_secret(&secret).map(Arc::new)
            })
            .await
            .cloned()
    }
}
