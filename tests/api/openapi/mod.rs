//! docs/openapi.yaml against the code: each operation is driven through its cases over HTTP,
//! through the local API that serves template.yaml's routes (authorizer and gateway responses
//! included), with the functions in this process on moto and the Twitter stand-in. Every
//! answer must be one the document describes for its operation and HTTP status, and every
//! answer the document describes must come up at least once.
//!
//! The document and its checks, the harness that drives the functions, the coverage of what the
//! document describes; then the tests: the document against itself and the template, and each
//! operation through its cases.

mod consistency;
mod coverage;
mod document;
mod harness;
mod operations;

/// The stack whose routes, authorizers and gateway responses the local API serves.
const TEMPLATE: &str = include_str!("../../../template.yaml");
