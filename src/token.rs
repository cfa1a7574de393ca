//! Minting tokens and ids from the operating system's CSPRNG, and hashing tokens for storage.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::LoginError;
use crate::secret::Secret;

/// 256 bits, the contract's minimum.
const TOKEN_BYTES: usize = 32;

/// A freshly minted token: the raw value goes to the client, only the hash is stored.
#[derive(Debug)]
pub struct MintedToken {
    pub token: Secret,
    pub hash: String,
}

impl MintedToken {
    pub fn mint() -> Result<Self, LoginError> {
        let token = URL_SAFE_NO_PAD.encode(random_bytes::<TOKEN_BYTES>()?);
        let hash = hash_token(&token);
        Ok(MintedToken {
            token: Secret::new(token),
            hash,
        })
    }
}

/// Lowercase hex SHA-256 of the token string: the token table's key.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// `N` random bytes as lowercase hex, for ids and nonces.
pub fn random_hex<const N: usize>() -> Result<String, LoginError> {
    Ok(hex::encode(random_bytes::<N>()?))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], LoginError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| LoginError::Internal("os random source failed"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tokens_are_256_bit_url_safe_and_hashed() {
        let minted = MintedToken::mint().expect("mint");
        let token = minted.token.expose();
        assert_eq!(token.len(), 43, "32 bytes in unpadded base64");
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(token).expect("decodes").len(), 32);
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
    fn the_hash_is_sha256_hex() {
        // printf 'abc' | sha256sum
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn tokens_do_not_repeat() {
        let hashes: HashSet<String> = (0..1000)
            .map(|_| MintedToken::mint().expect("mint").hash)
            .collect();
        assert_eq!(hashes.len(), 1000);
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
