//! Checks 8 to 16 and the login itself, written against two small traits so it runs without
//! the network in tests.

use std::collections::HashMap;
use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::LoginError;
use crate::oauth;
use crate::request::LoginRequest;
use crate::secret::Secret;
use crate::signature;
use crate::token::{MintedToken, random_hex};

/// The platform value that marks an app as a Twitter app.
pub const TWITTER_PLATFORM: &str = "twitter";

/// A user domain's record, as the directory holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDomain {
    /// `None` when the record has none: a provisioning fault, answered 5000 at check 10.
    pub secret: Option<Secret>,
    pub enabled: bool,
    pub apps: HashMap<String, App>,
}

/// One third-party app of a user domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub platform: String,
    pub consumer_key: String,
    pub consumer_secret: Secret,
}

/// What one directory read returns: the user domain and, when an MCC was asked for, its
/// data center. `None` means no such item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub user_domain: Option<UserDomain>,
    pub mcc_data_center: Option<String>,
}

/// Reads the config tables: the user domain and the MCC route, in one request.
pub trait Directory {
    fn lookup(
        &self,
        user_domain: &str,
        mcc: Option<i32>,
    ) -> impl Future<Output = Result<DirectoryEntry, LoginError>> + Send;
}

/// The Twitter user a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwitterUser {
    pub id: String,
    pub username: Option<String>,
}

/// Verifies an OAuth token with Twitter (checks 14 to 16).
pub trait TwitterVerifier {
    fn verify(
        &self,
        credentials: &oauth::Credentials<'_>,
    ) -> impl Future<Output = Result<TwitterUser, LoginError>> + Send;
}

/// One token as stored: never the raw value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub hash: String,
    pub expiration_time: u64,
}

/// Both tokens of one login and what they were issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedPair {
    pub pair_id: String,
    pub user_domain: String,
    pub app_id: String,
    pub twitter_user: TwitterUser,
    pub issued_at: u64,
    pub mcc: Option<i32>,
    pub access: StoredToken,
    pub refresh: StoredToken,
}

/// Stores both tokens of a login, all or nothing.
pub trait TokenStore {
    fn save_pair(&self, pair: &IssuedPair) -> impl Future<Output = Result<(), LoginError>> + Send;
}

/// A token handed to the client.
#[derive(Debug)]
pub struct GrantedToken {
    pub token: Secret,
    pub expiration_time: u64,
}

/// What a successful login answers.
#[derive(Debug)]
pub struct Grant {
    pub access_token: GrantedToken,
    pub refresh_token: GrantedToken,
}

/// The deployment's rules for a login.
#[derive(Debug, Clone)]
pub struct Policy {
    pub data_center: String,
    pub access_token_ttl_seconds: u64,
    pub refresh_token_ttl_seconds: u64,
}

pub struct Login<S, T> {
    store: S,
    twitter: T,
    policy: Policy,
}

impl<S, T> Login<S, T>
where
    S: Directory + TokenStore + Sync,
    T: TwitterVerifier + Sync,
{
    pub fn new(store: S, twitter: T, policy: Policy) -> Self {
        Login {
            store,
            twitter,
            policy,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Checks 8 to 16 in the contract's order, then mints and stores the tokens.
    pub async fn login(&self, request: &LoginRequest) -> Result<Grant, LoginError> {
        let entry = self.store.lookup(&request.user_domain, request.mcc).await?;
        let domain = entry.user_domain.ok_or(LoginError::UnknownUserDomain)?;
        if !domain.enabled {
            return Err(LoginError::UserDomainDisabled);
        }
        let secret = domain
            .secret
            .as_ref()
            .ok_or(LoginError::Internal("user domain has no secret"))?;
        if !signature::verify(request, secret.expose()) {
            return Err(LoginError::SignatureMismatch);
        }
        let app = domain
            .apps
            .get(&request.app_id)
            .filter(|app| app.platform == TWITTER_PLATFORM)
            .ok_or(LoginError::AppNotConfigured)?;
        if request.mcc.is_some() {
            match entry.mcc_data_center {
                None => return Err(LoginError::MccNotMapped),
                Some(dc) if dc != self.policy.data_center => {
                    return Err(LoginError::MccOtherDataCenter);
                }
                Some(_) => {}
            }
        }

        let credentials = oauth::Credentials {
            consumer_key: &app.consumer_key,
            consumer_secret: app.consumer_secret.expose(),
            token: request.oauth_token.expose(),
            token_secret: request.oauth_token_secret.expose(),
        };
        let twitter_user = self.twitter.verify(&credentials).await?;

        let issued_at = unix_now()?;
        let access = MintedToken::mint()?;
        let refresh = MintedToken::mint()?;
        let access_expires = issued_at + self.policy.access_token_ttl_seconds;
        let refresh_expires = issued_at + self.policy.refresh_token_ttl_seconds;
        let pair = IssuedPair {
            pair_id: random_hex::<16>()?,
            user_domain: request.user_domain.clone(),
            app_id: request.app_id.clone(),
            twitter_user,
            issued_at,
            mcc: request.mcc,
            access: StoredToken {
                hash: access.hash,
                expiration_time: access_expires,
            },
            refresh: StoredToken {
                hash: refresh.hash,
                expiration_time: refresh_expires,
            },
        };
        self.store.save_pair(&pair).await?;

        Ok(Grant {
            access_token: GrantedToken {
                token: access.token,
                expiration_time: access_expires,
            },
            refresh_token: GrantedToken {
                token: refresh.token,
                expiration_time: refresh_expires,
            },
        })
    }
}

fn unix_now() -> Result<u64, LoginError> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .map_err(|_| LoginError::Internal("system clock before 1970"))
}
