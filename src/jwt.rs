//! Access tokens as signed JWTs (RFC 7515, 7519, profiled by RFC 9068): signed by login and
//! refresh with the current key, verified by the authorizer and logout before any DynamoDB
//! request. The JWS is jsonwebtoken's; the RSA under it aws-lc-rs's.

use jsonwebtoken::{Algorithm, Header, Validation};

use crate::domain::access_token::{AccessClaims, TOKEN_TYPE};
use crate::domain::secret::Secret;
use crate::domain::token::PresentedToken;
use crate::error::{ApiError, Rejection};
use crate::keys::PublicKeySet;
use crate::keys::jwk::SigningKey;
use crate::ports::KeyRing;

/// The longest `Authorization` value a token may come in.
pub const MAX_AUTHORIZATION_BYTES: usize = 4096;

/// The compact JWS of `claims`, signed with `key`. RS256 is deterministic: the same claims and
/// key always give the same token.
pub fn sign(claims: &AccessClaims, key: &SigningKey) -> Result<Secret, ApiError> {
    let mut header = Header::new(Algorithm::RS256);
    header.typ = Some(TOKEN_TYPE.to_owned());
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.key)
        .map(Secret::new)
        .map_err(|_| ApiError::Internal("the access token could not be signed"))
}

/// Verifies access tokens against the published keys and this deployment's issuer.
pub struct AccessTokenVerifier<K> {
    keys: K,
    issuer: String,
}

impl<K: KeyRing<PublicKeySet>> AccessTokenVerifier<K> {
    pub fn new(keys: K, issuer: impl Into<String>) -> Self {
        AccessTokenVerifier {
            keys,
            issuer: issuer.into(),
        }
    }

    /// The token, verified at `now`: three base64url parts; `alg` exactly RS256 (never
    /// `none`, never an HMAC), `typ` `at+jwt`, `kid` a published key; the signature; `iss`;
    /// `exp` in the future; every claim present. Any failure is `invalid`, `expired` when
    /// only `exp` failed. The outer error is a failure to read the keys.
    pub async fn verify(
        &self,
        token: &str,
        now: u64,
    ) -> Result<Result<PresentedToken, Rejection>, ApiError> {
        let Some(kid) = signed_header_kid(token) else {
            return Ok(Err(Rejection::Invalid));
        };
        let keys = self.keys.keys_with(&kid).await?;
        let Some(key) = keys.by_kid(&kid) else {
            return Ok(Err(Rejection::Invalid));
        };
        let mut validation = Validation::new(Algorithm::RS256);
        // The claims are judged below, on this function's clock: only the signature here.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.required_spec_claims.clear();
        let Ok(verified) = jsonwebtoken::decode::<AccessClaims>(token, &key.key, &validation)
        else {
            return Ok(Err(Rejection::Invalid));
        };
        let claims = verified.claims;
        let Some(route) = claims.route().filter(|_| claims.iss == self.issuer) else {
            return Ok(Err(Rejection::Invalid));
        };
        if now >= claims.exp {
            return Ok(Err(Rejection::Expired));
        }
        Ok(Ok(PresentedToken::verified(route, token)))
    }
}

/// The `kid` of a token whose header is one of ours: RS256, `at+jwt`, a `kid`. Nothing else
/// is looked at before a key is chosen.
fn signed_header_kid(token: &str) -> Option<String> {
    if token.len() > MAX_AUTHORIZATION_BYTES || token.split('.').count() != 3 {
        return None;
    }
    let header = jsonwebtoken::decode_header(token).ok()?;
    (header.alg == Algorithm::RS256 && header.typ.as_deref() == Some(TOKEN_TYPE))
        .then_some(header.kid)
        .flatten()
        .filter(|kid| !kid.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::jwk::{JwkSet, KeyStatus, PrivateJwk, generate};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use std::sync::Arc;

    const ISSUER: &str = "https://api.example.com/prod";
    const NOW: u64 = 1_800_000_000;

    struct Published(Arc<PublicKeySet>);

    impl KeyRing<PublicKeySet> for Published {
        async fn keys(&self) -> Result<Arc<PublicKeySet>, ApiError> {
            Ok(Arc::clone(&self.0))
        }
        async fn keys_with(&self, _: &str) -> Result<Arc<PublicKeySet>, ApiError> {
            Ok(Arc::clone(&self.0))
        }
    }

    fn verifier(published: &[&PrivateJwk]) -> AccessTokenVerifier<Published> {
        let set = JwkSet {
            keys: published.iter().map(|k| k.public()).collect(),
        };
        let value = serde_json::to_string(&set).expect("json");
        let keys = Published(Arc::new(PublicKeySet::parse(&value).expect("set")));
        AccessTokenVerifier::new(keys, ISSUER)
    }

    fn claims() -> AccessClaims {
        AccessClaims {
            iss: ISSUER.into(),
            sub: "tKnMuNF1kh9qAnztAqTPHQ".into(),
            aud: "C.DM.5903.1".into(),
            client_id: "app".into(),
            sid: "6l4j72wihcVH1wTN26GiTA".into(),
            iat: NOW - 10,
            exp: NOW + 100,
            jti: "9sNW4awRXzWb3vR1cPmB2Q".into(),
        }
    }

    fn signed(claims: &AccessClaims, key: &PrivateJwk) -> String {
        sign(claims, &key.signing_key().expect("key"))
            .expect("signed")
            .expose()
            .to_owned()
    }

    fn part(json: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    async fn verdict(
        verifier: &AccessTokenVerifier<Published>,
        token: &str,
    ) -> Result<String, Rejection> {
        verifier
            .verify(token, NOW)
            .await
            .expect("keys")
            .map(|presented| presented.route.uid)
    }

    #[tokio::test]
    async fn a_token_of_ours_verifies_into_its_route() {
        let key = generate(KeyStatus::Current).expect("key");
        let token = signed(&claims(), &key);
        assert_eq!(token, signed(&claims(), &key), "RS256 is deterministic");
        let presented = verifier(&[&key])
            .verify(&token, NOW)
            .await
            .expect("keys")
            .expect("verified");
        assert_eq!(presented.route.uid, "tKnMuNF1kh9qAnztAqTPHQ");
        assert_eq!(presented.route.session_id, "6l4j72wihcVH1wTN26GiTA");
        assert_eq!(presented.route.user_domain.as_str(), "C.DM.5903.1");
        assert_eq!(presented.hash, crate::domain::token::hash_token(&token));
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.kid.as_deref(), Some(key.kid.as_str()));
    }

    #[tokio::test]
    async fn anything_else_is_refused() {
        let key = generate(KeyStatus::Current).expect("key");
        let unpublished = generate(KeyStatus::Current).expect("key");
        let verifier = verifier(&[&key]);
        let good = signed(&claims(), &key);
        let (header, rest) = good.split_once('.').expect("header");
        let (body, signature) = rest.split_once('.').expect("body");
        let header_json =
            |alg: &str| part(&serde_json::json!({"alg": alg, "typ": "at+jwt", "kid": key.kid}));

        // alg none, with and without a signature.
        let none = format!("{}.{body}.", header_json("none"));
        // HS256 keyed with the public key's modulus, as a confused verifier would take it.
        let hs256 = {
            use hmac::{Hmac, KeyInit, Mac};
            let input = format!("{}.{body}", header_json("HS256"));
            let mut mac =
                <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key.n.as_bytes()).expect("hmac");
            mac.update(input.as_bytes());
            format!(
                "{input}.{}",
                URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
            )
        };
        let mut changed = claims();
        changed.sub = "someone-else-entirely0".into();
        let changed = format!(
            "{header}.{}.{signature}",
            part(&serde_json::to_value(&changed).expect("json"))
        );
        let mut wrong_issuer = claims();
        wrong_issuer.iss = "https://evil.example.com/prod".into();
        let mut no_sid = serde_json::to_value(claims()).expect("json");
        no_sid.as_object_mut().expect("object").remove("sid");
        let no_sid = signed_value(&no_sid, &key);
        let unknown_kid = format!(
            "{}.{body}.{signature}",
            part(&serde_json::json!({"alg": "RS256", "typ": "at+jwt", "kid": "unknown"}))
        );
        let plain_jwt = format!(
            "{}.{body}.{signature}",
            part(&serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": key.kid}))
        );
        for (what, token) in [
            ("alg none", none),
            ("HS256 keyed with the public key", hs256),
            ("a changed claim", changed),
            (
                "a key that is not published",
                signed(&claims(), &unpublished),
            ),
            ("an unknown kid", unknown_kid),
            ("typ JWT", plain_jwt),
            ("a wrong iss", signed(&wrong_issuer, &key)),
            ("no sid", no_sid),
            ("two parts", format!("{header}.{body}")),
            ("garbage", "garbage".to_owned()),
            ("an opaque token", "C.DM.1.uid.sid.secret".to_owned()),
            (
                "too long",
                format!("{good}{}", "A".repeat(MAX_AUTHORIZATION_BYTES)),
            ),
        ] {
            assert_eq!(
                verdict(&verifier, &token).await,
                Err(Rejection::Invalid),
                "{what}"
            );
        }
        let mut expired = claims();
        expired.exp = NOW;
        assert_eq!(
            verdict(&verifier, &signed(&expired, &key)).await,
            Err(Rejection::Expired)
        );
        // Expired and otherwise wrong is invalid: `expired` says only exp failed.
        expired.iss = "https://evil.example.com/prod".into();
        assert_eq!(
            verdict(&verifier, &signed(&expired, &key)).await,
            Err(Rejection::Invalid)
        );
    }

    fn signed_value(claims: &serde_json::Value, key: &PrivateJwk) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some(TOKEN_TYPE.to_owned());
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.signing_key().expect("key").key).expect("signed")
    }
}
