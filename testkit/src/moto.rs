//! A real AWS API on loopback (DynamoDB, Secrets Manager and SSM): the moto server from PyPI,
//! and clients for it.
//!
//! `DYNAMODB_TEST_ENDPOINT` names a server that is already running (the test script starts one
//! for the whole run). Without it, the first caller in a test binary starts its own moto server,
//! which a watchdog stops when the test process exits.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use twitter_auth_login::dynamo::{Limits, with_limits};

const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// Limits for the tests' own calls, which wait out a busy moto.
pub const PATIENT: Limits = Limits {
    connect_timeout: Duration::from_secs(10),
    attempt_timeout: Duration::from_secs(30),
    operation_timeout: Duration::from_secs(60),
    max_attempts: 3,
};

/// What any AWS client of the tests is configured with: moto's endpoint, a region, dummy
/// credentials.
pub fn aws_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "tests",
        )))
        .build()
}

pub fn dynamodb_client(endpoint: &str, limits: Limits) -> Client {
    let builder = aws_sdk_dynamodb::config::Builder::from(&aws_config(endpoint));
    Client::from_conf(with_limits(builder, &limits).build())
}

pub fn moto_endpoint() -> String {
    match dynamodb_endpoint() {
        Ok(url) => url,
        Err(why) => panic!("a DynamoDB API server is needed: {why}"),
    }
}

/// The endpoint URL of a running DynamoDB API server, starting one if needed.
pub fn dynamodb_endpoint() -> Result<String, String> {
    static ENDPOINT: OnceLock<Result<String, String>> = OnceLock::new();
    ENDPOINT
        .get_or_init(|| match std::env::var("DYNAMODB_TEST_ENDPOINT") {
            Ok(url) if !url.is_empty() => Ok(url),
            _ => start_moto(),
        })
        .clone()
}

/// `MOTO_SERVER`, else the project's `.venv`, else `moto_server` on the PATH.
fn moto_binary() -> PathBuf {
    if let Ok(path) = std::env::var("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("moto_server")
    }
}

fn start_moto() -> Result<String, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let binary = moto_binary();
    // The watchdog shell ends moto as soon as this test process is gone.
    let script = format!(
        "\"$0\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
         while kill -0 {parent} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 1; done; kill $m 2>/dev/null",
        parent = std::process::id()
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(&binary)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let started = Instant::now();
    while started.elapsed() < STARTUP_LIMIT {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(format!("http://127.0.0.1:{port}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "{} did not listen on port {port} within {STARTUP_LIMIT:?}; install it with `pip install 'moto[server]'`",
        binary.display()
    ))
}
