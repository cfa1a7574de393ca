//! Load: thousands of logins at once through one handler, against a real DynamoDB API (moto on
//! loopback) and the OAuth-checking Twitter stand-in. Every login must succeed, every token must
//! be unique, and the token table must have received exactly the hashes of the tokens handed out.
//!
//! Two things about moto shape this test:
//! - Its threaded server is not safe under concurrent writes (TransactWriteItems deep-copies the
//!   table while another thread writes to it, and answers 500). `OneAtATime` therefore hands it
//!   one request at a time; moto serves one at a time anyway (the GIL).
//! - That deep copy makes each transaction cost time in proportion to the table's size, so 4,000
//!   tokens in one table would take minutes. A harvester therefore scans the token table while
//!   the logins run (page by page), records every item it finds and deletes it, keeping the
//!   table small; a last scan collects the rest. Every item the table ever received is checked.
//!
//! `LOAD_LOGINS` and `LOAD_CONCURRENCY` change the size (defaults 2,000 and 32).

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use twitter_auth_login::dynamo::Limits;
use twitter_auth_login::token::hash_token;

const DEFAULT_LOGINS: usize = 2_000;
const DEFAULT_CONCURRENCY: usize = 32;

/// Items a scan page may hold: small, so that paging is always exercised.
const SCAN_PAGE: i32 = 50;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------------------
// moto, one request at a time.

/// A loopback proxy that hands moto one request at a time, each on a connection of its own
/// (moto closes every connection after its answer), and counts the answers by status. It has
/// two doors: requests through the urgent one go before any waiting at the normal one, so that
/// the harvester keeps up however many logins queue.
struct OneAtATime {
    normal: SocketAddr,
    urgent: SocketAddr,
    answers: Arc<Mutex<BTreeMap<u16, usize>>>,
    tasks: Vec<JoinHandle<()>>,
}

/// A request and where its answer goes.
type Job = (Vec<u8>, oneshot::Sender<std::io::Result<Vec<u8>>>);

impl OneAtATime {
    async fn start(upstream: &str) -> OneAtATime {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("moto's address");
        let answers = Arc::new(Mutex::new(BTreeMap::new()));
        let (normal_jobs, mut normal_queue) = mpsc::unbounded_channel::<Job>();
        let (urgent_jobs, mut urgent_queue) = mpsc::unbounded_channel::<Job>();
        let counts = Arc::clone(&answers);
        let worker = tokio::spawn(async move {
            loop {
                let (request, reply) = tokio::select! {
                    biased;
                    Some(job) = urgent_queue.recv() => job,
                    Some(job) = normal_queue.recv() => job,
                    else => return,
                };
                let answer = exchange(upstream, &request).await;
                if let Ok(answer) = &answer {
                    let status = std::str::from_utf8(answer.get(9..12).unwrap_or_default())
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    *counts
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .entry(status)
                        .or_default() += 1;
                }
                let _ = reply.send(answer);
            }
        });
        let (normal, normal_door) = door(normal_jobs).await;
        let (urgent, urgent_door) = door(urgent_jobs).await;
        OneAtATime {
            normal,
            urgent,
            answers,
            tasks: vec![worker, normal_door, urgent_door],
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.normal)
    }

    fn urgent_url(&self) -> String {
        format!("http://{}", self.urgent)
    }

    fn answers(&self) -> BTreeMap<u16, usize> {
        self.answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for OneAtATime {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A listener whose connections queue their requests as `jobs`.
async fn door(jobs: mpsc::UnboundedSender<Job>) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let Ok((client, _)) = listener.accept().await else {
                continue;
            };
            connections.spawn(relay(client, jobs.clone()));
            while connections.try_join_next().is_some() {}
        }
    });
    (addr, task)
}

async fn exchange(upstream: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut moto = TcpStream::connect(upstream).await?;
    moto.write_all(request).await?;
    read_message(&mut moto).await
}

/// Reads one HTTP/1.1 message whose length Content-Length gives (or the end of the stream):
/// what the SDK sends and what moto answers.
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut message = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let body_at = loop {
        if let Some(at) = message.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(message);
        }
        message.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&message[..body_at]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    while length.is_none_or(|length| message.len() < body_at + length) {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        message.extend_from_slice(&buf[..n]);
    }
    Ok(message)
}

async fn relay(mut client: TcpStream, jobs: mpsc::UnboundedSender<Job>) {
    loop {
        let Ok(request) = read_message(&mut client).await else {
            return;
        };
        if request.is_empty() {
            return;
        }
        let (reply, answer) = oneshot::channel();
        if jobs.send((request, reply)).is_err() {
            return;
        }
        let Ok(Ok(answer)) = answer.await else {
            return;
        };
        if client.write_all(&answer).await.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The token table, scanned page by page.

/// Every item now in `table`, following LastEvaluatedKey from page to page, strongly
/// consistent; with `delete`, each page's items are then deleted. Returns the items and the
/// number of pages.
async fn harvest(client: &Client, table: &str, delete: bool) -> (Vec<Item>, usize) {
    let mut items = Vec::new();
    let mut pages = 0;
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .limit(SCAN_PAGE)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("scan page");
        pages += 1;
        let found = page.items.unwrap_or_default();
        if delete {
            delete_items(client, table, &found).await;
        }
        items.extend(found);
        match page.last_evaluated_key.filter(|key| !key.is_empty()) {
            Some(key) => start = Some(key),
            None => return (items, pages),
        }
        assert!(pages < 100_000, "the scan does not end");
    }
}

async fn delete_items(client: &Client, table: &str, items: &[Item]) {
    for batch in items.chunks(25) {
        let mut requests: Vec<WriteRequest> = batch
            .iter()
            .map(|item| {
                let key = HashMap::from([(
                    "tokenHash".to_owned(),
                    item.get("tokenHash").cloned().expect("tokenHash"),
                )]);
                let delete = DeleteRequest::builder()
                    .set_key(Some(key))
                    .build()
                    .expect("delete request");
                WriteRequest::builder().delete_request(delete).build()
            })
            .collect();
        for _ in 0..10 {
            let output = client
                .batch_write_item()
                .request_items(table, requests)
                .send()
                .await
                .expect("batch delete");
            requests = output
                .unprocessed_items
                .and_then(|mut rest| rest.remove(table))
                .unwrap_or_default();
            if requests.is_empty() {
                break;
            }
        }
        assert!(requests.is_empty(), "deletes left unprocessed");
    }
}

// ---------------------------------------------------------------------------------------------
// The test.

/// One login as the client saw it.
struct Outcome {
    index: usize,
    status: u16,
    code: Option<u64>,
    access: Option<(String, u64)>,
    refresh: Option<(String, u64)>,
    latency: Duration,
}

fn token(body: &serde_json::Value, kind: &str) -> Option<(String, u64)> {
    let token = &body["data"][kind];
    Some((
        token["token"].as_str()?.to_owned(),
        token["expirationTime"].as_u64()?,
    ))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread")]
async fn thousands_of_concurrent_logins_all_succeed_and_are_all_stored() {
    let logins = env_or("LOAD_LOGINS", DEFAULT_LOGINS);
    let concurrency = env_or("LOAD_CONCURRENCY", DEFAULT_CONCURRENCY);
    let world = World::new().await;

    // moto at about 10 ms a request, one at a time: 32 logins in flight queue for longer than
    // the production limits allow (1 s an attempt), which would rightly answer 5001. This test
    // is about concurrency in the handler, not about moto's speed, so DynamoDB calls get room.
    let moto = OneAtATime::start(&world.endpoint).await;
    let limits = Limits {
        connect_timeout: Duration::from_secs(30),
        attempt_timeout: Duration::from_secs(30),
        operation_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    // One handler shared by every task; the SDK and HTTP clients inside it pool connections.
    let handler = Arc::new(world.handler_via(&moto.url(), limits));
    let table_client = dynamodb_client(&moto.urgent_url(), limits);

    let done = Arc::new(AtomicBool::new(false));
    let harvester = {
        let (client, table, done) = (
            table_client.clone(),
            world.tables.token.clone(),
            Arc::clone(&done),
        );
        tokio::spawn(async move {
            let (mut items, mut pages, mut rounds) = (Vec::new(), 0, 0);
            // Paced, not synchronising: the last scan after the logins collects what is left.
            let mut pace = tokio::time::interval(Duration::from_millis(250));
            while !done.load(Ordering::SeqCst) {
                pace.tick().await;
                let (found, scanned) = harvest(&client, &table, true).await;
                items.extend(found);
                pages += scanned;
                rounds += 1;
            }
            (items, pages, rounds)
        })
    };

    let plain = world.valid_params();
    let with_mcc = with(&plain, "mcc", &LOCAL_MCC.to_string());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        let handler = Arc::clone(&handler);
        let next = Arc::clone(&next);
        let (plain, with_mcc) = (plain.clone(), with_mcc.clone());
        workers.spawn(async move {
            let mut outcomes = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                if index >= logins {
                    return outcomes;
                }
                // Half the logins name an MCC, so the MCC table is read under load too.
                let params = if index.is_multiple_of(2) {
                    &plain
                } else {
                    &with_mcc
                };
                let sent = Instant::now();
                let (status, body) = call(&handler, params).await;
                outcomes.push(Outcome {
                    index,
                    status,
                    code: body["code"].as_u64(),
                    access: token(&body, "accessToken"),
                    refresh: token(&body, "refreshToken"),
                    latency: sent.elapsed(),
                });
            }
        });
    }
    let mut outcomes = Vec::with_capacity(logins);
    while let Some(finished) = workers.join_next().await {
        outcomes.extend(finished.expect("a login task panicked"));
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::SeqCst);
    let (mut items, harvested_pages, rounds) = harvester.await.expect("harvester");
    let (rest, last_pages) = harvest(&table_client, &world.tables.token, false).await;
    let harvested = items.len();
    items.extend(rest);

    let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.latency).collect();
    latencies.sort();
    eprintln!(
        "{logins} logins at concurrency {concurrency} in {elapsed:.2?} ({:.0}/s); latency p50 {:.1?} p95 {:.1?} p99 {:.1?} max {:.1?}",
        logins as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
    eprintln!(
        "token table: {harvested} items harvested in {rounds} scans ({harvested_pages} pages), {} left and read in {last_pages} pages",
        items.len() - harvested
    );

    // Every login answered 200 with code 200 and two tokens.
    outcomes.sort_by_key(|o| o.index);
    assert_eq!(outcomes.len(), logins, "every login ran exactly once");
    let mut by_answer: BTreeMap<(u16, Option<u64>), usize> = BTreeMap::new();
    for outcome in &outcomes {
        *by_answer.entry((outcome.status, outcome.code)).or_default() += 1;
    }
    assert_eq!(
        by_answer,
        BTreeMap::from([((200, Some(200)), logins)]),
        "(status, code) -> logins"
    );

    // 2 x logins tokens, all distinct, and so their hashes.
    let mut issued: HashMap<String, (&'static str, u64, usize)> = HashMap::new();
    for outcome in &outcomes {
        for (kind, token) in [("access", &outcome.access), ("refresh", &outcome.refresh)] {
            let (token, expires) = token.as_ref().expect("a token with its expiry");
            let previous = issued.insert(hash_token(token), (kind, *expires, outcome.index));
            assert!(previous.is_none(), "a token hash was handed out twice");
        }
    }
    assert_eq!(issued.len(), 2 * logins);

    // The table received exactly those hashes, each once, with its kind and expiry, the two
    // tokens of a login sharing one pairId that no other login has.
    assert_eq!(items.len(), 2 * logins, "items the token table received");
    let mut stored = HashSet::new();
    let mut pair_of_login: HashMap<usize, String> = HashMap::new();
    let mut logins_of_pair: HashMap<String, HashSet<usize>> = HashMap::new();
    for item in &items {
        let hash = string_attr(item, "tokenHash");
        let (kind, expires, index) = issued
            .get(&hash)
            .unwrap_or_else(|| panic!("a stored hash that was never handed out: {hash}"));
        assert!(stored.insert(hash.clone()), "a hash stored twice");
        assert_eq!(string_attr(item, "kind"), *kind);
        assert_eq!(number_attr(item, "expirationTime"), *expires);
        assert_eq!(string_attr(item, "userDomain"), DOMAIN);
        assert_eq!(string_attr(item, "appId"), APP_ID);
        assert_eq!(string_attr(item, "twitterUserId"), TWITTER_USER_ID);
        assert_eq!(
            item.get("mcc").map(|_| number_attr(item, "mcc")),
            (index % 2 == 1).then_some(LOCAL_MCC as u64),
            "mcc as sent"
        );
        let pair = string_attr(item, "pairId");
        if let Some(other) = pair_of_login.insert(*index, pair.clone()) {
            assert_eq!(other, pair, "the two tokens of a login share a pairId");
        }
        logins_of_pair.entry(pair).or_default().insert(*index);
    }
    assert_eq!(stored.len(), 2 * logins);
    assert_eq!(pair_of_login.len(), logins);
    assert!(
        logins_of_pair.values().all(|l| l.len() == 1),
        "a pairId shared by two logins"
    );
    assert_eq!(
        world.twitter.verified(),
        logins,
        "Twitter verified each login"
    );
    assert_eq!(world.twitter.rejected(), 0);
    let answers = moto.answers();
    assert_eq!(
        answers.keys().copied().collect::<Vec<_>>(),
        vec![200],
        "DynamoDB answers by status: {answers:?}"
    );
}
