//! The end user's own sessions: the list (only the live ones, newest first, `current` on the
//! caller's, page by page), ending one of them, and the `User-Agent` each keeps.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use testkit::events::{RestEvent, SESSION_ROUTE, SESSIONS_ROUTE, principal};
use testkit::faulty::FaultyServer;
use testkit::prelude::*;
use twitter_auth_login::config::Table;
use twitter_auth_login::domain::session::clean_user_agent;
use twitter_auth_login::domain::token::random_id;
use twitter_auth_login::dynamo::Limits;

use crate::refresh::is_live;
use crate::{assert_format_incorrect, assert_refused, refresh};

/// The listing of `tokens`' user, asked from their session: its `data`, which must be a success.
async fn listed(world: &World, tokens: &Tokens, page_token: Option<&str>) -> Value {
    let event = list_sessions_event(&tokens.uid, &tokens.session_id(), page_token);
    let (status, body) = call(&world.list_sessions(), &event).await;
    assert_eq!((status, body["code"].as_u64()), (200, Some(200)), "{body}");
    body["data"].clone()
}

/// `from` asks to end `target` (a session id): the answer.
async fn end(world: &World, from: &Tokens, target: &str) -> (u16, Value) {
    let event = end_session_event(&from.uid, &from.session_id(), target);
    call(&world.end_session(), &event).await
}

fn ended(count: u64) -> Value {
    json!({"code": 200, "msg": "success", "extMsg": "", "data": {"revokedSessions": count}})
}

/// Its stored end moved to now, as the passing of time would.
async fn expire(world: &World, tokens: &Tokens) {
    let now = AttributeValue::N(world.clock.get().to_string());
    let key = [
        ("uid", tokens.uid.as_str()),
        ("sessionId", &tokens.session_id()),
    ];
    world
        .set(Table::Session, &key, &[("expirationTime", now)])
        .await;
}

#[tokio::test]
async fn the_list_holds_exactly_the_live_sessions_newest_first() {
    let world = World::new().await;
    let params = world.login_params();
    let t0 = world.clock.get();
    let phone = world.sign_in_as(&params, Some("Phone/1.0")).await;
    world.clock.advance(10);
    let tablet = world.sign_in_as(&params, Some("Tablet/2.0")).await;
    world.clock.advance(10);
    let logged_out = world.sign_in().await;
    world.clock.advance(10);
    let expired = world.sign_in().await;
    world.clock.advance(10);
    let bare = world.sign_in_as(&params, None).await;
    let someone_else = world.sign_in_as(&world.another_account(1), None).await;

    let (_, body) = crate::logout(&world, &format!("Bearer {}", logged_out.access), None).await;
    assert_eq!(body["data"]["revokedSessions"], 1, "{body}");
    expire(&world, &expired).await;
    world.clock.advance(5);
    let (status, body) = refresh(&world, &tablet.refresh).await;
    Tokens::from_answer(status, &body);

    let entry = |tokens: &Tokens, created: u64, used: u64, agent: &str, current: bool| {
        json!({
            "sessionId": tokens.session_id(),
            "appId": APP_ID,
            "createdAt": created,
            "lastUsedAt": used,
            "userAgent": agent,
            "current": current,
        })
    };
    assert_eq!(
        listed(&world, &phone, None).await,
        json!({"sessions": [
            entry(&bare, t0 + 40, t0 + 40, "", false),
            entry(&tablet, t0 + 10, t0 + 45, "Tablet/2.0", false),
            entry(&phone, t0, t0, "Phone/1.0", true),
        ]}),
        "no nextPageToken on the last page"
    );
    // From another of them, that one is current.
    let sessions = listed(&world, &bare, None).await["sessions"].clone();
    let current: Vec<&Value> = sessions
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| &s["current"])
        .collect();
    assert_eq!(current, [&json!(true), &json!(false), &json!(false)]);
    // Everyone sees only their own.
    let theirs = listed(&world, &someone_else, None).await;
    assert_eq!(
        theirs["sessions"].as_array().map(Vec::len),
        Some(1),
        "{theirs}"
    );
    assert_eq!(
        theirs["sessions"][0]["sessionId"],
        someone_else.session_id()
    );
}

#[tokio::test]
async fn pages_past_100_sessions_list_each_once_one_request_per_page() {
    let world = World::new().await;
    let caller = world.sign_in().await;
    let t0 = world.clock.get();
    // Many in the same second: the order still holds, by session id.
    let added = world
        .add_sessions(&caller.uid, 205, |n| t0 - 1 - (n / 3) as u64)
        .await;
    let mut started: Vec<(u64, String)> = added
        .into_iter()
        .enumerate()
        .map(|(n, id)| (t0 - 1 - (n / 3) as u64, id))
        .collect();
    started.push((t0, caller.session_id()));
    started.sort();
    started.reverse();
    let newest_first: Vec<String> = started.into_iter().map(|(_, id)| id).collect();

    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let endpoint = world.list_sessions_with(world.store_via(&proxy.url(), Limits::default()));
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut token: Option<String> = None;
    let mut tokens = Vec::new();
    loop {
        let event = list_sessions_event(&caller.uid, &caller.session_id(), token.as_deref());
        let (status, body) = call(&endpoint, &event).await;
        assert_eq!((status, body["code"].as_u64()), (200, Some(200)), "{body}");
        let page = body["data"]["sessions"]
            .as_array()
            .expect("sessions")
            .clone();
        sizes.push(page.len());
        seen.extend(
            page.iter()
                .map(|s| s["sessionId"].as_str().expect("id").to_owned()),
        );
        match body["data"].get("nextPageToken") {
            Some(next) => {
                token = Some(next.as_str().expect("a string").to_owned());
                tokens.push(token.clone().expect("token"));
            }
            None => break,
        }
    }
    assert_eq!(sizes, [100, 100, 6]);
    assert_eq!(seen, newest_first, "each once, newest first");
    assert_eq!(
        proxy.operations(),
        ["Query", "Query", "Query"],
        "one request a page"
    );

    // A page token of another user's listing, or none of this listing's: 4001, nothing read.
    let other = world.sign_in_as(&world.another_account(1), None).await;
    let before = proxy.requests();
    let encoded = |plain: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(plain)
    };
    let forged_uid = encoded(&format!("s1.{}.1.{}", other.uid, caller.session_id()));
    for (who, bad) in [
        (&other, tokens[0].clone()),
        (&caller, "garbage".to_owned()),
        (&caller, String::new()),
        (&caller, format!("{}=", tokens[0])),
        (
            &caller,
            encoded(&format!("s2.{}.1.{}", caller.uid, caller.session_id())),
        ),
        (&caller, forged_uid),
        (&caller, "n".repeat(2000)),
    ] {
        let event = list_sessions_event(&who.uid, &who.session_id(), Some(&bad));
        let answer = call(&endpoint, &event).await;
        assert_format_incorrect(&answer, "nextPageToken");
    }
    let twice = RestEvent::new("GET", SESSIONS_ROUTE)
        .authorizer(principal(&caller.uid, &caller.session_id()))
        .query(&[("nextPageToken", &tokens[0]), ("nextPageToken", &tokens[0])])
        .to_json();
    let answer = call(&endpoint, &twice).await;
    assert_format_incorrect(&answer, "nextPageToken");
    assert_eq!(proxy.requests(), before, "no request for a refused token");
}

#[tokio::test]
async fn ending_ones_other_session_stops_its_tokens_and_keeps_ones_own() {
    let world = World::new().await;
    let (mine, other) = (world.sign_in().await, world.sign_in().await);
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let endpoint = world.end_session_with(world.store_via(&proxy.url(), Limits::default()));
    let event = end_session_event(&mine.uid, &mine.session_id(), &other.session_id());
    let (status, body) = call(&endpoint, &event).await;
    assert_eq!((status, body), (200, ended(1)));
    assert_eq!(proxy.operations(), ["UpdateItem"], "one conditional write");

    let item = world.session_of(&other).await;
    assert_eq!(string_attr(&item, "status"), "revoked");
    assert_eq!(string_attr(&item, "revokedReason"), "logout");
    assert!(!item.contains_key("activeSince"), "left the index");
    // Its tokens stop working as after a logout: at the authorizer, at refresh.
    assert!(!is_live(&world, &other.access).await);
    assert_refused(
        &refresh(&world, &other.refresh).await,
        200,
        5032,
        "Token verification failed",
        "revoked",
    );
    // The caller's own keeps working.
    assert!(is_live(&world, &mine.access).await);
    let left = listed(&world, &mine, None).await;
    assert_eq!(left["sessions"].as_array().map(Vec::len), Some(1), "{left}");
    let (status, body) = refresh(&world, &mine.refresh).await;
    Tokens::from_answer(status, &body);
}

#[tokio::test]
async fn another_users_unknown_or_ended_sessions_answer_0_and_change_nothing() {
    let world = World::new().await;
    let theirs = world.sign_in_as(&world.another_account(1), None).await;
    let (mine, ended_before) = (world.sign_in().await, world.sign_in().await);
    let stale = world.sign_in().await;
    assert_eq!(
        end(&world, &mine, &ended_before.session_id()).await.1,
        ended(1)
    );
    expire(&world, &stale).await;

    for target in [
        theirs.session_id(),
        random_id().expect("id"),
        ended_before.session_id(),
        stale.session_id(),
    ] {
        assert_eq!(
            end(&world, &mine, &target).await,
            (200, ended(0)),
            "{target}"
        );
    }
    // The other user's session still works, and is as it was.
    assert!(is_live(&world, &theirs.access).await);
    assert_eq!(
        string_attr(&world.session_of(&theirs).await, "status"),
        "active"
    );
    let (status, body) = refresh(&world, &theirs.refresh).await;
    Tokens::from_answer(status, &body);
    // The one past its end was not revoked: it ended by itself.
    let item = world.session_of(&stale).await;
    assert_eq!(string_attr(&item, "status"), "active");
}

#[tokio::test]
async fn a_malformed_session_id_is_4001_and_reads_nothing() {
    let world = World::new().await;
    let mine = world.sign_in().await;
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let endpoint = world.end_session_with(world.store_via(&proxy.url(), Limits::default()));
    let a = |n: usize| "A".repeat(n);
    for bad in [
        String::new(),
        a(21),
        a(23),
        format!("{}+", a(21)),
        format!("{}/", a(21)),
        format!("{}.", a(21)),
        format!("{}=", a(21)),
        "é".repeat(11),
        format!("{} ", a(21)),
    ] {
        let event = end_session_event(&mine.uid, &mine.session_id(), &bad);
        let answer = call(&endpoint, &event).await;
        assert_format_incorrect(&answer, "sessionId");
    }
    // A route that passes no path parameter at all.
    let bare = RestEvent::new("DELETE", SESSIONS_ROUTE)
        .resource(SESSION_ROUTE)
        .authorizer(principal(&mine.uid, &mine.session_id()))
        .to_json();
    let answer = call(&endpoint, &bare).await;
    assert_format_incorrect(&answer, "sessionId");
    assert_eq!(proxy.requests(), 0);
    assert!(is_live(&world, &mine.access).await);
}

#[tokio::test]
async fn without_the_authorizers_context_both_are_a_server_fault() {
    let world = World::new().await;
    let mine = world.sign_in().await;
    let list = RestEvent::new("GET", SESSIONS_ROUTE)
        .query(&[("uid", mine.uid.as_str())])
        .to_json();
    let answer = call(&world.list_sessions(), &list).await;
    assert_refused(&answer, 500, 5000, "Internal error", "");
    // A uid alone is not enough: the caller's session must be named too.
    let half = RestEvent::new("DELETE", &format!("{SESSIONS_ROUTE}/{}", mine.session_id()))
        .resource(SESSION_ROUTE)
        .path_parameter("sessionId", &mine.session_id())
        .authorizer(json!({"principalId": mine.uid, "uid": mine.uid}))
        .to_json();
    let answer = call(&world.end_session(), &half).await;
    assert_refused(&answer, 500, 5000, "Internal error", "");
    assert!(is_live(&world, &mine.access).await);
}

#[tokio::test]
async fn a_user_agent_with_control_characters_or_10_kb_is_kept_cleaned_and_cut() {
    let world = World::new().await;
    let nasty = format!(
        "Mozilla/5.0\t(X11;\u{85} Linux x86_64)\u{9b}31m Gecko/{}",
        "é".repeat(5 * 1024)
    );
    assert!(nasty.len() > 10 * 1024);
    let tokens = world.sign_in_as(&world.login_params(), Some(&nasty)).await;
    let kept = string_attr(&world.session_of(&tokens).await, "userAgent");
    assert_eq!(kept, clean_user_agent(Some(&nasty)));
    assert!(
        kept.starts_with("Mozilla/5.0(X11; Linux x86_64)31m Gecko/é"),
        "{kept}"
    );
    assert!(kept.len() <= 256 && kept.len() > 250, "{}", kept.len());
    assert!(!kept.chars().any(char::is_control));
    let listing = listed(&world, &tokens, None).await;
    assert_eq!(listing["sessions"][0]["userAgent"], kept.as_str());
}
