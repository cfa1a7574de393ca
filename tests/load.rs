//! Load: thousands of logins at once through one login endpoint, against a real DynamoDB API
//! (moto on loopback) and the OAuth-checking Twitter stand-in. Every login must succeed, every
//! token must be unique, the token table must have received exactly the hashes of the tokens
//! handed out, the session table one session per login, and the user table one user: every
//! login is the same Twitter account.
//!
//! Two things about moto shape this test:
//! - Its threaded server is not safe under concurrent writes (TransactWriteItems deep-copies the
//!   tables while another thread writes to them, and answers 500). `OneAtATime` therefore hands
//!   it one request at a time; moto serves one at a time anyway (the GIL).
//! - That deep copy makes each transaction cost time in proportion to the tables' size, so
//!   4,000 tokens and 2,000 sessions would take minutes. A harvester therefore reads back, by
//!   key, the two tokens and the session each login answered (a few logins at a time), records
//!   them and deletes them, keeping the tables small. A last scan of both tables must then find
//!   nothing: an item that no login answered for fails the test. Every item the tables ever
//!   received is checked. The user table keeps its one item.
//!
//! `LOAD_LOGINS` and `LOAD_CONCURRENCY` change the size (defaults 1,000 and 32).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, KeysAndAttributes, WriteRequest};
use testkit::events::rest_event;
use testkit::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use twitter_auth_login::config::{Table, TableNames};
use twitter_auth_login::domain::token::hash_token;
use twitter_auth_login::dynamo::Limits;

const DEFAULT_LOGINS: usize = 1_000;
const DEFAULT_CONCURRENCY: usize = 32;

/// Items a page of the last scan may hold.
const SCAN_PAGE: i32 = 50;

/// Keys (three a login) that make a harvest: every transaction deep-copies the tables it
/// writes, so they are kept to a few dozen items; a harvest costs moto two requests. Measured:
/// a harvest every 5 logins cost moto a quarter less CPU than one every 30.
const HARVEST_KEYS: usize = 15;

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
// The token and session tables, read back by the keys the logins answered.

/// A stored item's key, and the table that holds it.
#[derive(Clone, Debug)]
struct Key {
    table: Table,
    key: Item,
}

impl Key {
    fn token(hash: &str) -> Key {
        Key {
            table: Table::Token,
            key: HashMap::from([("tokenHash".to_owned(), AttributeValue::S(hash.to_owned()))]),
        }
    }

    fn session(uid: &str, session_id: &str) -> Key {
        Key {
            table: Table::Session,
            key: HashMap::from([
                ("uid".to_owned(), AttributeValue::S(uid.to_owned())),
                (
                    "sessionId".to_owned(),
                    AttributeValue::S(session_id.to_owned()),
                ),
            ]),
        }
    }

    /// The key of an item read from `table`.
    fn of(table: Table, item: &Item) -> Key {
        let names: &[&str] = match table {
            Table::Token => &["tokenHash"],
            _ => &["uid", "sessionId"],
        };
        let key = names
            .iter()
            .map(|name| {
                let value = item.get(*name).cloned().expect("key attribute");
                ((*name).to_owned(), value)
            })
            .collect();
        Key { table, key }
    }
}

/// What the harvester read back, and what it cost.
#[derive(Default)]
struct Harvest {
    tokens: Vec<Item>,
    sessions: Vec<Item>,
    rounds: usize,
    requests: usize,
}

impl Harvest {
    /// Reads the items under `keys` (strongly consistent), records them, then deletes them.
    async fn take(&mut self, client: &Client, tables: &TableNames, keys: &[Key]) {
        let name = |table: Table| tables.get(table).expect("table name").to_owned();
        let (token_table, session_table) = (name(Table::Token), name(Table::Session));
        for chunk in keys.chunks(100) {
            let mut wanted: HashMap<String, KeysAndAttributes> = HashMap::new();
            for table in [Table::Token, Table::Session] {
                let keys: Vec<Item> = chunk
                    .iter()
                    .filter(|k| k.table == table)
                    .map(|k| k.key.clone())
                    .collect();
                if !keys.is_empty() {
                    let read = KeysAndAttributes::builder()
                        .set_keys(Some(keys))
                        .consistent_read(true)
                        .build()
                        .expect("keys");
                    wanted.insert(name(table), read);
                }
            }
            let mut found = Vec::new();
            for _ in 0..10 {
                let output = client
                    .batch_get_item()
                    .set_request_items(Some(wanted))
                    .send()
                    .await
                    .expect("batch get");
                self.requests += 1;
                for (table, items) in output.responses.unwrap_or_default() {
                    let (table, into) = if table == token_table {
                        (Table::Token, &mut self.tokens)
                    } else {
                        assert_eq!(table, session_table);
                        (Table::Session, &mut self.sessions)
                    };
                    found.extend(items.iter().map(|item| Key::of(table, item)));
                    into.extend(items);
                }
                wanted = output.unprocessed_keys.unwrap_or_default();
                if wanted.is_empty() {
                    break;
                }
            }
            assert!(wanted.is_empty(), "reads left unprocessed");
            self.delete(client, tables, &found).await;
        }
        self.rounds += 1;
    }

    async fn delete(&mut self, client: &Client, tables: &TableNames, keys: &[Key]) {
        for batch in keys.chunks(25) {
            let mut requests: HashMap<String, Vec<WriteRequest>> = HashMap::new();
            for key in batch {
                let delete = DeleteRequest::builder()
                    .set_key(Some(key.key.clone()))
                    .build()
                    .expect("delete request");
                requests
                    .entry(tables.get(key.table).expect("table name").to_owned())
                    .or_default()
                    .push(WriteRequest::builder().delete_request(delete).build());
            }
            for _ in 0..10 {
                let output = client
                    .batch_write_item()
                    .set_request_items(Some(requests))
                    .send()
                    .await
                    .expect("batch delete");
                self.requests += 1;
                requests = output.unprocessed_items.unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
            }
            assert!(requests.is_empty(), "deletes left unprocessed");
        }
    }
}

/// Every item now in `table`, following LastEvaluatedKey from page to page, strongly
/// consistent.
async fn scan_all(client: &Client, tables: &TableNames, table: Table) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    for _ in 0..100_000 {
        let page = client
            .scan()
            .table_name(tables.get(table).expect("table name"))
            .consistent_read(true)
            .limit(SCAN_PAGE)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("scan page");
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key.filter(|key| !key.is_empty()) {
            Some(key) => start = Some(key),
            None => return items,
        }
    }
    panic!("the scan does not end");
}

// ---------------------------------------------------------------------------------------------
// The test.

/// One login as the client saw it.
struct Outcome {
    index: usize,
    status: u16,
    code: Option<u64>,
    tokens: Option<Tokens>,
    latency: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread")]
async fn thousands_of_concurrent_logins_all_succeed_and_are_all_stored() {
    let logins = env_or("LOAD_LOGINS", DEFAULT_LOGINS);
    let concurrency = env_or("LOAD_CONCURRENCY", DEFAULT_CONCURRENCY);
    let mut world = World::new().await;
    // Every login is the same end user: a cap above them all keeps each the usual login (the
    // cap has tests of its own).
    world.max_sessions = logins as u64 + 1;

    // moto at a few ms a request, one at a time: 32 logins in flight queue for longer than the
    // production limits allow (1 s an attempt), which would rightly answer 5001. This test is
    // about concurrency in the function, not about moto's speed, so DynamoDB calls get room.
    let moto = OneAtATime::start(&world.endpoint).await;
    let limits = Limits {
        connect_timeout: Duration::from_secs(30),
        attempt_timeout: Duration::from_secs(30),
        operation_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    // One endpoint shared by every task; the SDK and HTTP clients inside it pool connections.
    let login = Arc::new(world.login_with(
        world.store_via(&moto.url(), limits),
        &world.twitter.base_url(),
    ));
    let table_client = dynamodb_client(&moto.urgent_url(), limits);

    // The keys of what each answered login says it stored, until the harvester takes them.
    let pending: Arc<Mutex<Vec<Key>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let harvester = {
        let (client, tables) = (table_client.clone(), world.tables.clone());
        let (pending, done) = (Arc::clone(&pending), Arc::clone(&done));
        tokio::spawn(async move {
            let mut harvest = Harvest::default();
            loop {
                // Every login has pushed its keys before `done` is set: the last round takes all.
                let last = done.load(Ordering::SeqCst);
                let keys: Vec<Key> = {
                    let mut pending = pending.lock().unwrap_or_else(PoisonError::into_inner);
                    if last || pending.len() >= HARVEST_KEYS {
                        pending.drain(..).collect()
                    } else {
                        Vec::new()
                    }
                };
                if !keys.is_empty() {
                    harvest.take(&client, &tables, &keys).await;
                }
                if last {
                    return harvest;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };

    let plain = rest_event(&world.login_params());
    let with_mcc = rest_event(&with(&world.login_params(), "mcc", &LOCAL_MCC.to_string()));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        let login = Arc::clone(&login);
        let (next, pending) = (Arc::clone(&next), Arc::clone(&pending));
        let (plain, with_mcc) = (plain.clone(), with_mcc.clone());
        workers.spawn(async move {
            let mut outcomes = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                if index >= logins {
                    return outcomes;
                }
                // Half the logins name an MCC, so the MCC table is read under load too.
                let event = if index.is_multiple_of(2) {
                    &plain
                } else {
                    &with_mcc
                };
                let sent = Instant::now();
                let (status, body) = call(login.as_ref(), event).await;
                let latency = sent.elapsed();
                let code = body["code"].as_u64();
                let tokens = ((status, code) == (200, Some(200)))
                    .then(|| Tokens::from_answer(status, &body));
                if let Some(tokens) = &tokens {
                    pending
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .extend([
                            Key::token(&hash_token(&tokens.access)),
                            Key::token(&hash_token(&tokens.refresh)),
                            Key::session(&tokens.uid, &tokens.session_id()),
                        ]);
                }
                outcomes.push(Outcome {
                    index,
                    status,
                    code,
                    tokens,
                    latency,
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
    let harvest = harvester.await.expect("harvester");
    let left_tokens = scan_all(&table_client, &world.tables, Table::Token).await;
    let left_sessions = scan_all(&table_client, &world.tables, Table::Session).await;
    let users = world.items(Table::User).await;

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
        "harvested {} tokens and {} sessions in {} rounds ({} requests)",
        harvest.tokens.len(),
        harvest.sessions.len(),
        harvest.rounds,
        harvest.requests,
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

    // One clock, never moved: every login was issued at the same second.
    let issued_at = world.clock.get();
    let uid = world.uid_of(TWITTER_USER_ID).await;
    let lifetimes = world.lifetimes;

    // 2 x logins tokens, all distinct, and so their hashes; one session id per login; one uid.
    let mut issued: HashMap<String, (&'static str, u64, usize)> = HashMap::new();
    let mut session_of_login: HashMap<String, usize> = HashMap::new();
    for outcome in &outcomes {
        let tokens = outcome.tokens.as_ref().expect("tokens");
        assert_eq!(tokens.uid, uid, "the same Twitter account is the same user");
        assert_eq!(
            tokens.access_expires,
            issued_at + lifetimes.access_token_ttl
        );
        assert_eq!(
            tokens.refresh_expires,
            issued_at + lifetimes.refresh_token_ttl
        );
        assert_eq!(
            tokens.refresh.rsplit('.').nth(1),
            Some(tokens.session_id().as_str()),
            "both tokens of a login lead to its session"
        );
        let previous = session_of_login.insert(tokens.session_id(), outcome.index);
        assert!(previous.is_none(), "a session id was handed out twice");
        for (kind, token, expires) in [
            ("access", &tokens.access, tokens.access_expires),
            ("refresh", &tokens.refresh, tokens.refresh_expires),
        ] {
            let previous = issued.insert(hash_token(token), (kind, expires, outcome.index));
            assert!(previous.is_none(), "a token hash was handed out twice");
        }
    }
    assert_eq!(issued.len(), 2 * logins);
    assert_eq!(session_of_login.len(), logins);

    // The token table received exactly those hashes, each once, with its kind, expiry and
    // session, the two tokens of a login sharing one pairId that no other login has.
    assert!(
        left_tokens.is_empty() && left_sessions.is_empty(),
        "items no login answered for: {left_tokens:?} {left_sessions:?}"
    );
    let items = &harvest.tokens;
    assert_eq!(items.len(), 2 * logins, "items the token table received");
    let mut stored = HashSet::new();
    let mut pair_of_login: HashMap<usize, String> = HashMap::new();
    let mut logins_of_pair: HashMap<String, HashSet<usize>> = HashMap::new();
    for item in items {
        let hash = string_attr(item, "tokenHash");
        let (kind, expires, index) = issued
            .get(&hash)
            .unwrap_or_else(|| panic!("a stored hash that was never handed out: {hash}"));
        assert!(stored.insert(hash.clone()), "a hash stored twice");
        assert_eq!(string_attr(item, "kind"), *kind);
        assert_eq!(number_attr(item, "expirationTime"), *expires);
        assert_eq!(number_attr(item, "issuedAt"), issued_at);
        assert_eq!(string_attr(item, "userDomain"), DOMAIN);
        assert_eq!(string_attr(item, "appId"), APP_ID);
        assert_eq!(string_attr(item, "twitterUserId"), TWITTER_USER_ID);
        assert_eq!(string_attr(item, "twitterUsername"), TWITTER_USERNAME);
        assert_eq!(string_attr(item, "uid"), uid);
        let session_id = string_attr(item, "sessionId");
        assert_eq!(
            session_of_login.get(&session_id),
            Some(index),
            "a token stored under its own login's session"
        );
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

    // The session table received one active session per login, naming that login's pair.
    let sessions = &harvest.sessions;
    assert_eq!(sessions.len(), logins, "items the session table received");
    let mut stored_sessions = HashSet::new();
    for session in sessions {
        let session_id = string_attr(session, "sessionId");
        let index = *session_of_login
            .get(&session_id)
            .unwrap_or_else(|| panic!("a stored session that no login answered: {session_id}"));
        assert!(stored_sessions.insert(session_id), "a session stored twice");
        let tokens = outcomes[index].tokens.as_ref().expect("tokens");
        assert_eq!(string_attr(session, "uid"), uid);
        assert_eq!(string_attr(session, "status"), "active");
        assert_eq!(string_attr(session, "userDomain"), DOMAIN);
        assert_eq!(string_attr(session, "appId"), APP_ID);
        assert_eq!(number_attr(session, "createdAt"), issued_at);
        assert_eq!(
            number_attr(session, "expirationTime"),
            issued_at + lifetimes.session_max
        );
        assert_eq!(
            string_attr(session, "accessTokenHash"),
            hash_token(&tokens.access)
        );
        assert_eq!(
            string_attr(session, "refreshTokenHash"),
            hash_token(&tokens.refresh)
        );
        assert_eq!(session.get("previousRefreshTokenHash"), None);
    }
    assert_eq!(stored_sessions.len(), logins);

    // One Twitter account: one user, created by the first login, updated by every other.
    assert_eq!(users.len(), 1, "{users:?}");
    let user = &users[0];
    assert_eq!(string_attr(user, "uid"), uid);
    assert_eq!(string_attr(user, "userDomain"), DOMAIN);
    assert_eq!(string_attr(user, "twitterUserId"), TWITTER_USER_ID);
    assert_eq!(string_attr(user, "twitterUsername"), TWITTER_USERNAME);
    assert_eq!(number_attr(user, "registerTime"), issued_at);
    assert_eq!(number_attr(user, "lastLoginTime"), issued_at);
    assert_eq!(number_attr(user, "status"), 1);

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
