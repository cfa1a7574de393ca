//! The access tokens' signing keys: their JWK forms ([`jwk`]), the sets the functions load
//! (private keys for the signers, public ones for the verifiers), how a rotation moves them
//! ([`rotation`]), and the per-instance cache every function reads them through ([`cache`]).

pub mod cache;
pub mod jwk;
pub mod rotation;

use std::collections::HashMap;
use std::sync::Arc;

use jwk::{JwkSet, KeyError, KeyStatus, PrivateJwk, PublicJwk, SigningKey, VerifyingKey};

/// The private keys of the signing secret, each ready to sign.
#[derive(Debug, Clone)]
pub struct SigningKeySet {
    current: Arc<SigningKey>,
    by_kid: HashMap<String, Arc<SigningKey>>,
}

impl SigningKeySet {
    /// The secret's `SecretString`: `{"keys": [...]}` with exactly one `current` key.
    pub fn parse(secret_string: &str) -> Result<SigningKeySet, KeyError> {
        let set: JwkSet<PrivateJwk> = serde_json::from_str(secret_string)
            .map_err(|_| KeyError("the signing keys are not a JWK set"))?;
        let mut current = None;
        let mut by_kid = HashMap::new();
        for jwk in &set.keys {
            let key = Arc::new(jwk.signing_key()?);
            if jwk.status == KeyStatus::Current {
                if current.is_some() {
                    return Err(KeyError("more than one signing key is current"));
                }
                current = Some(Arc::clone(&key));
            }
            by_kid.insert(jwk.kid.clone(), key);
        }
        let current = current.ok_or(KeyError("no signing key is current"))?;
        Ok(SigningKeySet { current, by_kid })
    }

    /// The key that signs every new access token.
    pub fn current(&self) -> &Arc<SigningKey> {
        &self.current
    }

    /// Any key of the set: a retried refresh signs with the key its first answer used.
    pub fn by_kid(&self, kid: &str) -> Option<&Arc<SigningKey>> {
        self.by_kid.get(kid)
    }
}

/// The published keys, each ready to verify, and the JWKS document that publishes them.
#[derive(Debug, Clone)]
pub struct PublicKeySet {
    keys: JwkSet<PublicJwk>,
    by_kid: HashMap<String, Arc<VerifyingKey>>,
}

impl PublicKeySet {
    /// The public parameter's value: `{"keys": [...]}`.
    pub fn parse(parameter_value: &str) -> Result<PublicKeySet, KeyError> {
        let keys: JwkSet<PublicJwk> = serde_json::from_str(parameter_value)
            .map_err(|_| KeyError("the public keys are not a JWK set"))?;
        let by_kid = keys
            .keys
            .iter()
            .map(|jwk| Ok((jwk.kid.clone(), Arc::new(jwk.verifying_key()?))))
            .collect::<Result<_, KeyError>>()?;
        Ok(PublicKeySet { keys, by_kid })
    }

    pub fn by_kid(&self, kid: &str) -> Option<&Arc<VerifyingKey>> {
        self.by_kid.get(kid)
    }

    /// `{"keys": [...]}` as `/.well-known/jwks.json` serves it.
    pub fn jwks(&self) -> &JwkSet<PublicJwk> {
        &self.keys
    }
}

/// Whether a set holds a key of this `kid`: what a cache asks before re-reading.
pub trait HasKid {
    fn has_kid(&self, kid: &str) -> bool;
}

impl HasKid for SigningKeySet {
    fn has_kid(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid)
    }
}

impl HasKid for PublicKeySet {
    fn has_kid(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwk::generate;

    fn secret(keys: &[PrivateJwk]) -> String {
        serde_json::to_string(&JwkSet {
            keys: keys.to_vec(),
        })
        .expect("json")
    }

    #[test]
    fn a_signing_set_has_exactly_one_current_key() {
        let current = generate(KeyStatus::Current).expect("key");
        let next = generate(KeyStatus::Next).expect("key");
        let set = SigningKeySet::parse(&secret(&[next.clone(), current.clone()])).expect("set");
        assert_eq!(set.current().kid, current.kid);
        assert!(set.by_kid(&next.kid).is_some() && set.has_kid(&next.kid));
        assert!(!set.has_kid("unknown"));
        let two = SigningKeySet::parse(&secret(&[current.clone(), current.clone()]));
        assert!(two.is_err());
        assert!(SigningKeySet::parse(&secret(&[next])).is_err());
        assert!(SigningKeySet::parse(r#"{"keys": []}"#).is_err());
        assert!(SigningKeySet::parse("not json").is_err());
    }

    #[test]
    fn a_public_set_verifies_by_kid_and_publishes_what_it_read() {
        let key = generate(KeyStatus::Current).expect("key");
        let value = serde_json::to_string(&JwkSet {
            keys: vec![key.public()],
        })
        .expect("json");
        let set = PublicKeySet::parse(&value).expect("set");
        assert!(set.by_kid(&key.kid).is_some());
        assert_eq!(set.jwks().keys, vec![key.public()]);
        assert!(PublicKeySet::parse(r#"{"keys": []}"#).is_ok_and(|s| s.jwks().keys.is_empty()));
        let private = secret(&[key]);
        assert!(
            PublicKeySet::parse(&private).is_err(),
            "a private key in the public set is refused"
        );
    }
}
