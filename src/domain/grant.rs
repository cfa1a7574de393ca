//! What a login or refresh hands out: a new pair of tokens, as answered and as stored.

use serde::Serialize;

use crate::domain::secret::Secret;
use crate::domain::session::{Lifetimes, StoredToken, TokenOwner, pair_expirations};
use crate::domain::token::MintedToken;

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
    /// The `kid` that signed the access token: a retried refresh signs with it again.
    pub access_key_id: String,
}

impl IssuedPair {
    /// The pair for `owner` with these tokens, and the grant that answers it.
    pub fn new(
        pair_id: String,
        owner: TokenOwner,
        times: PairTimes,
        access: SignedAccessToken,
        refresh: MintedToken,
    ) -> (IssuedPair, Grant) {
        let grant = Grant {
            access_token: GrantedToken {
                token: access.token,
                expiration_time: times.access_expires,
            },
            refresh_token: GrantedToken {
                token: refresh.token,
                expiration_time: times.refresh_expires,
            },
            uid: owner.uid.clone(),
            session_id: owner.session_id.clone(),
        };
        let pair = IssuedPair {
            pair_id,
            issued_at: times.issued_at,
            owner,
            access: StoredToken {
                hash: access.hash,
                expiration_time: times.access_expires,
            },
            refresh: StoredToken {
                hash: refresh.hash,
                expiration_time: times.refresh_expires,
            },
            access_key_id: access.kid,
        };
        (pair, grant)
    }
}

/// When a pair is issued and when each of its tokens stops working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairTimes {
    pub issued_at: u64,
    pub access_expires: u64,
    pub refresh_expires: u64,
}

impl PairTimes {
    /// A pair issued at `issued_at` in a session that ends at `session_end`.
    pub fn new(issued_at: u64, session_end: u64, lifetimes: &Lifetimes) -> PairTimes {
        let (access_expires, refresh_expires) = pair_expirations(issued_at, session_end, lifetimes);
        PairTimes {
            issued_at,
            access_expires,
            refresh_expires,
        }
    }
}

/// A signed access token, its hash and the key that signed it.
#[derive(Debug)]
pub struct SignedAccessToken {
    pub token: Secret,
    pub hash: String,
    pub kid: String,
}
