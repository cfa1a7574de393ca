//! The operations, each driven through its cases.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use testkit::events::RestEvent;
use testkit::prelude::*;
use testkit::twitter::Mode;
use twitter_auth_login::config::Table;
use twitter_auth_login::keys::jwk::KeyStatus;

use super::harness::{Answer, Call, Harness, refused, throttled};

#[tokio::test]
async fn twitter_auth_login_answers_as_documented() {
    let mut h = Harness::new().await;
    let id = "twitterAuthLogin";
    let valid = h.world.login_params();
    let without =
        |name: &str| -> Params { valid.iter().filter(|(k, _)| k != name).cloned().collect() };
    let signed = |app: &str, token: &str, secret: &str| {
        signed_params(DOMAIN, app, token, secret, &h.world.domain_secret)
    };

    let local = LOCAL_MCC.to_string();
    let foreign = FOREIGN_MCC.to_string();
    let long = "t".repeat(1025);
    let cases: [(&str, Params, i64, &str); 17] = [
        ("a valid login", valid.clone(), 200, ""),
        ("a local mcc", with(&valid, "mcc", &local), 200, ""),
        ("no userDomain", without("userDomain"), 5023, ""),
        (
            "a blank userDomain",
            with(&valid, "userDomain", " \t"),
            5023,
            "",
        ),
        (
            "a malformed userDomain",
            with(&valid, "userDomain", "c.dm.5903"),
            5013,
            "",
        ),
        ("no oauthToken", without("oauthToken"), 5569, ""),
        ("no oauthTokenSecret", without("oauthTokenSecret"), 5570, ""),
        ("no appId", without("appId"), 5218, ""),
        ("no signature", without("signature"), 5550, ""),
        (
            "mcc not an int32",
            with(&valid, "mcc", "2147483648"),
            4001,
            "mcc",
        ),
        (
            "a long oauthToken",
            with(&valid, "oauthToken", &long),
            4001,
            "oauthToken",
        ),
        (
            "an unknown user domain",
            with(&valid, "userDomain", "C.DM.1"),
            5015,
            "",
        ),
        (
            "a wrong signature",
            with(&valid, "signature", &"0".repeat(64)),
            5420,
            "",
        ),
        (
            "another app",
            signed("another-app", OAUTH_TOKEN, OAUTH_TOKEN_SECRET),
            5574,
            "",
        ),
        (
            "an mcc without a route",
            with(&valid, "mcc", "999"),
            6085,
            "",
        ),
        (
            "an mcc routed elsewhere",
            with(&valid, "mcc", &foreign),
            6084,
            "",
        ),
        (
            "a token Twitter refuses",
            signed(APP_ID, "999-unknown", "nope"),
            5368,
            "",
        ),
    ];
    for (case, params, code, ext) in cases {
        h.case(case, id, Call::query(&params), code, ext).await;
    }
    for name in [
        "userDomain",
        "oauthToken",
        "oauthTokenSecret",
        "appId",
        "signature",
        "mcc",
    ] {
        let mut twice = with(&valid, "mcc", &local);
        let again = twice
            .iter()
            .find(|(k, _)| k == name)
            .cloned()
            .expect("given");
        twice.push(again);
        let case = format!("{name} given twice");
        h.case(&case, id, Call::query(&twice), 4001, name).await;
    }

    h.set_enabled(false).await;
    h.case("a disabled user domain", id, Call::query(&valid), 5104, "")
        .await;
    h.set_enabled(true).await;

    // Twitter's answers.
    h.world
        .twitter
        .set_mode(Mode::VerifyThenBody(r#"{"data":{"name":"no id"}}"#.into()));
    h.case("Twitter names no user", id, Call::query(&valid), 5369, "")
        .await;
    for status in [503, 429] {
        h.world.twitter.set_mode(Mode::Status(status));
        let case = format!("Twitter answers {status}");
        h.case(&case, id, Call::query(&valid), 5367, "").await;
    }
    h.world.twitter.set_mode(Mode::Verify);

    // DynamoDB, and what is stored.
    let call = Call::query(&valid);
    h.dynamodb_faults(id, call.clone()).await;
    let domain = [("userDomain", DOMAIN)];
    let not_bool = [("enabled", AttributeValue::S("true".into()))];
    h.world.set(Table::UserDomain, &domain, &not_bool).await;
    h.case("a misprovisioned user domain", id, call.clone(), 5000, "")
        .await;
    h.set_enabled(true).await;

    let body = h.case("a login once healed", id, call, 200, "").await;
    Tokens::from_answer(200, &body);
    h.assert_covered(id);
}

#[tokio::test]
async fn refresh_token_answers_as_documented() {
    let mut h = Harness::new().await;
    let id = "refreshToken";
    let form = |token: &str| Call::default().form("refreshToken", token);

    let first = h.sign_in().await;
    h.case("in a form body", id, form(&first.refresh), 200, "")
        .await;
    // The retry's pair replaces the first answer's: only the pair answered last is live.
    let body = h
        .case(
            "retried within the grace window",
            id,
            form(&first.refresh),
            200,
            "",
        )
        .await;
    let second = Tokens::from_answer(200, &body);
    let query = Call::default().param("refreshToken", &second.refresh);
    let body = h.case("in the query string", id, query, 200, "").await;
    let third = Tokens::from_answer(200, &body);

    h.case("no token", id, Call::default(), 5106, "").await;
    h.case("a blank token", id, form("  "), 5106, "").await;
    let both = form(&third.refresh).param("refreshToken", &third.refresh);
    h.case("in the query and the body", id, both, 4001, "refreshToken")
        .await;
    h.case(
        "over 1024 bytes",
        id,
        form(&"r".repeat(1025)),
        4001,
        "refreshToken",
    )
    .await;
    h.case("not a token", id, form("garbage"), 5032, "invalid")
        .await;
    h.case("an access token", id, form(&third.access), 5032, "invalid")
        .await;

    let ended = h.sign_in().await;
    h.case(
        "logout first",
        "userLogout",
        Call::bearer(&ended.access),
        200,
        "",
    )
    .await;
    h.case(
        "its session ended",
        id,
        form(&ended.refresh),
        5032,
        "revoked",
    )
    .await;

    let rotated = h.sign_in().await;
    h.case("rotate", id, form(&rotated.refresh), 200, "").await;
    h.world.clock.advance(h.world.refresh_reuse_grace);
    h.case(
        "reused after the grace window",
        id,
        form(&rotated.refresh),
        5032,
        "reused",
    )
    .await;

    let live = h.sign_in().await;
    h.set_enabled(false).await;
    h.case(
        "its user domain disabled",
        id,
        form(&live.refresh),
        5104,
        "",
    )
    .await;
    h.set_enabled(true).await;
    h.dynamodb_faults(id, form(&live.refresh)).await;

    h.world.clock.advance(h.world.lifetimes.refresh_token_ttl);
    h.case("expired", id, form(&live.refresh), 5032, "expired")
        .await;

    // Last: the user domain goes away.
    let orphan = h.sign_in().await;
    h.world
        .client
        .delete_item()
        .table_name(h.world.tables.get(Table::UserDomain).expect("table"))
        .key("userDomain", AttributeValue::S(DOMAIN.into()))
        .send()
        .await
        .expect("delete the user domain");
    h.case("its user domain gone", id, form(&orphan.refresh), 5015, "")
        .await;
    h.assert_covered(id);
}

#[tokio::test]
async fn user_logout_answers_as_documented() {
    let mut h = Harness::new().await;
    let id = "userLogout";

    let first = h.sign_in().await;
    let body = h
        .case("a Bearer token", id, Call::bearer(&first.access), 200, "")
        .await;
    assert_eq!(body["data"]["revokedSessions"], 1);
    h.case(
        "the same token again",
        id,
        Call::bearer(&first.access),
        5032,
        "revoked",
    )
    .await;

    let raw = h.sign_in().await;
    let call = Call::default()
        .header("Authorization", &raw.access)
        .param("scope", "local");
    h.case("a raw token, scope=local", id, call, 200, "").await;

    let (keep, other) = (h.sign_in().await, h.sign_in().await);
    let call = Call::bearer(&keep.access).param("scope", "others");
    let body = h.case("scope=others", id, call, 200, "").await;
    assert_eq!(body["data"]["revokedSessions"], 1);
    h.case(
        "a session ended by others",
        id,
        Call::bearer(&other.access),
        5032,
        "revoked",
    )
    .await;
    let last = h.sign_in().await;
    let call = Call::bearer(&last.access).param("scope", "global");
    let body = h.case("scope=global", id, call, 200, "").await;
    assert_eq!(
        body["data"]["revokedSessions"], 2,
        "this one and the one kept"
    );

    let live = h.sign_in().await;
    h.case("no Authorization", id, Call::default(), 5106, "")
        .await;
    let blank = Call::default().header("Authorization", "Bearer ");
    h.case("Bearer and no token", id, blank, 5106, "").await;
    let long = Call::bearer(&"a".repeat(4100));
    h.case(
        "Authorization over 4096 bytes",
        id,
        long,
        4001,
        "Authorization",
    )
    .await;
    for scope in [vec!["all"], vec![""], vec!["local", "local"]] {
        let mut call = Call::bearer(&live.access);
        for value in &scope {
            call = call.param("scope", value);
        }
        h.case(&format!("scope {scope:?}"), id, call, 4001, "scope")
            .await;
    }
    h.case("not a token", id, Call::bearer("garbage"), 5032, "invalid")
        .await;
    h.case(
        "a refresh token",
        id,
        Call::bearer(&live.refresh),
        5032,
        "invalid",
    )
    .await;

    let call = Call::bearer(&live.access);
    h.dynamodb_faults(id, call.clone()).await;
    h.world.clock.advance(h.world.lifetimes.access_token_ttl);
    h.case("expired", id, call, 5032, "expired").await;
    h.assert_covered(id);
}

#[tokio::test]
async fn user_info_answers_as_documented() {
    let mut h = Harness::new().await;
    let id = "userInfo";

    let tokens = h.sign_in().await;
    let body = h
        .case("a Bearer token", id, Call::bearer(&tokens.access), 200, "")
        .await;
    assert_eq!(body["data"]["uid"], tokens.uid.as_str());
    assert_eq!(body["data"]["twitterUsername"], TWITTER_USERNAME);
    let raw = Call::default().header("Authorization", &tokens.access);
    h.case("a raw token", id, raw, 200, "").await;

    // A Twitter user without a handle: twitterUsername is null.
    h.world
        .twitter
        .set_mode(Mode::VerifyThenBody(r#"{"data":{"id":"4242"}}"#.into()));
    let nameless = h.sign_in().await;
    h.world.twitter.set_mode(Mode::Verify);
    let body = h
        .case("no handle", id, Call::bearer(&nameless.access), 200, "")
        .await;
    assert_eq!(body["data"]["twitterUsername"], Value::Null);

    // Refused by the authorizer: the gateway responses.
    h.case("no Authorization", id, Call::default(), 5032, "")
        .await;
    h.case("not a token", id, Call::bearer("garbage"), 5032, "")
        .await;
    h.case(
        "a refresh token",
        id,
        Call::bearer(&tokens.refresh),
        5032,
        "",
    )
    .await;
    h.set_enabled(false).await;
    h.case(
        "its user domain disabled",
        id,
        Call::bearer(&tokens.access),
        5032,
        "",
    )
    .await;
    h.set_enabled(true).await;

    let call = Call::bearer(&tokens.access);
    // The authorizer reads with BatchGetItem, the function with GetItem.
    let fault = (Some("BatchGetItem"), throttled());
    h.case_with_fault("the authorizer's read fails", id, call.clone(), fault, 5001)
        .await;
    let fault = (Some("GetItem"), throttled());
    h.case_with_fault("the function's read fails", id, call.clone(), fault, 5001)
        .await;
    let fault = (Some("GetItem"), refused());
    h.case_with_fault("DynamoDB refuses the read", id, call.clone(), fault, 5000)
        .await;

    // A route deployed without its authorizer: no context, a server fault.
    let path = h.contract.operation(id).path.clone();
    let bare = RestEvent::new("GET", &path).to_json();
    let (status, headers, body) = call_whole(&h.world.user_info(), &bare).await;
    let answer = Answer {
        status,
        headers: headers.into_iter().map(|(k, v)| (k, vec![v])).collect(),
        body,
    };
    h.record("no authorizer context", id, &answer, 5000, "");

    h.world
        .client
        .delete_item()
        .table_name(h.world.tables.get(Table::User).expect("table"))
        .key("uid", AttributeValue::S(tokens.uid.clone()))
        .send()
        .await
        .expect("delete the user");
    h.case("a user without a record", id, call.clone(), 5033, "")
        .await;

    h.case("logout", "userLogout", call.clone(), 200, "").await;
    h.case("a revoked token", id, call, 5032, "").await;
    h.assert_covered(id);
}

#[tokio::test]
async fn discovery_answers_as_documented() {
    let mut h = Harness::with_own_keys().await;

    // Cold, with the keys out of reach or a parameter that is no key set: 503.
    h.case_with_keys_down("the keys cannot be read", "jwks", Call::default(), 5001)
        .await;
    let parameters = testkit::keys::parameters_client(&h.world.endpoint, PATIENT);
    let name = h.world.keys.public_parameter.clone();
    let publish = |value: String| {
        parameters
            .put_parameter()
            .name(&name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
    };
    let published = parameters
        .get_parameter()
        .name(&name)
        .send()
        .await
        .expect("the published keys")
        .parameter
        .and_then(|p| p.value)
        .expect("a value");
    publish("not a key set".to_owned()).await.expect("put");
    h.case(
        "what is published is no key set",
        "jwks",
        Call::default(),
        5001,
        "",
    )
    .await;
    publish(published).await.expect("put");

    let body = h
        .case("the published keys", "jwks", Call::default(), 200, "")
        .await;
    let kids: Vec<&str> = body["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|key| key["kid"].as_str())
        .collect();
    let current = h.world.keys.key(KeyStatus::Current).await.kid;
    let next = h.world.keys.key(KeyStatus::Next).await.kid;
    assert_eq!(kids, [current.as_str(), next.as_str()]);

    let body = h
        .case(
            "the document",
            "openidConfiguration",
            Call::default(),
            200,
            "",
        )
        .await;
    assert_eq!(body["issuer"], h.world.issuer.as_str());
    assert_eq!(
        body["jwks_uri"],
        format!("{}/.well-known/jwks.json", h.world.issuer)
    );
    h.assert_covered("jwks");
    h.assert_covered("openidConfiguration");
}

/// A request that never passed the authorizer, straight to the function: a server fault.
async fn without_authorizer<E: twitter_auth_login::http::Endpoint>(
    h: &mut Harness,
    id: &str,
    endpoint: &E,
    event: RestEvent,
) {
    let (status, headers, body) = call_whole(endpoint, &event.to_json()).await;
    let answer = Answer {
        status,
        headers: headers.into_iter().map(|(k, v)| (k, vec![v])).collect(),
        body,
    };
    h.record("no authorizer context", id, &answer, 5000, "");
}

#[tokio::test]
async fn list_sessions_answers_as_documented() {
    let mut world = World::new().await;
    // Room for more than a page of live sessions.
    world.max_sessions = 150;
    let mut h = Harness::with(world).await;
    let id = "listSessions";

    let tokens = h.sign_in().await;
    let body = h
        .case("a Bearer token", id, Call::bearer(&tokens.access), 200, "")
        .await;
    assert_eq!(body["data"]["sessions"][0]["current"], true, "{body}");
    assert!(body["data"].get("nextPageToken").is_none(), "{body}");
    let raw = Call::default().header("Authorization", &tokens.access);
    h.case("a raw token", id, raw, 200, "").await;

    for _ in 0..100 {
        h.world.sign_in().await;
    }
    let body = h
        .case("a full page", id, Call::bearer(&tokens.access), 200, "")
        .await;
    let next = body["data"]["nextPageToken"]
        .as_str()
        .expect("more remain")
        .to_owned();
    let page = Call::bearer(&tokens.access).param("nextPageToken", &next);
    let body = h.case("the next page", id, page, 200, "").await;
    assert_eq!(body["data"]["sessions"].as_array().map(Vec::len), Some(1));

    for (case, call) in [
        (
            "not a page token",
            Call::bearer(&tokens.access).param("nextPageToken", "garbage"),
        ),
        (
            "an empty page token",
            Call::bearer(&tokens.access).param("nextPageToken", ""),
        ),
        (
            "the page token twice",
            Call::bearer(&tokens.access)
                .param("nextPageToken", &next)
                .param("nextPageToken", &next),
        ),
    ] {
        h.case(case, id, call, 4001, "nextPageToken").await;
    }

    // Refused by the authorizer: the gateway responses.
    h.case("no Authorization", id, Call::default(), 5032, "")
        .await;
    h.case("not a token", id, Call::bearer("garbage"), 5032, "")
        .await;
    h.set_enabled(false).await;
    let call = Call::bearer(&tokens.access);
    h.case("its user domain disabled", id, call.clone(), 5032, "")
        .await;
    h.set_enabled(true).await;

    let fault = (Some("BatchGetItem"), throttled());
    h.case_with_fault("the authorizer's read fails", id, call.clone(), fault, 5001)
        .await;
    let fault = (Some("Query"), throttled());
    h.case_with_fault("the function's read fails", id, call.clone(), fault, 5001)
        .await;
    let fault = (Some("Query"), refused());
    h.case_with_fault("DynamoDB refuses the read", id, call.clone(), fault, 5000)
        .await;

    let path = h.contract.operation(id).path.clone();
    let endpoint = h.world.list_sessions();
    without_authorizer(&mut h, id, &endpoint, RestEvent::new("GET", &path)).await;

    h.case("logout", "userLogout", call.clone(), 200, "").await;
    h.case("a revoked token", id, call, 5032, "").await;
    h.assert_covered(id);
}

#[tokio::test]
async fn end_session_answers_as_documented() {
    let mut h = Harness::new().await;
    let id = "endSession";

    let (mine, other) = (h.sign_in().await, h.sign_in().await);
    let end = |target: &str| Call::bearer(&mine.access).path("sessionId", target);
    let body = h
        .case(
            "another session of mine",
            id,
            end(&other.session_id()),
            200,
            "",
        )
        .await;
    assert_eq!(body["data"]["revokedSessions"], 1);
    let body = h
        .case("the same again", id, end(&other.session_id()), 200, "")
        .await;
    assert_eq!(body["data"]["revokedSessions"], 0);
    let body = h
        .case("an unknown session", id, end(&"A".repeat(22)), 200, "")
        .await;
    assert_eq!(body["data"]["revokedSessions"], 0);

    let too_short = "A".repeat(21);
    let too_long = "A".repeat(23);
    let not_url_safe = format!("{}+", "A".repeat(21));
    let dotted = format!("{}.", "A".repeat(21));
    for (case, target) in [
        ("21 characters", too_short.as_str()),
        ("23 characters", too_long.as_str()),
        ("a character not URL-safe", not_url_safe.as_str()),
        ("a dot", dotted.as_str()),
    ] {
        h.case(case, id, end(target), 4001, "sessionId").await;
    }

    // Refused by the authorizer: the gateway responses.
    let target = other.session_id();
    let anyone = |call: Call| call.path("sessionId", &target);
    h.case("no Authorization", id, anyone(Call::default()), 5032, "")
        .await;
    h.case("not a token", id, anyone(Call::bearer("garbage")), 5032, "")
        .await;
    h.set_enabled(false).await;
    h.case("its user domain disabled", id, end(&target), 5032, "")
        .await;
    h.set_enabled(true).await;

    let fault = (Some("BatchGetItem"), throttled());
    h.case_with_fault("the authorizer's read fails", id, end(&target), fault, 5001)
        .await;
    let fault = (Some("UpdateItem"), throttled());
    h.case_with_fault("the function's write fails", id, end(&target), fault, 5001)
        .await;
    let fault = (Some("UpdateItem"), refused());
    h.case_with_fault("DynamoDB refuses the write", id, end(&target), fault, 5000)
        .await;

    let path = h
        .contract
        .operation(id)
        .path
        .replace("{sessionId}", &target);
    let bare = RestEvent::new("DELETE", &path)
        .resource(&h.contract.operation(id).path)
        .path_parameter("sessionId", &target);
    let endpoint = h.world.end_session();
    without_authorizer(&mut h, id, &endpoint, bare).await;

    // Last, the caller's own session: its token then stops working.
    let body = h
        .case("my own session", id, end(&mine.session_id()), 200, "")
        .await;
    assert_eq!(body["data"]["revokedSessions"], 1);
    h.case("a revoked token", id, end(&target), 5032, "").await;
    h.assert_covered(id);
}
