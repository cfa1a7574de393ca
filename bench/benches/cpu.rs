//! Per-request CPU of each function with the in-memory adapters, on one core, and of each stage
//! of a login. Plain `Instant` loops: a warm-up, then many samples of many iterations each; the
//! table shows the median, min and p90 of the per-iteration time.
//!
//! `cargo bench -p bench --bench cpu` measures; under `cargo test` (no `--bench` argument) it
//! only checks, in a few iterations, that every function answers and every stage works.

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bench::memory::{DOMAIN_SECRET, Functions};
use bench::report::{Verdict, print_table, record};
use bench::stats::{percentile, us};
use bench::world::{self as fixtures, Answer, Tokens, authorizer_event};
use lambda_http::aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use lambda_http::{Request, RequestExt};
use serde_json::value::RawValue;
use testkit::events;
use testkit::memory::MemoryKeys;
use testkit::prelude::{
    self as kit, APP_ID, CONSUMER_KEY, CONSUMER_SECRET, DOMAIN, LOCAL_MCC, OAUTH_TOKEN,
    OAUTH_TOKEN_SECRET, TWITTER_USER_ID,
};
use twitter_auth_login::domain::access_token::AccessClaims;
use twitter_auth_login::domain::grant::{Grant, GrantedToken};
use twitter_auth_login::domain::secret::Secret;
use twitter_auth_login::domain::session::TokenOwner;
use twitter_auth_login::domain::token::{
    MintedToken, TokenRoute, random_hex, random_id, random_jti,
};
use twitter_auth_login::domain::user_domain::UserDomainName;
use twitter_auth_login::endpoints::login::request::LoginRequest;
use twitter_auth_login::endpoints::login::signature;
use twitter_auth_login::error::ApiError;
use twitter_auth_login::http::{edge, envelope};
use twitter_auth_login::invocation::deadline::DependencyTime;
use twitter_auth_login::invocation::metrics;
use twitter_auth_login::invocation::{Handler, Invocation};
use twitter_auth_login::jwt::{self, AccessTokenVerifier};
use twitter_auth_login::keys::SigningKeySet;
use twitter_auth_login::logging;
use twitter_auth_login::ports::TwitterCredentials;
use twitter_auth_login::ports::{Derivation, KeyRing};
use twitter_auth_login::twitter::{Url, oauth};

/// The functions that only read and verify: under 50 µs of CPU a request.
const TARGET: Duration = Duration::from_micros(50);
/// The authorizer's whole invocation before access tokens were signed JWTs (13.95 µs, measured
/// by scripts/bench on this project's 2-CPU machine, 2026-11-27): verifying one may at most
/// double it.
const AUTHORIZATION_TARGET: Duration = Duration::from_nanos(2 * 13_950);
const SECTION: &str = "Per-request CPU (in-memory adapters, one core)";
/// Inputs prepared, untimed, just before they are used: as the runtime hands each request over
/// just after parsing it, and so that a refresh or logout has a live session of its own.
const CHUNK: usize = 16;
/// What a phone's app sends: the login keeps it, cleaned and cut.
const USER_AGENT: &str = "IoTApp/4.2.1 (iPhone; iOS 17.4; Scale/3.00) CFNetwork/1492 Darwin/23.3.0";

struct Settings {
    warm_up: Duration,
    sample_time: Duration,
    samples: usize,
    /// Every figure is measured once per round, the rounds spread over the run.
    rounds: usize,
}

struct Measured {
    median: Duration,
    min: Duration,
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

/// `n` iterations in chunks: `prepare` builds each one's input untimed, `work` consumes a
/// chunk of them timed.
fn chunked<I>(n: usize, mut prepare: impl FnMut() -> I, mut work: impl FnMut(Vec<I>)) -> Duration {
    let mut took = Duration::ZERO;
    let mut left = n;
    while left > 0 {
        let chunk = left.min(CHUNK);
        left -= chunk;
        let inputs: Vec<I> = (0..chunk).map(|_| prepare()).collect();
        let started = Instant::now();
        work(inputs);
        took += started.elapsed();
    }
    took
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

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn parse(event: &str) -> Request {
    lambda_http::request::from_str(event).expect("the event parses")
}

fn raw(event: &str) -> Box<RawValue> {
    RawValue::from_string(event.to_owned()).expect("the event is JSON")
}

struct Row {
    name: String,
    /// One per round.
    rounds: Vec<Measured>,
    /// What its median must stay under; login and refresh sign an RS256 token, whose cost is
    /// shown on its own row, and have none.
    target: Option<Duration>,
    /// A stage of the login: its share of the login's whole invocation is shown.
    stage: bool,
}

impl Row {
    /// The round with the lowest median: the shared host's slow spells last seconds and can
    /// double every figure of a round, so the best round is the code's own cost.
    fn best(&self) -> &Measured {
        self.rounds
            .iter()
            .min_by_key(|m| m.median)
            .expect("at least one round")
    }

    fn worst(&self) -> &Measured {
        self.rounds
            .iter()
            .max_by_key(|m| m.median)
            .expect("at least one round")
    }

    fn min(&self) -> Duration {
        self.rounds.iter().map(|m| m.min).min().unwrap_or_default()
    }

    fn iterations(&self) -> usize {
        self.rounds.iter().map(|m| m.iterations).sum()
    }
}

fn main() {
    let measuring = std::env::args().any(|arg| arg == "--bench");
    let settings = if measuring {
        Settings {
            warm_up: Duration::from_millis(100),
            sample_time: Duration::from_millis(10),
            samples: 40,
            rounds: 5,
        }
    } else {
        Settings {
            warm_up: Duration::ZERO,
            sample_time: Duration::from_micros(100),
            samples: 2,
            rounds: 1,
        }
    };
    let pinned = pin_to_one_core();
    // Timers on: an invocation with a deadline runs under a timeout, as in production.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let json_log = || logging::subscriber("info", true, std::io::sink);
    let mut context = kit::context();
    // A deadline as Lambda gives one, far enough away for the whole run.
    context.deadline = unix_ms() + 24 * 3600 * 1000;

    let login_params = kit::with(
        &kit::signed_params(
            DOMAIN,
            APP_ID,
            OAUTH_TOKEN,
            OAUTH_TOKEN_SECRET,
            DOMAIN_SECRET,
        ),
        "mcc",
        &LOCAL_MCC.to_string(),
    );
    let login_event = events::rest_event(&login_params);
    let domain_secret = Secret::new(DOMAIN_SECRET);
    let domain = UserDomainName::parse(DOMAIN).expect("the test domain");
    let login_request = LoginRequest::from_query(&parse(&login_event).query_string_parameters())
        .expect("the login request passes checks 1 to 7");
    // A session of its own for each refresh or logout: a login just before, untimed.
    let sign_in = |functions: &Functions| -> Tokens {
        let grant = runtime
            .block_on(functions.login.login(&login_request, USER_AGENT))
            .expect("the in-memory login");
        Tokens {
            access: grant.access_token.token.expose().to_owned(),
            refresh: grant.refresh_token.token.expose().to_owned(),
            uid: grant.uid,
        }
    };

    // Every function must answer success, or the figures mean nothing.
    {
        let functions = Functions::new();
        let answer =
            |result: Result<(Duration, Answer), String>| -> Answer { result.expect("an answer").1 };
        let tokens = answer(runtime.block_on(fixtures::invoke(&functions.login, &login_event)))
            .tokens()
            .expect("the in-memory login answers tokens");
        // A refresh supersedes the pair it rotated: the rest use the new one.
        let tokens = answer(runtime.block_on(fixtures::invoke(
            &functions.refresh,
            &kit::refresh_event(&tokens.refresh),
        )))
        .tokens()
        .expect("the in-memory refresh answers tokens");
        answer(runtime.block_on(fixtures::invoke(
            &functions.user_info,
            &kit::user_info_event(&tokens.uid),
        )))
        .data()
        .expect("the in-memory userInfo answers");
        runtime
            .block_on(fixtures::authorize(
                &functions.authorizer,
                &authorizer_event(&tokens.access),
            ))
            .expect("the in-memory authorizer allows");
        answer(runtime.block_on(fixtures::invoke(
            &functions.logout,
            &kit::logout_event(Some(&tokens.access), None),
        )))
        .data()
        .expect("the in-memory logout answers");
    }

    let request = parse(&login_event);
    let keys = MemoryKeys::new();
    let derivation = runtime
        .block_on(keys.derivation_keys())
        .expect("derivation keys");
    let signing = runtime
        .block_on(KeyRing::<SigningKeySet>::keys(&keys))
        .expect("signing keys");
    let verifier = AccessTokenVerifier::new(keys.clone(), kit::ISSUER);
    let uid = derivation.uid(DOMAIN, TWITTER_USER_ID).expect("uid");
    let owner = TokenOwner {
        uid: uid.clone(),
        session_id: uid.clone(),
        user_domain: domain.clone(),
        app_id: APP_ID.to_owned(),
        twitter_user_id: TWITTER_USER_ID.to_owned(),
        twitter_username: None,
        mcc: None,
    };
    let claims = AccessClaims::new(kit::ISSUER, &owner, unix_ms() / 1000, u64::MAX, uid.clone());
    let access_token = jwt::sign(&claims, signing.current()).expect("signed");
    let grant: Result<Grant, ApiError> = Ok(Grant {
        access_token: GrantedToken {
            token: Secret::new(format!("{DOMAIN}.{uid}.{uid}.{}", "x".repeat(43))),
            expiration_time: 1_764_000_000,
        },
        refresh_token: GrantedToken {
            token: Secret::new(format!("{DOMAIN}.{uid}.{uid}.{}", "y".repeat(43))),
            expiration_time: 1_766_592_000,
        },
        uid: uid.clone(),
        session_id: uid.clone(),
    });
    let users_me = Url::parse("https://api.twitter.com/2/users/me").expect("Twitter's URL");
    let (consumer_secret, token, token_secret) = (
        Secret::new(CONSUMER_SECRET),
        Secret::new(OAUTH_TOKEN),
        Secret::new(OAUTH_TOKEN_SECRET),
    );
    let credentials = TwitterCredentials {
        consumer_key: CONSUMER_KEY,
        consumer_secret: &consumer_secret,
        token: &token,
        token_secret: &token_secret,
    };
    type EventOf = fn(&Tokens) -> String;
    let refresh_of: EventOf = |tokens| kit::refresh_event(&tokens.refresh);
    let logout_of: EventOf = |tokens| kit::logout_event(Some(&tokens.access), None);
    let functions = Functions::new();
    let tokens = sign_in(&functions);
    let check = authorizer_event(&tokens.access);
    let user_info = kit::user_info_event(&tokens.uid);

    let mut rows: Vec<Row> = Vec::new();
    let mut run = |name: &str,
                   target: Option<Duration>,
                   stage: bool,
                   batch: &mut dyn FnMut(usize) -> Duration| {
        let measured = measure(&settings, batch);
        match rows.iter_mut().find(|row| row.name == name) {
            Some(row) => row.rounds.push(measured),
            None => rows.push(Row {
                name: name.to_owned(),
                rounds: vec![measured],
                target,
                stage,
            }),
        }
    };

    for _ in 0..settings.rounds {
        // Login. Every sample gets fresh functions, since the in-memory store keeps every session.
        run(
            "login: whole invocation (edge::invoke on the raw payload, with its JSON log line)",
            None,
            false,
            &mut |n| {
                let functions = Functions::new();
                tracing::subscriber::with_default(json_log(), || {
                    chunked(
                        n,
                        || raw(&login_event),
                        |payloads| {
                            runtime.block_on(async {
                                for payload in payloads {
                                    black_box(
                                        edge::invoke(&functions.login, &payload, context.clone())
                                            .await,
                                    );
                                }
                            })
                        },
                    )
                })
            },
        );
        for logged in [false, true] {
            let name = if logged {
                "login: edge::handle on a parsed request, with its JSON log line"
            } else {
                "login: edge::handle on a parsed request (tracing without a subscriber)"
            };
            run(name, None, false, &mut |n| {
                let functions = Functions::new();
                let go = || {
                    chunked(
                        n,
                        || parse(&login_event),
                        |requests| {
                            runtime.block_on(async {
                                for request in requests {
                                    black_box(fixtures::handle(&functions.login, request).await);
                                }
                            })
                        },
                    )
                };
                if logged {
                    tracing::subscriber::with_default(json_log(), go)
                } else {
                    go()
                }
            });
        }
        run(
            "login stage: event parse (lambda_http::request::from_str)",
            None,
            true,
            &mut |n| timed(n, || drop(black_box(parse(black_box(&login_event))))),
        );
        run(
            "login stage: checks 1–7 (query_string_parameters + LoginRequest::from_query)",
            None,
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
            "login stage: signature check (signature::verify)",
            None,
            true,
            &mut |n| {
                timed(n, || {
                    black_box(signature::verify(
                        black_box(&login_request),
                        black_box(&domain_secret),
                    ));
                })
            },
        );
        run(
            "login stage: ids and tokens (keyed uid, session id, jti, RS256 access token, refresh token, pair id)",
            None,
            true,
            &mut |n| {
                timed(n, || {
                    let route = TokenRoute {
                        user_domain: domain.clone(),
                        uid: derivation
                            .uid(black_box(DOMAIN), black_box(TWITTER_USER_ID))
                            .expect("uid"),
                        session_id: random_id().expect("random"),
                    };
                    let jti = random_jti().expect("random");
                    let claims = AccessClaims::new(kit::ISSUER, &owner, 1, 2, jti);
                    let _ = black_box(jwt::sign(&claims, signing.current()));
                    let _ = black_box(MintedToken::mint(&route));
                    let _ = black_box(random_hex::<16>());
                })
            },
        );
        run(
            "access token: RS256 signature (jwt::sign, one 2048-bit key)",
            None,
            false,
            &mut |n| {
                timed(n, || {
                    let _ = black_box(jwt::sign(black_box(&claims), signing.current()));
                })
            },
        );
        run(
            "access token: verification (AccessTokenVerifier::verify: header, key, signature, claims)",
            None,
            false,
            &mut |n| {
                let started = Instant::now();
                runtime.block_on(async {
                    for _ in 0..n {
                        let _ =
                            black_box(verifier.verify(black_box(access_token.expose()), 1).await);
                    }
                });
                started.elapsed()
            },
        );
        run(
            "login stage: envelope (envelope::respond on a grant)",
            None,
            true,
            &mut |n| timed(n, || drop(black_box(envelope::respond(black_box(&grant))))),
        );
        run(
            "login stage: metric record (metrics::to_json, built on every request)",
            None,
            true,
            &mut |n| {
                timed(n, || {
                    let record = metrics::Record {
                        operation: "twitterAuthLogin",
                        outcome: "200",
                        latency: black_box(Duration::from_micros(25)),
                        time: DependencyTime::default(),
                        reuse_detected: false,
                    };
                    drop(black_box(metrics::to_json(
                        &record,
                        "TwitterAuthLogin",
                        1_764_000_000_000,
                    )));
                })
            },
        );
        run(
            "login: Login::login alone (checks 8–16, ids, tokens, in-memory adapters)",
            None,
            false,
            &mut |n| {
                let functions = Functions::new();
                let started = Instant::now();
                runtime.block_on(async {
                    for _ in 0..n {
                        let login = functions.login.login(black_box(&login_request), USER_AGENT);
                        let _ = black_box(login.await);
                    }
                });
                started.elapsed()
            },
        );
        run(
            "login, not in the in-memory path: OAuth 1.0a header for Twitter (oauth::authorization_header)",
            None,
            false,
            &mut |n| {
                timed(n, || {
                    let _ = black_box(oauth::authorization_header(
                        "GET",
                        &users_me,
                        &credentials,
                        black_box("0123456789abcdef0123456789abcdef"),
                        1_764_000_000,
                    ));
                })
            },
        );

        // Refresh and logout: each on a session signed in for it just before, untimed.
        for (function, event_of) in [("refresh", refresh_of), ("logout (scope=local)", logout_of)] {
            let refresh = function == "refresh";
            run(
                &format!(
                    "{function}: whole invocation (edge::invoke on the raw payload, with its JSON log line)"
                ),
                (!refresh).then_some(TARGET),
                false,
                &mut |n| {
                    let functions = Functions::new();
                    tracing::subscriber::with_default(json_log(), || {
                        chunked(
                            n,
                            || raw(&event_of(&sign_in(&functions))),
                            |payloads| {
                                runtime.block_on(async {
                                    for payload in payloads {
                                        let context = context.clone();
                                        if refresh {
                                            black_box(
                                                edge::invoke(&functions.refresh, &payload, context)
                                                    .await,
                                            );
                                        } else {
                                            black_box(
                                                edge::invoke(&functions.logout, &payload, context)
                                                    .await,
                                            );
                                        }
                                    }
                                })
                            },
                        )
                    })
                },
            );
            run(
                &format!("{function}: edge::handle on a parsed request, with its JSON log line"),
                None,
                false,
                &mut |n| {
                    let functions = Functions::new();
                    tracing::subscriber::with_default(json_log(), || {
                        chunked(
                            n,
                            || parse(&event_of(&sign_in(&functions))),
                            |requests| {
                                runtime.block_on(async {
                                    for request in requests {
                                        if refresh {
                                            black_box(
                                                fixtures::handle(&functions.refresh, request).await,
                                            );
                                        } else {
                                            black_box(
                                                fixtures::handle(&functions.logout, request).await,
                                            );
                                        }
                                    }
                                })
                            },
                        )
                    })
                },
            );
        }

        // The authorizer and userInfo: one signed-in user, asked about again and again.
        run(
            "authorizer: whole invocation (event deserialization, Authorizer::invoke, policy \
         serialization, JSON log line)",
            Some(AUTHORIZATION_TARGET),
            false,
            &mut |n| {
                tracing::subscriber::with_default(json_log(), || {
                    let started = Instant::now();
                    runtime.block_on(async {
                        for _ in 0..n {
                            let event: ApiGatewayCustomAuthorizerRequestTypeRequest =
                                serde_json::from_str(black_box(&check)).expect("authorizer event");
                            let policy = functions
                                .authorizer
                                .handle(event, &Invocation::new(context.clone()))
                                .await
                                .expect("allowed");
                            black_box(serde_json::to_vec(&policy).expect("policy json"));
                        }
                    });
                    started.elapsed()
                })
            },
        );
        run(
            "authorizer: Authorizer::decide alone (parse, hash, read, check)",
            None,
            false,
            &mut |n| {
                let started = Instant::now();
                runtime.block_on(async {
                    for _ in 0..n {
                        let _ = black_box(
                            functions
                                .authorizer
                                .decide(Some(black_box(tokens.access.as_str())))
                                .await,
                        );
                    }
                });
                started.elapsed()
            },
        );
        run(
            "userInfo: whole invocation (edge::invoke on the raw payload, with its JSON log line)",
            Some(TARGET),
            false,
            &mut |n| {
                tracing::subscriber::with_default(json_log(), || {
                    chunked(
                        n,
                        || raw(&user_info),
                        |payloads| {
                            runtime.block_on(async {
                                for payload in payloads {
                                    black_box(
                                        edge::invoke(
                                            &functions.user_info,
                                            &payload,
                                            context.clone(),
                                        )
                                        .await,
                                    );
                                }
                            })
                        },
                    )
                })
            },
        );
        run(
            "userInfo: edge::handle on a parsed request, with its JSON log line",
            None,
            false,
            &mut |n| {
                tracing::subscriber::with_default(json_log(), || {
                    chunked(
                        n,
                        || parse(&user_info),
                        |requests| {
                            runtime.block_on(async {
                                for request in requests {
                                    black_box(
                                        fixtures::handle(&functions.user_info, request).await,
                                    );
                                }
                            })
                        },
                    )
                })
            },
        );
    }

    if !measuring {
        println!(
            "cpu: every function answered and every stage ran (figures only with `cargo bench`)"
        );
        return;
    }
    let whole_login = rows
        .first()
        .map_or(Duration::from_secs(1), |row| row.best().median);
    let share = |row: &Row| 100.0 * row.best().median.as_secs_f64() / whole_login.as_secs_f64();
    let verdict = |row: &Row| match row.target {
        Some(target) => Verdict::of(row.best().median < target),
        None => Verdict::Info,
    };
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.name.clone(),
                us(row.best().median),
                us(row.worst().median),
                us(row.min()),
                if row.stage {
                    format!("{:.0}%", share(row))
                } else {
                    String::new()
                },
                row.iterations().to_string(),
                match row.target {
                    Some(target) => format!("< {} {}", us(target), verdict(row).as_str()),
                    None => String::new(),
                },
            ]
        })
        .collect();
    let core = pinned.map_or("not pinned".to_owned(), |cpu| {
        format!("pinned to CPU {cpu}")
    });
    print_table(
        &format!(
            "{SECTION}, {core}; median of {} samples, best and worst of {} rounds",
            settings.samples, settings.rounds
        ),
        &[
            "what",
            "median, best round",
            "median, worst round",
            "min",
            "of the login's whole invocation",
            "iterations",
            "target",
        ],
        &table,
    );
    let section = format!(
        "{SECTION}; median of {} samples, best of {} rounds",
        settings.samples, settings.rounds
    );
    for row in &rows {
        let mut value = format!(
            "{} (worst round {})",
            us(row.best().median),
            us(row.worst().median)
        );
        if row.stage {
            value = format!(
                "{value}, {:.0}% of the login's whole invocation",
                share(row)
            );
        }
        record(
            &section,
            &row.name,
            &value,
            &row.target
                .map(|target| format!("< {}", us(target)))
                .unwrap_or_default(),
            verdict(row),
        );
    }
}
