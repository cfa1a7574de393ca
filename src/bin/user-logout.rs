//! `DELETE /v2/enduser/enduserapi/userLogout`: configuration and clients are built once, then
//! every request goes to the logout.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::config::LogoutConfig;
use twitter_auth_login::domain::clock::{Clock, SystemClock};
use twitter_auth_login::domain::session::TokenRules;
use twitter_auth_login::endpoints::logout::Logout;
use twitter_auth_login::endpoints::token_check::TokenCheck;
use twitter_auth_login::http::edge;
use twitter_auth_login::jwt::AccessTokenVerifier;
use twitter_auth_login::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config: LogoutConfig = startup::configure()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let aws = startup::aws().await;
    let store = startup::dynamo_store(&aws, &config.store, clock.clone());
    let keys = startup::verifying(&aws, &config.verifying, clock.clone());
    let verifier = AccessTokenVerifier::new(keys, config.verifying.issuer);
    let check = TokenCheck::new(TokenRules::access(config.session_max), clock);
    edge::run(Logout::new(store, verifier, check)).await
}
