//! What a login or refresh hands out: a new pair of tokens, as answered and as stored.

use serde::Serialize;

use crate::domain::secret::Secret;
use crate::domain::session::{Lifetimes, StoredToken, TokenOwner, pair_expirations};
use crate::domain::token::{MintedToken, TokenRoute, random_hex};
use crate::error::ApiError;

/// A token handed to the client.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantedToken {
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub token: Secret,
    pub expiration_time: u64,
}

/// What a successful login or refresh answers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    pub access_token: GrantedToken,
    pub refresh_token: GrantedToken,
    pub uid: String,
    /// For the log line; clients read it in front of the tokens.
    #[serde(skip)]
    pub session_id: String,
}

/// The two tokens one login or refresh hands out, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedPair {
    pub pair_id: String,
    pub issued_at: u64,
    pub owner: TokenOwner,
    pub access: StoredToken,
    pub refresh: StoredToken,
}

/// Mints a new pair for `owner` at `now`, in a session that ends at `session_end`: what to
/// store, and what to answer.
pub fn issue_pair(
    owner: TokenOwner,
    now: u64,
    session_end: u64,
    lifetimes: &Lifetimes,
) -> Result<(IssuedPair, Grant), ApiError> {
    let route = TokenRoute::from(&owner);
    let access = MintedToken::mint(&route)?;
    let refresh = MintedToken::mint(&route)?;
    let (access_expires, refresh_expires) = pair_expirations(now, session_end, lifetimes);
    let grant = Grant {
        access_token: GrantedToken {
            token: access.token,
            expiration_time: access_expires,
        },
        refresh_token: GrantedToken {
            token: refresh.token,
            expiration_time: refresh_expires,
        },
        uid: owner.uid.clone(),
        session_id: owner.session_id.clone(),
    };
    let pair = IssuedPair {
        pair_id: random_hex::<16>()?,
        issued_at: now,
        owner,
        access: StoredToken {
            hash: access.hash,
            expiration_time: access_expires,
        },
        refresh: StoredToken {
            hash: refresh.hash,
            expiration_time: refresh_expires,
        },
    };
    Ok((pair, grant))
}
