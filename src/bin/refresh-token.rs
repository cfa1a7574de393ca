//! `PUT /v2/enduser/enduserapi/refreshToken`: configuration and clients are built once, then
//! every request goes to the refresh.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::config::RefreshConfig;
use twitter_auth_login::domain::clock::{Clock, SystemClock};
use twitter_auth_login::domain::session::TokenRules;
use twitter_auth_login::endpoints::issuing::PairIssuer;
use twitter_auth_login::endpoints::refresh::Refresh;
use twitter_auth_login::endpoints::token_check::TokenCheck;
use twitter_auth_login::http::edge;
use twitter_auth_login::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config: RefreshConfig = startup::configure()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let aws = startup::aws().await;
    let store = startup::dynamo_store(&aws, &config.store, clock.clone());
    let (keys, derivation) = startup::signing(&aws, &config.signing, clock.clone());
    let rules = TokenRules::refresh(config.lifetimes.session_max, config.refresh_reuse_grace);
    let issuer = PairIssuer::new(keys, config.signing.issuer, config.lifetimes);
    let refresh = Refresh::new(store, issuer, derivation, TokenCheck::new(rules, clock));
    edge::run(refresh).await
}
