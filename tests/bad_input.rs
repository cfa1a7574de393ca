//! Bad input never breaks the edge. Property tests over arbitrary query strings and arbitrary
//! Lambda payloads (REST API v1 and HTTP API v2 events, and payloads that are no event at
//! all), through the real login endpoint behind `edge::invoke` (the raw payload JSON in, API
//! Gateway's response JSON out) with the in-memory adapters: no panic leaves the edge and every
//! answer is the contract's envelope.
//!
//! An independent model of the contract (checks 1 to 16, written from the contract, not from
//! `src/`) predicts the exact code, `extMsg` and what is stored for every event the endpoint
//! sees. An event lambda_http cannot convert answers 4001 with an empty `extMsg` and HTTP 200;
//! a payload that is no API Gateway event answers 5000 with HTTP 500.
//!
//! Case counts: `PROPTEST_CASES` sets the cases of each property; without it the four
//! properties run 15,000 + 12,000 + 10,000 + 15,000 = 52,000 cases in all, about half a minute
//! on two cores (more cases cost CI time; `PROPTEST_CASES=30000` for a deeper local run).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::RequestExt;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use lambda_http::request::LambdaRequest;
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
use serde_json::value::RawValue;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use testkit::events::LOGIN_ROUTE;
use testkit::memory::{ManualClock, MemoryStore, MemoryTables, MemoryTwitter};
use testkit::prelude::context;
use twitter_auth_login::domain::secret::Secret;
use twitter_auth_login::domain::session::{Lifetimes, SessionStatus, TokenKind};
use twitter_auth_login::domain::user::{TwitterUser, User, uid_for};
use twitter_auth_login::domain::user_domain::{App, DomainState, UserDomain};
use twitter_auth_login::endpoints::login::{Login, Policy};
use twitter_auth_login::error::{ApiError, Field, Misprovision};
use twitter_auth_login::http::edge;

// ---------------------------------------------------------------------------------------------
// The world: user domains (some with malformed attributes), apps, MCC routes, one Twitter user.

const DATA_CENTER: &str = "dc-eu";
const ENABLED: &str = "C.DM.5903.1";
const ENABLED_SECRET: &str = "enabled-domain-secret-0123";
const DISABLED: &str = "E.DM.1209906967672817.3";
const DISABLED_SECRET: &str = "disabled-domain-secret-4567";
/// Enabled, but its secret is malformed.
const NO_SECRET: &str = "U.SP.8589934603";
/// Its `enabled` is malformed.
const BAD_ENABLED: &str = "B.EN.42";
/// Enabled with a good secret, but its app map is malformed.
const BAD_APPS: &str = "A.PP.7.1";
const BAD_APPS_SECRET: &str = "bad-apps-domain-secret-89";
const TW_APP: &str = "tw-app";
const FB_APP: &str = "fb-app";
/// An app entry that is malformed.
const BROKEN_APP: &str = "broken-app";
const CONSUMER_KEY: &str = "ck-tw";
const CONSUMER_SECRET: &str = "cs-tw-very-secret";
const FB_CONSUMER_SECRET: &str = "cs-fb-very-secret";
const TOKEN: &str = "1234-oauth-token";
const TOKEN_SECRET: &str = "oauth+token/secret=";
const USER_ID: &str = "783214";
const USERNAME: &str = "jack";
const LOCAL_MCC: i32 = 262;
const FOREIGN_MCC: i32 = 460;
/// A route whose data center is malformed.
const BROKEN_MCC: i32 = 505;
/// The clock stands still: expirations are exact.
const NOW: u64 = 1_800_000_000;
const ACCESS_TTL: u64 = 7200;
const REFRESH_TTL: u64 = 2_592_000;
const SESSION_MAX: u64 = 7_776_000;

const PARAMETERS: [&str; 6] = [
    "userDomain",
    "oauthToken",
    "oauthTokenSecret",
    "appId",
    "signature",
    "mcc",
];

/// Values that must never appear in an answer.
const NEVER_ANSWERED: [&str; 5] = [
    ENABLED_SECRET,
    DISABLED_SECRET,
    BAD_APPS_SECRET,
    CONSUMER_SECRET,
    FB_CONSUMER_SECRET,
];

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

type TestLogin = Login<MemoryStore, MemoryTwitter>;

fn misprovision(item: &str, attribute: &str) -> Misprovision {
    Misprovision {
        item: item.to_owned(),
        attribute: attribute.to_owned(),
    }
}

/// The user domains every world starts with (built once: the endpoint runs 100,000 times).
fn user_domains() -> &'static HashMap<String, UserDomain> {
    static DOMAINS: OnceLock<HashMap<String, UserDomain>> = OnceLock::new();
    DOMAINS.get_or_init(build_user_domains)
}

fn mcc_routes() -> &'static HashMap<i32, Field<String>> {
    static ROUTES: OnceLock<HashMap<i32, Field<String>>> = OnceLock::new();
    ROUTES.get_or_init(build_mcc_routes)
}

fn build_user_domains() -> HashMap<String, UserDomain> {
    let app = |platform: &str, key: &str, secret: &str| {
        Ok(App {
            platform: platform.into(),
            consumer_key: key.into(),
            consumer_secret: Secret::new(secret),
        })
    };
    let apps: HashMap<String, Field<App>> = HashMap::from([
        (
            TW_APP.to_owned(),
            app("twitter", CONSUMER_KEY, CONSUMER_SECRET),
        ),
        (
            FB_APP.to_owned(),
            app("facebook", "ck-fb", FB_CONSUMER_SECRET),
        ),
        (
            BROKEN_APP.to_owned(),
            Err(misprovision("user domain", "apps.broken-app.consumerKey")),
        ),
    ]);
    let domain = |enabled: Field<bool>, secret: Field<&str>, with_apps: bool| UserDomain {
        state: DomainState { enabled },
        secret: secret.map(Secret::new),
        apps: if with_apps {
            Ok(apps.clone())
        } else {
            Err(misprovision("user domain", "apps"))
        },
    };
    HashMap::from([
        (
            ENABLED.to_owned(),
            domain(Ok(true), Ok(ENABLED_SECRET), true),
        ),
        (
            DISABLED.to_owned(),
            domain(Ok(false), Ok(DISABLED_SECRET), true),
        ),
        (
            NO_SECRET.to_owned(),
            domain(Ok(true), Err(misprovision("user domain", "secret")), true),
        ),
        (
            BAD_ENABLED.to_owned(),
            domain(
                Err(misprovision("user domain", "enabled")),
                Ok("bad-enabled-secret"),
                true,
            ),
        ),
        (
            BAD_APPS.to_owned(),
            domain(Ok(true), Ok(BAD_APPS_SECRET), false),
        ),
    ])
}

fn build_mcc_routes() -> HashMap<i32, Field<String>> {
    HashMap::from([
        (LOCAL_MCC, Ok(DATA_CENTER.to_owned())),
        (FOREIGN_MCC, Ok("dc-cn".to_owned())),
        (BROKEN_MCC, Err(misprovision("MCC route 505", "dataCenter"))),
    ])
}

/// A fresh login endpoint, and a handle on its tables (clones of a store share them).
fn world(fault: Fault) -> (TestLogin, MemoryStore) {
    let mut store = MemoryStore::new(user_domains().clone(), mcc_routes().clone());
    store.fail_with = match fault {
        Fault::StoreUnavailable => Some(ApiError::StoreUnavailable("injected")),
        Fault::StoreInternal => Some(ApiError::Internal("injected")),
        _ => None,
    };
    let twitter = MemoryTwitter {
        users: HashMap::from([(
            (CONSUMER_KEY.into(), TOKEN.into(), TOKEN_SECRET.into()),
            TwitterUser {
                id: USER_ID.into(),
                username: Some(USERNAME.into()),
            },
        )]),
        fail_with: match fault {
            Fault::TwitterUnavailable => Some(ApiError::TwitterUnavailable("injected")),
            Fault::TwitterRejects => Some(ApiError::TwitterRejected("injected")),
            Fault::TwitterUnparsable => Some(ApiError::TwitterUnparsable),
            _ => None,
        },
    };
    let policy = Policy {
        data_center: DATA_CENTER.into(),
        lifetimes: Lifetimes {
            access_token_ttl: ACCESS_TTL,
            refresh_token_ttl: REFRESH_TTL,
            session_max: SESSION_MAX,
        },
    };
    let login = Login::new(
        store.clone(),
        twitter,
        policy,
        Arc::new(ManualClock::at(NOW)),
    );
    (login, store)
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
// The model: the contract's checks, in order, over the decoded query.

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

/// What the contract says the endpoint answers to this decoded query: (code, extMsg, and on
/// success the mcc stored with the tokens).
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
    // Checks 8 to 10; a malformed attribute answers 5000 where its check stands.
    let secret = match domain {
        ENABLED => ENABLED_SECRET,
        BAD_APPS => BAD_APPS_SECRET,
        DISABLED => return (5104, "", None),
        NO_SECRET | BAD_ENABLED => return (5000, "", None),
        _ => return (5015, "", None),
    };
    let expected = sign(app_id, token, token_secret, secret);
    if !signature.eq_ignore_ascii_case(&expected) {
        return (5420, "", None);
    }
    // Check 11.
    if domain == BAD_APPS || app_id == BROKEN_APP {
        return (5000, "", None);
    }
    if app_id != TW_APP {
        return (5574, "", None);
    }
    // Checks 12 and 13.
    match mcc {
        Some(LOCAL_MCC) | None => {}
        Some(FOREIGN_MCC) => return (6084, "", None),
        Some(BROKEN_MCC) => return (5000, "", None),
        Some(_) => return (6085, "", None),
    }
    // Checks 14 to 16.
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

/// A REST event's payload, and the query the endpoint sees in it.
fn rest_event(pairs: &[(String, String)], style: V1Style) -> (String, Vec<(String, String)>) {
    let payload = testkit::events::rest_event(pairs);
    let without = |field: &str| {
        let mut event: Value = serde_json::from_str(&payload).expect("testkit's event is JSON");
        event[field] = Value::Null;
        event.to_string()
    };
    let payload = match style {
        V1Style::Both => payload,
        V1Style::MultiOnly => without("queryStringParameters"),
        V1Style::SingleOnly => without("multiValueQueryStringParameters"),
    };
    // What the endpoint sees: with the multi-valued map present, every value; else the last.
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
    (payload, decoded)
}

/// An HTTP API event's payload.
fn http_api_event(raw_query: &str) -> String {
    testkit::events::http_api_event(raw_query)
}

fn json_of(payload: &str) -> Value {
    serde_json::from_str(payload).expect("testkit's event is JSON")
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
// Which payloads are events, and which events are malformed.

/// The kind of API Gateway event a payload is, tried in lambda_http's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Rest,
    HttpApi,
}

/// A payload read as an API Gateway event.
enum Parsed {
    Rest(Box<ApiGatewayProxyRequest>),
    HttpApi(Box<ApiGatewayV2httpRequest>),
}

impl Parsed {
    fn read(payload: &str) -> Option<Parsed> {
        if let Ok(event) = serde_json::from_str(payload) {
            Some(Parsed::Rest(Box::new(event)))
        } else if let Ok(event) = serde_json::from_str(payload) {
            Some(Parsed::HttpApi(Box::new(event)))
        } else {
            None
        }
    }

    fn origin(&self) -> Origin {
        match self {
            Parsed::Rest(_) => Origin::Rest,
            Parsed::HttpApi(_) => Origin::HttpApi,
        }
    }

    /// The contract's parameters as the endpoint sees them, decoded by lambda_http; only for
    /// an event it converts. (Not `QueryMap::iter`: it panics on a name with no value.)
    fn query(self) -> Vec<(String, String)> {
        let event = match self {
            Parsed::Rest(event) => LambdaRequest::ApiGatewayV1(*event),
            Parsed::HttpApi(event) => LambdaRequest::ApiGatewayV2(*event),
        };
        let query = lambda_http::Request::from(event).query_string_parameters();
        PARAMETERS
            .iter()
            .flat_map(|name| {
                let values = query.all(name).unwrap_or_default();
                values
                    .into_iter()
                    .map(|v| ((*name).to_owned(), v.to_owned()))
            })
            .collect()
    }
}

fn event_origin(payload: &str) -> Option<Origin> {
    Parsed::read(payload).map(|parsed| parsed.origin())
}

/// The longest URI the `http` crate takes.
const MAX_URI: usize = 65_534;
/// Characters a raw v2 query string may not hold.
const QUERY_BREAKERS: [char; 6] = [' ', '"', '<', '>', '\t', '\u{7f}'];
const BAD_HOSTS: [&str; 3] = ["bad host", "evil.com:99999", "api.example.com:65536"];
const BAD_PROTOS: [&str; 3] = ["ht tp", "1https", "http s"];

/// The kinds of event the contract calls malformed: lambda_http cannot turn them into a
/// request, and the edge answers 4001 with an empty extMsg and HTTP 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    QueryChar,
    LongUri,
    NotBase64,
    BadHost,
    BadProto,
    EmptyMultiValue,
}

/// The one value of a header, by case-insensitive name, when it is given exactly once.
fn single_header<'a>(event: &'a Value, name: &str) -> Option<&'a str> {
    match header_values(event, name).as_slice() {
        [value] => value.as_str(),
        _ => None,
    }
}

/// Every value of a header, by case-insensitive name.
fn header_values<'a>(event: &'a Value, name: &str) -> Vec<&'a Value> {
    let Some(headers) = event.get("headers").and_then(Value::as_object) else {
        return Vec::new();
    };
    headers
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
        .collect()
}

/// The malformed families an event (of this origin) belongs to.
fn families(event: &Value, origin: Origin) -> Vec<Family> {
    let text = |key: &str| event.get(key).and_then(Value::as_str);
    let mut found = Vec::new();
    let raw_query = match origin {
        Origin::HttpApi => text("rawQueryString"),
        Origin::Rest => None,
    };
    let path = match origin {
        Origin::HttpApi => text("rawPath").or(text("path")),
        Origin::Rest => text("path"),
    };
    // The edge refuses these itself, wherever a `#` stands: the `http` crate would take what
    // follows a `#` for a fragment and not check it, while the query map reads on.
    let breaks = |c: char| c <= ' ' || c == '\u{7f}' || matches!(c, '"' | '<' | '>' | '#');
    if raw_query.is_some_and(|q| q.contains(breaks)) {
        found.push(Family::QueryChar);
    }
    // A v1 query map is encoded again into the URI, the multi-valued map when it has names.
    let rest_query = match origin {
        Origin::Rest => ["multiValueQueryStringParameters", "queryStringParameters"]
            .iter()
            .filter_map(|key| event.get(*key).and_then(Value::as_object))
            .find(|map| !map.is_empty())
            .map_or(0, |map| {
                let mut query = form_urlencoded::Serializer::new(String::new());
                for (name, values) in map {
                    let values = match values {
                        Value::Array(values) => values.iter().collect(),
                        value => vec![value],
                    };
                    for value in values.into_iter().filter_map(Value::as_str) {
                        query.append_pair(name, value);
                    }
                }
                query.finish().len()
            }),
        Origin::HttpApi => 0,
    };
    // A path that does not start with `/` may end up in the host, and a host-less URI drops
    // what follows a `#` or `?`.
    let long_path = |p: &str| {
        p.len() > MAX_URI && p.starts_with('/') && !p.contains(['#', '?', '.', '%', '\\'])
    };
    if raw_query.is_some_and(|q| q.len() > MAX_URI)
        || path.is_some_and(long_path)
        || rest_query > MAX_URI
    {
        found.push(Family::LongUri);
    }
    let base64 = event.get("isBase64Encoded") == Some(&Value::Bool(true));
    if base64 && text("body").is_some_and(|body| STANDARD.decode(body).is_err()) {
        found.push(Family::NotBase64);
    }
    let host = single_header(event, "host");
    // A scheme of another shape could turn the host into a path.
    let usual_scheme = match header_values(event, "x-forwarded-proto").as_slice() {
        [] => true,
        [scheme] => *scheme == "http" || *scheme == "https",
        _ => false,
    };
    if usual_scheme && host.is_some_and(|h| BAD_HOSTS.contains(&h)) {
        found.push(Family::BadHost);
    }
    // The scheme is read only when there is a host to put after it.
    let has_host = host.is_some_and(|h| h.bytes().all(|b| (b' '..=b'~').contains(&b)))
        || event
            .pointer("/requestContext/domainName")
            .is_some_and(Value::is_string);
    let proto = single_header(event, "x-forwarded-proto");
    if has_host && proto.is_some_and(|p| BAD_PROTOS.contains(&p)) {
        found.push(Family::BadProto);
    }
    let multi = event
        .get("multiValueQueryStringParameters")
        .and_then(Value::as_object);
    if origin == Origin::Rest
        && multi.is_some_and(|m| m.values().any(|v| v.as_array().is_some_and(Vec::is_empty)))
    {
        found.push(Family::EmptyMultiValue);
    }
    found
}

/// Whether the URI lambda_http builds for a testkit HTTP API event would be over the limit.
fn http_api_uri_too_long(raw: &str) -> bool {
    let prefix = format!("https://api.example.com{LOGIN_ROUTE}?");
    !raw.is_empty() && prefix.len() + raw.len() > MAX_URI
}

/// The same for a testkit REST event, whose query map is encoded again into the URI.
fn rest_uri_too_long(decoded: &[(String, String)]) -> bool {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(decoded)
        .finish();
    let prefix = format!("https://api.example.com/prod{LOGIN_ROUTE}?");
    !query.is_empty() && prefix.len() + query.len() > MAX_URI
}

// ---------------------------------------------------------------------------------------------
// Panics inside the edge.

thread_local! {
    /// Where the panics of this thread happened, since the last `take_panics`.
    static PANICKED_AT: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Where lambda_http's event conversion panics: the edge catches these.
fn in_conversion(place: &str) -> bool {
    ["lambda_http", "aws_lambda_events", "query_map"]
        .iter()
        .any(|krate| place.contains(krate))
}

/// Records every panic's place; the edge catches conversion panics by design, so those are
/// not printed, and anything else still is.
fn watch_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let place = info.location().map_or_else(String::new, |l| {
                let file = l.file();
                let file = file
                    .rsplit_once("/registry/src/")
                    .map_or(file, |(_, f)| f.split_once('/').map_or(f, |(_, rest)| rest));
                format!("{file}:{}", l.line())
            });
            let quiet = in_conversion(&place);
            PANICKED_AT.with(|p| p.borrow_mut().push(place));
            if !quiet {
                previous(info);
            }
        }));
    });
}

fn take_panics() -> Vec<String> {
    PANICKED_AT.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

// ---------------------------------------------------------------------------------------------
// Invoking the edge and checking the answer.

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// An answer, checked against the envelope's invariants.
#[derive(Debug)]
struct Answer {
    status: u16,
    code: u64,
    ext_msg: String,
    data: Value,
}

/// How far a payload got.
#[derive(Debug)]
enum Reached {
    /// No API Gateway event: 5000, HTTP 500.
    NotAnEvent,
    /// lambda_http could not convert it: 4001 with an empty extMsg, HTTP 200.
    Malformed(Vec<String>),
    /// The endpoint answered; on success, the mcc stored with both tokens.
    Endpoint(Answer, Option<Option<i32>>),
}

fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

/// Checks API Gateway's response JSON for an event of `origin` (a REST response when the
/// payload is no event), and the envelope in its body.
fn check_response(response: &Value, origin: Option<Origin>) -> Result<Answer, TestCaseError> {
    let object = response
        .as_object()
        .ok_or_else(|| fail(format!("the response is not an object: {response}")))?;
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let (headers_field, empty_field, expected_keys) = match origin {
        Some(Origin::HttpApi) => (
            "headers",
            "multiValueHeaders",
            vec![
                "body",
                "cookies",
                "headers",
                "isBase64Encoded",
                "multiValueHeaders",
                "statusCode",
            ],
        ),
        _ => (
            "multiValueHeaders",
            "headers",
            vec![
                "body",
                "headers",
                "isBase64Encoded",
                "multiValueHeaders",
                "statusCode",
            ],
        ),
    };
    prop_assert_eq!(keys, expected_keys, "{}", response);
    prop_assert_eq!(&response["isBase64Encoded"], false, "{}", response);
    prop_assert_eq!(&response[empty_field], &json!({}), "{}", response);
    let header = |value: &str| match origin {
        Some(Origin::HttpApi) => json!(value),
        _ => json!([value]),
    };
    prop_assert_eq!(
        &response[headers_field],
        &json!({"content-type": header("application/json"), "cache-control": header("no-store")}),
        "{}",
        response
    );
    let status = response["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or_else(|| fail(format!("statusCode is not a status: {response}")))?;
    let body_text = response["body"]
        .as_str()
        .ok_or_else(|| fail(format!("the body is not response: {response}")))?;
    let body: Value = serde_json::from_str(body_text)
        .map_err(|e| fail(format!("the body is not JSON ({e}): {response}")))?;
    let envelope = body
        .as_object()
        .ok_or_else(|| fail(format!("the body is not an object: {response}")))?;
    let mut keys: Vec<&str> = envelope.keys().map(String::as_str).collect();
    keys.sort_unstable();
    prop_assert_eq!(keys, vec!["code", "data", "extMsg", "msg"], "{}", response);

    let code = body["code"]
        .as_u64()
        .ok_or_else(|| fail(format!("code is not a number: {response}")))?;
    let (msg, code_status) =
        contract(code).ok_or_else(|| fail(format!("unknown code: {response}")))?;
    prop_assert_eq!(&body["msg"], msg, "{}", response);
    prop_assert_eq!(status, code_status, "{}", response);
    let ext_msg = body["extMsg"]
        .as_str()
        .ok_or_else(|| fail(format!("extMsg is not a string: {response}")))?
        .to_owned();
    if code == 4001 {
        // A parameter's name, or nothing when the event itself was malformed.
        prop_assert!(
            ext_msg.is_empty() || PARAMETERS.contains(&ext_msg.as_str()),
            "{}",
            response
        );
    } else {
        prop_assert_eq!(&ext_msg, "", "{}", response);
    }
    let data = body["data"].clone();
    if code == 200 {
        let mut fields: Vec<&str> = data
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        fields.sort_unstable();
        prop_assert_eq!(
            fields,
            vec!["accessToken", "refreshToken", "uid"],
            "{}",
            response
        );
        for kind in ["accessToken", "refreshToken"] {
            let mut fields: Vec<&str> = data[kind]
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            fields.sort_unstable();
            prop_assert_eq!(fields, vec!["expirationTime", "token"], "{}", response);
        }
    } else {
        prop_assert!(data.is_null(), "{}", response);
    }
    for secret in NEVER_ANSWERED {
        prop_assert!(
            !body_text.contains(secret),
            "a secret was answered: {}",
            response
        );
    }
    Ok(Answer {
        status,
        code,
        ext_msg,
        data,
    })
}

fn url_safe(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a success must have answered and stored: the tokens' shape, exactly two token items
/// under their SHA-256, one session, one user, all of the one Twitter user on the enabled
/// domain. Returns the mcc stored with the tokens.
fn check_success(answer: &Answer, tables: &MemoryTables) -> Result<Option<i32>, TestCaseError> {
    let data = &answer.data;
    let uid = uid_for(ENABLED, USER_ID);
    prop_assert_eq!(&data["uid"], uid.as_str());
    let token = |kind: &str| data[kind]["token"].as_str().unwrap_or_default().to_owned();
    let (access, refresh) = (token("accessToken"), token("refreshToken"));
    prop_assert_ne!(&access, &refresh);
    let mut session_ids = Vec::new();
    for token in [&access, &refresh] {
        let parts: Vec<&str> = token.rsplitn(4, '.').collect();
        prop_assert_eq!(parts.len(), 4, "{}", token);
        let (secret, session_id, token_uid, domain) = (parts[0], parts[1], parts[2], parts[3]);
        prop_assert_eq!((domain, token_uid), (ENABLED, uid.as_str()), "{}", token);
        prop_assert!(url_safe(session_id, 22), "session id in {}", token);
        prop_assert!(url_safe(secret, 43), "secret in {}", token);
        session_ids.push(session_id.to_owned());
    }
    prop_assert_eq!(&session_ids[0], &session_ids[1], "one session");
    let session_id = session_ids.swap_remove(0);
    prop_assert_eq!(
        (
            data["accessToken"]["expirationTime"].as_u64(),
            data["refreshToken"]["expirationTime"].as_u64()
        ),
        (Some(NOW + ACCESS_TTL), Some(NOW + REFRESH_TTL))
    );

    let (access_hash, refresh_hash) = (sha256_hex(&[&access]), sha256_hex(&[&refresh]));
    prop_assert_eq!(tables.tokens.len(), 2, "two token items");
    let mut mccs = Vec::new();
    for (hash, kind, expires) in [
        (&access_hash, TokenKind::Access, NOW + ACCESS_TTL),
        (&refresh_hash, TokenKind::Refresh, NOW + REFRESH_TTL),
    ] {
        let item = tables
            .tokens
            .get(hash)
            .ok_or_else(|| fail(format!("no {kind:?} item under the token's SHA-256")))?;
        prop_assert_eq!(item.kind, kind);
        prop_assert_eq!(item.expiration_time, expires);
        let owner = &item.owner;
        prop_assert_eq!(
            (
                owner.uid.as_str(),
                owner.session_id.as_str(),
                owner.user_domain.as_str(),
                owner.app_id.as_str(),
                owner.twitter_user_id.as_str(),
                owner.twitter_username.as_deref(),
            ),
            (
                uid.as_str(),
                session_id.as_str(),
                ENABLED,
                TW_APP,
                USER_ID,
                Some(USERNAME)
            )
        );
        mccs.push(owner.mcc);
    }
    prop_assert_eq!(mccs[0], mccs[1], "both tokens carry the same mcc");

    prop_assert_eq!(tables.sessions.len(), 1, "one session");
    let session = tables
        .sessions
        .get(&(uid.clone(), session_id.clone()))
        .ok_or_else(|| fail("the session is not under (uid, sessionId)".into()))?;
    prop_assert!(session.revoked_reason.is_none());
    let record = &session.record;
    prop_assert_eq!(
        (
            record.app_id.as_str(),
            record.user_domain.as_str(),
            record.created_at,
            record.status,
            record.expiration_time,
        ),
        (
            TW_APP,
            ENABLED,
            NOW,
            SessionStatus::Active,
            NOW + SESSION_MAX
        )
    );
    prop_assert_eq!(
        (&record.access_token_hash, &record.refresh_token_hash),
        (&access_hash, &refresh_hash)
    );
    prop_assert!(record.previous_refresh_token_hash.is_none() && record.rotated_at.is_none());

    prop_assert_eq!(tables.users.len(), 1, "one user");
    let expected_user = User {
        uid: uid.clone(),
        user_domain: ENABLED.into(),
        twitter_user_id: USER_ID.into(),
        twitter_username: Some(USERNAME.into()),
        register_time: NOW,
        last_login_time: NOW,
        status: 1,
    };
    prop_assert_eq!(tables.users.get(&uid), Some(&expected_user));
    Ok(mccs[0])
}

/// Invokes the edge with a raw payload and checks everything that holds whatever the payload:
/// the response's shape, the envelope, how far the payload got, and what was stored (exactly
/// one session on success, nothing otherwise; the config tables untouched).
fn run_event(
    rt: &tokio::runtime::Runtime,
    fault: Fault,
    payload: &str,
    origin: Option<Origin>,
    stats: &Stats,
) -> Result<Reached, TestCaseError> {
    watch_panics();
    let (login, store) = world(fault);
    let raw = RawValue::from_string(payload.to_owned())
        .map_err(|e| fail(format!("the payload is not JSON ({e}): {payload}")))?;
    take_panics();
    let response = rt.block_on(edge::invoke(&login, &raw, context()));
    let panics = take_panics();
    let response = serde_json::to_value(&response)
        .map_err(|e| fail(format!("the response does not serialize: {e}")))?;
    let answer = check_response(&response, origin)?;
    stats.seen(answer.code);

    let tables = store.tables();
    prop_assert!(
        &tables.user_domains == user_domains() && &tables.mcc_routes == mcc_routes(),
        "a login changed the config tables"
    );
    let stored = (
        tables.tokens.len(),
        tables.sessions.len(),
        tables.users.len(),
    );
    let reached = if origin.is_none() {
        prop_assert_eq!(
            (answer.status, answer.code, answer.ext_msg.as_str()),
            (500, 5000, ""),
            "a payload that is no API Gateway event"
        );
        prop_assert!(panics.is_empty(), "panicked at {:?}", panics);
        stats.not_events.fetch_add(1, Ordering::Relaxed);
        Reached::NotAnEvent
    } else if !panics.is_empty() {
        // The only panics the edge may catch are lambda_http's, converting the event.
        prop_assert!(
            panics.iter().all(|p| in_conversion(p)),
            "panicked at {:?}",
            panics
        );
        prop_assert_eq!(
            (answer.status, answer.code, answer.ext_msg.as_str()),
            (200, 4001, ""),
            "an event lambda_http could not convert (it panicked at {:?})",
            panics
        );
        stats.malformed(&panics);
        Reached::Malformed(panics)
    } else if answer.code == 4001 && answer.ext_msg.is_empty() {
        // Without a panic, only the edge's own check of an HTTP API query string refuses so.
        let event: Value = serde_json::from_str(payload)
            .map_err(|e| fail(format!("the payload is not JSON ({e}): {payload}")))?;
        let refused_by_edge =
            origin.is_some_and(|origin| families(&event, origin).contains(&Family::QueryChar));
        prop_assert!(
            refused_by_edge,
            "4001 without a parameter's name, yet the event converted"
        );
        prop_assert_eq!(answer.status, 200);
        Reached::Malformed(Vec::new())
    } else {
        stats.endpoint.fetch_add(1, Ordering::Relaxed);
        let mcc = if answer.code == 200 {
            Some(check_success(&answer, &tables)?)
        } else {
            None
        };
        Reached::Endpoint(answer, mcc)
    };
    if !matches!(reached, Reached::Endpoint(_, Some(_))) {
        prop_assert_eq!(stored, (0, 0, 0), "a refused login stored something");
    }
    Ok(reached)
}

/// What the model predicts for an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Malformed,
    Answer(u64, &'static str, Option<i32>),
}

/// Runs an event and checks the answer against the prediction: exact code and extMsg, and on
/// success the mcc stored with the tokens.
fn run_expecting(
    rt: &tokio::runtime::Runtime,
    fault: Fault,
    payload: &str,
    origin: Origin,
    expected: Expected,
    stats: &Stats,
) -> Result<Option<u64>, TestCaseError> {
    // A wrong origin shows in the response's shape, or as a 5000 the model does not predict.
    let reached = run_event(rt, fault, payload, Some(origin), stats)?;
    match (reached, expected) {
        (Reached::Malformed(_), Expected::Malformed) => Ok(Some(4001)),
        (Reached::Endpoint(answer, stored_mcc), Expected::Answer(code, ext_msg, mcc)) => {
            prop_assert_eq!(
                (answer.code, answer.ext_msg.as_str()),
                (code, ext_msg),
                "{}",
                payload
            );
            if code == 200 {
                prop_assert_eq!(stored_mcc, Some(mcc), "the stored mcc");
            }
            Ok(Some(answer.code))
        }
        (reached, expected) => Err(fail(format!(
            "expected {expected:?}, got {reached:?} for {payload}"
        ))),
    }
}

/// What the cases of one property did, to show the property was not vacuous.
#[derive(Default)]
struct Stats {
    endpoint: AtomicUsize,
    not_events: AtomicUsize,
    codes: Mutex<BTreeMap<u64, usize>>,
    panic_sites: Mutex<BTreeMap<String, usize>>,
    families: Mutex<BTreeMap<Family, usize>>,
}

impl Stats {
    fn seen(&self, code: u64) {
        *lock(&self.codes).entry(code).or_default() += 1;
    }

    fn malformed(&self, panics: &[String]) {
        if let Some(first) = panics.first() {
            *lock(&self.panic_sites).entry(first.clone()).or_default() += 1;
        }
    }

    fn family(&self, family: Family) {
        *lock(&self.families).entry(family).or_default() += 1;
    }

    fn codes(&self) -> BTreeMap<u64, usize> {
        lock(&self.codes).clone()
    }

    fn malformed_count(&self) -> usize {
        lock(&self.panic_sites).values().sum()
    }

    fn report(&self, name: &str, cases: u32) {
        eprintln!(
            "{name}: {cases} cases, {} answered by the endpoint, {} malformed (4001), \
             {} no event (5000); codes {:?}; conversion panics at {:?}; families {:?}",
            self.endpoint.load(Ordering::Relaxed),
            self.malformed_count(),
            self.not_events.load(Ordering::Relaxed),
            self.codes(),
            lock(&self.panic_sites),
            lock(&self.families),
        );
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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
        // ChaCha in a debug build costs more than the endpoint; these cases need no crypto RNG.
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
        with_mcc(BROKEN_MCC),
        signed("Z.ZZ.42", TW_APP, "unknown"),
        signed(DISABLED, TW_APP, DISABLED_SECRET),
        signed(NO_SECRET, TW_APP, "none"),
        signed(BAD_ENABLED, TW_APP, "none"),
        signed(BAD_APPS, TW_APP, BAD_APPS_SECRET),
        signed(ENABLED, FB_APP, ENABLED_SECRET),
        signed(ENABLED, BROKEN_APP, ENABLED_SECRET),
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
            "0", "460", "262", "505", "+262", "0262", "-0", "2147483647", "-2147483648",
            "2147483648", "-2147483649", "00000000000000000000262", "0x1F", "1e3", "4.6",
            " 262", "262 ", "262\n", "٢٦٢", "+", "-", "--1",
        ])
        .prop_map(str::to_owned),
        3 => string_regex("[A-Za-z]{1,2}\\.[A-Za-z]{1,3}\\.[0-9]{0,22}(\\.[0-9]{0,5}){0,2}\n?")
            .expect("regex"),
        1 => select(vec![
            ENABLED, DISABLED, NO_SECRET, BAD_ENABLED, BAD_APPS, TW_APP, FB_APP, BROKEN_APP,
            TOKEN, TOKEN_SECRET,
        ])
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
    let cases = cases(15_000);
    let rt = runtime();
    let stats = Stats::default();
    run("v2 query strings", cases, raw_segments(), |segments| {
        let raw = raw_query(&segments);
        let expected = if http_api_uri_too_long(&raw) {
            Expected::Malformed
        } else {
            let (code, ext_msg, mcc) = model(&form_decode(&raw), Fault::None);
            Expected::Answer(code, ext_msg, mcc)
        };
        let payload = http_api_event(&raw);
        run_expecting(
            &rt,
            Fault::None,
            &payload,
            Origin::HttpApi,
            expected,
            &stats,
        )?;
        Ok(())
    });
    stats.report("v2 query strings", cases);
    assert_reached_all_stages(&stats, cases);
}

#[test]
fn arbitrary_rest_api_query_parameters_get_the_contracts_answer() {
    let cases = cases(12_000);
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
            let (payload, decoded) = rest_event(&pairs, style);
            let expected = if rest_uri_too_long(&decoded) {
                Expected::Malformed
            } else {
                let (code, ext_msg, mcc) = model(&decoded, Fault::None);
                Expected::Answer(code, ext_msg, mcc)
            };
            run_expecting(&rt, Fault::None, &payload, Origin::Rest, expected, &stats)?;
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
}

// ---------------------------------------------------------------------------------------------
// Property 3: arbitrary payloads, mostly events with arbitrary fields.

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

fn json_path(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| (*s).to_owned()).collect()
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    // One strategy per path, built once: strategies built per case would recompile regexes.
    let known: Vec<(u32, BoxedStrategy<JsonEdit>)> = PATHS
        .iter()
        .map(|(path, kind)| {
            let path = json_path(path);
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

/// Edits that put an event in one of the malformed families (when it is still an event).
fn malformed_edits() -> impl Strategy<Value = Vec<JsonEdit>> {
    let set = |path: &[&str], value: Value| JsonEdit::Set(json_path(path), value);
    // A header given once, whatever the case of its name before.
    let header = move |names: [&str; 2], value: &str| {
        vec![
            JsonEdit::Remove(json_path(&["headers", names[0]])),
            JsonEdit::Remove(json_path(&["headers", names[1]])),
            set(&["headers", names[0]], json!(value)),
        ]
    };
    let not_base64 = value().prop_filter("not base64", |v| STANDARD.decode(v).is_err());
    prop_oneof![
        3 => (raw_segments(), select(QUERY_BREAKERS.to_vec()), any::<Index>()).prop_map(
            move |(segments, breaker, at)| {
                let mut raw = raw_query(&segments);
                // Every raw query is ASCII: any index is a char boundary.
                raw.insert(at.index(raw.len() + 1), breaker);
                vec![set(&["rawQueryString"], json!(raw))]
            }
        ),
        2 => select(BAD_HOSTS.to_vec()).prop_map(move |h| header(["host", "Host"], h)),
        2 => select(BAD_PROTOS.to_vec())
            .prop_map(move |p| header(["x-forwarded-proto", "X-Forwarded-Proto"], p)),
        2 => not_base64.prop_map(move |body| vec![
            set(&["isBase64Encoded"], json!(true)),
            set(&["body"], json!(body)),
        ]),
        2 => name().prop_map(move |n| {
            vec![set(&["multiValueQueryStringParameters", n.as_str()], json!([]))]
        }),
        1 => (select(vec!["rawQueryString", "path", "rawPath"]), 65_500usize..66_000)
            .prop_map(move |(field, n)| vec![set(&[field], json!(format!("/{}", "q".repeat(n))))]),
    ]
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
}

fn shape() -> impl Strategy<Value = Shape> {
    let base = prop_oneof![
        (query(), any::<bool>()).prop_map(|(pairs, multi)| {
            let style = if multi {
                V1Style::Both
            } else {
                V1Style::SingleOnly
            };
            json_of(&rest_event(&pairs, style).0)
        }),
        raw_segments().prop_map(|s| json_of(&http_api_event(&raw_query(&s)))),
    ];
    let edits = (
        vec(json_edit(), 0..4),
        proptest::option::weighted(0.3, malformed_edits()),
        any::<Index>(),
    )
        .prop_map(|(mut edits, malformed, at)| {
            if let Some(malformed) = malformed {
                let at = at.index(edits.len() + 1);
                edits.splice(at..at, malformed);
            }
            edits
        });
    prop_oneof![
        18 => (base, edits).prop_map(|(b, e)| Shape::Edited(b, e)),
        1 => json_value().prop_map(Shape::Whole),
    ]
}

#[test]
fn arbitrary_payloads_always_get_the_envelope() {
    let cases = cases(10_000);
    let rt = runtime();
    let stats = Stats::default();
    run("payloads", cases, shape(), |shape| {
        let event = match shape {
            Shape::Edited(mut event, edits) => {
                for edit in &edits {
                    apply_json(&mut event, edit);
                }
                event
            }
            Shape::Whole(value) => value,
        };
        let payload = event.to_string();
        let parsed = Parsed::read(&payload);
        let origin = parsed.as_ref().map(Parsed::origin);
        let predicted = origin.map(|o| families(&event, o));
        for family in predicted.iter().flatten() {
            stats.family(*family);
        }
        match run_event(&rt, Fault::None, &payload, origin, &stats)? {
            Reached::NotAnEvent => {}
            Reached::Malformed(_) => {}
            Reached::Endpoint(answer, stored_mcc) => {
                prop_assert_eq!(
                    predicted.unwrap_or_default(),
                    Vec::<Family>::new(),
                    "a malformed event reached the endpoint: {}",
                    payload
                );
                let query = parsed.map(Parsed::query).unwrap_or_default();
                let (code, ext_msg, mcc) = model(&query, Fault::None);
                prop_assert_eq!(
                    (answer.code, answer.ext_msg.as_str()),
                    (code, ext_msg),
                    "the query the endpoint saw: {:?}",
                    query
                );
                if code == 200 {
                    prop_assert_eq!(stored_mcc, Some(mcc), "the stored mcc");
                }
            }
        }
        Ok(())
    });
    stats.report("payloads", cases);
    if cases >= 5_000 {
        let endpoint = stats.endpoint.load(Ordering::Relaxed);
        let malformed = stats.malformed_count();
        let not_events = stats.not_events.load(Ordering::Relaxed);
        // Far fewer would mean the payloads no longer test the endpoint, or the edge's guards.
        assert!(
            endpoint * 5 >= cases as usize * 2,
            "fewer than 40% of the payloads reached the endpoint: {endpoint} of {cases}"
        );
        assert!(
            malformed * 20 >= cases as usize && not_events * 20 >= cases as usize,
            "fewer than 5% malformed ({malformed}) or no event ({not_events}) of {cases}"
        );
        let families = lock(&stats.families).clone();
        for family in [
            Family::QueryChar,
            Family::LongUri,
            Family::NotBase64,
            Family::BadHost,
            Family::BadProto,
            Family::EmptyMultiValue,
        ] {
            assert!(
                families.contains_key(&family),
                "no payload was of the {family:?} family: {families:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Property 4: checks 8 to 16, reached with valid formats and, mostly, valid signatures.

#[derive(Debug, Clone)]
enum DomainPick {
    Enabled,
    Disabled,
    NoSecret,
    BadEnabled,
    BadApps,
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
        12 => Just(DomainPick::Enabled),
        2 => Just(DomainPick::Disabled),
        1 => Just(DomainPick::NoSecret),
        1 => Just(DomainPick::BadEnabled),
        1 => Just(DomainPick::BadApps),
        2 => string_regex("[A-Z]\\.[A-Z]{2}\\.[0-9]{1,20}(\\.[0-9]{1,4})?")
            .expect("regex")
            .prop_filter("unknown", |d| {
                ![ENABLED, DISABLED, NO_SECRET, BAD_ENABLED, BAD_APPS].contains(&d.as_str())
            })
            .prop_map(DomainPick::Unknown),
    ];
    let app_id = prop_oneof![
        12 => Just(TW_APP.to_owned()),
        2 => Just(FB_APP.to_owned()),
        1 => Just(BROKEN_APP.to_owned()),
        4 => present_text(),
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
        6 => Just(LOCAL_MCC),
        2 => Just(FOREIGN_MCC),
        1 => Just(BROKEN_MCC),
        2 => any::<i32>(),
        2 => select(vec![0, i32::MIN, i32::MAX, -1]),
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
        DomainPick::BadEnabled => (BAD_ENABLED.to_owned(), "bad-enabled-secret"),
        DomainPick::BadApps => (BAD_APPS.to_owned(), BAD_APPS_SECRET),
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
    let cases = cases(15_000);
    let rt = runtime();
    let stats = Stats::default();
    run("deep checks", cases, deep(), |deep| {
        let pairs = deep_pairs(&deep);
        let (code, ext_msg, mcc) = model(&pairs, deep.fault);
        prop_assert!(
            ![5023, 5013, 5569, 5570, 5218, 5550, 4001].contains(&code),
            "the strategy must pass checks 1 to 7: {:?}",
            pairs
        );
        let (payload, origin) = if deep.v2 {
            let segments: Vec<Segment> = pairs
                .iter()
                .map(|(k, v)| Segment::Pair(k.clone(), v.clone(), Encoding::Everything))
                .collect();
            (http_api_event(&raw_query(&segments)), Origin::HttpApi)
        } else {
            (rest_event(&pairs, V1Style::Both).0, Origin::Rest)
        };
        let expected = Expected::Answer(code, ext_msg, mcc);
        run_expecting(&rt, deep.fault, &payload, origin, expected, &stats)?;
        if code == 200 {
            // The model's mcc is the one sent, whatever its spelling.
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
// The edge's two guards, case by case.

/// The query of a valid login, as a v2 raw query string.
fn valid_raw_query() -> String {
    let segments: Vec<Segment> = signed(ENABLED, TW_APP, ENABLED_SECRET)
        .into_iter()
        .map(|(k, v)| Segment::Pair(k, v, Encoding::Form))
        .collect();
    raw_query(&segments)
}

fn valid_rest_event() -> Value {
    json_of(&rest_event(&signed(ENABLED, TW_APP, ENABLED_SECRET), V1Style::Both).0)
}

fn valid_http_api_event() -> Value {
    json_of(&http_api_event(&valid_raw_query()))
}

/// A valid login event of either kind, changed.
fn changed(origin: Origin, change: impl FnOnce(&mut Value)) -> (Origin, Value) {
    let mut event = match origin {
        Origin::Rest => valid_rest_event(),
        Origin::HttpApi => valid_http_api_event(),
    };
    change(&mut event);
    (origin, event)
}

/// Runs one hand-written payload; a failure names it.
fn run_case(rt: &tokio::runtime::Runtime, name: &str, payload: &str, stats: &Stats) -> Reached {
    match run_event(rt, Fault::None, payload, event_origin(payload), stats) {
        Ok(reached) => reached,
        Err(error) => panic!("{name}: {error}"),
    }
}

#[test]
fn each_malformed_family_answers_4001_with_http_200() {
    let rt = runtime();
    let stats = Stats::default();
    let long = "p".repeat(MAX_URI + 10);
    let mut cases: Vec<(String, Family, (Origin, Value))> = Vec::new();
    for breaker in QUERY_BREAKERS {
        let raw = format!("{}&note=a{breaker}b", valid_raw_query());
        cases.push((
            format!("raw query holding {breaker:?}"),
            Family::QueryChar,
            changed(Origin::HttpApi, |e| e["rawQueryString"] = json!(raw)),
        ));
    }
    let long_query = format!("{}&pad={long}", valid_raw_query());
    cases.push((
        "raw query over 64 KB".into(),
        Family::LongUri,
        changed(Origin::HttpApi, |e| e["rawQueryString"] = json!(long_query)),
    ));
    cases.push((
        "raw path over 64 KB".into(),
        Family::LongUri,
        changed(Origin::HttpApi, |e| {
            e["rawPath"] = json!(format!("/{long}"))
        }),
    ));
    cases.push((
        "path over 64 KB".into(),
        Family::LongUri,
        changed(Origin::Rest, |e| e["path"] = json!(format!("/{long}"))),
    ));
    for origin in [Origin::Rest, Origin::HttpApi] {
        cases.push((
            format!("{origin:?} body that is not base64"),
            Family::NotBase64,
            changed(origin, |e| {
                e["isBase64Encoded"] = json!(true);
                e["body"] = json!("not base64!");
            }),
        ));
        for host in BAD_HOSTS {
            let name = if origin == Origin::Rest {
                "Host"
            } else {
                "host"
            };
            cases.push((
                format!("{origin:?} Host {host:?}"),
                Family::BadHost,
                changed(origin, |e| e["headers"][name] = json!(host)),
            ));
        }
        for proto in BAD_PROTOS {
            cases.push((
                format!("{origin:?} X-Forwarded-Proto {proto:?}"),
                Family::BadProto,
                changed(origin, |e| {
                    let headers = e["headers"].as_object_mut().expect("headers");
                    headers.remove("X-Forwarded-Proto");
                    headers.insert("x-forwarded-proto".into(), json!(proto));
                }),
            ));
        }
    }
    for name in ["mcc", "userDomain", "other"] {
        cases.push((
            format!("multi-valued {name} with no value"),
            Family::EmptyMultiValue,
            changed(Origin::Rest, |e| {
                e["multiValueQueryStringParameters"][name] = json!([]);
            }),
        ));
    }
    // A v1 query map is re-encoded into the URI: 70 values of 1,000 bytes are over 64 KB.
    let (origin, event) = changed(Origin::Rest, |e| {
        e["multiValueQueryStringParameters"]["pad"] = json!(vec!["x".repeat(1000); 70]);
    });
    cases.push((
        "v1 query over 64 KB".into(),
        Family::LongUri,
        (origin, event),
    ));

    for (name, family, (origin_sent, event)) in &cases {
        let payload = event.to_string();
        assert_eq!(
            event_origin(&payload),
            Some(*origin_sent),
            "{name}: an event"
        );
        assert!(
            families(event, *origin_sent).contains(family),
            "{name}: the test's own classification"
        );
        match run_case(&rt, name, &payload, &stats) {
            Reached::Malformed(panics) => eprintln!("{name}: caught a panic at {panics:?}"),
            other => panic!("{name}: expected 4001 with an empty extMsg, got {other:?}"),
        }
    }

    // Their near neighbours are fine events: the login goes through.
    let mut fine: Vec<(String, (Origin, Value))> = Vec::new();
    for origin in [Origin::Rest, Origin::HttpApi] {
        fine.push((
            format!("{origin:?} base64 body"),
            changed(origin, |e| {
                e["isBase64Encoded"] = json!(true);
                e["body"] = json!("aGVsbG8=");
            }),
        ));
        let name = if origin == Origin::Rest {
            "Host"
        } else {
            "host"
        };
        fine.push((
            format!("{origin:?} Host with a port"),
            changed(origin, |e| {
                e["headers"][name] = json!("api.example.com:8443")
            }),
        ));
        fine.push((
            format!("{origin:?} X-Forwarded-Proto http"),
            changed(origin, |e| {
                e["headers"]["x-forwarded-proto"] = json!("http")
            }),
        ));
    }
    let near = format!("{}&pad=", valid_raw_query());
    let room = MAX_URI - format!("https://api.example.com{LOGIN_ROUTE}?").len() - near.len();
    let at_limit = format!("{near}{}", "p".repeat(room));
    assert!(!http_api_uri_too_long(&at_limit) && http_api_uri_too_long(&format!("{at_limit}p")));
    fine.push((
        "raw query at the URI limit".into(),
        changed(Origin::HttpApi, |e| e["rawQueryString"] = json!(at_limit)),
    ));
    fine.push((
        "raw query with escaped blanks and quotes".into(),
        changed(Origin::HttpApi, |e| {
            e["rawQueryString"] = json!(format!("{}&note=a%20%22%3C%3E%09%7Fb", valid_raw_query()));
        }),
    ));
    for (name, (origin_sent, event)) in &fine {
        let payload = event.to_string();
        assert_eq!(
            event_origin(&payload),
            Some(*origin_sent),
            "{name}: an event"
        );
        assert_eq!(
            families(event, *origin_sent),
            Vec::<Family>::new(),
            "{name}"
        );
        match run_case(&rt, name, &payload, &stats) {
            Reached::Endpoint(answer, _) if answer.code == 200 => {}
            other => panic!("{name}: expected a login, got {other:?}"),
        }
    }
}

#[test]
fn payloads_that_are_no_api_gateway_event_answer_5000_with_http_500() {
    let rt = runtime();
    let stats = Stats::default();
    let sqs = json!({"Records": [{
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": "userDomain=C.DM.5903.1",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
        "awsRegion": "us-east-2"
    }]});
    let scheduled = json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-25T19:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/my-rule"],
        "detail": {}
    });
    let token_authorizer = json!({
        "type": "TOKEN",
        "authorizationToken": "Bearer abc",
        "methodArn": testkit::events::method_arn("POST", LOGIN_ROUTE)
    });
    // A REST event without its request context, and an HTTP API event without its method.
    let (_, mut no_context) = changed(Origin::Rest, |_| {});
    no_context
        .as_object_mut()
        .expect("event")
        .remove("requestContext");
    let (_, mut no_method) = changed(Origin::HttpApi, |_| {});
    no_method["requestContext"]
        .as_object_mut()
        .expect("context")
        .remove("http");
    let cases: Vec<(&str, Value)> = vec![
        ("{}", json!({})),
        ("[]", json!([])),
        ("42", json!(42)),
        ("\"text\"", json!("text")),
        ("null", Value::Null),
        ("true", json!(true)),
        ("{\"foo\":1}", json!({"foo": 1})),
        ("an SQS event", sqs),
        ("an EventBridge event", scheduled),
        ("a TOKEN authorizer event", token_authorizer),
        ("a REST event without requestContext", no_context),
        ("an HTTP API event without requestContext.http", no_method),
    ];
    for (name, payload) in &cases {
        match run_case(&rt, name, &payload.to_string(), &stats) {
            Reached::NotAnEvent => {}
            other => panic!("{name}: expected 5000 with HTTP 500, got {other:?}"),
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

    // And the endpoint agrees through both event kinds, including where a malformed attribute
    // stands in the order: after the checks before it, before the checks after it.
    let rt = runtime();
    let stats = Stats::default();
    let with = |mut pairs: Vec<(String, String)>, name: &str, value: &str| {
        pairs.retain(|(k, _)| k != name);
        pairs.push((name.into(), value.into()));
        pairs
    };
    let examples: Vec<(Vec<(String, String)>, u64)> = vec![
        (valid.clone(), 200),
        (with(valid.clone(), "mcc", "+0262"), 200),
        (with(valid.clone(), "mcc", &BROKEN_MCC.to_string()), 5000),
        (with(valid.clone(), "mcc", "999"), 6085),
        (signed(BAD_ENABLED, TW_APP, "wrong"), 5000),
        (signed(NO_SECRET, TW_APP, "wrong"), 5000),
        (signed(BAD_APPS, TW_APP, "wrong"), 5420),
        (signed(BAD_APPS, TW_APP, BAD_APPS_SECRET), 5000),
        (signed(ENABLED, BROKEN_APP, "wrong"), 5420),
        (signed(ENABLED, BROKEN_APP, ENABLED_SECRET), 5000),
        (signed(ENABLED, FB_APP, ENABLED_SECRET), 5574),
    ];
    for (pairs, code) in examples {
        let (want, ext_msg, mcc) = model(&pairs, Fault::None);
        assert_eq!(want, code, "the model on {pairs:?}");
        let expected = Expected::Answer(want, ext_msg, mcc);
        let (event, _) = rest_event(&pairs, V1Style::Both);
        run_expecting(&rt, Fault::None, &event, Origin::Rest, expected, &stats)
            .unwrap_or_else(|e| panic!("{pairs:?}: {e}"));
    }
    let raw = raw_query(&[
        Segment::Pair("userDomain".into(), ENABLED.into(), Encoding::Form),
        Segment::Noise("%zz"),
    ]);
    let expected = Expected::Answer(5569, "", None);
    run_expecting(
        &rt,
        Fault::None,
        &http_api_event(&raw),
        Origin::HttpApi,
        expected,
        &stats,
    )
    .unwrap_or_else(|e| panic!("{raw}: {e}"));
}
