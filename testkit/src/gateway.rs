//! A local API Gateway: serves every route of `template.yaml` on one loopback port as the
//! deployed REST API would. It turns each request into the proxy event the function gets, runs
//! the route's Lambda authorizer first (with its cache, keyed by the identity header), answers
//! the authorizer's refusals with the template's gateway responses, and passes the function's
//! answer back. Routes, authorizers, cache time and gateway responses are all read from the
//! template (`twitter_auth_admin::template`), never written a second time.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use twitter_auth_admin::template::{ApiSpec, GatewayResponseSpec, Route};

use crate::events::{ACCOUNT_ID, API_ID, single_and_multi};
use crate::server::{Reply, Server, reply};

/// The template's response for a gateway response type, or API Gateway's default.
pub fn gateway_response(api: &ApiSpec, kind: &str) -> GatewayResponseSpec {
    api.responses.get(kind).cloned().unwrap_or_else(|| {
        let (status, message) = match kind {
            "UNAUTHORIZED" => (401, json!("Unauthorized")),
            "ACCESS_DENIED" => (
                403,
                json!("User is not authorized to access this resource with an explicit deny"),
            ),
            "MISSING_AUTHENTICATION_TOKEN" => (403, json!("Missing Authentication Token")),
            "INTEGRATION_FAILURE" => (502, json!("Internal server error")),
            _ => (500, Value::Null),
        };
        GatewayResponseSpec {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: json!({ "message": message }).to_string(),
        }
    })
}

/// Why an invocation gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeError {
    /// The function ran and failed, as Lambda reports it.
    Function { error_type: String, message: String },
    /// The function could not be reached or answered nonsense.
    Unreachable(String),
}

pub type Invoked<'a> = Pin<Box<dyn Future<Output = Result<Value, InvokeError>> + Send + 'a>>;

/// Runs a function by its binary's name, with a payload, as Lambda's Invoke does.
pub trait Invoke: Send + Sync + 'static {
    fn invoke<'a>(&'a self, function: &'a str, payload: Value) -> Invoked<'a>;
}

/// The functions as `cargo lambda watch` serves them: its Invoke API at `base`.
pub struct LambdaInvoke {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl LambdaInvoke {
    pub fn new(base: &str) -> LambdaInvoke {
        LambdaInvoke {
            base: base.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }
}

impl Invoke for LambdaInvoke {
    fn invoke<'a>(&'a self, function: &'a str, payload: Value) -> Invoked<'a> {
        Box::pin(async move {
            let url = format!("{}/2015-03-31/functions/{function}/invocations", self.base);
            let request = hyper::Request::post(url)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(payload.to_string())))
                .map_err(|e| InvokeError::Unreachable(e.to_string()))?;
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| InvokeError::Unreachable(e.to_string()))?;
            let failed = !response.status().is_success()
                || response.headers().contains_key("x-amz-function-error");
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| InvokeError::Unreachable(e.to_string()))?
                .to_bytes();
            let json: Value = serde_json::from_slice(&body)
                .map_err(|_| InvokeError::Unreachable("the answer is not JSON".into()))?;
            if failed {
                return Err(InvokeError::Function {
                    error_type: json["errorType"].as_str().unwrap_or_default().to_owned(),
                    message: json["errorMessage"].as_str().unwrap_or_default().to_owned(),
                });
            }
            Ok(json)
        })
    }
}

/// What the gateway did with each request, for tests and the local run's log.
#[derive(Debug, Default)]
pub struct Counters {
    pub authorizer_calls: AtomicUsize,
    pub cache_hits: AtomicUsize,
}

struct State {
    api: ApiSpec,
    invoker: Arc<dyn Invoke>,
    cache: Mutex<HashMap<String, (Instant, Value)>>,
    counters: Arc<Counters>,
    log: bool,
}

/// A running local API; it stops when dropped.
pub struct Gateway {
    server: Server,
    stage: String,
    counters: Arc<Counters>,
}

impl Gateway {
    /// Serves `api` on `addr`, invoking functions through `invoker`. With `log`, one line per
    /// request on standard error.
    pub async fn start(
        addr: SocketAddr,
        api: ApiSpec,
        invoker: Arc<dyn Invoke>,
        log: bool,
    ) -> std::io::Result<Gateway> {
        let stage = api.stage.clone();
        let counters = Arc::new(Counters::default());
        let state = Arc::new(State {
            api,
            invoker,
            cache: Mutex::new(HashMap::new()),
            counters: Arc::clone(&counters),
            log,
        });
        let server = Server::start(addr, move |request| {
            let state = Arc::clone(&state);
            async move { handle(&state, request).await }
        })
        .await?;
        Ok(Gateway {
            server,
            stage,
            counters,
        })
    }

    /// The stage's base URL, as the stack's `ApiBaseUrl` output gives it when deployed.
    pub fn url(&self) -> String {
        format!("{}/{}", self.server.url(), self.stage)
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn handle(state: &State, request: Request<Incoming>) -> Reply {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let (answer, note) = route(state, request).await;
    if state.log {
        eprintln!("{method} {path} -> {} ({note})", answer.status().as_u16());
    }
    answer
}

/// The answer, and a note on how it came about for the log.
async fn route(state: &State, request: Request<Incoming>) -> (Reply, &'static str) {
    let api = &state.api;
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_ascii_uppercase();
    let stage_prefix = format!("/{}", api.stage);
    let resource = parts.uri.path().strip_prefix(&stage_prefix).unwrap_or("");
    let Some((route, path_parameters)) = api
        .routes
        .iter()
        .filter(|r| r.method == method)
        .find_map(|r| path_match(&r.path, resource).map(|parameters| (r, parameters)))
    else {
        return (
            gateway_reply(&gateway_response(api, "MISSING_AUTHENTICATION_TOKEN")),
            "no such route",
        );
    };
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return (reply(400, "text/plain", "unreadable body"), "bad request");
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in &parts.headers {
        if let Ok(value) = value.to_str() {
            headers.push((name.as_str().to_owned(), value.to_owned()));
        }
    }
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let request_id = crate::invoke::fresh_request_id();
    let method_arn = format!(
        "arn:aws:execute-api:us-east-1:{ACCOUNT_ID}:{API_ID}/{}/{method}{resource}",
        api.stage
    );
    let request = Routed {
        method: &method,
        route,
        path: resource,
        path_parameters: &path_parameters,
        headers: &headers,
        query: &query,
        stage: &api.stage,
        request_id: &request_id,
    };

    let mut context = None;
    let mut note = "passed through";
    if let Some(name) = &route.authorizer {
        let Some(spec) = api.authorizers.get(name) else {
            return (
                gateway_reply(&gateway_response(api, "AUTHORIZER_CONFIGURATION_ERROR")),
                "unknown authorizer",
            );
        };
        let identity = headers
            .iter()
            .find(|(n, _)| *n == spec.header)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty());
        // Without its identity source, API Gateway refuses without asking the authorizer.
        let Some(identity) = identity else {
            return (
                gateway_reply(&gateway_response(api, "UNAUTHORIZED")),
                "no identity",
            );
        };
        let cached = lock(&state.cache)
            .get(&identity)
            .filter(|(until, _)| Instant::now() < *until)
            .map(|(_, policy)| policy.clone());
        let policy = match cached {
            Some(policy) => {
                state.counters.cache_hits.fetch_add(1, Ordering::SeqCst);
                note = "authorizer answer from cache";
                policy
            }
            None => {
                state
                    .counters
                    .authorizer_calls
                    .fetch_add(1, Ordering::SeqCst);
                note = "authorizer asked";
                let event = authorizer_event(&request, &method_arn);
                match state.invoker.invoke(&spec.function, event).await {
                    Ok(policy) => {
                        if !spec.cache.is_zero() {
                            lock(&state.cache)
                                .insert(identity, (Instant::now() + spec.cache, policy.clone()));
                        }
                        policy
                    }
                    Err(InvokeError::Function { message, .. }) if message == "Unauthorized" => {
                        return (
                            gateway_reply(&gateway_response(api, "UNAUTHORIZED")),
                            "unauthorized",
                        );
                    }
                    Err(_) => {
                        return (
                            gateway_reply(&gateway_response(api, "AUTHORIZER_CONFIGURATION_ERROR")),
                            "authorizer failed",
                        );
                    }
                }
            }
        };
        if !allows(&policy, &method_arn) {
            return (
                gateway_reply(&gateway_response(api, "ACCESS_DENIED")),
                "denied",
            );
        }
        let mut fields = policy["context"].as_object().cloned().unwrap_or_default();
        fields.insert("principalId".into(), policy["principalId"].clone());
        context = Some(Value::Object(fields));
    }

    let event = proxy_event(&request, &body, context);
    match state.invoker.invoke(&route.function, event).await {
        Ok(response) => (function_reply(&response), note),
        Err(_) => (
            gateway_reply(&gateway_response(api, "INTEGRATION_FAILURE")),
            "function failed",
        ),
    }
}

/// A policy allows `arn` when an Allow statement covers it and no Deny does.
fn allows(policy: &Value, arn: &str) -> bool {
    let statements = policy["policyDocument"]["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let covers = |statement: &Value| {
        let listed = |field: &str| -> Vec<String> {
            match &statement[field] {
                Value::String(s) => vec![s.clone()],
                Value::Array(values) => values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            }
        };
        listed("Action")
            .iter()
            .any(|a| matches!(a.as_str(), "execute-api:Invoke" | "execute-api:*" | "*"))
            && listed("Resource").iter().any(|r| wildcard_match(r, arn))
    };
    let effect = |s: &Value| s["Effect"].as_str().unwrap_or_default().to_owned();
    !statements.iter().any(|s| effect(s) == "Deny" && covers(s))
        && statements.iter().any(|s| effect(s) == "Allow" && covers(s))
}

/// IAM's wildcard: `*` matches any run of characters.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(text) = text.strip_prefix(head) else {
                return false;
            };
            (0..=text.len())
                .filter(|i| text.is_char_boundary(*i))
                .any(|i| wildcard_match(rest, &text[i..]))
        }
    }
}

/// The path parameters of `path` when it is one of the route `template`'s paths: `{name}`
/// stands for one non-empty segment, percent-decoded as API Gateway passes it.
fn path_match(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let (template, path): (Vec<&str>, Vec<&str>) =
        (template.split('/').collect(), path.split('/').collect());
    if template.len() != path.len() {
        return None;
    }
    let mut parameters = Vec::new();
    for (expected, segment) in template.iter().zip(path) {
        match expected.strip_prefix('{').and_then(|e| e.strip_suffix('}')) {
            Some(name) if !segment.is_empty() => {
                let value = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
                parameters.push((name.to_owned(), value.into_owned()));
            }
            None if *expected == segment => {}
            _ => return None,
        }
    }
    Some(parameters)
}

/// One request as the gateway routed it: what both events are made of.
struct Routed<'a> {
    method: &'a str,
    route: &'a Route,
    /// The path within the stage.
    path: &'a str,
    path_parameters: &'a [(String, String)],
    headers: &'a [(String, String)],
    query: &'a [(String, String)],
    stage: &'a str,
    request_id: &'a str,
}

impl Routed<'_> {
    fn path_parameters(&self) -> Value {
        single_and_multi(self.path_parameters).0
    }
}

fn authorizer_event(request: &Routed<'_>, method_arn: &str) -> Value {
    let (single_headers, multi_headers) = single_and_multi(request.headers);
    let (single_query, multi_query) = single_and_multi(request.query);
    json!({
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": request.route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": request.path_parameters(),
        "stageVariables": {},
        "requestContext": {
            "path": format!("/{}{}", request.stage, request.path),
            "accountId": ACCOUNT_ID,
            "resourceId": "local",
            "stage": request.stage,
            "requestId": request.request_id,
            "identity": {"sourceIp": "127.0.0.1"},
            "resourcePath": request.route.path,
            "httpMethod": request.method,
            "apiId": API_ID
        }
    })
}

fn proxy_event(request: &Routed<'_>, body: &[u8], authorizer: Option<Value>) -> Value {
    let (single_headers, multi_headers) = single_and_multi(request.headers);
    let (single_query, multi_query) = single_and_multi(request.query);
    let (body, is_base64_encoded) = if body.is_empty() {
        (Value::Null, false)
    } else {
        match std::str::from_utf8(body) {
            Ok(text) => (Value::String(text.to_owned()), false),
            Err(_) => (Value::String(STANDARD.encode(body)), true),
        }
    };
    let mut context = json!({
        "accountId": ACCOUNT_ID,
        "resourceId": "local",
        "stage": request.stage,
        "requestId": request.request_id,
        "identity": {"sourceIp": "127.0.0.1"},
        "resourcePath": request.route.path,
        "httpMethod": request.method,
        "apiId": API_ID,
        "path": format!("/{}{}", request.stage, request.path),
        "protocol": "HTTP/1.1"
    });
    if let Some(authorizer) = authorizer {
        context["authorizer"] = authorizer;
    }
    json!({
        "resource": request.route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": request.path_parameters(),
        "stageVariables": null,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64_encoded
    })
}

fn gateway_reply(response: &GatewayResponseSpec) -> Reply {
    let mut answer = reply(response.status, "application/json", response.body.clone());
    for (name, value) in &response.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            answer.headers_mut().insert(name, value);
        }
    }
    answer
}

/// The function's proxy response as HTTP.
fn function_reply(response: &Value) -> Reply {
    let status = response["statusCode"].as_u64().unwrap_or(502) as u16;
    let text = response["body"].as_str().unwrap_or_default();
    let body = if response["isBase64Encoded"].as_bool() == Some(true) {
        STANDARD.decode(text).unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    };
    let mut answer = reply(status, "application/json", body);
    answer.headers_mut().remove(hyper::header::CONTENT_TYPE);
    for field in ["headers", "multiValueHeaders"] {
        let Some(headers) = response[field].as_object() else {
            continue;
        };
        for (name, value) in headers {
            let values: Vec<&str> = match value {
                Value::Array(values) => values.iter().filter_map(Value::as_str).collect(),
                other => other.as_str().into_iter().collect(),
            };
            for value in values {
                if let (Ok(name), Ok(value)) = (
                    hyper::header::HeaderName::from_bytes(name.as_bytes()),
                    hyper::header::HeaderValue::from_str(value),
                ) {
                    answer.headers_mut().insert(name, value);
                }
            }
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use twitter_auth_admin::template::Template;

    #[test]
    fn refusals_answer_the_templates_gateway_responses() {
        let api = Template::shipped().api(&HashMap::new()).expect("api");
        let unauthorized = gateway_response(&api, "UNAUTHORIZED");
        assert_eq!(unauthorized.status, 200);
        assert_eq!(
            serde_json::from_str::<Value>(&unauthorized.body).expect("json"),
            json!({"code": 5032, "msg": "Token verification failed", "extMsg": "", "data": null})
        );
        assert!(
            unauthorized
                .headers
                .contains(&("Content-Type".to_owned(), "application/json".to_owned()))
        );
        assert_eq!(gateway_response(&api, "ACCESS_DENIED"), unauthorized);
        for failure in ["AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"] {
            let response = gateway_response(&api, failure);
            assert_eq!(response.status, 503);
            assert_eq!(
                serde_json::from_str::<Value>(&response.body).expect("json")["code"],
                5001
            );
        }
        assert_eq!(
            gateway_response(&api, "MISSING_AUTHENTICATION_TOKEN").status,
            403
        );
    }

    #[test]
    fn paths_match_routes_with_parameters() {
        let route = "/v2/x/sessions/{sessionId}";
        assert_eq!(
            path_match(route, "/v2/x/sessions/abc%2Fd"),
            Some(vec![("sessionId".to_owned(), "abc/d".to_owned())])
        );
        assert_eq!(path_match(route, "/v2/x/sessions/"), None);
        assert_eq!(path_match(route, "/v2/x/sessions"), None);
        assert_eq!(path_match(route, "/v2/x/sessions/a/b"), None);
        assert_eq!(path_match("/v2/x/sessions", "/v2/x/sessions"), Some(vec![]));
        assert_eq!(path_match("/v2/x/sessions", "/v2/x/session"), None);
    }

    #[test]
    fn policies_are_read_as_iam_reads_them() {
        let arn = "arn:aws:execute-api:us-east-1:1:api/prod/GET/v2/x";
        let policy = |effect: &str, resource: &str| {
            json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": ["execute-api:Invoke"], "Effect": effect, "Resource": [resource]}]}})
        };
        assert!(allows(
            &policy("Allow", "arn:aws:execute-api:us-east-1:1:api/prod/*/*"),
            arn
        ));
        assert!(allows(&policy("Allow", arn), arn));
        assert!(!allows(
            &policy("Allow", "arn:aws:execute-api:us-east-1:1:api/test/*/*"),
            arn
        ));
        assert!(!allows(
            &policy("Deny", "arn:aws:execute-api:us-east-1:1:api/prod/*/*"),
            arn
        ));
        assert!(!allows(&json!({}), arn));
        assert!(wildcard_match("a*c*e", "abcde"));
        assert!(!wildcard_match("a*c", "abcd"));
    }
}
