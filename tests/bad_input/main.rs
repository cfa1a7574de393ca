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
//!
//! One module per concern: the world and the model; events, their malformed families and the
//! panics the edge catches; invoking the edge and checking its answers; the strategies; then the
//! properties and the hand-written cases, by what they test.

// The world, and what the contract says of it.
mod model;
mod world;

// Payloads, and how the edge takes them.
mod events;
mod families;
mod panics;

// Running a case and checking its answer.
mod answers;
mod runner;
mod stats;
mod strategies;

// The tests.
mod deep;
mod guards;
mod model_examples;
mod payloads;
mod queries;

/// This file, for proptest: the properties' shrunk failures are kept beside it, in
/// `main.proptest-regressions`, and replayed before any new case.
const SOURCE_FILE: &str = file!();
