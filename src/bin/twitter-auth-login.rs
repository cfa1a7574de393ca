//! `POST /v2/enduser/enduserapi/twitterAuthLogin`: configuration and clients are built once,
//! then every request goes to the login.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::config::LoginConfig;
use twitter_auth_login::domain::clock::SystemClock;
use twitter_auth_login::endpoints::login::{Login, Policy};
use twitter_auth_login::http::edge;
use twitter_auth_login::startup;
use twitter_auth_login::twitter::TwitterClient;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config: LoginConfig = startup::configure()?;
    let store = startup::dynamo_store(&config.store).await;
    let twitter = TwitterClient::new(&config.twitter.api_base, config.twitter.timeout)
        .inspect_err(|why| tracing::error!("refusing to start: {why}"))?;
    let policy = Policy {
        data_center: config.data_center,
        lifetimes: config.lifetimes,
    };
    edge::run(Login::new(store, twitter, policy, Arc::new(SystemClock))).await
}
