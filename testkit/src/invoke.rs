//! Invoking the functions as Lambda would, from a test: an event in, the status and envelope
//! (or the authorizer's policy) out; and reading the tokens an answer granted.

use std::collections::HashMap;
use std::time::Duration;

use lambda_http::lambda_runtime::{Context, Diagnostic};
use serde_json::Value;
use twitter_auth_login::domain::token::random_hex;
use twitter_auth_login::endpoints::authorizer::Authorizer;
use twitter_auth_login::http::{Endpoint, edge};
use twitter_auth_login::invocation::{Handler, Invocation};
use twitter_auth_login::keys::PublicKeySet;
use twitter_auth_login::ports::{KeyRing, TokenReader};

use crate::events::REQUEST_ID;

/// The tokens a login or refresh answered.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub uid: String,
    pub access_expires: u64,
    pub refresh_expires: u64,
}

impl Tokens {
    /// From a success envelope; panics (failing the test) on anything else.
    pub fn from_answer(status: u16, body: &Value) -> Tokens {
        assert_eq!((status, body["code"].as_u64()), (200, Some(200)), "{body}");
        let text = |pointer: &str| {
            body.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{pointer} in {body}"))
                .to_owned()
        };
        let number = |pointer: &str| {
            body.pointer(pointer)
                .and_then(Value::as_u64)
                .unwrap_or_else(|| panic!("{pointer} in {body}"))
        };
        Tokens {
            access: text("/data/accessToken/token"),
            refresh: text("/data/refreshToken/token"),
            uid: text("/data/uid"),
            access_expires: number("/data/accessToken/expirationTime"),
            refresh_expires: number("/data/refreshToken/expirationTime"),
        }
    }

    /// The session id in front of the (opaque) refresh token.
    pub fn session_id(&self) -> String {
        self.refresh
            .rsplit('.')
            .nth(1)
            .expect("a refresh token carries its session id")
            .to_owned()
    }
}

/// The invocation context the tests give: a request id, no deadline.
pub fn context() -> Context {
    let mut context = Context::default();
    context.request_id = REQUEST_ID.to_owned();
    context
}

/// Invokes an HTTP function with a raw event, as Lambda would: the status and the envelope.
pub async fn call<E: Endpoint>(endpoint: &E, event: &str) -> (u16, Value) {
    call_before(endpoint, event, None).await
}

/// The same, as an invocation whose Lambda deadline is `deadline` from now.
pub async fn call_before<E: Endpoint>(
    endpoint: &E,
    event: &str,
    deadline: Option<Duration>,
) -> (u16, Value) {
    let mut context = context();
    if let Some(deadline) = deadline {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock");
        context.deadline = (now + deadline).as_millis() as u64;
    }
    let (status, headers, body) = invoke_whole(endpoint, event, context).await;
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some("application/json"),
        "{body}"
    );
    (status, body)
}

/// Invokes an HTTP function with a raw event: status, headers (lowercase names) and body.
pub async fn call_whole<E: Endpoint>(
    endpoint: &E,
    event: &str,
) -> (u16, HashMap<String, String>, Value) {
    invoke_whole(endpoint, event, context()).await
}

async fn invoke_whole<E: Endpoint>(
    endpoint: &E,
    event: &str,
    context: Context,
) -> (u16, HashMap<String, String>, Value) {
    let payload = serde_json::value::RawValue::from_string(event.to_owned()).expect("raw json");
    let response = edge::invoke(endpoint, &payload, context).await;
    let response = serde_json::to_value(&response).expect("response json");
    let status = response["statusCode"].as_u64().expect("statusCode") as u16;
    let mut headers = HashMap::new();
    for field in ["headers", "multiValueHeaders"] {
        if let Some(map) = response[field].as_object() {
            for (name, value) in map {
                let value = match value {
                    Value::Array(values) => values.first().and_then(Value::as_str),
                    other => other.as_str(),
                };
                if let Some(value) = value {
                    headers.insert(name.to_ascii_lowercase(), value.to_owned());
                }
            }
        }
    }
    let body = response["body"]
        .as_str()
        .map(|text| serde_json::from_str(text).expect("json body"))
        .unwrap_or(Value::Null);
    (status, headers, body)
}

/// Asks the authorizer about an event: its policy as JSON, or its error.
pub async fn authorize<S: TokenReader + Sync, K: KeyRing<PublicKeySet>>(
    authorizer: &Authorizer<S, K>,
    event: Value,
) -> Result<Value, Diagnostic> {
    let event = serde_json::from_value(event).expect("authorizer event");
    authorizer
        .handle(event, &Invocation::new(context()))
        .await
        .map(|response| serde_json::to_value(response).expect("policy json"))
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A request id as API Gateway would make one.
pub fn fresh_request_id() -> String {
    random_hex::<16>().unwrap_or_default()
}
