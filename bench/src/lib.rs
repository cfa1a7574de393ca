//! Benchmarks of the five functions, shared by the `bench-runner` binary and the `cpu` bench
//! target:
//! - [`world`]: testkit's loopback world, plus each binary's environment and first event.
//! - [`memory`]: the five functions on the in-memory adapters, sharing one store.
//! - [`cost`]: DynamoDB request units from item sizes, and what a million operations cost.
//! - [`capacity`]: from a load run's reads and writes per item, the rate one user domain
//!   sustains before an item is throttled.
//! - [`stats`] and [`report`]: percentiles, tables, and the results file `scripts/bench` reads.

pub mod capacity;
pub mod cost;
pub mod memory;
pub mod report;
pub mod stats;
pub mod world;
