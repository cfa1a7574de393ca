//! Issuing a pair, as login and refresh both do: the access token signed as a JWT with its
//! claims, the opaque refresh token, both as answered and as stored.

use crate::domain::access_token::AccessClaims;
use crate::domain::derivation::Successor;
use crate::domain::grant::{Grant, IssuedPair, PairTimes, SignedAccessToken};
use crate::domain::session::{Lifetimes, TokenOwner};
use crate::domain::token::{MintedToken, TokenRoute, hash_token, random_hex, random_jti};
use crate::error::{ApiError, Rejection};
use crate::jwt;
use crate::keys::SigningKeySet;
use crate::ports::KeyRing;

/// How a pair's random parts come about.
#[derive(Debug, Clone)]
pub enum Pairing {
    /// A login's: fresh random bits, signed with the current key.
    Fresh,
    /// A refresh's: the presented token's successor, signed with the current key (`kid`
    /// `None`) or, for a retry, with the key the first answer was signed with.
    Successor {
        successor: Successor,
        kid: Option<String>,
    },
}

/// Issues pairs for one deployment: its signing keys, its issuer, its lifetimes.
pub struct PairIssuer<K> {
    keys: K,
    issuer: String,
    pub lifetimes: Lifetimes,
}

impl<K: KeyRing<SigningKeySet>> PairIssuer<K> {
    pub fn new(keys: K, issuer: impl Into<String>, lifetimes: Lifetimes) -> Self {
        PairIssuer {
            keys,
            issuer: issuer.into(),
            lifetimes,
        }
    }

    /// The pair for `owner`, issued at `issued_at` in a session that ends at `session_end`.
    /// A retry whose key is gone from the secret (rotated out twice within the grace
    /// window) cannot be answered the same again: its pair counts as replaced.
    pub async fn issue(
        &self,
        owner: TokenOwner,
        issued_at: u64,
        session_end: u64,
        pairing: Pairing,
    ) -> Result<(IssuedPair, Grant), ApiError> {
        let times = PairTimes::new(issued_at, session_end, &self.lifetimes);
        let route = TokenRoute::from(&owner);
        let (jti, refresh, pair_id, kid) = match pairing {
            Pairing::Fresh => (
                random_jti()?,
                MintedToken::mint(&route)?,
                random_hex::<16>()?,
                None,
            ),
            Pairing::Successor { successor, kid } => (
                successor.jti,
                MintedToken::with_secret(&route, &successor.refresh_secret),
                successor.pair_id,
                kid,
            ),
        };
        let key = match &kid {
            None => std::sync::Arc::clone(self.keys.keys().await?.current()),
            Some(kid) => self
                .keys
                .keys_with(kid)
                .await?
                .by_kid(kid)
                .cloned()
                .ok_or(ApiError::TokenRejected(Rejection::Revoked))?,
        };
        let claims = AccessClaims::new(&self.issuer, &owner, issued_at, times.access_expires, jti);
        let token = jwt::sign(&claims, &key)?;
        let access = SignedAccessToken {
            hash: hash_token(token.expose()),
            token,
            kid: key.kid.clone(),
        };
        Ok(IssuedPair::new(pair_id, owner, times, access, refresh))
    }
}
