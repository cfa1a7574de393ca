//! `GET /.well-known/openid-configuration` and `GET /.well-known/jwks.json`: configuration and
//! clients are built once, then every request goes to the discovery documents.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::config::TokenKeysConfig;
use twitter_auth_login::domain::clock::SystemClock;
use twitter_auth_login::endpoints::token_keys::TokenKeys;
use twitter_auth_login::http::edge;
use twitter_auth_login::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config: TokenKeysConfig = startup::configure()?;
    let aws = startup::aws().await;
    let keys = startup::verifying(&aws, &config.verifying, Arc::new(SystemClock));
    edge::run(TokenKeys::new(keys, config.verifying.issuer)).await
}
