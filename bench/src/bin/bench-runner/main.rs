//! Runs the benchmarks that need the loopback world (moto, the Twitter stand-in) and, for two of
//! them, the release binaries under the Lambda runtime API emulator:
//!
//! ```text
//! bench-runner cold-start --bin NAME=PATH... --empty PATH [--starts 15] [--label NAME]
//!                         [--env K=V]... [--no-target] [--summary FILE]
//! bench-runner e2e [--logins 500] [--concurrency 1,32] [--operations 500] [--logout-users 20]
//! bench-runner memory --bin PATH [--invocations 2000]
//! bench-runner capacity --bin NAME=PATH... [--instances 4] [--seconds 60] [--users 200]
//!                       [--mix 10,20,70]
//! ```
//!
//! NAME is a function's binary name (`twitter-auth-login`, `refresh-token`, `user-logout`,
//! `user-info`, `list-sessions`, `end-session`, `token-authorizer`). Each command prints
//! markdown tables and appends its figures to `$BENCH_RESULTS` when set. DynamoDB comes from
//! `DYNAMODB_TEST_ENDPOINT`, or a moto server testkit starts.
//!
//! A module per command, each with its options (`bench-runner COMMAND --help`); `process` runs a
//! binary under the emulator, `shared` holds what the commands share.

mod capacity;
mod cold_start;
mod costs;
mod e2e;
mod memory;
mod process;
mod requests;
mod shared;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "bench-runner",
    about = "Benchmarks of the functions on loopback (moto, the Twitter stand-in): cold \
             starts and memory of the release binaries under a Lambda runtime API emulator, and \
             the functions end to end. Figures go to stdout as markdown tables, and to \
             $BENCH_RESULTS when set."
)]
struct Cli {
    #[command(subcommand)]
    benchmark: Benchmark,
}

#[derive(Subcommand)]
enum Benchmark {
    /// Cold starts of release binaries under the emulator, each answering a real first
    /// invocation, next to the empty function's.
    ColdStart(cold_start::Args),
    /// Latency, DynamoDB requests per operation, item sizes and cost, through the functions in
    /// this process.
    E2e(e2e::Args),
    /// The login's peak memory under the emulator during a load run.
    Memory(memory::Args),
    /// One user domain under load through K processes of each function, with the caches off
    /// and on: the busiest item of each table, and the rate the domain sustains.
    Capacity(capacity::Args),
}

#[tokio::main]
async fn main() {
    let result = match Cli::parse().benchmark {
        Benchmark::ColdStart(args) => cold_start::run(args).await,
        Benchmark::E2e(args) => e2e::run(args).await,
        Benchmark::Memory(args) => memory::run(args).await,
        Benchmark::Capacity(args) => capacity::run(args).await,
    };
    if let Err(why) = result {
        eprintln!("bench-runner: {why}");
        std::process::exit(1);
    }
}
