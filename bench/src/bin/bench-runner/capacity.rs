//! `bench-runner capacity`: one user domain under load, with the caches off and then on. K
//! processes each of the login, the refresh and the authorizer (release binaries under the
//! Lambda runtime API emulator, one queue per function, taken by whichever of its processes is
//! free, as Lambda hands invocations to idle instances) against moto behind the counting proxy;
//! a mix of logins, refreshes and authorizations of many users of one domain for T seconds.
//! Printed: per table, the busiest item's load per 1,000 requests a second, and the rate the
//! domain sustains before any item is throttled ([`bench::capacity`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bench::capacity::{
    Carries, ITEM_READ_UNITS_PER_SECOND, ITEM_WRITE_UNITS_PER_SECOND, ItemLoad, Model,
};
use bench::cost::item_size;
use bench::report::{Verdict, print_table, record};
use bench::world::{
    Answer, Fallible, Tokens, authorizer_event, check_policy, function_env, lambda_env,
    new_account_login_event,
};
use bytes::Bytes;
use testkit::emulator::{Invocation, Outcome, RuntimeApi};
use testkit::faulty::FaultyServer;
use testkit::functions::Function;
use testkit::prelude::{self as kit, World};
use testkit::traffic::{ItemKey, ItemTraffic};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use twitter_auth_login::config::{
    CacheSeconds, DEFAULT_DOMAIN_CACHE_SECONDS, DEFAULT_MCC_CACHE_SECONDS, Table,
};

use crate::process::{Process, log_path, request_id};
use crate::shared::{existing_file, sign_in, trim};

/// The figures of one user domain under load.
#[derive(clap::Args)]
pub struct Args {
    /// The binaries of twitter-auth-login, refresh-token and token-authorizer, each once.
    #[arg(long = "bin", value_name = "NAME=PATH", required = true, value_parser = binary)]
    binaries: Vec<(Function, PathBuf)>,
    /// Processes of each function (instances; at least 1).
    #[arg(long, value_name = "K", default_value_t = 4)]
    instances: usize,
    /// Seconds each run is measured, after its warm-up.
    #[arg(long, value_name = "T", default_value_t = 60)]
    seconds: u64,
    /// Seconds of the same load before each run's counting starts: the instances' first reads.
    #[arg(long, value_name = "S", default_value_t = 3)]
    warm_up: u64,
    /// End users of the domain, each signed in before the runs.
    #[arg(long, value_name = "N", default_value_t = 200)]
    users: usize,
    /// Percent of logins, refreshes and authorizations.
    #[arg(
        long,
        value_name = "L,R,A",
        value_delimiter = ',',
        default_value = "10,20,70"
    )]
    mix: Vec<u32>,
    /// Requests in flight at once (default: two for each process).
    #[arg(long, value_name = "N")]
    in_flight: Option<usize>,
}

/// `NAME=PATH`: one of the three functions' binaries.
fn binary(pair: &str) -> Fallible<(Function, PathBuf)> {
    let (name, path) = pair.split_once('=').ok_or("not NAME=PATH")?;
    let function = Function::named(name)
        .filter(|f| OPERATIONS.iter().any(|op| op.function() == *f))
        .ok_or(format!(
            "{name}: not twitter-auth-login, refresh-token or token-authorizer"
        ))?;
    Ok((function, existing_file(path)?))
}

/// The operations of the mix, in the order of `--mix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Login,
    Refresh,
    Authorize,
}

const OPERATIONS: [Operation; 3] = [Operation::Login, Operation::Refresh, Operation::Authorize];

impl Operation {
    fn function(self) -> Function {
        match self {
            Operation::Login => Function::Login,
            Operation::Refresh => Function::Refresh,
            Operation::Authorize => Function::Authorizer,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// An invocation that has not answered by then has failed.
const INVOKE_LIMIT: Duration = Duration::from_secs(15);

/// What the contract gives the caches by default.
const CACHES_ON: CacheSeconds = CacheSeconds {
    user_domain: DEFAULT_DOMAIN_CACHE_SECONDS,
    mcc: DEFAULT_MCC_CACHE_SECONDS,
};

type Waiting = Arc<Mutex<HashMap<String, oneshot::Sender<Outcome>>>>;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// K processes of one function behind one emulator queue; their answers are routed back to
/// whoever asked, by request id.
struct Pool {
    api: RuntimeApi,
    waiting: Waiting,
    next: AtomicUsize,
    /// Where this pool's request ids are numbered from, apart from the other pools'.
    first_id: usize,
    router: JoinHandle<()>,
    _processes: Vec<Process>,
}

impl Pool {
    async fn start(
        function: Function,
        binary: &Path,
        instances: usize,
        function_env: &[(String, String)],
        first_id: usize,
    ) -> Fallible<Pool> {
        let name = function.binary();
        let (api, mut outcomes) = RuntimeApi::start(name)
            .await
            .map_err(|e| format!("emulator: {e}"))?;
        let waiting: Waiting = Arc::default();
        let routes = Arc::clone(&waiting);
        let router = tokio::spawn(async move {
            while let Some(outcome) = outcomes.recv().await {
                let id = match &outcome {
                    Outcome::Response { request_id, .. } | Outcome::Error { request_id, .. } => {
                        request_id.clone()
                    }
                    Outcome::InitError { .. } => continue,
                };
                if let Some(asker) = lock(&routes).remove(&id) {
                    let _ = asker.send(outcome);
                }
            }
        });
        let env = lambda_env(name, &api.runtime_api(), function_env);
        let processes = (0..instances)
            .map(|n| Process::spawn(binary, &env, &log_path(&format!("capacity-{name}-{n}"))))
            .collect::<Fallible<Vec<_>>>()?;
        Ok(Pool {
            api,
            waiting,
            next: AtomicUsize::new(0),
            first_id,
            router,
            _processes: processes,
        })
    }

    /// One invocation: the event queued, its answer awaited.
    async fn invoke(&self, event: String) -> Fallible<Outcome> {
        let request_id = request_id(self.first_id + self.next.fetch_add(1, Ordering::Relaxed));
        let (answer, answered) = oneshot::channel();
        lock(&self.waiting).insert(request_id.clone(), answer);
        self.api.push(Invocation {
            request_id,
            event: Bytes::from(event),
        });
        tokio::time::timeout(INVOKE_LIMIT, answered)
            .await
            .map_err(|_| format!("no answer within {INVOKE_LIMIT:?}"))?
            .map_err(|_| "the emulator stopped".to_owned())
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.router.abort();
    }
}

/// An end user of the domain: how it signs in, and its tokens now.
struct User {
    login: String,
    tokens: Tokens,
}

/// What one run's requests did, by operation.
#[derive(Debug, Default, Clone)]
struct Tally {
    answered: [usize; 3],
    failed: [usize; 3],
    /// Time the functions spent on the answered ones (the emulator's /next → answer).
    busy: [Duration; 3],
    first_failure: Option<String>,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        for n in 0..3 {
            self.answered[n] += other.answered[n];
            self.failed[n] += other.failed[n];
            self.busy[n] += other.busy[n];
        }
        if self.first_failure.is_none() {
            self.first_failure.clone_from(&other.first_failure);
        }
    }

    fn requests(&self) -> usize {
        self.answered.iter().sum()
    }
}

/// A small, seeded generator: the mix and the users picked, the same on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// One request of `user`, as `operation`; the time the function took.
async fn request(pools: &[Pool; 3], operation: Operation, user: &mut User) -> Fallible<Duration> {
    let event = match operation {
        Operation::Login => user.login.clone(),
        Operation::Refresh => kit::refresh_event(&user.tokens.refresh),
        Operation::Authorize => authorizer_event(&user.tokens.access),
    };
    let outcome = pools[operation.index()].invoke(event).await?;
    let Outcome::Response {
        body, service_time, ..
    } = outcome
    else {
        return Err(format!("{operation:?}: the function reported an error"));
    };
    match operation {
        Operation::Authorize => check_policy(&body)?,
        Operation::Login | Operation::Refresh => {
            let response = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            user.tokens = Answer::from_gateway(&response)?.tokens()?;
        }
    }
    Ok(service_time)
}

/// Each driver owns some users (none is asked for by two requests at once) and sends the mix
/// until `until`.
async fn drive(
    pools: &Arc<[Pool; 3]>,
    groups: Vec<Vec<User>>,
    mix: [u32; 3],
    until: Instant,
) -> Fallible<(Vec<Vec<User>>, Tally)> {
    let mut drivers = Vec::new();
    for (n, mut users) in groups.into_iter().enumerate() {
        let pools = Arc::clone(pools);
        drivers.push(tokio::spawn(async move {
            let mut random = XorShift(0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1));
            let mut tally = Tally::default();
            while Instant::now() < until && !users.is_empty() {
                let roll = (random.next() % 100) as u32;
                let operation = if roll < mix[0] {
                    Operation::Login
                } else if roll < mix[0] + mix[1] {
                    Operation::Refresh
                } else {
                    Operation::Authorize
                };
                let user = (random.next() % users.len() as u64) as usize;
                let at = operation.index();
                match request(&pools, operation, &mut users[user]).await {
                    Ok(took) => {
                        tally.answered[at] += 1;
                        tally.busy[at] += took;
                    }
                    Err(why) => {
                        tally.failed[at] += 1;
                        tally.first_failure.get_or_insert(why);
                    }
                }
            }
            (users, tally)
        }));
    }
    let mut groups = Vec::new();
    let mut total = Tally::default();
    for driver in drivers {
        let (users, tally) = driver.await.map_err(|e| e.to_string())?;
        groups.push(users);
        total.add(&tally);
    }
    Ok((groups, total))
}

/// The table a proxy's item belongs to, and whose requests it carries.
fn table_of(world: &World, name: &str) -> Option<Table> {
    Table::ALL
        .into_iter()
        .find(|table| world.tables.get(*table) == Some(name))
}

fn label(table: Table) -> &'static str {
    match table {
        Table::UserDomain => "user domains",
        Table::Mcc => "MCC routes",
        Table::Token => "tokens",
        Table::Session => "sessions",
        Table::User => "users",
    }
}

/// The item the proxy names, read back from moto: its size as DynamoDB bills it.
async fn size_of(world: &World, item: &ItemKey) -> Fallible<usize> {
    let found = world
        .item_named(item)
        .await
        .ok_or(format!("{} {}: no longer there", item.table, item.key))?;
    Ok(item_size(&found))
}

/// Items of a table whose size is read back: the busiest few; the others of the table are
/// taken to be as large as the largest of them (the items of a table differ little).
const SIZED_PER_TABLE: usize = 3;

/// The model of one run: every item's traffic, with sizes; `cached` when the config tables
/// were read through the instances' caches.
async fn model_of(
    world: &World,
    traffic: Vec<(ItemKey, ItemTraffic)>,
    requests: usize,
    busy: f64,
    cached: bool,
) -> Fallible<Model> {
    let mut by_table: HashMap<Table, Vec<(ItemKey, ItemTraffic)>> = HashMap::new();
    for (item, counted) in traffic {
        if let Some(table) = table_of(world, &item.table) {
            by_table.entry(table).or_default().push((item, counted));
        }
    }
    let mut items = Vec::new();
    for (table, mut counted) in by_table {
        counted.sort_by_key(|(_, t)| std::cmp::Reverse(t.reads() + t.all_writes()));
        let mut size = 0;
        for (item, _) in counted.iter().take(SIZED_PER_TABLE) {
            size = size.max(size_of(world, item).await?);
        }
        let carries = match table {
            Table::UserDomain | Table::Mcc => Carries::TheDomain,
            Table::Token | Table::Session | Table::User => Carries::OneUser,
        };
        items.extend(counted.into_iter().map(|(item, traffic)| ItemLoad {
            table: label(table).to_owned(),
            item: short(&item.key),
            carries,
            size,
            traffic,
            per_instance: cached && carries == Carries::TheDomain,
        }));
    }
    Ok(Model {
        requests,
        items,
        busy,
    })
}

/// A key with its long values cut: `tokenHash=3f9a0c12…`.
fn short(key: &str) -> String {
    key.split(", ")
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if value.chars().count() > 12 => {
                format!("{name}={}…", value.chars().take(8).collect::<String>())
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One run: fresh processes with these caches, a warm-up, then T seconds counted.
struct Run {
    caches: CacheSeconds,
    tally: Tally,
    elapsed: Duration,
    model: Model,
}

async fn run_once(
    world: &mut World,
    proxy: &FaultyServer,
    binaries: &HashMap<Function, PathBuf>,
    args: &Args,
    mix: [u32; 3],
    caches: CacheSeconds,
    groups: Vec<Vec<User>>,
) -> Fallible<(Run, Vec<Vec<User>>)> {
    world.caches = caches;
    let env = function_env(world, &proxy.url());
    let mut pools = Vec::new();
    for (n, operation) in OPERATIONS.into_iter().enumerate() {
        let function = operation.function();
        let binary = binaries
            .get(&function)
            .ok_or(format!("--bin {}=PATH is missing", function.binary()))?;
        pools.push(Pool::start(function, binary, args.instances, &env, n << 40).await?);
    }
    let pools: Arc<[Pool; 3]> = Arc::new(pools.try_into().map_err(|_| "three pools".to_owned())?);
    let warm_until = Instant::now() + Duration::from_secs(args.warm_up);
    let (groups, _) = drive(&pools, groups, mix, warm_until).await?;
    proxy.take_item_traffic();
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let (groups, tally) = drive(&pools, groups, mix, until).await?;
    let elapsed = started.elapsed();
    let traffic = proxy.take_item_traffic().into_iter().collect();
    drop(pools);
    let busy = tally.busy.iter().sum::<Duration>().as_secs_f64()
        / (elapsed.as_secs_f64() * 3.0 * args.instances.max(1) as f64);
    let model = model_of(
        world,
        traffic,
        tally.requests(),
        busy,
        caches != CacheSeconds::OFF,
    )
    .await?;
    Ok((
        Run {
            caches,
            tally,
            elapsed,
            model,
        },
        groups,
    ))
}

fn caches_label(caches: CacheSeconds) -> String {
    if caches == CacheSeconds::OFF {
        "off (DOMAIN_CACHE_SECONDS=0, MCC_CACHE_SECONDS=0)".to_owned()
    } else {
        format!(
            "on (DOMAIN_CACHE_SECONDS={}, MCC_CACHE_SECONDS={})",
            caches.user_domain, caches.mcc
        )
    }
}

fn rate(x: f64) -> String {
    if x >= 100.0 {
        // Whole requests, with thousands separated.
        let digits = format!("{:.0}", x);
        let mut grouped = String::new();
        for (n, digit) in digits.chars().enumerate() {
            if n > 0 && (digits.len() - n) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        grouped
    } else {
        trim(x)
    }
}

fn print_run(run: &Run, args: &Args) {
    let model = &run.model;
    let mut rows = Vec::new();
    for table in Table::ALL.map(label) {
        let Some(item) = model.busiest(Some(table)) else {
            continue;
        };
        let load = model.per_thousand(item);
        rows.push(vec![
            table.to_owned(),
            format!("`{}`", item.item),
            item.size.to_string(),
            format!(
                "{} + {}",
                trim(load.strong_reads),
                trim(load.eventual_reads)
            ),
            trim(load.writes),
            trim(load.read_units),
            trim(load.write_units),
            format!(
                "{:.3}%",
                100.0 * item.share_per_request(model.requests) * 1000.0
            ),
        ]);
    }
    print_table(
        &format!(
            "Capacity of one user domain, caches {}: the busiest item of each table, \
             {} instances of each function, {} s",
            caches_label(run.caches),
            args.instances,
            args.seconds
        ),
        &[
            "table",
            "busiest item",
            "size (bytes)",
            "reads/s per 1,000 req/s (strong + eventual)",
            "writes/s per 1,000 req/s",
            "read units/s per 1,000 req/s",
            "write units/s per 1,000 req/s",
            "of the item's limit at 1,000 req/s",
        ],
        &rows,
    );
}

pub async fn run(args: Args) -> Fallible<()> {
    let binaries: HashMap<Function, PathBuf> = args.binaries.iter().cloned().collect();
    let [login, refresh, authorize] = <[u32; 3]>::try_from(args.mix.clone())
        .map_err(|_| "--mix takes three percentages: logins, refreshes, authorizations")?;
    if login + refresh + authorize != 100 {
        return Err("--mix must add up to 100".into());
    }
    let mix = [login, refresh, authorize];
    let instances = args.instances.max(1);
    let in_flight = args.in_flight.unwrap_or(2 * 3 * instances).max(1);
    let users = args.users.max(in_flight);

    let mut world = World::new().await;
    let proxy = world.counting_proxy().await;
    // Each user signed in once, straight to moto: neither timed nor counted.
    let direct = world.login();
    let mut groups: Vec<Vec<User>> = (0..in_flight).map(|_| Vec::new()).collect();
    for n in 0..users {
        let login = new_account_login_event(&world, n);
        let tokens = sign_in(&direct, &login).await?;
        groups[n % in_flight].push(User { login, tokens });
    }

    let mut runs = Vec::new();
    for caches in [CacheSeconds::OFF, CACHES_ON] {
        eprintln!("capacity: caches {}", caches_label(caches));
        let (run, rest) =
            run_once(&mut world, &proxy, &binaries, &args, mix, caches, groups).await?;
        groups = rest;
        print_run(&run, &args);
        runs.push(run);
    }
    report(&runs, &args, mix, users)
}

fn report(runs: &[Run], args: &Args, mix: [u32; 3], users: usize) -> Fallible<()> {
    let section = "Capacity of one user domain (bench-runner capacity)";
    let mut rows = Vec::new();
    let mut rates = Vec::new();
    for run in runs {
        let tally = &run.tally;
        let requests = tally.requests();
        let seconds = run.elapsed.as_secs_f64();
        let failed: usize = tally.failed.iter().sum();
        if failed * 100 > requests.max(1) {
            return Err(format!(
                "{failed} of {} requests failed, the first: {}",
                requests + failed,
                tally.first_failure.clone().unwrap_or_default()
            ));
        }
        let busy: Vec<String> = (0..3)
            .map(|n| {
                let share = tally.busy[n].as_secs_f64() / (seconds * args.instances as f64);
                format!("{:.0}%", 100.0 * share)
            })
            .collect();
        let busiest = run.model.busiest(None).ok_or("the run touched no item")?;
        let (sustained, bound) = run
            .model
            .sustainable_rate(false)
            .ok_or("the run read no user domain")?;
        let (as_run, _) = run
            .model
            .sustainable_rate(true)
            .ok_or("the run read no user domain")?;
        rates.push((sustained, as_run, busiest.table.clone()));
        rows.push(vec![
            caches_label(run.caches),
            format!(
                "{} / {} / {} ({failed} failed)",
                tally.answered[0], tally.answered[1], tally.answered[2]
            ),
            format!("{:.0}", requests as f64 / seconds),
            format!("{} ({:.0}%)", busy.join(" / "), 100.0 * run.model.busy),
            format!("{}: `{}`", busiest.table, busiest.item),
            format!(
                "{} (the {} item `{}`); {} at this run's busy share",
                rate(sustained),
                bound.table,
                bound.item,
                rate(as_run)
            ),
        ]);
        record(
            section,
            &format!(
                "caches {}: busiest item; rate one user domain sustains before an item \
                 throttles (bound by)",
                caches_label(run.caches)
            ),
            &format!(
                "{}: {}; {} requests/s ({} {})",
                busiest.table,
                busiest.item,
                rate(sustained),
                bound.table,
                bound.item
            ),
            "",
            Verdict::Info,
        );
    }
    print_table(
        "Capacity of one user domain: the rate it sustains before any item throttles",
        &[
            "caches",
            "requests: logins / refreshes / authorizations",
            "requests/s here",
            "instances busy: login / refresh / authorizer (all)",
            "busiest item",
            "sustainable requests/s of one domain (bound by)",
        ],
        &rows,
    );
    if let [(off, _, busiest_off), (on, on_as_run, busiest_on)] = rates.as_slice() {
        let ratio = on / off;
        println!(
            "With the caches on, one user domain sustains {ratio:.0}× the rate it does with them \
             off ({:.0}× at this run's busy share). The busiest item: {busiest_off} with the \
             caches off, {busiest_on} with them on.",
            on_as_run / off
        );
        record(
            section,
            "caches on: the busiest item is not the user domain's",
            busiest_on,
            "not user domains",
            Verdict::of(busiest_on != label(Table::UserDomain)),
        );
        record(
            section,
            "sustainable rate of one user domain, caches on ÷ caches off",
            &format!("{ratio:.0}×"),
            "≥ 100×",
            Verdict::of(ratio >= 100.0),
        );
    }
    println!("\nThe model, and what it assumes:");
    for line in assumptions(args, mix, users) {
        println!("- {line}");
    }
    Ok(())
}

fn assumptions(args: &Args, mix: [u32; 3], users: usize) -> Vec<String> {
    vec![
        format!(
            "One DynamoDB item serves at most {ITEM_READ_UNITS_PER_SECOND:.0} read units and \
             {ITEM_WRITE_UNITS_PER_SECOND:.0} write units a second (DynamoDB's per-partition \
             limits). A read is 1 unit per 4 KB strongly consistent, half that eventually \
             consistent; a write 1 unit per KB, twice that in a transaction; sizes are the \
             items' as read back after the run."
        ),
        "An item throttles at the request rate R where R × (its units per request) reaches \
         its limit; units per request are what this run counted at the proxy, per item, \
         divided by its requests: R* = min over items of min(3,000 ÷ read units, 1,000 ÷ \
         write units per request)."
            .to_owned(),
        "Items of one user (tokens, sessions, users) carry only that user's requests: a domain \
         grows by users, so their load stays as measured here and does not bound R*. The \
         items every request of the domain shares (the user domain, the MCC routes) carry it \
         all: they bound R*."
            .to_owned(),
        format!(
            "The mix as run: {}% logins (with an MCC), {}% refreshes, {}% authorizations, \
             spread at random over {users} end users of one user domain with one app.",
            mix[0], mix[1], mix[2]
        ),
        format!(
            "With the caches on, an instance reads the domain's item at most once per \
             DOMAIN_CACHE_SECONDS (an MCC route once per MCC_CACHE_SECONDS) whatever its rate: \
             those reads grow with instances, not requests. Lambda runs as many instances as \
             the rate needs (concurrency = rate × duration, each serving one request at a \
             time), so R* takes this run's reads per request times the share of its {} \
             instances' time spent serving; the figure at this run's busy share is given \
             beside it, as a lower bound.",
            3 * args.instances
        ),
        format!(
            "Counted after a warm-up of {} s, for {} s, on loopback: moto behind the counting \
             proxy, the Twitter stand-in, the functions' binaries as given ({}) under the \
             Lambda runtime API emulator.",
            args.warm_up,
            args.seconds,
            args.binaries
                .iter()
                .map(|(_, path)| path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ]
}
