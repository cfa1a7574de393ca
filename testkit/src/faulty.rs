//! A loopback HTTP server that stands in front of a real one (or alone) and misbehaves on
//! demand: the fault tests point the function's DynamoDB or Twitter client at it.

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
}

struct State {
    upstream: Option<String>,
    injection: Mutex<Option<Injection>>,
    requests: AtomicUsize,
    faulted: AtomicUsize,
    client: Client<HttpConnector, Full<Bytes>>,
}

pub struct FaultyServer {
    server: Server,
    state: Arc<State>,
}

impl FaultyServer {
    /// A server that always answers with `fault`.
    pub async fn start(fault: Fault) -> std::io::Result<FaultyServer> {
        let server = Self::launch(None).await?;
        server.inject(None, fault);
        Ok(server)
    }

    /// A pass-through proxy to `upstream` (for example the moto server) until a fault is injected.
    pub async fn proxy(upstream: &str) -> std::io::Result<FaultyServer> {
        Self::launch(Some(upstream.trim_end_matches('/').to_owned())).await
    }

    async fn launch(upstream: Option<String>) -> std::io::Result<FaultyServer> {
        let state = Arc::new(State {
            upstream,
            injection: Mutex::new(None),
            requests: AtomicUsize::new(0),
            faulted: AtomicUsize::new(0),
            client: Client::builder(TokioExecutor::new()).build_http(),
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
        });
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
    let injection = lock(&state.injection).clone();
    let fault = injection.and_then(|i| match &i.operation {
        Some(operation) if !target.ends_with(&format!(".{operation}")) => None,
        _ => Some(i.fault),
    });
    match (fault, &state.upstream) {
        (Some(fault), _) => {
            state.faulted.fetch_add(1, Ordering::SeqCst);
            misbehave(fault).await
        }
        (None, Some(upstream)) => forward(state, upstream, request).await,
        (None, None) => reply(500, "text/plain", "no fault and no upstream"),
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
    }
}

async fn forward(state: &State, upstream: &str, request: Request<Incoming>) -> Reply {
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return reply(502, "text/plain", "could not read the request");
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let Ok(uri) = format!("{upstream}{path}").parse::<hyper::Uri>() else {
        return reply(502, "text/plain", "bad upstream");
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
