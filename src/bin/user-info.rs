//! `GET /v2/enduser/enduserapi/userInfo`, behind the authorizer: configuration and clients are
//! built once, then every request goes to the user info.

use std::sync::Arc;

use lambda_http::Error;
use twitter_auth_login::config::UserInfoConfig;
use twitter_auth_login::domain::clock::SystemClock;
use twitter_auth_login::endpoints::user_info::UserInfo;
use twitter_auth_login::http::edge;
use twitter_auth_login::startup;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config: UserInfoConfig = startup::configure()?;
    let aws = startup::aws().await;
    let store = startup::dynamo_store(&aws, &config.store, Arc::new(SystemClock));
    edge::run(UserInfo::new(store)).await
}
