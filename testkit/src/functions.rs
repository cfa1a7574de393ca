//! The five functions, invoked in this process as Lambda would invoke them: what the local
//! API calls in tests, where `cargo lambda watch` serves them in a local run.

use serde_json::Value;
use twitter_auth_login::dynamo::DynamoStore;
use twitter_auth_login::endpoints::authorizer::Authorizer;
use twitter_auth_login::endpoints::login::Login;
use twitter_auth_login::endpoints::logout::Logout;
use twitter_auth_login::endpoints::refresh::Refresh;
use twitter_auth_login::endpoints::user_info::UserInfo;
use twitter_auth_login::http::edge;
use twitter_auth_login::twitter::TwitterClient;

use crate::gateway::{Invocation, Invoke, InvokeError};
use crate::world::{World, context, fresh_request_id};

pub struct InProcess {
    pub login: Login<DynamoStore, TwitterClient>,
    pub refresh: Refresh<DynamoStore>,
    pub logout: Logout<DynamoStore>,
    pub user_info: UserInfo<DynamoStore>,
    pub authorizer: Authorizer<DynamoStore>,
}

impl InProcess {
    /// The world's functions, each reaching DynamoDB through `store`.
    pub fn new(world: &World, store: DynamoStore) -> InProcess {
        InProcess {
            login: world.login_with(store.clone(), &world.twitter.base_url()),
            refresh: world.refresh_with(store.clone()),
            logout: world.logout_with(store.clone()),
            user_info: UserInfo::new(store.clone()),
            authorizer: world.authorizer_with(store),
        }
    }
}

impl Invoke for InProcess {
    fn invoke<'a>(&'a self, function: &'a str, payload: Value) -> Invocation<'a> {
        Box::pin(async move {
            let unreachable = |e: serde_json::Error| InvokeError::Unreachable(e.to_string());
            let raw = serde_json::value::RawValue::from_string(payload.to_string())
                .map_err(unreachable)?;
            let response = match function {
                "twitter-auth-login" => edge::invoke(&self.login, &raw, context()).await,
                "refresh-token" => edge::invoke(&self.refresh, &raw, context()).await,
                "user-logout" => edge::invoke(&self.logout, &raw, context()).await,
                "user-info" => edge::invoke(&self.user_info, &raw, context()).await,
                "token-authorizer" => {
                    let event = serde_json::from_value(payload).map_err(unreachable)?;
                    let decided = self
                        .authorizer
                        .invoke(event, &fresh_request_id(), None)
                        .await
                        .map_err(|d| InvokeError::Function {
                            error_type: d.error_type,
                            message: d.error_message,
                        })?;
                    return serde_json::to_value(decided).map_err(unreachable);
                }
                other => return Err(InvokeError::Unreachable(format!("no function {other}"))),
            };
            serde_json::to_value(response).map_err(unreachable)
        })
    }
}
