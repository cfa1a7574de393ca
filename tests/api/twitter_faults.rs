//! Twitter misbehaving: each fault gives its contract code within the configured timeout (or
//! at once, when there is nothing to wait for), stores nothing (no token, session or user), and
//! the next login through the same login endpoint succeeds.
//!
//! The faults that Twitter's stand-in cannot produce come from `Front`, a raw TCP server put
//! in front of the stand-in: it forwards bytes untouched when healthy (the stand-in still
//! checks every OAuth signature), and misbehaves at the byte level on demand.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use testkit::events::rest_event;
use testkit::prelude::*;
use testkit::twitter::{Mode, TwitterStub};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use twitter_auth_login::config::Table;
use twitter_auth_login::domain::token::hash_token;

type LoginEndpoint = WorldLogin;

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

/// Every item of the tables a login writes (tokens, sessions, users), each rendered with its
/// attributes in order, so that two snapshots compare item by item.
async fn stored(world: &World) -> BTreeMap<&'static str, Vec<String>> {
    let mut snapshot = BTreeMap::new();
    for (name, table) in [
        ("tokens", Table::Token),
        ("sessions", Table::Session),
        ("users", Table::User),
    ] {
        let mut items: Vec<String> = world
            .items(table)
            .await
            .into_iter()
            .map(|item| format!("{:?}", item.into_iter().collect::<BTreeMap<_, _>>()))
            .collect();
        items.sort();
        snapshot.insert(name, items);
    }
    snapshot
}

/// One login through `login`: its code, msg and status, nothing written, within `timing`.
async fn assert_refused_in_time(
    world: &World,
    login: &LoginEndpoint,
    (code, msg, status): (u64, &str, u16),
    timing: Timing,
    what: &str,
) {
    let before = stored(world).await;
    // A write made now would differ from what is stored, even for the same user.
    world.clock.advance(1);
    let started = Instant::now();
    let (got_status, body) = call(login, &rest_event(&world.login_params())).await;
    let elapsed = started.elapsed();
    assert_eq!(body["code"].as_u64(), Some(code), "{what}: {body}");
    assert_eq!(body["msg"], msg, "{what}");
    assert_eq!(body["extMsg"], "", "{what}");
    assert_eq!(got_status, status, "{what}");
    assert!(body["data"].is_null(), "{what}");
    assert_timing(elapsed, timing, what);
    assert_eq!(
        stored(world).await,
        before,
        "{what}: a failed login wrote a token, session or user"
    );
}

/// One login through `login` succeeds and stores its two tokens, its session and its user.
async fn assert_logs_in(world: &World, login: &LoginEndpoint, what: &str) {
    let before = stored(world).await;
    let (status, body) = call(login, &rest_event(&world.login_params())).await;
    let tokens = Tokens::from_answer(status, &body);
    let uid = world.uid_of(TWITTER_USER_ID).await;
    assert_eq!(tokens.uid, uid, "{what}");

    let after = stored(world).await;
    assert_eq!(after["tokens"].len(), before["tokens"].len() + 2, "{what}");
    assert_eq!(
        after["sessions"].len(),
        before["sessions"].len() + 1,
        "{what}"
    );
    assert_eq!(
        after["users"].len(),
        1,
        "{what}: one Twitter account, one user"
    );
    for (token, kind) in [(&tokens.access, "access"), (&tokens.refresh, "refresh")] {
        let item = world
            .item(Table::Token, &[("tokenHash", &hash_token(token))])
            .await
            .unwrap_or_else(|| panic!("{what}: the {kind} token is stored"));
        assert_eq!(string_attr(&item, "kind"), kind, "{what}");
        assert_eq!(string_attr(&item, "uid"), uid, "{what}");
        assert_eq!(
            string_attr(&item, "sessionId"),
            tokens.session_id(),
            "{what}"
        );
    }
    let session = world
        .item(
            Table::Session,
            &[("uid", &uid), ("sessionId", &tokens.session_id())],
        )
        .await
        .unwrap_or_else(|| panic!("{what}: the session is stored"));
    assert_eq!(string_attr(&session, "status"), "active", "{what}");
    assert_eq!(
        string_attr(&session, "accessTokenHash"),
        hash_token(&tokens.access),
        "{what}"
    );
    assert_eq!(
        string_attr(&session, "refreshTokenHash"),
        hash_token(&tokens.refresh),
        "{what}"
    );
    let user = world
        .item(Table::User, &[("uid", &uid)])
        .await
        .unwrap_or_else(|| panic!("{what}: the user is stored"));
    assert_eq!(
        string_attr(&user, "twitterUserId"),
        TWITTER_USER_ID,
        "{what}"
    );
    assert_eq!(
        number_attr(&user, "lastLoginTime"),
        world.clock.get(),
        "{what}"
    );
}

const UNAVAILABLE: (u64, &str, u16) = (5367, "Request to Twitter failed", 503);
const UNPARSABLE: (u64, &str, u16) = (5369, "Failed to parse the Twitter user", 200);

/// A fresh front with `fault` and a login endpoint behind it: the fault's answer, then, healed,
/// a login.
async fn assert_front_fault_then_recovery(
    world: &World,
    fault: Misbehaviour,
    answer: (u64, &str, u16),
    timing: Timing,
) {
    let what = format!("{fault:?}");
    let front = Front::start(stub_addr(world), fault).await;
    let login = world.login_with(world.store(), &front.url());
    let verified_before = world.twitter.verified();
    assert_refused_in_time(world, &login, answer, timing, &what).await;
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
    assert_logs_in(world, &login, &format!("{what}, then healed")).await;
    assert_eq!(world.twitter.verified(), verified_before + 1);
}

#[tokio::test]
async fn a_hung_twitter_is_5367_at_the_timeout_and_the_next_login_succeeds() {
    let world = World::new().await;
    let login = world.login();
    world.twitter.set_mode(Mode::Hang);
    assert_refused_in_time(&world, &login, UNAVAILABLE, Timing::AtTheTimeout, "hang").await;
    world.twitter.set_mode(Mode::Verify);
    assert_logs_in(&world, &login, "after the hang").await;
}

#[tokio::test]
async fn a_refused_connection_is_5367_at_once_and_the_next_login_succeeds_when_twitter_is_back() {
    let world = World::new().await;
    let addr = testkit::server::refused_addr().expect("free port");
    let login = world.login_with(world.store(), &format!("http://{addr}"));
    assert_refused_in_time(&world, &login, UNAVAILABLE, Timing::AtOnce, "refused").await;
    assert_refused_in_time(&world, &login, UNAVAILABLE, Timing::AtOnce, "refused again").await;

    // Twitter comes back on the same address: the same endpoint logs in.
    let back = TwitterStub::bind(addr, vec![world.seed.account()])
        .await
        .expect("stand-in on the refused port");
    assert_logs_in(&world, &login, "Twitter back").await;
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
    let login = world.login_with(world.store(), &front.url());
    let started = Instant::now();
    assert_logs_in(&world, &login, "slow Twitter").await;
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
    let login = world.login();

    // At the limit, a valid user is a login.
    let at_limit = padded_user(64 * 1024);
    assert_eq!(at_limit.len(), 65_536);
    world.twitter.set_mode(Mode::VerifyThenBody(at_limit));
    assert_logs_in(&world, &login, "64 KiB answer").await;

    // One byte more, the same user is refused, however valid the JSON.
    let over = padded_user(64 * 1024 + 1);
    assert!(serde_json::from_str::<serde_json::Value>(&over).is_ok());
    world.twitter.set_mode(Mode::VerifyThenBody(over));
    assert_refused_in_time(
        &world,
        &login,
        UNPARSABLE,
        Timing::AtOnce,
        "64 KiB + 1 answer",
    )
    .await;

    // A megabyte is refused just as fast.
    world
        .twitter
        .set_mode(Mode::VerifyThenBody(padded_user(1024 * 1024)));
    assert_refused_in_time(&world, &login, UNPARSABLE, Timing::AtOnce, "1 MiB answer").await;

    world.twitter.set_mode(Mode::Verify);
    assert_logs_in(&world, &login, "after the large answers").await;
    assert_eq!(
        world.twitter.verified(),
        4,
        "each answer followed a good signature"
    );
}
