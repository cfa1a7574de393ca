//! Log lines: one per request, and never a secret. In a test binary of its own, because a
//! thread-scoped tracing subscriber misses events whose callsites other test threads hit first.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::Value;
use twitter_auth_login::logging;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// At the most verbose level the function allows, with the real SDK and HTTP clients at work,
/// no log line carries a secret, a token, a token hash or a signature.
#[tokio::test]
async fn logs_never_carry_secrets_even_at_trace() {
    let world = World::new().await;
    let captured = Captured::default();
    let writer = captured.clone();
    let _guard = tracing::subscriber::set_default(logging::subscriber("TRACE", true, move || {
        writer.clone()
    }));

    let (_, ok) = world.call(&world.valid_params()).await;
    assert_eq!(ok["code"], 200);
    let forged = signed_params(APP_ID, OAUTH_TOKEN, OAUTH_TOKEN_SECRET, "wrong");
    let (_, refused) = world.call(&forged).await;
    assert_eq!(refused["code"], 5420);
    let _ = world.call(&with(&world.valid_params(), "mcc", "x")).await;

    let logs = String::from_utf8(captured.0.lock().expect("logs").clone()).expect("utf-8");
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON log line"))
        .collect();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "twitterAuthLogin")
        .collect();
    assert_eq!(requests.len(), 3, "one line per request: {logs}");
    assert_eq!(requests[0]["code"], 200);
    assert_eq!(requests[0]["user_domain"], DOMAIN);
    assert!(requests[0]["latency_us"].as_u64().is_some());
    assert_eq!(requests[1]["code"], 5420);
    assert_eq!(requests[2]["code"], 4001);

    let items = world.token_items().await;
    let hashes: Vec<String> = items
        .iter()
        .filter_map(|i| i.get("tokenHash")?.as_s().ok().cloned())
        .collect();
    let mut secrets = vec![
        OAUTH_TOKEN.to_owned(),
        OAUTH_TOKEN_SECRET.to_owned(),
        CONSUMER_SECRET.to_owned(),
        world.domain_secret.clone(),
        ok["data"]["accessToken"]["token"]
            .as_str()
            .expect("token")
            .to_owned(),
        ok["data"]["refreshToken"]["token"]
            .as_str()
            .expect("token")
            .to_owned(),
    ];
    secrets.extend(
        world
            .valid_params()
            .into_iter()
            .filter(|(k, _)| k == "signature")
            .map(|(_, v)| v),
    );
    secrets.extend(hashes);
    for secret in secrets {
        assert!(!logs.contains(&secret), "a log line carries {secret:?}");
    }
}
