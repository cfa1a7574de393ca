//! In-memory adapters for the login traits: the logic's tests and the CPU benchmark use them
//! so that neither needs the network.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::error::LoginError;
use crate::login::{
    Directory, DirectoryEntry, IssuedPair, TokenStore, TwitterUser, TwitterVerifier, UserDomain,
};
use crate::oauth;

/// Config tables and token table in memory. `fail_with` makes every call answer that error.
#[derive(Default)]
pub struct MemoryStore {
    pub user_domains: HashMap<String, UserDomain>,
    pub mcc_routes: HashMap<i32, String>,
    pub fail_with: Option<LoginError>,
    saved: Mutex<Vec<IssuedPair>>,
}

impl MemoryStore {
    pub fn new(
        user_domains: HashMap<String, UserDomain>,
        mcc_routes: HashMap<i32, String>,
    ) -> Self {
        MemoryStore {
            user_domains,
            mcc_routes,
            ..MemoryStore::default()
        }
    }

    /// Every pair saved so far, oldest first.
    pub fn saved(&self) -> Vec<IssuedPair> {
        self.saved
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Directory for MemoryStore {
    async fn lookup(
        &self,
        user_domain: &str,
        mcc: Option<i32>,
    ) -> Result<DirectoryEntry, LoginError> {
        if let Some(error) = &self.fail_with {
            return Err(error.clone());
        }
        Ok(DirectoryEntry {
            user_domain: self.user_domains.get(user_domain).cloned(),
            mcc_data_center: mcc.and_then(|mcc| self.mcc_routes.get(&mcc).cloned()),
        })
    }
}

impl TokenStore for MemoryStore {
    async fn save_pair(&self, pair: &IssuedPair) -> Result<(), LoginError> {
        if let Some(error) = &self.fail_with {
            return Err(error.clone());
        }
        self.saved
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(pair.clone());
        Ok(())
    }
}

/// Twitter in memory: knows users by (consumer key, token, token secret).
#[derive(Default)]
pub struct MemoryTwitter {
    pub users: HashMap<(String, String, String), TwitterUser>,
    pub fail_with: Option<LoginError>,
}

impl TwitterVerifier for MemoryTwitter {
    async fn verify(
        &self,
        credentials: &oauth::Credentials<'_>,
    ) -> Result<TwitterUser, LoginError> {
        if let Some(error) = &self.fail_with {
            return Err(error.clone());
        }
        let key = (
            credentials.consumer_key.to_owned(),
            credentials.token.to_owned(),
            credentials.token_secret.to_owned(),
        );
        self.users
            .get(&key)
            .cloned()
            .ok_or(LoginError::TwitterRejected("unknown token"))
    }
}
