//! Start-up of the Lambda binaries, run as processes: a missing required variable stops
//! start-up with a log line naming it (never a value), and a variable a function does not use
//! is not required. A fake Lambda runtime API tells whether a binary got past configuration:
//! it then asks for its first invocation.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::emulator::{Invocation, Outcome, RuntimeApi};
use testkit::functions::Function;
use testkit::prelude::*;

/// A function's binary, built beside the test binaries' first.
struct Binary {
    name: &'static str,
    path: PathBuf,
    /// The variables it must refuse to start without, in the contract's words.
    required: &'static [&'static str],
}

fn binaries() -> Vec<Binary> {
    let any = Path::new(env!("CARGO_BIN_EXE_twitter-auth-login"));
    Function::ALL
        .into_iter()
        .map(|function| Binary {
            name: function.binary(),
            path: any.with_file_name(function.binary()),
            required: function.required_variables(),
        })
        .collect()
}

fn binary(function: Function) -> Binary {
    binaries()
        .into_iter()
        .find(|b| b.name == function.binary())
        .expect("every function is built")
}

/// Every variable the template gives every function.
const ALL_VARIABLES: [&str; 10] = [
    "USER_DOMAIN_TABLE",
    "MCC_TABLE",
    "TOKEN_TABLE",
    "SESSION_TABLE",
    "USER_TABLE",
    "DATA_CENTER",
    "TOKEN_ISSUER",
    "SIGNING_KEYS_SECRET",
    "DERIVATION_KEY_SECRET",
    "PUBLIC_KEYS_PARAMETER",
];

/// In every value set, so that a log line echoing any value is caught.
const MARKER: &str = "v4lue-m4rker";

/// What Lambda's runtime client asks first once the function is ready.
const NEXT_INVOCATION: &str = "GET /2018-06-01/runtime/invocation/next";

/// How long a binary may take to refuse or to ask for work.
const START_LIMIT: Duration = Duration::from_secs(30);

fn value_of(name: &str) -> String {
    let value = format!("{}-{MARKER}", name.to_ascii_lowercase().replace('_', "-"));
    match name {
        // An issuer is a URL; the marker is in it all the same.
        "TOKEN_ISSUER" => format!("https://{value}.example/prod"),
        _ => value,
    }
}

struct Run {
    exit: Option<i32>,
    /// The first request line the binary sent the runtime API, if it got that far.
    runtime_request: Option<String>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn logs(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    #[track_caller]
    fn assert_refused(&self, what: &str) {
        assert_eq!(self.runtime_request, None, "{what}: got past configuration");
        assert_eq!(self.exit, Some(1), "{what}: {}", self.logs());
    }

    #[track_caller]
    fn assert_never_echoes_values(&self, what: &str) {
        assert!(
            !self.logs().contains(MARKER),
            "{what}: a value was echoed: {}",
            self.logs()
        );
    }
}

/// Runs `binary` with exactly `env` (plus what any Lambda process has) against a runtime API
/// that never answers, until it exits or asks that API for work; then it is stopped.
fn start(binary: &Binary, env: &[(&str, String)], json: bool) -> Run {
    let runtime = TcpListener::bind("127.0.0.1:0").expect("bind runtime API");
    runtime.set_nonblocking(true).expect("nonblocking");
    let mut command = Command::new(&binary.path);
    command
        .env_clear()
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            runtime.local_addr().expect("addr").to_string(),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", binary.name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        // Region and credentials as Lambda gives them, so no metadata service is asked.
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if json {
        command.env("AWS_LAMBDA_LOG_FORMAT", "JSON");
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start the binary");
    let started = Instant::now();
    let mut runtime_request = None;
    loop {
        if let Ok((stream, _)) = runtime.accept() {
            stream.set_nonblocking(false).expect("blocking");
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let mut line = String::new();
            let _ = BufReader::new(stream).read_line(&mut line);
            runtime_request = Some(line.trim_end().to_owned());
            child.kill().expect("stop the binary");
            break;
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        assert!(
            started.elapsed() < START_LIMIT,
            "{} neither refused nor asked for work",
            binary.name
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let output = child.wait_with_output().expect("output");
    Run {
        exit: output.status.code(),
        runtime_request,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Every variable of the template set, but `missing` set to `missing_as` (or unset).
fn all_but(missing: &str, missing_as: Option<&str>) -> Vec<(&'static str, String)> {
    ALL_VARIABLES
        .iter()
        .filter_map(|name| match (*name == missing, missing_as) {
            (false, _) => Some((*name, value_of(name))),
            (true, Some(blank)) => Some((*name, blank.to_owned())),
            (true, None) => None,
        })
        .collect()
}

#[test]
fn each_missing_required_variable_stops_start_up_naming_it() {
    for binary in &binaries() {
        for missing in binary.required {
            // Unset, and blank: both are missing.
            for missing_as in [None, Some("  ")] {
                let what = format!("{} without {missing} ({missing_as:?})", binary.name);
                let run = start(binary, &all_but(missing, missing_as), false);
                run.assert_refused(&what);
                run.assert_never_echoes_values(&what);
                let refusals: Vec<&str> = run
                    .stdout
                    .lines()
                    .filter(|l| l.contains("refusing to start"))
                    .collect();
                assert_eq!(refusals.len(), 1, "{what}: {}", run.logs());
                assert!(refusals[0].contains("ERROR"), "{what}: {}", refusals[0]);
                assert!(
                    refusals[0].contains(&format!("{missing} is required")),
                    "{what}: {}",
                    refusals[0]
                );
            }
        }
    }
}

#[test]
fn the_refusal_is_a_json_line_when_lambda_asks_for_json() {
    for binary in &binaries() {
        for missing in binary.required {
            let what = format!("{} without {missing}", binary.name);
            let run = start(binary, &all_but(missing, None), true);
            run.assert_refused(&what);
            run.assert_never_echoes_values(&what);
            let lines: Vec<Value> = run
                .stdout
                .lines()
                .map(|l| {
                    serde_json::from_str(l).unwrap_or_else(|_| panic!("{what}: not JSON: {l}"))
                })
                .collect();
            assert_eq!(lines.len(), 1, "{what}: {}", run.stdout);
            assert_eq!(lines[0]["level"], "ERROR", "{what}");
            assert_eq!(lines[0]["message"], "refusing to start", "{what}");
            assert_eq!(
                lines[0]["error"],
                format!("{missing} is required"),
                "{what}"
            );
        }
    }
}

#[test]
fn a_malformed_value_is_named_but_never_echoed() {
    for (function, name, bad, error) in [
        (
            Function::Login,
            "ACCESS_TOKEN_TTL_SECONDS",
            format!("0-{MARKER}"),
            "ACCESS_TOKEN_TTL_SECONDS must be a positive whole number",
        ),
        (
            Function::Refresh,
            "REFRESH_REUSE_GRACE_SECONDS",
            format!("-1{MARKER}"),
            "REFRESH_REUSE_GRACE_SECONDS must be a positive whole number",
        ),
        (
            Function::Login,
            "TWITTER_API_BASE",
            format!("ftp://{MARKER}.example"),
            "TWITTER_API_BASE must be an http(s) URL",
        ),
        (
            Function::Login,
            "TWITTER_API_BASE",
            format!("http://{MARKER}.example"),
            "TWITTER_API_BASE must be https://, except on a loopback address",
        ),
    ] {
        let mut env = all_but("", None);
        env.push((name, bad));
        let run = start(&binary(function), &env, true);
        run.assert_refused(name);
        run.assert_never_echoes_values(name);
        let line: Value = serde_json::from_str(run.stdout.trim()).expect("one JSON line");
        assert_eq!(line["message"], "refusing to start", "{name}");
        assert_eq!(line["error"], error, "{name}");
    }
}

#[test]
fn a_function_needs_only_the_variables_it_uses() {
    for binary in &binaries() {
        let env: Vec<(&str, String)> = binary
            .required
            .iter()
            .map(|name| (*name, value_of(name)))
            .collect();
        for json in [false, true] {
            let what = format!(
                "{} with only {:?} (json {json})",
                binary.name, binary.required
            );
            let run = start(binary, &env, json);
            assert_eq!(
                run.runtime_request
                    .as_deref()
                    .and_then(|l| l.split(" HTTP/").next()),
                Some(NEXT_INVOCATION),
                "{what}: did not get past configuration: {}",
                run.logs()
            );
            assert!(
                !run.logs().contains("refusing to start"),
                "{what}: {}",
                run.logs()
            );
            run.assert_never_echoes_values(&what);
        }
    }
}

#[test]
fn each_function_judges_exactly_the_optional_variables_it_reads() {
    let every_optional: std::collections::BTreeSet<&str> = Function::ALL
        .into_iter()
        .flat_map(|f| f.optional_variables().iter().copied())
        .collect();
    for function in Function::ALL {
        for name in &every_optional {
            let lookup = |wanted: &str| {
                if wanted == *name {
                    Some(format!("x-{MARKER}"))
                } else {
                    ALL_VARIABLES.contains(&wanted).then(|| value_of(wanted))
                }
            };
            let configured = function.configure(lookup);
            if function.optional_variables().contains(name) {
                let error = configured.expect_err(name);
                assert!(error.0.starts_with(name), "{function:?}: {error}");
                assert!(!error.0.contains(MARKER), "{function:?}: {error}");
            } else {
                assert_eq!(configured, Ok(()), "{function:?} does not read {name}");
            }
        }
    }
}

/// A first event each function answers with a success in `world`, and what that answer is.
async fn first_event(world: &World, function: Function) -> (String, Expected) {
    match function {
        Function::Login => (
            testkit::events::rest_event(&world.login_params()),
            Expected::Code(200),
        ),
        Function::Refresh => (
            refresh_event(&world.sign_in().await.refresh),
            Expected::Code(200),
        ),
        Function::Logout => {
            let access = world.sign_in().await.access;
            (logout_event(Some(&access), None), Expected::Code(200))
        }
        Function::UserInfo => (
            user_info_event(&world.sign_in().await.uid),
            Expected::Code(200),
        ),
        Function::ListSessions => {
            let tokens = world.sign_in().await;
            let event = list_sessions_event(&tokens.uid, &tokens.session_id(), None);
            (event, Expected::Code(200))
        }
        Function::EndSession => {
            let tokens = world.sign_in().await;
            let session = tokens.session_id();
            let event = end_session_event(&tokens.uid, &session, &session);
            (event, Expected::Code(200))
        }
        Function::Authorizer => {
            let access = world.sign_in().await.access;
            let event = testkit::events::authorizer_event(
                "GET",
                testkit::events::USER_INFO_ROUTE,
                &[("Authorization", &access)],
            );
            (event.to_string(), Expected::Allow)
        }
        Function::TokenKeys => (
            testkit::events::RestEvent::new("GET", "/.well-known/jwks.json").to_json(),
            Expected::Keys,
        ),
        Function::KeyRotation => {
            let token = world.keys.current_version().await;
            let event = serde_json::json!({
                "Step": "finishSecret",
                "SecretId": world.keys.signing_secret,
                "ClientRequestToken": token,
            });
            (event.to_string(), Expected::Nothing)
        }
    }
}

enum Expected {
    Code(u64),
    Allow,
    Keys,
    Nothing,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_endpoint_variable_means_unset_never_a_panic() {
    // As `sam local` passes a variable the template declares empty: each service's endpoint
    // variable is empty, the SDK's global one names moto, and every function answers.
    let world = World::new().await;
    for function in Function::ALL {
        let binary = binary(function);
        let (event, expected) = first_event(&world, function).await;
        let (api, mut outcomes) = RuntimeApi::start(binary.name).await.expect("runtime API");
        api.push(Invocation {
            request_id: "0a0000ee-empty-endpoints".into(),
            event: event.into(),
        });
        let mut command = tokio::process::Command::new(&binary.path);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.runtime_api())
            .env("AWS_LAMBDA_FUNCTION_NAME", binary.name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", &world.endpoint)
            .envs(world.variables())
            .kill_on_drop(true)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for service in ["DYNAMODB", "SECRETS_MANAGER", "SSM"] {
            command.env(format!("AWS_ENDPOINT_URL_{service}"), "");
        }
        let mut child = command.spawn().expect("start the binary");
        let outcome = tokio::time::timeout(START_LIMIT, outcomes.recv()).await;
        let _ = child.kill().await;
        let output = child.wait_with_output().await.expect("output");
        let logs = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let outcome = outcome
            .unwrap_or_else(|_| panic!("{}: no answer: {logs}", binary.name))
            .expect("an outcome");
        let body = match outcome {
            Outcome::Response { body, .. } => body,
            other => panic!("{}: {other:?}", binary.name),
        };
        let answer: Value = serde_json::from_slice(&body).expect("JSON");
        let envelope = || -> Value {
            serde_json::from_str(answer["body"].as_str().expect("a body")).expect("JSON body")
        };
        match expected {
            Expected::Code(code) => {
                assert_eq!(envelope()["code"], code, "{}: {answer}", binary.name);
            }
            Expected::Allow => assert_eq!(
                answer["policyDocument"]["Statement"][0]["Effect"], "Allow",
                "{answer}"
            ),
            Expected::Keys => assert!(envelope()["keys"].is_array(), "{answer}"),
            Expected::Nothing => assert!(answer.is_null(), "{answer}"),
        }
    }
}
