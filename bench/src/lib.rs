//! Benchmarks of twitter-auth-login, shared by the `bench-runner` binary and the `login_cpu`
//! bench target:
//! - [`emulator`]: a Lambda runtime API emulator the release binaries run under.
//! - [`event`]: the login event (API Gateway REST v1 proxy, valid signature) and its fixtures.
//! - [`world`]: tables on loopback moto, seeded, and the Twitter stand-in.
//! - [`stats`] and [`report`]: percentiles, tables, and the results file `scripts/bench` reads.

pub mod emulator;
pub mod event;
pub mod report;
pub mod stats;
pub mod world;
