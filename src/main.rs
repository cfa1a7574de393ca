//! The Lambda entry point: configuration and clients are built once, then every request goes
//! to the handler.

use lambda_http::{Error, service_fn};
use twitter_auth_login::config::Config;
use twitter_auth_login::dynamo::{DynamoStore, Limits};
use twitter_auth_login::handler::Handler;
use twitter_auth_login::logging;
use twitter_auth_login::login::Login;
use twitter_auth_login::twitter::TwitterClient;

#[tokio::main]
async fn main() -> Result<(), Error> {
    logging::init();
    // A panic message may quote request data (lambda_http's event conversion can panic on
    // malformed input): log where it happened, never what it said.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(location, "panic while handling an invocation");
    }));
    let config =
        Config::from_env().inspect_err(|error| tracing::error!(%error, "refusing to start"))?;

    // Reads region and credentials from the environment; no network call happens here.
    let sdk_config = aws_config::load_from_env().await;
    let dynamo_config = Limits::default()
        .apply(aws_sdk_dynamodb::config::Builder::from(&sdk_config))
        .build();
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(dynamo_config),
        config.tables.clone(),
    );
    let twitter = TwitterClient::new(&config.twitter_api_base, config.twitter_timeout)
        .inspect_err(|_| {
            tracing::error!("refusing to start: the Twitter HTTP client could not be built")
        })?;
    let handler = Handler::new(Login::new(store, twitter, config.policy.clone()));

    let handler = &handler;
    lambda_http::run(service_fn(move |request| async move {
        Ok::<_, Error>(handler.handle(request).await)
    }))
    .await
}
