//! Twitter misbehaving, beyond the statuses and bodies `login_dynamodb.rs` covers: each fault
//! gives its contract code within the configured timeout (or at once, when there is nothing to
//! wait for), stores nothing, and the next login through the same handler succeeds.
//!
//! The faults that Twitter's stand-in cannot produce come from `Front`, a raw TCP server put
//! in front of the stand-in: it forwards bytes untouched when healthy (the stand-in still
//! checks every OAuth signature), and misbehaves at the byte level on demand.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::*;
use testkit::twitter::{Mode, TwitterStub};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// How the front answers a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Misbehaviour {
    /// Half a status line, then nothing.
    StallInHeaders,
    /// A 200 with its headers and part of the body, then nothing.
    StallInBody,
    /// A valid answer, one byte every 100 ms: the whole call outlasts the timeout.
    DripBody,
    /// A 200 whose body stops short and the connection closes.
    CloseInBody,
    /// Reads the request, closes without a word.
    CloseWithoutAnswer,
    /// Something that is not HTTP.
    NotHttp,
    /// A 200 whose chunked body never ends.
    EndlessBody,
    /// Forwards to the stand-in after a quarter of the timeout: slow, but in time.
    SlowButInTime,
}

struct Front {
    addr: SocketAddr,
    fault: Arc<Mutex<Option<Misbehaviour>>>,
    faulted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Front {
    /// A front for the stand-in at `upstream` that meets every new connection with `fault`.
    async fn start(upstream: SocketAddr, fault: Misbehaviour) -> Front {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind front");
        let addr = listener.local_addr().expect("front addr");
        let state = Arc::new(Mutex::new(Some(fault)));
        let faulted = Arc::new(AtomicUsize::new(0));
        let (shared, counter) = (Arc::clone(&state), Arc::clone(&faulted));
        let task = tokio::spawn(async move {
            // Dropping the set (when the front is dropped) ends every connection, stalled or not.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let fault = *shared.lock().unwrap_or_else(PoisonError::into_inner);
                if fault.is_some() {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                connections.spawn(serve(stream, upstream, fault));
                while connections.try_join_next().is_some() {}
            }
        });
        Front {
            addr,
            fault: state,
            faulted,
            task,
        }
    }

    /// New connections are forwarded untouched from now on.
    fn heal(&self) {
        *self.fault.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads a request head (a GET has no body).
async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Some(head)
}

const USER_BODY: &str = r#"{"data":{"id":"783214","name":"jack","username":"jack"}}"#;

async fn serve(mut stream: TcpStream, upstream: SocketAddr, fault: Option<Misbehaviour>) {
    let Some(head) = read_head(&mut stream).await else {
        return;
    };
    let ok_head = |length: usize| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        )
    };
    match fault {
        None => forward(stream, upstream, head).await,
        Some(Misbehaviour::SlowButInTime) => {
            tokio::time::sleep(TWITTER_TIMEOUT / 4).await;
            forward(stream, upstream, head).await;
        }
        Some(Misbehaviour::StallInHeaders) => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-").await;
            std::future::pending::<()>().await;
        }
        Some(Misbehaviour::StallInBody) => {
            let _ = stream.write_all(ok_head(USER_BODY.len()).as_bytes()).await;
            let _ = stream.write_all(&USER_BODY.as_bytes()[..20]).await;
            std::future::pending::<()>().await;
        }
        Some(Misbehaviour::DripBody) => {
            let _ = stream.write_all(ok_head(USER_BODY.len()).as_bytes()).await;
            for byte in USER_BODY.bytes() {
                if stream.write_all(&[byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Some(Misbehaviour::CloseInBody) => {
            let _ = stream.write_all(ok_head(USER_BODY.len()).as_bytes()).await;
            let _ = stream.write_all(&USER_BODY.as_bytes()[..20]).await;
            let _ = stream.shutdown().await;
        }
        Some(Misbehaviour::CloseWithoutAnswer) => {
            let _ = stream.shutdown().await;
        }
        Some(Misbehaviour::NotHttp) => {
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
            let _ = stream.shutdown().await;
        }
        Some(Misbehaviour::EndlessBody) => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await;
            let _ = stream.write_all(b"d\r\n{\"data\":{\"id\"\r\n").await;
            let chunk = format!("2000\r\n{}\r\n", "x".repeat(0x2000));
            // Bounded: 64 MiB at most, though the client should stop reading long before.
            for _ in 0..8192 {
                if stream.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn forward(mut stream: TcpStream, upstream: SocketAddr, head: Vec<u8>) {
    let Ok(mut up) = TcpStream::connect(upstream).await else {
        return;
    };
    if up.write_all(&head).await.is_ok() {
        let _ = tokio::io::copy_bidirectional(&mut stream, &mut up).await;
    }
}

fn stub_addr(world: &World) -> SocketAddr {
    world
        .twitter
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .expect("stand-in address")
}

/// How long a fault may take to answer.
#[derive(Clone, Copy, Debug)]
enum Timing {
    /// Nothing to wait for: well before the timeout.
    AtOnce,
    /// Only the timeout ends it: not before it, and not long after.
    AtTheTimeout,
}

fn assert_timing(elapsed: Duration, timing: Timing, what: &str) {
    match timing {
        Timing::AtOnce => assert!(
            elapsed < TWITTER_TIMEOUT,
            "{what}: waited {elapsed:?}, though there was nothing to wait for"
        ),
        Timing::AtTheTimeout => {
            assert!(
                elapsed >= TWITTER_TIMEOUT,
                "{what}: gave up before the timeout, after {elapsed:?}"
            );
            assert!(
                elapsed < TWITTER_TIMEOUT * 5,
                "{what}: did not give up at the timeout: {elapsed:?}"
            );
        }
    }
}

/// One login through `handler`: its code, msg and status, nothing stored, within `timing`.
async fn assert_refused_in_time(
    world: &World,
    handler: &TestHandler,
    (code, msg, status): (u64, &str, u16),
    timing: Timing,
    what: &str,
) {
    let stored_before = world.token_items().await.len();
    let started = Instant::now();
    let (got_status, body) = call(handler, &world.valid_params()).await;
    let elapsed = started.elapsed();
    assert_eq!(body["code"].as_u64(), Some(code), "{what}: {body}");
    assert_eq!(body["msg"], msg, "{what}");
    assert_eq!(got_status, status, "{what}");
    assert!(body["data"].is_null(), "{what}");
    assert_timing(elapsed, timing, what);
    assert_eq!(
        world.token_items().await.len(),
        stored_before,
        "{what}: a failed login stored tokens"
    );
}

/// One login through `handler` succeeds and stores its two tokens.
async fn assert_logs_in(world: &World, handler: &TestHandler, what: &str) {
    let stored_before = world.token_items().await.len();
    let (status, body) = call(handler, &world.valid_params()).await;
    assert_eq!(
        (status, body["code"].as_u64()),
        (200, Some(200)),
        "{what}: {body}"
    );
    assert_eq!(
        world.token_items().await.len(),
        stored_before + 2,
        "{what}: the login's two tokens are stored"
    );
}

const UNAVAILABLE: (u64, &str, u16) = (5367, "Request to Twitter failed", 503);
const UNPARSABLE: (u64, &str, u16) = (5369, "Failed to parse the Twitter user", 200);

/// A fresh front with `fault` and a handler behind it: the fault's answer, then, healed, a login.
async fn assert_front_fault_then_recovery(
    world: &World,
    fault: Misbehaviour,
    answer: (u64, &str, u16),
    timing: Timing,
) {
    let what = format!("{fault:?}");
    let front = Front::start(stub_addr(world), fault).await;
    let handler = world.handler_with_twitter(&front.url());
    let verified_before = world.twitter.verified();
    assert_refused_in_time(world, &handler, answer, timing, &what).await;
    assert_eq!(
        front.faulted.load(Ordering::SeqCst),
        1,
        "{what}: the fault was met once"
    );
    assert_eq!(
        world.twitter.verified(),
        verified_before,
        "{what}: the stand-in was not reached"
    );

    front.heal();
    assert_logs_in(world, &handler, &format!("{what}, then healed")).await;
    assert_eq!(world.twitter.verified(), verified_before + 1);
}

#[tokio::test]
async fn a_hung_twitter_is_5367_at_the_timeout_and_the_next_login_succeeds() {
    let world = World::new().await;
    world.twitter.set_mode(Mode::Hang);
    assert_refused_in_time(
        &world,
        &world.handler,
        UNAVAILABLE,
        Timing::AtTheTimeout,
        "hang",
    )
    .await;
    world.twitter.set_mode(Mode::Verify);
    assert_logs_in(&world, &world.handler, "after the hang").await;
}

#[tokio::test]
async fn a_refused_connection_is_5367_at_once_and_the_next_login_succeeds_when_twitter_is_back() {
    let world = World::new().await;
    let addr = testkit::server::refused_addr().expect("free port");
    let handler = world.handler_with_twitter(&format!("http://{addr}"));
    assert_refused_in_time(&world, &handler, UNAVAILABLE, Timing::AtOnce, "refused").await;
    assert_refused_in_time(
        &world,
        &handler,
        UNAVAILABLE,
        Timing::AtOnce,
        "refused again",
    )
    .await;

    // Twitter comes back on the same address: the same handler logs in.
    let back = TwitterStub::bind(addr, vec![twitter_account()])
        .await
        .expect("stand-in on the refused port");
    assert_logs_in(&world, &handler, "Twitter back").await;
    assert_eq!(back.verified(), 1);
}

#[tokio::test]
async fn a_connection_that_stalls_is_5367_at_the_timeout() {
    let world = World::new().await;
    for fault in [
        Misbehaviour::StallInHeaders,
        Misbehaviour::StallInBody,
        Misbehaviour::DripBody,
    ] {
        assert_front_fault_then_recovery(&world, fault, UNAVAILABLE, Timing::AtTheTimeout).await;
    }
}

#[tokio::test]
async fn a_connection_that_breaks_is_5367_at_once() {
    let world = World::new().await;
    for fault in [
        Misbehaviour::CloseInBody,
        Misbehaviour::CloseWithoutAnswer,
        Misbehaviour::NotHttp,
    ] {
        assert_front_fault_then_recovery(&world, fault, UNAVAILABLE, Timing::AtOnce).await;
    }
}

#[tokio::test]
async fn an_endless_answer_is_5369_at_once() {
    let world = World::new().await;
    assert_front_fault_then_recovery(
        &world,
        Misbehaviour::EndlessBody,
        UNPARSABLE,
        Timing::AtOnce,
    )
    .await;
}

#[tokio::test]
async fn a_slow_twitter_within_the_timeout_still_logs_in() {
    let world = World::new().await;
    let front = Front::start(stub_addr(&world), Misbehaviour::SlowButInTime).await;
    let handler = world.handler_with_twitter(&front.url());
    let started = Instant::now();
    assert_logs_in(&world, &handler, "slow Twitter").await;
    assert!(
        started.elapsed() >= TWITTER_TIMEOUT / 4,
        "the answer was slow"
    );
}

/// `{"data":{"id":...,"username":...,"pad":"xx…"}}`, exactly `len` bytes: a valid user.
fn padded_user(len: usize) -> String {
    let head =
        format!(r#"{{"data":{{"id":"{TWITTER_USER_ID}","username":"{TWITTER_USERNAME}","pad":""#);
    let tail = r#""}}"#;
    let pad = len - head.len() - tail.len();
    format!("{head}{}{tail}", "x".repeat(pad))
}

#[tokio::test]
async fn an_answer_over_64_kib_is_5369_and_stores_nothing() {
    let world = World::new().await;

    // At the limit, a valid user is a login.
    let at_limit = padded_user(64 * 1024);
    assert_eq!(at_limit.len(), 65_536);
    world.twitter.set_mode(Mode::VerifyThenBody(at_limit));
    assert_logs_in(&world, &world.handler, "64 KiB answer").await;

    // One byte more, the same user is refused, however valid the JSON.
    let over = padded_user(64 * 1024 + 1);
    assert!(serde_json::from_str::<serde_json::Value>(&over).is_ok());
    world.twitter.set_mode(Mode::VerifyThenBody(over));
    assert_refused_in_time(
        &world,
        &world.handler,
        UNPARSABLE,
        Timing::AtOnce,
        "64 KiB + 1 answer",
    )
    .await;

    // A megabyte is refused just as fast.
    world
        .twitter
        .set_mode(Mode::VerifyThenBody(padded_user(1024 * 1024)));
    assert_refused_in_time(
        &world,
        &world.handler,
        UNPARSABLE,
        Timing::AtOnce,
        "1 MiB answer",
    )
    .await;

    world.twitter.set_mode(Mode::Verify);
    assert_logs_in(&world, &world.handler, "after the large answers").await;
    assert_eq!(
        world.twitter.verified(),
        4,
        "each answer followed a good signature"
    );
}
