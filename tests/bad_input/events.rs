//! Events: REST API and HTTP API payloads of a query, and raw query strings written every way.

use percent_encoding::{
    AsciiSet, CONTROLS, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode,
};
use serde_json::Value;

/// How a REST API (v1) event carries the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V1Style {
    /// Both maps, as API Gateway sends them.
    Both,
    /// Only `multiValueQueryStringParameters`.
    MultiOnly,
    /// Only `queryStringParameters`: one value per name, the last one given.
    SingleOnly,
}

/// A REST event's payload, and the query the endpoint sees in it.
pub fn rest_event(pairs: &[(String, String)], style: V1Style) -> (String, Vec<(String, String)>) {
    let payload = testkit::events::rest_event(pairs);
    let without = |field: &str| {
        let mut event: Value = serde_json::from_str(&payload).expect("testkit's event is JSON");
        event[field] = Value::Null;
        event.to_string()
    };
    let payload = match style {
        V1Style::Both => payload,
        V1Style::MultiOnly => without("queryStringParameters"),
        V1Style::SingleOnly => without("multiValueQueryStringParameters"),
    };
    // What the endpoint sees: with the multi-valued map present, every value; else the last.
    let decoded = match style {
        V1Style::SingleOnly => {
            let mut last: Vec<(String, String)> = Vec::new();
            for (k, v) in pairs {
                match last.iter_mut().find(|(name, _)| name == k) {
                    Some(entry) => entry.1 = v.clone(),
                    None => last.push((k.clone(), v.clone())),
                }
            }
            last
        }
        _ => pairs.to_vec(),
    };
    (payload, decoded)
}

/// An HTTP API event's payload.
pub fn http_api_event(raw_query: &str) -> String {
    testkit::events::http_api_event(raw_query)
}

pub fn json_of(payload: &str) -> Value {
    serde_json::from_str(payload).expect("testkit's event is JSON")
}

/// `application/x-www-form-urlencoded` parsing as the URL standard defines it: what a v2
/// event's `rawQueryString` means.
pub fn form_decode(raw: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.split('&')
        .filter(|sequence| !sequence.is_empty())
        .map(|sequence| {
            let (name, value) = sequence.split_once('=').unwrap_or((sequence, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// Every character a form encoder must escape, and nothing more.
const FORM: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'=')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'[')
    .add(b']');

/// How one name or value is written into a raw query string.
#[derive(Debug, Clone, Copy)]
pub enum Encoding {
    /// Every byte but ASCII letters and digits as `%XX`.
    Everything,
    /// Only what must be escaped; a blank as `+`.
    Form,
    /// Like `Everything`, with lowercase hex digits.
    LowerHex,
}

fn encode(text: &str, encoding: Encoding) -> String {
    match encoding {
        Encoding::Everything => utf8_percent_encode(text, NON_ALPHANUMERIC).to_string(),
        Encoding::Form => utf8_percent_encode(text, FORM)
            .to_string()
            .replace("%20", "+"),
        Encoding::LowerHex => {
            let upper = utf8_percent_encode(text, NON_ALPHANUMERIC).to_string();
            let mut out = String::with_capacity(upper.len());
            let mut hex_left = 0;
            for c in upper.chars() {
                if c == '%' {
                    hex_left = 2;
                    out.push(c);
                } else if hex_left > 0 {
                    hex_left -= 1;
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

/// One `&`-separated piece of a raw query string.
#[derive(Debug, Clone)]
pub enum Segment {
    Pair(String, String, Encoding),
    /// A name and arbitrary bytes (valid UTF-8 or not), every byte as `%XX`.
    Bytes(String, Vec<u8>),
    /// Written as is: stray separators, bad escapes, truncated UTF-8.
    Noise(&'static str),
}

pub fn raw_query(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|segment| match segment {
            Segment::Pair(name, value, encoding) => {
                format!("{}={}", encode(name, *encoding), encode(value, *encoding))
            }
            Segment::Bytes(name, bytes) => {
                let value: String = bytes.iter().map(|b| format!("%{b:02X}")).collect();
                format!("{}={value}", encode(name, Encoding::Everything))
            }
            Segment::Noise(noise) => (*noise).to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}
