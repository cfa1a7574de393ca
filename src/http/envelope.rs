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

/// Request faults answer 200 (clients read `code`); server-side faults answer 5xx so that
/// API Gateway metrics, alarms and client retries see them.
pub fn http_status(error: &ApiError) -> StatusCode {
    match error {
        ApiError::StoreUnavailable(_) | ApiError::TwitterUnavailable(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ApiError::Misprovisioned(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::OK,
    }
}

/// The answer to a request, whatever its outcome.
pub fn respond<T: Serialize>(outcome: &Result<T, ApiError>) -> Response<Body> {
    let status = match outcome {
        Ok(_) => StatusCode::OK,
        Err(error) => http_status(error),
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
    use crate::domain::grant::{Grant, GrantedToken};
    use crate::domain::secret::Secret;
    use crate::error::{Misprovision, Rejection};
    use serde_json::{Value, json};

    fn body_json(response: &Response<Body>) -> Value {
        match response.body() {
            Body::Text(text) => serde_json::from_str(text).expect("json"),
            other => panic!("unexpected body {other:?}"),
        }
    }

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(http_status(&ApiError::StoreUnavailable("x")), 503);
        assert_eq!(http_status(&ApiError::TwitterUnavailable("x")), 503);
        assert_eq!(http_status(&ApiError::Internal("x")), 500);
        let fault = Misprovision {
            item: "user domain C.DM.1".into(),
            attribute: "enabled".into(),
        };
        assert_eq!(http_status(&ApiError::Misprovisioned(fault.clone())), 500);
        assert_eq!(ApiError::Misprovisioned(fault).code(), 5000);
        assert_eq!(http_status(&ApiError::TwitterRejected("x")), 200);
        assert_eq!(http_status(&ApiError::SignatureMismatch), 200);
        assert_eq!(http_status(&ApiError::ParameterFormat("mcc")), 200);
        assert_eq!(
            http_status(&ApiError::TokenRejected(Rejection::Reused)),
            200
        );
        assert_eq!(http_status(&ApiError::UserNotFound), 200);
        assert_eq!(http_status(&ApiError::MissingToken), 200);
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
