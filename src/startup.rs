//! What every function does once before serving: logging, a panic hook that says where but
//! never what, its configuration, and the AWS clients.

use aws_config::BehaviorVersion;

use crate::config::{ConfigError, FunctionConfig, StoreConfig, Telemetry};
use crate::dynamo::{DynamoStore, Limits};
use crate::invocation::metrics;
use crate::logging;

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

/// The DynamoDB adapter on the configured tables, with the SDK's limits and the configured
/// endpoint (AWS's own when none). Reads region and credentials from the environment; no
/// network call happens here.
pub async fn dynamo_store(store: &StoreConfig) -> DynamoStore {
    let sdk_config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    // The endpoint is the configuration's alone: the SDK's own reading of the endpoint
    // variables takes an empty value for a URL.
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&sdk_config);
    builder.set_endpoint_url(store.endpoint.clone());
    let client = aws_sdk_dynamodb::Client::from_conf(Limits::default().apply(builder).build());
    DynamoStore::new(client, store.tables.clone())
}
