//! Invoking the edge with a payload, and running the cases of a property.

use std::sync::atomic::Ordering;

use proptest::prelude::*;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestRunner,
};
use serde_json::Value;
use serde_json::value::RawValue;
use testkit::prelude::context;
use twitter_auth_login::http::edge;

use crate::answers::{Answer, check_response, check_success, fail};
use crate::families::{Family, Origin, families};
use crate::panics::{in_conversion, take_panics, watch_panics};
use crate::stats::Stats;
use crate::world::{Fault, mcc_routes, user_domains, world};

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// How far a payload got.
#[derive(Debug)]
pub enum Reached {
    /// No API Gateway event: 5000, HTTP 500.
    NotAnEvent,
    /// lambda_http could not convert it: 4001 with an empty extMsg, HTTP 200.
    Malformed(Vec<String>),
    /// The endpoint answered; on success, the mcc stored with both tokens.
    Endpoint(Answer, Option<Option<i32>>),
}

/// Invokes the edge with a raw payload and checks everything that holds whatever the payload:
/// the response's shape, the envelope, how far the payload got, and what was stored (exactly
/// one session on success, nothing otherwise; the config tables untouched).
pub fn run_event(
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
pub enum Expected {
    Malformed,
    Answer(u64, &'static str, Option<i32>),
}

/// Runs an event and checks the answer against the prediction: exact code and extMsg, and on
/// success the mcc stored with the tokens.
pub fn run_expecting(
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

/// `PROPTEST_CASES` when set, else this property's default.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        source_file: Some(crate::SOURCE_FILE),
        // Shrunk failures go to tests/bad_input/main.proptest-regressions and are replayed first.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        // ChaCha in a debug build costs more than the endpoint; these cases need no crypto RNG.
        rng_algorithm: RngAlgorithm::XorShift,
        ..Config::default()
    }
}

pub fn run<S: Strategy>(
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
