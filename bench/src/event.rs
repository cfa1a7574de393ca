//! The one login every benchmark replays: a valid, signed request for the demo user domain,
//! as API Gateway's REST API (v1) proxy integration delivers it.

use serde_json::Value;
use twitter_auth_login::signature;

pub const DOMAIN: &str = "C.DM.5903.1";
/// A fixed user domain secret for the in-memory world; moto's world gets a fresh one.
pub const DOMAIN_SECRET: &str = "5f1d2c7e9a0b4c3d8e6f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d";
pub const APP_ID: &str = "twitter-app-1";
pub const CONSUMER_KEY: &str = "ck-bench";
pub const CONSUMER_SECRET: &str = "cs-bench-secret";
pub const OAUTH_TOKEN: &str = "1234-benchoauthtokenvalue";
pub const OAUTH_TOKEN_SECRET: &str = "bench+token/secret";
pub const TWITTER_USER_ID: &str = "783214";
pub const TWITTER_USERNAME: &str = "jack";
pub const DATA_CENTER: &str = "dc-eu";
/// Mapped to [`DATA_CENTER`]: the login goes through checks 12 and 13 too.
pub const MCC: i32 = 262;

/// The query of the login, signed with `domain_secret`.
pub fn login_params(domain_secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("userDomain", DOMAIN.to_owned()),
        ("appId", APP_ID.to_owned()),
        ("oauthToken", OAUTH_TOKEN.to_owned()),
        ("oauthTokenSecret", OAUTH_TOKEN_SECRET.to_owned()),
        (
            "signature",
            signature::expected(APP_ID, OAUTH_TOKEN, OAUTH_TOKEN_SECRET, domain_secret),
        ),
        ("mcc", MCC.to_string()),
    ]
}

/// The login as an API Gateway REST API (v1) proxy event.
pub fn rest_event(domain_secret: &str) -> String {
    testkit::events::rest_event(&login_params(domain_secret))
}

/// The envelope's `code` in an API Gateway proxy response as the runtime posts it
/// (`{"statusCode":200,"body":"{\"code\":200,...}",...}`): `(statusCode, code)`.
pub fn proxy_response_codes(response: &[u8]) -> Option<(u64, Option<u64>)> {
    let outer: Value = serde_json::from_slice(response).ok()?;
    let status = outer.get("statusCode")?.as_u64()?;
    let code = outer
        .get("body")
        .and_then(Value::as_str)
        .and_then(|body| serde_json::from_str::<Value>(body).ok())
        .and_then(|body| body.get("code").and_then(Value::as_u64));
    Some((status, code))
}
