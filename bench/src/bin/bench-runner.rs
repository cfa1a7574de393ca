//! Runs the benchmarks that need the loopback world (moto, the Twitter stand-in) and, for two of
//! them, the release binaries under the Lambda runtime API emulator:
//!
//! ```text
//! bench-runner cold-start --ours BIN --empty BIN [--starts 15] [--label NAME] [--env K=V]... [--no-target]
//! bench-runner e2e [--logins 500] [--concurrency 1,32]
//! bench-runner memory --bin BIN [--invocations 2000]
//! ```
//!
//! Each prints a markdown table and appends its figures to `$BENCH_RESULTS` when set.
//! DynamoDB comes from `DYNAMODB_TEST_ENDPOINT`, or a moto server testkit starts.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bench::emulator::{Invocation, Outcome, RuntimeApi};
use bench::event::{self, proxy_response_codes};
use bench::report::{Verdict, print_table, record};
use bench::stats::{median, mib, ms, percentile};
use bench::world::World;
use bytes::Bytes;
use lambda_http::Body;
use testkit::faulty::FaultyServer;
use tokio::sync::mpsc::UnboundedReceiver;
use twitter_auth_login::login::{
    Directory, IssuedPair, StoredToken, TokenStore, TwitterUser, TwitterVerifier,
};
use twitter_auth_login::oauth;
use twitter_auth_login::token::{MintedToken, random_hex};

type Fallible<T> = Result<T, String>;

/// A start that has not asked for work or answered by then has failed.
const START_LIMIT: Duration = Duration::from_secs(20);
const COLD_START_RATIO_TARGET: f64 = 1.5;
const PEAK_MEMORY_TARGET_BYTES: u64 = 30_000_000;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("cold-start") => cold_starts(&Args(&args[1..])).await,
        Some("e2e") => end_to_end(&Args(&args[1..])).await,
        Some("memory") => memory(&Args(&args[1..])).await,
        _ => Err("usage: bench-runner cold-start|e2e|memory [--option value]...".to_owned()),
    };
    if let Err(why) = result {
        eprintln!("bench-runner: {why}");
        std::process::exit(1);
    }
}

struct Args<'a>(&'a [String]);

impl Args<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .windows(2)
            .find(|pair| pair[0] == name)
            .map(|pair| pair[1].as_str())
    }

    fn path(&self, name: &str) -> Fallible<PathBuf> {
        let path = PathBuf::from(self.get(name).ok_or(format!("{name} is required"))?);
        if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{name} {}: no such file", path.display()))
        }
    }

    /// Every `--env NAME=VALUE`: extra variables for the binaries, for experiments.
    fn extra_env(&self) -> Fallible<Vec<(String, String)>> {
        self.0
            .windows(2)
            .filter(|pair| pair[0] == "--env")
            .map(|pair| {
                pair[1]
                    .split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .ok_or(format!("--env {}: not NAME=VALUE", pair[1]))
            })
            .collect()
    }

    fn number(&self, name: &str, default: usize) -> Fallible<usize> {
        self.get(name).map_or(Ok(default), |raw| {
            raw.parse()
                .map_err(|_| format!("{name} {raw}: not a number"))
        })
    }
}

/// A binary running under the emulator; killed when dropped.
struct Function {
    child: Child,
    started: Instant,
}

impl Function {
    fn spawn(binary: &Path, env: &[(String, String)], log: &Path) -> Fallible<Function> {
        let log = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        let started = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        Ok(Function { child, started })
    }

    /// A line of `/proc/PID/status`, in bytes (the kernel prints kB).
    fn status_bytes(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kb| kb * 1024)
    }

    fn threads(&self) -> Option<u64> {
        self.status_bytes("Threads").map(|n| n / 1024)
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("bench-{name}.log"))
}

async fn next_outcome(
    outcomes: &mut UnboundedReceiver<Outcome>,
    what: &str,
    log: &Path,
) -> Fallible<Outcome> {
    match tokio::time::timeout(START_LIMIT, outcomes.recv()).await {
        Ok(Some(outcome)) => Ok(outcome),
        _ => Err(format!(
            "{what}: no answer within {START_LIMIT:?} (its output: {})",
            log.display()
        )),
    }
}

/// The answer must be an API Gateway response with status 200 and, for a login, code 200.
fn check_answer(outcome: &Outcome, login: bool, what: &str, log: &Path) -> Fallible<()> {
    let body = match outcome {
        Outcome::Response { body, .. } => body,
        Outcome::Error { body, .. } | Outcome::InitError { body, .. } => {
            return Err(format!(
                "{what} reported an error: {} (its output: {})",
                String::from_utf8_lossy(body),
                log.display()
            ));
        }
    };
    match proxy_response_codes(body) {
        Some((200, Some(200))) => Ok(()),
        Some((200, _)) if !login => Ok(()),
        _ => Err(format!(
            "{what} answered {} (its output: {})",
            String::from_utf8_lossy(body),
            log.display()
        )),
    }
}

fn request_id(n: usize) -> String {
    format!("8476a536-e9f4-11e8-9739-{n:012x}")
}

struct Start {
    /// Until the first `GET /runtime/invocation/next`.
    next: Duration,
    /// Until the first `POST /runtime/invocation/{id}/response`.
    answer: Duration,
}

async fn cold_start(
    binary: &Path,
    world: &World,
    extra_env: &[(String, String)],
    event: &Bytes,
    login: bool,
    name: &str,
) -> Fallible<Start> {
    let (api, mut outcomes) = RuntimeApi::start()
        .await
        .map_err(|e| format!("emulator: {e}"))?;
    api.push(Invocation {
        request_id: request_id(0),
        event: event.clone(),
    });
    let log = log_path(name);
    let mut env = world.lambda_env(&api.runtime_api(), &world.endpoint);
    env.extend_from_slice(extra_env);
    let function = Function::spawn(binary, &env, &log)?;
    let outcome = next_outcome(&mut outcomes, name, &log).await?;
    check_answer(&outcome, login, name, &log)?;
    let next = api.first_next().ok_or("answered without asking for work")?;
    Ok(Start {
        next: next - function.started,
        answer: outcome.at() - function.started,
    })
}

async fn cold_starts(args: &Args<'_>) -> Fallible<()> {
    let ours = args.path("--ours")?;
    let empty = args.path("--empty")?;
    let starts = args.number("--starts", 15)?.max(1);
    let label = args.get("--label").unwrap_or("release profile");
    let extra = args.extra_env()?;
    // Experiments and comparisons report their ratios without judging them.
    let judged = !args.0.iter().any(|arg| arg == "--no-target");
    let world = World::new().await?;
    let event = Bytes::from(world.event());

    // One discarded start each, so that both binaries are in the page cache.
    cold_start(&ours, &world, &extra, &event, true, "ours").await?;
    cold_start(&empty, &world, &extra, &event, false, "empty").await?;
    let (mut ours_starts, mut empty_starts) = (Vec::new(), Vec::new());
    for _ in 0..starts {
        ours_starts.push(cold_start(&ours, &world, &extra, &event, true, "ours").await?);
        empty_starts.push(cold_start(&empty, &world, &extra, &event, false, "empty").await?);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let summary = |starts: &[Start], pick: fn(&Start) -> Duration| {
        let mut all: Vec<Duration> = starts.iter().map(pick).collect();
        all.sort();
        (median(&all), all[0], all[all.len() - 1])
    };
    let section = format!("Cold start ({label})");
    let mut rows = Vec::new();
    let mut medians = Vec::new();
    for (who, starts, binary) in [
        ("twitter-auth-login", &ours_starts, &ours),
        ("empty-lambda", &empty_starts, &empty),
    ] {
        let (next, next_min, next_max) = summary(starts, |s| s.next);
        let (answer, answer_min, answer_max) = summary(starts, |s| s.answer);
        rows.push(vec![
            who.to_owned(),
            ms(next),
            format!("{} – {}", ms(next_min), ms(next_max)),
            ms(answer),
            format!("{} – {}", ms(answer_min), ms(answer_max)),
            starts.len().to_string(),
        ]);
        medians.push((next, answer));
        let size = std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0);
        eprintln!("{who}: {} ({})", binary.display(), mib(size));
        record(
            &section,
            &format!(
                "{who}: start → first GET /invocation/next (median of {})",
                starts.len()
            ),
            &ms(next),
            "",
            Verdict::Info,
        );
        record(
            &section,
            &format!(
                "{who}: start → first invocation response (median of {})",
                starts.len()
            ),
            &ms(answer),
            "",
            Verdict::Info,
        );
    }
    print_table(
        &format!("{section}: median of {starts} starts each, interleaved"),
        &[
            "binary",
            "start → first /next (median)",
            "min – max",
            "start → first response (median)",
            "min – max",
            "starts",
        ],
        &rows,
    );
    // The first login of each start on its own: from asking for work to answering.
    let (first_login, _, _) = summary(&ours_starts, |s| s.answer.saturating_sub(s.next));
    let ratio = |ours: Duration, empty: Duration| ours.as_secs_f64() / empty.as_secs_f64();
    let next_ratio = ratio(medians[0].0, medians[1].0);
    let answer_ratio = ratio(medians[0].1, medians[1].1);
    let target = if judged {
        format!("≤ {COLD_START_RATIO_TARGET}× empty")
    } else {
        "(comparison only)".to_owned()
    };
    let verdict = |ratio: f64| {
        if judged {
            Verdict::of(ratio <= COLD_START_RATIO_TARGET)
        } else {
            Verdict::Info
        }
    };
    println!(
        "ratio ours/empty: first /next {next_ratio:.2}×, first response {answer_ratio:.2}× (target {target})"
    );
    // The first response of ours includes a real login: two DynamoDB requests to moto and one
    // Twitter call, each on a fresh connection; the empty function answers without any I/O.
    println!(
        "ours, first response − first /next (the first login, fresh connections), median: {}",
        ms(first_login)
    );
    record(
        &section,
        "ratio ours/empty: start → first /next (init)",
        &format!("{next_ratio:.2}×"),
        &target,
        verdict(next_ratio),
    );
    record(
        &section,
        "ratio ours/empty: start → first response (ours does a real login)",
        &format!("{answer_ratio:.2}×"),
        &target,
        verdict(answer_ratio),
    );
    record(
        &section,
        "twitter-auth-login: first login (first response − first /next, median)",
        &ms(first_login),
        "",
        Verdict::Info,
    );
    Ok(())
}

async fn end_to_end(args: &Args<'_>) -> Fallible<()> {
    let logins = args.number("--logins", 500)?.max(1);
    let levels: Vec<usize> = args
        .get("--concurrency")
        .unwrap_or("1,32")
        .split(',')
        .map(|c| c.trim().parse().map_err(|_| format!("--concurrency {c}")))
        .collect::<Fallible<_>>()?;
    let world = World::new().await?;
    let proxy = FaultyServer::proxy(&world.endpoint)
        .await
        .map_err(|e| format!("proxy: {e}"))?;
    let handler = Arc::new(world.handler(&proxy.url())?);
    let event: Arc<str> = world.event().into();

    // Warm-up: connections, the SDK's first-request work, moto's.
    for _ in 0..20 {
        login(&handler, &event).await?;
    }

    let section = "End-to-end login (handler → proxy → moto, Twitter stand-in)";
    let mut rows = Vec::new();
    for concurrency in levels {
        let before = proxy.requests();
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency.max(1) {
            let (handler, event, next) =
                (Arc::clone(&handler), Arc::clone(&event), Arc::clone(&next));
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < logins {
                    latencies.push(login(&handler, &event).await?);
                }
                Ok::<_, String>(latencies)
            }));
        }
        let mut latencies = Vec::with_capacity(logins);
        for task in tasks {
            latencies.extend(task.await.map_err(|e| e.to_string())??);
        }
        let wall = started.elapsed();
        let requests = proxy.requests() - before;
        latencies.sort();
        let (p50, p99, max) = (
            percentile(&latencies, 50.0),
            percentile(&latencies, 99.0),
            latencies[latencies.len() - 1],
        );
        let per_login = requests as f64 / logins as f64;
        let throughput = logins as f64 / wall.as_secs_f64();
        rows.push(vec![
            concurrency.to_string(),
            logins.to_string(),
            ms(p50),
            ms(p99),
            ms(max),
            format!("{throughput:.0}/s"),
            format!("{per_login:.3}"),
        ]);
        let at = format!("concurrency {concurrency}, {logins} logins");
        record(
            section,
            &format!("p50 latency, {at}"),
            &ms(p50),
            "",
            Verdict::Info,
        );
        record(
            section,
            &format!("p99 latency, {at}"),
            &ms(p99),
            "",
            Verdict::Info,
        );
        record(
            section,
            &format!("throughput, {at}"),
            &format!("{throughput:.0} logins/s"),
            "",
            Verdict::Info,
        );
        record(
            section,
            &format!("DynamoDB requests per login, {at}"),
            &format!("{per_login:.3} ({requests} requests)"),
            "exactly 2",
            Verdict::of(requests == 2 * logins),
        );
    }
    let breakdown = breakdown(&world, &handler, 200).await?;
    for (what, p50, p99) in &breakdown {
        rows.push(vec![
            format!("1 (alone: {what})"),
            "200".to_owned(),
            ms(*p50),
            ms(*p99),
            String::new(),
            String::new(),
            String::new(),
        ]);
        record(
            section,
            &format!("one call alone, concurrency 1: {what}, p50 / p99"),
            &format!("{} / {}", ms(*p50), ms(*p99)),
            "",
            Verdict::Info,
        );
    }
    print_table(
        section,
        &[
            "concurrency",
            "logins",
            "p50",
            "p99",
            "max",
            "throughput",
            "DynamoDB requests / login",
        ],
        &rows,
    );
    Ok(())
}

/// Where a login's time goes: each of its three dependency calls on its own, through the same
/// adapters (after the counted runs, so the proxy's count is not disturbed); p50 and p99.
async fn breakdown(
    world: &World,
    handler: &bench::world::RealHandler,
    calls: usize,
) -> Fallible<Vec<(&'static str, Duration, Duration)>> {
    let store = handler.login().store();
    let twitter = world.twitter_client()?;
    let credentials = oauth::Credentials {
        consumer_key: event::CONSUMER_KEY,
        consumer_secret: event::CONSUMER_SECRET,
        token: event::OAUTH_TOKEN,
        token_secret: event::OAUTH_TOKEN_SECRET,
    };
    let (mut lookups, mut saves, mut verifies) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..calls {
        let started = Instant::now();
        store
            .lookup(event::DOMAIN, Some(event::MCC))
            .await
            .map_err(|e| format!("lookup: {e:?}"))?;
        lookups.push(started.elapsed());

        let started = Instant::now();
        twitter
            .verify(&credentials)
            .await
            .map_err(|e| format!("verify: {e:?}"))?;
        verifies.push(started.elapsed());

        let token = |expiration_time| {
            MintedToken::mint().map(|minted| StoredToken {
                hash: minted.hash,
                expiration_time,
            })
        };
        let pair = IssuedPair {
            pair_id: random_hex::<16>().map_err(|e| format!("{e:?}"))?,
            user_domain: event::DOMAIN.to_owned(),
            app_id: event::APP_ID.to_owned(),
            twitter_user: TwitterUser {
                id: event::TWITTER_USER_ID.to_owned(),
                username: Some(event::TWITTER_USERNAME.to_owned()),
            },
            issued_at: 1_764_000_000,
            mcc: Some(event::MCC),
            access: token(1_764_007_200).map_err(|e| format!("{e:?}"))?,
            refresh: token(1_766_592_000).map_err(|e| format!("{e:?}"))?,
        };
        let started = Instant::now();
        store
            .save_pair(&pair)
            .await
            .map_err(|e| format!("save_pair: {e:?}"))?;
        saves.push(started.elapsed());
    }
    let summary = |what, mut samples: Vec<Duration>| {
        samples.sort();
        (what, percentile(&samples, 50.0), percentile(&samples, 99.0))
    };
    Ok(vec![
        summary("Directory::lookup, DynamoDB BatchGetItem", lookups),
        summary("TwitterVerifier::verify, Twitter stand-in", verifies),
        summary("TokenStore::save_pair, DynamoDB TransactWriteItems", saves),
    ])
}

/// One login through the handler, from the raw event to the response; its latency.
async fn login(handler: &bench::world::RealHandler, event: &str) -> Fallible<Duration> {
    let started = Instant::now();
    let request = lambda_http::request::from_str(event).map_err(|e| format!("event: {e}"))?;
    let response = handler.handle(request).await;
    let elapsed = started.elapsed();
    let body = match response.body() {
        Body::Text(text) => text.as_str(),
        _ => "",
    };
    let code = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("code").and_then(serde_json::Value::as_u64));
    if response.status() != 200 || code != Some(200) {
        return Err(format!("login failed: {} {body}", response.status()));
    }
    Ok(elapsed)
}

async fn memory(args: &Args<'_>) -> Fallible<()> {
    let binary = args.path("--bin")?;
    let invocations = args.number("--invocations", 2000)?.max(1);
    let world = World::new().await?;
    let proxy = FaultyServer::proxy(&world.endpoint)
        .await
        .map_err(|e| format!("proxy: {e}"))?;
    let event = Bytes::from(world.event());
    let (api, mut outcomes) = RuntimeApi::start()
        .await
        .map_err(|e| format!("emulator: {e}"))?;
    for n in 0..invocations {
        api.push(Invocation {
            request_id: request_id(n),
            event: event.clone(),
        });
    }
    let log = log_path("memory");
    let env = world.lambda_env(&api.runtime_api(), &proxy.url());
    let function = Function::spawn(&binary, &env, &log)?;
    let mut service_times = Vec::with_capacity(invocations);
    let mut after_first = None;
    let mut last = function.started;
    for n in 0..invocations {
        let outcome = next_outcome(&mut outcomes, "twitter-auth-login", &log).await?;
        check_answer(&outcome, true, "twitter-auth-login", &log)?;
        if let Outcome::Response {
            service_time, at, ..
        } = &outcome
        {
            service_times.push(*service_time);
            last = *at;
        }
        if n == 0 {
            after_first = function.status_bytes("VmHWM");
        }
    }
    let peak = function
        .status_bytes("VmHWM")
        .ok_or("cannot read /proc/PID/status")?;
    let rss = function.status_bytes("VmRSS").unwrap_or(0);
    let threads = function.threads().unwrap_or(0);
    let requests = proxy.requests();
    let throughput = invocations as f64 / (last - function.started).as_secs_f64();
    drop(function);

    let mut steady = service_times[1..].to_vec();
    steady.sort();
    let section = "Memory (release binary under the emulator, AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128)";
    let mb = |bytes: u64| format!("{:.1} MB", bytes as f64 / 1e6);
    let at = format!("{invocations} invocations, concurrency 1");
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
            format!(
                "{} / {}",
                ms(percentile(&steady, 50.0)),
                ms(percentile(&steady, 99.0))
            ),
            format!("{throughput:.0}"),
            format!("{:.3}", requests as f64 / invocations as f64),
        ]],
    );
    println!(
        "concurrency: 1 — lambda_http::run polls one invocation at a time (a Lambda execution environment serves one request at a time)"
    );
    record(
        section,
        &format!("peak RSS (VmHWM), {at}"),
        &format!("{} ({})", mb(peak), mib(peak)),
        "< 30 MB",
        Verdict::of(peak < PEAK_MEMORY_TARGET_BYTES),
    );
    record(
        section,
        "VmHWM after the first invocation",
        &after_first.map(mb).unwrap_or_default(),
        "",
        Verdict::Info,
    );
    record(
        section,
        &format!("service time p50 / p99 (/next → response), {at}"),
        &format!(
            "{} / {}",
            ms(percentile(&steady, 50.0)),
            ms(percentile(&steady, 99.0))
        ),
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
    Ok(())
}
