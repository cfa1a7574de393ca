//! The functions of the stack: the one list of them, their binaries and the variables each
//! refuses to start without; and the functions invoked in this process as Lambda would invoke
//! them (what the local API calls in tests, where `cargo lambda watch` serves them in a local
//! run).

use serde_json::Value;
use twitter_auth_login::config::{
    AuthorizerConfig, ConfigError, FunctionConfig, LoginConfig, LogoutConfig, RefreshConfig,
    UserInfoConfig,
};
use twitter_auth_login::dynamo::DynamoStore;
use twitter_auth_login::endpoints::authorizer::Authorizer;
use twitter_auth_login::endpoints::login::Login;
use twitter_auth_login::endpoints::logout::Logout;
use twitter_auth_login::endpoints::refresh::Refresh;
use twitter_auth_login::endpoints::user_info::UserInfo;
use twitter_auth_login::http::edge;
use twitter_auth_login::invocation::{Handler, Invocation};
use twitter_auth_login::twitter::TwitterClient;

use crate::gateway::{Invoke, InvokeError, Invoked};
use crate::invoke::{context, fresh_request_id};
use crate::world::World;

/// A Lambda function of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Login,
    Refresh,
    Logout,
    UserInfo,
    Authorizer,
}

impl Function {
    pub const ALL: [Function; 5] = [
        Function::Login,
        Function::Refresh,
        Function::Logout,
        Function::UserInfo,
        Function::Authorizer,
    ];

    /// The binary (and CloudFormation function) it is built as.
    pub fn binary(self) -> &'static str {
        match self {
            Function::Login => "twitter-auth-login",
            Function::Refresh => "refresh-token",
            Function::Logout => "user-logout",
            Function::UserInfo => "user-info",
            Function::Authorizer => "token-authorizer",
        }
    }

    /// The function built as `binary`.
    pub fn named(binary: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.binary() == binary)
    }

    /// The variables it must refuse to start without, in the contract's words.
    pub fn required_variables(self) -> &'static [&'static str] {
        match self {
            Function::Login => &[
                "USER_DOMAIN_TABLE",
                "MCC_TABLE",
                "TOKEN_TABLE",
                "SESSION_TABLE",
                "USER_TABLE",
                "DATA_CENTER",
            ],
            Function::Refresh | Function::Authorizer => {
                &["USER_DOMAIN_TABLE", "TOKEN_TABLE", "SESSION_TABLE"]
            }
            Function::Logout => &["TOKEN_TABLE", "SESSION_TABLE"],
            Function::UserInfo => &["USER_TABLE"],
        }
    }

    /// Whether its configuration loads from these variables: what its start-up decides.
    pub fn configure(self, lookup: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        match self {
            Function::Login => LoginConfig::from_lookup(lookup).map(drop),
            Function::Refresh => RefreshConfig::from_lookup(lookup).map(drop),
            Function::Logout => LogoutConfig::from_lookup(lookup).map(drop),
            Function::UserInfo => UserInfoConfig::from_lookup(lookup).map(drop),
            Function::Authorizer => AuthorizerConfig::from_lookup(lookup).map(drop),
        }
    }
}

/// The world's functions in this process, each reaching DynamoDB through one store.
pub struct InProcess {
    pub login: Login<DynamoStore, TwitterClient>,
    pub refresh: Refresh<DynamoStore>,
    pub logout: Logout<DynamoStore>,
    pub user_info: UserInfo<DynamoStore>,
    pub authorizer: Authorizer<DynamoStore>,
}

impl InProcess {
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
    fn invoke<'a>(&'a self, function: &'a str, payload: Value) -> Invoked<'a> {
        Box::pin(async move {
            let unreachable = |e: serde_json::Error| InvokeError::Unreachable(e.to_string());
            let raw = serde_json::value::RawValue::from_string(payload.to_string())
                .map_err(unreachable)?;
            let response = match Function::named(function) {
                Some(Function::Login) => edge::invoke(&self.login, &raw, context()).await,
                Some(Function::Refresh) => edge::invoke(&self.refresh, &raw, context()).await,
                Some(Function::Logout) => edge::invoke(&self.logout, &raw, context()).await,
                Some(Function::UserInfo) => edge::invoke(&self.user_info, &raw, context()).await,
                Some(Function::Authorizer) => {
                    let event = serde_json::from_value(payload).map_err(unreachable)?;
                    let mut context = context();
                    context.request_id = fresh_request_id();
                    let decided = self
                        .authorizer
                        .handle(event, &Invocation::new(context))
                        .await
                        .map_err(|d| InvokeError::Function {
                            error_type: d.error_type,
                            message: d.error_message,
                        })?;
                    return serde_json::to_value(decided).map_err(unreachable);
                }
                None => return Err(InvokeError::Unreachable(format!("no function {function}"))),
            };
            serde_json::to_value(response).map_err(unreachable)
        })
    }
}
