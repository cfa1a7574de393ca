//! Each function's checks and logic, free of I/O: they reach the world only through the
//! [`crate::ports`] traits, and answer through the HTTP edge ([`crate::http`]) or, for the
//! authorizer, its own.

pub mod authorizer;
pub mod login;
pub mod logout;
pub mod refresh;
pub mod user_info;

use serde::Serialize;

use crate::error::ApiError;
use crate::ports::{DomainState, IssuedPair};
use crate::secret::Secret;
use crate::session::{Lifetimes, StoredToken, TokenOwner, pair_expirations};
use crate::token::{MintedToken, TokenRoute, random_hex};

/// Refresh checks 4 and 5 (numbered as in `docs/openapi.yaml`), and the authorizer's: the user
/// domain still exists and is enabled.
pub fn domain_usable(domain: Option<&DomainState>) -> Result<(), ApiError> {
    let domain = domain.ok_or(ApiError::UnknownUserDomain)?;
    if domain.enabled.clone()? {
        Ok(())
    } else {
        Err(ApiError::UserDomainDisabled)
    }
}

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

/// Mints a new pair for `owner` at `now`, in a session that ends at `session_end`: what to
/// store, and what to answer.
pub fn issue_pair(
    owner: TokenOwner,
    now: u64,
    session_end: u64,
    lifetimes: &Lifetimes,
) -> Result<(IssuedPair, Grant), ApiError> {
    let route = TokenRoute {
        user_domain: owner.user_domain.clone(),
        uid: owner.uid.clone(),
        session_id: owner.session_id.clone(),
    };
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
