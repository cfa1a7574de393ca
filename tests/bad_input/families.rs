//! Which payloads are events, and which events are malformed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::RequestExt;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use lambda_http::request::LambdaRequest;
use serde_json::Value;
use testkit::events::LOGIN_ROUTE;

use crate::world::PARAMETERS;

/// The kind of API Gateway event a payload is, tried in lambda_http's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Rest,
    HttpApi,
}

/// A payload read as an API Gateway event.
pub enum Parsed {
    Rest(Box<ApiGatewayProxyRequest>),
    HttpApi(Box<ApiGatewayV2httpRequest>),
}

impl Parsed {
    pub fn read(payload: &str) -> Option<Parsed> {
        if let Ok(event) = serde_json::from_str(payload) {
            Some(Parsed::Rest(Box::new(event)))
        } else if let Ok(event) = serde_json::from_str(payload) {
            Some(Parsed::HttpApi(Box::new(event)))
        } else {
            None
        }
    }

    pub fn origin(&self) -> Origin {
        match self {
            Parsed::Rest(_) => Origin::Rest,
            Parsed::HttpApi(_) => Origin::HttpApi,
        }
    }

    /// The contract's parameters as the endpoint sees them, decoded by lambda_http; only for
    /// an event it converts. (Not `QueryMap::iter`: it panics on a name with no value.)
    pub fn query(self) -> Vec<(String, String)> {
        let event = match self {
            Parsed::Rest(event) => LambdaRequest::ApiGatewayV1(*event),
            Parsed::HttpApi(event) => LambdaRequest::ApiGatewayV2(*event),
        };
        let query = lambda_http::Request::from(event).query_string_parameters();
        PARAMETERS
            .iter()
            .flat_map(|name| {
                let values = query.all(name).unwrap_or_default();
                values
                    .into_iter()
                    .map(|v| ((*name).to_owned(), v.to_owned()))
            })
            .collect()
    }
}

pub fn event_origin(payload: &str) -> Option<Origin> {
    Parsed::read(payload).map(|parsed| parsed.origin())
}

/// The longest URI the `http` crate takes.
pub const MAX_URI: usize = 65_534;
/// Characters a raw v2 query string may not hold.
pub const QUERY_BREAKERS: [char; 6] = [' ', '"', '<', '>', '\t', '\u{7f}'];
pub const BAD_HOSTS: [&str; 3] = ["bad host", "evil.com:99999", "api.example.com:65536"];
pub const BAD_PROTOS: [&str; 3] = ["ht tp", "1https", "http s"];

/// The kinds of event the contract calls malformed: lambda_http cannot turn them into a
/// request, and the edge answers 4001 with an empty extMsg and HTTP 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    QueryChar,
    LongUri,
    NotBase64,
    BadHost,
    BadProto,
    EmptyMultiValue,
}

/// The one value of a header, by case-insensitive name, when it is given exactly once.
fn single_header<'a>(event: &'a Value, name: &str) -> Option<&'a str> {
    match header_values(event, name).as_slice() {
        [value] => value.as_str(),
        _ => None,
    }
}

/// Every value of a header, by case-insensitive name.
fn header_values<'a>(event: &'a Value, name: &str) -> Vec<&'a Value> {
    let Some(headers) = event.get("headers").and_then(Value::as_object) else {
        return Vec::new();
    };
    headers
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
        .collect()
}

/// The malformed families an event (of this origin) belongs to.
pub fn families(event: &Value, origin: Origin) -> Vec<Family> {
    let text = |key: &str| event.get(key).and_then(Value::as_str);
    let mut found = Vec::new();
    let raw_query = match origin {
        Origin::HttpApi => text("rawQueryString"),
        Origin::Rest => None,
    };
    let path = match origin {
        Origin::HttpApi => text("rawPath").or(text("path")),
        Origin::Rest => text("path"),
    };
    // The edge refuses these itself, wherever a `#` stands: the `http` crate would take what
    // follows a `#` for a fragment and not check it, while the query map reads on.
    let breaks = |c: char| c <= ' ' || c == '\u{7f}' || matches!(c, '"' | '<' | '>' | '#');
    if raw_query.is_some_and(|q| q.contains(breaks)) {
        found.push(Family::QueryChar);
    }
    // A v1 query map is encoded again into the URI, the multi-valued map when it has names.
    let rest_query = match origin {
        Origin::Rest => ["multiValueQueryStringParameters", "queryStringParameters"]
            .iter()
            .filter_map(|key| event.get(*key).and_then(Value::as_object))
            .find(|map| !map.is_empty())
            .map_or(0, |map| {
                let mut query = form_urlencoded::Serializer::new(String::new());
                for (name, values) in map {
                    let values = match values {
                        Value::Array(values) => values.iter().collect(),
                        value => vec![value],
                    };
                    for value in values.into_iter().filter_map(Value::as_str) {
                        query.append_pair(name, value);
                    }
                }
                query.finish().len()
            }),
        Origin::HttpApi => 0,
    };
    // A path that does not start with `/` may end up in the host, and a host-less URI drops
    // what follows a `#` or `?`.
    let long_path = |p: &str| {
        p.len() > MAX_URI && p.starts_with('/') && !p.contains(['#', '?', '.', '%', '\\'])
    };
    if raw_query.is_some_and(|q| q.len() > MAX_URI)
        || path.is_some_and(long_path)
        || rest_query > MAX_URI
    {
        found.push(Family::LongUri);
    }
    let base64 = event.get("isBase64Encoded") == Some(&Value::Bool(true));
    if base64 && text("body").is_some_and(|body| STANDARD.decode(body).is_err()) {
        found.push(Family::NotBase64);
    }
    let host = single_header(event, "host");
    // A scheme of another shape could turn the host into a path.
    let usual_scheme = match header_values(event, "x-forwarded-proto").as_slice() {
        [] => true,
        [scheme] => *scheme == "http" || *scheme == "https",
        _ => false,
    };
    if usual_scheme && host.is_some_and(|h| BAD_HOSTS.contains(&h)) {
        found.push(Family::BadHost);
    }
    // The scheme is read only when there is a host to put after it.
    let has_host = host.is_some_and(|h| h.bytes().all(|b| (b' '..=b'~').contains(&b)))
        || event
            .pointer("/requestContext/domainName")
            .is_some_and(Value::is_string);
    let proto = single_header(event, "x-forwarded-proto");
    if has_host && proto.is_some_and(|p| BAD_PROTOS.contains(&p)) {
        found.push(Family::BadProto);
    }
    let multi = event
        .get("multiValueQueryStringParameters")
        .and_then(Value::as_object);
    if origin == Origin::Rest
        && multi.is_some_and(|m| m.values().any(|v| v.as_array().is_some_and(Vec::is_empty)))
    {
        found.push(Family::EmptyMultiValue);
    }
    found
}

/// Whether the URI lambda_http builds for a testkit HTTP API event would be over the limit.
pub fn http_api_uri_too_long(raw: &str) -> bool {
    let prefix = format!("https://api.example.com{LOGIN_ROUTE}?");
    !raw.is_empty() && prefix.len() + raw.len() > MAX_URI
}

/// The same for a testkit REST event, whose query map is encoded again into the URI.
pub fn rest_uri_too_long(decoded: &[(String, String)]) -> bool {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(decoded)
        .finish();
    let prefix = format!("https://api.example.com/prod{LOGIN_ROUTE}?");
    !query.is_empty() && prefix.len() + query.len() > MAX_URI
}
