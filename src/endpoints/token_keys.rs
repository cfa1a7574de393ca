//! `GET /.well-known/openid-configuration` and `GET /.well-known/jwks.json`, at the stage's
//! root, without the authorizer: what any service needs to verify the access tokens itself.
//! Plain JSON that caches may keep five minutes, not the envelope; 503 with the envelope 5001
//! when the keys cannot be read.

use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::access_token::ALGORITHM;
use crate::error::ApiError;
use crate::http::{Endpoint, Outcome, envelope};
use crate::invocation::Caller;
use crate::keys::PublicKeySet;
use crate::ports::KeyRing;

pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// What the discovery documents allow caches to do with them.
const CACHEABLE: &str = "public, max-age=300";

/// The claims every access token carries.
pub const CLAIMS: [&str; 8] = ["iss", "sub", "aud", "client_id", "sid", "iat", "exp", "jti"];

/// Serves the discovery document and the published keys.
pub struct TokenKeys<K> {
    keys: K,
    issuer: String,
}

/// A document served as it is.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Document(Value);

impl<K: KeyRing<PublicKeySet>> TokenKeys<K> {
    pub fn new(keys: K, issuer: impl Into<String>) -> Self {
        TokenKeys {
            keys,
            issuer: issuer.into(),
        }
    }

    /// The OpenID Provider metadata of the issuer, as far as access tokens go.
    pub fn discovery(&self) -> Document {
        Document(json!({
            "issuer": self.issuer,
            "jwks_uri": format!("{}{JWKS_PATH}", self.issuer),
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "claims_supported": CLAIMS,
        }))
    }

    /// Every published key: `current`, `next` and `previous`.
    pub async fn jwks(&self) -> Result<Document, ApiError> {
        let keys = self.keys.keys().await?;
        serde_json::to_value(keys.jwks())
            .map(Document)
            .map_err(|_| ApiError::Internal("the key set could not be written"))
    }
}

impl<K: KeyRing<PublicKeySet>> Endpoint for TokenKeys<K> {
    const OPERATION: &'static str = "tokenKeys";
    type Data = Document;

    async fn answer(&self, request: &Request) -> Outcome<Document> {
        let path = request.raw_http_path();
        let result = if path.ends_with(JWKS_PATH) {
            self.jwks().await
        } else if path.ends_with(DISCOVERY_PATH) {
            Ok(self.discovery())
        } else {
            // Deployed on a route it does not serve: the template's fault.
            Err(ApiError::Internal("no such discovery document"))
        };
        Outcome {
            result,
            caller: Caller::default(),
        }
    }

    fn respond(result: &Result<Document, ApiError>) -> Response<Body> {
        let Ok(document) = result else {
            return envelope::respond(result);
        };
        let mut response = Response::new(Body::Text(document.0.to_string()));
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(CACHEABLE));
        response
    }
}
