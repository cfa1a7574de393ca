//! The world: user domains (some with malformed attributes), apps, MCC routes, one Twitter user,
//! and the signed parameters of a login there.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};
use testkit::memory::{ManualClock, MemoryKeys, MemoryStore, MemoryTwitter};
use testkit::prelude::ISSUER;
use twitter_auth_login::domain::secret::Secret;
use twitter_auth_login::domain::session::Lifetimes;
use twitter_auth_login::domain::user::TwitterUser;
use twitter_auth_login::domain::user_domain::{App, DomainState, UserDomain};
use twitter_auth_login::endpoints::issuing::PairIssuer;
use twitter_auth_login::endpoints::login::Login;
use twitter_auth_login::error::{ApiError, Field, Misprovision};

const DATA_CENTER: &str = "dc-eu";
pub const ENABLED: &str = "C.DM.5903.1";
pub const ENABLED_SECRET: &str = "enabled-domain-secret-0123";
pub const DISABLED: &str = "E.DM.1209906967672817.3";
pub const DISABLED_SECRET: &str = "disabled-domain-secret-4567";
/// Enabled, but its secret is malformed.
pub const NO_SECRET: &str = "U.SP.8589934603";
/// Its `enabled` is malformed.
pub const BAD_ENABLED: &str = "B.EN.42";
/// Enabled with a good secret, but its app map is malformed.
pub const BAD_APPS: &str = "A.PP.7.1";
pub const BAD_APPS_SECRET: &str = "bad-apps-domain-secret-89";
pub const TW_APP: &str = "tw-app";
pub const FB_APP: &str = "fb-app";
/// An app entry that is malformed.
pub const BROKEN_APP: &str = "broken-app";
const CONSUMER_KEY: &str = "ck-tw";
const CONSUMER_SECRET: &str = "cs-tw-very-secret";
const FB_CONSUMER_SECRET: &str = "cs-fb-very-secret";
pub const TOKEN: &str = "1234-oauth-token";
pub const TOKEN_SECRET: &str = "oauth+token/secret=";
pub const USER_ID: &str = "783214";
pub const USERNAME: &str = "jack";
pub const LOCAL_MCC: i32 = 262;
pub const FOREIGN_MCC: i32 = 460;
/// A route whose data center is malformed.
pub const BROKEN_MCC: i32 = 505;
/// The clock stands still: expirations are exact.
pub const NOW: u64 = 1_800_000_000;
pub const ACCESS_TTL: u64 = 7200;
pub const REFRESH_TTL: u64 = 2_592_000;
pub const SESSION_MAX: u64 = 7_776_000;

pub const PARAMETERS: [&str; 6] = [
    "userDomain",
    "oauthToken",
    "oauthTokenSecret",
    "appId",
    "signature",
    "mcc",
];

/// Values that must never appear in an answer.
pub const NEVER_ANSWERED: [&str; 5] = [
    ENABLED_SECRET,
    DISABLED_SECRET,
    BAD_APPS_SECRET,
    CONSUMER_SECRET,
    FB_CONSUMER_SECRET,
];

/// Makes one adapter fail: the deep-check property draws one per case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    StoreUnavailable,
    StoreInternal,
    TwitterUnavailable,
    TwitterRejects,
    TwitterUnparsable,
}

type TestLogin = Login<MemoryStore, MemoryTwitter, MemoryKeys, MemoryKeys>;

fn misprovision(item: &str, attribute: &str) -> Misprovision {
    Misprovision {
        item: item.to_owned(),
        attribute: attribute.to_owned(),
    }
}

/// The user domains every world starts with (built once: the endpoint runs 100,000 times).
pub fn user_domains() -> &'static HashMap<String, UserDomain> {
    static DOMAINS: OnceLock<HashMap<String, UserDomain>> = OnceLock::new();
    DOMAINS.get_or_init(build_user_domains)
}

pub fn mcc_routes() -> &'static HashMap<i32, Field<String>> {
    static ROUTES: OnceLock<HashMap<i32, Field<String>>> = OnceLock::new();
    ROUTES.get_or_init(build_mcc_routes)
}

fn build_user_domains() -> HashMap<String, UserDomain> {
    let app = |platform: &str, key: &str, secret: &str| {
        Ok(App {
            platform: platform.into(),
            consumer_key: key.into(),
            consumer_secret: Secret::new(secret),
        })
    };
    let apps: HashMap<String, Field<App>> = HashMap::from([
        (
            TW_APP.to_owned(),
            app("twitter", CONSUMER_KEY, CONSUMER_SECRET),
        ),
        (
            FB_APP.to_owned(),
            app("facebook", "ck-fb", FB_CONSUMER_SECRET),
        ),
        (
            BROKEN_APP.to_owned(),
            Err(misprovision("user domain", "apps.broken-app.consumerKey")),
        ),
    ]);
    let domain = |enabled: Field<bool>, secret: Field<&str>, with_apps: bool| UserDomain {
        state: DomainState { enabled },
        secret: secret.map(Secret::new),
        apps: if with_apps {
            Ok(apps.clone())
        } else {
            Err(misprovision("user domain", "apps"))
        },
    };
    HashMap::from([
        (
            ENABLED.to_owned(),
            domain(Ok(true), Ok(ENABLED_SECRET), true),
        ),
        (
            DISABLED.to_owned(),
            domain(Ok(false), Ok(DISABLED_SECRET), true),
        ),
        (
            NO_SECRET.to_owned(),
            domain(Ok(true), Err(misprovision("user domain", "secret")), true),
        ),
        (
            BAD_ENABLED.to_owned(),
            domain(
                Err(misprovision("user domain", "enabled")),
                Ok("bad-enabled-secret"),
                true,
            ),
        ),
        (
            BAD_APPS.to_owned(),
            domain(Ok(true), Ok(BAD_APPS_SECRET), false),
        ),
    ])
}

fn build_mcc_routes() -> HashMap<i32, Field<String>> {
    HashMap::from([
        (LOCAL_MCC, Ok(DATA_CENTER.to_owned())),
        (FOREIGN_MCC, Ok("dc-cn".to_owned())),
        (BROKEN_MCC, Err(misprovision("MCC route 505", "dataCenter"))),
    ])
}

/// A fresh login endpoint, and a handle on its tables (clones of a store share them).
pub fn world(fault: Fault) -> (TestLogin, MemoryStore) {
    let mut store = MemoryStore::new(user_domains().clone(), mcc_routes().clone());
    store.fail_with = match fault {
        Fault::StoreUnavailable => Some(ApiError::StoreUnavailable("injected")),
        Fault::StoreInternal => Some(ApiError::Internal("injected")),
        _ => None,
    };
    let twitter = MemoryTwitter {
        users: HashMap::from([(
            (CONSUMER_KEY.into(), TOKEN.into(), TOKEN_SECRET.into()),
            TwitterUser {
                id: USER_ID.into(),
                username: Some(USERNAME.into()),
            },
        )]),
        fail_with: match fault {
            Fault::TwitterUnavailable => Some(ApiError::TwitterUnavailable("injected")),
            Fault::TwitterRejects => Some(ApiError::TwitterRejected("injected")),
            Fault::TwitterUnparsable => Some(ApiError::TwitterUnparsable),
            _ => None,
        },
    };
    let lifetimes = Lifetimes {
        access_token_ttl: ACCESS_TTL,
        refresh_token_ttl: REFRESH_TTL,
        session_max: SESSION_MAX,
    };
    let keys = MemoryKeys::new();
    let login = Login::new(
        store.clone(),
        twitter,
        PairIssuer::new(keys.clone(), ISSUER, lifetimes),
        keys,
        DATA_CENTER,
        Arc::new(ManualClock::at(NOW)),
    );
    (login, store)
}

pub fn sha256_hex(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The signature a client computes: hex SHA-256 of appId + token + token secret + domain secret.
pub fn sign(app_id: &str, token: &str, token_secret: &str, domain_secret: &str) -> String {
    sha256_hex(&[app_id, token, token_secret, domain_secret])
}

/// Signed parameters of a login on `domain` (valid for the enabled domain with the known user).
pub fn signed(domain: &str, app_id: &str, secret: &str) -> Vec<(String, String)> {
    [
        ("userDomain", domain.to_owned()),
        ("appId", app_id.to_owned()),
        ("oauthToken", TOKEN.to_owned()),
        ("oauthTokenSecret", TOKEN_SECRET.to_owned()),
        ("signature", sign(app_id, TOKEN, TOKEN_SECRET, secret)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}
