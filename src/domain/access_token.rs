//! The access token's claims: an RFC 9068 JWT access token, exactly these members. Signing and
//! verifying them is `crate::jwt`'s.

use serde::{Deserialize, Serialize};

use crate::domain::session::TokenOwner;
use crate::domain::token::TokenRoute;
use crate::domain::user_domain::UserDomainName;

/// The JWS header's `alg`: RSA PKCS#1 v1.5 with SHA-256.
pub const ALGORITHM: &str = "RS256";
/// The JWS header's `typ`, as RFC 9068 names access tokens.
pub const TOKEN_TYPE: &str = "at+jwt";

/// What an access token says, in the order it says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessClaims {
    /// `TOKEN_ISSUER`: the stage's base URL, or the custom domain that names it.
    pub iss: String,
    /// The end user's `uid`.
    pub sub: String,
    /// The user domain: a string, not an array.
    pub aud: String,
    /// The app the user signed in with.
    pub client_id: String,
    /// The session.
    pub sid: String,
    pub iat: u64,
    /// The answer's `accessToken.expirationTime`.
    pub exp: u64,
    /// At least 128 random (or, for a refresh, derived) bits, base64url.
    pub jti: String,
}

impl AccessClaims {
    /// The claims of an access token for `owner`'s session, issued at `iat`.
    pub fn new(issuer: &str, owner: &TokenOwner, iat: u64, exp: u64, jti: String) -> AccessClaims {
        AccessClaims {
            iss: issuer.to_owned(),
            sub: owner.uid.clone(),
            aud: owner.user_domain.to_string(),
            client_id: owner.app_id.clone(),
            sid: owner.session_id.clone(),
            iat,
            exp,
            jti,
        }
    }

    /// Where the token leads, when its claims are well formed: `None` for an `aud` that is no
    /// user domain or an empty `sub`, `sid` or `client_id`.
    pub fn route(&self) -> Option<TokenRoute> {
        let present = [&self.sub, &self.sid, &self.client_id, &self.jti]
            .iter()
            .all(|claim| !claim.trim().is_empty());
        Some(TokenRoute {
            user_domain: UserDomainName::parse(&self.aud).filter(|_| present)?,
            uid: self.sub.clone(),
            session_id: self.sid.clone(),
        })
    }
}
