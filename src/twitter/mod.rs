//! The Twitter adapter: `GET {TWITTER_API_BASE}/2/users/me`, signed with OAuth 1.0a.

pub mod oauth;

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION};
use reqwest::{Client, StatusCode, redirect};
use serde::Deserialize;

use crate::domain::clock::unix_now;
use crate::domain::token::random_hex;
use crate::domain::user::TwitterUser;
use crate::error::ApiError;
use crate::invocation::deadline::{self, Dependency};
use crate::ports::{TwitterCredentials, TwitterVerifier};

/// Twitter's answer is a few hundred bytes; more than this is not a users/me answer.
const MAX_BODY_BYTES: usize = 64 * 1024;

const USERS_ME_PATH: &str = "2/users/me";

/// The URL type of `TWITTER_API_BASE`.
pub use reqwest::Url;

pub struct TwitterClient {
    http: Client,
    users_me: Url,
}

impl TwitterClient {
    /// Builds the client once at start-up; `timeout` bounds a whole call, body included.
    pub fn new(api_base: &Url, timeout: Duration) -> Result<Self, TwitterClientError> {
        let http = Client::builder()
            .tls_backend_preconfigured(tls_config()?)
            .timeout(timeout)
            .connect_timeout(timeout)
            // A signed call is never replayed elsewhere: any 3xx is an answer, not a hop.
            .redirect(redirect::Policy::none())
            .user_agent(concat!("twitter-auth-login/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| TwitterClientError)?;
        Ok(TwitterClient {
            http,
            users_me: users_me_url(api_base),
        })
    }
}

/// The Twitter HTTP client could not be built (its TLS configuration was refused).
#[derive(Debug)]
pub struct TwitterClientError;

impl std::fmt::Display for TwitterClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the Twitter HTTP client could not be built")
    }
}

impl std::error::Error for TwitterClientError {}

/// TLS with Mozilla's roots compiled in: reading the OS certificate store a second time (the
/// AWS SDK reads it too) cost 3-4 ms of every cold start in the benchmark.
fn tls_config() -> Result<rustls::ClientConfig, TwitterClientError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| TwitterClientError)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// `{base}/2/users/me`, keeping any path prefix of the base.
fn users_me_url(api_base: &Url) -> Url {
    let mut url = api_base.clone();
    let path = format!("{}/{USERS_ME_PATH}", api_base.path().trim_end_matches('/'));
    url.set_path(&path);
    url.set_query(None);
    url
}

impl TwitterVerifier for TwitterClient {
    async fn verify(&self, credentials: &TwitterCredentials<'_>) -> Result<TwitterUser, ApiError> {
        let timestamp = unix_now()?;
        let nonce = random_hex::<16>()?;
        let authorization =
            oauth::authorization_header("GET", &self.users_me, credentials, &nonce, timestamp)
                .map_err(|_| ApiError::Internal("oauth signing failed"))?;

        // The request's deadline bounds the whole call, body included, as the timeout does.
        let call = async {
            let mut response = self
                .http
                .get(self.users_me.clone())
                .header(AUTHORIZATION, authorization)
                .header(ACCEPT, "application/json")
                .send()
                .await
                .map_err(|error| ApiError::TwitterUnavailable(transport_fault(&error)))?;

            match response.status() {
                StatusCode::OK => {}
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    return Err(ApiError::TwitterRejected("token refused"));
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    return Err(ApiError::TwitterUnavailable("rate limited"));
                }
                status if status.is_server_error() => {
                    return Err(ApiError::TwitterUnavailable("server error"));
                }
                _ => return Err(ApiError::TwitterRejected("unexpected status")),
            }

            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|error| ApiError::TwitterUnavailable(transport_fault(&error)))?
            {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(ApiError::TwitterUnparsable);
                }
                body.extend_from_slice(&chunk);
            }
            parse_users_me(&body)
        };
        deadline::call(Dependency::Twitter, call)
            .await
            .map_err(|_| ApiError::TwitterUnavailable("request deadline reached"))?
    }
}

fn transport_fault(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "transport error"
    }
}

#[derive(Deserialize)]
struct UsersMe {
    data: Option<UserData>,
}

/// Loosely typed, so that a username of another type is ignored rather than failing the parse.
#[derive(Deserialize)]
struct UserData {
    id: Option<serde_json::Value>,
    username: Option<serde_json::Value>,
}

/// Login check 16 (docs/openapi.yaml): a 200 must name a user: `data.id` of 1 to 19 ASCII digits. `data.username` is
/// kept only when it is a Twitter handle (1 to 15 of `[A-Za-z0-9_]`); nothing else is kept.
fn parse_users_me(body: &[u8]) -> Result<TwitterUser, ApiError> {
    let parsed: UsersMe = serde_json::from_slice(body).map_err(|_| ApiError::TwitterUnparsable)?;
    let data = parsed.data.ok_or(ApiError::TwitterUnparsable)?;
    let id = data
        .id
        .and_then(|id| id.as_str().map(str::to_owned))
        .filter(|id| is_ascii_run(id, 19, |b| b.is_ascii_digit()))
        .ok_or(ApiError::TwitterUnparsable)?;
    let username = data
        .username
        .and_then(|name| name.as_str().map(str::to_owned))
        .filter(|name| is_ascii_run(name, 15, |b| b.is_ascii_alphanumeric() || b == b'_'));
    Ok(TwitterUser { id, username })
}

/// 1 to `max` bytes, each passing `allowed`.
fn is_ascii_run(value: &str, max: usize, allowed: impl Fn(u8) -> bool) -> bool {
    (1..=max).contains(&value.len()) && value.bytes().all(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_config_trusts_the_compiled_in_roots_and_offers_h2() {
        let config = tls_config().expect("tls config");
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        let base = Url::parse("https://api.twitter.com").expect("url");
        assert!(TwitterClient::new(&base, Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn users_me_keeps_the_base_path() {
        let url = |base: &str| users_me_url(&Url::parse(base).expect("url")).to_string();
        assert_eq!(
            url("https://api.twitter.com"),
            "https://api.twitter.com/2/users/me"
        );
        assert_eq!(
            url("https://api.twitter.com/"),
            "https://api.twitter.com/2/users/me"
        );
        assert_eq!(
            url("http://127.0.0.1:9/stub/?x=1"),
            "http://127.0.0.1:9/stub/2/users/me"
        );
    }

    #[test]
    fn a_user_needs_an_id_of_digits() {
        let user =
            parse_users_me(br#"{"data":{"id":"12","name":"N","username":"nn"}}"#).expect("user");
        assert_eq!(
            user,
            TwitterUser {
                id: "12".into(),
                username: Some("nn".into())
            }
        );
        let longest = parse_users_me(br#"{"data":{"id":"1234567890123456789"}}"#).expect("user");
        assert_eq!((longest.id.len(), longest.username), (19, None));
        for body in [
            &br#"{"data":{"name":"N"}}"#[..],
            br#"{"data":{"id":""}}"#,
            br#"{"data":{"id":12}}"#,
            br#"{"data":{"id":"12345678901234567890"}}"#,
            br#"{"data":{"id":"12a"}}"#,
            br#"{"data":{"id":" 12"}}"#,
            br#"{"data":{"id":"-12"}}"#,
            "{\"data\":{\"id\":\"\u{0661}\u{0662}\"}}".as_bytes(),
            br#"{"data":null}"#,
            br#"{"errors":[{"title":"x"}]}"#,
            b"not json",
            b"",
        ] {
            assert_eq!(
                parse_users_me(body),
                Err(ApiError::TwitterUnparsable),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn a_username_that_is_no_handle_is_ignored() {
        let username = |value: &str| {
            parse_users_me(format!(r#"{{"data":{{"id":"1","username":{value}}}}}"#).as_bytes())
                .expect("user")
                .username
        };
        assert_eq!(username(r#""jack_1""#), Some("jack_1".into()));
        assert_eq!(
            username(r#""abcdefghijklmno""#),
            Some("abcdefghijklmno".into())
        );
        for ignored in [
            r#""abcdefghijklmnop""#,
            r#""""#,
            r#""ja ck""#,
            r#""jäck""#,
            r#""jack.""#,
            "12",
            "null",
            "[]",
        ] {
            assert_eq!(username(ignored), None, "{ignored}");
        }
    }
}
