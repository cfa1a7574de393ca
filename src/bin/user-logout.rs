//! `DELETE /v2/enduser/enduserapi/userLogout`: configuration and clients are built once, then
//! every request goes to the logout.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::config::LogoutConfig;
use twitter_auth_login::domain::clock::SystemClock;
use twitter_auth_login::domain::session::TokenRules;
use twitter_auth_login::endpoints::logout::Logout;
use twitter_auth_login::endpoints::token_check::TokenCheck;
use twitter_auth_login::http::edge;
use twitter_auth_login::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config: LogoutConfig = startup::configure()?;
    let store = startup::dynamo_store(&config.store).await;
    let check = TokenCheck::new(
        TokenRules::access(config.session_max),
        Arc::new(SystemClock),
    );
    edge::run(Logout::new(store, check)).await
}
