//! A Lambda runtime API emulator (the `2018-06-01` interface a custom runtime polls), enough
//! for the benchmarks and the start-up tests: it hands out queued invocations on `GET /runtime/invocation/next`,
//! collects `POST /runtime/invocation/{id}/response` and `.../error`, and records when each
//! request arrived, so that cold starts can be timed from the outside.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

const PREFIX: &str = "/2018-06-01/runtime";
/// What a real deployment's invocations get as their deadline (template.yaml's Timeout).
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);

/// The ARN Lambda would give a function of this name.
pub fn function_arn(function_name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}")
}

/// One event waiting for the function.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub request_id: String,
    pub event: Bytes,
}

/// What the function posted back, and when.
#[derive(Debug)]
pub enum Outcome {
    Response {
        request_id: String,
        at: Instant,
        /// From handing the event out on `/next` to this answer.
        service_time: Duration,
        body: Bytes,
    },
    Error {
        request_id: String,
        at: Instant,
        body: Bytes,
    },
    InitError {
        at: Instant,
        body: Bytes,
    },
}

impl Outcome {
    pub fn at(&self) -> Instant {
        match self {
            Outcome::Response { at, .. }
            | Outcome::Error { at, .. }
            | Outcome::InitError { at, .. } => *at,
        }
    }
}

struct State {
    queue: Mutex<VecDeque<Invocation>>,
    queued: Notify,
    first_next: OnceLock<Instant>,
    handed_out: Mutex<HashMap<String, Instant>>,
    outcomes: mpsc::UnboundedSender<Outcome>,
    function_arn: String,
}

/// A running emulator; it stops when dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl RuntimeApi {
    /// Starts on a free loopback port for the function `function_name`; the receiver gets every
    /// outcome in arrival order.
    pub async fn start(
        function_name: &str,
    ) -> std::io::Result<(RuntimeApi, mpsc::UnboundedReceiver<Outcome>)> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let (outcomes, receiver) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            queue: Mutex::new(VecDeque::new()),
            queued: Notify::new(),
            first_next: OnceLock::new(),
            handed_out: Mutex::new(HashMap::new()),
            outcomes,
            function_arn: function_arn(function_name),
        });
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, Infallible>(route(&state, request).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok((RuntimeApi { addr, state, task }, receiver))
    }

    /// `AWS_LAMBDA_RUNTIME_API`: host and port, no scheme, as Lambda sets it.
    pub fn runtime_api(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an invocation for the next `GET /runtime/invocation/next`.
    pub fn push(&self, invocation: Invocation) {
        lock(&self.state.queue).push_back(invocation);
        self.state.queued.notify_one();
    }

    /// When the function first asked for work, if it has.
    pub fn first_next(&self) -> Option<Instant> {
        self.state.first_next.get().copied()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

type Reply = Response<Full<Bytes>>;

async fn route(state: &State, request: Request<Incoming>) -> Reply {
    let arrived = Instant::now();
    let path = request.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return reply(StatusCode::NOT_FOUND, "unknown path");
    };
    match (request.method(), rest) {
        (&Method::GET, "/invocation/next") => {
            let _ = state.first_next.set(arrived);
            next(state).await
        }
        (&Method::POST, "/init/error") => {
            let body = read(request).await;
            let _ = state
                .outcomes
                .send(Outcome::InitError { at: arrived, body });
            accepted()
        }
        (&Method::POST, rest) if rest.starts_with("/invocation/") => {
            let mut parts = rest["/invocation/".len()..].splitn(2, '/');
            let (Some(id), Some(kind)) = (parts.next(), parts.next()) else {
                return reply(StatusCode::NOT_FOUND, "unknown path");
            };
            let request_id = id.to_owned();
            let Some(handed_out) = lock(&state.handed_out).remove(&request_id) else {
                return reply(StatusCode::BAD_REQUEST, "unknown or answered request id");
            };
            let kind = kind.to_owned();
            let body = read(request).await;
            let at = Instant::now();
            let outcome = match kind.as_str() {
                "response" => Outcome::Response {
                    request_id,
                    at,
                    service_time: at - handed_out,
                    body,
                },
                "error" => Outcome::Error {
                    request_id,
                    at,
                    body,
                },
                _ => return reply(StatusCode::NOT_FOUND, "unknown path"),
            };
            let _ = state.outcomes.send(outcome);
            accepted()
        }
        _ => reply(StatusCode::NOT_FOUND, "unknown path"),
    }
}

/// Long-polls until an invocation is queued, then hands it out with Lambda's headers.
async fn next(state: &State) -> Reply {
    let invocation = loop {
        if let Some(invocation) = lock(&state.queue).pop_front() {
            break invocation;
        }
        state.queued.notified().await;
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_add(FUNCTION_TIMEOUT)
        .as_millis();
    lock(&state.handed_out).insert(invocation.request_id.clone(), Instant::now());
    let mut response = Response::new(Full::new(invocation.event));
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    };
    set("content-type", "application/json".to_owned());
    set("lambda-runtime-aws-request-id", invocation.request_id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        state.function_arn.clone(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".to_owned(),
    );
    response
}

async fn read(request: Request<Incoming>) -> Bytes {
    request
        .into_body()
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default()
}

fn accepted() -> Reply {
    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

fn reply(status: StatusCode, body: &'static str) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
}
