//! `bench-runner e2e`: the functions in this process against moto, through the counting proxy,
//! and the Twitter stand-in: latency, DynamoDB requests per operation, then item sizes and cost.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bench::report::{Verdict, print_table, record};
use bench::stats::{median, ms};
use bench::world::{
    Fallible, authorize, authorizer_event, invoke, login_event, new_account_login_event,
};
use testkit::faulty::FaultyServer;
use testkit::forge::forgeries;
use testkit::prelude::{self as kit, LOCAL_MCC, World};
use twitter_auth_login::domain::secret::Secret;
use twitter_auth_login::domain::session::TokenOwner;
use twitter_auth_login::domain::token::random_id;
use twitter_auth_login::domain::user_domain::UserDomainName;
use twitter_auth_login::dynamo::{DynamoStore, Limits};
use twitter_auth_login::endpoints::issuing::Pairing;
use twitter_auth_login::endpoints::user_info::UserInfo;
use twitter_auth_login::keys::jwk::KeyStatus;
use twitter_auth_login::ports::{
    Admission, DomainDirectory, NewSession, SessionStarter, TwitterCredentials, TwitterVerifier,
};
use twitter_auth_login::twitter::TwitterClient;

use crate::costs::costs;
use crate::requests::{Counted, operations_since};
use crate::shared::{latency_summary, sign_in};

/// The figures of every operation, end to end.
#[derive(clap::Args)]
pub struct Args {
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
    /// Refreshes, logouts (scope=local), authorizations, userInfo calls, listings of sessions
    /// and ends of a session: this many of each (at least 1).
    #[arg(long, value_name = "N", default_value_t = 500)]
    operations: usize,
    /// End users, each with several sessions, whose logout is counted with scope=others and
    /// with scope=global, and whose login past the cap is counted (at least 1).
    #[arg(long, value_name = "N", default_value_t = 20)]
    logout_users: usize,
}

/// A concurrency level, blanks around it allowed.
fn level(raw: &str) -> Fallible<usize> {
    raw.trim()
        .parse()
        .map_err(|_| format!("{raw}: not a number"))
}

/// Sessions of each end user whose logout with scope=others or global is counted.
const SESSIONS_PER_LOGOUT_USER: usize = 3;
/// Where the made-up accounts of the login runs are numbered from, apart from the logouts'.
const LOGIN_ACCOUNTS: usize = 1_000_000;
/// The cap of the logins counted past it, and where their accounts are numbered from.
const CAPPED_SESSIONS: u64 = 3;
const CAPPED_ACCOUNTS: usize = 2_000_000;

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

pub async fn run(args: Args) -> Fallible<()> {
    let logins = args.logins.max(1);
    let operations = args.operations.max(1);
    let logout_users = args.logout_users.max(1);
    let levels: Vec<usize> = args.concurrency;

    let world = bench::world::world().await;
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

    // Forged access tokens, made from the standing one: refused by the authorizer and logout
    // before any DynamoDB request.
    let current = world.keys.key(KeyStatus::Current).await;
    let signer = current
        .signing_key()
        .map_err(|e| format!("signing key: {e}"))?;
    let forged = forgeries(
        &standing.access,
        &signer,
        &current.public(),
        world.clock.get(),
    );
    let before = proxy.operations().len();
    for forgery in &forged {
        if authorize(&authorizer, &authorizer_event(&forgery.token))
            .await
            .is_ok()
        {
            return Err(format!(
                "the authorizer allowed a forgery: {}",
                forgery.what
            ));
        }
        let (_, answer) = invoke(&logout, &kit::logout_event(Some(&forgery.token), None))
            .await
            .map_err(at("a logout with a forged token"))?;
        if answer.body["code"] != 5032 {
            return Err(format!(
                "logout answered {} to {}",
                answer.body, forgery.what
            ));
        }
    }
    let forged_count = Counted {
        operations: 2 * forged.len(),
        by_name: operations_since(&proxy, before),
    };

    // The end user's list of their sessions, with one signed-in user (a page).
    let list_sessions = world.list_sessions_with(via.clone());
    let event = kit::list_sessions_event(&standing.uid, standing.session_id(), None);
    let before = proxy.operations().len();
    let mut latencies = Vec::with_capacity(operations);
    for _ in 0..operations {
        let (took, answer) = invoke(&list_sessions, &event)
            .await
            .map_err(at("a listing"))?;
        answer.data().map_err(at("a listing"))?;
        latencies.push(took);
    }
    let list_sessions_count = Counted {
        operations,
        by_name: operations_since(&proxy, before),
    };
    note("listSessions", operations, 1, latencies);

    // Ending sessions: each one signed in for it, ended from the standing session.
    let mut targets = Vec::with_capacity(operations);
    for _ in 0..operations {
        targets.push(
            sign_in(&direct, &login_event)
                .await
                .map_err(at("a sign-in"))?,
        );
    }
    let end_session = world.end_session_with(via.clone());
    let before = proxy.operations().len();
    let mut latencies = Vec::with_capacity(operations);
    for target in &targets {
        let event =
            kit::end_session_event(&standing.uid, standing.session_id(), target.session_id());
        let (took, answer) = invoke(&end_session, &event)
            .await
            .map_err(at("an end of a session"))?;
        let ended = answer.data().map_err(at("an end of a session"))?;
        if ended["revokedSessions"] != 1 {
            return Err(format!("an end of a session answered {ended}"));
        }
        latencies.push(took);
    }
    let end_session_count = Counted {
        operations,
        by_name: operations_since(&proxy, before),
    };
    note("endSession", operations, 1, latencies);

    // Logins past the cap: end users with a small cap's worth of sessions each, then one more.
    let capped = world
        .login_with(via.clone(), &world.twitter.base_url())
        .with_max_sessions(CAPPED_SESSIONS);
    let mut capped_by_name = BTreeMap::new();
    for user in 0..logout_users {
        let event = new_account_login_event(&world, CAPPED_ACCOUNTS + user);
        for _ in 0..CAPPED_SESSIONS {
            sign_in(&capped, &event).await.map_err(at("a sign-in"))?;
        }
        let before = proxy.operations().len();
        sign_in(&capped, &event)
            .await
            .map_err(at("a login past the cap"))?;
        for (name, count) in operations_since(&proxy, before) {
            *capped_by_name.entry(name).or_insert(0) += count;
        }
    }
    let capped_count = Counted {
        operations: logout_users,
        by_name: capped_by_name,
    };

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
    for what in [
        "authorization",
        "userInfo",
        "logout, scope=local",
        "listSessions",
        "endSession",
    ] {
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
    exact(
        &format!(
            "a forged access token at the authorizer and at logout ({} forgeries)",
            forged.len()
        ),
        &forged_count,
        0,
    );
    exact("listSessions, one page", &list_sessions_count, 1);
    exact("endSession", &end_session_count, 1);
    record(
        section,
        &format!(
            "login past the cap: end users with {CAPPED_SESSIONS} live sessions and a cap of \
             {CAPPED_SESSIONS}, one login more each ({} calls)",
            capped_count.operations
        ),
        &capped_count.describe(),
        "exactly 4",
        Verdict::of(capped_count.total() == 4 * capped_count.operations),
    );
    let mut rows = Vec::new();
    for (what, counted) in [
        ("login", &login_count),
        ("refresh", &refresh_count),
        ("logout, scope=local", &logout_count),
        ("logout, scope=others", &scoped_counts[0].2),
        ("logout, scope=global", &scoped_counts[1].2),
        ("authorization", &authorizer_count),
        ("userInfo", &user_info_count),
        ("listSessions, one page", &list_sessions_count),
        ("endSession", &end_session_count),
        ("login past the cap", &capped_count),
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
        let issuer = world.pair_issuer();
        let owner = TokenOwner {
            uid: world.uid_of(&user.id).await,
            session_id: random_id().map_err(|e| format!("{e:?}"))?,
            user_domain: user_domain.clone(),
            app_id: seed.app_id.clone(),
            twitter_user_id: user.id,
            twitter_username: user.username,
            mcc: Some(LOCAL_MCC),
        };
        let (pair, _) = issuer
            .issue(owner, now, session_end, Pairing::Fresh)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let started = Instant::now();
        store
            .start_session(
                &NewSession {
                    pair,
                    session_end,
                    user_agent: String::new(),
                },
                &Admission::BelowCap {
                    cap: world.max_sessions,
                },
            )
            .await
            .map_err(|e| format!("start_session: {e:?}"))?;
        starts.push(started.elapsed());
    }
    Ok([lookups, verifies, starts].map(|samples| median(&samples)))
}

fn reqwest_url(raw: &str) -> Fallible<twitter_auth_login::twitter::Url> {
    twitter_auth_login::twitter::Url::parse(raw).map_err(|e| format!("{raw}: {e}"))
}
