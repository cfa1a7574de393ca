//! A stand-in for Twitter's `GET /2/users/me` that really checks OAuth 1.0a HMAC-SHA1
//! signatures (RFC 5849), written from the server's side and independently of the function's
//! signer: it parses the header, rebuilds the base string from what arrived, and compares.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use hyper::Request;
use hyper::body::Incoming;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::Deserialize;
use sha1::Sha1;

use crate::server::{Reply, Server, reply};

/// How far a request's timestamp may be from now, as Twitter allows.
const TIMESTAMP_WINDOW_SECONDS: u64 = 300;

const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A Twitter user reachable through one app's consumer key and one user token.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub token: String,
    pub token_secret: String,
    pub user_id: String,
    pub username: String,
}

/// How the stand-in answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Check the signature: 200 with the user, or 401.
    Verify,
    /// Check the signature, then answer 200 with this body instead of the user.
    VerifyThenBody(String),
    /// Answer this status without looking at the request, as an overloaded Twitter would.
    Status(u16),
    /// Never answer.
    Hang,
}

struct State {
    accounts: Mutex<Vec<Account>>,
    mode: Mutex<Mode>,
    nonces: Mutex<HashSet<String>>,
    verified: AtomicUsize,
    rejected: AtomicUsize,
    requests: AtomicUsize,
}

pub struct TwitterStub {
    server: Server,
    state: Arc<State>,
}

impl TwitterStub {
    pub async fn start(accounts: Vec<Account>) -> std::io::Result<TwitterStub> {
        Self::bind(crate::server::loopback_any_port(), accounts).await
    }

    pub async fn bind(addr: SocketAddr, accounts: Vec<Account>) -> std::io::Result<TwitterStub> {
        let state = Arc::new(State {
            accounts: Mutex::new(accounts),
            mode: Mutex::new(Mode::Verify),
            nonces: Mutex::new(HashSet::new()),
            verified: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
        });
        let shared = Arc::clone(&state);
        let server = Server::start(addr, move |request| {
            let state = Arc::clone(&shared);
            async move { handle(&state, request).await }
        })
        .await?;
        Ok(TwitterStub { server, state })
    }

    /// What `TWITTER_API_BASE` should be set to.
    pub fn base_url(&self) -> String {
        self.server.url()
    }

    pub fn set_mode(&self, mode: Mode) {
        *lock(&self.state.mode) = mode;
    }

    pub fn add_account(&self, account: Account) {
        lock(&self.state.accounts).push(account);
    }

    /// Requests whose signature checked out.
    pub fn verified(&self) -> usize {
        self.state.verified.load(Ordering::SeqCst)
    }

    /// Requests refused for their signature or credentials.
    pub fn rejected(&self) -> usize {
        self.state.rejected.load(Ordering::SeqCst)
    }

    /// Every request received, whatever the mode.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn handle(state: &State, request: Request<Incoming>) -> Reply {
    state.requests.fetch_add(1, Ordering::SeqCst);
    if request.uri().path() != "/2/users/me" {
        return reply(
            404,
            "application/json",
            r#"{"title":"Not Found Error","status":404}"#,
        );
    }
    let mode = lock(&state.mode).clone();
    match mode {
        Mode::Status(status) => {
            return reply(
                status,
                "application/json",
                format!(r#"{{"title":"stand-in","status":{status}}}"#),
            );
        }
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return reply(504, "text/plain", "");
        }
        Mode::Verify | Mode::VerifyThenBody(_) => {}
    }

    let account = match authenticate(state, &request) {
        Ok(account) => account,
        Err(why) => {
            state.rejected.fetch_add(1, Ordering::SeqCst);
            let body = serde_json::json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": why});
            return reply(401, "application/json", body.to_string());
        }
    };
    state.verified.fetch_add(1, Ordering::SeqCst);
    match mode {
        Mode::VerifyThenBody(body) => reply(200, "application/json", body),
        _ => {
            let body = serde_json::json!({"data": {"id": account.user_id, "name": account.username, "username": account.username}});
            reply(200, "application/json", body.to_string())
        }
    }
}

/// Checks the request's OAuth 1.0a signature; on success, the account it was signed for.
fn authenticate(state: &State, request: &Request<Incoming>) -> Result<Account, String> {
    if request.method() != hyper::Method::GET {
        return Err("only GET is signed here".into());
    }
    let header = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("no Authorization header")?;
    let oauth = parse_authorization(header)?;
    let get = |name: &str| {
        oauth
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or(format!("{name} missing"))
    };
    if oauth.iter().map(|(k, _)| k).collect::<HashSet<_>>().len() != oauth.len() {
        return Err("a protocol parameter is repeated".into());
    }
    if get("oauth_signature_method")? != "HMAC-SHA1" {
        return Err("signature method is not HMAC-SHA1".into());
    }
    if let Ok(version) = get("oauth_version")
        && version != "1.0"
    {
        return Err("version is not 1.0".into());
    }
    let timestamp: u64 = get("oauth_timestamp")?
        .parse()
        .map_err(|_| "bad timestamp")?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "clock")?
        .as_secs();
    if now.abs_diff(timestamp) > TIMESTAMP_WINDOW_SECONDS {
        return Err("timestamp out of window".into());
    }
    let nonce = get("oauth_nonce")?;
    if nonce.is_empty() {
        return Err("empty nonce".into());
    }
    let consumer_key = get("oauth_consumer_key")?;
    let token = get("oauth_token")?;
    let account = lock(&state.accounts)
        .iter()
        .find(|a| a.consumer_key == consumer_key && a.token == token)
        .cloned()
        .ok_or("unknown consumer key or token")?;

    let host = request
        .headers()
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .ok_or("no Host")?;
    let base_uri = format!(
        "http://{}{}",
        host.to_ascii_lowercase(),
        request.uri().path()
    );
    let mut params: Vec<(String, String)> = oauth
        .iter()
        .filter(|(k, _)| k != "oauth_signature")
        .cloned()
        .collect();
    if let Some(query) = request.uri().query() {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.push((decode(k)?, decode(v)?));
        }
    }
    let expected = signature(
        "GET",
        &base_uri,
        &params,
        &account.consumer_secret,
        &account.token_secret,
    )?;
    if expected != get("oauth_signature")? {
        return Err("signature does not match".into());
    }
    // A nonce counts only once the signature is good, so forged requests cannot burn nonces.
    if !lock(&state.nonces).insert(format!("{timestamp}:{nonce}")) {
        return Err("nonce already used".into());
    }
    Ok(account)
}

/// `OAuth k="v", k2="v2"`: names and decoded values.
fn parse_authorization(header: &str) -> Result<Vec<(String, String)>, String> {
    let rest = header.strip_prefix("OAuth ").ok_or("not an OAuth header")?;
    let mut out = Vec::new();
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, quoted) = part.split_once('=').ok_or("malformed parameter")?;
        let value = quoted
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or("unquoted value")?;
        if name == "realm" {
            continue;
        }
        out.push((decode(name)?, decode(value)?));
    }
    Ok(out)
}

fn decode(value: &str) -> Result<String, String> {
    percent_decode_str(value)
        .decode_utf8()
        .map(|v| v.into_owned())
        .map_err(|_| "bad percent-encoding".into())
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, UNRESERVED).to_string()
}

fn signature(
    method: &str,
    base_uri: &str,
    params: &[(String, String)],
    consumer_secret: &str,
    token_secret: &str,
) -> Result<String, String> {
    let mut pairs: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    // Sorting "k=v" strings would misorder "a=" against "a-"; sort by encoded name, then value.
    pairs.sort_by(|a, b| {
        let (ak, av) = a.split_once('=').unwrap_or((a, ""));
        let (bk, bv) = b.split_once('=').unwrap_or((b, ""));
        (ak, av).cmp(&(bk, bv))
    });
    let base = [
        method.to_owned(),
        encode(base_uri),
        encode(&pairs.join("&")),
    ]
    .join("&");
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).map_err(|_| "hmac key")?;
    mac.update(base.as_bytes());
    Ok(STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verifier's own signer must agree with Twitter's documented example too.
    #[test]
    fn computes_twitters_documented_signature() {
        let params: Vec<(String, String)> = [
            ("include_entities", "true"),
            (
                "status",
                "Hello Ladies + Gentlemen, a signed OAuth request!",
            ),
            ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
            ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1318622958"),
            (
                "oauth_token",
                "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            ),
            ("oauth_version", "1.0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let got = signature(
            "POST",
            "https://api.twitter.com/1.1/statuses/update.json",
            &params,
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        );
        assert_eq!(got.as_deref(), Ok("hCtSmYh+iHYCEqBWrE7C7hYmtUk="));
    }

    #[test]
    fn parses_the_authorization_header() {
        let parsed =
            parse_authorization(r#"OAuth realm="x", oauth_token="a%2Bb", oauth_nonce="n""#)
                .expect("parse");
        assert_eq!(
            parsed,
            vec![
                ("oauth_token".into(), "a+b".into()),
                ("oauth_nonce".into(), "n".into())
            ]
        );
        assert!(parse_authorization("Bearer abc").is_err());
        assert!(parse_authorization("OAuth oauth_token=abc").is_err());
    }
}
