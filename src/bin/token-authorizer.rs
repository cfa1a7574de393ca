//! The API Gateway `REQUEST` authorizer: configuration and clients are built once, then every
//! check goes to the authorizer.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::clock::SystemClock;
use twitter_auth_login::config::Function;
use twitter_auth_login::endpoints::authorizer::{self, Authorizer};
use twitter_auth_login::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = startup::configure(Function::Authorizer)?;
    let store = startup::dynamo_store(&config).await;
    authorizer::run(Authorizer::new(
        store,
        config.lifetimes,
        Arc::new(SystemClock),
    ))
    .await
}
