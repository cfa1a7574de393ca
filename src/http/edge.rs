//! Runs an [`Endpoint`] as a Lambda function: every payload gets the envelope, and the
//! invocation its log line and metric record.
//!
//! The event is converted here rather than inside `lambda_http::run`, because lambda_http's
//! conversion panics on some malformed events (raw spaces in a v2 query string, a bad Host,
//! body that is not base64...). Such a request answers 4001; a payload that is no API Gateway
//! event at all answers 5000.

use std::panic::{AssertUnwindSafe, catch_unwind};

use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use lambda_http::http::{HeaderMap, HeaderName, HeaderValue};
use lambda_http::lambda_runtime::{Context, Diagnostic};
use lambda_http::request::{LambdaRequest, RequestOrigin};
use lambda_http::{Body, Error, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::ApiError;
use crate::http::{Endpoint, Outcome};
use crate::invocation::deadline::DependencyTime;
use crate::invocation::{self, Answered, Caller, Handler, Invocation, Report};

/// Serves `endpoint` until the Lambda runtime stops.
pub async fn run<E: Endpoint>(endpoint: E) -> Result<(), Error> {
    invocation::serve(HttpFunction(endpoint)).await
}

/// An HTTP endpoint as the runtime drives it: the raw payload in, API Gateway's response out.
pub struct HttpFunction<E>(pub E);

impl<E: Endpoint> Handler for HttpFunction<E> {
    type Event = Box<RawValue>;
    type Response = ProxyResponse;

    async fn handle(
        &self,
        event: Box<RawValue>,
        invocation: &Invocation,
    ) -> Result<ProxyResponse, Diagnostic> {
        Ok(answer(&self.0, &event, invocation).await)
    }
}

/// What API Gateway gets back, in the shape of the event's kind.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ProxyResponse {
    V1(ApiGatewayProxyResponse),
    V2(ApiGatewayV2httpResponse),
}

/// One invocation with this Lambda context: the raw payload in, API Gateway's response out.
pub async fn invoke<E: Endpoint>(
    endpoint: &E,
    payload: &RawValue,
    context: Context,
) -> ProxyResponse {
    answer(endpoint, payload, &Invocation::new(context)).await
}

/// Converts the payload, answers it, and reports the outcome. Dependencies are bounded by the
/// invocation's deadline.
async fn answer<E: Endpoint>(
    endpoint: &E,
    payload: &RawValue,
    invocation: &Invocation,
) -> ProxyResponse {
    let refused = |error: ApiError| Outcome::<E::Data>::refused(error, Caller::default());
    let Ok(event) = serde_json::from_str::<LambdaRequest>(payload.get()) else {
        let outcome = refused(ApiError::Internal("payload is not an API Gateway event"));
        let response = respond::<E>(outcome, invocation, DependencyTime::default());
        return gateway_response(None, response);
    };
    let origin = event.request_origin();
    if has_raw_query_breaker(&event) {
        let outcome = refused(ApiError::ParameterFormat(""));
        let response = respond::<E>(outcome, invocation, DependencyTime::default());
        return gateway_response(Some(origin), response);
    }
    let repeated = repeated_headers(&event);
    let request = match catch_unwind(AssertUnwindSafe(|| Request::from(event))) {
        Ok(mut request) => {
            for (name, values) in repeated {
                request.headers_mut().remove(&name);
                for value in values {
                    request.headers_mut().append(name.clone(), value);
                }
            }
            request.with_lambda_context(invocation.context.clone())
        }
        Err(_) => {
            let outcome = refused(ApiError::ParameterFormat(""));
            let response = respond::<E>(outcome, invocation, DependencyTime::default());
            return gateway_response(Some(origin), response);
        }
    };
    let (outcome, time) = invocation.run(Box::pin(endpoint.answer(&request))).await;
    let response = respond::<E>(outcome, invocation, time);
    gateway_response(Some(origin), response)
}

/// An HTTP API query string with a character no client sends unencoded: a space, `"`, `<`,
/// `>`, `#`, a control or DEL. lambda_http panics on most of them, but not after a `#`, which
/// the URI parser takes for a fragment while the query map still reads on.
fn has_raw_query_breaker(event: &LambdaRequest) -> bool {
    let LambdaRequest::ApiGatewayV2(request) = event else {
        return false;
    };
    request.raw_query_string.as_deref().is_some_and(|query| {
        query
            .bytes()
            .any(|b| b <= b' ' || b == 0x7f || matches!(b, b'"' | b'<' | b'>' | b'#'))
    })
}

/// The headers a REST event carries more than once. lambda_http's conversion keeps only the
/// last value of such a header; an endpoint must see them all to refuse an ambiguous request.
fn repeated_headers(event: &LambdaRequest) -> Vec<(HeaderName, Vec<HeaderValue>)> {
    let LambdaRequest::ApiGatewayV1(proxy) = event else {
        return Vec::new();
    };
    let headers = &proxy.multi_value_headers;
    headers
        .keys()
        .filter(|name| headers.get_all(*name).iter().count() > 1)
        .map(|name| {
            (
                name.clone(),
                headers.get_all(name).iter().cloned().collect(),
            )
        })
        .collect()
}

/// The envelope of an endpoint's outcome, reported as the invocation's log line and metric
/// record.
pub fn respond<E: Endpoint>(
    outcome: Outcome<E::Data>,
    invocation: &Invocation,
    time: DependencyTime,
) -> Response<Body> {
    let response = E::respond(&outcome.result);
    let error = outcome.result.as_ref().err();
    invocation.report(&Report {
        operation: E::OPERATION,
        answered: Answered::Envelope {
            code: error.map_or(200, ApiError::code),
            status: response.status().as_u16(),
        },
        caller: &outcome.caller,
        error,
        time,
    });
    response
}

/// Puts a response in the shape API Gateway expects for the event's kind (REST when unknown).
fn gateway_response(origin: Option<RequestOrigin>, response: Response<Body>) -> ProxyResponse {
    let (parts, body) = response.into_parts();
    let (body, is_base64_encoded) = match body {
        Body::Empty => (None, false),
        Body::Text(text) => (Some(Body::Text(text)), false),
        Body::Binary(bytes) => (Some(Body::Binary(bytes)), true),
        _ => (None, false),
    };
    let status_code = i64::from(parts.status.as_u16());
    match origin {
        Some(RequestOrigin::ApiGatewayV2) => {
            let mut v2 = ApiGatewayV2httpResponse::default();
            v2.status_code = status_code;
            v2.headers = parts.headers;
            v2.body = body;
            v2.is_base64_encoded = is_base64_encoded;
            ProxyResponse::V2(v2)
        }
        _ => {
            let mut v1 = ApiGatewayProxyResponse::default();
            v1.status_code = status_code;
            // REST APIs merge both header fields; give each header once.
            v1.headers = HeaderMap::new();
            v1.multi_value_headers = parts.headers;
            v1.body = body;
            v1.is_base64_encoded = is_base64_encoded;
            ProxyResponse::V1(v1)
        }
    }
}
