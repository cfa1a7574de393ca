//! What every function does once before serving: logging, a panic hook that says where but
//! never what, the configuration, and the DynamoDB client.

use crate::config::{Config, ConfigError, Function};
use crate::dynamo::{DynamoStore, Limits};
use crate::logging;

/// Logging and the panic hook, then the configuration; a refusal is logged, naming the
/// variable.
pub fn configure(function: Function) -> Result<Config, ConfigError> {
    logging::init();
    // A panic message may quote request data: log where it happened, never what it said.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(location, "panic while handling an invocation");
    }));
    Config::from_env(function).inspect_err(|error| tracing::error!(%error, "refusing to start"))
}

/// The DynamoDB adapter on the configured tables, with the SDK's limits. Reads region and
/// credentials from the environment; no network call happens here.
pub async fn dynamo_store(config: &Config) -> DynamoStore {
    let sdk_config = aws_config::load_from_env().await;
    let dynamo_config = Limits::default()
        .apply(aws_sdk_dynamodb::config::Builder::from(&sdk_config))
        .build();
    DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(dynamo_config),
        config.tables.clone(),
    )
}
