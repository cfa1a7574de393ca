//! `PUT /v2/enduser/enduserapi/refreshToken`: configuration and clients are built once, then
//! every request goes to the refresh.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::config::RefreshConfig;
use twitter_auth_login::domain::clock::SystemClock;
use twitter_auth_login::domain::session::TokenRules;
use twitter_auth_login::endpoints::refresh::Refresh;
use twitter_auth_login::endpoints::token_check::TokenCheck;
use twitter_auth_login::http::edge;
use twitter_auth_login::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config: RefreshConfig = startup::configure()?;
    let store = startup::dynamo_store(&config.store).await;
    let rules = TokenRules::refresh(config.lifetimes.session_max, config.refresh_reuse_grace);
    let check = TokenCheck::new(rules, Arc::new(SystemClock));
    edge::run(Refresh::new(store, config.lifetimes, check)).await
}
