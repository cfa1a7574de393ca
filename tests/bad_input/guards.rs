//! The edge's two guards, case by case.

use serde_json::{Value, json};
use testkit::events::LOGIN_ROUTE;

use crate::events::{Encoding, Segment, V1Style, http_api_event, json_of, raw_query, rest_event};
use crate::families::{
    BAD_HOSTS, BAD_PROTOS, Family, MAX_URI, Origin, QUERY_BREAKERS, event_origin, families,
    http_api_uri_too_long,
};
use crate::runner::{Reached, run_event, runtime};
use crate::stats::Stats;
use crate::world::{ENABLED, ENABLED_SECRET, Fault, TW_APP, signed};

/// The query of a valid login, as a v2 raw query string.
fn valid_raw_query() -> String {
    let segments: Vec<Segment> = signed(ENABLED, TW_APP, ENABLED_SECRET)
        .into_iter()
        .map(|(k, v)| Segment::Pair(k, v, Encoding::Form))
        .collect();
    raw_query(&segments)
}

fn valid_rest_event() -> Value {
    json_of(&rest_event(&signed(ENABLED, TW_APP, ENABLED_SECRET), V1Style::Both).0)
}

fn valid_http_api_event() -> Value {
    json_of(&http_api_event(&valid_raw_query()))
}

/// A valid login event of either kind, changed.
fn changed(origin: Origin, change: impl FnOnce(&mut Value)) -> (Origin, Value) {
    let mut event = match origin {
        Origin::Rest => valid_rest_event(),
        Origin::HttpApi => valid_http_api_event(),
    };
    change(&mut event);
    (origin, event)
}

/// Runs one hand-written payload; a failure names it.
fn run_case(rt: &tokio::runtime::Runtime, name: &str, payload: &str, stats: &Stats) -> Reached {
    match run_event(rt, Fault::None, payload, event_origin(payload), stats) {
        Ok(reached) => reached,
        Err(error) => panic!("{name}: {error}"),
    }
}

#[test]
fn each_malformed_family_answers_4001_with_http_200() {
    let rt = runtime();
    let stats = Stats::default();
    let long = "p".repeat(MAX_URI + 10);
    let mut cases: Vec<(String, Family, (Origin, Value))> = Vec::new();
    for breaker in QUERY_BREAKERS {
        let raw = format!("{}&note=a{breaker}b", valid_raw_query());
        cases.push((
            format!("raw query holding {breaker:?}"),
            Family::QueryChar,
            changed(Origin::HttpApi, |e| e["rawQueryString"] = json!(raw)),
        ));
    }
    let long_query = format!("{}&pad={long}", valid_raw_query());
    cases.push((
        "raw query over 64 KB".into(),
        Family::LongUri,
        changed(Origin::HttpApi, |e| e["rawQueryString"] = json!(long_query)),
    ));
    cases.push((
        "raw path over 64 KB".into(),
        Family::LongUri,
        changed(Origin::HttpApi, |e| {
            e["rawPath"] = json!(format!("/{long}"))
        }),
    ));
    cases.push((
        "path over 64 KB".into(),
        Family::LongUri,
        changed(Origin::Rest, |e| e["path"] = json!(format!("/{long}"))),
    ));
    for origin in [Origin::Rest, Origin::HttpApi] {
        cases.push((
            format!("{origin:?} body that is not base64"),
            Family::NotBase64,
            changed(origin, |e| {
                e["isBase64Encoded"] = json!(true);
                e["body"] = json!("not base64!");
            }),
        ));
        for host in BAD_HOSTS {
            let name = if origin == Origin::Rest {
                "Host"
            } else {
                "host"
            };
            cases.push((
                format!("{origin:?} Host {host:?}"),
                Family::BadHost,
                changed(origin, |e| e["headers"][name] = json!(host)),
            ));
        }
        for proto in BAD_PROTOS {
            cases.push((
                format!("{origin:?} X-Forwarded-Proto {proto:?}"),
                Family::BadProto,
                changed(origin, |e| {
                    let headers = e["headers"].as_object_mut().expect("headers");
                    headers.remove("X-Forwarded-Proto");
                    headers.insert("x-forwarded-proto".into(), json!(proto));
                }),
            ));
        }
    }
    for name in ["mcc", "userDomain", "other"] {
        cases.push((
            format!("multi-valued {name} with no value"),
            Family::EmptyMultiValue,
            changed(Origin::Rest, |e| {
                e["multiValueQueryStringParameters"][name] = json!([]);
            }),
        ));
    }
    // A v1 query map is re-encoded into the URI: 70 values of 1,000 bytes are over 64 KB.
    let (origin, event) = changed(Origin::Rest, |e| {
        e["multiValueQueryStringParameters"]["pad"] = json!(vec!["x".repeat(1000); 70]);
    });
    cases.push((
        "v1 query over 64 KB".into(),
        Family::LongUri,
        (origin, event),
    ));

    for (name, family, (origin_sent, event)) in &cases {
        let payload = event.to_string();
        assert_eq!(
            event_origin(&payload),
            Some(*origin_sent),
            "{name}: an event"
        );
        assert!(
            families(event, *origin_sent).contains(family),
            "{name}: the test's own classification"
        );
        match run_case(&rt, name, &payload, &stats) {
            Reached::Malformed(panics) => eprintln!("{name}: caught a panic at {panics:?}"),
            other => panic!("{name}: expected 4001 with an empty extMsg, got {other:?}"),
        }
    }

    // Their near neighbours are fine events: the login goes through.
    let mut fine: Vec<(String, (Origin, Value))> = Vec::new();
    for origin in [Origin::Rest, Origin::HttpApi] {
        fine.push((
            format!("{origin:?} base64 body"),
            changed(origin, |e| {
                e["isBase64Encoded"] = json!(true);
                e["body"] = json!("aGVsbG8=");
            }),
        ));
        let name = if origin == Origin::Rest {
            "Host"
        } else {
            "host"
        };
        fine.push((
            format!("{origin:?} Host with a port"),
            changed(origin, |e| {
                e["headers"][name] = json!("api.example.com:8443")
            }),
        ));
        fine.push((
            format!("{origin:?} X-Forwarded-Proto http"),
            changed(origin, |e| {
                e["headers"]["x-forwarded-proto"] = json!("http")
            }),
        ));
    }
    let near = format!("{}&pad=", valid_raw_query());
    let room = MAX_URI - format!("https://api.example.com{LOGIN_ROUTE}?").len() - near.len();
    let at_limit = format!("{near}{}", "p".repeat(room));
    assert!(!http_api_uri_too_long(&at_limit) && http_api_uri_too_long(&format!("{at_limit}p")));
    fine.push((
        "raw query at the URI limit".into(),
        changed(Origin::HttpApi, |e| e["rawQueryString"] = json!(at_limit)),
    ));
    fine.push((
        "raw query with escaped blanks and quotes".into(),
        changed(Origin::HttpApi, |e| {
            e["rawQueryString"] = json!(format!("{}&note=a%20%22%3C%3E%09%7Fb", valid_raw_query()));
        }),
    ));
    for (name, (origin_sent, event)) in &fine {
        let payload = event.to_string();
        assert_eq!(
            event_origin(&payload),
            Some(*origin_sent),
            "{name}: an event"
        );
        assert_eq!(
            families(event, *origin_sent),
            Vec::<Family>::new(),
            "{name}"
        );
        match run_case(&rt, name, &payload, &stats) {
            Reached::Endpoint(answer, _) if answer.code == 200 => {}
            other => panic!("{name}: expected a login, got {other:?}"),
        }
    }
}

#[test]
fn payloads_that_are_no_api_gateway_event_answer_5000_with_http_500() {
    let rt = runtime();
    let stats = Stats::default();
    let sqs = json!({"Records": [{
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": "userDomain=C.DM.5903.1",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
        "awsRegion": "us-east-2"
    }]});
    let scheduled = json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-25T19:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/my-rule"],
        "detail": {}
    });
    let token_authorizer = json!({
        "type": "TOKEN",
        "authorizationToken": "Bearer abc",
        "methodArn": testkit::events::method_arn("POST", LOGIN_ROUTE)
    });
    // A REST event without its request context, and an HTTP API event without its method.
    let (_, mut no_context) = changed(Origin::Rest, |_| {});
    no_context
        .as_object_mut()
        .expect("event")
        .remove("requestContext");
    let (_, mut no_method) = changed(Origin::HttpApi, |_| {});
    no_method["requestContext"]
        .as_object_mut()
        .expect("context")
        .remove("http");
    let cases: Vec<(&str, Value)> = vec![
        ("{}", json!({})),
        ("[]", json!([])),
        ("42", json!(42)),
        ("\"text\"", json!("text")),
        ("null", Value::Null),
        ("true", json!(true)),
        ("{\"foo\":1}", json!({"foo": 1})),
        ("an SQS event", sqs),
        ("an EventBridge event", scheduled),
        ("a TOKEN authorizer event", token_authorizer),
        ("a REST event without requestContext", no_context),
        ("an HTTP API event without requestContext.http", no_method),
    ];
    for (name, payload) in &cases {
        match run_case(&rt, name, &payload.to_string(), &stats) {
            Reached::NotAnEvent => {}
            other => panic!("{name}: expected 5000 with HTTP 500, got {other:?}"),
        }
    }
}
