//! The HTTP edge: both API Gateway event kinds, checks 1 to 7 through real events, the
//! response headers.

mod common;

use common::*;
use serde_json::{Value, json};
use testkit::events::http_api_event;

fn encode(params: &[(String, String)]) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn call_v2(handler: &TestHandler, raw_query: &str) -> (u16, Value) {
    let request = lambda_http::request::from_str(&http_api_event(raw_query)).expect("v2 event");
    envelope_of(handler.handle(request).await)
}

#[tokio::test]
async fn an_http_api_v2_event_logs_in() {
    let world = World::new().await;
    let (status, body) = call_v2(&world.handler, &encode(&world.valid_params())).await;
    assert_eq!((status, body["code"].as_u64()), (200, Some(200)), "{body}");
    assert_eq!(world.token_items().await.len(), 2);
}

#[tokio::test]
async fn a_repeated_parameter_in_a_v2_query_is_4001() {
    let world = World::new().await;
    let raw = format!("{}&appId=second", encode(&world.valid_params()));
    let (status, body) = call_v2(&world.handler, &raw).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"code": 4001, "msg": "Parameter format incorrect", "extMsg": "appId", "data": null})
    );
    assert!(world.token_items().await.is_empty());
}

#[tokio::test]
async fn a_repeated_parameter_in_a_v1_query_is_4001() {
    let world = World::new().await;
    let mut params = world.valid_params();
    params.push(("oauthToken".into(), OAUTH_TOKEN.into()));
    let (_, body) = world.call(&params).await;
    assert_eq!(body["code"], 4001);
    assert_eq!(body["extMsg"], "oauthToken");
}

#[tokio::test]
async fn checks_one_to_seven_answer_through_events_before_any_io() {
    let world = World::new().await;
    let valid = world.valid_params();
    let without = |name: &str| {
        valid
            .iter()
            .filter(|(k, _)| k != name)
            .cloned()
            .collect::<Vec<_>>()
    };
    let cases: Vec<(Params, u64, &str, &str)> = vec![
        (vec![], 5023, "Please enter user domain", ""),
        (
            with(&valid, "userDomain", "   "),
            5023,
            "Please enter user domain",
            "",
        ),
        (
            with(&valid, "userDomain", "c.dm.5903"),
            5013,
            "User domain format incorrect",
            "",
        ),
        (without("oauthToken"), 5569, "Please enter oauthToken", ""),
        (
            without("oauthTokenSecret"),
            5570,
            "Please enter oauthTokenSecret",
            "",
        ),
        (without("appId"), 5218, "Please enter appId", ""),
        (without("signature"), 5550, "Please enter signature", ""),
        (
            with(&valid, "mcc", "abc"),
            4001,
            "Parameter format incorrect",
            "mcc",
        ),
        (
            with(&valid, "oauthTokenSecret", &"s".repeat(1025)),
            4001,
            "Parameter format incorrect",
            "oauthTokenSecret",
        ),
    ];
    for (params, code, msg, ext) in cases {
        let (status, body) = world.call(&params).await;
        assert_eq!(
            body,
            json!({"code": code, "msg": msg, "extMsg": ext, "data": null}),
            "{params:?}"
        );
        assert_eq!(status, 200);
    }
    assert_eq!(world.twitter.requests(), 0);
    assert!(world.token_items().await.is_empty());
}

#[tokio::test]
async fn parameters_in_the_body_are_not_read() {
    let world = World::new().await;
    let mut event: Value = serde_json::from_str(&rest_event::<&str, &str>(&[])).expect("event");
    event["body"] = Value::String(encode(&world.valid_params()));
    event["headers"]["Content-Type"] = Value::String("application/x-www-form-urlencoded".into());
    let request = lambda_http::request::from_str(&event.to_string()).expect("event");
    let (_, body) = envelope_of(world.handler.handle(request).await);
    assert_eq!(body["code"], 5023);
}

#[tokio::test]
async fn every_answer_is_json_and_not_cacheable() {
    let world = World::new().await;
    for params in [world.valid_params(), vec![]] {
        let request = lambda_http::request::from_str(&rest_event(&params)).expect("event");
        let response = world.handler.handle(request).await;
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
}
