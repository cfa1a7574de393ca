//! The functions of the stack: the one list of them, their binaries and the variables each
//! refuses to start without; and the functions invoked in this process as Lambda would invoke
//! them (what the local API calls in tests, where `cargo lambda watch` serves them in a local
//! run).

use serde_json::Value;
use twitter_auth_login::config::{
    AuthorizerConfig, ConfigError, FunctionConfig, LoginConfig, LogoutConfig, RefreshConfig,
    RotationConfig, SessionsConfig, TokenKeysConfig, UserInfoConfig,
};
use twitter_auth_login::dynamo::DynamoStore;
use twitter_auth_login::dynamo::capabilities::{EndingStore, ListingStore};
use twitter_auth_login::endpoints::end_session::EndSession;
use twitter_auth_login::endpoints::list_sessions::ListSessions;
use twitter_auth_login::endpoints::token_keys::TokenKeys;
use twitter_auth_login::endpoints::user_info::UserInfo;
use twitter_auth_login::http::edge;
use twitter_auth_login::invocation::{Handler, Invocation};
use twitter_auth_login::startup::PublicKeys;

use crate::gateway::{Invoke, InvokeError, Invoked};
use crate::invoke::{context, fresh_request_id};
use crate::world::{World, WorldAuthorizer, WorldLogin, WorldLogout, WorldRefresh};

/// A Lambda function of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Login,
    Refresh,
    Logout,
    UserInfo,
    ListSessions,
    EndSession,
    Authorizer,
    TokenKeys,
    KeyRotation,
}

impl Function {
    pub const ALL: [Function; 9] = [
        Function::Login,
        Function::Refresh,
        Function::Logout,
        Function::UserInfo,
        Function::ListSessions,
        Function::EndSession,
        Function::Authorizer,
        Function::TokenKeys,
        Function::KeyRotation,
    ];

    /// The binary (and CloudFormation function) it is built as.
    pub fn binary(self) -> &'static str {
        match self {
            Function::Login => "twitter-auth-login",
            Function::Refresh => "refresh-token",
            Function::Logout => "user-logout",
            Function::UserInfo => "user-info",
            Function::ListSessions => "list-sessions",
            Function::EndSession => "end-session",
            Function::Authorizer => "token-authorizer",
            Function::TokenKeys => "token-keys",
            Function::KeyRotation => "signing-key-rotation",
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
                "TOKEN_ISSUER",
                "SIGNING_KEYS_SECRET",
                "DERIVATION_KEY_SECRET",
            ],
            Function::Refresh => &[
                "USER_DOMAIN_TABLE",
                "TOKEN_TABLE",
                "SESSION_TABLE",
                "TOKEN_ISSUER",
                "SIGNING_KEYS_SECRET",
                "DERIVATION_KEY_SECRET",
            ],
            Function::Authorizer => &[
                "USER_DOMAIN_TABLE",
                "TOKEN_TABLE",
                "SESSION_TABLE",
                "TOKEN_ISSUER",
                "PUBLIC_KEYS_PARAMETER",
            ],
            Function::Logout => &[
                "TOKEN_TABLE",
                "SESSION_TABLE",
                "TOKEN_ISSUER",
                "PUBLIC_KEYS_PARAMETER",
            ],
            Function::UserInfo => &["USER_TABLE"],
            Function::ListSessions | Function::EndSession => &["SESSION_TABLE"],
            Function::TokenKeys => &["TOKEN_ISSUER", "PUBLIC_KEYS_PARAMETER"],
            Function::KeyRotation => &["SIGNING_KEYS_SECRET", "PUBLIC_KEYS_PARAMETER"],
        }
    }

    /// The variables it reads that have a default: each one it refuses to start with when
    /// malformed (the SDK's endpoint and log variables are never refused, and are not listed).
    pub fn optional_variables(self) -> &'static [&'static str] {
        match self {
            Function::Login => &[
                "ACCESS_TOKEN_TTL_SECONDS",
                "REFRESH_TOKEN_TTL_SECONDS",
                "SESSION_MAX_SECONDS",
                "TWITTER_API_BASE",
                "TWITTER_TIMEOUT_MS",
                "SIGNING_KEYS_REFRESH_SECONDS",
                "DOMAIN_CACHE_SECONDS",
                "MCC_CACHE_SECONDS",
                "MAX_SESSIONS_PER_USER",
            ],
            Function::Refresh => &[
                "ACCESS_TOKEN_TTL_SECONDS",
                "REFRESH_TOKEN_TTL_SECONDS",
                "SESSION_MAX_SECONDS",
                "REFRESH_REUSE_GRACE_SECONDS",
                "SIGNING_KEYS_REFRESH_SECONDS",
                "DOMAIN_CACHE_SECONDS",
            ],
            Function::Authorizer => &[
                "SESSION_MAX_SECONDS",
                "SIGNING_KEYS_REFRESH_SECONDS",
                "DOMAIN_CACHE_SECONDS",
            ],
            Function::Logout => &["SESSION_MAX_SECONDS", "SIGNING_KEYS_REFRESH_SECONDS"],
            Function::ListSessions | Function::EndSession => &["SESSION_MAX_SECONDS"],
            Function::TokenKeys => &["SIGNING_KEYS_REFRESH_SECONDS"],
            Function::UserInfo | Function::KeyRotation => &[],
        }
    }

    /// Whether its configuration loads from these variables: what its start-up decides.
    pub fn configure(self, lookup: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        match self {
            Function::Login => LoginConfig::from_lookup(lookup).map(drop),
            Function::Refresh => RefreshConfig::from_lookup(lookup).map(drop),
            Function::Logout => LogoutConfig::from_lookup(lookup).map(drop),
            Function::UserInfo => UserInfoConfig::from_lookup(lookup).map(drop),
            Function::ListSessions | Function::EndSession => {
                SessionsConfig::from_lookup(lookup).map(drop)
            }
            Function::Authorizer => AuthorizerConfig::from_lookup(lookup).map(drop),
            Function::TokenKeys => TokenKeysConfig::from_lookup(lookup).map(drop),
            Function::KeyRotation => RotationConfig::from_lookup(lookup).map(drop),
        }
    }
}

/// The world's functions in this process, each reaching DynamoDB through one store.
pub struct InProcess {
    pub login: WorldLogin,
    pub refresh: WorldRefresh,
    pub logout: WorldLogout,
    pub user_info: UserInfo<DynamoStore>,
    pub list_sessions: ListSessions<ListingStore>,
    pub end_session: EndSession<EndingStore>,
    pub authorizer: WorldAuthorizer,
    pub token_keys: TokenKeys<PublicKeys>,
}

impl InProcess {
    pub fn new(world: &World, store: DynamoStore) -> InProcess {
        InProcess {
            login: world.login_with(store.clone(), &world.twitter.base_url()),
            refresh: world.refresh_with(store.clone()),
            logout: world.logout_with(store.clone()),
            user_info: UserInfo::new(store.clone()),
            list_sessions: world.list_sessions_with(store.clone()),
            end_session: world.end_session_with(store.clone()),
            authorizer: world.authorizer_with(store),
            token_keys: world.token_keys(),
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
                Some(Function::ListSessions) => {
                    edge::invoke(&self.list_sessions, &raw, context()).await
                }
                Some(Function::EndSession) => {
                    edge::invoke(&self.end_session, &raw, context()).await
                }
                Some(Function::TokenKeys) => edge::invoke(&self.token_keys, &raw, context()).await,
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
                Some(Function::KeyRotation) | None => {
                    return Err(InvokeError::Unreachable(format!(
                        "no function {function} behind the API"
                    )));
                }
            };
            serde_json::to_value(response).map_err(unreachable)
        })
    }
}
