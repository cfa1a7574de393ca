//! The cap of live sessions per end user: a login under it is two DynamoDB requests, the login
//! past it ends the oldest, and neither a lowered cap nor concurrent logins leave more.

use futures_util::future::join_all;
use testkit::faulty::FaultyServer;
use testkit::prelude::*;
use twitter_auth_login::config::Table;

use crate::assert_refused;
use crate::refresh::is_live;

/// The user's sessions that are still active, and the reasons the others ended.
async fn sessions_by_state(world: &World) -> (Vec<String>, Vec<String>) {
    let mut active = Vec::new();
    let mut reasons = Vec::new();
    for session in world.items(Table::Session).await {
        match string_attr(&session, "status").as_str() {
            "active" => active.push(string_attr(&session, "sessionId")),
            _ => reasons.push(string_attr(&session, "revokedReason")),
        }
    }
    active.sort();
    (active, reasons)
}

#[tokio::test]
async fn the_login_past_the_cap_ends_the_oldest_and_under_it_a_login_is_two_requests() {
    let world = World::new().await;
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let login = world.login_with(
        world.store_via(&proxy.url(), PATIENT),
        &world.twitter.base_url(),
    );
    let event = testkit::events::rest_event(&world.login_params());
    let mut all = Vec::new();
    for _ in 0..world.max_sessions {
        let before = proxy.operations().len();
        let (status, body) = call(&login, &event).await;
        all.push(Tokens::from_answer(status, &body));
        assert_eq!(
            proxy.operations()[before..],
            ["BatchGetItem", "TransactWriteItems"],
            "login {} of {}",
            all.len(),
            world.max_sessions
        );
        world.clock.advance(1);
    }

    // One more: the ledger refuses the usual write; the user's sessions are listed, and one
    // transaction starts this session and ends the oldest.
    let before = proxy.operations().len();
    let (status, body) = call(&login, &event).await;
    let newest = Tokens::from_answer(status, &body);
    assert_eq!(
        proxy.operations()[before..],
        [
            "BatchGetItem",
            "TransactWriteItems",
            "Query",
            "TransactWriteItems"
        ]
    );
    let oldest = &all[0];
    let item = world.session_of(oldest).await;
    assert_eq!(string_attr(&item, "status"), "revoked");
    assert_eq!(string_attr(&item, "revokedReason"), "evicted");
    assert!(!item.contains_key("activeSince"), "left the index");
    assert!(!is_live(&world, &oldest.access).await);
    assert_refused(
        &crate::refresh(&world, &oldest.refresh).await,
        200,
        5032,
        "Token verification failed",
        "revoked",
    );
    for tokens in [&all[1], &all[99], &newest] {
        assert!(is_live(&world, &tokens.access).await);
    }
    let (active, reasons) = sessions_by_state(&world).await;
    assert_eq!(active.len() as u64, world.max_sessions);
    assert_eq!(reasons, ["evicted"]);
    let user = world
        .item(Table::User, &[("uid", &newest.uid)])
        .await
        .expect("user");
    assert_eq!(number_attr(&user, "sessionLedger"), world.max_sessions);

    // And the next ends the next oldest.
    let (status, body) = call(&login, &event).await;
    Tokens::from_answer(status, &body);
    assert!(!is_live(&world, &all[1].access).await);
    assert!(is_live(&world, &all[2].access).await);
}

#[tokio::test]
async fn sessions_ended_otherwise_are_counted_again_at_the_cap_and_nothing_is_evicted() {
    let mut world = World::new().await;
    world.max_sessions = 3;
    let mut all = Vec::new();
    for _ in 0..3 {
        all.push(world.sign_in().await);
        world.clock.advance(1);
    }
    // Two end by logout: the ledger still counts them until a login at the cap counts again.
    for tokens in &all[..2] {
        let (_, body) = crate::logout(&world, &format!("Bearer {}", tokens.access), None).await;
        assert_eq!(body["data"]["revokedSessions"], 1);
    }
    let fourth = world.sign_in().await;
    let (active, reasons) = sessions_by_state(&world).await;
    let mut expected = vec![all[2].session_id(), fourth.session_id()];
    expected.sort();
    assert_eq!(active, expected);
    assert_eq!(reasons, ["logout", "logout"], "nothing evicted");
    let user = world
        .item(Table::User, &[("uid", &fourth.uid)])
        .await
        .expect("user");
    assert_eq!(number_attr(&user, "sessionLedger"), 2, "counted again");
    // Room for one more without counting.
    world.sign_in().await;
    assert_eq!(sessions_by_state(&world).await.0.len(), 3);
}

#[tokio::test]
async fn a_lowered_cap_ends_every_session_past_it_in_one_login() {
    let mut world = World::new().await;
    let mut all = Vec::new();
    for _ in 0..world.max_sessions {
        all.push(world.sign_in().await);
        world.clock.advance(1);
    }
    // More to end than one transaction holds beside the login's own writes.
    world.max_sessions = 2;
    let newest = world.sign_in().await;
    let (active, reasons) = sessions_by_state(&world).await;
    let mut expected = vec![all[99].session_id(), newest.session_id()];
    expected.sort();
    assert_eq!(active, expected);
    assert_eq!(reasons.len(), 99);
    assert!(reasons.iter().all(|r| r == "evicted"), "{reasons:?}");
    assert!(!is_live(&world, &all[98].access).await);
    assert!(is_live(&world, &all[99].access).await);
}

#[tokio::test]
async fn concurrent_logins_at_the_cap_never_pass_it() {
    let mut world = World::new().await;
    world.max_sessions = 3;
    for _ in 0..3 {
        world.sign_in().await;
    }
    // DynamoDB's transactions are atomic, moto's only one at a time.
    let atomic = FaultyServer::one_at_a_time(&world.endpoint)
        .await
        .expect("proxy");
    let logins: Vec<_> = (0..6)
        .map(|_| {
            let store =
                world.store_via(&atomic.url(), twitter_auth_login::dynamo::Limits::default());
            world.login_with(store, &world.twitter.base_url())
        })
        .collect();
    let event = testkit::events::rest_event(&world.login_params());
    let answers = join_all(logins.iter().map(|login| call(login, &event))).await;
    let mut started = 0;
    for (status, body) in &answers {
        match body["code"].as_u64() {
            Some(200) => started += 1,
            // Every attempt lost its race: the store was too busy, nothing written.
            Some(5001) => assert_eq!(*status, 503),
            _ => panic!("{body}"),
        }
    }
    assert!(started > 0, "{answers:?}");
    let (active, reasons) = sessions_by_state(&world).await;
    assert_eq!(active.len(), 3, "never more than the cap");
    assert_eq!(reasons.len(), started, "one evicted for each login");
    assert!(reasons.iter().all(|r| r == "evicted"), "{reasons:?}");
    assert_eq!(world.items(Table::Token).await.len(), 2 * (3 + started));
}
