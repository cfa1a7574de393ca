//! Tokens and ids: minted from the operating system's CSPRNG, hashed for storage, and parsed
//! back when presented.
//!
//! A token is `{userDomain}.{uid}.{sessionId}.{secret}`: 256 random bits (`secret`, 43
//! URL-safe base64 characters) behind the non-secret route to its session. The route lets one
//! `BatchGetItem` fetch the token's item, its session and its user domain together; the
//! stored key is the SHA-256 of the whole string, so a token with an altered route is simply
//! unknown.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::domain::secret::Secret;
use crate::domain::user_domain::UserDomainName;
use crate::error::ApiError;

/// 256 bits, the contract's minimum.
const SECRET_BYTES: usize = 32;
const SECRET_CHARS: usize = 43;

/// Ids (`uid`, `sessionId`) are 128 bits in URL-safe base64.
pub const ID_BYTES: usize = 16;
pub const ID_CHARS: usize = 22;

/// Where a token leads: its user domain and session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRoute {
    pub user_domain: UserDomainName,
    pub uid: String,
    pub session_id: String,
}

/// A freshly minted token: the raw value goes to the client, only the hash is stored.
#[derive(Debug)]
pub struct MintedToken {
    pub token: Secret,
    pub hash: String,
}

impl MintedToken {
    /// A new opaque token for `route`: 256 random bits behind it.
    pub fn mint(route: &TokenRoute) -> Result<Self, ApiError> {
        let secret = Secret::new(URL_SAFE_NO_PAD.encode(random_bytes::<SECRET_BYTES>()?));
        Ok(MintedToken::with_secret(route, &secret))
    }

    /// The opaque token for `route` with these secret bits (base64url).
    pub fn with_secret(route: &TokenRoute, secret: &Secret) -> Self {
        let token = format!(
            "{}.{}.{}.{}",
            route.user_domain,
            route.uid,
            route.session_id,
            secret.expose()
        );
        let hash = hash_token(&token);
        MintedToken {
            token: Secret::new(token),
            hash,
        }
    }
}

/// A fresh `jti`: 128 random bits, base64url.
pub fn random_jti() -> Result<String, ApiError> {
    random_id()
}

/// A token as a client presented it: its route, its hash, and the raw value, which nothing
/// here can print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedToken {
    pub route: TokenRoute,
    pub hash: String,
    pub token: Secret,
}

impl PresentedToken {
    /// An access token whose signature and claims were verified: its route is its claims'.
    pub fn verified(route: TokenRoute, raw: &str) -> PresentedToken {
        PresentedToken {
            route,
            hash: hash_token(raw),
            token: Secret::new(raw),
        }
    }
}

impl PresentedToken {
    /// An opaque (refresh) token: `None` when `raw` cannot be one this service minted; such a
    /// token is unknown without asking the store.
    pub fn parse(raw: &str) -> Option<PresentedToken> {
        let mut parts = raw.rsplitn(4, '.');
        let (secret, session_id, uid, user_domain) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let well_formed = is_url_safe(secret, SECRET_CHARS)
            && is_url_safe(session_id, ID_CHARS)
            && is_url_safe(uid, ID_CHARS);
        let user_domain = UserDomainName::parse(user_domain).filter(|_| well_formed)?;
        Some(PresentedToken {
            route: TokenRoute {
                user_domain,
                uid: uid.to_owned(),
                session_id: session_id.to_owned(),
            },
            hash: hash_token(raw),
            token: Secret::new(raw),
        })
    }
}

/// `len` characters of URL-safe base64, nothing else.
pub fn is_url_safe(part: &str, len: usize) -> bool {
    part.len() == len
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Lowercase hex SHA-256 of the token string: the token table's key.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random id (128 bits, URL-safe): session ids.
pub fn random_id() -> Result<String, ApiError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<ID_BYTES>()?))
}

/// An id derived from `parts`, 128 bits of their SHA-256, URL-safe: the same parts always give
/// the same id. Each part is length-prefixed, so no two lists of parts collide by
/// concatenation. Unkeyed, so anyone can compute it: uids no longer are (tests show they
/// differ).
#[cfg(test)]
pub(crate) fn derived_id(purpose: &str, parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(purpose.as_bytes());
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    URL_SAFE_NO_PAD.encode(&hasher.finalize()[..ID_BYTES])
}

/// `N` random bytes as lowercase hex, for pair ids, nonces and idempotency tokens.
pub fn random_hex<const N: usize>() -> Result<String, ApiError> {
    Ok(hex::encode(random_bytes::<N>()?))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| ApiError::Internal("os random source failed"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn route() -> TokenRoute {
        TokenRoute {
            user_domain: UserDomainName::parse("C.DM.5903.1").expect("domain"),
            uid: derived_id("uid", &["C.DM.5903.1", "42"]),
            session_id: random_id().expect("id"),
        }
    }

    #[test]
    fn tokens_carry_their_route_and_256_random_bits() {
        let route = route();
        let minted = MintedToken::mint(&route).expect("mint");
        let token = minted.token.expose();
        let prefix = format!("{}.{}.{}.", route.user_domain, route.uid, route.session_id);
        let secret = token.strip_prefix(&prefix).expect("route in front");
        assert_eq!(URL_SAFE_NO_PAD.decode(secret).expect("base64").len(), 32);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "URL-safe"
        );
        assert_eq!(minted.hash, hash_token(token));
        assert_eq!(minted.hash.len(), 64);
        assert!(
            minted
                .hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    #[test]
    fn a_minted_token_parses_back_to_its_route_and_hash() {
        let route = route();
        let minted = MintedToken::mint(&route).expect("mint");
        let presented = PresentedToken::parse(minted.token.expose()).expect("parses");
        assert_eq!(presented.route, route);
        assert_eq!(presented.hash, minted.hash);
    }

    #[test]
    fn anything_else_is_not_a_token() {
        let route = route();
        let good = MintedToken::mint(&route).expect("mint").token;
        let good = good.expose();
        let (head, secret) = good.rsplit_once('.').expect("dot");
        for bad in [
            String::new(),
            secret.to_owned(),
            format!("{head}.{}", &secret[1..]),
            format!("{head}.{secret}x"),
            format!("{head}.{}+", &secret[1..]),
            format!("{head}.{}=", &secret[1..]),
            format!("c.dm.1.{}.{}.{secret}", route.uid, route.session_id),
            format!("C.DM.1.{}.{}.{secret}", &route.uid[1..], route.session_id),
            format!("{}.{}.{secret}", route.uid, route.session_id),
            format!(" {good}"),
            format!("{good}\n"),
        ] {
            assert_eq!(PresentedToken::parse(&bad), None, "{bad:?}");
        }
        // A user domain with a suffix still parses: the split is from the right.
        let long = TokenRoute {
            user_domain: UserDomainName::parse("E.DM.1209906967672817.3").expect("domain"),
            ..route
        };
        let minted = MintedToken::mint(&long).expect("mint");
        assert_eq!(
            PresentedToken::parse(minted.token.expose()).map(|p| p.route),
            Some(long)
        );
    }

    #[test]
    fn the_hash_is_sha256_hex() {
        // printf 'abc' | sha256sum
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn tokens_and_ids_do_not_repeat() {
        let route = route();
        let hashes: HashSet<String> = (0..1000)
            .map(|_| MintedToken::mint(&route).expect("mint").hash)
            .collect();
        assert_eq!(hashes.len(), 1000);
        let ids: HashSet<String> = (0..1000).map(|_| random_id().expect("id")).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| id.len() == ID_CHARS));
    }

    #[test]
    fn derived_ids_are_stable_and_separate_their_parts() {
        let a = derived_id("uid", &["C.DM.1", "42"]);
        assert_eq!(a, derived_id("uid", &["C.DM.1", "42"]));
        assert_eq!(a.len(), ID_CHARS);
        assert_ne!(a, derived_id("uid", &["C.DM.14", "2"]));
        assert_ne!(a, derived_id("uid", &["C.DM.2", "42"]));
        assert_ne!(a, derived_id("other", &["C.DM.1", "42"]));
    }

    #[test]
    fn random_hex_has_the_asked_length() {
        assert_eq!(random_hex::<16>().expect("random").len(), 32);
        assert_ne!(
            random_hex::<16>().expect("random"),
            random_hex::<16>().expect("random")
        );
    }
}
