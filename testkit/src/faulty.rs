//! A loopback HTTP server that stands in front of a real one (or alone) and misbehaves on
//! demand: the fault tests point the function's DynamoDB or Twitter client at it.
//!
//! In front of moto it also keeps DynamoDB's promise that moto does not: a `TransactWriteItems`
//! repeated with the same `ClientRequestToken` answers success without writing again. It
//! counts what every request does to each item ([`crate::traffic`]). And, when asked
//! ([`FaultyServer::one_at_a_time`]), a second one: moto runs concurrent requests on threads
//! with no lock, so two transactions can interleave (and one's rollback undo the other's
//! writes); passed on one at a time, each is atomic as DynamoDB's are.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::server::{Reply, Server, loopback_any_port, reply};
use crate::traffic::{ItemKey, ItemTraffic, Traffic};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status, content type and body.
    Answer {
        status: u16,
        content_type: String,
        body: String,
    },
    /// Read the request and never answer.
    Hang,
    /// Close the connection without an answer.
    Drop,
    /// Wait, then pass the request on.
    Delay(Duration),
    /// Pass the request on (so it takes effect), then close the connection without the answer.
    LoseAnswer,
    /// Pass the request on, then never answer.
    ForwardThenHang,
    /// Answer a `BatchGetItem` with every key unprocessed, as DynamoDB does under load.
    Unprocessed,
}

impl Fault {
    pub fn answer(status: u16, content_type: &str, body: &str) -> Fault {
        Fault::Answer {
            status,
            content_type: content_type.to_owned(),
            body: body.to_owned(),
        }
    }

    /// DynamoDB's JSON error form, for example `ThrottlingException` with 400.
    pub fn dynamodb_error(status: u16, type_name: &str) -> Fault {
        let body = format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{type_name}","message":"stand-in"}}"#
        );
        Fault::answer(status, "application/x-amz-json-1.0", &body)
    }
}

/// Which requests a fault hits: all, or only those whose `X-Amz-Target` ends with an operation
/// name (`BatchGetItem`, `TransactWriteItems`).
#[derive(Clone, Debug)]
struct Injection {
    operation: Option<String>,
    fault: Fault,
    /// How many of those requests pass before it hits.
    skip: usize,
    /// How many more requests it hits; `None` for all until healed.
    remaining: Option<usize>,
}

struct State {
    upstream: Option<String>,
    injection: Mutex<Option<Injection>>,
    requests: AtomicUsize,
    faulted: AtomicUsize,
    operations: Mutex<Vec<String>>,
    /// Transactions by ClientRequestToken, with their answers, for repeats.
    transactions: Mutex<HashMap<String, Transaction>>,
    tokens: Mutex<Vec<String>>,
    traffic: Mutex<Traffic>,
    client: Client<HttpConnector, Full<Bytes>>,
    /// Held while a request is with the upstream, when requests go one at a time.
    one_at_a_time: Option<tokio::sync::Mutex<()>>,
}

pub struct FaultyServer {
    server: Server,
    state: Arc<State>,
}

impl FaultyServer {
    /// A server that always answers with `fault`.
    pub async fn start(fault: Fault) -> std::io::Result<FaultyServer> {
        let server = Self::launch(None, false).await?;
        server.inject(None, fault);
        Ok(server)
    }

    /// A pass-through proxy to `upstream` (for example the moto server) until a fault is injected.
    pub async fn proxy(upstream: &str) -> std::io::Result<FaultyServer> {
        Self::launch(Some(upstream.trim_end_matches('/').to_owned()), false).await
    }

    /// A pass-through proxy that hands moto one request at a time, so that concurrent
    /// transactions are each atomic as DynamoDB's are.
    pub async fn one_at_a_time(upstream: &str) -> std::io::Result<FaultyServer> {
        Self::launch(Some(upstream.trim_end_matches('/').to_owned()), true).await
    }

    async fn launch(
        upstream: Option<String>,
        one_at_a_time: bool,
    ) -> std::io::Result<FaultyServer> {
        let state = Arc::new(State {
            upstream,
            injection: Mutex::new(None),
            requests: AtomicUsize::new(0),
            faulted: AtomicUsize::new(0),
            operations: Mutex::new(Vec::new()),
            transactions: Mutex::new(HashMap::new()),
            tokens: Mutex::new(Vec::new()),
            traffic: Mutex::new(Traffic::default()),
            client: Client::builder(TokioExecutor::new()).build_http(),
            one_at_a_time: one_at_a_time.then(|| tokio::sync::Mutex::new(())),
        });
        let shared = Arc::clone(&state);
        let server = Server::start(loopback_any_port(), move |request| {
            let state = Arc::clone(&shared);
            async move { handle(&state, request).await }
        })
        .await?;
        Ok(FaultyServer { server, state })
    }

    /// From now on, requests for `operation` (or all, with `None`) meet `fault`.
    pub fn inject(&self, operation: Option<&str>, fault: Fault) {
        *lock(&self.state.injection) = Some(Injection {
            operation: operation.map(str::to_owned),
            fault,
            skip: 0,
            remaining: None,
        });
    }

    /// The next `times` requests for `operation` meet `fault`; then everything passes again.
    pub fn inject_times(&self, operation: &str, fault: Fault, times: usize) {
        self.inject_after(operation, 0, fault, times);
    }

    /// After `skip` requests for `operation` pass, the next `times` meet `fault`.
    pub fn inject_after(&self, operation: &str, skip: usize, fault: Fault, times: usize) {
        *lock(&self.state.injection) = Some(Injection {
            operation: Some(operation.to_owned()),
            fault,
            skip,
            remaining: Some(times),
        });
    }

    /// The `ClientRequestToken` of every `TransactWriteItems` received, in order.
    pub fn transaction_tokens(&self) -> Vec<String> {
        lock(&self.state.tokens).clone()
    }

    /// Back to passing everything through.
    pub fn heal(&self) {
        *lock(&self.state.injection) = None;
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// The DynamoDB operation of every request so far, in order: `BatchGetItem`, ...
    pub fn operations(&self) -> Vec<String> {
        lock(&self.state.operations).clone()
    }

    /// Tells the proxy each table's key attributes, so that it can name the item a `Put`
    /// writes (`World::key_attributes`).
    pub fn set_key_attributes(&self, key_attributes: HashMap<String, Vec<String>>) {
        lock(&self.state.traffic).set_key_attributes(key_attributes);
    }

    /// What the requests received so far did to each item.
    pub fn item_traffic(&self) -> BTreeMap<ItemKey, ItemTraffic> {
        lock(&self.state.traffic).items().clone()
    }

    /// What the requests did to one item.
    pub fn traffic_of(&self, item: &ItemKey) -> ItemTraffic {
        lock(&self.state.traffic)
            .items()
            .get(item)
            .copied()
            .unwrap_or_default()
    }

    /// The counts so far, counting again from none.
    pub fn take_item_traffic(&self) -> BTreeMap<ItemKey, ItemTraffic> {
        lock(&self.state.traffic).take()
    }

    /// Requests that met the fault.
    pub fn faulted(&self) -> usize {
        self.state.faulted.load(Ordering::SeqCst)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn handle(state: &State, request: Request<Incoming>) -> Reply {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
    lock(&state.operations).push(operation.clone());
    let fault = {
        let mut injection = lock(&state.injection);
        let hit = injection.as_mut().and_then(|i| match &i.operation {
            Some(wanted) if *wanted != operation => None,
            _ if i.skip > 0 => {
                i.skip -= 1;
                None
            }
            _ => match &mut i.remaining {
                Some(0) => None,
                Some(left) => {
                    *left -= 1;
                    Some(i.fault.clone())
                }
                None => Some(i.fault.clone()),
            },
        });
        if injection.as_ref().is_some_and(|i| i.remaining == Some(0)) {
            *injection = None;
        }
        hit
    };
    let Some(upstream) = &state.upstream else {
        return match fault {
            Some(fault) => {
                state.faulted.fetch_add(1, Ordering::SeqCst);
                misbehave(fault).await
            }
            None => reply(500, "text/plain", "no fault and no upstream"),
        };
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return reply(502, "text/plain", "could not read the request");
    };
    let token = (operation == "TransactWriteItems")
        .then(|| serde_json::from_slice::<serde_json::Value>(&body).ok())
        .flatten()
        .and_then(|json| json["ClientRequestToken"].as_str().map(str::to_owned));
    if let Some(token) = &token {
        lock(&state.tokens).push(token.clone());
    }
    lock(&state.traffic).count(&operation, &body);
    let Some(fault) = fault else {
        return forward_keeping_promise(state, upstream, parts, body, token).await;
    };
    state.faulted.fetch_add(1, Ordering::SeqCst);
    match fault {
        Fault::Delay(pause) => {
            tokio::time::sleep(pause).await;
            forward_keeping_promise(state, upstream, parts, body, token).await
        }
        Fault::LoseAnswer => {
            let _ = forward_keeping_promise(state, upstream, parts, body, token).await;
            misbehave(Fault::Drop).await
        }
        Fault::ForwardThenHang => {
            let _ = forward_keeping_promise(state, upstream, parts, body, token).await;
            misbehave(Fault::Hang).await
        }
        Fault::Unprocessed => {
            let keys = serde_json::from_slice::<serde_json::Value>(&body)
                .map(|json| json["RequestItems"].clone())
                .unwrap_or_default();
            let answer = serde_json::json!({"Responses": {}, "UnprocessedKeys": keys});
            reply(200, "application/x-amz-json-1.0", answer.to_string())
        }
        other => misbehave(other).await,
    }
}

struct Transaction {
    request: Bytes,
    status: u16,
    answer: Bytes,
}

/// Forwards, and answers a repeated transaction token with the first answer instead, as
/// DynamoDB does within ten minutes (or refuses it, when the request differs).
async fn forward_keeping_promise(
    state: &State,
    upstream: &str,
    parts: hyper::http::request::Parts,
    body: Bytes,
    token: Option<String>,
) -> Reply {
    if let Some(token) = &token {
        let repeat = lock(&state.transactions)
            .get(token)
            .map(|t| (t.request == body, t.status, t.answer.clone()));
        match repeat {
            Some((true, status, answer)) => {
                return reply(status, "application/x-amz-json-1.0", answer);
            }
            Some((false, _, _)) => {
                return misbehave(Fault::dynamodb_error(
                    400,
                    "IdempotentParameterMismatchException",
                ))
                .await;
            }
            None => {}
        }
    }
    let request = body.clone();
    let answer = forward(state, upstream, parts, body).await;
    match token {
        Some(token) if answer.status().is_success() => {
            let (head, body) = answer.into_parts();
            let bytes = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            lock(&state.transactions).insert(
                token,
                Transaction {
                    request,
                    status: head.status.as_u16(),
                    answer: bytes.clone(),
                },
            );
            hyper::Response::from_parts(head, Full::new(bytes))
        }
        _ => answer,
    }
}

async fn misbehave(fault: Fault) -> Reply {
    match fault {
        Fault::Answer {
            status,
            content_type,
            body,
        } => reply(status, &content_type, body),
        Fault::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            reply(504, "text/plain", "")
        }
        // Panicking the connection task makes hyper close the socket without an answer.
        Fault::Drop => std::panic::resume_unwind(Box::new("dropping the connection")),
        // Without an upstream, faults that pass requests on have nowhere to send them.
        Fault::Delay(_) | Fault::LoseAnswer | Fault::ForwardThenHang | Fault::Unprocessed => {
            reply(500, "text/plain", "no upstream to pass the request to")
        }
    }
}

async fn forward(
    state: &State,
    upstream: &str,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Reply {
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let Ok(uri) = format!("{upstream}{path}").parse::<hyper::Uri>() else {
        return reply(502, "text/plain", "bad upstream");
    };
    let _turn = match &state.one_at_a_time {
        Some(turn) => Some(turn.lock().await),
        None => None,
    };
    let mut outgoing = Request::new(Full::new(body));
    *outgoing.method_mut() = parts.method;
    *outgoing.uri_mut() = uri;
    *outgoing.headers_mut() = parts.headers;
    match state.client.request(outgoing).await {
        Ok(response) => {
            let (parts, body) = response.into_parts();
            match body.collect().await {
                Ok(collected) => {
                    hyper::Response::from_parts(parts, Full::new(collected.to_bytes()))
                }
                Err(_) => reply(502, "text/plain", "upstream body failed"),
            }
        }
        Err(_) => reply(502, "text/plain", "upstream unreachable"),
    }
}
