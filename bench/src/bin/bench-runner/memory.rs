//! `bench-runner memory`: the login's release binary under the emulator through a load run: peak
//! memory, service time, and DynamoDB requests per invocation.

use std::io::Write;
use std::path::PathBuf;

use bench::report::{Verdict, print_table, record};
use bench::stats::{mib, ms};
use bench::world::{Fallible, function_env, lambda_env, login_event};
use bytes::Bytes;
use testkit::emulator::{Invocation, Outcome, RuntimeApi};
use testkit::faulty::FaultyServer;
use testkit::functions::Function;

use crate::process::{Expected, Process, check_answer, log_path, next_outcome, request_id};
use crate::shared::{existing_file, latency_summary};

/// The figures of one load run.
#[derive(clap::Args)]
pub struct Args {
    /// The login's binary (twitter-auth-login).
    #[arg(long = "bin", value_name = "PATH", value_parser = existing_file)]
    binary: PathBuf,
    /// Logins, one after another (at least 1).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    invocations: usize,
}

const PEAK_MEMORY_TARGET_BYTES: u64 = 30_000_000;

pub async fn run(args: Args) -> Fallible<()> {
    let binary = args.binary;
    let invocations = args.invocations.max(1);
    let mut world = bench::world::world().await;
    // Its logins are one end user's: the cap is raised above them, so each is the usual login
    // and none ends an earlier session.
    world.max_sessions = invocations as u64 + 1;
    let proxy = FaultyServer::proxy(&world.endpoint)
        .await
        .map_err(|e| format!("proxy: {e}"))?;
    let event = Bytes::from(login_event(&world));
    let name = Function::Login.binary();
    let (api, mut outcomes) = RuntimeApi::start(name)
        .await
        .map_err(|e| format!("emulator: {e}"))?;
    for n in 0..invocations {
        api.push(Invocation {
            request_id: request_id(n),
            event: event.clone(),
        });
    }
    let log = log_path("memory");
    let env = lambda_env(
        name,
        &api.runtime_api(),
        &function_env(&world, &proxy.url()),
    );
    let process = Process::spawn(&binary, &env, &log)?;
    let mut service_times = Vec::with_capacity(invocations);
    let mut after_first = None;
    let mut last = process.started;
    for n in 0..invocations {
        let outcome = next_outcome(&mut outcomes, name, &log).await?;
        check_answer(&outcome, Expected::Envelope, name, &log)?;
        if let Outcome::Response {
            service_time, at, ..
        } = &outcome
        {
            service_times.push(*service_time);
            last = *at;
        }
        if n == 0 {
            after_first = process.status_bytes("VmHWM");
        }
    }
    let peak = process
        .status_bytes("VmHWM")
        .ok_or("cannot read /proc/PID/status")?;
    let rss = process.status_bytes("VmRSS").unwrap_or(0);
    let threads = process.status_number("Threads").unwrap_or(0);
    let requests = proxy.requests();
    let throughput = invocations as f64 / (last - process.started).as_secs_f64();
    drop(process);

    let (p50, p99, _) = latency_summary(service_times.get(1..).unwrap_or_default().to_vec());
    let section =
        "Memory (twitter-auth-login under the emulator, AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128)";
    let mb = |bytes: u64| format!("{:.1} MB", bytes as f64 / 1e6);
    let at = format!("{invocations} logins, concurrency 1");
    print_table(
        section,
        &[
            "invocations",
            "peak RSS (VmHWM)",
            "VmHWM after the 1st",
            "RSS at the end",
            "threads",
            "service time p50 / p99",
            "invocations/s",
            "DynamoDB requests / invocation",
        ],
        &[vec![
            invocations.to_string(),
            format!("{} ({})", mb(peak), mib(peak)),
            after_first.map(mb).unwrap_or_default(),
            mb(rss),
            threads.to_string(),
            format!("{} / {}", ms(p50), ms(p99)),
            format!("{throughput:.0}"),
            format!("{:.3}", requests as f64 / invocations as f64),
        ]],
    );
    println!(
        "concurrency: 1 — the runtime polls one invocation at a time (a Lambda execution \
         environment serves one request at a time)"
    );
    record(
        section,
        &format!("peak RSS (VmHWM), {at}"),
        &format!(
            "{} ({}); {} after the first",
            mb(peak),
            mib(peak),
            after_first.map(mb).unwrap_or_default()
        ),
        "< 30 MB",
        Verdict::of(peak < PEAK_MEMORY_TARGET_BYTES),
    );
    record(
        section,
        &format!("service time p50 / p99 (/next → response), {at}"),
        &format!("{} / {}", ms(p50), ms(p99)),
        "",
        Verdict::Info,
    );
    record(
        section,
        &format!("DynamoDB requests per invocation, {at}"),
        &format!(
            "{:.3} ({requests} requests)",
            requests as f64 / invocations as f64
        ),
        "exactly 2",
        Verdict::of(requests == 2 * invocations),
    );
    let _ = std::io::stdout().flush();
    Ok(())
}
