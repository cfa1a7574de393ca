//! The test and local-run kit: loopback stand-ins for the functions' dependencies, in-memory
//! adapters, Lambda events, and a whole world on loopback. Nothing here is part of a deployed
//! function.

pub mod capture;
pub mod events;
pub mod faulty;
pub mod functions;
pub mod gateway;
pub mod memory;
pub mod moto;
pub mod server;
pub mod template;
pub mod twitter;
pub mod world;
