//! What is derived from the stack's one derivation secret, each use from its own HKDF-SHA-256
//! subkey: the keyed `uid`, and the pair a refresh token's rotation always leads to (so that a
//! retried or concurrent refresh answers the same pair without anything reversible stored).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::domain::secret::Secret;
use crate::domain::token::ID_BYTES;
use crate::error::ApiError;

/// HKDF's `info` of each subkey: one per use, versioned.
const UID_INFO: &[u8] = b"uid/v2";
const SUCCESSOR_INFO: &[u8] = b"refresh-successor/v1";

/// The subkeys of the derivation secret.
#[derive(Clone)]
pub struct DerivationKeys {
    uid: [u8; 32],
    successor: [u8; 32],
}

impl fmt::Debug for DerivationKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DerivationKeys(***)")
    }
}

/// What a refresh token's rotation leads to, whenever it is computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Successor {
    /// The new refresh token's 256 secret bits, base64url.
    pub refresh_secret: Secret,
    /// The new access token's `jti`: 128 bits, base64url.
    pub jti: String,
    /// The new pair's id, hex.
    pub pair_id: String,
}

fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> Result<[u8; 32], ApiError> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .map_err(|_| ApiError::Internal("hmac key"))?;
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    Ok(mac.finalize().into_bytes().into())
}

impl DerivationKeys {
    /// The subkeys of `secret` (the stack's generated 64 characters).
    pub fn from_secret(secret: &Secret) -> Result<DerivationKeys, ApiError> {
        if secret.expose().len() < 32 {
            return Err(ApiError::Internal("the derivation secret is too short"));
        }
        let hkdf = Hkdf::<Sha256>::new(None, secret.expose().as_bytes());
        let subkey = |info: &[u8]| -> Result<[u8; 32], ApiError> {
            let mut key = [0u8; 32];
            hkdf.expand(info, &mut key)
                .map_err(|_| ApiError::Internal("hkdf expand"))?;
            Ok(key)
        };
        Ok(DerivationKeys {
            uid: subkey(UID_INFO)?,
            successor: subkey(SUCCESSOR_INFO)?,
        })
    }

    /// The end user's stable id: the first 128 bits, base64url, of HMAC-SHA-256 over the
    /// length-prefixed user domain and Twitter id. Without the key, a `uid` says nothing of
    /// the Twitter account behind it.
    pub fn uid(&self, user_domain: &str, twitter_user_id: &str) -> Result<String, ApiError> {
        let mac = hmac(
            &self.uid,
            &[user_domain.as_bytes(), twitter_user_id.as_bytes()],
        )?;
        Ok(URL_SAFE_NO_PAD.encode(&mac[..ID_BYTES]))
    }

    /// What the rotation of `refresh_token` (the raw token presented) leads to.
    pub fn successor(&self, refresh_token: &Secret) -> Result<Successor, ApiError> {
        let token = refresh_token.expose().as_bytes();
        let secret = hmac(&self.successor, &[b"refresh token", token])?;
        let jti = hmac(&self.successor, &[b"jti", token])?;
        let pair = hmac(&self.successor, &[b"pair id", token])?;
        Ok(Successor {
            refresh_secret: Secret::new(URL_SAFE_NO_PAD.encode(secret)),
            jti: URL_SAFE_NO_PAD.encode(&jti[..ID_BYTES]),
            pair_id: hex::encode(&pair[..ID_BYTES]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::token::derived_id;

    fn keys(secret: &str) -> DerivationKeys {
        DerivationKeys::from_secret(&Secret::new(secret)).expect("keys")
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn uids_are_stable_keyed_and_separate_their_parts() {
        let keys = keys(SECRET);
        let uid = keys.uid("C.DM.1", "42").expect("uid");
        assert_eq!(uid, keys.uid("C.DM.1", "42").expect("uid"));
        assert_eq!(uid.len(), 22);
        assert!(
            uid.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(uid, keys.uid("C.DM.2", "42").expect("uid"));
        assert_ne!(uid, keys.uid("C.DM.14", "2").expect("uid"));
        let other = self::keys(&SECRET.replace('0', "1"));
        assert_ne!(uid, other.uid("C.DM.1", "42").expect("uid"), "keyed");
        // Not the unkeyed derivation anyone could compute from two public values.
        assert_ne!(
            uid,
            derived_id("twitter-auth-login/uid/v1", &["C.DM.1", "42"])
        );
    }

    #[test]
    fn a_refresh_tokens_successor_is_the_same_every_time() {
        let keys = keys(SECRET);
        let token = Secret::new("C.DM.1.uid.sid.secret");
        let first = keys.successor(&token).expect("successor");
        assert_eq!(first, keys.successor(&token).expect("successor"));
        assert_eq!(first.refresh_secret.expose().len(), 43, "256 bits");
        assert_eq!(first.jti.len(), 22, "128 bits");
        assert_eq!(first.pair_id.len(), 32);
        let other = keys
            .successor(&Secret::new("C.DM.1.uid.sid.secreu"))
            .expect("successor");
        assert_ne!(first.refresh_secret, other.refresh_secret);
        assert_ne!(first.jti, other.jti);
        assert_ne!(first.jti, first.refresh_secret.expose()[..22]);
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(DerivationKeys::from_secret(&Secret::new("short")).is_err());
    }
}
