//! Logout: the token in `Authorization`, raw or Bearer; `scope` local, others or global; every
//! row of its checks; and what is revoked.

use testkit::events::{LOGOUT_ROUTE, RestEvent};
use testkit::faulty::{Fault, FaultyServer};
use testkit::prelude::*;
use twitter_auth_login::config::Table;
use twitter_auth_login::dynamo::Limits;

use crate::refresh::is_live;
use crate::{assert_refused, logout, refresh};

const VERIFICATION_FAILED: &str = "Token verification failed";

fn bearer(tokens: &Tokens) -> String {
    format!("Bearer {}", tokens.access)
}

async fn session_status(world: &World, tokens: &Tokens) -> (String, Option<String>) {
    let item = world
        .item(
            Table::Session,
            &[("uid", &tokens.uid), ("sessionId", &tokens.session_id())],
        )
        .await
        .expect("session");
    (
        string_attr(&item, "status"),
        item.get("revokedReason")
            .and_then(|v| v.as_s().ok())
            .cloned(),
    )
}

#[tokio::test]
async fn a_local_logout_ends_this_session_only() {
    let world = World::new().await;
    let other = world.sign_in().await;
    let tokens = world.sign_in().await;
    let (status, body) = logout(&world, &bearer(&tokens), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        serde_json::json!({"code": 200, "msg": "success", "extMsg": "", "data": {"revokedSessions": 1}})
    );
    assert_eq!(
        session_status(&world, &tokens).await,
        ("revoked".to_owned(), Some("logout".to_owned()))
    );
    // Its tokens stop working at once, at refresh, logout and the authorizer.
    assert!(!is_live(&world, &tokens.access).await);
    assert_refused(
        &refresh(&world, &tokens.refresh).await,
        200,
        5032,
        VERIFICATION_FAILED,
        "revoked",
    );
    assert_refused(
        &logout(&world, &bearer(&tokens), None).await,
        200,
        5032,
        VERIFICATION_FAILED,
        "revoked",
    );
    assert!(is_live(&world, &other.access).await);
    assert_eq!(session_status(&world, &other).await.0, "active");
}

#[tokio::test]
async fn the_token_may_come_raw_or_as_bearer_in_any_case() {
    let world = World::new().await;
    for header in [
        |t: &Tokens| t.access.clone(),
        |t: &Tokens| format!("Bearer {}", t.access),
        |t: &Tokens| format!("bearer  {}", t.access),
        |t: &Tokens| format!("BEARER {}", t.access),
    ] {
        let tokens = world.sign_in().await;
        let (status, body) = logout(&world, &header(&tokens), Some("local")).await;
        assert_eq!((status, body["code"].as_u64()), (200, Some(200)), "{body}");
        assert_eq!(body["data"]["revokedSessions"], 1);
    }
}

#[tokio::test]
async fn scope_others_and_global_across_three_sessions() {
    let world = World::new().await;
    let (a, b, c) = (
        world.sign_in().await,
        world.sign_in().await,
        world.sign_in().await,
    );
    let (status, body) = logout(&world, &bearer(&a), Some("others")).await;
    assert_eq!((status, body["code"].as_u64()), (200, Some(200)), "{body}");
    assert_eq!(body["data"]["revokedSessions"], 2);
    assert!(is_live(&world, &a.access).await);
    assert!(!is_live(&world, &b.access).await);
    assert!(!is_live(&world, &c.access).await);
    for tokens in [&b, &c] {
        assert_eq!(
            session_status(&world, tokens).await,
            ("revoked".to_owned(), Some("logout".to_owned()))
        );
    }
    // Nobody else is left.
    let (_, body) = logout(&world, &bearer(&a), Some("others")).await;
    assert_eq!(body["data"]["revokedSessions"], 0);
    assert!(is_live(&world, &a.access).await);

    let (d, e) = (world.sign_in().await, world.sign_in().await);
    let (status, body) = logout(&world, &bearer(&d), Some("global")).await;
    assert_eq!((status, body["code"].as_u64()), (200, Some(200)), "{body}");
    // a, d and e were active; b and c were already revoked.
    assert_eq!(body["data"]["revokedSessions"], 3);
    for tokens in [&a, &d, &e] {
        assert!(!is_live(&world, &tokens.access).await);
        assert_eq!(session_status(&world, tokens).await.0, "revoked");
    }
}

#[tokio::test]
async fn another_users_sessions_are_not_touched() {
    let world = World::new().await;
    world.twitter.add_account(testkit::twitter::Account {
        consumer_key: CONSUMER_KEY.into(),
        consumer_secret: CONSUMER_SECRET.into(),
        token: "9-other".into(),
        token_secret: "other-secret".into(),
        user_id: "9".into(),
        username: "other".into(),
    });
    let params = signed_params(
        DOMAIN,
        APP_ID,
        "9-other",
        "other-secret",
        &world.domain_secret,
    );
    let (status, body) = crate::login(&world, &params).await;
    let other_user = Tokens::from_answer(status, &body);
    let tokens = world.sign_in().await;
    let (_, body) = logout(&world, &bearer(&tokens), Some("global")).await;
    assert_eq!(body["data"]["revokedSessions"], 1);
    assert!(is_live(&world, &other_user.access).await);
}

#[tokio::test]
async fn a_missing_token_is_5106() {
    let world = World::new().await;
    let endpoint = world.logout();
    let answer = call(&endpoint, &logout_event(None, None)).await;
    assert_refused(&answer, 200, 5106, "Please enter token", "");
    for blank in ["", "  ", "Bearer", "Bearer   "] {
        let answer = logout(&world, blank, None).await;
        assert_refused(&answer, 200, 5106, "Please enter token", "");
    }
    // The token in the URL is not read.
    let tokens = world.sign_in().await;
    let in_query = RestEvent::new("DELETE", LOGOUT_ROUTE)
        .query(&[("accessToken", tokens.access.as_str())])
        .to_json();
    let answer = call(&endpoint, &in_query).await;
    assert_refused(&answer, 200, 5106, "Please enter token", "");
    assert!(is_live(&world, &tokens.access).await);
}

#[tokio::test]
async fn a_bad_header_or_scope_is_4001() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    let endpoint = world.logout();
    // Two tokens, whichever comes first: the request is ambiguous, and revokes nothing.
    for (first, second) in [
        (bearer(&tokens), "Bearer garbage".to_owned()),
        ("Bearer garbage".to_owned(), bearer(&tokens)),
    ] {
        let twice = RestEvent::new("DELETE", LOGOUT_ROUTE)
            .header("Authorization", &first)
            .header("Authorization", &second)
            .to_json();
        let answer = call(&endpoint, &twice).await;
        assert_refused(
            &answer,
            200,
            4001,
            "Parameter format incorrect",
            "Authorization",
        );
    }
    let long = format!("Bearer {}", "a".repeat(4090));
    let answer = logout(&world, &long, None).await;
    assert_refused(
        &answer,
        200,
        4001,
        "Parameter format incorrect",
        "Authorization",
    );

    for scope in ["", "all", "Global", "local "] {
        let answer = logout(&world, &bearer(&tokens), Some(scope)).await;
        assert_refused(&answer, 200, 4001, "Parameter format incorrect", "scope");
    }
    let scope_twice = RestEvent::new("DELETE", LOGOUT_ROUTE)
        .header("Authorization", &bearer(&tokens))
        .query(&[("scope", "local"), ("scope", "local")])
        .to_json();
    let answer = call(&endpoint, &scope_twice).await;
    assert_refused(&answer, 200, 4001, "Parameter format incorrect", "scope");
    // Presence before format, format before liveness.
    let answer = call(&endpoint, &logout_event(None, Some("all"))).await;
    assert_refused(&answer, 200, 5106, "Please enter token", "");
    let answer = logout(&world, "garbage", Some("all")).await;
    assert_refused(&answer, 200, 4001, "Parameter format incorrect", "scope");
    assert!(is_live(&world, &tokens.access).await, "nothing was revoked");
}

#[tokio::test]
async fn a_token_that_is_not_live_is_5032_with_its_reason() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    let (head, _) = tokens.access.rsplit_once('.').expect("route");
    let forged = format!("Bearer {head}.{}", "B".repeat(43));
    for header in [
        forged,
        "Bearer garbage".to_owned(),
        format!("Bearer {}", tokens.refresh),
    ] {
        let answer = logout(&world, &header, Some("global")).await;
        assert_refused(&answer, 200, 5032, VERIFICATION_FAILED, "invalid");
    }
    // None of them revoked anything.
    assert_eq!(session_status(&world, &tokens).await.0, "active");

    // Superseded by a refresh.
    let (status, body) = refresh(&world, &tokens.refresh).await;
    let rotated = Tokens::from_answer(status, &body);
    let answer = logout(&world, &bearer(&tokens), None).await;
    assert_refused(&answer, 200, 5032, VERIFICATION_FAILED, "revoked");

    // Expired, though DynamoDB has not deleted it.
    world.clock.advance(7200);
    let answer = logout(&world, &bearer(&rotated), None).await;
    assert_refused(&answer, 200, 5032, VERIFICATION_FAILED, "expired");
    assert_eq!(session_status(&world, &rotated).await.0, "active");
}

#[tokio::test]
async fn request_counts_are_two_plus_one_write_per_session_ended() {
    let world = World::new().await;
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let endpoint = world.logout_with(world.store_via(&proxy.url(), Limits::default()));
    let tokens = world.sign_in().await;
    let (_, body) = call(&endpoint, &logout_event(Some(&bearer(&tokens)), None)).await;
    assert_eq!(body["code"], 200);
    assert_eq!(proxy.operations(), ["BatchGetItem", "UpdateItem"]);

    // The token's read, the listing of the user's active sessions, then each session's write.
    for (scope, writes) in [("global", 3), ("others", 2)] {
        let keep = world.sign_in().await;
        world.sign_in().await;
        world.sign_in().await;
        let before = proxy.requests();
        let (_, body) = call(&endpoint, &logout_event(Some(&bearer(&keep)), Some(scope))).await;
        assert_eq!(body["data"]["revokedSessions"], writes, "{body}");
        let mut expected = vec!["BatchGetItem", "Query"];
        expected.extend(std::iter::repeat_n("UpdateItem", writes));
        assert_eq!(proxy.operations()[before..], expected, "{scope}");
    }
}

#[tokio::test]
async fn global_ends_the_caps_worth_of_sessions_within_the_deadline_though_one_changes() {
    let world = World::new().await;
    let mut all = Vec::new();
    for _ in 0..world.max_sessions {
        all.push(world.sign_in().await);
    }
    let (keep, changed) = (&all[0], &all[50]);
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    // The functions' own limits, and the deadline Lambda gives them.
    let endpoint = world.logout_with(world.store_via(&proxy.url(), Limits::default()));
    let deadline = twitter_auth_admin::template::Template::shipped()
        .function_timeout()
        .expect("Timeout");
    // The first writes wait a moment, and meanwhile another device of the user signs out.
    proxy.inject_times(
        "UpdateItem",
        Fault::Delay(std::time::Duration::from_millis(300)),
        twitter_auth_login::endpoints::revoking::CONCURRENCY,
    );
    let global = logout_event(Some(&bearer(keep)), Some("global"));
    let meanwhile = async {
        while !proxy.operations().iter().any(|op| op == "UpdateItem") {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let (_, body) = logout(&world, &bearer(changed), None).await;
        assert_eq!(body["data"]["revokedSessions"], 1, "{body}");
    };
    let ((status, body), ()) =
        tokio::join!(call_before(&endpoint, &global, Some(deadline)), meanwhile);
    assert_eq!((status, body["code"].as_u64()), (200, Some(200)), "{body}");
    // The changed one was ended already: it is not counted, and it cancelled nothing.
    assert_eq!(body["data"]["revokedSessions"], world.max_sessions - 1);
    let sessions = world.items(Table::Session).await;
    assert_eq!(sessions.len() as u64, world.max_sessions);
    for session in &sessions {
        assert_eq!(string_attr(session, "status"), "revoked", "{session:?}");
        assert_eq!(string_attr(session, "revokedReason"), "logout");
        assert!(!session.contains_key("activeSince"), "left the index");
    }
    let operations = proxy.operations();
    let writes = operations.iter().filter(|op| *op == "UpdateItem").count();
    assert_eq!(writes as u64, world.max_sessions, "one write per session");
    for tokens in [keep, changed, &all[99]] {
        assert!(!is_live(&world, &tokens.access).await);
    }
}
