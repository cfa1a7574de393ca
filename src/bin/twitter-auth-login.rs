//! `POST /v2/enduser/enduserapi/twitterAuthLogin`: configuration and clients are built once,
//! then every request goes to the login.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::config::LoginConfig;
use twitter_auth_login::domain::clock::{Clock, SystemClock};
use twitter_auth_login::endpoints::issuing::PairIssuer;
use twitter_auth_login::endpoints::login::Login;
use twitter_auth_login::http::edge;
use twitter_auth_login::startup;
use twitter_auth_login::twitter::TwitterClient;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config: LoginConfig = startup::configure()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let aws = startup::aws().await;
    let store = startup::dynamo_store(&aws, &config.store, clock.clone());
    let (keys, derivation) = startup::signing(&aws, &config.signing, clock.clone());
    let twitter = TwitterClient::new(&config.twitter.api_base, config.twitter.timeout)
        .inspect_err(|why| tracing::error!("refusing to start: {why}"))?;
    let issuer = PairIssuer::new(keys, config.signing.issuer, config.lifetimes);
    let login = Login::new(
        store,
        twitter,
        issuer,
        derivation,
        config.data_center,
        clock,
    )
    .with_max_sessions(config.max_sessions_per_user);
    edge::run(login).await
}
