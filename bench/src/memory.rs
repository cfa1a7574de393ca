//! The five functions on testkit's in-memory adapters, sharing one store, for the CPU benchmark:
//! each endpoint owns a clone of one [`MemoryStore`], and clones share its tables.

use std::collections::HashMap;
use std::sync::Arc;

use testkit::memory::{ManualClock, MemoryKeys, MemoryStore, MemoryTwitter};
use testkit::prelude::ISSUER;
use testkit::prelude::{
    APP_ID, CONSUMER_KEY, CONSUMER_SECRET, DATA_CENTER, DOMAIN, LIFETIMES, LOCAL_MCC, OAUTH_TOKEN,
    OAUTH_TOKEN_SECRET, REFRESH_REUSE_GRACE, TWITTER_USER_ID, TWITTER_USERNAME,
};
use twitter_auth_login::domain::clock::Clock;
use twitter_auth_login::domain::secret::Secret;
use twitter_auth_login::domain::session::TokenRules;
use twitter_auth_login::domain::user::TwitterUser;
use twitter_auth_login::domain::user_domain::{App, DomainState, TWITTER_PLATFORM, UserDomain};
use twitter_auth_login::endpoints::authorizer::Authorizer;
use twitter_auth_login::endpoints::issuing::PairIssuer;
use twitter_auth_login::endpoints::login::Login;
use twitter_auth_login::endpoints::logout::Logout;
use twitter_auth_login::endpoints::refresh::Refresh;
use twitter_auth_login::endpoints::token_check::TokenCheck;
use twitter_auth_login::endpoints::user_info::UserInfo;
use twitter_auth_login::jwt::AccessTokenVerifier;

/// A fixed user domain secret: the in-memory world has no admin to generate one.
pub const DOMAIN_SECRET: &str = "5f1d2c7e9a0b4c3d8e6f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d";

/// The functions over one fresh store holding testkit's user domain, app and MCC route, and
/// in-memory keys.
pub struct Functions {
    pub login: Login<MemoryStore, MemoryTwitter, MemoryKeys, MemoryKeys>,
    pub refresh: Refresh<MemoryStore, MemoryKeys, MemoryKeys>,
    pub logout: Logout<MemoryStore, MemoryKeys>,
    pub user_info: UserInfo<MemoryStore>,
    pub authorizer: Authorizer<MemoryStore, MemoryKeys>,
}

impl Functions {
    pub fn new() -> Functions {
        let app = App {
            platform: TWITTER_PLATFORM.to_owned(),
            consumer_key: CONSUMER_KEY.to_owned(),
            consumer_secret: Secret::new(CONSUMER_SECRET),
        };
        let domain = UserDomain {
            state: DomainState { enabled: Ok(true) },
            secret: Ok(Secret::new(DOMAIN_SECRET)),
            apps: Ok(HashMap::from([(APP_ID.to_owned(), Ok(app))])),
        };
        let store = MemoryStore::new(
            HashMap::from([(DOMAIN.to_owned(), domain)]),
            HashMap::from([(LOCAL_MCC, Ok(DATA_CENTER.to_owned()))]),
        );
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
        let keys = MemoryKeys::new();
        let issuer = || PairIssuer::new(keys.clone(), ISSUER, LIFETIMES);
        let verifier = || AccessTokenVerifier::new(keys.clone(), ISSUER);
        let refresh_rules = TokenRules::refresh(LIFETIMES.session_max, REFRESH_REUSE_GRACE);
        let access_check = TokenCheck::new(
            TokenRules::access(LIFETIMES.session_max),
            Arc::clone(&clock),
        );
        Functions {
            login: Login::new(
                store.clone(),
                twitter,
                issuer(),
                keys.clone(),
                DATA_CENTER,
                Arc::clone(&clock),
            )
            // Every login of the benchmark is the same end user: without a cap each one is the
            // usual login, whatever the number of iterations.
            .with_max_sessions(u64::MAX),
            refresh: Refresh::new(
                store.clone(),
                issuer(),
                keys.clone(),
                TokenCheck::new(refresh_rules, Arc::clone(&clock)),
            ),
            logout: Logout::new(store.clone(), verifier(), access_check.clone()),
            user_info: UserInfo::new(store.clone()),
            authorizer: Authorizer::new(store, verifier(), access_check),
        }
    }
}

impl Default for Functions {
    fn default() -> Self {
        Functions::new()
    }
}
