//! Twitter authorization login for an IoT platform's end users, run as an AWS Lambda function.
//!
//! Layers, each replaceable on its own:
//! - [`handler`]: the HTTP edge (API Gateway event in, JSON envelope out, one log line).
//! - [`request`] and [`login`]: the contract's checks and the login itself, free of I/O.
//! - [`dynamo`] and [`twitter`]: the adapters behind the [`login`] traits.

pub mod admin;
pub mod config;
pub mod dynamo;
pub mod envelope;
pub mod error;
pub mod handler;
pub mod logging;
pub mod login;
pub mod memory;
pub mod oauth;
pub mod provision;
pub mod request;
pub mod secret;
pub mod signature;
pub mod token;
pub mod twitter;
