//! The HTTP edge: both API Gateway event kinds, login checks 1 to 7 through real events, and
//! the response's shape and headers on every endpoint.

use serde_json::{Value, json};
use testkit::events::{REFRESH_ROUTE, RestEvent, http_api_event, rest_event};
use testkit::prelude::*;

use crate::{assert_nothing_written, login};

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

#[tokio::test]
async fn an_http_api_v2_event_logs_in_and_gets_a_v2_response() {
    let world = World::new().await;
    let event = http_api_event(&encode(&world.login_params()));
    let payload = serde_json::value::RawValue::from_string(event).expect("raw");
    let response =
        twitter_auth_login::http::edge::invoke(&world.login(), &payload, context()).await;
    let response = serde_json::to_value(&response).expect("json");
    // HTTP API responses carry plain headers; REST responses carry multiValueHeaders.
    assert_eq!(response["statusCode"], 200);
    assert_eq!(response["headers"]["content-type"], "application/json");
    assert_eq!(response["isBase64Encoded"], false);
    let body: Value = serde_json::from_str(response["body"].as_str().expect("body")).expect("json");
    Tokens::from_answer(200, &body);
}

#[tokio::test]
async fn a_rest_event_gets_a_rest_response() {
    let world = World::new().await;
    let payload =
        serde_json::value::RawValue::from_string(rest_event(&world.login_params())).expect("raw");
    let response =
        twitter_auth_login::http::edge::invoke(&world.login(), &payload, context()).await;
    let response = serde_json::to_value(&response).expect("json");
    assert_eq!(response["statusCode"], 200);
    assert_eq!(
        response["multiValueHeaders"]["content-type"],
        json!(["application/json"])
    );
    assert_eq!(
        response["multiValueHeaders"]["cache-control"],
        json!(["no-store"])
    );
    assert_eq!(response["headers"], json!({}));
}

#[tokio::test]
async fn a_repeated_parameter_in_a_v2_query_is_4001() {
    let world = World::new().await;
    let raw = format!("{}&appId=second", encode(&world.login_params()));
    let (status, body) = call(&world.login(), &http_api_event(&raw)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"code": 4001, "msg": "Parameter format incorrect", "extMsg": "appId", "data": null})
    );
    assert_nothing_written(&world).await;
}

#[tokio::test]
async fn a_repeated_parameter_in_a_v1_query_is_4001() {
    let world = World::new().await;
    let mut params = world.login_params();
    params.push(("oauthToken".into(), OAUTH_TOKEN.into()));
    let (_, body) = login(&world, &params).await;
    assert_eq!(body["code"], 4001);
    assert_eq!(body["extMsg"], "oauthToken");
}

#[tokio::test]
async fn login_checks_one_to_seven_answer_through_events_before_any_io() {
    let world = World::new().await;
    let valid = world.login_params();
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
        let (status, body) = login(&world, &params).await;
        assert_eq!(
            body,
            json!({"code": code, "msg": msg, "extMsg": ext, "data": null}),
            "{params:?}"
        );
        assert_eq!(status, 200);
    }
    assert_eq!(world.twitter.requests(), 0);
    assert_nothing_written(&world).await;
}

#[tokio::test]
async fn login_parameters_in_the_body_are_not_read() {
    let world = World::new().await;
    let event = RestEvent::new("POST", testkit::events::LOGIN_ROUTE)
        .form(&world.login_params())
        .to_json();
    let (_, body) = call(&world.login(), &event).await;
    assert_eq!(body["code"], 5023);
}

#[tokio::test]
async fn every_answer_of_every_endpoint_is_json_and_not_cacheable() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    let answers = vec![
        call_whole(&world.login(), &rest_event(&world.login_params())).await,
        call_whole(&world.login(), &rest_event::<&str, &str>(&[])).await,
        call_whole(&world.refresh(), &refresh_event(&tokens.refresh)).await,
        call_whole(
            &world.refresh(),
            &RestEvent::new("PUT", REFRESH_ROUTE).to_json(),
        )
        .await,
        call_whole(&world.user_info(), &user_info_event(&tokens.uid)).await,
        call_whole(&world.user_info(), &user_info_event("nobody")).await,
        call_whole(&world.logout(), &logout_event(Some(&tokens.access), None)).await,
        call_whole(&world.logout(), &logout_event(None, None)).await,
    ];
    for (status, headers, body) in answers {
        assert_eq!(headers["content-type"], "application/json", "{body}");
        assert_eq!(headers["cache-control"], "no-store", "{body}");
        assert!(body["code"].is_u64() && body["msg"].is_string(), "{body}");
        assert!(body["extMsg"].is_string(), "{body}");
        assert_eq!(body["code"] == 200, !body["data"].is_null(), "{body}");
        assert_eq!(status, 200, "{body}");
    }
}

/// The request lines (one per request) written while `work` runs on this thread.
async fn logged<F: std::future::Future>(work: F) -> (F::Output, Vec<Value>) {
    let (output, lines) = testkit::capture::logged(work).await;
    let requests = lines
        .into_iter()
        .filter(|l: &Value| l.get("request_id").is_some())
        .collect();
    (output, requests)
}

#[tokio::test]
async fn a_forged_token_names_no_one_in_the_log() {
    let world = World::new().await;
    let victim = world.sign_in().await;
    // Well formed, the victim's route in front, but a secret nobody issued.
    let (route, _) = victim.refresh.rsplit_once('.').expect("a route");
    let forged = format!("{route}.{}", "A".repeat(43));
    let ((_, refreshed), lines) = logged(call(&world.refresh(), &refresh_event(&forged))).await;
    assert_eq!(refreshed["extMsg"], "invalid", "{refreshed}");
    let authorization = format!("Bearer {route}.{}", "B".repeat(43));
    let ((_, logged_out), logout_lines) = logged(call(
        &world.logout(),
        &logout_event(Some(&authorization), None),
    ))
    .await;
    assert_eq!(logged_out["extMsg"], "invalid", "{logged_out}");
    for line in lines.iter().chain(&logout_lines) {
        assert_eq!(line["uid"], "", "{line}");
        assert_eq!(line["session_id"], "", "{line}");
        assert_eq!(line["user_domain"], "", "{line}");
        assert_eq!(line["route"], "unverified", "{line}");
    }
    assert_eq!((lines.len(), logout_lines.len()), (1, 1));

    // The victim's own token, refused once its session is gone, is named: it is ours.
    let ((_, reused), lines) = logged(call(
        &world.logout(),
        &logout_event(Some(&format!("Bearer {}", victim.access)), None),
    ))
    .await;
    assert_eq!(reused["code"], 200, "{reused}");
    assert_eq!(lines[0]["uid"], victim.uid.as_str());
    assert_eq!(lines[0]["route"], "verified");
}
