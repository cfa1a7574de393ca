//! The platform's JSON envelope, for success and failure alike, on every endpoint.

use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::error::ApiError;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a, T> {
    code: u32,
    msg: &'a str,
    ext_msg: &'a str,
    data: Option<&'a T>,
}

/// The body of an answer: `data` on success, `null` with the error's code on failure.
pub fn body<T: Serialize>(outcome: &Result<T, ApiError>) -> String {
    let envelope = match outcome {
        Ok(data) => Envelope {
            code: 200,
            msg: "success",
            ext_msg: "",
            data: Some(data),
        },
        Err(error) => Envelope {
            code: error.code(),
            msg: error.msg(),
            ext_msg: error.ext_msg(),
            data: None,
        },
    };
    // Serializing these plain structs cannot fail; keep a fixed body rather than a panic anyway.
    serde_json::to_string(&envelope).unwrap_or_else(|_| {
        r#"{"code":5000,"msg":"Internal error","extMsg":"","data":null}"#.to_owned()
    })
}

/// The answer to a request, whatever its outcome.
pub fn respond<T: Serialize>(outcome: &Result<T, ApiError>) -> Response<Body> {
    let status = match outcome {
        Ok(_) => StatusCode::OK,
        Err(error) => error.http_status(),
    };
    let mut response = Response::new(Body::Text(body(outcome)));
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
    use crate::endpoints::{Grant, GrantedToken};
    use crate::error::Rejection;
    use crate::secret::Secret;
    use serde_json::{Value, json};

    fn body_json(response: &Response<Body>) -> Value {
        match response.body() {
            Body::Text(text) => serde_json::from_str(text).expect("json"),
            other => panic!("unexpected body {other:?}"),
        }
    }

    #[test]
    fn success_carries_the_data() {
        let grant = Grant {
            access_token: GrantedToken {
                token: Secret::new("a"),
                expiration_time: 10,
            },
            refresh_token: GrantedToken {
                token: Secret::new("r"),
                expiration_time: 20,
            },
            uid: "u".into(),
            session_id: "s".into(),
        };
        let response = respond(&Ok(grant));
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(
            body_json(&response),
            json!({"code": 200, "msg": "success", "extMsg": "", "data": {
                "accessToken": {"token": "a", "expirationTime": 10},
                "refreshToken": {"token": "r", "expirationTime": 20},
                "uid": "u"}})
        );
    }

    #[test]
    fn failure_has_null_data_and_its_status() {
        let response = respond::<()>(&Err(ApiError::ParameterFormat("mcc")));
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(
            body_json(&response),
            json!({"code": 4001, "msg": "Parameter format incorrect", "extMsg": "mcc", "data": null})
        );
        let response = respond::<()>(&Err(Rejection::Reused.into()));
        assert_eq!(
            body_json(&response),
            json!({"code": 5032, "msg": "Token verification failed", "extMsg": "reused", "data": null})
        );
        let response = respond::<()>(&Err(ApiError::StoreUnavailable("timeout")));
        assert_eq!(response.status(), 503);
        assert_eq!(body_json(&response)["code"], 5001);
        assert_eq!(
            body_json(&response)["msg"],
            "Service temporarily unavailable"
        );
        assert_eq!(respond::<()>(&Err(ApiError::Internal("x"))).status(), 500);
    }
}
