//! `PUT /v2/enduser/enduserapi/refreshToken`: configuration and clients are built once, then
//! every request goes to the refresh.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::clock::SystemClock;
use twitter_auth_login::config::Function;
use twitter_auth_login::endpoints::refresh::Refresh;
use twitter_auth_login::http::edge;
use twitter_auth_login::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = startup::configure(Function::Refresh)?;
    let store = startup::dynamo_store(&config).await;
    edge::run(Refresh::new(store, config.lifetimes, Arc::new(SystemClock))).await
}
