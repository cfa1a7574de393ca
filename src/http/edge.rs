//! Runs an [`Endpoint`] as a Lambda function: every payload gets the envelope, one log line
//! with the request id, and one metric record.
//!
//! The event is converted here rather than inside `lambda_http::run`, because lambda_http's
//! conversion panics on some malformed events (raw spaces in a v2 query string, a bad Host,
//! body that is not base64...). Such a request answers 4001; a payload that is no API Gateway
//! event at all answers 5000.

use std::convert::Infallible;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use lambda_http::http::{HeaderMap, HeaderName, HeaderValue};
use lambda_http::lambda_runtime::{self, Context, LambdaEvent};
use lambda_http::request::{LambdaRequest, RequestOrigin};
use lambda_http::{Body, BoxFuture, Error, Request, RequestExt, Response, service_fn};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::{ApiError, Rejection};
use crate::http::{Answer, Endpoint, Subject, envelope};
use crate::metrics;
use crate::scope::{self, Spent};

/// Serves `endpoint` until the Lambda runtime stops.
pub async fn run<E: Endpoint>(endpoint: E) -> Result<(), Error> {
    let endpoint = &endpoint;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        // Boxed: the nested futures' types are otherwise too deep for the compiler's limit.
        let answer: BoxFuture<'_, GatewayResponse> =
            Box::pin(async move { invoke(endpoint, &event.payload, event.context).await });
        async move { Ok::<_, Infallible>(answer.await) }
    }))
    .await
}

/// What API Gateway gets back, in the shape of the event's kind.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum GatewayResponse {
    V1(ApiGatewayProxyResponse),
    V2(ApiGatewayV2httpResponse),
}

/// One invocation: the raw payload in, API Gateway's response out. Dependencies are bounded
/// by the invocation's deadline.
pub async fn invoke<E: Endpoint>(
    endpoint: &E,
    payload: &RawValue,
    context: Context,
) -> GatewayResponse {
    let started = Instant::now();
    let request_id = context.request_id.clone();
    let deadline = scope::deadline_from_lambda(context.deadline);
    let Ok(event) = serde_json::from_str::<LambdaRequest>(payload.get()) else {
        let answer = Answer::<E::Data>::refused(
            ApiError::Internal("payload is not an API Gateway event"),
            Subject::default(),
        );
        let response = finish::<E>(answer, &request_id, started, Spent::default());
        return gateway_response(None, response);
    };
    let origin = event.request_origin();
    if has_raw_query_breaker(&event) {
        let answer = Answer::<E::Data>::refused(ApiError::ParameterFormat(""), Subject::default());
        let response = finish::<E>(answer, &request_id, started, Spent::default());
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
            request.with_lambda_context(context)
        }
        Err(_) => {
            let answer =
                Answer::<E::Data>::refused(ApiError::ParameterFormat(""), Subject::default());
            let response = finish::<E>(answer, &request_id, started, Spent::default());
            return gateway_response(Some(origin), response);
        }
    };
    let (answer, spent) = scope::run(deadline, Box::pin(endpoint.answer(&request))).await;
    let response = finish::<E>(answer, &request_id, started, spent);
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

/// Answers one converted request. Never fails: every outcome is an envelope.
pub async fn handle<E: Endpoint>(endpoint: &E, request: Request) -> Response<Body> {
    let started = Instant::now();
    let context = request.lambda_context_ref();
    let request_id = context.map(|c| c.request_id.clone()).unwrap_or_default();
    let deadline = context.and_then(|c| scope::deadline_from_lambda(c.deadline));
    let (answer, spent) = scope::run(deadline, Box::pin(endpoint.answer(&request))).await;
    finish::<E>(answer, &request_id, started, spent)
}

/// The envelope of an answer, its log line and its metric record.
fn finish<E: Endpoint>(
    answer: Answer<E::Data>,
    request_id: &str,
    started: Instant,
    spent: Spent,
) -> Response<Body> {
    let response = envelope::respond(&answer.outcome);
    let error = answer.outcome.as_ref().err();
    let misprovision = match error {
        Some(ApiError::Misprovisioned(fault)) => Some(fault),
        _ => None,
    };
    let code = error.map_or(200, ApiError::code);
    let latency = started.elapsed();
    let subject = &answer.subject;
    // Only names and ids are logged: never a token, hash, secret or signature.
    tracing::info!(
        request_id,
        code,
        status = response.status().as_u16(),
        latency_us = latency.as_micros() as u64,
        dynamodb_us = spent.dynamodb.as_micros() as u64,
        twitter_us = spent.twitter.as_micros() as u64,
        user_domain = subject.user_domain.as_deref().unwrap_or(""),
        app_id = subject.app_id.as_deref().unwrap_or(""),
        uid = subject.uid.as_deref().unwrap_or(""),
        session_id = subject.session_id.as_deref().unwrap_or(""),
        detail = error.map_or("", ApiError::detail),
        item = misprovision.map_or("", |m| m.item.as_str()),
        attribute = misprovision.map_or("", |m| m.attribute.as_str()),
        "{}",
        E::OPERATION
    );
    metrics::emit(&metrics::Record {
        operation: E::OPERATION,
        outcome: &code.to_string(),
        latency,
        spent,
        reuse_detected: error == Some(&ApiError::TokenRejected(Rejection::Reused)),
    });
    response
}

/// Puts a response in the shape API Gateway expects for the event's kind (REST when unknown).
fn gateway_response(origin: Option<RequestOrigin>, response: Response<Body>) -> GatewayResponse {
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
            GatewayResponse::V2(v2)
        }
        _ => {
            let mut v1 = ApiGatewayProxyResponse::default();
            v1.status_code = status_code;
            // REST APIs merge both header fields; give each header once.
            v1.headers = HeaderMap::new();
            v1.multi_value_headers = parts.headers;
            v1.body = body;
            v1.is_base64_encoded = is_base64_encoded;
            GatewayResponse::V1(v1)
        }
    }
}
