//! Loopback stand-ins for the function's dependencies, shared by the tests, the benchmarks and
//! the local run. Nothing here is part of the deployed function.

pub mod events;
pub mod faulty;
pub mod moto;
pub mod server;
pub mod twitter;
