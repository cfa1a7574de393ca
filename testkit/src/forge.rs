//! Access tokens an attacker could present, made from a genuine one: each must be refused by
//! the authorizer and logout before any DynamoDB request.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use twitter_auth_login::domain::access_token::AccessClaims;
use twitter_auth_login::jwt;
use twitter_auth_login::keys::jwk::{KeyStatus, PublicJwk, SigningKey, generate};

/// A forged token and what it tries.
pub struct Forgery {
    pub what: &'static str,
    pub token: String,
    /// What logout answers in `extMsg`: `expired` when only `exp` is wrong.
    pub reason: &'static str,
}

/// The claims of a token, read without verifying it (the test made it).
pub fn claims_of(token: &str) -> AccessClaims {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("our claims")
}

/// The header of a token, as JSON.
pub fn header_of(token: &str) -> Value {
    let header = token.split('.').next().expect("a JWT has a header");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url header"))
        .expect("a JSON header")
}

fn part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn signed(claims: &AccessClaims, key: &SigningKey) -> String {
    jwt::sign(claims, key).expect("signed").expose().to_owned()
}

fn hs256(header: &Value, payload: &str, secret: &[u8]) -> String {
    let input = format!("{}.{payload}", part(header));
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret).expect("hmac key");
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// Every forgery of the contract, from `genuine` (a live token), the key that signed it and
/// that key's published part, at `now`.
pub fn forgeries(
    genuine: &str,
    signer: &SigningKey,
    published: &PublicJwk,
    now: u64,
) -> Vec<Forgery> {
    let claims = claims_of(genuine);
    let mut parts = genuine.split('.');
    let (header, payload, signature) = (
        parts.next().expect("header"),
        parts.next().expect("payload"),
        parts.next().expect("signature"),
    );
    let header_with = |alg: &str| json!({"alg": alg, "typ": "at+jwt", "kid": signer.kid});
    let published_json = serde_json::to_string(published).expect("json");

    let mut changed = claims.clone();
    changed.sub = format!("{}x", &changed.sub[1..]);
    let changed = format!(
        "{header}.{}.{signature}",
        part(&serde_json::to_value(&changed).expect("claims"))
    );
    let stranger = generate(KeyStatus::Current)
        .expect("a key")
        .signing_key()
        .expect("signing key");
    // The stranger's key, presented under the published key's kid.
    let mut impostor = stranger.clone();
    impostor.kid = signer.kid.clone();
    let mut wrong_issuer = claims.clone();
    wrong_issuer.iss = format!("{}/other", claims.iss);
    let mut expired = claims.clone();
    expired.exp = now.saturating_sub(1);
    expired.iat = expired.exp.saturating_sub(7200);

    let forgery = |what, token| Forgery {
        what,
        token,
        reason: "invalid",
    };
    vec![
        forgery(
            "alg none",
            format!("{}.{payload}.", part(&header_with("none"))),
        ),
        forgery(
            "alg none, signature kept",
            format!("{}.{payload}.{signature}", part(&header_with("none"))),
        ),
        forgery(
            "HS256 keyed with the published JWK",
            hs256(&header_with("HS256"), payload, published_json.as_bytes()),
        ),
        forgery(
            "HS256 keyed with the modulus",
            hs256(&header_with("HS256"), payload, published.n.as_bytes()),
        ),
        forgery("a changed claim", changed),
        forgery(
            "a key that is not published, under its own kid",
            signed(&claims, &stranger),
        ),
        forgery(
            "a key that is not published, under a published kid",
            signed(&claims, &impostor),
        ),
        forgery(
            "an unknown kid",
            format!(
                "{}.{payload}.{signature}",
                part(&json!({"alg": "RS256", "typ": "at+jwt", "kid": "not-a-key-of-ours"}))
            ),
        ),
        forgery("a wrong iss", signed(&wrong_issuer, signer)),
        forgery("two parts", format!("{header}.{payload}")),
        forgery("garbage", "garbage".to_owned()),
        Forgery {
            what: "an expired token",
            token: signed(&expired, signer),
            reason: "expired",
        },
    ]
}
