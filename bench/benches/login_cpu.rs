//! Per-login CPU cost of the handler with the in-memory adapters, on one core, and the cost of
//! each stage of a login. Plain `Instant` loops: a warm-up, then many samples of many
//! iterations each; the table shows the median, min and p90 of the per-iteration time.
//!
//! `cargo bench -p bench --bench login_cpu` measures; under `cargo test` (no `--bench`
//! argument) it only checks, in a few iterations, that every stage works.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use bench::event::{
    APP_ID, CONSUMER_KEY, CONSUMER_SECRET, DATA_CENTER, DOMAIN, DOMAIN_SECRET, MCC, OAUTH_TOKEN,
    OAUTH_TOKEN_SECRET, TWITTER_USER_ID, TWITTER_USERNAME, rest_event,
};
use bench::report::{Verdict, print_table, record};
use bench::stats::{percentile, us};
use lambda_http::{Body, Request, RequestExt, Response};
use twitter_auth_login::config::Config;
use twitter_auth_login::envelope;
use twitter_auth_login::handler::Handler;
use twitter_auth_login::logging;
use twitter_auth_login::login::{
    App, Grant, GrantedToken, Login, Policy, TWITTER_PLATFORM, TwitterUser, UserDomain,
};
use twitter_auth_login::memory::{MemoryStore, MemoryTwitter};
use twitter_auth_login::oauth;
use twitter_auth_login::request::LoginRequest;
use twitter_auth_login::secret::Secret;
use twitter_auth_login::signature;
use twitter_auth_login::token::{MintedToken, random_hex};
use twitter_auth_login::twitter::TwitterClient;

const HANDLER_TARGET: Duration = Duration::from_micros(50);
const SECTION: &str = "Per-login CPU (in-memory adapters, one core)";

type MemoryHandler = Handler<MemoryStore, MemoryTwitter>;

struct Settings {
    warm_up: Duration,
    sample_time: Duration,
    samples: usize,
}

struct Measured {
    median: Duration,
    min: Duration,
    p90: Duration,
    iterations: usize,
}

/// `batch(n)` runs `n` iterations and returns the time its timed part took.
fn measure(settings: &Settings, mut batch: impl FnMut(usize) -> Duration) -> Measured {
    // Calibrate a batch size whose timed part lasts about one sample time.
    let mut n = 1;
    let mut took = batch(n);
    while took < settings.sample_time / 4 && n < 1 << 24 {
        n *= 2;
        took = batch(n);
    }
    let per = took.as_secs_f64() / n as f64;
    let n = ((settings.sample_time.as_secs_f64() / per.max(1e-9)) as usize).clamp(1, 1 << 24);

    let warm_until = Instant::now() + settings.warm_up;
    while Instant::now() < warm_until {
        batch(n);
    }
    let mut per_iteration: Vec<Duration> =
        (0..settings.samples).map(|_| batch(n) / n as u32).collect();
    per_iteration.sort();
    Measured {
        median: percentile(&per_iteration, 50.0),
        min: per_iteration[0],
        p90: percentile(&per_iteration, 90.0),
        iterations: n * settings.samples,
    }
}

fn timed(n: usize, mut f: impl FnMut()) -> Duration {
    let started = Instant::now();
    for _ in 0..n {
        f();
    }
    started.elapsed()
}

/// Pins this process to the last CPU, so every figure is one core's.
fn pin_to_one_core() -> Option<usize> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpu = cpus - 1;
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the pointer and size describe it.
    let pinned = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    (pinned == 0).then_some(cpu)
}

fn memory_handler() -> MemoryHandler {
    let app = App {
        platform: TWITTER_PLATFORM.to_owned(),
        consumer_key: CONSUMER_KEY.to_owned(),
        consumer_secret: Secret::new(CONSUMER_SECRET),
    };
    let domain = UserDomain {
        secret: Some(Secret::new(DOMAIN_SECRET)),
        enabled: true,
        apps: HashMap::from([(APP_ID.to_owned(), app)]),
    };
    let store = MemoryStore::new(
        HashMap::from([(DOMAIN.to_owned(), domain)]),
        HashMap::from([(MCC, DATA_CENTER.to_owned())]),
    );
    let twitter = MemoryTwitter {
        users: HashMap::from([(
            (
                CONSUMER_KEY.to_owned(),
                OAUTH_TOKEN.to_owned(),
                OAUTH_TOKEN_SECRET.to_owned(),
            ),
            TwitterUser {
                id: TWITTER_USER_ID.to_owned(),
                username: Some(TWITTER_USERNAME.to_owned()),
            },
        )]),
        fail_with: None,
    };
    let policy = Policy {
        data_center: DATA_CENTER.to_owned(),
        access_token_ttl_seconds: 7200,
        refresh_token_ttl_seconds: 2_592_000,
    };
    Handler::new(Login::new(store, twitter, policy))
}

fn parse(event: &str) -> Request {
    lambda_http::request::from_str(event).expect("the login event parses")
}

fn code_of(response: &Response<Body>) -> Option<u64> {
    match response.body() {
        Body::Text(text) => serde_json::from_str::<serde_json::Value>(text)
            .ok()?
            .get("code")?
            .as_u64(),
        _ => None,
    }
}

fn main() {
    let measuring = std::env::args().any(|arg| arg == "--bench");
    let settings = if measuring {
        Settings {
            warm_up: Duration::from_millis(200),
            sample_time: Duration::from_millis(10),
            samples: 40,
        }
    } else {
        Settings {
            warm_up: Duration::ZERO,
            sample_time: Duration::from_micros(100),
            samples: 2,
        }
    };
    let pinned = pin_to_one_core();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let event = rest_event(DOMAIN_SECRET);
    let json_log = || logging::subscriber("info", true, std::io::sink);

    // The handler must answer the login with code 200, or the figures mean nothing.
    let response = runtime.block_on(memory_handler().handle(parse(&event)));
    assert_eq!(code_of(&response), Some(200), "the in-memory login fails");

    let request = parse(&event);
    let login_request = LoginRequest::from_query(&request.query_string_parameters())
        .expect("the login request passes checks 1 to 7");
    let grant = || Grant {
        access_token: GrantedToken {
            token: Secret::new("x".repeat(43)),
            expiration_time: 1_764_000_000,
        },
        refresh_token: GrantedToken {
            token: Secret::new("y".repeat(43)),
            expiration_time: 1_766_592_000,
        },
    };
    let outcome = Ok(grant());
    let config = Config::from_lookup(|name| match name {
        "USER_DOMAIN_TABLE" | "MCC_TABLE" | "TOKEN_TABLE" => Some("t".to_owned()),
        "DATA_CENTER" => Some(DATA_CENTER.to_owned()),
        _ => None,
    })
    .expect("config");
    let twitter = TwitterClient::new(&config.twitter_api_base, config.twitter_timeout)
        .expect("twitter client");
    let credentials = oauth::Credentials {
        consumer_key: CONSUMER_KEY,
        consumer_secret: CONSUMER_SECRET,
        token: OAUTH_TOKEN,
        token_secret: OAUTH_TOKEN_SECRET,
    };

    // Handler::handle on parsed requests: requests are parsed, untimed, in small chunks just
    // before they are handled (as the runtime hands the handler a request it just parsed), and
    // every sample gets a fresh handler, since the in-memory store keeps every saved pair.
    let handle = |logged: bool| {
        let runtime = &runtime;
        let event = &event;
        move |n: usize| {
            let handler = memory_handler();
            let run = || {
                let mut took = Duration::ZERO;
                let mut left = n;
                while left > 0 {
                    let chunk = left.min(16);
                    left -= chunk;
                    let requests: Vec<Request> = (0..chunk).map(|_| parse(event)).collect();
                    let started = Instant::now();
                    runtime.block_on(async {
                        for request in requests {
                            black_box(handler.handle(request).await);
                        }
                    });
                    took += started.elapsed();
                }
                took
            };
            if logged {
                tracing::subscriber::with_default(json_log(), run)
            } else {
                run()
            }
        }
    };
    let whole_invocation = |n: usize| {
        let handler = memory_handler();
        tracing::subscriber::with_default(json_log(), || {
            let started = Instant::now();
            runtime.block_on(async {
                for _ in 0..n {
                    black_box(handler.handle(parse(black_box(&event))).await);
                }
            });
            started.elapsed()
        })
    };
    let login_only = |n: usize| {
        let handler = memory_handler();
        let started = Instant::now();
        runtime.block_on(async {
            for _ in 0..n {
                let _ = black_box(handler.login().login(black_box(&login_request)).await);
            }
        });
        started.elapsed()
    };

    struct Row {
        name: &'static str,
        measured: Measured,
        target: bool,
        stage: bool,
    }
    let mut rows = Vec::new();
    let mut run = |name: &'static str,
                   target: bool,
                   stage: bool,
                   batch: &mut dyn FnMut(usize) -> Duration| {
        let measured = measure(&settings, batch);
        rows.push(Row {
            name,
            measured,
            target,
            stage,
        });
    };
    run(
        "Handler::handle (parsed request, tracing without a subscriber)",
        true,
        false,
        &mut handle(false),
    );
    run(
        "Handler::handle + its JSON log line (production subscriber → io::sink)",
        true,
        false,
        &mut handle(true),
    );
    run(
        "stage: event parse (lambda_http::request::from_str)",
        false,
        true,
        &mut |n| timed(n, || drop(black_box(parse(black_box(&event))))),
    );
    run(
        "stage: query checks 1–7 (query_string_parameters + LoginRequest::from_query)",
        false,
        true,
        &mut |n| {
            timed(n, || {
                let _ = black_box(LoginRequest::from_query(
                    &black_box(&request).query_string_parameters(),
                ));
            })
        },
    );
    run(
        "stage: signature check (signature::verify)",
        false,
        true,
        &mut |n| {
            timed(n, || {
                black_box(signature::verify(
                    black_box(&login_request),
                    black_box(DOMAIN_SECRET),
                ));
            })
        },
    );
    run(
        "stage: token minting (2 × MintedToken::mint + pair id)",
        false,
        true,
        &mut |n| {
            timed(n, || {
                let _ = black_box(MintedToken::mint());
                let _ = black_box(MintedToken::mint());
                let _ = black_box(random_hex::<16>());
            })
        },
    );
    run(
        "stage: envelope (envelope::respond on a grant)",
        false,
        true,
        &mut |n| {
            timed(n, || {
                drop(black_box(envelope::respond(black_box(&outcome))))
            })
        },
    );
    run(
        "Login::login alone (checks 8–16, minting, in-memory adapters)",
        false,
        false,
        &mut { login_only },
    );
    run(
        "whole invocation: event parse + Handler::handle + JSON log line",
        false,
        false,
        &mut { whole_invocation },
    );
    run(
        "not in the in-memory path: OAuth 1.0a header for Twitter (oauth::authorization_header)",
        false,
        false,
        &mut |n| {
            timed(n, || {
                let _ = black_box(oauth::authorization_header(
                    "GET",
                    twitter.users_me_url(),
                    &credentials,
                    black_box("0123456789abcdef0123456789abcdef"),
                    1_764_000_000,
                ));
            })
        },
    );

    if !measuring {
        println!("login_cpu: every stage ran (figures only with `cargo bench`)");
        return;
    }
    let whole = rows
        .iter()
        .find(|row| row.name.starts_with("whole invocation"))
        .map_or(Duration::from_secs(1), |row| row.measured.median);
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.name.to_owned(),
                us(row.measured.median),
                us(row.measured.min),
                us(row.measured.p90),
                if row.stage {
                    format!(
                        "{:.0}%",
                        100.0 * row.measured.median.as_secs_f64() / whole.as_secs_f64()
                    )
                } else {
                    String::new()
                },
                row.measured.iterations.to_string(),
                if row.target {
                    format!(
                        "< {} {}",
                        us(HANDLER_TARGET),
                        Verdict::of(row.measured.median < HANDLER_TARGET).as_str()
                    )
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    let core = pinned.map_or("not pinned".to_owned(), |cpu| {
        format!("pinned to CPU {cpu}")
    });
    print_table(
        &format!("{SECTION}, {core}"),
        &[
            "what",
            "median / login",
            "min",
            "p90",
            "of the whole invocation",
            "iterations",
            "target",
        ],
        &table,
    );
    for row in &rows {
        record(
            SECTION,
            row.name,
            &us(row.measured.median),
            if row.target { "< 50 µs" } else { "" },
            if row.target {
                Verdict::of(row.measured.median < HANDLER_TARGET)
            } else {
                Verdict::Info
            },
        );
    }
}
