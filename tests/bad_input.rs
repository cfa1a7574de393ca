//! Bad input never breaks the edge. Property tests over arbitrary query strings and arbitrary
//! API Gateway events (REST v1 and HTTP API v2), through the real handler with the in-memory
//! adapters: the handler never panics and every answer is the contract's envelope.
//!
//! Where the input is a well-formed event, an independent model of the contract (checks 1 to
//! 16, written from SPEC.md, not from `src/`) predicts the exact code, `extMsg` and what is
//! stored, and the handler must agree.
//!
//! Case counts: `PROPTEST_CASES` sets the cases of each property; without it the four
//! properties run 30,000 + 25,000 + 20,000 + 30,000 = 105,000 cases in all.

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use lambda_http::{Body, Request, Response};
use percent_encoding::{
    AsciiSet, CONTROLS, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode,
};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::strategy::Union;
use proptest::string::string_regex;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestRunner,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use twitter_auth_login::error::LoginError;
use twitter_auth_login::handler::Handler;
use twitter_auth_login::login::{App, Login, Policy, TwitterUser, UserDomain};
use twitter_auth_login::memory::{MemoryStore, MemoryTwitter};
use twitter_auth_login::secret::Secret;

// ---------------------------------------------------------------------------------------------
// The world: three user domains, two apps, two MCC routes, one Twitter user.

const DATA_CENTER: &str = "dc-eu";
const ENABLED: &str = "C.DM.5903.1";
const ENABLED_SECRET: &str = "enabled-domain-secret-0123";
const DISABLED: &str = "E.DM.1209906967672817.3";
const DISABLED_SECRET: &str = "disabled-domain-secret-4567";
const NO_SECRET: &str = "U.SP.8589934603";
const TW_APP: &str = "tw-app";
const FB_APP: &str = "fb-app";
const CONSUMER_KEY: &str = "ck-tw";
const CONSUMER_SECRET: &str = "cs-tw-very-secret";
const TOKEN: &str = "1234-oauth-token";
const TOKEN_SECRET: &str = "oauth+token/secret=";
const USER_ID: &str = "783214";
const LOCAL_MCC: i32 = 262;
const FOREIGN_MCC: i32 = 460;
const ACCESS_TTL: u64 = 7200;
const REFRESH_TTL: u64 = 2_592_000;

const PARAMETERS: [&str; 6] = [
    "userDomain",
    "oauthToken",
    "oauthTokenSecret",
    "appId",
    "signature",
    "mcc",
];

/// Values that must never appear in an answer.
const NEVER_ANSWERED: [&str; 3] = [ENABLED_SECRET, DISABLED_SECRET, CONSUMER_SECRET];

/// Makes one adapter fail: the deep-check property draws one per case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    StoreUnavailable,
    StoreInternal,
    TwitterUnavailable,
    TwitterRejects,
    TwitterUnparsable,
}

type TestHandler = Handler<MemoryStore, MemoryTwitter>;

fn handler(fault: Fault) -> TestHandler {
    let app = |platform: &str, key: &str, secret: &str| App {
        platform: platform.into(),
        consumer_key: key.into(),
        consumer_secret: Secret::new(secret),
    };
    let apps = HashMap::from([
        (
            TW_APP.to_owned(),
            app("twitter", CONSUMER_KEY, CONSUMER_SECRET),
        ),
        (FB_APP.to_owned(), app("facebook", "ck-fb", "cs-fb")),
    ]);
    let domain = |secret: Option<&str>, enabled: bool| UserDomain {
        secret: secret.map(Secret::new),
        enabled,
        apps: apps.clone(),
    };
    let mut store = MemoryStore::new(
        HashMap::from([
            (ENABLED.to_owned(), domain(Some(ENABLED_SECRET), true)),
            (DISABLED.to_owned(), domain(Some(DISABLED_SECRET), false)),
            (NO_SECRET.to_owned(), domain(None, true)),
        ]),
        HashMap::from([
            (LOCAL_MCC, DATA_CENTER.to_owned()),
            (FOREIGN_MCC, "dc-cn".to_owned()),
        ]),
    );
    store.fail_with = match fault {
        Fault::StoreUnavailable => Some(LoginError::StoreUnavailable("injected")),
        Fault::StoreInternal => Some(LoginError::Internal("injected")),
        _ => None,
    };
    let twitter = MemoryTwitter {
        users: HashMap::from([(
            (CONSUMER_KEY.into(), TOKEN.into(), TOKEN_SECRET.into()),
            TwitterUser {
                id: USER_ID.into(),
                username: Some("jack".into()),
            },
        )]),
        fail_with: match fault {
            Fault::TwitterUnavailable => Some(LoginError::TwitterUnavailable("injected")),
            Fault::TwitterRejects => Some(LoginError::TwitterRejected("injected")),
            Fault::TwitterUnparsable => Some(LoginError::TwitterUnparsable),
            _ => None,
        },
    };
    let policy = Policy {
        data_center: DATA_CENTER.into(),
        access_token_ttl_seconds: ACCESS_TTL,
        refresh_token_ttl_seconds: REFRESH_TTL,
    };
    Handler::new(Login::new(store, twitter, policy))
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The signature a client computes: hex SHA-256 of appId + token + token secret + domain secret.
fn sign(app_id: &str, token: &str, token_secret: &str, domain_secret: &str) -> String {
    sha256_hex(&[app_id, token, token_secret, domain_secret])
}

// ---------------------------------------------------------------------------------------------
// The model: SPEC.md's checks, in order, over the decoded query.

/// The contract's codes: msg and HTTP status.
fn contract(code: u64) -> Option<(&'static str, u16)> {
    Some(match code {
        200 => ("success", 200),
        5023 => ("Please enter user domain", 200),
        5013 => ("User domain format incorrect", 200),
        5569 => ("Please enter oauthToken", 200),
        5570 => ("Please enter oauthTokenSecret", 200),
        5218 => ("Please enter appId", 200),
        5550 => ("Please enter signature", 200),
        4001 => ("Parameter format incorrect", 200),
        5015 => ("User domain does not exist", 200),
        5104 => ("User domain has been disabled", 200),
        5420 => ("Signature verification failed", 200),
        5574 => ("appId is not configured for this user domain", 200),
        6085 => ("Failed to query data center for MCC", 200),
        6084 => ("MCC does not belong to the current data center", 200),
        5367 => ("Request to Twitter failed", 503),
        5368 => ("Failed to get the Twitter user", 200),
        5369 => ("Failed to parse the Twitter user", 200),
        5001 => ("Service temporarily unavailable", 503),
        5000 => ("Internal error", 500),
        _ => return None,
    })
}

/// `^[A-Z]\.[A-Z]{2}\.[0-9]{1,20}(\.[0-9]{1,4})?$`, `$` being the very end.
fn domain_format_ok(value: &str) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    let upper = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_uppercase());
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.chars().all(|c| c.is_ascii_digit())
    };
    (parts.len() == 3 || parts.len() == 4)
        && upper(parts[0], 1)
        && upper(parts[1], 2)
        && digits(parts[2], 20)
        && (parts.len() == 3 || digits(parts[3], 4))
}

/// An int32 in decimal: an optional sign, then digits only.
fn model_mcc(raw: &str) -> Option<i32> {
    let (negative, digits) = match raw.as_bytes().first() {
        Some(b'-') => (true, &raw[1..]),
        Some(b'+') => (false, &raw[1..]),
        _ => (false, raw),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 10 {
        return None;
    }
    let magnitude: i64 = if significant.is_empty() {
        0
    } else {
        significant.parse().ok()?
    };
    i32::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// What the contract says the answer to this decoded query is: (code, extMsg, stored mcc).
fn model(pairs: &[(String, String)], fault: Fault) -> (u64, &'static str, Option<i32>) {
    let all = |name: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let first = |name: &str| all(name).first().copied().unwrap_or("");
    let blank = |name: &str| first(name).trim().is_empty();

    if blank("userDomain") {
        return (5023, "", None);
    }
    if !domain_format_ok(first("userDomain")) {
        return (5013, "", None);
    }
    for (name, code) in [
        ("oauthToken", 5569),
        ("oauthTokenSecret", 5570),
        ("appId", 5218),
        ("signature", 5550),
    ] {
        if blank(name) {
            return (code, "", None);
        }
    }
    for name in PARAMETERS {
        let values = all(name);
        if values.len() > 1 || values.iter().any(|v| v.len() > 1024) {
            return (4001, name, None);
        }
    }
    let mcc = match all("mcc").first() {
        None => None,
        Some(raw) => match model_mcc(raw) {
            Some(mcc) => Some(mcc),
            None => return (4001, "mcc", None),
        },
    };

    match fault {
        Fault::StoreUnavailable => return (5001, "", None),
        Fault::StoreInternal => return (5000, "", None),
        _ => {}
    }
    let (domain, app_id, token, token_secret, signature) = (
        first("userDomain"),
        first("appId"),
        first("oauthToken"),
        first("oauthTokenSecret"),
        first("signature"),
    );
    let secret = match domain {
        ENABLED => ENABLED_SECRET,
        DISABLED => return (5104, "", None),
        NO_SECRET => return (5000, "", None),
        _ => return (5015, "", None),
    };
    let expected = sign(app_id, token, token_secret, secret);
    if !signature.eq_ignore_ascii_case(&expected) {
        return (5420, "", None);
    }
    if app_id != TW_APP {
        return (5574, "", None);
    }
    match mcc {
        Some(LOCAL_MCC) | None => {}
        Some(FOREIGN_MCC) => return (6084, "", None),
        Some(_) => return (6085, "", None),
    }
    match fault {
        Fault::TwitterUnavailable => return (5367, "", None),
        Fault::TwitterRejects => return (5368, "", None),
        Fault::TwitterUnparsable => return (5369, "", None),
        _ => {}
    }
    if (token, token_secret) != (TOKEN, TOKEN_SECRET) {
        return (5368, "", None);
    }
    (200, "", mcc)
}

// ---------------------------------------------------------------------------------------------
// Events.

/// How a REST API (v1) event carries the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V1Style {
    /// Both maps, as API Gateway sends them.
    Both,
    /// Only `multiValueQueryStringParameters`.
    MultiOnly,
    /// Only `queryStringParameters`: one value per name, the last one given.
    SingleOnly,
}

fn rest_event(pairs: &[(String, String)], style: V1Style) -> (Value, Vec<(String, String)>) {
    let mut event: Value =
        serde_json::from_str(&testkit::events::rest_event(pairs)).expect("testkit's event is JSON");
    match style {
        V1Style::Both => {}
        V1Style::MultiOnly => event["queryStringParameters"] = Value::Null,
        V1Style::SingleOnly => event["multiValueQueryStringParameters"] = Value::Null,
    }
    // What the handler sees: with the multi-valued map present, every value; else the last.
    let decoded = match style {
        V1Style::SingleOnly => {
            let mut last: Vec<(String, String)> = Vec::new();
            for (k, v) in pairs {
                match last.iter_mut().find(|(name, _)| name == k) {
                    Some(entry) => entry.1 = v.clone(),
                    None => last.push((k.clone(), v.clone())),
                }
            }
            last
        }
        _ => pairs.to_vec(),
    };
    (event, decoded)
}

fn http_api_event(raw_query: &str) -> Value {
    serde_json::from_str(&testkit::events::http_api_event(raw_query))
        .expect("testkit's event is JSON")
}

/// `application/x-www-form-urlencoded` parsing as the URL standard defines it: what a v2
/// event's `rawQueryString` means.
fn form_decode(raw: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.split('&')
        .filter(|sequence| !sequence.is_empty())
        .map(|sequence| {
            let (name, value) = sequence.split_once('=').unwrap_or((sequence, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// Every character a form encoder must escape, and nothing more.
const FORM: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'=')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'[')
    .add(b']');

/// How one name or value is written into a raw query string.
#[derive(Debug, Clone, Copy)]
enum Encoding {
    /// Every byte but ASCII letters and digits as `%XX`.
    Everything,
    /// Only what must be escaped; a blank as `+`.
    Form,
    /// Like `Everything`, with lowercase hex digits.
    LowerHex,
}

fn encode(text: &str, encoding: Encoding) -> String {
    match encoding {
        Encoding::Everything => utf8_percent_encode(text, NON_ALPHANUMERIC).to_string(),
        Encoding::Form => utf8_percent_encode(text, FORM)
            .to_string()
            .replace("%20", "+"),
        Encoding::LowerHex => {
            let upper = utf8_percent_encode(text, NON_ALPHANUMERIC).to_string();
            let mut out = String::with_capacity(upper.len());
            let mut hex_left = 0;
            for c in upper.chars() {
                if c == '%' {
                    hex_left = 2;
                    out.push(c);
                } else if hex_left > 0 {
                    hex_left -= 1;
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

/// One `&`-separated piece of a raw query string.
#[derive(Debug, Clone)]
enum Segment {
    Pair(String, String, Encoding),
    /// A name and arbitrary bytes (valid UTF-8 or not), every byte as `%XX`.
    Bytes(String, Vec<u8>),
    /// Written as is: stray separators, bad escapes, truncated UTF-8.
    Noise(&'static str),
}

fn raw_query(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|segment| match segment {
            Segment::Pair(name, value, encoding) => {
                format!("{}={}", encode(name, *encoding), encode(value, *encoding))
            }
            Segment::Bytes(name, bytes) => {
                let value: String = bytes.iter().map(|b| format!("%{b:02X}")).collect();
                format!("{}={value}", encode(name, Encoding::Everything))
            }
            Segment::Noise(noise) => (*noise).to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

// ---------------------------------------------------------------------------------------------
// Running one event and checking the answer.

/// Panics inside lambda_http's event conversion happen in the Lambda runtime before the
/// handler; they are counted, not reported by the panic hook, so that real failures stand out.
fn quiet_conversion_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_conversion = info.location().is_some_and(|l| {
                l.file().contains("lambda_http")
                    || l.file().contains("aws_lambda_events")
                    || l.file().contains("query_map")
            });
            if !in_conversion {
                previous(info);
            }
        }));
    });
}

/// What happened to one event.
enum Converted {
    Request(Box<Request>),
    /// The event does not deserialize: the runtime rejects it before the handler.
    Rejected,
    /// lambda_http panicked converting it: also before the handler.
    ConversionPanicked,
}

fn convert(event: &str) -> Converted {
    quiet_conversion_panics();
    match catch_unwind(AssertUnwindSafe(|| lambda_http::request::from_str(event))) {
        Ok(Ok(request)) => Converted::Request(Box::new(request)),
        Ok(Err(_)) => Converted::Rejected,
        Err(_) => Converted::ConversionPanicked,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The answer, checked against the envelope's invariants.
#[derive(Debug)]
struct Answer {
    code: u64,
    ext_msg: String,
    data: Value,
}

fn check_envelope(response: &Response<Body>) -> Result<Answer, TestCaseError> {
    let content_types: Vec<_> = response.headers().get_all("content-type").iter().collect();
    prop_assert_eq!(content_types.len(), 1, "one Content-Type");
    prop_assert_eq!(content_types[0], "application/json");
    let text = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8(bytes.clone())
            .map_err(|_| TestCaseError::fail("the body is not UTF-8"))?,
        Body::Empty => return Err(TestCaseError::fail("empty body")),
        _ => return Err(TestCaseError::fail("unexpected body kind")),
    };
    let body: Value = serde_json::from_str(&text)
        .map_err(|e| TestCaseError::fail(format!("body is not JSON ({e}): {text}")))?;
    let object = body
        .as_object()
        .ok_or_else(|| TestCaseError::fail(format!("body is not an object: {text}")))?;
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    prop_assert_eq!(keys, vec!["code", "data", "extMsg", "msg"], "{}", text);

    let code = body["code"]
        .as_u64()
        .ok_or_else(|| TestCaseError::fail(format!("code is not a number: {text}")))?;
    let (msg, status) =
        contract(code).ok_or_else(|| TestCaseError::fail(format!("unknown code: {text}")))?;
    prop_assert_eq!(&body["msg"], msg, "{}", text);
    prop_assert_eq!(response.status().as_u16(), status, "{}", text);
    let ext_msg = body["extMsg"]
        .as_str()
        .ok_or_else(|| TestCaseError::fail(format!("extMsg is not a string: {text}")))?
        .to_owned();
    if code == 4001 {
        prop_assert!(PARAMETERS.contains(&ext_msg.as_str()), "{}", text);
    } else {
        prop_assert_eq!(&ext_msg, "", "{}", text);
    }
    let data = body["data"].clone();
    if code == 200 {
        for kind in ["accessToken", "refreshToken"] {
            let token = &data[kind];
            let fields: Vec<&String> = token
                .as_object()
                .map(|o| o.keys().collect())
                .unwrap_or_default();
            prop_assert_eq!(fields.len(), 2, "{}", text);
            prop_assert!(
                token["token"].as_str().is_some_and(|t| t.len() >= 43),
                "{}",
                text
            );
            prop_assert!(token["expirationTime"].as_u64().is_some(), "{}", text);
        }
        prop_assert_ne!(
            &data["accessToken"]["token"],
            &data["refreshToken"]["token"]
        );
    } else {
        prop_assert!(data.is_null(), "{}", text);
    }
    for secret in NEVER_ANSWERED {
        prop_assert!(!text.contains(secret), "a secret was answered: {}", text);
    }
    Ok(Answer {
        code,
        ext_msg,
        data,
    })
}

/// Handles the event and checks the envelope, and that a pair is stored exactly on success,
/// under the hashes of the tokens answered. Returns `None` when the event never reaches the
/// handler.
fn run_event(
    rt: &tokio::runtime::Runtime,
    fault: Fault,
    event: &str,
    stats: &Stats,
) -> Result<Option<Answer>, TestCaseError> {
    let request = match convert(event) {
        Converted::Request(request) => request,
        Converted::Rejected => {
            stats.rejected.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        Converted::ConversionPanicked => {
            stats.conversion_panics.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
    };
    let handler = handler(fault);
    let before = now();
    let response = rt.block_on(handler.handle(*request));
    let after = now();
    let answer = check_envelope(&response)?;
    stats.handled.fetch_add(1, Ordering::Relaxed);
    stats.seen(answer.code);

    let saved = handler.login().store().saved();
    if answer.code == 200 {
        prop_assert_eq!(saved.len(), 1, "one pair stored on success");
        let pair = &saved[0];
        let access = answer.data["accessToken"]["token"]
            .as_str()
            .unwrap_or_default();
        let refresh = answer.data["refreshToken"]["token"]
            .as_str()
            .unwrap_or_default();
        prop_assert_eq!(&pair.access.hash, &sha256_hex(&[access]));
        prop_assert_eq!(&pair.refresh.hash, &sha256_hex(&[refresh]));
        prop_assert!((before..=after).contains(&pair.issued_at));
        prop_assert_eq!(pair.access.expiration_time, pair.issued_at + ACCESS_TTL);
        prop_assert_eq!(pair.refresh.expiration_time, pair.issued_at + REFRESH_TTL);
        prop_assert_eq!(
            answer.data["accessToken"]["expirationTime"].as_u64(),
            Some(pair.access.expiration_time)
        );
        prop_assert_eq!(
            answer.data["refreshToken"]["expirationTime"].as_u64(),
            Some(pair.refresh.expiration_time)
        );
        prop_assert_eq!(
            (pair.user_domain.as_str(), pair.app_id.as_str()),
            (ENABLED, TW_APP)
        );
        prop_assert_eq!(pair.twitter_user.id.as_str(), USER_ID);
    } else {
        prop_assert!(saved.is_empty(), "a refused login stored a pair");
    }
    Ok(Some(answer))
}

/// Checks the answer against the model: exact code and extMsg, and the stored mcc.
fn run_modelled(
    rt: &tokio::runtime::Runtime,
    fault: Fault,
    event: &str,
    decoded: &[(String, String)],
    stats: &Stats,
) -> Result<Option<u64>, TestCaseError> {
    let Some(answer) = run_event(rt, fault, event, stats)? else {
        return Ok(None);
    };
    let (code, ext_msg, _) = model(decoded, fault);
    prop_assert_eq!(
        (answer.code, answer.ext_msg.as_str()),
        (code, ext_msg),
        "decoded query {:?}",
        decoded
    );
    Ok(Some(answer.code))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// What the cases of one property did, to show the property was not vacuous.
#[derive(Default)]
struct Stats {
    handled: AtomicUsize,
    rejected: AtomicUsize,
    conversion_panics: AtomicUsize,
    codes: std::sync::Mutex<BTreeMap<u64, usize>>,
}

impl Stats {
    fn seen(&self, code: u64) {
        *self
            .codes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(code)
            .or_default() += 1;
    }

    fn codes(&self) -> BTreeMap<u64, usize> {
        self.codes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn report(&self, name: &str, cases: u32) {
        eprintln!(
            "{name}: {cases} cases, {} handled, {} rejected by deserialization, {} panicked in lambda_http's conversion; codes {:?}",
            self.handled.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed),
            self.conversion_panics.load(Ordering::Relaxed),
            self.codes()
        );
    }
}

/// `PROPTEST_CASES` when set, else this property's default.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        source_file: Some(file!()),
        // Shrunk failures go to tests/bad_input.proptest-regressions and are replayed first.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        // ChaCha in a debug build costs more than the handler; these cases need no crypto RNG.
        rng_algorithm: RngAlgorithm::XorShift,
        ..Config::default()
    }
}

fn run<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(config(cases));
    if let Err(error) = runner.run(&strategy, test) {
        panic!("{name}: {error}");
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies.

/// Signed parameters of a login on `domain` (valid for the enabled domain with the known user).
fn signed(domain: &str, app_id: &str, secret: &str) -> Vec<(String, String)> {
    [
        ("userDomain", domain.to_owned()),
        ("appId", app_id.to_owned()),
        ("oauthToken", TOKEN.to_owned()),
        ("oauthTokenSecret", TOKEN_SECRET.to_owned()),
        ("signature", sign(app_id, TOKEN, TOKEN_SECRET, secret)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Where arbitrary queries start from: nothing, or a login that stops at one of checks 8 to 16.
fn bases() -> Vec<Vec<(String, String)>> {
    let valid = signed(ENABLED, TW_APP, ENABLED_SECRET);
    let with_mcc = |mcc: i32| {
        let mut params = valid.clone();
        params.push(("mcc".into(), mcc.to_string()));
        params
    };
    // Signed for a token Twitter does not know.
    let stranger: Vec<(String, String)> = [
        ("userDomain", ENABLED.to_owned()),
        ("appId", TW_APP.to_owned()),
        ("oauthToken", "stranger".to_owned()),
        ("oauthTokenSecret", TOKEN_SECRET.to_owned()),
        (
            "signature",
            sign(TW_APP, "stranger", TOKEN_SECRET, ENABLED_SECRET),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    vec![
        vec![],
        valid.clone(),
        with_mcc(LOCAL_MCC),
        with_mcc(FOREIGN_MCC),
        with_mcc(999),
        signed("Z.ZZ.42", TW_APP, "unknown"),
        signed(DISABLED, TW_APP, DISABLED_SECRET),
        signed(NO_SECRET, TW_APP, "none"),
        signed(ENABLED, FB_APP, ENABLED_SECRET),
        stranger,
    ]
}

fn any_text(max: usize) -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..max).prop_map(String::from_iter)
}

/// Parameter names: mostly the contract's, then near misses and anything at all.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => select(PARAMETERS.to_vec()).prop_map(str::to_owned),
        2 => select(vec![
            "userdomain", "UserDomain", "appid", "APPID", "oauth_token", "oauthtoken",
            "OAuthTokenSecret", "Signature", "MCC", "mcc ", " appId", "appId[]", "app Id",
            "userDomain\0", "ｍcc",
        ])
        .prop_map(str::to_owned),
        2 => any_text(12),
        1 => Just(String::new()),
    ]
}

/// Parameter values: empty, blank, unicode, near and far over 1024 bytes, numbers, domains.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        2 => string_regex("[ \t\n\r\u{0b}\u{0c}\u{a0}\u{85}\u{2003}\u{3000}]{1,4}").expect("regex"),
        6 => any_text(24),
        4 => string_regex("[ -~]{0,24}").expect("regex"),
        3 => string_regex("[+-]?[0-9]{0,12}").expect("regex"),
        2 => select(vec![
            "0", "460", "262", "+262", "0262", "-0", "2147483647", "-2147483648",
            "2147483648", "-2147483649", "00000000000000000000262", "0x1F", "1e3", "4.6",
            " 262", "262 ", "262\n", "٢٦٢", "+", "-", "--1",
        ])
        .prop_map(str::to_owned),
        3 => string_regex("[A-Za-z]{1,2}\\.[A-Za-z]{1,3}\\.[0-9]{0,22}(\\.[0-9]{0,5}){0,2}\n?")
            .expect("regex"),
        1 => select(vec![ENABLED, DISABLED, NO_SECRET, TW_APP, FB_APP, TOKEN, TOKEN_SECRET])
            .prop_map(str::to_owned),
        2 => string_regex("[0-9a-fA-F]{63,65}").expect("regex"),
        2 => (1020usize..1030, any::<char>()).prop_map(|(n, c)| c.to_string().repeat(n)),
        // Up to 12 KB: API Gateway refuses request lines and headers over 10 KB.
        1 => (1usize..12_000).prop_map(|n| "v".repeat(n)),
    ]
}

/// One change to a base query.
#[derive(Debug, Clone)]
enum Edit {
    Add(String, String),
    Drop(Index),
    Replace(Index, String),
    Repeat(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (name(), value()).prop_map(|(n, v)| Edit::Add(n, v)),
        2 => any::<Index>().prop_map(Edit::Drop),
        3 => (any::<Index>(), value()).prop_map(|(i, v)| Edit::Replace(i, v)),
        1 => any::<Index>().prop_map(Edit::Repeat),
    ]
}

fn apply(mut pairs: Vec<(String, String)>, edits: &[Edit]) -> Vec<(String, String)> {
    for edit in edits {
        match edit {
            Edit::Add(name, value) => pairs.push((name.clone(), value.clone())),
            Edit::Drop(i) if !pairs.is_empty() => {
                pairs.remove(i.index(pairs.len()));
            }
            Edit::Replace(i, value) if !pairs.is_empty() => {
                let i = i.index(pairs.len());
                pairs[i].1 = value.clone();
            }
            Edit::Repeat(i) if !pairs.is_empty() => {
                let pair = pairs[i.index(pairs.len())].clone();
                pairs.push(pair);
            }
            _ => {}
        }
    }
    pairs
}

/// Decoded queries: a base and up to six edits, in any order.
fn query() -> impl Strategy<Value = Vec<(String, String)>> {
    (select(bases()), vec(edit(), 0..6))
        .prop_map(|(base, edits)| apply(base, &edits))
        .prop_shuffle()
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        Just(Encoding::Everything),
        Just(Encoding::Form),
        Just(Encoding::LowerHex)
    ]
}

fn noise() -> impl Strategy<Value = &'static str> {
    select(vec![
        "",
        "&",
        "=",
        "==",
        "a=b=c",
        "%",
        "%zz",
        "%4",
        "%E9",
        "%C3",
        "%FF%FE",
        "%C0%AF",
        "+",
        "++=+",
        "appId",
        "mcc",
        "signature=",
        "%61ppId=x",
        "userDomain%3DC.DM.1",
    ])
}

/// A raw v2 query: the pairs of a decoded query, each encoded its own way, with noise and
/// arbitrary percent-encoded bytes mixed in.
fn raw_segments() -> impl Strategy<Value = Vec<Segment>> {
    (
        query(),
        vec(encoding(), 16),
        vec((any::<Index>(), noise()), 0..3),
        vec((any::<Index>(), name(), vec(any::<u8>(), 0..16)), 0..2),
    )
        .prop_map(|(pairs, encodings, noises, byte_values)| {
            let mut segments: Vec<Segment> = pairs
                .into_iter()
                .enumerate()
                .map(|(i, (k, v))| Segment::Pair(k, v, encodings[i % encodings.len()]))
                .collect();
            for (at, noise) in noises {
                segments.insert(at.index(segments.len() + 1), Segment::Noise(noise));
            }
            for (at, name, bytes) in byte_values {
                segments.insert(at.index(segments.len() + 1), Segment::Bytes(name, bytes));
            }
            segments
        })
}

// ---------------------------------------------------------------------------------------------
// Properties 1 and 2: arbitrary query strings, every answer predicted by the model.

#[test]
fn arbitrary_http_api_query_strings_get_the_contracts_answer() {
    let cases = cases(30_000);
    let rt = runtime();
    let stats = Stats::default();
    run("v2 query strings", cases, raw_segments(), |segments| {
        let raw = raw_query(&segments);
        let event = http_api_event(&raw).to_string();
        run_modelled(&rt, Fault::None, &event, &form_decode(&raw), &stats)?;
        Ok(())
    });
    stats.report("v2 query strings", cases);
    assert_reached_all_stages(&stats, cases);
}

#[test]
fn arbitrary_rest_api_query_parameters_get_the_contracts_answer() {
    let cases = cases(25_000);
    let rt = runtime();
    let stats = Stats::default();
    let style = prop_oneof![
        6 => Just(V1Style::Both),
        1 => Just(V1Style::MultiOnly),
        1 => Just(V1Style::SingleOnly),
    ];
    run(
        "v1 query maps",
        cases,
        (query(), style),
        |(pairs, style)| {
            let (event, decoded) = rest_event(&pairs, style);
            run_modelled(&rt, Fault::None, &event.to_string(), &decoded, &stats)?;
            Ok(())
        },
    );
    stats.report("v1 query maps", cases);
    assert_reached_all_stages(&stats, cases);
}

/// The arbitrary queries must reach every check the world without faults can answer.
fn assert_reached_all_stages(stats: &Stats, cases: u32) {
    if cases < 5_000 {
        return;
    }
    let codes = stats.codes();
    for code in [
        5023, 5013, 5569, 5570, 5218, 5550, 4001, 5015, 5104, 5000, 5420, 5574, 6085, 6084, 5368,
        200,
    ] {
        assert!(
            codes.contains_key(&code),
            "no case answered {code}: {codes:?}"
        );
    }
    assert_eq!(
        stats.conversion_panics.load(Ordering::Relaxed) + stats.rejected.load(Ordering::Relaxed),
        0,
        "well-formed events must all reach the handler"
    );
}

// ---------------------------------------------------------------------------------------------
// Property 3: arbitrary event shapes.

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any_text(16).prop_map(Value::String),
        value().prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let shaped = prop_oneof![
        // Query-string and header maps of the right shape with arbitrary content.
        btree_map(name(), value(), 0..6).prop_map(|m| Value::Object(
            m.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
        )),
        btree_map(name(), vec(value(), 0..3), 0..6).prop_map(|m| Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, Value::Array(v.into_iter().map(Value::String).collect())))
                .collect()
        )),
    ];
    let tree = json_leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map(any_text(8), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop_oneof![2 => shaped, 3 => tree]
}

/// What a field of an event usually holds.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Flag,
    Map,
    MultiMap,
    List,
    Object,
}

/// Paths into either event kind that lambda_http reads, with what they usually hold.
const PATHS: [(&[&str], Kind); 27] = [
    (&["queryStringParameters"], Kind::Map),
    (&["multiValueQueryStringParameters"], Kind::MultiMap),
    (&["rawQueryString"], Kind::Text),
    (&["headers"], Kind::Map),
    (&["headers", "host"], Kind::Text),
    (&["headers", "Host"], Kind::Text),
    (&["headers", "x-forwarded-proto"], Kind::Text),
    (&["headers", "content-type"], Kind::Text),
    (&["multiValueHeaders"], Kind::MultiMap),
    (&["body"], Kind::Text),
    (&["isBase64Encoded"], Kind::Flag),
    (&["httpMethod"], Kind::Text),
    (&["path"], Kind::Text),
    (&["rawPath"], Kind::Text),
    (&["resource"], Kind::Text),
    (&["version"], Kind::Text),
    (&["routeKey"], Kind::Text),
    (&["cookies"], Kind::List),
    (&["pathParameters"], Kind::Map),
    (&["stageVariables"], Kind::Map),
    (&["requestContext"], Kind::Object),
    (&["requestContext", "stage"], Kind::Text),
    (&["requestContext", "http"], Kind::Object),
    (&["requestContext", "http", "method"], Kind::Text),
    (&["requestContext", "httpMethod"], Kind::Text),
    (&["requestContext", "domainName"], Kind::Text),
    (&["requestContext", "requestId"], Kind::Text),
];

/// A value of the usual kind, arbitrary inside.
fn typed(kind: Kind) -> BoxedStrategy<Value> {
    match kind {
        Kind::Text => prop_oneof![
            value().prop_map(Value::String),
            select(vec![
                "GET", "POST", "https", "http", "2.0", "1.0", "$default", "/", ""
            ])
            .prop_map(Value::from),
        ]
        .boxed(),
        Kind::Flag => any::<bool>().prop_map(Value::Bool).boxed(),
        Kind::Map => btree_map(name(), value(), 0..6)
            .prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
            })
            .boxed(),
        Kind::MultiMap => btree_map(name(), vec(value(), 0..3), 0..6)
            .prop_map(|m| {
                Value::Object(
                    m.into_iter()
                        .map(|(k, v)| (k, Value::Array(v.into_iter().map(Value::String).collect())))
                        .collect(),
                )
            })
            .boxed(),
        Kind::List => vec(value().prop_map(Value::String), 0..4)
            .prop_map(Value::Array)
            .boxed(),
        Kind::Object => btree_map(
            select(vec![
                "stage",
                "requestId",
                "http",
                "method",
                "domainName",
                "accountId",
            ])
            .prop_map(str::to_owned),
            typed(Kind::Text),
            0..4,
        )
        .prop_map(|m| Value::Object(m.into_iter().collect()))
        .boxed(),
    }
}

#[derive(Debug, Clone)]
enum JsonEdit {
    Set(Vec<String>, Value),
    Remove(Vec<String>),
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    // One strategy per path, built once: strategies built per case would recompile regexes.
    let known: Vec<(u32, BoxedStrategy<JsonEdit>)> = PATHS
        .iter()
        .map(|(path, kind)| {
            let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
            let (typed_path, any_path) = (path.clone(), path.clone());
            let edit = prop_oneof![
                6 => typed(*kind).prop_map(move |v| JsonEdit::Set(typed_path.clone(), v)),
                1 => json_value().prop_map(move |v| JsonEdit::Set(any_path.clone(), v)),
                1 => Just(JsonEdit::Remove(path)),
            ];
            (1, edit.boxed())
        })
        .collect();
    let unknown = (any_text(10), json_value()).prop_map(|(k, v)| JsonEdit::Set(vec![k], v));
    prop_oneof![6 => Union::new_weighted(known), 1 => unknown]
}

fn apply_json(event: &mut Value, edit: &JsonEdit) {
    let (path, value) = match edit {
        JsonEdit::Set(path, value) => (path, Some(value)),
        JsonEdit::Remove(path) => (path, None),
    };
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = event;
    for key in parents {
        if !at.is_object() {
            *at = json!({});
        }
        at = at
            .as_object_mut()
            .expect("object")
            .entry(key.clone())
            .or_insert_with(|| json!({}));
    }
    if !at.is_object() {
        *at = json!({});
    }
    let object = at.as_object_mut().expect("object");
    match value {
        Some(value) => {
            object.insert(last.clone(), value.clone());
        }
        None => {
            object.remove(last);
        }
    }
}

#[derive(Debug, Clone)]
enum Shape {
    /// A well-formed event of either kind with edits applied.
    Edited(Value, Vec<JsonEdit>),
    /// Anything at all.
    Whole(Value),
    /// Not JSON.
    Text(String),
}

fn shape() -> impl Strategy<Value = Shape> {
    let base = prop_oneof![
        (query(), any::<bool>()).prop_map(|(pairs, multi)| {
            let style = if multi {
                V1Style::Both
            } else {
                V1Style::SingleOnly
            };
            rest_event(&pairs, style).0
        }),
        raw_segments().prop_map(|s| http_api_event(&raw_query(&s))),
    ];
    prop_oneof![
        18 => (base, vec(json_edit(), 1..4)).prop_map(|(b, e)| Shape::Edited(b, e)),
        1 => json_value().prop_map(Shape::Whole),
        1 => any_text(40).prop_map(Shape::Text),
    ]
}

#[test]
fn arbitrary_event_shapes_always_get_the_envelope() {
    let cases = cases(20_000);
    let rt = runtime();
    let stats = Stats::default();
    run("event shapes", cases, shape(), |shape| {
        let event = match shape {
            Shape::Edited(mut event, edits) => {
                for edit in &edits {
                    apply_json(&mut event, edit);
                }
                event.to_string()
            }
            Shape::Whole(value) => value.to_string(),
            Shape::Text(text) => text,
        };
        run_event(&rt, Fault::None, &event, &stats)?;
        Ok(())
    });
    stats.report("event shapes", cases);
    if cases >= 5_000 {
        let handled = stats.handled.load(Ordering::Relaxed);
        // About 57% do; far fewer would mean the shapes no longer test the handler.
        assert!(
            handled * 5 >= cases as usize * 2,
            "fewer than 40% of the shapes reached the handler: {handled} of {cases}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Property 4: checks 8 to 16, reached with valid formats and, mostly, valid signatures.

#[derive(Debug, Clone)]
enum DomainPick {
    Enabled,
    Disabled,
    NoSecret,
    Unknown(String),
}

#[derive(Debug, Clone)]
enum SignaturePick {
    Valid,
    Uppercase,
    OtherSecret,
    Arbitrary(String),
}

#[derive(Debug, Clone)]
struct Deep {
    domain: DomainPick,
    app_id: String,
    credentials: (String, String),
    signature: SignaturePick,
    mcc: Option<(i32, u8)>,
    fault: Fault,
    extra: Vec<(String, String)>,
    v2: bool,
}

/// Non-blank text of at most 1024 bytes.
fn present_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (any::<char>().prop_filter("not blank", |c| !c.is_whitespace()), any_text(30))
            .prop_map(|(c, rest)| format!("{c}{rest}")),
        1 => (1000usize..=1024).prop_map(|n| "x".repeat(n)),
    ]
}

fn deep() -> impl Strategy<Value = Deep> {
    let domain = prop_oneof![
        6 => Just(DomainPick::Enabled),
        1 => Just(DomainPick::Disabled),
        1 => Just(DomainPick::NoSecret),
        1 => string_regex("[A-Z]\\.[A-Z]{2}\\.[0-9]{1,20}(\\.[0-9]{1,4})?")
            .expect("regex")
            .prop_filter("unknown", |d| ![ENABLED, DISABLED, NO_SECRET].contains(&d.as_str()))
            .prop_map(DomainPick::Unknown),
    ];
    let app_id = prop_oneof![
        6 => Just(TW_APP.to_owned()),
        1 => Just(FB_APP.to_owned()),
        2 => present_text(),
    ];
    let credentials = prop_oneof![
        4 => Just((TOKEN.to_owned(), TOKEN_SECRET.to_owned())),
        1 => (Just(TOKEN.to_owned()), present_text()),
        2 => (present_text(), present_text()),
    ];
    let signature = prop_oneof![
        10 => Just(SignaturePick::Valid),
        2 => Just(SignaturePick::Uppercase),
        1 => Just(SignaturePick::OtherSecret),
        1 => present_text().prop_map(SignaturePick::Arbitrary),
    ];
    let mcc_value = prop_oneof![
        3 => Just(LOCAL_MCC),
        1 => Just(FOREIGN_MCC),
        1 => any::<i32>(),
        1 => select(vec![0, i32::MIN, i32::MAX, -1]),
    ];
    let mcc = prop_oneof![
        2 => Just(None),
        3 => (mcc_value, 0u8..3).prop_map(Some),
    ];
    let fault = prop_oneof![
        12 => Just(Fault::None),
        1 => Just(Fault::StoreUnavailable),
        1 => Just(Fault::StoreInternal),
        1 => Just(Fault::TwitterUnavailable),
        1 => Just(Fault::TwitterRejects),
        1 => Just(Fault::TwitterUnparsable),
    ];
    let extra = vec(
        (name(), value()).prop_filter("not a contract parameter", |(n, _)| {
            !PARAMETERS.contains(&n.as_str())
        }),
        0..3,
    );
    (
        domain,
        app_id,
        credentials,
        signature,
        mcc,
        fault,
        extra,
        any::<bool>(),
    )
        .prop_map(
            |(domain, app_id, credentials, signature, mcc, fault, extra, v2)| Deep {
                domain,
                app_id,
                credentials,
                signature,
                mcc,
                fault,
                extra,
                v2,
            },
        )
}

fn deep_pairs(deep: &Deep) -> Vec<(String, String)> {
    let (domain, secret) = match &deep.domain {
        DomainPick::Enabled => (ENABLED.to_owned(), ENABLED_SECRET),
        DomainPick::Disabled => (DISABLED.to_owned(), DISABLED_SECRET),
        DomainPick::NoSecret => (NO_SECRET.to_owned(), "no-secret"),
        DomainPick::Unknown(d) => (d.clone(), "unknown"),
    };
    let (token, token_secret) = &deep.credentials;
    let valid = sign(&deep.app_id, token, token_secret, secret);
    let signature = match &deep.signature {
        SignaturePick::Valid => valid,
        SignaturePick::Uppercase => valid.to_uppercase(),
        SignaturePick::OtherSecret => sign(&deep.app_id, token, token_secret, "other"),
        SignaturePick::Arbitrary(s) => s.clone(),
    };
    let mut pairs: Vec<(String, String)> = vec![
        ("userDomain".into(), domain),
        ("appId".into(), deep.app_id.clone()),
        ("oauthToken".into(), token.clone()),
        ("oauthTokenSecret".into(), token_secret.clone()),
        ("signature".into(), signature),
    ];
    if let Some((mcc, style)) = deep.mcc {
        let text = match (style, mcc >= 0) {
            (1, true) => format!("+{mcc}"),
            (2, true) => format!("00{mcc}"),
            (2, false) => format!("-00{}", mcc.unsigned_abs()),
            _ => mcc.to_string(),
        };
        pairs.push(("mcc".into(), text));
    }
    pairs.extend(deep.extra.iter().cloned());
    pairs
}

#[test]
fn deep_checks_answer_exactly_and_store_only_on_success() {
    let cases = cases(30_000);
    let rt = runtime();
    let stats = Stats::default();
    run("deep checks", cases, deep(), |deep| {
        let pairs = deep_pairs(&deep);
        let (code, _, mcc) = model(&pairs, deep.fault);
        prop_assert!(
            ![5023, 5013, 5569, 5570, 5218, 5550, 4001].contains(&code),
            "the strategy must pass checks 1 to 7: {:?}",
            pairs
        );
        let (event, decoded) = if deep.v2 {
            let segments: Vec<Segment> = pairs
                .iter()
                .map(|(k, v)| Segment::Pair(k.clone(), v.clone(), Encoding::Everything))
                .collect();
            (http_api_event(&raw_query(&segments)), pairs.clone())
        } else {
            rest_event(&pairs, V1Style::Both)
        };
        let handler_fault = deep.fault;
        let got = run_modelled(&rt, handler_fault, &event.to_string(), &decoded, &stats)?;
        prop_assert_eq!(got, Some(code), "the event reached the handler");
        if code == 200 {
            // The stored mcc is the one sent, whatever its spelling.
            prop_assert_eq!(mcc, deep.mcc.map(|(m, _)| m));
        }
        Ok(())
    });
    stats.report("deep checks", cases);
    if cases >= 5_000 {
        let codes = stats.codes();
        for code in [
            5015, 5104, 5000, 5420, 5574, 6085, 6084, 5367, 5368, 5369, 5001, 200,
        ] {
            assert!(
                codes.contains_key(&code),
                "no case answered {code}: {codes:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The model itself, on the contract's own examples, so that a wrong model cannot hide a bug.

#[test]
fn the_model_agrees_with_the_contracts_examples() {
    for domain in ["C.DM.5903.1", "E.DM.1209906967672817.3", "U.SP.8589934603"] {
        assert!(domain_format_ok(domain), "{domain}");
    }
    for domain in [
        "c.DM.1",
        "C.DM.",
        "C.DM.1.12345",
        "C.DM.1\n",
        "C.DM.1.2.3",
        "C.D.1",
    ] {
        assert!(!domain_format_ok(domain), "{domain:?}");
    }
    assert_eq!(model_mcc("+7"), Some(7));
    assert_eq!(model_mcc("-2147483648"), Some(i32::MIN));
    assert_eq!(model_mcc("00000000000000000262"), Some(262));
    for bad in ["", "+", "2147483648", " 1", "0x1", "1e3", "--1"] {
        assert_eq!(model_mcc(bad), None, "{bad:?}");
    }
    let valid = signed(ENABLED, TW_APP, ENABLED_SECRET);
    assert_eq!(model(&valid, Fault::None), (200, "", None));
    assert_eq!(model(&[], Fault::None), (5023, "", None));
    let mut twice = valid.clone();
    twice.push(("appId".into(), TW_APP.into()));
    assert_eq!(model(&twice, Fault::None), (4001, "appId", None));
    assert_eq!(
        form_decode("a=1&&b=%zz&c+d=%E9&e&=f"),
        vec![
            ("a".into(), "1".into()),
            ("b".into(), "%zz".into()),
            ("c d".into(), "\u{fffd}".into()),
            ("e".into(), String::new()),
            (String::new(), "f".into()),
        ]
    );

    // And the handler agrees on a plain valid login through both event kinds.
    let rt = runtime();
    let stats = Stats::default();
    let (event, decoded) = rest_event(&valid, V1Style::Both);
    let code = run_modelled(&rt, Fault::None, &event.to_string(), &decoded, &stats);
    assert_eq!(code.expect("v1 answer"), Some(200));
    let raw = raw_query(&[
        Segment::Pair("userDomain".into(), ENABLED.into(), Encoding::Form),
        Segment::Noise("%zz"),
    ]);
    let code = run_modelled(
        &rt,
        Fault::None,
        &http_api_event(&raw).to_string(),
        &form_decode(&raw),
        &stats,
    );
    assert_eq!(code.expect("v2 answer"), Some(5569));
}
