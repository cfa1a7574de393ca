//! The test and local-run kit: loopback stand-ins for the functions' dependencies, in-memory
//! adapters, Lambda events, and a whole world on loopback. Nothing here is part of a deployed
//! function.
//!
//! - [`world`]: a deployment on loopback (moto tables, seeded data, the Twitter stand-in, the
//!   functions wired to them); [`functions`]: the list of functions, and all of them in process.
//! - [`events`] builds the events the functions receive; [`invoke`] invokes the functions as
//!   Lambda would; [`stored`] reads what they stored.
//! - [`twitter`], [`faulty`], [`gateway`], [`moto`] and [`server`]: the stand-ins on loopback;
//!   [`traffic`]: what DynamoDB requests do to each item, as the fault proxy counts it.
//! - [`forge`]: access tokens an attacker could make from a genuine one.
//! - [`memory`]: in-memory adapters; [`capture`]: logs kept for a test to read.
//! - [`prelude`]: what most tests use, in one import.

pub mod capture;
pub mod contract;
pub mod emulator;
pub mod events;
pub mod faulty;
pub mod forge;
pub mod functions;
pub mod gateway;
pub mod invoke;
pub mod keys;
pub mod memory;
pub mod moto;
pub mod prelude;
pub mod server;
pub mod stored;
pub mod traffic;
pub mod twitter;
pub mod world;
