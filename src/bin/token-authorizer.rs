//! The API Gateway `REQUEST` authorizer: configuration and clients are built once, then every
//! check goes to the authorizer.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::config::AuthorizerConfig;
use twitter_auth_login::domain::clock::{Clock, SystemClock};
use twitter_auth_login::domain::session::TokenRules;
use twitter_auth_login::endpoints::authorizer::Authorizer;
use twitter_auth_login::endpoints::token_check::TokenCheck;
use twitter_auth_login::invocation;
use twitter_auth_login::jwt::AccessTokenVerifier;
use twitter_auth_login::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config: AuthorizerConfig = startup::configure()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let aws = startup::aws().await;
    let store = startup::dynamo_store(&aws, &config.store, clock.clone());
    let keys = startup::verifying(&aws, &config.verifying, clock.clone());
    let verifier = AccessTokenVerifier::new(keys, config.verifying.issuer);
    let check = TokenCheck::new(TokenRules::access(config.session_max), clock);
    invocation::serve(Authorizer::new(store, verifier, check)).await
}
