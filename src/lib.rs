//! Sign-in with Twitter for an IoT platform's end users, and the sessions behind it, as five
//! AWS Lambda functions over one library.
//!
//! Layers, each replaceable on its own:
//! - [`http`]: the edge every HTTP function shares (event in, envelope out, one log line).
//! - [`endpoints`]: each function's checks and logic, free of I/O, over the [`ports`] traits;
//!   [`session`] holds the rules that decide whether a token is live.
//! - [`dynamo`] and [`twitter`]: the adapters behind the ports.
//! - [`startup`] and [`config`]: what each thin `src/bin` main builds once.

pub mod clock;
pub mod config;
pub mod dynamo;
pub mod endpoints;
pub mod error;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod ports;
pub mod scope;
pub mod secret;
pub mod session;
pub mod startup;
pub mod token;
pub mod twitter;
pub mod user_domain;
