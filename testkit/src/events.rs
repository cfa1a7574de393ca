//! API Gateway events for the login route, as the function receives them: the tests, the
//! benchmarks and the fuzzing all build their events here.

use serde_json::{Map, Value, json};

pub const ROUTE: &str = "/v2/enduser/enduserapi/twitterAuthLogin";

/// A REST API (v1) proxy event with these query parameters, in order, repeats allowed.
pub fn rest_event<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in params {
        let (name, value) = (
            name.as_ref().to_owned(),
            Value::String(value.as_ref().to_owned()),
        );
        single.insert(name.clone(), value.clone());
        if let Value::Array(values) = multi.entry(name).or_insert_with(|| json!([])) {
            values.push(value);
        }
    }
    let query = |map: Map<String, Value>| {
        if map.is_empty() {
            Value::Null
        } else {
            Value::Object(map)
        }
    };
    json!({
        "resource": ROUTE,
        "path": ROUTE,
        "httpMethod": "POST",
        "headers": {
            "Host": "api.example.com",
            "User-Agent": "testkit",
            "X-Forwarded-For": "127.0.0.1",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Port": "443"
        },
        "multiValueHeaders": {
            "Host": ["api.example.com"],
            "User-Agent": ["testkit"],
            "X-Forwarded-For": ["127.0.0.1"],
            "X-Forwarded-Proto": ["https"],
            "X-Forwarded-Port": ["443"]
        },
        "queryStringParameters": query(single),
        "multiValueQueryStringParameters": query(multi),
        "pathParameters": null,
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "abc123",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "testkit"},
            "resourcePath": ROUTE,
            "httpMethod": "POST",
            "apiId": "1234567890",
            "protocol": "HTTP/1.1"
        },
        "body": null,
        "isBase64Encoded": false
    })
    .to_string()
}

/// An HTTP API (v2) event with this raw (percent-encoded) query string.
pub fn http_api_event(raw_query: &str) -> String {
    json!({
        "version": "2.0",
        "routeKey": format!("POST {ROUTE}"),
        "rawPath": ROUTE,
        "rawQueryString": raw_query,
        "headers": {"host": "api.example.com", "content-length": "0"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {"method": "POST", "path": ROUTE, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "testkit"},
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": format!("POST {ROUTE}"),
            "stage": "$default",
            "time": "25/Nov/2026:19:00:00 +0000",
            "timeEpoch": 1795633200000u64
        },
        "isBase64Encoded": false
    })
    .to_string()
}
