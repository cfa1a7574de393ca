//! Checking an answer: the response's shape, the envelope, and what a success stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use testkit::memory::MemoryKeys;
use testkit::memory::MemoryTables;
use testkit::prelude::ISSUER;
use twitter_auth_login::domain::session::{SessionStatus, TokenKind};
use twitter_auth_login::domain::user::User;

use crate::families::Origin;
use crate::model::contract;
use crate::world::{
    ACCESS_TTL, ENABLED, NEVER_ANSWERED, NOW, PARAMETERS, REFRESH_TTL, SESSION_MAX, TW_APP,
    USER_ID, USERNAME, sha256_hex,
};

/// An answer, checked against the envelope's invariants.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub code: u64,
    pub ext_msg: String,
    pub data: Value,
}

pub fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

/// Checks API Gateway's response JSON for an event of `origin` (a REST response when the
/// payload is no event), and the envelope in its body.
pub fn check_response(response: &Value, origin: Option<Origin>) -> Result<Answer, TestCaseError> {
    let object = response
        .as_object()
        .ok_or_else(|| fail(format!("the response is not an object: {response}")))?;
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let (headers_field, empty_field, expected_keys) = match origin {
        Some(Origin::HttpApi) => (
            "headers",
            "multiValueHeaders",
            vec![
                "body",
                "cookies",
                "headers",
                "isBase64Encoded",
                "multiValueHeaders",
                "statusCode",
            ],
        ),
        _ => (
            "multiValueHeaders",
            "headers",
            vec![
                "body",
                "headers",
                "isBase64Encoded",
                "multiValueHeaders",
                "statusCode",
            ],
        ),
    };
    prop_assert_eq!(keys, expected_keys, "{}", response);
    prop_assert_eq!(&response["isBase64Encoded"], false, "{}", response);
    prop_assert_eq!(&response[empty_field], &json!({}), "{}", response);
    let header = |value: &str| match origin {
        Some(Origin::HttpApi) => json!(value),
        _ => json!([value]),
    };
    prop_assert_eq!(
        &response[headers_field],
        &json!({"content-type": header("application/json"), "cache-control": header("no-store")}),
        "{}",
        response
    );
    let status = response["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or_else(|| fail(format!("statusCode is not a status: {response}")))?;
    let body_text = response["body"]
        .as_str()
        .ok_or_else(|| fail(format!("the body is not response: {response}")))?;
    let body: Value = serde_json::from_str(body_text)
        .map_err(|e| fail(format!("the body is not JSON ({e}): {response}")))?;
    let envelope = body
        .as_object()
        .ok_or_else(|| fail(format!("the body is not an object: {response}")))?;
    let mut keys: Vec<&str> = envelope.keys().map(String::as_str).collect();
    keys.sort_unstable();
    prop_assert_eq!(keys, vec!["code", "data", "extMsg", "msg"], "{}", response);

    let code = body["code"]
        .as_u64()
        .ok_or_else(|| fail(format!("code is not a number: {response}")))?;
    let (msg, code_status) =
        contract(code).ok_or_else(|| fail(format!("unknown code: {response}")))?;
    prop_assert_eq!(&body["msg"], msg, "{}", response);
    prop_assert_eq!(status, code_status, "{}", response);
    let ext_msg = body["extMsg"]
        .as_str()
        .ok_or_else(|| fail(format!("extMsg is not a string: {response}")))?
        .to_owned();
    if code == 4001 {
        // A parameter's name, or nothing when the event itself was malformed.
        prop_assert!(
            ext_msg.is_empty() || PARAMETERS.contains(&ext_msg.as_str()),
            "{}",
            response
        );
    } else {
        prop_assert_eq!(&ext_msg, "", "{}", response);
    }
    let data = body["data"].clone();
    if code == 200 {
        let mut fields: Vec<&str> = data
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        fields.sort_unstable();
        prop_assert_eq!(
            fields,
            vec!["accessToken", "refreshToken", "uid"],
            "{}",
            response
        );
        for kind in ["accessToken", "refreshToken"] {
            let mut fields: Vec<&str> = data[kind]
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            fields.sort_unstable();
            prop_assert_eq!(fields, vec!["expirationTime", "token"], "{}", response);
        }
    } else {
        prop_assert!(data.is_null(), "{}", response);
    }
    for secret in NEVER_ANSWERED {
        prop_assert!(
            !body_text.contains(secret),
            "a secret was answered: {}",
            response
        );
    }
    Ok(Answer {
        status,
        code,
        ext_msg,
        data,
    })
}

fn url_safe(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a success must have answered and stored: the tokens' shape, exactly two token items
/// under their SHA-256, one session, one user, all of the one Twitter user on the enabled
/// domain. Returns the mcc stored with the tokens.
pub fn check_success(answer: &Answer, tables: &MemoryTables) -> Result<Option<i32>, TestCaseError> {
    let data = &answer.data;
    let uid = MemoryKeys::new().uid(ENABLED, USER_ID);
    prop_assert_eq!(&data["uid"], uid.as_str());
    let token = |kind: &str| data[kind]["token"].as_str().unwrap_or_default().to_owned();
    let (access, refresh) = (token("accessToken"), token("refreshToken"));
    prop_assert_ne!(&access, &refresh);
    let parts: Vec<&str> = refresh.rsplitn(4, '.').collect();
    prop_assert_eq!(parts.len(), 4, "{}", refresh);
    let (secret, session_id, token_uid, domain) = (parts[0], parts[1], parts[2], parts[3]);
    prop_assert_eq!((domain, token_uid), (ENABLED, uid.as_str()), "{}", refresh);
    prop_assert!(url_safe(session_id, 22), "session id in {}", refresh);
    prop_assert!(url_safe(secret, 43), "secret in {}", refresh);
    let session_id = session_id.to_owned();
    // The access token's claims, as any JWT library would read them (the signature is the
    // verifier's concern).
    let claims: Value = access
        .split('.')
        .nth(1)
        .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null);
    prop_assert_eq!(
        &claims,
        &json!({"iss": ISSUER, "sub": uid, "aud": ENABLED, "client_id": TW_APP,
                "sid": session_id, "iat": NOW, "exp": NOW + ACCESS_TTL,
                "jti": claims["jti"].clone()}),
        "{}",
        access
    );
    prop_assert!(
        claims["jti"].as_str().is_some_and(|jti| url_safe(jti, 22)),
        "jti in {}",
        access
    );
    prop_assert_eq!(
        (
            data["accessToken"]["expirationTime"].as_u64(),
            data["refreshToken"]["expirationTime"].as_u64()
        ),
        (Some(NOW + ACCESS_TTL), Some(NOW + REFRESH_TTL))
    );

    let (access_hash, refresh_hash) = (sha256_hex(&[&access]), sha256_hex(&[&refresh]));
    prop_assert_eq!(tables.tokens.len(), 2, "two token items");
    let mut mccs = Vec::new();
    for (hash, kind, expires) in [
        (&access_hash, TokenKind::Access, NOW + ACCESS_TTL),
        (&refresh_hash, TokenKind::Refresh, NOW + REFRESH_TTL),
    ] {
        let item = tables
            .tokens
            .get(hash)
            .ok_or_else(|| fail(format!("no {kind:?} item under the token's SHA-256")))?;
        prop_assert_eq!(item.kind, kind);
        prop_assert_eq!(item.expiration_time, expires);
        let owner = &item.owner;
        prop_assert_eq!(
            (
                owner.uid.as_str(),
                owner.session_id.as_str(),
                owner.user_domain.as_str(),
                owner.app_id.as_str(),
                owner.twitter_user_id.as_str(),
                owner.twitter_username.as_deref(),
            ),
            (
                uid.as_str(),
                session_id.as_str(),
                ENABLED,
                TW_APP,
                USER_ID,
                Some(USERNAME)
            )
        );
        mccs.push(owner.mcc);
    }
    prop_assert_eq!(mccs[0], mccs[1], "both tokens carry the same mcc");

    prop_assert_eq!(tables.sessions.len(), 1, "one session");
    let session = tables
        .sessions
        .get(&(uid.clone(), session_id.clone()))
        .ok_or_else(|| fail("the session is not under (uid, sessionId)".into()))?;
    prop_assert!(session.revoked_reason.is_none());
    let record = &session.record;
    prop_assert_eq!(
        (
            record.app_id.as_str(),
            record.user_domain.as_str(),
            record.created_at,
            record.status,
            record.expiration_time,
        ),
        (
            TW_APP,
            ENABLED,
            NOW,
            SessionStatus::Active,
            NOW + SESSION_MAX
        )
    );
    prop_assert_eq!(
        (&record.access_token_hash, &record.refresh_token_hash),
        (&access_hash, &refresh_hash)
    );
    prop_assert!(record.previous_refresh_token_hash.is_none() && record.rotated_at.is_none());

    prop_assert_eq!(tables.users.len(), 1, "one user");
    let expected_user = User {
        uid: uid.clone(),
        user_domain: ENABLED.into(),
        twitter_user_id: USER_ID.into(),
        twitter_username: Some(USERNAME.into()),
        register_time: NOW,
        last_login_time: NOW,
        status: 1,
    };
    prop_assert_eq!(tables.users.get(&uid), Some(&expected_user));
    Ok(mccs[0])
}
