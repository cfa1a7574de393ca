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
use percent_encoding::{
    AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_decode_str, percent_encode,
};
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
    let header = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("no Authorization header")?;
    let host = request
        .headers()
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .ok_or("no Host")?;
    let base_uri = base_string_uri("http", host, request.uri().path())?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "clock")?
        .as_secs();
    let verified = verify(
        request.method().as_str(),
        &base_uri,
        request.uri().query(),
        header,
        &lock(&state.accounts),
        now,
    )?;
    // A nonce counts only once the signature is good, so forged requests cannot burn nonces.
    if !lock(&state.nonces).insert(verified.nonce_key) {
        return Err("nonce already used".into());
    }
    Ok(verified.account)
}

/// A request whose signature checked out; its nonce is still to be spent.
#[derive(Clone, Debug)]
pub struct Verified {
    pub account: Account,
    /// `timestamp:nonce`: a second request with the same key is a replay.
    pub nonce_key: String,
}

/// The base string URI (RFC 5849 3.4.1.2) of a request that arrived over `scheme` with this
/// `Host` header and path: scheme and host in lowercase, the port only when not the default.
pub fn base_string_uri(scheme: &str, host: &str, path: &str) -> Result<String, String> {
    let scheme = scheme.to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    // An IPv6 literal has colons of its own; its port, if any, follows the bracket.
    let split_at = match host.rfind(']') {
        Some(bracket) => host[bracket..].find(':').map(|i| bracket + i),
        None => host.rfind(':'),
    };
    let (name, port) = match split_at {
        Some(colon) => (&host[..colon], Some(&host[colon + 1..])),
        None => (host.as_str(), None),
    };
    if name.is_empty() {
        return Err("bad Host".into());
    }
    let default = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err("scheme is neither http nor https".into()),
    };
    // RFC 3986 3.2.3: an empty port is the default one.
    let port = match port {
        None | Some("") => None,
        Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some(digits.parse::<u16>().map_err(|_| "bad port in Host")?)
        }
        Some(_) => return Err("bad port in Host".into()),
    };
    Ok(match port {
        Some(port) if port != default => format!("{scheme}://{name}:{port}{path}"),
        _ => format!("{scheme}://{name}{path}"),
    })
}

/// Verifies one request without the network: `method` as it arrived, the base string URI
/// (see [`base_string_uri`]), the raw query, the `Authorization` header, the accounts the
/// stand-in knows and the current Unix time. Everything but nonce reuse, which needs memory.
pub fn verify(
    method: &str,
    base_uri: &str,
    query: Option<&str>,
    authorization: &str,
    accounts: &[Account],
    now: u64,
) -> Result<Verified, String> {
    if method != "GET" {
        return Err("only GET is signed here".into());
    }
    let oauth = parse_authorization(authorization)?;
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
    if now.abs_diff(timestamp) > TIMESTAMP_WINDOW_SECONDS {
        return Err("timestamp out of window".into());
    }
    let nonce = get("oauth_nonce")?;
    if nonce.is_empty() {
        return Err("empty nonce".into());
    }
    let consumer_key = get("oauth_consumer_key")?;
    let token = get("oauth_token")?;
    let account = accounts
        .iter()
        .find(|a| a.consumer_key == consumer_key && a.token == token)
        .cloned()
        .ok_or("unknown consumer key or token")?;

    // RFC 5849 3.4.1.3.1: oauth_signature is left out whichever source it comes from.
    let mut params: Vec<(Vec<u8>, Vec<u8>)> = oauth
        .iter()
        .filter(|(k, _)| k != "oauth_signature")
        .map(|(k, v)| (k.clone().into_bytes(), v.clone().into_bytes()))
        .collect();
    params.extend(
        query_pairs(query.unwrap_or_default()).filter(|(k, _)| k.as_slice() != b"oauth_signature"),
    );
    let expected = signature(
        method,
        base_uri,
        &params,
        &account.consumer_secret,
        &account.token_secret,
    )?;
    if expected != get("oauth_signature")? {
        return Err("signature does not match".into());
    }
    Ok(Verified {
        account,
        nonce_key: format!("{timestamp}:{nonce}"),
    })
}

/// RFC 5849 3.4.1.3.1: the query as application/x-www-form-urlencoded ('+' is a space),
/// decoded to octets, which need not be UTF-8.
fn query_pairs(query: &str) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(k), form_decode(v))
    })
}

fn form_decode(value: &str) -> Vec<u8> {
    percent_decode(&value.replace('+', " ").into_bytes()).collect()
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

fn encode(value: &[u8]) -> String {
    percent_encode(value, UNRESERVED).to_string()
}

fn signature<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    method: &str,
    base_uri: &str,
    params: &[(K, V)],
    consumer_secret: &str,
    token_secret: &str,
) -> Result<String, String> {
    hmac_sha1(
        &base_string(method, base_uri, params),
        consumer_secret,
        token_secret,
    )
}

/// RFC 5849 3.4.1.1, from decoded parameters.
fn base_string<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    method: &str,
    base_uri: &str,
    params: &[(K, V)],
) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (encode(k.as_ref()), encode(v.as_ref())))
        .collect();
    // By encoded name, then value: sorting "k=v" strings would misorder "a=" against "a-".
    pairs.sort();
    let normalized: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    [
        method.to_owned(),
        encode(base_uri.as_bytes()),
        encode(normalized.join("&").as_bytes()),
    ]
    .join("&")
}

fn hmac_sha1(base: &str, consumer_secret: &str, token_secret: &str) -> Result<String, String> {
    let key = format!(
        "{}&{}",
        encode(consumer_secret.as_bytes()),
        encode(token_secret.as_bytes())
    );
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

    /// RFC 5849 3.4.1.1's example: query and form body are both form-encoded ('+' is a space,
    /// "c2" has no '='), realm is left out.
    #[test]
    fn builds_the_base_string_of_rfc5849_3_4_1_1() {
        let header = r#"OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D""#;
        let mut params: Vec<(Vec<u8>, Vec<u8>)> = parse_authorization(header)
            .expect("parse")
            .into_iter()
            .filter(|(k, _)| k != "oauth_signature")
            .map(|(k, v)| (k.into_bytes(), v.into_bytes()))
            .collect();
        params.extend(query_pairs("b5=%3D%253D&a3=a&c%40=&a2=r%20b"));
        params.extend(query_pairs("c2&a3=2+q"));
        let base_uri = base_string_uri("http", "example.com", "/request").expect("uri");
        assert_eq!(
            base_string("POST", &base_uri, &params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
             %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_\
             key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m\
             ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk\
             9d7dh3k39sjv7"
        );
    }

    /// OAuth Core 1.0 appendix A.5 through the whole verification, explicit default port and
    /// upper case in the Host header included.
    #[test]
    fn verifies_oauth_core_appendix_a5() {
        let accounts = [Account {
            consumer_key: "dpf43f3p2l4k3l03".into(),
            consumer_secret: "kd94hf93k423kf44".into(),
            token: "nnch734d00sl2jdk".into(),
            token_secret: "pfkkdhi9sl3r4s00".into(),
            user_id: "1".into(),
            username: "a5".into(),
        }];
        let header = r#"OAuth realm="http://photos.example.net/", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_token="nnch734d00sl2jdk", oauth_signature_method="HMAC-SHA1", oauth_signature="tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D", oauth_timestamp="1191242096", oauth_nonce="kllo9940pd9333jh", oauth_version="1.0""#;
        for host in [
            "photos.example.net",
            "PHOTOS.example.net:80",
            "photos.example.net:",
        ] {
            let base_uri = base_string_uri("HTTP", host, "/photos").expect("uri");
            let verified = verify(
                "GET",
                &base_uri,
                Some("file=vacation.jpg&size=original"),
                header,
                &accounts,
                1191242096,
            )
            .expect(host);
            assert_eq!(verified.account.username, "a5");
            assert_eq!(verified.nonce_key, "1191242096:kllo9940pd9333jh");
        }
    }

    #[test]
    fn base_string_uri_lowercases_and_omits_default_ports() {
        let uri = |scheme: &str, host: &str| base_string_uri(scheme, host, "/2/users/me");
        let cases = [
            ("http", "127.0.0.1:8080", "http://127.0.0.1:8080/2/users/me"),
            ("http", "127.0.0.1:80", "http://127.0.0.1/2/users/me"),
            (
                "HTTP",
                "API.Twitter.COM",
                "http://api.twitter.com/2/users/me",
            ),
            (
                "https",
                "api.twitter.com:443",
                "https://api.twitter.com/2/users/me",
            ),
            (
                "https",
                "api.twitter.com:80",
                "https://api.twitter.com:80/2/users/me",
            ),
            (
                "http",
                "api.twitter.com:443",
                "http://api.twitter.com:443/2/users/me",
            ),
            ("http", "[::1]:80", "http://[::1]/2/users/me"),
            ("https", "[::1]:8443", "https://[::1]:8443/2/users/me"),
            ("http", "[::1]", "http://[::1]/2/users/me"),
            (
                "http",
                "localhost:08080",
                "http://localhost:8080/2/users/me",
            ),
        ];
        for (scheme, host, want) in cases {
            assert_eq!(uri(scheme, host).as_deref(), Ok(want), "{scheme} {host}");
        }
        for host in ["", ":80", "host:http", "host:65536", "host:-1"] {
            assert!(uri("http", host).is_err(), "{host}");
        }
        assert!(uri("ftp", "host").is_err());
    }

    const NOW: u64 = 1_700_000_000;
    const BASE_URI: &str = "http://127.0.0.1:8080/2/users/me";

    fn account(key: &str, token: &str) -> Account {
        Account {
            consumer_key: key.into(),
            consumer_secret: format!("{key} secret"),
            token: token.into(),
            token_secret: format!("{token}+secret"),
            user_id: format!("{key}/{token}"),
            username: token.into(),
        }
    }

    fn accounts() -> Vec<Account> {
        vec![account("ck-1", "tok-1"), account("ck-2", "tok-2")]
    }

    fn protocol(timestamp: u64) -> Vec<(String, String)> {
        [
            ("oauth_consumer_key", "ck-1".to_owned()),
            ("oauth_nonce", "n0nce".to_owned()),
            ("oauth_signature_method", "HMAC-SHA1".to_owned()),
            ("oauth_timestamp", timestamp.to_string()),
            ("oauth_token", "tok-1".to_owned()),
            ("oauth_version", "1.0".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// A header carrying exactly `params`, with a signature that is right for them and the
    /// first account: whatever refuses it is the check under test, not the signature.
    fn signed(params: &[(String, String)], query: Option<&str>) -> String {
        let mut all: Vec<(Vec<u8>, Vec<u8>)> = params
            .iter()
            .map(|(k, v)| (k.clone().into_bytes(), v.clone().into_bytes()))
            .collect();
        all.extend(query_pairs(query.unwrap_or_default()));
        let first = &accounts()[0];
        let signature = signature(
            "GET",
            BASE_URI,
            &all,
            &first.consumer_secret,
            &first.token_secret,
        )
        .expect("sign");
        let mut header = String::from("OAuth ");
        for (k, v) in params {
            header.push_str(&format!(
                "{}=\"{}\", ",
                encode(k.as_bytes()),
                encode(v.as_bytes())
            ));
        }
        header.push_str(&format!(
            "oauth_signature=\"{}\"",
            encode(signature.as_bytes())
        ));
        header
    }

    fn check(header: &str, query: Option<&str>) -> Result<Verified, String> {
        verify("GET", BASE_URI, query, header, &accounts(), NOW)
    }

    fn without(name: &str) -> Vec<(String, String)> {
        let mut params = protocol(NOW);
        params.retain(|(k, _)| k != name);
        params
    }

    #[test]
    fn accepts_a_well_signed_request() {
        let verified = check(&signed(&protocol(NOW), Some("a=1")), Some("a=1")).expect("verify");
        assert_eq!(verified.account.user_id, "ck-1/tok-1");
        assert_eq!(verified.nonce_key, format!("{NOW}:n0nce"));
        // oauth_version is optional (RFC 5849 3.1).
        check(&signed(&without("oauth_version"), None), None).expect("no version");
    }

    #[test]
    fn refuses_timestamps_outside_the_window() {
        for timestamp in [NOW - 300, NOW + 300] {
            check(&signed(&protocol(timestamp), None), None).expect("at the edge");
        }
        for timestamp in [NOW - 301, NOW + 301, 0, u64::MAX] {
            assert_eq!(
                check(&signed(&protocol(timestamp), None), None).map(|_| ()),
                Err("timestamp out of window".into()),
                "{timestamp}"
            );
        }
        let mut params = protocol(NOW);
        params[3].1 = "-1".into();
        assert_eq!(
            check(&signed(&params, None), None).map(|_| ()),
            Err("bad timestamp".into())
        );
    }

    #[test]
    fn refuses_repeated_protocol_parameters() {
        for (i, (name, value)) in protocol(NOW).into_iter().enumerate() {
            for again in [value.clone(), format!("{value}x")] {
                let mut params = protocol(NOW);
                params.insert(i, (name.clone(), again));
                assert_eq!(
                    check(&signed(&params, None), None).map(|_| ()),
                    Err("a protocol parameter is repeated".into()),
                    "{name}"
                );
            }
        }
        // A second signature, though the first is right.
        let header = signed(&protocol(NOW), None);
        let twice = format!("{header}, oauth_signature=\"x\"");
        assert_eq!(
            check(&twice, None).map(|_| ()),
            Err("a protocol parameter is repeated".into())
        );
    }

    #[test]
    fn refuses_other_signature_methods() {
        for method in ["PLAINTEXT", "HMAC-SHA256", "RSA-SHA1", "hmac-sha1", ""] {
            let mut params = protocol(NOW);
            params[2].1 = method.into();
            assert_eq!(
                check(&signed(&params, None), None).map(|_| ()),
                Err("signature method is not HMAC-SHA1".into()),
                "{method}"
            );
        }
        let mut params = protocol(NOW);
        params[5].1 = "2.0".into();
        assert_eq!(
            check(&signed(&params, None), None).map(|_| ()),
            Err("version is not 1.0".into())
        );
    }

    #[test]
    fn refuses_missing_protocol_parameters() {
        for name in [
            "oauth_consumer_key",
            "oauth_nonce",
            "oauth_signature_method",
            "oauth_timestamp",
            "oauth_token",
        ] {
            assert_eq!(
                check(&signed(&without(name), None), None).map(|_| ()),
                Err(format!("{name} missing"))
            );
        }
        let header = signed(&protocol(NOW), None);
        let unsigned = &header[..header.find(", oauth_signature=").expect("signature")];
        assert_eq!(
            check(unsigned, None).map(|_| ()),
            Err("oauth_signature missing".into())
        );
        let mut params = protocol(NOW);
        params[1].1 = String::new();
        assert_eq!(
            check(&signed(&params, None), None).map(|_| ()),
            Err("empty nonce".into())
        );
    }

    #[test]
    fn refuses_unknown_consumer_keys_and_tokens() {
        for (key, token) in [
            ("ck-3", "tok-1"),
            ("ck-1", "tok-3"),
            ("ck-1", "tok-2"),
            ("", ""),
        ] {
            let mut params = protocol(NOW);
            params[0].1 = key.into();
            params[4].1 = token.into();
            assert_eq!(
                check(&signed(&params, None), None).map(|_| ()),
                Err("unknown consumer key or token".into()),
                "{key} {token}"
            );
        }
    }

    #[test]
    fn refuses_non_oauth_authorization_headers() {
        let header = signed(&protocol(NOW), None);
        let rest = header.strip_prefix("OAuth ").expect("OAuth");
        for other in [
            "Bearer AAAA".to_owned(),
            "Basic Y2s6c2VjcmV0".to_owned(),
            String::new(),
            "OAuth".to_owned(),
            rest.to_owned(),
            format!("Bearer {rest}"),
        ] {
            assert_eq!(
                check(&other, None).map(|_| ()),
                Err("not an OAuth header".into()),
                "{other}"
            );
        }
        assert_eq!(
            check("OAuth oauth_token=tok-1", None).map(|_| ()),
            Err("unquoted value".into())
        );
    }

    #[test]
    fn refuses_a_changed_query_or_method() {
        let header = signed(&protocol(NOW), Some("a=1"));
        check(&header, Some("a=1")).expect("as signed");
        for query in [
            None,
            Some("a=2"),
            Some("a=1&b="),
            Some("a=1&a=1"),
            Some("A=1"),
            Some("a=1&"),
        ] {
            let got = check(&header, query).map(|_| ());
            // A trailing '&' adds no parameter.
            if query == Some("a=1&") {
                assert_eq!(got, Ok(()));
            } else {
                assert_eq!(got, Err("signature does not match".into()), "{query:?}");
            }
        }
        assert_eq!(
            verify("POST", BASE_URI, Some("a=1"), &header, &accounts(), NOW).map(|_| ()),
            Err("only GET is signed here".into())
        );
        assert_eq!(
            verify(
                "GET",
                "http://127.0.0.1:8081/2/users/me",
                Some("a=1"),
                &header,
                &accounts(),
                NOW
            )
            .map(|_| ()),
            Err("signature does not match".into())
        );
    }

    /// Query parameters are signed decoded: '+' and %20 are a space, %2B is a '+', and octets
    /// that are not UTF-8 stay octets.
    #[test]
    fn decodes_the_query_as_a_form() {
        let header = signed(&protocol(NOW), Some("a=b%20c"));
        for query in ["a=b+c", "a=b%20c", "%61=b+c"] {
            check(&header, Some(query)).expect(query);
        }
        assert!(check(&header, Some("a=b%2Bc")).is_err());
        let plus = signed(&protocol(NOW), Some("a=b%2Bc"));
        check(&plus, Some("a=b%2bc")).expect("lower-case hex");
        assert!(check(&plus, Some("a=b+c")).is_err());
        let octet = signed(&protocol(NOW), Some("a=%FF"));
        check(&octet, Some("a=%ff")).expect("octet");
        assert!(check(&octet, Some("a=%EF%BF%BD")).is_err());
        assert_eq!(
            query_pairs("a=%FF&b&=&c=%&&d=1=2").collect::<Vec<_>>(),
            vec![
                (b"a".to_vec(), vec![0xFF]),
                (b"b".to_vec(), vec![]),
                (vec![], vec![]),
                (b"c".to_vec(), b"%".to_vec()),
                (b"d".to_vec(), b"1=2".to_vec()),
            ]
        );
    }

    /// RFC 5849 3.4.1.3.1: oauth_signature is not signed, wherever it comes from.
    #[test]
    fn leaves_oauth_signature_in_the_query_unsigned() {
        let header = signed(&protocol(NOW), None);
        check(&header, Some("oauth_signature=x")).expect("query oauth_signature");
        assert!(check(&header, Some("oauth_signaturE=x")).is_err());
    }
}
