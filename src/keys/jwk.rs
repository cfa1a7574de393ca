//! RSA signing keys as JSON Web Keys (RFC 7517): the private keys as the secret holds them, the
//! public parts as the parameter and the JWKS publish them. A key's `kid` is its RFC 7638
//! thumbprint. Keys are made and used by aws-lc-rs and jsonwebtoken; the encodings in between
//! are the `pkcs8` and `pkcs1` crates'.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeyPairComponents, KeySize, PublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use pkcs1::der::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::access_token::ALGORITHM;

const KEY_TYPE: &str = "RSA";
const USE_SIGNATURE: &str = "sig";

/// Why a key could not be made, read or used. Never says anything of the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub &'static str);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for KeyError {}

/// Where a key stands in the rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Signs every new access token; exactly one key is current.
    Current,
    /// Published, not yet signing.
    Next,
    /// Published, no longer signing: kept until every token it signed has expired.
    Previous,
}

/// An RSA private key with its status, as the secret's `keys` hold it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateJwk {
    pub kty: String,
    pub kid: String,
    pub alg: String,
    pub n: String,
    pub e: String,
    pub d: String,
    pub p: String,
    pub q: String,
    pub dp: String,
    pub dq: String,
    pub qi: String,
    pub status: KeyStatus,
}

impl fmt::Debug for PrivateJwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateJwk")
            .field("kid", &self.kid)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The public part of a key, as the JWKS publishes it. Nothing else is read: a private member
/// published by mistake makes the set unreadable rather than public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicJwk {
    pub kty: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
    pub n: String,
    pub e: String,
}

/// `{"keys": [...]}`, as the secret, the parameter and the JWKS hold their keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet<K> {
    pub keys: Vec<K>,
}

/// A key that signs, by its `kid`.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub key: EncodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.kid)
    }
}

/// A key that verifies, by its `kid`.
#[derive(Clone)]
pub struct VerifyingKey {
    pub kid: String,
    pub key: DecodingKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({})", self.kid)
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Result<Vec<u8>, KeyError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| KeyError("a key member is not base64url"))
}

/// RFC 7638: the SHA-256, base64url, of the required members in lexicographic order.
pub fn thumbprint(n: &str, e: &str) -> String {
    let canonical = serde_json::json!({"e": e, "kty": KEY_TYPE, "n": n}).to_string();
    b64(&Sha256::digest(canonical.as_bytes()))
}

/// A new 2048-bit RSA key from the operating system's CSPRNG.
pub fn generate(status: KeyStatus) -> Result<PrivateJwk, KeyError> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError("key generation"))?;
    let pkcs8 = pair
        .as_der()
        .map_err(|_| KeyError("the new key could not be encoded"))?;
    let info = pkcs8::PrivateKeyInfoRef::from_der(pkcs8.as_ref())
        .map_err(|_| KeyError("the new key's PKCS#8 encoding"))?;
    let rsa = pkcs1::RsaPrivateKeyRef::from_der(info.private_key.as_bytes())
        .map_err(|_| KeyError("the new key's PKCS#1 encoding"))?;
    let (n, e) = (
        b64(rsa.modulus.as_bytes()),
        b64(rsa.public_exponent.as_bytes()),
    );
    Ok(PrivateJwk {
        kty: KEY_TYPE.to_owned(),
        kid: thumbprint(&n, &e),
        alg: ALGORITHM.to_owned(),
        d: b64(rsa.private_exponent.as_bytes()),
        p: b64(rsa.prime1.as_bytes()),
        q: b64(rsa.prime2.as_bytes()),
        dp: b64(rsa.exponent1.as_bytes()),
        dq: b64(rsa.exponent2.as_bytes()),
        qi: b64(rsa.coefficient.as_bytes()),
        n,
        e,
        status,
    })
}

impl PrivateJwk {
    pub fn public(&self) -> PublicJwk {
        PublicJwk {
            kty: self.kty.clone(),
            kid: self.kid.clone(),
            use_: USE_SIGNATURE.to_owned(),
            alg: self.alg.clone(),
            n: self.n.clone(),
            e: self.e.clone(),
        }
    }

    /// The key, checked whole by aws-lc-rs (its primes, exponents and CRT values agree) and
    /// ready to sign.
    pub fn signing_key(&self) -> Result<SigningKey, KeyError> {
        self.public().check()?;
        let member = |text: &str| unb64(text);
        let (n, e, d) = (member(&self.n)?, member(&self.e)?, member(&self.d)?);
        let (p, q) = (member(&self.p)?, member(&self.q)?);
        let (dp, dq, qi) = (member(&self.dp)?, member(&self.dq)?, member(&self.qi)?);
        let components = KeyPairComponents {
            public_key: PublicKeyComponents {
                n: n.as_slice(),
                e: e.as_slice(),
            },
            d: d.as_slice(),
            p: p.as_slice(),
            q: q.as_slice(),
            dP: dp.as_slice(),
            dQ: dq.as_slice(),
            qInv: qi.as_slice(),
        };
        KeyPair::from_components(&components)
            .map_err(|_| KeyError("a private key's members do not make a key"))?;
        fn uint(bytes: &[u8]) -> Result<pkcs1::UintRef<'_>, KeyError> {
            pkcs1::UintRef::new(bytes).map_err(|_| KeyError("a key member is no integer"))
        }
        let pkcs1 = pkcs1::RsaPrivateKey {
            modulus: uint(&n)?,
            public_exponent: uint(&e)?,
            private_exponent: uint(&d)?,
            prime1: uint(&p)?,
            prime2: uint(&q)?,
            exponent1: uint(&dp)?,
            exponent2: uint(&dq)?,
            coefficient: uint(&qi)?,
            other_prime_infos: None,
        }
        .to_der()
        .map_err(|_| KeyError("the key could not be encoded"))?;
        Ok(SigningKey {
            kid: self.kid.clone(),
            key: EncodingKey::from_rsa_der(&pkcs1),
        })
    }
}

impl PublicJwk {
    /// An RSA key for RS256 signatures whose `kid` is its thumbprint.
    fn check(&self) -> Result<(), KeyError> {
        if self.kty != KEY_TYPE || self.alg != ALGORITHM {
            return Err(KeyError("a key is not an RS256 RSA key"));
        }
        if self.kid != thumbprint(&self.n, &self.e) {
            return Err(KeyError("a key's kid is not its thumbprint"));
        }
        Ok(())
    }

    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        self.check()?;
        if self.use_ != USE_SIGNATURE {
            return Err(KeyError("a published key is not for signatures"));
        }
        // 2048 bits at least: a weaker key published by mistake verifies nothing.
        if unb64(&self.n)?.len() < 256 {
            return Err(KeyError("a published key is shorter than 2048 bits"));
        }
        let key = DecodingKey::from_rsa_components(&self.n, &self.e)
            .map_err(|_| KeyError("a published key's members"))?;
        Ok(VerifyingKey {
            kid: self.kid.clone(),
            key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_a_2048_bit_rs256_jwk_named_by_its_thumbprint() {
        let key = generate(KeyStatus::Next).expect("key");
        assert_eq!((key.kty.as_str(), key.alg.as_str()), ("RSA", "RS256"));
        assert_eq!(key.e, "AQAB");
        assert_eq!(unb64(&key.n).expect("n").len(), 256);
        assert_eq!(key.kid, thumbprint(&key.n, &key.e));
        assert_eq!(key.kid.len(), 43);
        assert!(key.signing_key().is_ok());
        let public = key.public();
        assert_eq!(public.use_, "sig");
        assert!(public.verifying_key().is_ok());
        let json = serde_json::to_value(&public).expect("json");
        let mut members: Vec<&str> = json
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        members.sort_unstable();
        assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
        assert_ne!(generate(KeyStatus::Next).expect("key").kid, key.kid);
        assert!(
            !format!("{key:?}").contains(&key.d),
            "Debug shows no secret"
        );
    }

    /// RFC 7638, section 3.1: the worked example.
    #[test]
    fn thumbprints_follow_rfc_7638() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn a_tampered_key_is_refused() {
        let key = generate(KeyStatus::Current).expect("key");
        let mut wrong_kid = key.clone();
        wrong_kid.kid = "not-its-thumbprint".into();
        assert!(wrong_kid.signing_key().is_err());
        assert!(wrong_kid.public().verifying_key().is_err());
        let mut wrong_prime = key.clone();
        wrong_prime.p = key.q.clone();
        assert!(wrong_prime.signing_key().is_err());
        let mut hmac = key.public();
        hmac.alg = "HS256".into();
        assert!(hmac.verifying_key().is_err());
        let mut encryption = key.public();
        encryption.use_ = "enc".into();
        assert!(encryption.verifying_key().is_err());
    }
}
