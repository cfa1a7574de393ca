//! The API Gateway `REQUEST` authorizer: configuration and clients are built once, then every
//! check goes to the authorizer.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::config::AuthorizerConfig;
use twitter_auth_login::domain::clock::SystemClock;
use twitter_auth_login::domain::session::TokenRules;
use twitter_auth_login::endpoints::authorizer::Authorizer;
use twitter_auth_login::endpoints::token_check::TokenCheck;
use twitter_auth_login::invocation;
use twitter_auth_login::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config: AuthorizerConfig = startup::configure()?;
    let store = startup::dynamo_store(&config.store).await;
    let check = TokenCheck::new(
        TokenRules::access(config.session_max),
        Arc::new(SystemClock),
    );
    invocation::serve(Authorizer::new(store, check)).await
}
