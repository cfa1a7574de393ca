//! `POST /v2/enduser/enduserapi/twitterAuthLogin`: configuration and clients are built once,
//! then every request goes to the login.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::clock::SystemClock;
use twitter_auth_login::config::Function;
use twitter_auth_login::endpoints::login::{Login, Policy};
use twitter_auth_login::http::edge;
use twitter_auth_login::startup;
use twitter_auth_login::twitter::TwitterClient;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = startup::configure(Function::Login)?;
    let store = startup::dynamo_store(&config).await;
    let twitter = config
        .twitter
        .as_ref()
        .and_then(|settings| TwitterClient::new(&settings.api_base, settings.timeout).ok())
        .ok_or("the Twitter HTTP client could not be built")
        .inspect_err(|why| tracing::error!("refusing to start: {why}"))?;
    let policy = Policy {
        data_center: config.data_center,
        lifetimes: config.lifetimes,
    };
    edge::run(Login::new(store, twitter, policy, Arc::new(SystemClock))).await
}
