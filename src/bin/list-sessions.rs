//! `GET /v2/enduser/enduserapi/sessions`, behind the authorizer: configuration and clients are
//! built once, then every request goes to the listing.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::config::SessionsConfig;
use twitter_auth_login::domain::clock::SystemClock;
use twitter_auth_login::dynamo::capabilities::ListingStore;
use twitter_auth_login::endpoints::list_sessions::ListSessions;
use twitter_auth_login::http::edge;
use twitter_auth_login::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config: SessionsConfig = startup::configure()?;
    let aws = startup::aws().await;
    let clock = Arc::new(SystemClock);
    let store = ListingStore::new(startup::dynamo_store(&aws, &config.store, clock.clone()));
    edge::run(ListSessions::new(store, clock, config.session_max)).await
}
