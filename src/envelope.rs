//! The platform's JSON envelope, for success and failure alike.

use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::error::LoginError;
use crate::login::{Grant, GrantedToken};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    code: u32,
    msg: &'a str,
    ext_msg: &'a str,
    data: Option<TokenData<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenData<'a> {
    access_token: TokenJson<'a>,
    refresh_token: TokenJson<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenJson<'a> {
    token: &'a str,
    expiration_time: u64,
}

impl<'a> From<&'a GrantedToken> for TokenJson<'a> {
    fn from(granted: &'a GrantedToken) -> Self {
        TokenJson {
            token: granted.token.expose(),
            expiration_time: granted.expiration_time,
        }
    }
}

/// The answer to a login, whatever its outcome.
pub fn respond(outcome: &Result<Grant, LoginError>) -> Response<Body> {
    let (status, envelope) = match outcome {
        Ok(grant) => (
            StatusCode::OK,
            Envelope {
                code: 200,
                msg: "success",
                ext_msg: "",
                data: Some(TokenData {
                    access_token: (&grant.access_token).into(),
                    refresh_token: (&grant.refresh_token).into(),
                }),
            },
        ),
        Err(error) => (
            error.http_status(),
            Envelope {
                code: error.code(),
                msg: error.msg(),
                ext_msg: error.ext_msg(),
                data: None,
            },
        ),
    };
    // Serializing these plain structs cannot fail; keep a fixed body rather than a panic anyway.
    let body = serde_json::to_string(&envelope).unwrap_or_else(|_| {
        r#"{"code":5000,"msg":"Internal error","extMsg":"","data":null}"#.to_owned()
    });
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // Tokens must not sit in any cache (RFC 6749 5.1); failures are not worth caching either.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use serde_json::{Value, json};

    fn body_json(response: &Response<Body>) -> Value {
        match response.body() {
            Body::Text(text) => serde_json::from_str(text).expect("json"),
            other => panic!("unexpected body {other:?}"),
        }
    }

    #[test]
    fn success_carries_both_tokens() {
        let grant = Grant {
            access_token: GrantedToken {
                token: Secret::new("a"),
                expiration_time: 10,
            },
            refresh_token: GrantedToken {
                token: Secret::new("r"),
                expiration_time: 20,
            },
        };
        let response = respond(&Ok(grant));
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(
            body_json(&response),
            json!({"code": 200, "msg": "success", "extMsg": "", "data": {
                "accessToken": {"token": "a", "expirationTime": 10},
                "refreshToken": {"token": "r", "expirationTime": 20}}})
        );
    }

    #[test]
    fn failure_has_null_data_and_its_status() {
        let response = respond(&Err(LoginError::ParameterFormat("mcc")));
        assert_eq!(response.status(), 200);
        assert_eq!(
            body_json(&response),
            json!({"code": 4001, "msg": "Parameter format incorrect", "extMsg": "mcc", "data": null})
        );
        let response = respond(&Err(LoginError::StoreUnavailable("timeout")));
        assert_eq!(response.status(), 503);
        assert_eq!(body_json(&response)["code"], 5001);
        assert_eq!(
            body_json(&response)["msg"],
            "Service temporarily unavailable"
        );
        assert_eq!(respond(&Err(LoginError::Internal("x"))).status(), 500);
    }
}
