//! Log lines over a whole session lifecycle: one line per request per function, with its
//! request id and outcome (and its metric record), a warning when a refresh token is reused,
//! and never a secret nor what a client sent as its User-Agent. In a
//! test binary of its own, because it installs the process-wide tracing subscriber (a
//! thread-scoped one misses events whose callsites other threads hit first).

use std::collections::HashSet;

use lambda_http::lambda_runtime::Context;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use testkit::capture::Captured;
use testkit::events::{
    LOGIN_ROUTE, RestEvent, SESSION_ROUTE, SESSIONS_ROUTE, USER_INFO_ROUTE, authorizer_event,
    rest_event,
};
use testkit::prelude::*;
use twitter_auth_login::config::{
    CacheSeconds, DEFAULT_DOMAIN_CACHE_SECONDS, DEFAULT_MCC_CACHE_SECONDS, Table,
};
use twitter_auth_login::endpoints::authorizer::UNAUTHORIZED;
use twitter_auth_login::http::{Endpoint, edge};
use twitter_auth_login::invocation::{Handler, Invocation};
use twitter_auth_login::logging;

/// Invokes an HTTP function through its edge as Lambda would, with this invocation's id.
async fn call_as<E: Endpoint>(endpoint: &E, event: &str, request_id: &str) -> (u16, Value) {
    let payload = serde_json::value::RawValue::from_string(event.to_owned()).expect("raw json");
    let mut context = Context::default();
    context.request_id = request_id.to_owned();
    // Boxed: keeps the edge's deep future off the test thread's stack in a debug build.
    let response = Box::pin(edge::invoke(endpoint, &payload, context)).await;
    let response = serde_json::to_value(response).expect("response json");
    let status = response["statusCode"].as_u64().expect("statusCode") as u16;
    let body = serde_json::from_str(response["body"].as_str().expect("body")).expect("envelope");
    (status, body)
}

/// The tokens of a successful login or refresh.
fn granted((status, body): (u16, Value)) -> Tokens {
    Tokens::from_answer(status, &body)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the log must carry for one request.
struct Expected {
    request_id: &'static str,
    message: &'static str,
    code: u64,
    /// The authorizer's decision; HTTP functions have none.
    outcome: Option<&'static str>,
}

const fn http(request_id: &'static str, message: &'static str, code: u64) -> Expected {
    Expected {
        request_id,
        message,
        code,
        outcome: None,
    }
}

const fn authorizer(request_id: &'static str, outcome: &'static str) -> Expected {
    Expected {
        request_id,
        message: "tokenAuthorizer",
        code: 0,
        outcome: Some(outcome),
    }
}

const REQUESTS: [Expected; 12] = [
    http("0a000001-login", "twitterAuthLogin", 200),
    http("0a000002-refresh", "refreshToken", 200),
    http("0a000003-refresh-retried", "refreshToken", 200),
    http("0a000004-refresh-reused", "refreshToken", 5032),
    http("0a000005-login-again", "twitterAuthLogin", 200),
    authorizer("0a000006-authorize-live", "allow"),
    authorizer("0a000007-authorize-revoked", "unauthorized"),
    http("0a000008-user-info", "userInfo", 200),
    http("0a000009-list-sessions", "listSessions", 200),
    http("0a00000a-end-session", "endSession", 200),
    http("0a00000b-logout-global", "userLogout", 200),
    http("0a00000c-refresh-garbage", "refreshToken", 5032),
];

/// A client that sends control characters and far too much: kept cleaned and cut, logged never.
fn unruly_user_agent() -> String {
    format!("Unruly\t/\u{85}1.0\u{9b}2J {}", "Gecko ".repeat(2000))
}

const GARBAGE_TOKEN: &str = "garbage-refresh-token-7d1c0f";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_lifecycle_logs_one_line_per_request_and_never_a_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(logging::subscriber("TRACE", true, move || {
        writer.clone()
    }))
    .expect("the only subscriber of this binary");

    // With the caches on: the instances hold the domain's secret and apps' secrets, and
    // nothing of them may reach a line.
    let mut world = World::new().await;
    world.caches = CacheSeconds {
        user_domain: DEFAULT_DOMAIN_CACHE_SECONDS,
        mcc: DEFAULT_MCC_CACHE_SECONDS,
    };
    let (login, refresh, logout) = (world.login(), world.refresh(), world.logout());
    let (user_info, token_authorizer) = (world.user_info(), world.authorizer());
    let id = |n: usize| REQUESTS[n].request_id;

    // Session A: login, refresh, the same refresh retried within the grace window.
    let first = granted(call_as(&login, &rest_event(&world.login_params()), id(0)).await);
    let rotated = granted(call_as(&refresh, &refresh_event(&first.refresh), id(1)).await);
    let retried = granted(call_as(&refresh, &refresh_event(&first.refresh), id(2)).await);
    assert_eq!(retried.session_id(), first.session_id());

    // Past the grace window, the first refresh token again: reuse, and session A is revoked.
    world.clock.advance(world.refresh_reuse_grace + 1);
    let (status, reused) = call_as(&refresh, &refresh_event(&first.refresh), id(3)).await;
    assert_eq!(
        (status, &reused),
        (
            200,
            &json!({"code": 5032, "msg": "Token verification failed", "extMsg": "reused", "data": null})
        )
    );

    // Session B of the same user, from an unruly client: the authorizer, userInfo, the
    // listing, ending A again, a global logout.
    let unruly = RestEvent::new("POST", LOGIN_ROUTE)
        .query(&world.login_params())
        .user_agent(Some(&unruly_user_agent()))
        .to_json();
    let second = granted(call_as(&login, &unruly, id(4)).await);
    assert_eq!(second.uid, first.uid);
    let event = |token: &str| {
        let header = bearer(token);
        serde_json::from_value(authorizer_event(
            "GET",
            USER_INFO_ROUTE,
            &[("Authorization", &header)],
        ))
        .expect("authorizer event")
    };
    let invocation = |request_id: &str| {
        let mut context = context();
        context.request_id = request_id.to_owned();
        Invocation::new(context)
    };
    let allowed = token_authorizer
        .handle(event(&second.access), &invocation(id(5)))
        .await
        .expect("a live token is allowed");
    assert_eq!(allowed.principal_id.as_deref(), Some(second.uid.as_str()));
    let refused = token_authorizer
        .handle(event(&retried.access), &invocation(id(6)))
        .await
        .expect_err("a token of a revoked session");
    assert_eq!(refused.error_type, UNAUTHORIZED);

    let (status, info) = call_as(&user_info, &user_info_event(&second.uid), id(7)).await;
    assert_eq!((status, info["code"].as_u64()), (200, Some(200)), "{info}");
    assert_eq!(info["data"]["uid"], second.uid.as_str());
    assert_eq!(info["data"]["twitterUserId"], TWITTER_USER_ID);

    // The routes behind the authorizer get what it allowed.
    let mut context = serde_json::to_value(allowed.context.clone()).expect("context");
    context["principalId"] = json!(second.uid);
    let behind = |event: RestEvent| event.authorizer(context.clone()).to_json();
    let listing = behind(RestEvent::new("GET", SESSIONS_ROUTE));
    let (status, listed) = call_as(&world.list_sessions(), &listing, id(8)).await;
    assert_eq!(
        (status, listed["code"].as_u64()),
        (200, Some(200)),
        "{listed}"
    );
    let agent = listed["data"]["sessions"][0]["userAgent"]
        .as_str()
        .expect("userAgent");
    assert!(
        agent.starts_with("Unruly/1.02J Gecko") && agent.len() <= 256,
        "{agent}"
    );
    let again = behind(
        RestEvent::new(
            "DELETE",
            &format!("{SESSIONS_ROUTE}/{}", first.session_id()),
        )
        .resource(SESSION_ROUTE)
        .path_parameter("sessionId", &first.session_id()),
    );
    let (status, ended) = call_as(&world.end_session(), &again, id(9)).await;
    assert_eq!(
        (status, &ended["data"]),
        (200, &json!({"revokedSessions": 0})),
        "A ended already"
    );

    let (status, logged_out) = call_as(
        &logout,
        &logout_event(Some(&bearer(&second.access)), Some("global")),
        id(10),
    )
    .await;
    assert_eq!(
        (status, &logged_out),
        (
            200,
            &json!({"code": 200, "msg": "success", "extMsg": "", "data": {"revokedSessions": 1}})
        )
    );

    let (status, garbage) = call_as(&refresh, &refresh_event(GARBAGE_TOKEN), id(11)).await;
    assert_eq!(
        (status, garbage["code"].as_u64(), &garbage["extMsg"]),
        (200, Some(5032), &json!("invalid"))
    );

    // Both sessions ended, each for its reason.
    let mut reasons: Vec<(String, String)> = world
        .items(Table::Session)
        .await
        .iter()
        .map(|s| (string_attr(s, "sessionId"), string_attr(s, "revokedReason")))
        .collect();
    reasons.sort_by_key(|(id, _)| *id != first.session_id());
    assert_eq!(
        reasons,
        vec![
            (first.session_id(), "reused".to_owned()),
            (second.session_id(), "logout".to_owned())
        ]
    );

    // ---- The lines.
    let logs = captured.text();
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON line: {l}")))
        .collect();

    // One line per request, in order, each with its own request id and outcome.
    let request_lines: Vec<(usize, &Value)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.get("request_id").is_some())
        .collect();
    assert_eq!(request_lines.len(), REQUESTS.len(), "{logs}");
    for ((_, line), expected) in request_lines.iter().zip(&REQUESTS) {
        let id = expected.request_id;
        assert_eq!(line["request_id"], id, "{logs}");
        assert_eq!(line["message"], expected.message, "{id}: {line}");
        assert_eq!(line["level"], "INFO", "{id}: {line}");
        assert_eq!(line["code"].as_u64(), Some(expected.code), "{id}: {line}");
        assert!(line["latency_us"].is_u64(), "{id}: {line}");
        match expected.outcome {
            Some(outcome) => assert_eq!(line["outcome"], outcome, "{id}: {line}"),
            None => {
                assert!(line.get("outcome").is_none(), "{id}: {line}");
                // Refusals of a token are the client's fault: HTTP 200 with the code.
                assert_eq!(line["status"].as_u64(), Some(200), "{id}: {line}");
            }
        }
    }
    let field = |n: usize, name: &str| request_lines[n].1[name].clone();
    for n in [0, 1, 2, 3, 4, 5, 8, 9, 10] {
        assert_eq!(
            field(n, "uid"),
            first.uid.as_str(),
            "{}",
            REQUESTS[n].request_id
        );
        assert_eq!(
            field(n, "user_domain"),
            DOMAIN,
            "{}",
            REQUESTS[n].request_id
        );
    }
    // The login's line names the session it started, so later lines tie back to it.
    for n in [0, 1, 2, 3] {
        assert_eq!(field(n, "session_id"), first.session_id().as_str());
    }
    for n in [5, 8, 9, 10] {
        assert_eq!(field(n, "session_id"), second.session_id().as_str());
    }
    assert_eq!(field(0, "app_id"), APP_ID);
    // Why a token was refused, as the answer's extMsg says.
    assert_eq!(field(3, "detail"), "reused");
    assert_eq!(field(11, "detail"), "invalid");
    assert_eq!(field(6, "uid"), "", "an unauthorized token names no one");
    assert_eq!(field(7, "uid"), second.uid.as_str());
    assert_eq!(field(11, "uid"), "", "a garbage token names no one");

    // The reuse is a warning naming whose session was revoked, inside the reused request.
    let warnings: Vec<(usize, &Value)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l["level"] == "WARN")
        .collect();
    assert_eq!(warnings.len(), 1, "{logs}");
    let (at, warning) = warnings[0];
    assert_eq!(
        warning["message"],
        "refresh token reused after rotation: session revoked"
    );
    assert_eq!(warning["uid"], first.uid.as_str());
    assert_eq!(warning["session_id"], first.session_id().as_str());
    assert!(
        request_lines[2].0 < at && at < request_lines[3].0,
        "the warning comes with the reused request: {logs}"
    );

    // Beside them, one metric record (a bare EMF object) per request, and no other line.
    let records: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    let described: Vec<(String, String)> = records
        .iter()
        .map(|r| (r["Operation"].to_string(), r["Outcome"].to_string()))
        .collect();
    let expected: Vec<(String, String)> = REQUESTS
        .iter()
        .map(|e| {
            let outcome = e.outcome.map_or(e.code.to_string(), str::to_owned);
            (json!(e.message).to_string(), json!(outcome).to_string())
        })
        .collect();
    assert_eq!(described, expected, "{logs}");
    let reuses: Vec<u64> = records
        .iter()
        .map(|r| r["ReuseDetections"].as_u64().expect("ReuseDetections"))
        .collect();
    assert_eq!(reuses, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], "{logs}");
    assert_eq!(lines.len(), 2 * REQUESTS.len() + 1, "no other line: {logs}");

    // Never a token, a token hash, a secret or a signature, raw or percent-encoded.
    let tokens: Vec<String> = [&first, &rotated, &retried, &second]
        .iter()
        .flat_map(|t| [t.access.clone(), t.refresh.clone()])
        .collect();
    let hashes: HashSet<String> = tokens.iter().map(|t| sha256_hex(t)).collect();
    let stored: HashSet<String> = world
        .items(Table::Token)
        .await
        .iter()
        .map(|i| string_attr(i, "tokenHash"))
        .collect();
    assert_eq!(
        stored, hashes,
        "the token table holds the hashes of the tokens handed out"
    );
    let signature = world
        .login_params()
        .into_iter()
        .find(|(k, _)| k == "signature")
        .map(|(_, v)| v)
        .expect("signature");
    let mut secrets: Vec<String> = vec![
        world.domain_secret.clone(),
        CONSUMER_SECRET.to_owned(),
        OAUTH_TOKEN.to_owned(),
        OAUTH_TOKEN_SECRET.to_owned(),
        signature,
        GARBAGE_TOKEN.to_owned(),
    ];
    for token in &tokens {
        let secret_part = token.rsplit('.').next().expect("secret part");
        secrets.extend([token.clone(), secret_part.to_owned()]);
    }
    secrets.extend(hashes);
    let encoded: Vec<String> = secrets
        .iter()
        .map(|s| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string())
        .collect();
    secrets.extend(encoded);
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a log line carries {secret:?}: {logs}"
        );
    }
    // Nor what a client sent as its User-Agent.
    assert!(
        !logs.contains("Gecko") && !logs.contains("Unruly"),
        "{logs}"
    );
}
