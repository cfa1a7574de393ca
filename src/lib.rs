//! Sign-in with Twitter for an IoT platform's end users, and the sessions behind it, as AWS
//! Lambda functions over one library.
//!
//! Layers, each replaceable on its own (README, "Code map"):
//! - [`domain`]: the pure types and rules: user domains, users, tokens, sessions, grants.
//! - [`endpoints`]: each function's checks and logic, over the [`ports`] traits.
//! - [`keys`] and [`jwt`]: the signing keys (formats, rotation, cache) and access tokens as
//!   signed JWTs.
//! - [`dynamo`], [`secrets`] and [`twitter`]: the adapters behind the ports, with what the AWS
//!   ones share in [`sdk`].
//! - [`http`] and [`invocation`]: the edge every HTTP function shares, and what every
//!   invocation does (deadline, log line, metric record).
//! - [`config`], [`logging`] and [`startup`]: what each thin `src/bin` main builds once.

pub mod config;
pub mod domain;
pub mod dynamo;
pub mod endpoints;
pub mod error;
pub mod http;
pub mod invocation;
pub mod jwt;
pub mod keys;
pub mod logging;
pub mod ports;
pub mod sdk;
pub mod secrets;
pub mod startup;
pub mod twitter;
