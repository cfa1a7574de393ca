//! Runs the benchmarks that need the loopback world (moto, the Twitter stand-in) and, for two of
//! them, the release binaries under the Lambda runtime API emulator:
//!
//! ```text
//! bench-runner cold-start --bin NAME=PATH... --empty PATH [--starts 15] [--label NAME]
//!                         [--env K=V]... [--no-target] [--summary FILE]
//! bench-runner e2e [--logins 500] [--concurrency 1,32] [--operations 500] [--logout-users 20]
//! bench-runner memory --bin PATH [--invocations 2000]
//! ```
//!
//! NAME is a function's binary name (`twitter-auth-login`, `refresh-token`, `user-logout`,
//! `user-info`, `token-authorizer`). Each command prints markdown tables and appends its figures
//! to `$BENCH_RESULTS` when set. DynamoDB comes from `DYNAMODB_TEST_ENDPOINT`, or a moto server
//! testkit starts.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use bench::cost::{self, PerMillion, item_size, read_units, write_units};
use bench::emulator::{Invocation, Outcome, RuntimeApi};
use bench::report::{Verdict, print_table, record};
use bench::stats::{median, mib, ms, percentile};
use bench::world::{
    Answer, Fallible, Tokens, authorize, authorizer_event, check_policy, function_env, invoke,
    lambda_env, login_event, new_account_login_event,
};
use bytes::Bytes;
use clap::{Parser, Subcommand};
use testkit::faulty::FaultyServer;
use testkit::functions::Function;
use testkit::prelude::{self as kit, LOCAL_MCC, World};
use tokio::sync::mpsc::UnboundedReceiver;
use twitter_auth_login::config::Table;
use twitter_auth_login::domain::grant::issue_pair;
use twitter_auth_login::domain::secret::Secret;
use twitter_auth_login::domain::session::TokenOwner;
use twitter_auth_login::domain::token::{PresentedToken, hash_token, random_id};
use twitter_auth_login::domain::user::uid_for;
use twitter_auth_login::domain::user_domain::UserDomainName;
use twitter_auth_login::dynamo::{DynamoStore, Limits};
use twitter_auth_login::endpoints::login::Login;
use twitter_auth_login::endpoints::user_info::UserInfo;
use twitter_auth_login::ports::{
    DomainDirectory, NewSession, SessionStarter, TwitterCredentials, TwitterVerifier,
};
use twitter_auth_login::twitter::TwitterClient;

/// A start that has not asked for work or answered by then has failed.
const START_LIMIT: Duration = Duration::from_secs(20);
const COLD_START_RATIO_TARGET: f64 = 1.2;
const PEAK_MEMORY_TARGET_BYTES: u64 = 30_000_000;
/// Sessions of each end user whose logout with scope=others or global is counted.
const SESSIONS_PER_LOGOUT_USER: usize = 3;
/// Where the made-up accounts of the login runs are numbered from, apart from the logouts'.
const LOGIN_ACCOUNTS: usize = 1_000_000;

#[derive(Parser)]
#[command(
    name = "bench-runner",
    about = "Benchmarks of the five functions on loopback (moto, the Twitter stand-in): cold \
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
    ColdStart(ColdStartArgs),
    /// Latency, DynamoDB requests per operation, item sizes and cost, through the functions in
    /// this process.
    E2e(E2eArgs),
    /// The login's peak memory under the emulator during a load run.
    Memory(MemoryArgs),
}

#[tokio::main]
async fn main() {
    let result = match Cli::parse().benchmark {
        Benchmark::ColdStart(args) => cold_starts(args).await,
        Benchmark::E2e(args) => end_to_end(args).await,
        Benchmark::Memory(args) => memory(args).await,
    };
    if let Err(why) = result {
        eprintln!("bench-runner: {why}");
        std::process::exit(1);
    }
}

/// The figures of the starts of one or more binaries, next to the empty function's.
#[derive(clap::Args)]
struct ColdStartArgs {
    /// A function's binary, by its binary name: twitter-auth-login, refresh-token, user-logout,
    /// user-info or token-authorizer. Once per binary, at least once.
    #[arg(long = "bin", value_name = "NAME=PATH", required = true, value_parser = subject)]
    subjects: Vec<Subject>,
    /// The empty function's binary (empty-lambda): what every start is compared with.
    #[arg(long, value_name = "PATH", value_parser = existing_file)]
    empty: PathBuf,
    /// Starts of each binary, after one discarded round (at least 1).
    #[arg(long, value_name = "N", default_value_t = 15)]
    starts: usize,
    /// What the run is called in its section's title.
    #[arg(long, value_name = "NAME", default_value = "release profile")]
    label: String,
    /// An extra variable for the binaries, for experiments; once per variable.
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = variable)]
    extra_env: Vec<(String, String)>,
    /// Report the ratios without judging them against the target: for experiments and
    /// comparisons.
    #[arg(long)]
    no_target: bool,
    /// Also write each binary's median starts and fastest starts, to the first request for work
    /// and to the first answer, in ms, tab-separated, to FILE.
    #[arg(long, value_name = "FILE")]
    summary: Option<String>,
}

/// `NAME=PATH`: a function's binary.
fn subject(pair: &str) -> Fallible<Subject> {
    let (name, path) = pair.split_once('=').ok_or("not NAME=PATH")?;
    let function = Function::named(name).ok_or(format!("{name}: no such function"))?;
    Ok(Subject {
        name: name.to_owned(),
        path: existing_file(path)?,
        function: Some(function),
    })
}

/// `NAME=VALUE`: a variable for the binaries.
fn variable(pair: &str) -> Fallible<(String, String)> {
    pair.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or("not NAME=VALUE".to_owned())
}

/// The figures of every operation, end to end.
#[derive(clap::Args)]
struct E2eArgs {
    /// Logins at each concurrency level (at least 1).
    #[arg(long, value_name = "N", default_value_t = 500)]
    logins: usize,
    /// The concurrency levels of the logins.
    #[arg(
        long,
        value_name = "N,N...",
        value_delimiter = ',',
        default_value = "1,32",
        value_parser = level
    )]
    concurrency: Vec<usize>,
    /// Refreshes, logouts (scope=local), authorizations and userInfo calls: this many of each
    /// (at least 1).
    #[arg(long, value_name = "N", default_value_t = 500)]
    operations: usize,
    /// End users, each with several sessions, whose logout is counted with scope=others and
    /// with scope=global (at least 1).
    #[arg(long, value_name = "N", default_value_t = 20)]
    logout_users: usize,
}

/// A concurrency level, blanks around it allowed.
fn level(raw: &str) -> Fallible<usize> {
    raw.trim()
        .parse()
        .map_err(|_| format!("{raw}: not a number"))
}

/// The figures of one load run.
#[derive(clap::Args)]
struct MemoryArgs {
    /// The login's binary (twitter-auth-login).
    #[arg(long = "bin", value_name = "PATH", value_parser = existing_file)]
    binary: PathBuf,
    /// Logins, one after another (at least 1).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    invocations: usize,
}

/// A path that must be a file: a binary to run.
fn existing_file(path: &str) -> Fallible<PathBuf> {
    let path = PathBuf::from(path);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{}: no such file", path.display()))
    }
}

/// A binary running under the emulator; killed when dropped.
struct Process {
    child: Child,
    started: Instant,
}

impl Process {
    fn spawn(binary: &Path, env: &[(String, String)], log: &Path) -> Fallible<Process> {
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
        Ok(Process { child, started })
    }

    /// A line of `/proc/PID/status`, in bytes (the kernel prints kB).
    fn status_bytes(&self, field: &str) -> Option<u64> {
        self.status_number(field).map(|kb| kb * 1024)
    }

    fn status_number(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Process {
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

/// The answer must be a success: an Allow from the authorizer, code 200 from the others.
fn check_answer(outcome: &Outcome, authorizer: bool, what: &str, log: &Path) -> Fallible<()> {
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
    let checked = if authorizer {
        check_policy(body)
    } else {
        serde_json::from_slice(body)
            .map_err(|e| e.to_string())
            .and_then(|response| Answer::from_gateway(&response))
            .and_then(|answer| answer.data().map(drop))
    };
    checked.map_err(|why| format!("{what}: {why} (its output: {})", log.display()))
}

fn request_id(n: usize) -> String {
    format!("8476a536-e9f4-11e8-9739-{n:012x}")
}

/// A sign-in through the login function, outside anything measured.
async fn sign_in(login: &Login<DynamoStore, TwitterClient>, event: &str) -> Fallible<Tokens> {
    invoke(login, event).await?.1.tokens()
}

/// One binary to start: a function, or the empty function (`None`).
#[derive(Clone)]
struct Subject {
    name: String,
    path: PathBuf,
    function: Option<Function>,
}

struct Start {
    /// Until the first `GET /runtime/invocation/next`.
    next: Duration,
    /// Until the first `POST /runtime/invocation/{id}/response`.
    answer: Duration,
}

/// What the first invocations need: a login function to sign in with, outside the timing.
struct Starter<'a> {
    world: &'a World,
    login: Login<DynamoStore, TwitterClient>,
    function_env: Vec<(String, String)>,
    extra_env: Vec<(String, String)>,
    /// A signed-in user whose access token and uid stay live: userInfo and the authorizer.
    standing: Tokens,
}

impl Starter<'_> {
    /// A valid first event for the subject. A refresh or logout uses its session up, so each
    /// start of those gets a new sign-in.
    async fn first_event(&self, function: Option<Function>) -> Fallible<String> {
        Ok(match function {
            None | Some(Function::Login) => login_event(self.world),
            Some(Function::Refresh) => {
                let tokens = sign_in(&self.login, &login_event(self.world)).await?;
                kit::refresh_event(&tokens.refresh)
            }
            Some(Function::Logout) => {
                let tokens = sign_in(&self.login, &login_event(self.world)).await?;
                kit::logout_event(Some(&tokens.access), None)
            }
            Some(Function::UserInfo) => kit::user_info_event(&self.standing.uid),
            Some(Function::Authorizer) => authorizer_event(&self.standing.access),
        })
    }

    async fn start(&self, subject: &Subject) -> Fallible<Start> {
        let event = Bytes::from(self.first_event(subject.function).await?);
        let (api, mut outcomes) = RuntimeApi::start(&subject.name)
            .await
            .map_err(|e| format!("emulator: {e}"))?;
        api.push(Invocation {
            request_id: request_id(0),
            event,
        });
        let log = log_path(&subject.name);
        let mut env = lambda_env(&subject.name, &api.runtime_api(), &self.function_env);
        env.extend_from_slice(&self.extra_env);
        let process = Process::spawn(&subject.path, &env, &log)?;
        let outcome = next_outcome(&mut outcomes, &subject.name, &log).await?;
        let authorizer = subject.function == Some(Function::Authorizer);
        check_answer(&outcome, authorizer, &subject.name, &log)?;
        let next = api.first_next().ok_or("answered without asking for work")?;
        Ok(Start {
            next: next - process.started,
            answer: outcome.at() - process.started,
        })
    }
}

/// What each function's first invocation does, for the table.
fn first_invocation(function: Function) -> &'static str {
    match function {
        Function::Login => "a real login: 2 DynamoDB requests and Twitter",
        Function::Refresh => "a real refresh: 2 DynamoDB requests",
        Function::Logout => "a real logout: 2 DynamoDB requests",
        Function::UserInfo => "1 DynamoDB request",
        Function::Authorizer => "1 DynamoDB request",
    }
}

async fn cold_starts(args: ColdStartArgs) -> Fallible<()> {
    let empty = Subject {
        name: "empty-lambda".to_owned(),
        path: args.empty,
        function: None,
    };
    let subjects = args.subjects;
    let starts = args.starts.max(1);
    let label = args.label.as_str();
    // Experiments and comparisons report their ratios without judging them.
    let judged = !args.no_target;

    let world = World::new().await;
    let login = world.login();
    let standing = sign_in(&login, &login_event(&world)).await?;
    let starter = Starter {
        world: &world,
        login,
        function_env: function_env(&world, &world.endpoint),
        extra_env: args.extra_env,
        standing,
    };

    // The empty function first, then each function, in every round; one discarded round so
    // that every binary is in the page cache.
    let mut all: Vec<&Subject> = vec![&empty];
    all.extend(subjects.iter());
    let mut samples: Vec<Vec<Start>> = all.iter().map(|_| Vec::new()).collect();
    for round in 0..=starts {
        for (subject, samples) in all.iter().zip(samples.iter_mut()) {
            let start = starter.start(subject).await?;
            if round > 0 {
                samples.push(start);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    struct Summary {
        next: Duration,
        answer: Duration,
        alone: Duration,
        next_range: (Duration, Duration),
        answer_range: (Duration, Duration),
    }
    let summarize = |starts: &[Start]| {
        let range = |pick: fn(&Start) -> Duration| {
            let all: Vec<Duration> = starts.iter().map(pick).collect();
            let (min, max) = (all.iter().min(), all.iter().max());
            (
                median(&all),
                (
                    *min.unwrap_or(&Duration::ZERO),
                    *max.unwrap_or(&Duration::ZERO),
                ),
            )
        };
        let (next, next_range) = range(|s| s.next);
        let (answer, answer_range) = range(|s| s.answer);
        let (alone, _) = range(|s| s.answer.saturating_sub(s.next));
        Summary {
            next,
            answer,
            alone,
            next_range,
            answer_range,
        }
    };
    let summaries: Vec<Summary> = samples.iter().map(|s| summarize(s)).collect();
    let base = &summaries[0];
    let ratio = |ours: Duration, empty: Duration| ours.as_secs_f64() / empty.as_secs_f64();

    let section = format!("Cold start under the runtime API emulator ({label})");
    let mut rows = Vec::new();
    let mut summary_lines = String::new();
    for (subject, summary) in all.iter().zip(&summaries) {
        let size = std::fs::metadata(&subject.path)
            .map(|m| m.len())
            .unwrap_or(0);
        eprintln!(
            "{}: {} ({})",
            subject.name,
            subject.path.display(),
            mib(size)
        );
        rows.push(vec![
            subject.name.clone(),
            ms(summary.next),
            format!(
                "{} – {}",
                ms(summary.next_range.0),
                ms(summary.next_range.1)
            ),
            format!("{:.2}×", ratio(summary.next, base.next)),
            ms(summary.answer),
            format!(
                "{} – {}",
                ms(summary.answer_range.0),
                ms(summary.answer_range.1)
            ),
            format!("{:.2}×", ratio(summary.answer, base.answer)),
        ]);
        summary_lines.push_str(&format!(
            "{}\t{:.3}\t{:.3}\t{:.3}\t{:.3}\n",
            subject.name,
            summary.next.as_secs_f64() * 1e3,
            summary.answer.as_secs_f64() * 1e3,
            summary.next_range.0.as_secs_f64() * 1e3,
            summary.answer_range.0.as_secs_f64() * 1e3
        ));
        let Some(function) = subject.function else {
            record(
                &section,
                &format!(
                    "empty-lambda (lambda_http and the same SDK client, no I/O): start → first \
                     request for work / first answer, median of {starts} (fastest)"
                ),
                &format!(
                    "{} ({}) / {} ({})",
                    ms(summary.next),
                    ms(summary.next_range.0),
                    ms(summary.answer),
                    ms(summary.answer_range.0)
                ),
                "",
                Verdict::Info,
            );
            continue;
        };
        let next_ratio = ratio(summary.next, base.next);
        let fastest_ratio = ratio(summary.next_range.0, base.next_range.0);
        let (target, verdict) = if judged {
            (
                format!("≤ {COLD_START_RATIO_TARGET}× empty (fastest starts)"),
                Verdict::of(fastest_ratio <= COLD_START_RATIO_TARGET),
            )
        } else {
            ("(comparison only)".to_owned(), Verdict::Info)
        };
        // Judged on the fastest starts: on a shared machine the medians swing between runs
        // (0.73× to 1.35× for the same binaries, seen here), the fastest start hardly at all.
        record(
            &section,
            &format!(
                "{}: start → first request for work (init): median / fastest of {starts}",
                subject.name
            ),
            &format!(
                "{} = {next_ratio:.2}× empty / {} = {fastest_ratio:.2}× empty",
                ms(summary.next),
                ms(summary.next_range.0)
            ),
            &target,
            verdict,
        );
        record(
            &section,
            &format!(
                "{}: start → first answer ({}; fresh connections)",
                subject.name,
                first_invocation(function)
            ),
            &format!(
                "{} = {:.2}× empty; the invocation alone {}",
                ms(summary.answer),
                ratio(summary.answer, base.answer),
                ms(summary.alone)
            ),
            "",
            Verdict::Info,
        );
    }
    print_table(
        &format!("{section}: median of {starts} starts each, interleaved"),
        &[
            "binary",
            "start → first /next",
            "min – max",
            "/ empty",
            "start → first response",
            "min – max",
            "/ empty",
        ],
        &rows,
    );
    if let Some(path) = args.summary {
        std::fs::write(&path, summary_lines).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

/// The DynamoDB operations the proxy saw since `before`, by name.
fn operations_since(proxy: &FaultyServer, before: usize) -> BTreeMap<String, usize> {
    let mut counted = BTreeMap::new();
    for operation in proxy.operations().into_iter().skip(before) {
        *counted.entry(operation).or_insert(0) += 1;
    }
    counted
}

/// Requests per operation: the total, and each DynamoDB operation's share.
struct Counted {
    operations: usize,
    by_name: BTreeMap<String, usize>,
}

impl Counted {
    fn total(&self) -> usize {
        self.by_name.values().sum()
    }

    fn per_operation(&self, name: &str) -> f64 {
        self.by_name.get(name).copied().unwrap_or(0) as f64 / self.operations.max(1) as f64
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = self
            .by_name
            .iter()
            .map(|(name, n)| format!("{name} {}", trim(*n as f64 / self.operations as f64)))
            .collect();
        format!(
            "{:.3} ({}; {} requests)",
            self.total() as f64 / self.operations as f64,
            parts.join(" + "),
            self.total()
        )
    }
}

/// The functions' own limits, with room for moto's queue: moto answers about one request at a
/// time, so at concurrency 32 a request can wait longer than the production attempt timeout,
/// and the figures would then show retries that DynamoDB would not have needed.
fn load_limits() -> Limits {
    Limits {
        attempt_timeout: Duration::from_secs(5),
        operation_timeout: Duration::from_secs(12),
        ..Limits::default()
    }
}

/// Names the step an error comes from.
fn at(what: &'static str) -> impl Fn(String) -> String {
    move |why| format!("{what}: {why}")
}

fn trim(x: f64) -> String {
    let text = format!("{x:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn latency_summary(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let max = samples.last().copied().unwrap_or_default();
    (percentile(&samples, 50.0), percentile(&samples, 99.0), max)
}

async fn end_to_end(args: E2eArgs) -> Fallible<()> {
    let logins = args.logins.max(1);
    let operations = args.operations.max(1);
    let logout_users = args.logout_users.max(1);
    let levels: Vec<usize> = args.concurrency;

    let world = World::new().await;
    let proxy = FaultyServer::proxy(&world.endpoint)
        .await
        .map_err(|e| format!("proxy: {e}"))?;
    // Measured: every function through the proxy, which counts their requests. Signing in
    // before a refresh or logout goes straight to moto, so it is neither timed nor counted.
    let via = world.store_via(&proxy.url(), load_limits());
    let login = Arc::new(world.login_with(via.clone(), &world.twitter.base_url()));
    let refresh = world.refresh_with(via.clone());
    let logout = world.logout_with(via.clone());
    let user_info = UserInfo::new(via.clone());
    let authorizer = world.authorizer_with(via.clone());
    let direct = world.login();
    let login_event: Arc<str> = login_event(&world).into();

    // Warm-up: connections, the SDK's first-request work, moto's.
    for _ in 0..20 {
        invoke(login.as_ref(), &login_event)
            .await
            .and_then(|(_, answer)| answer.tokens())
            .map_err(at("a warm-up login"))?;
    }

    let latency_section = "End-to-end latency (edge::invoke → proxy → moto, Twitter stand-in)";
    let mut latency_rows = Vec::new();
    let mut p50s: BTreeMap<&str, Duration> = BTreeMap::new();
    let mut note = |what: &str, runs: usize, concurrency: usize, samples: Vec<Duration>| {
        let (p50, p99, max) = latency_summary(samples);
        latency_rows.push(vec![
            what.to_owned(),
            concurrency.to_string(),
            runs.to_string(),
            ms(p50),
            ms(p99),
            ms(max),
        ]);
        (p50, p99)
    };

    // Logins, at each concurrency.
    let before = proxy.operations().len();
    let mut login_runs = 0;
    for &concurrency in &levels {
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for task in 0..concurrency.max(1) {
            // An end user of its own for each task: concurrent logins of one user would all
            // write its one item, which DynamoDB answers with transaction conflicts.
            let event: Arc<str> = new_account_login_event(&world, LOGIN_ACCOUNTS + task).into();
            let (login, next) = (Arc::clone(&login), Arc::clone(&next));
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < logins {
                    let (took, answer) = invoke(login.as_ref(), &event)
                        .await
                        .map_err(at("a login"))?;
                    answer
                        .tokens()
                        .map_err(|e| format!("a login at concurrency {concurrency}: {e}"))?;
                    latencies.push(took);
                }
                Ok::<_, String>(latencies)
            }));
        }
        let mut latencies = Vec::with_capacity(logins);
        for task in tasks {
            latencies.extend(task.await.map_err(|e| e.to_string())??);
        }
        let throughput = logins as f64 / started.elapsed().as_secs_f64();
        login_runs += logins;
        let (p50, p99) = note("login", logins, concurrency, latencies);
        if concurrency == 1 {
            p50s.insert("login", p50);
        }
        let queueing = if concurrency > 1 {
            " (moto, one Python process, is the bottleneck: mostly queueing)"
        } else {
            ""
        };
        record(
            latency_section,
            &format!("login, concurrency {concurrency}, {logins} logins: p50 / p99{queueing}"),
            &format!("{} / {}; {throughput:.0} logins/s", ms(p50), ms(p99)),
            "",
            Verdict::Info,
        );
    }
    let login_count = Counted {
        operations: login_runs,
        by_name: operations_since(&proxy, before),
    };

    // Refreshes: one session, each with the refresh token the previous one answered.
    let mut tokens = sign_in(&direct, &login_event)
        .await
        .map_err(at("a sign-in"))?;
    let before = proxy.operations().len();
    let mut latencies = Vec::with_capacity(operations);
    for _ in 0..operations {
        let (took, answer) = invoke(&refresh, &kit::refresh_event(&tokens.refresh))
            .await
            .map_err(at("a refresh"))?;
        tokens = answer.tokens().map_err(at("a refresh"))?;
        latencies.push(took);
    }
    let refresh_count = Counted {
        operations,
        by_name: operations_since(&proxy, before),
    };
    let (p50, p99) = note("refresh", operations, 1, latencies);
    p50s.insert("refresh", p50);
    record(
        latency_section,
        &format!(
            "refresh, concurrency 1, {operations} refreshes of one session (each with the \
             token the previous answered): p50 / p99"
        ),
        &format!("{} / {}", ms(p50), ms(p99)),
        "",
        Verdict::Info,
    );

    // Authorizations and userInfo, with one signed-in user.
    let standing = sign_in(&direct, &login_event)
        .await
        .map_err(at("a sign-in"))?;
    let event = authorizer_event(&standing.access);
    let before = proxy.operations().len();
    let mut latencies = Vec::with_capacity(operations);
    for _ in 0..operations {
        latencies.push(
            authorize(&authorizer, &event)
                .await
                .map_err(at("an authorization"))?,
        );
    }
    let authorizer_count = Counted {
        operations,
        by_name: operations_since(&proxy, before),
    };
    let (p50, _) = note("authorization", operations, 1, latencies);
    p50s.insert("authorization", p50);

    let event = kit::user_info_event(&standing.uid);
    let before = proxy.operations().len();
    let mut latencies = Vec::with_capacity(operations);
    for _ in 0..operations {
        let (took, answer) = invoke(&user_info, &event).await.map_err(at("a userInfo"))?;
        answer.data().map_err(at("a userInfo"))?;
        latencies.push(took);
    }
    let user_info_count = Counted {
        operations,
        by_name: operations_since(&proxy, before),
    };
    note("userInfo", operations, 1, latencies);

    // Logouts of this session only: each of a session signed in for it.
    let mut sessions = Vec::with_capacity(operations);
    for _ in 0..operations {
        sessions.push(
            sign_in(&direct, &login_event)
                .await
                .map_err(at("a sign-in"))?,
        );
    }
    let before = proxy.operations().len();
    let mut latencies = Vec::with_capacity(operations);
    for tokens in &sessions {
        let (took, answer) = invoke(&logout, &kit::logout_event(Some(&tokens.access), None))
            .await
            .map_err(at("a logout"))?;
        answer.data().map_err(at("a logout"))?;
        latencies.push(took);
    }
    let logout_count = Counted {
        operations,
        by_name: operations_since(&proxy, before),
    };
    note("logout, scope=local", operations, 1, latencies);

    // Logouts of other sessions or all: each end user has a few sessions, and only those.
    let mut scoped_counts = Vec::new();
    for (n, scope) in ["others", "global"].into_iter().enumerate() {
        let mut by_name = BTreeMap::new();
        let mut revoked = 0;
        for user in 0..logout_users {
            let event = new_account_login_event(&world, n * logout_users + user);
            let mut sessions = Vec::new();
            for _ in 0..SESSIONS_PER_LOGOUT_USER {
                sessions.push(sign_in(&direct, &event).await.map_err(at("a sign-in"))?);
            }
            let before = proxy.operations().len();
            let (_, answer) = invoke(
                &logout,
                &kit::logout_event(Some(&sessions[0].access), Some(scope)),
            )
            .await
            .map_err(at("a logout with a scope"))?;
            revoked += answer.data().map_err(at("a logout with a scope"))?["revokedSessions"]
                .as_u64()
                .unwrap_or(0);
            for (name, count) in operations_since(&proxy, before) {
                *by_name.entry(name).or_insert(0) += count;
            }
        }
        scoped_counts.push((
            scope,
            revoked,
            Counted {
                operations: logout_users,
                by_name,
            },
        ));
    }

    // Where a login's time goes: each of its three dependency calls alone.
    let parts = login_parts(&world, &via, 200)
        .await
        .map_err(at("a login's part"))?;
    record(
        latency_section,
        "login's parts alone, concurrency 1, p50: BatchGetItem (directory) / Twitter users/me \
         / TransactWriteItems (session)",
        &parts.iter().map(|p| ms(*p)).collect::<Vec<_>>().join(" / "),
        "",
        Verdict::Info,
    );
    for what in ["authorization", "userInfo", "logout, scope=local"] {
        if let Some(row) = latency_rows.iter().find(|row| row[0] == what) {
            record(
                latency_section,
                &format!("{what}, concurrency 1, {operations} calls: p50 / p99"),
                &format!("{} / {}", row[3], row[4]),
                "",
                Verdict::Info,
            );
        }
    }
    print_table(
        latency_section,
        &["operation", "concurrency", "calls", "p50", "p99", "max"],
        &latency_rows,
    );

    // Requests per operation.
    let section = "DynamoDB requests per operation (counted at a proxy in front of moto)";
    let exact = |what: &str, counted: &Counted, wanted: usize| {
        record(
            section,
            &format!("{what} ({} calls)", counted.operations),
            &counted.describe(),
            &format!("exactly {wanted}"),
            Verdict::of(counted.total() == wanted * counted.operations),
        );
    };
    exact("login", &login_count, 2);
    exact("refresh", &refresh_count, 2);
    exact("logout, scope=local", &logout_count, 2);
    for (scope, revoked, counted) in &scoped_counts {
        record(
            section,
            &format!(
                "logout, scope={scope}, end users with {SESSIONS_PER_LOGOUT_USER} sessions \
                 ({} calls, {revoked} sessions revoked)",
                counted.operations
            ),
            &counted.describe(),
            "(reported)",
            Verdict::Info,
        );
    }
    exact("authorization", &authorizer_count, 1);
    exact("userInfo", &user_info_count, 1);
    let mut rows = Vec::new();
    for (what, counted) in [
        ("login", &login_count),
        ("refresh", &refresh_count),
        ("logout, scope=local", &logout_count),
        ("logout, scope=others", &scoped_counts[0].2),
        ("logout, scope=global", &scoped_counts[1].2),
        ("authorization", &authorizer_count),
        ("userInfo", &user_info_count),
    ] {
        rows.push(vec![
            what.to_owned(),
            counted.operations.to_string(),
            counted.describe(),
        ]);
    }
    print_table(section, &["operation", "calls", "requests per call"], &rows);

    costs(
        &world,
        &login_count,
        &refresh_count,
        &authorizer_count,
        &p50s,
    )
    .await
}

/// Each of a login's dependency calls alone, through the same adapters: p50 of each.
async fn login_parts(world: &World, store: &DynamoStore, calls: usize) -> Fallible<[Duration; 3]> {
    let twitter = TwitterClient::new(
        &reqwest_url(&world.twitter.base_url())?,
        kit::TWITTER_TIMEOUT,
    )
    .map_err(|_| "twitter client".to_owned())?;
    let seed = &world.seed;
    let user_domain = UserDomainName::parse(&seed.user_domain).ok_or("the seed's user domain")?;
    let (consumer_secret, token, token_secret) = (
        Secret::new(seed.consumer_secret.clone()),
        Secret::new(seed.oauth_token.clone()),
        Secret::new(seed.oauth_token_secret.clone()),
    );
    let credentials = TwitterCredentials {
        consumer_key: &seed.consumer_key,
        consumer_secret: &consumer_secret,
        token: &token,
        token_secret: &token_secret,
    };
    let (mut lookups, mut verifies, mut starts) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..calls {
        let started = Instant::now();
        store
            .lookup(&user_domain, Some(LOCAL_MCC))
            .await
            .map_err(|e| format!("lookup: {e:?}"))?;
        lookups.push(started.elapsed());

        let started = Instant::now();
        let user = twitter
            .verify(&credentials)
            .await
            .map_err(|e| format!("verify: {e:?}"))?;
        verifies.push(started.elapsed());

        let now = world.clock.get();
        let session_end = now + world.lifetimes.session_max;
        let owner = TokenOwner {
            uid: uid_for(&seed.user_domain, &user.id),
            session_id: random_id().map_err(|e| format!("{e:?}"))?,
            user_domain: user_domain.clone(),
            app_id: seed.app_id.clone(),
            twitter_user_id: user.id,
            twitter_username: user.username,
            mcc: Some(LOCAL_MCC),
        };
        let (pair, _) =
            issue_pair(owner, now, session_end, &world.lifetimes).map_err(|e| format!("{e:?}"))?;
        let started = Instant::now();
        store
            .start_session(&NewSession { pair, session_end })
            .await
            .map_err(|e| format!("start_session: {e:?}"))?;
        starts.push(started.elapsed());
    }
    Ok([lookups, verifies, starts].map(|samples| median(&samples)))
}

fn reqwest_url(raw: &str) -> Fallible<twitter_auth_login::twitter::Url> {
    twitter_auth_login::twitter::Url::parse(raw).map_err(|e| format!("{raw}: {e}"))
}

/// One item of a table, straight from moto.
async fn stored(
    world: &World,
    table: Table,
    key: &[(&str, AttributeValue)],
) -> Fallible<kit::Item> {
    let name = world.tables.get(table).ok_or("table")?;
    world
        .client
        .get_item()
        .table_name(name)
        .set_key(Some(
            key.iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        ))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| format!("get_item {name}: {e:?}"))?
        .item
        .ok_or(format!("no such item in {name}"))
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// Sizes of the items an operation reads and writes, as the functions store them.
struct Sizes {
    domain: usize,
    mcc_route: usize,
    access_token: usize,
    refresh_token: usize,
    session_new: usize,
    session_rotated: usize,
    user: usize,
}

async fn item_sizes(world: &World) -> Fallible<Sizes> {
    let seed = &world.seed;
    let tokens = sign_in(&world.login(), &login_event(world)).await?;
    let route = PresentedToken::parse(&tokens.access)
        .ok_or("an access token that does not parse")?
        .route;
    let token = |raw: &str| {
        let hash = hash_token(raw);
        async move { stored(world, Table::Token, &[("tokenHash", s(&hash))]).await }
    };
    let session_key = [("uid", s(&route.uid)), ("sessionId", s(&route.session_id))];
    let access_token = item_size(&token(&tokens.access).await?);
    let refresh_token = item_size(&token(&tokens.refresh).await?);
    let session_new = item_size(&stored(world, Table::Session, &session_key).await?);
    let user = item_size(&stored(world, Table::User, &[("uid", s(&tokens.uid))]).await?);
    let (_, answer) = invoke(&world.refresh(), &kit::refresh_event(&tokens.refresh)).await?;
    answer.tokens()?;
    let session_rotated = item_size(&stored(world, Table::Session, &session_key).await?);
    let domain = item_size(
        &stored(
            world,
            Table::UserDomain,
            &[("userDomain", s(&seed.user_domain))],
        )
        .await?,
    );
    let mcc_route = item_size(
        &stored(
            world,
            Table::Mcc,
            &[("mcc", AttributeValue::N(LOCAL_MCC.to_string()))],
        )
        .await?,
    );
    Ok(Sizes {
        domain,
        mcc_route,
        access_token,
        refresh_token,
        session_new,
        session_rotated,
        user,
    })
}

/// What a million logins, refreshes and authorizations cost, from the requests counted, the
/// item sizes stored and the handler durations measured.
async fn costs(
    world: &World,
    login: &Counted,
    refresh: &Counted,
    authorization: &Counted,
    p50s: &BTreeMap<&str, Duration>,
) -> Fallible<()> {
    let sizes = item_sizes(world).await?;
    let section = "DynamoDB item sizes (as the functions store them, read back from moto)";
    // How each item is read (strongly consistent or not) and whether a transaction writes it.
    let units = |size: usize, strong: bool, written: bool| {
        let read = format!(
            "{} RRU per {} read",
            trim(read_units(size, strong)),
            if strong {
                "strongly consistent"
            } else {
                "eventually consistent"
            }
        );
        if written {
            format!(
                "{size} bytes: {read}, {} WRU per transactional write",
                trim(write_units(size, true))
            )
        } else {
            format!("{size} bytes: {read}")
        }
    };
    for (what, size, strong, written) in [
        (
            "user domain (one app), read by login, refresh and the authorizer",
            sizes.domain,
            true,
            false,
        ),
        ("MCC route, read by login", sizes.mcc_route, false, false),
        ("access token", sizes.access_token, true, true),
        ("refresh token", sizes.refresh_token, true, true),
        (
            "session, as a login creates it",
            sizes.session_new,
            true,
            true,
        ),
        (
            "session, after a refresh",
            sizes.session_rotated,
            true,
            true,
        ),
        (
            "end user, written by login, read by userInfo",
            sizes.user,
            true,
            true,
        ),
    ] {
        record(
            section,
            what,
            &units(size, strong, written),
            "",
            Verdict::Info,
        );
    }

    // Units per request, then per operation from the requests counted.
    let session = sizes.session_new.max(sizes.session_rotated);
    let login_read = read_units(sizes.domain, true) + read_units(sizes.mcc_route, false);
    let login_write = write_units(sizes.access_token, true)
        + write_units(sizes.refresh_token, true)
        + write_units(sizes.session_new, true)
        + write_units(sizes.user, true);
    let token_read = read_units(sizes.access_token.max(sizes.refresh_token), true)
        + read_units(session, true)
        + read_units(sizes.domain, true);
    let refresh_write = write_units(sizes.access_token, true)
        + write_units(sizes.refresh_token, true)
        + write_units(session, true);
    let per = |counted: &Counted, read: f64, write: f64| {
        (
            counted.per_operation("BatchGetItem") * read,
            counted.per_operation("TransactWriteItems") * write,
        )
    };
    let billed_ms = |what: &str| {
        p50s.get(what)
            .map_or(1, |d| (d.as_secs_f64() * 1e3).ceil().max(1.0) as u64)
    };

    let section = "Cost per million operations (128 MB arm64 Lambda)";
    record(
        section,
        "prices used",
        &format!("{}; {}", cost::PRICES, cost::PRICES_SOURCE),
        "",
        Verdict::Info,
    );
    let mut rows = Vec::new();
    for (what, counted, api_gateway, read, write) in [
        ("logins", login, 1.0, login_read, login_write),
        ("refreshes", refresh, 1.0, token_read, refresh_write),
        ("authorizations", authorization, 0.0, token_read, 0.0),
    ] {
        let key = match what {
            "logins" => "login",
            "refreshes" => "refresh",
            _ => "authorization",
        };
        let (rru, wru) = per(counted, read, write);
        let billed = billed_ms(key);
        let bill = PerMillion::new(api_gateway, billed, rru, wru);
        let api = if api_gateway > 0.0 {
            format!("API Gateway ${:.2} + ", bill.api_gateway)
        } else {
            String::new()
        };
        let value = format!(
            "${:.2} = {api}Lambda ${:.3} (requests ${:.2} + {billed} ms ${:.3}) + DynamoDB ${:.3} \
             ({} RRU + {} WRU each)",
            bill.total(),
            bill.lambda_requests + bill.lambda_duration,
            bill.lambda_requests,
            bill.lambda_duration,
            bill.dynamodb,
            trim(rru),
            trim(wru),
        );
        let figure = match key {
            "authorization" => format!(
                "per million {what} (authorizer invocations: API Gateway caches an Allow 60 s \
                 per token, and bills the call it guards); duration: measured p50 here"
            ),
            _ => format!("per million {what}; duration: measured p50 here, rounded up"),
        };
        record(section, &figure, &value, "", Verdict::Info);
        rows.push(vec![what.to_owned(), value]);
    }
    let ten_ms = PerMillion::new(0.0, 10, 0.0, 0.0).lambda_duration;
    record(
        section,
        "what latency adds: the durations above are on loopback; on AWS each DynamoDB request \
         takes milliseconds and Twitter's users/me tens to hundreds",
        &format!("${ten_ms:.4} per million per 10 ms of duration"),
        "",
        Verdict::Info,
    );
    print_table(section, &["per million", "USD"], &rows);
    Ok(())
}

async fn memory(args: MemoryArgs) -> Fallible<()> {
    let binary = args.binary;
    let invocations = args.invocations.max(1);
    let world = World::new().await;
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
        check_answer(&outcome, false, name, &log)?;
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
