//! The five functions on testkit's in-memory adapters, sharing one store, for the CPU benchmark:
//! each endpoint owns its store, so they share it through [`SharedStore`].

use std::collections::HashMap;
use std::sync::Arc;

use testkit::memory::{ManualClock, MemoryStore, MemoryTwitter};
use testkit::world::{
    APP_ID, CONSUMER_KEY, CONSUMER_SECRET, DATA_CENTER, DOMAIN, LIFETIMES, LOCAL_MCC, OAUTH_TOKEN,
    OAUTH_TOKEN_SECRET, TWITTER_USER_ID, TWITTER_USERNAME,
};
use twitter_auth_login::clock::Clock;
use twitter_auth_login::endpoints::authorizer::Authorizer;
use twitter_auth_login::endpoints::login::{Login, Policy, TWITTER_PLATFORM};
use twitter_auth_login::endpoints::logout::Logout;
use twitter_auth_login::endpoints::refresh::Refresh;
use twitter_auth_login::endpoints::user_info::UserInfo;
use twitter_auth_login::error::ApiError;
use twitter_auth_login::ports::{
    App, DirectoryEntry, DomainDirectory, NewSession, Revocation, Rotation, SessionLister,
    SessionRevoker, SessionRotator, SessionStarter, SessionSummary, TokenReader, TokenState,
    TwitterUser, User, UserDomain, UserReader, Written,
};
use twitter_auth_login::secret::Secret;
use twitter_auth_login::session::RevokedReason;
use twitter_auth_login::token::TokenRoute;

/// A fixed user domain secret: the in-memory world has no admin to generate one.
pub const DOMAIN_SECRET: &str = "5f1d2c7e9a0b4c3d8e6f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d";

/// One in-memory store behind every endpoint.
#[derive(Clone)]
pub struct SharedStore(pub Arc<MemoryStore>);

impl DomainDirectory for SharedStore {
    async fn lookup(
        &self,
        user_domain: &str,
        mcc: Option<i32>,
    ) -> Result<DirectoryEntry, ApiError> {
        self.0.lookup(user_domain, mcc).await
    }
}

impl SessionStarter for SharedStore {
    async fn start_session(&self, session: &NewSession) -> Result<(), ApiError> {
        self.0.start_session(session).await
    }
}

impl TokenReader for SharedStore {
    async fn token_state(
        &self,
        route: &TokenRoute,
        token_hash: &str,
        with_domain: bool,
    ) -> Result<TokenState, ApiError> {
        self.0.token_state(route, token_hash, with_domain).await
    }
}

impl SessionRotator for SharedStore {
    async fn rotate(&self, rotation: &Rotation) -> Result<Written, ApiError> {
        self.0.rotate(rotation).await
    }
}

impl SessionRevoker for SharedStore {
    async fn revoke(
        &self,
        uid: &str,
        session_ids: &[String],
        reason: RevokedReason,
    ) -> Result<Revocation, ApiError> {
        self.0.revoke(uid, session_ids, reason).await
    }
}

impl SessionLister for SharedStore {
    async fn active_sessions(&self, uid: &str) -> Result<Vec<SessionSummary>, ApiError> {
        self.0.active_sessions(uid).await
    }
}

impl UserReader for SharedStore {
    async fn user(&self, uid: &str) -> Result<Option<User>, ApiError> {
        self.0.user(uid).await
    }
}

/// The five functions over one fresh store holding testkit's user domain, app and MCC route.
pub struct Functions {
    pub login: Login<SharedStore, MemoryTwitter>,
    pub refresh: Refresh<SharedStore>,
    pub logout: Logout<SharedStore>,
    pub user_info: UserInfo<SharedStore>,
    pub authorizer: Authorizer<SharedStore>,
}

impl Functions {
    pub fn new() -> Functions {
        let app = App {
            platform: TWITTER_PLATFORM.to_owned(),
            consumer_key: CONSUMER_KEY.to_owned(),
            consumer_secret: Secret::new(CONSUMER_SECRET),
        };
        let domain = UserDomain {
            enabled: Ok(true),
            secret: Ok(Secret::new(DOMAIN_SECRET)),
            apps: Ok(HashMap::from([(APP_ID.to_owned(), Ok(app))])),
        };
        let store = SharedStore(Arc::new(MemoryStore::new(
            HashMap::from([(DOMAIN.to_owned(), domain)]),
            HashMap::from([(LOCAL_MCC, Ok(DATA_CENTER.to_owned()))]),
        )));
        let twitter = MemoryTwitter {
            users: HashMap::from([(
                (
                    CONSUMER_KEY.to_owned(),
                    OAUTH_TOKEN.to_owned(),
                    OAUTH_TOKEN_SECRET.to_owned(),
                ),
                TwitterUser {
                    id: TWITTER_USER_ID.to_owned(),
                    username: Some(TWITTER_USERNAME.to_owned()),
                },
            )]),
            fail_with: None,
        };
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::starting_now());
        let policy = Policy {
            data_center: DATA_CENTER.to_owned(),
            lifetimes: LIFETIMES,
        };
        Functions {
            login: Login::new(store.clone(), twitter, policy, Arc::clone(&clock)),
            refresh: Refresh::new(store.clone(), LIFETIMES, Arc::clone(&clock)),
            logout: Logout::new(store.clone(), LIFETIMES, Arc::clone(&clock)),
            user_info: UserInfo::new(store.clone()),
            authorizer: Authorizer::new(store, LIFETIMES, clock),
        }
    }
}

impl Default for Functions {
    fn default() -> Self {
        Functions::new()
    }
}
