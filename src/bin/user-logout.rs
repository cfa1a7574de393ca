//! `DELETE /v2/enduser/enduserapi/userLogout`: configuration and clients are built once, then
//! every request goes to the logout.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::clock::SystemClock;
use twitter_auth_login::config::Function;
use twitter_auth_login::endpoints::logout::Logout;
use twitter_auth_login::http::edge;
use twitter_auth_login::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = startup::configure(Function::Logout)?;
    let store = startup::dynamo_store(&config).await;
    edge::run(Logout::new(store, config.lifetimes, Arc::new(SystemClock))).await
}
