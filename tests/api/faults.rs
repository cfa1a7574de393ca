//! DynamoDB misbehaving on every path: each function answers the contract's code within the
//! SDK limits, writes nothing half-way, and the next request through the same function works.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::events::rest_event;
use testkit::faulty::{Fault, FaultyServer};
use testkit::prelude::*;
use twitter_auth_login::config::Table;
use twitter_auth_login::dynamo::{DynamoStore, Limits};

use crate::assert_refused;

/// The default limits give up on an operation after 2.5 s; allow scheduling slack on top.
const GIVE_UP_WITHIN: Duration = Duration::from_millis(4000);

const READ: &str = "BatchGetItem";
const WRITE: &str = "TransactWriteItems";
const LIST: &str = "Query";
/// A revocation: one session's own conditional write.
const REVOKE: &str = "UpdateItem";

/// Every item of the tables the lifecycle writes, in a form that compares.
async fn snapshot(world: &World) -> Vec<Vec<BTreeMap<String, String>>> {
    let mut tables = Vec::new();
    for table in [Table::Token, Table::Session, Table::User] {
        let mut items: Vec<BTreeMap<String, String>> = world
            .items(table)
            .await
            .into_iter()
            .map(|item| {
                item.into_iter()
                    .map(|(k, v)| (k, format!("{v:?}")))
                    .collect()
            })
            .collect();
        items.sort();
        tables.push(items);
    }
    tables
}

/// A world whose functions reach moto through a proxy that can misbehave.
struct Faulty {
    world: World,
    proxy: FaultyServer,
}

impl Faulty {
    async fn new() -> Faulty {
        Faulty::with(World::new().await).await
    }

    async fn with(world: World) -> Faulty {
        let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
        Faulty { world, proxy }
    }

    /// The world's store through the proxy, with the production limits.
    fn store(&self) -> DynamoStore {
        self.world.store_via(&self.proxy.url(), Limits::default())
    }
}

/// Injects `fault` on `operation`, runs `request`, and checks the answer, the time it took,
/// that nothing changed in the tables, and that the same request works once healed.
async fn fault_then_recovery<F, Fut>(
    faulty: &Faulty,
    operation: &str,
    fault: Fault,
    code: u64,
    status: u16,
    request: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (u16, Value)>,
{
    fault_after_then_recovery(faulty, (operation, 0), fault, code, status, request).await;
}

/// The same, with the fault on `operation` only after `skip` of them passed.
async fn fault_after_then_recovery<F, Fut>(
    faulty: &Faulty,
    (operation, skip): (&str, usize),
    fault: Fault,
    code: u64,
    status: u16,
    request: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (u16, Value)>,
{
    let before = snapshot(&faulty.world).await;
    faulty
        .proxy
        .inject_after(operation, skip, fault.clone(), usize::MAX);
    let faulted_before = faulty.proxy.faulted();
    let started = Instant::now();
    let answer = request().await;
    let elapsed = started.elapsed();
    let msg = if code == 5001 {
        "Service temporarily unavailable"
    } else {
        "Internal error"
    };
    assert_refused(&answer, status, code, msg, "");
    assert!(
        elapsed < GIVE_UP_WITHIN,
        "{operation} {fault:?} took {elapsed:?}"
    );
    assert!(faulty.proxy.faulted() > faulted_before, "the fault was met");
    assert_eq!(
        snapshot(&faulty.world).await,
        before,
        "{operation} {fault:?} changed what is stored"
    );
    faulty.proxy.heal();
    let (healed_status, healed) = request().await;
    assert_eq!(
        (healed_status, healed["code"].as_u64()),
        (200, Some(200)),
        "healed after {operation} {fault:?}: {healed}"
    );
}

fn transient_faults() -> Vec<Fault> {
    vec![
        Fault::dynamodb_error(400, "ThrottlingException"),
        Fault::dynamodb_error(400, "ProvisionedThroughputExceededException"),
        Fault::dynamodb_error(500, "InternalServerError"),
        Fault::answer(503, "text/plain", "Service Unavailable"),
        Fault::Drop,
        Fault::Hang,
    ]
}

fn canceled(reasons: &[&str]) -> Fault {
    let reasons: Vec<String> = reasons
        .iter()
        .map(|r| format!(r#"{{"Code":"{r}"}}"#))
        .collect();
    let body = format!(
        r#"{{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"stand-in","CancellationReasons":[{}]}}"#,
        reasons.join(",")
    );
    Fault::answer(400, "application/x-amz-json-1.0", &body)
}

#[tokio::test]
async fn login_faults() {
    let faulty = Faulty::new().await;
    let world = &faulty.world;
    let endpoint = world.login_with(faulty.store(), &world.twitter.base_url());
    let event = rest_event(&world.login_params());
    let request = || call(&endpoint, &event);
    for fault in transient_faults() {
        fault_then_recovery(&faulty, READ, fault.clone(), 5001, 503, request).await;
        fault_then_recovery(&faulty, WRITE, fault, 5001, 503, request).await;
    }
    let refused = Fault::dynamodb_error(400, "ValidationException");
    fault_then_recovery(&faulty, READ, refused.clone(), 5000, 500, request).await;
    fault_then_recovery(&faulty, WRITE, refused, 5000, 500, request).await;
    let condition = canceled(&["ConditionalCheckFailed", "None", "None", "None"]);
    fault_then_recovery(&faulty, WRITE, condition, 5000, 500, request).await;
    let throttled = canceled(&["ThrottlingError", "None", "None", "None"]);
    fault_then_recovery(&faulty, WRITE, throttled, 5001, 503, request).await;
    let conflict = canceled(&["TransactionConflict", "None", "None", "None"]);
    fault_then_recovery(&faulty, WRITE, conflict, 5001, 503, request).await;
}

#[tokio::test]
async fn refresh_faults() {
    let faulty = Faulty::new().await;
    let world = &faulty.world;
    let endpoint = world.refresh_with(faulty.store());
    for fault in transient_faults() {
        for operation in [READ, WRITE] {
            // A fresh session each time: a recovered refresh rotates the token away.
            let tokens = world.sign_in().await;
            let event = refresh_event(&tokens.refresh);
            fault_then_recovery(&faulty, operation, fault.clone(), 5001, 503, || {
                call(&endpoint, &event)
            })
            .await;
        }
    }
    let tokens = world.sign_in().await;
    let event = refresh_event(&tokens.refresh);
    let throttled = canceled(&["None", "None", "ThrottlingError"]);
    fault_then_recovery(&faulty, WRITE, throttled, 5001, 503, || {
        call(&endpoint, &event)
    })
    .await;
}

#[tokio::test]
async fn a_refresh_that_keeps_losing_its_race_is_5001_and_writes_nothing() {
    let faulty = Faulty::new().await;
    let world = &faulty.world;
    let endpoint = world.refresh_with(faulty.store());
    let tokens = world.sign_in().await;
    let event = refresh_event(&tokens.refresh);
    let conflict = canceled(&["None", "None", "ConditionalCheckFailed"]);
    fault_then_recovery(&faulty, WRITE, conflict, 5001, 503, || {
        call(&endpoint, &event)
    })
    .await;
}

#[tokio::test]
async fn a_reuse_whose_revocation_fails_is_5001_and_revokes_later() {
    let faulty = Faulty::new().await;
    let world = &faulty.world;
    let endpoint = world.refresh_with(faulty.store());
    let login = world.sign_in().await;
    let (status, body) = crate::refresh(world, &login.refresh).await;
    let current = Tokens::from_answer(status, &body);
    world.clock.advance(world.refresh_reuse_grace);

    let reuse = refresh_event(&login.refresh);
    let before = snapshot(world).await;
    faulty.proxy.inject(
        Some(REVOKE),
        Fault::dynamodb_error(500, "InternalServerError"),
    );
    let answer = call(&endpoint, &reuse).await;
    assert_refused(&answer, 503, 5001, "Service temporarily unavailable", "");
    assert_eq!(snapshot(world).await, before);
    faulty.proxy.heal();
    let answer = call(&endpoint, &reuse).await;
    assert_refused(&answer, 200, 5032, "Token verification failed", "reused");
    assert!(!crate::refresh::is_live(world, &current.access).await);
}

#[tokio::test]
async fn logout_faults() {
    let faulty = Faulty::new().await;
    let world = &faulty.world;
    let endpoint = world.logout_with(faulty.store());
    let paths = [
        (READ, "local"),
        (REVOKE, "local"),
        (READ, "global"),
        (LIST, "global"),
        (REVOKE, "global"),
        (LIST, "others"),
        (REVOKE, "others"),
    ];
    for fault in [
        Fault::dynamodb_error(400, "ThrottlingException"),
        Fault::Drop,
        Fault::Hang,
    ] {
        for (operation, scope) in paths {
            let tokens = world.sign_in().await;
            world.sign_in().await;
            let event = logout_event(Some(&tokens.access), Some(scope));
            fault_then_recovery(&faulty, operation, fault.clone(), 5001, 503, || {
                call(&endpoint, &event)
            })
            .await;
        }
    }
}

#[tokio::test]
async fn list_and_end_session_faults() {
    let faulty = Faulty::new().await;
    let world = &faulty.world;
    let mine = world.sign_in().await;
    let list = world.list_sessions_with(faulty.store());
    let event = list_sessions_event(&mine.uid, &mine.session_id(), None);
    let refused = Fault::dynamodb_error(400, "ValidationException");
    for (fault, code, status) in transient_faults()
        .into_iter()
        .map(|fault| (fault, 5001, 503))
        .chain([(refused.clone(), 5000, 500)])
    {
        fault_then_recovery(&faulty, LIST, fault, code, status, || call(&list, &event)).await;
    }
    let end = world.end_session_with(faulty.store());
    for (fault, code, status) in transient_faults()
        .into_iter()
        .map(|fault| (fault, 5001, 503))
        .chain([(refused, 5000, 500)])
    {
        // A session of its own each time: the healed request ends it.
        let other = world.sign_in().await;
        let event = end_session_event(&mine.uid, &mine.session_id(), &other.session_id());
        fault_then_recovery(&faulty, REVOKE, fault, code, status, || call(&end, &event)).await;
        assert!(!crate::refresh::is_live(world, &other.access).await);
    }
}

#[tokio::test]
async fn a_login_at_the_cap_that_fails_writes_nothing_half_way() {
    let mut world = World::new().await;
    world.max_sessions = 2;
    let faulty = Faulty::with(world).await;
    let world = &faulty.world;
    world.sign_in().await;
    world.sign_in().await;
    let endpoint = world.login_with(faulty.store(), &world.twitter.base_url());
    let event = rest_event(&world.login_params());
    let request = || call(&endpoint, &event);
    for fault in transient_faults() {
        // Listing the user's sessions.
        fault_then_recovery(&faulty, LIST, fault.clone(), 5001, 503, request).await;
        // The one write that starts the session and ends the oldest: the refused usual
        // write passes, this one fails, and no session is ended without the new one.
        fault_after_then_recovery(&faulty, (WRITE, 1), fault, 5001, 503, request).await;
        let live = world
            .items(Table::Session)
            .await
            .iter()
            .filter(|s| string_attr(s, "status") == "active")
            .count();
        assert_eq!(live, 2);
    }
}

#[tokio::test]
async fn a_refused_connection_is_5001_everywhere() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    let refused = format!("http://{}", testkit::server::refused_addr().expect("port"));
    let store = || world.store_via(&refused, Limits::default());
    let started = Instant::now();
    let answers = [
        call(
            &world.login_with(store(), &world.twitter.base_url()),
            &rest_event(&world.login_params()),
        )
        .await,
        call(
            &world.refresh_with(store()),
            &refresh_event(&tokens.refresh),
        )
        .await,
        call(
            &world.logout_with(store()),
            &logout_event(Some(&tokens.access), None),
        )
        .await,
        call(
            &twitter_auth_login::endpoints::user_info::UserInfo::new(store()),
            &user_info_event(&tokens.uid),
        )
        .await,
    ];
    for answer in &answers {
        assert_refused(answer, 503, 5001, "Service temporarily unavailable", "");
    }
    assert!(started.elapsed() < GIVE_UP_WITHIN * 4);
    assert_eq!(
        world.twitter.verified(),
        1,
        "Twitter is not asked when the read fails"
    );
}

#[tokio::test]
async fn missing_tables_are_5000_and_nothing_is_half_written() {
    let world = World::new().await;
    // Reads work, the session table is gone: the login's transaction fails whole.
    world
        .client
        .delete_table()
        .table_name(world.tables.get(Table::Session).expect("table"))
        .send()
        .await
        .expect("drop session table");
    let answer = crate::login(&world, &world.login_params()).await;
    assert_refused(&answer, 500, 5000, "Internal error", "");
    assert_eq!(world.twitter.verified(), 1);
    assert!(world.items(Table::Token).await.is_empty());
    assert!(world.items(Table::User).await.is_empty());
}

#[tokio::test]
async fn a_login_whose_answer_is_lost_is_retried_with_the_same_token() {
    let faulty = Faulty::new().await;
    let world = &faulty.world;
    let endpoint = world.login_with(faulty.store(), &world.twitter.base_url());
    let event = rest_event(&world.login_params());

    // The write lands, its answer is lost; the SDK's retry carries the same idempotency
    // token, which DynamoDB answers with success and no second write.
    faulty.proxy.inject_times(WRITE, Fault::LoseAnswer, 1);
    let (status, body) = call(&endpoint, &event).await;
    let tokens = Tokens::from_answer(status, &body);
    let sent = faulty.proxy.transaction_tokens();
    assert_eq!(sent.len(), 2, "one attempt and one retry");
    assert_eq!(sent[0], sent[1], "the retry is the same transaction");
    let (token_items, sessions, users) = crate::written(world).await;
    assert_eq!((token_items.len(), sessions.len(), users.len()), (2, 1, 1));
    assert!(crate::refresh::is_live(world, &tokens.access).await);

    // Every answer lost: 5001, and still at most one stored pair for the login.
    faulty.proxy.inject_times(WRITE, Fault::LoseAnswer, 2);
    let answer = call(&endpoint, &event).await;
    assert_refused(&answer, 503, 5001, "Service temporarily unavailable", "");
    let (token_items, sessions, _) = crate::written(world).await;
    assert_eq!((token_items.len(), sessions.len()), (4, 2));
}

#[tokio::test]
async fn a_refresh_whose_answer_is_lost_can_be_retried_within_the_grace_window() {
    let faulty = Faulty::new().await;
    let world = &faulty.world;
    let endpoint = world.refresh_with(faulty.store());

    // Lost once: the SDK's idempotent retry answers the pair that was written.
    let login = world.sign_in().await;
    faulty.proxy.inject_times(WRITE, Fault::LoseAnswer, 1);
    let (status, body) = call(&endpoint, &refresh_event(&login.refresh)).await;
    let answered = Tokens::from_answer(status, &body);
    assert!(crate::refresh::is_live(world, &answered.access).await);

    // Lost for good: the client sees 5001, though the rotation landed; its retry with the
    // same refresh token falls in the grace window and gets that very pair, written once.
    let second = world.sign_in().await;
    let before = world.items(Table::Token).await.len();
    faulty.proxy.inject_times(WRITE, Fault::LoseAnswer, 2);
    let answer = call(&endpoint, &refresh_event(&second.refresh)).await;
    assert_refused(&answer, 503, 5001, "Service temporarily unavailable", "");
    assert_eq!(
        world.items(Table::Token).await.len(),
        before + 2,
        "the lost pair landed"
    );
    world.clock.advance(5);
    let (status, body) = call(&endpoint, &refresh_event(&second.refresh)).await;
    let retried = Tokens::from_answer(status, &body);
    assert!(crate::refresh::is_live(world, &retried.access).await);
    assert_eq!(
        world.items(Table::Token).await.len(),
        before + 2,
        "the retry answers the lost pair and writes nothing"
    );
    let session = world
        .item(
            Table::Session,
            &[("uid", &retried.uid), ("sessionId", &retried.session_id())],
        )
        .await
        .expect("session");
    assert_eq!(
        string_attr(&session, "refreshTokenHash"),
        twitter_auth_login::domain::token::hash_token(&retried.refresh)
    );
}

#[tokio::test]
async fn unprocessed_keys_are_asked_for_once_more() {
    let faulty = Faulty::new().await;
    let world = &faulty.world;
    let store = || faulty.store();
    let login = world.login_with(store(), &world.twitter.base_url());
    let event = rest_event(&world.login_params());

    faulty.proxy.inject_times(READ, Fault::Unprocessed, 1);
    let (status, body) = call(&login, &event).await;
    let tokens = Tokens::from_answer(status, &body);
    assert_eq!(faulty.proxy.operations(), [READ, READ, WRITE]);

    // Left unprocessed twice: the store is struggling, 5001.
    let before = snapshot(world).await;
    faulty.proxy.inject_times(READ, Fault::Unprocessed, 2);
    let answer = call(&login, &event).await;
    assert_refused(&answer, 503, 5001, "Service temporarily unavailable", "");
    assert_eq!(snapshot(world).await, before);

    // The token checks read the same way.
    faulty.proxy.inject_times(READ, Fault::Unprocessed, 1);
    let (status, body) = call(
        &world.refresh_with(store()),
        &refresh_event(&tokens.refresh),
    )
    .await;
    Tokens::from_answer(status, &body);
}

#[tokio::test]
async fn the_invocation_deadline_bounds_a_slow_but_succeeding_chain() {
    let faulty = Faulty::new().await;
    let world = &faulty.world;
    let twitter = FaultyServer::proxy(&world.twitter.base_url())
        .await
        .expect("proxy");
    // Each dependency answers, slowly: the chain would succeed, after Lambda's deadline.
    let slow = || {
        faulty
            .proxy
            .inject(Some(READ), Fault::Delay(Duration::from_millis(700)));
        twitter.inject(None, Fault::Delay(Duration::from_millis(1000)));
    };
    let login = || {
        let base = twitter_auth_login::twitter::Url::parse(&twitter.url()).expect("url");
        let client = twitter_auth_login::twitter::TwitterClient::new(&base, Duration::from_secs(3))
            .expect("twitter client");
        twitter_auth_login::endpoints::login::Login::new(
            faulty.store(),
            client,
            world.pair_issuer(),
            world.derivation(),
            DATA_CENTER,
            world.clock.clone(),
        )
    };
    let event = rest_event(&world.login_params());

    // Without a deadline it takes the whole chain and succeeds.
    slow();
    let started = Instant::now();
    let (status, body) = call(&login(), &event).await;
    Tokens::from_answer(status, &body);
    assert!(started.elapsed() >= Duration::from_millis(1700));

    // With 1.5 s left, Twitter gets what the read left over, and the answer comes in time.
    slow();
    let before = snapshot(world).await;
    let started = Instant::now();
    let answer = call_before(&login(), &event, Some(Duration::from_millis(1500))).await;
    let elapsed = started.elapsed();
    assert_refused(&answer, 503, 5367, "Request to Twitter failed", "");
    assert!(
        elapsed < Duration::from_millis(1500),
        "answered after the deadline: {elapsed:?}"
    );
    assert_eq!(snapshot(world).await, before, "nothing written");

    // A deadline already spent by the read leaves no time for Twitter at all.
    slow();
    let answer = call_before(&login(), &event, Some(Duration::from_millis(600))).await;
    assert_refused(&answer, 503, 5001, "Service temporarily unavailable", "");
}

#[test]
fn the_template_timeout_outlasts_every_dependency_bound() {
    let template = twitter_auth_admin::template::Template::shipped();
    let timeout = template.function_timeout().expect("Timeout");
    let twitter = Duration::from_millis(
        template
            .global_variable("TWITTER_TIMEOUT_MS")
            .expect("TWITTER_TIMEOUT_MS")
            .parse()
            .expect("a number"),
    );
    let dynamodb = Limits::default().operation_timeout;
    // The longest chain without a deadline: a login's read, Twitter, and its write; plus the
    // edge's margin to answer. The invocation's deadline bounds anything longer.
    let chain =
        dynamodb + twitter + dynamodb + twitter_auth_login::invocation::deadline::ANSWER_MARGIN;
    assert!(
        chain < timeout,
        "{chain:?} does not fit in the {timeout:?} Timeout"
    );
}
