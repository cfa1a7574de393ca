//! A release binary under the Lambda runtime API emulator: its process, and its answers.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bench::world::{Answer, Fallible, check_policy};
use testkit::emulator::Outcome;
use testkit::functions::Function;
use tokio::sync::mpsc::UnboundedReceiver;

/// A start that has not asked for work or answered by then has failed.
const START_LIMIT: Duration = Duration::from_secs(20);

/// A binary running under the emulator; killed when dropped.
pub struct Process {
    child: Child,
    pub started: Instant,
}

impl Process {
    pub fn spawn(binary: &Path, env: &[(String, String)], log: &Path) -> Fallible<Process> {
        let log = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        let started = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        Ok(Process { child, started })
    }

    /// A line of `/proc/PID/status`, in bytes (the kernel prints kB).
    pub fn status_bytes(&self, field: &str) -> Option<u64> {
        self.status_number(field).map(|kb| kb * 1024)
    }

    pub fn status_number(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn log_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("bench-{name}.log"))
}

pub async fn next_outcome(
    outcomes: &mut UnboundedReceiver<Outcome>,
    what: &str,
    log: &Path,
) -> Fallible<Outcome> {
    match tokio::time::timeout(START_LIMIT, outcomes.recv()).await {
        Ok(Some(outcome)) => Ok(outcome),
        _ => Err(format!(
            "{what}: no answer within {START_LIMIT:?} (its output: {})",
            log.display()
        )),
    }
}

/// What a function's first answer must be for its figures to mean anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// An HTTP function's envelope with code 200.
    Envelope,
    /// The authorizer's Allow.
    Allow,
    /// A discovery document: status 200, plain JSON.
    Document,
    /// A function that answers nothing (the rotation's step): no error.
    Nothing,
}

impl Expected {
    /// What `function` (the empty function when `None`) answers its first event with.
    pub fn of(function: Option<Function>) -> Expected {
        match function {
            Some(Function::Authorizer) => Expected::Allow,
            Some(Function::TokenKeys) => Expected::Document,
            Some(Function::KeyRotation) => Expected::Nothing,
            _ => Expected::Envelope,
        }
    }
}

/// The answer must be a success, as `expected` says.
pub fn check_answer(outcome: &Outcome, expected: Expected, what: &str, log: &Path) -> Fallible<()> {
    let body = match outcome {
        Outcome::Response { body, .. } => body,
        Outcome::Error { body, .. } | Outcome::InitError { body, .. } => {
            return Err(format!(
                "{what} reported an error: {} (its output: {})",
                String::from_utf8_lossy(body),
                log.display()
            ));
        }
    };
    let gateway = || {
        serde_json::from_slice(body)
            .map_err(|e| e.to_string())
            .and_then(|response| Answer::from_gateway(&response))
    };
    let checked = match expected {
        Expected::Allow => check_policy(body),
        Expected::Envelope => gateway().and_then(|answer| answer.data().map(drop)),
        Expected::Document => gateway().and_then(|answer| {
            (answer.status == 200 && answer.body["keys"].is_array())
                .then_some(())
                .ok_or(format!("answered {} {}", answer.status, answer.body))
        }),
        Expected::Nothing => (body.as_ref() == b"null")
            .then_some(())
            .ok_or(format!("answered {}", String::from_utf8_lossy(body))),
    };
    checked.map_err(|why| format!("{what}: {why} (its output: {})", log.display()))
}

pub fn request_id(n: usize) -> String {
    format!("8476a536-e9f4-11e8-9739-{n:012x}")
}
