//! Property 3: arbitrary payloads, mostly events with arbitrary fields.

use std::sync::atomic::Ordering;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::strategy::Union;
use serde_json::{Value, json};

use crate::events::{V1Style, http_api_event, json_of, raw_query, rest_event};
use crate::families::{BAD_HOSTS, BAD_PROTOS, Family, Parsed, QUERY_BREAKERS, families};
use crate::model::model;
use crate::runner::{Reached, cases, run, run_event, runtime};
use crate::stats::{Stats, lock};
use crate::strategies::{any_text, name, query, raw_segments, value};
use crate::world::Fault;

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any_text(16).prop_map(Value::String),
        value().prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let shaped = prop_oneof![
        // Query-string and header maps of the right shape with arbitrary content.
        btree_map(name(), value(), 0..6).prop_map(|m| Value::Object(
            m.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
        )),
        btree_map(name(), vec(value(), 0..3), 0..6).prop_map(|m| Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, Value::Array(v.into_iter().map(Value::String).collect())))
                .collect()
        )),
    ];
    let tree = json_leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map(any_text(8), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop_oneof![2 => shaped, 3 => tree]
}

/// What a field of an event usually holds.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Flag,
    Map,
    MultiMap,
    List,
    Object,
}

/// Paths into either event kind that lambda_http reads, with what they usually hold.
const PATHS: [(&[&str], Kind); 27] = [
    (&["queryStringParameters"], Kind::Map),
    (&["multiValueQueryStringParameters"], Kind::MultiMap),
    (&["rawQueryString"], Kind::Text),
    (&["headers"], Kind::Map),
    (&["headers", "host"], Kind::Text),
    (&["headers", "Host"], Kind::Text),
    (&["headers", "x-forwarded-proto"], Kind::Text),
    (&["headers", "content-type"], Kind::Text),
    (&["multiValueHeaders"], Kind::MultiMap),
    (&["body"], Kind::Text),
    (&["isBase64Encoded"], Kind::Flag),
    (&["httpMethod"], Kind::Text),
    (&["path"], Kind::Text),
    (&["rawPath"], Kind::Text),
    (&["resource"], Kind::Text),
    (&["version"], Kind::Text),
    (&["routeKey"], Kind::Text),
    (&["cookies"], Kind::List),
    (&["pathParameters"], Kind::Map),
    (&["stageVariables"], Kind::Map),
    (&["requestContext"], Kind::Object),
    (&["requestContext", "stage"], Kind::Text),
    (&["requestContext", "http"], Kind::Object),
    (&["requestContext", "http", "method"], Kind::Text),
    (&["requestContext", "httpMethod"], Kind::Text),
    (&["requestContext", "domainName"], Kind::Text),
    (&["requestContext", "requestId"], Kind::Text),
];

/// A value of the usual kind, arbitrary inside.
fn typed(kind: Kind) -> BoxedStrategy<Value> {
    match kind {
        Kind::Text => prop_oneof![
            value().prop_map(Value::String),
            select(vec![
                "GET", "POST", "https", "http", "2.0", "1.0", "$default", "/", ""
            ])
            .prop_map(Value::from),
        ]
        .boxed(),
        Kind::Flag => any::<bool>().prop_map(Value::Bool).boxed(),
        Kind::Map => btree_map(name(), value(), 0..6)
            .prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
            })
            .boxed(),
        Kind::MultiMap => btree_map(name(), vec(value(), 0..3), 0..6)
            .prop_map(|m| {
                Value::Object(
                    m.into_iter()
                        .map(|(k, v)| (k, Value::Array(v.into_iter().map(Value::String).collect())))
                        .collect(),
                )
            })
            .boxed(),
        Kind::List => vec(value().prop_map(Value::String), 0..4)
            .prop_map(Value::Array)
            .boxed(),
        Kind::Object => btree_map(
            select(vec![
                "stage",
                "requestId",
                "http",
                "method",
                "domainName",
                "accountId",
            ])
            .prop_map(str::to_owned),
            typed(Kind::Text),
            0..4,
        )
        .prop_map(|m| Value::Object(m.into_iter().collect()))
        .boxed(),
    }
}

#[derive(Debug, Clone)]
enum JsonEdit {
    Set(Vec<String>, Value),
    Remove(Vec<String>),
}

fn json_path(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| (*s).to_owned()).collect()
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    // One strategy per path, built once: strategies built per case would recompile regexes.
    let known: Vec<(u32, BoxedStrategy<JsonEdit>)> = PATHS
        .iter()
        .map(|(path, kind)| {
            let path = json_path(path);
            let (typed_path, any_path) = (path.clone(), path.clone());
            let edit = prop_oneof![
                6 => typed(*kind).prop_map(move |v| JsonEdit::Set(typed_path.clone(), v)),
                1 => json_value().prop_map(move |v| JsonEdit::Set(any_path.clone(), v)),
                1 => Just(JsonEdit::Remove(path)),
            ];
            (1, edit.boxed())
        })
        .collect();
    let unknown = (any_text(10), json_value()).prop_map(|(k, v)| JsonEdit::Set(vec![k], v));
    prop_oneof![6 => Union::new_weighted(known), 1 => unknown]
}

/// Edits that put an event in one of the malformed families (when it is still an event).
fn malformed_edits() -> impl Strategy<Value = Vec<JsonEdit>> {
    let set = |path: &[&str], value: Value| JsonEdit::Set(json_path(path), value);
    // A header given once, whatever the case of its name before.
    let header = move |names: [&str; 2], value: &str| {
        vec![
            JsonEdit::Remove(json_path(&["headers", names[0]])),
            JsonEdit::Remove(json_path(&["headers", names[1]])),
            set(&["headers", names[0]], json!(value)),
        ]
    };
    let not_base64 = value().prop_filter("not base64", |v| STANDARD.decode(v).is_err());
    prop_oneof![
        3 => (raw_segments(), select(QUERY_BREAKERS.to_vec()), any::<Index>()).prop_map(
            move |(segments, breaker, at)| {
                let mut raw = raw_query(&segments);
                // Every raw query is ASCII: any index is a char boundary.
                raw.insert(at.index(raw.len() + 1), breaker);
                vec![set(&["rawQueryString"], json!(raw))]
            }
        ),
        2 => select(BAD_HOSTS.to_vec()).prop_map(move |h| header(["host", "Host"], h)),
        2 => select(BAD_PROTOS.to_vec())
            .prop_map(move |p| header(["x-forwarded-proto", "X-Forwarded-Proto"], p)),
        2 => not_base64.prop_map(move |body| vec![
            set(&["isBase64Encoded"], json!(true)),
            set(&["body"], json!(body)),
        ]),
        2 => name().prop_map(move |n| {
            vec![set(&["multiValueQueryStringParameters", n.as_str()], json!([]))]
        }),
        1 => (select(vec!["rawQueryString", "path", "rawPath"]), 65_500usize..66_000)
            .prop_map(move |(field, n)| vec![set(&[field], json!(format!("/{}", "q".repeat(n))))]),
    ]
}

fn apply_json(event: &mut Value, edit: &JsonEdit) {
    let (path, value) = match edit {
        JsonEdit::Set(path, value) => (path, Some(value)),
        JsonEdit::Remove(path) => (path, None),
    };
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = event;
    for key in parents {
        if !at.is_object() {
            *at = json!({});
        }
        at = at
            .as_object_mut()
            .expect("object")
            .entry(key.clone())
            .or_insert_with(|| json!({}));
    }
    if !at.is_object() {
        *at = json!({});
    }
    let object = at.as_object_mut().expect("object");
    match value {
        Some(value) => {
            object.insert(last.clone(), value.clone());
        }
        None => {
            object.remove(last);
        }
    }
}

#[derive(Debug, Clone)]
enum Shape {
    /// A well-formed event of either kind with edits applied.
    Edited(Value, Vec<JsonEdit>),
    /// Anything at all.
    Whole(Value),
}

fn shape() -> impl Strategy<Value = Shape> {
    let base = prop_oneof![
        (query(), any::<bool>()).prop_map(|(pairs, multi)| {
            let style = if multi {
                V1Style::Both
            } else {
                V1Style::SingleOnly
            };
            json_of(&rest_event(&pairs, style).0)
        }),
        raw_segments().prop_map(|s| json_of(&http_api_event(&raw_query(&s)))),
    ];
    let edits = (
        vec(json_edit(), 0..4),
        proptest::option::weighted(0.3, malformed_edits()),
        any::<Index>(),
    )
        .prop_map(|(mut edits, malformed, at)| {
            if let Some(malformed) = malformed {
                let at = at.index(edits.len() + 1);
                edits.splice(at..at, malformed);
            }
            edits
        });
    prop_oneof![
        18 => (base, edits).prop_map(|(b, e)| Shape::Edited(b, e)),
        1 => json_value().prop_map(Shape::Whole),
    ]
}

#[test]
fn arbitrary_payloads_always_get_the_envelope() {
    let cases = cases(10_000);
    let rt = runtime();
    let stats = Stats::default();
    run("payloads", cases, shape(), |shape| {
        let event = match shape {
            Shape::Edited(mut event, edits) => {
                for edit in &edits {
                    apply_json(&mut event, edit);
                }
                event
            }
            Shape::Whole(value) => value,
        };
        let payload = event.to_string();
        let parsed = Parsed::read(&payload);
        let origin = parsed.as_ref().map(Parsed::origin);
        let predicted = origin.map(|o| families(&event, o));
        for family in predicted.iter().flatten() {
            stats.family(*family);
        }
        match run_event(&rt, Fault::None, &payload, origin, &stats)? {
            Reached::NotAnEvent => {}
            Reached::Malformed(_) => {}
            Reached::Endpoint(answer, stored_mcc) => {
                prop_assert_eq!(
                    predicted.unwrap_or_default(),
                    Vec::<Family>::new(),
                    "a malformed event reached the endpoint: {}",
                    payload
                );
                let query = parsed.map(Parsed::query).unwrap_or_default();
                let (code, ext_msg, mcc) = model(&query, Fault::None);
                prop_assert_eq!(
                    (answer.code, answer.ext_msg.as_str()),
                    (code, ext_msg),
                    "the query the endpoint saw: {:?}",
                    query
                );
                if code == 200 {
                    prop_assert_eq!(stored_mcc, Some(mcc), "the stored mcc");
                }
            }
        }
        Ok(())
    });
    stats.report("payloads", cases);
    if cases >= 5_000 {
        let endpoint = stats.endpoint.load(Ordering::Relaxed);
        let malformed = stats.malformed_count();
        let not_events = stats.not_events.load(Ordering::Relaxed);
        // Far fewer would mean the payloads no longer test the endpoint, or the edge's guards.
        assert!(
            endpoint * 5 >= cases as usize * 2,
            "fewer than 40% of the payloads reached the endpoint: {endpoint} of {cases}"
        );
        assert!(
            malformed * 20 >= cases as usize && not_events * 20 >= cases as usize,
            "fewer than 5% malformed ({malformed}) or no event ({not_events}) of {cases}"
        );
        let families = lock(&stats.families).clone();
        for family in [
            Family::QueryChar,
            Family::LongUri,
            Family::NotBase64,
            Family::BadHost,
            Family::BadProto,
            Family::EmptyMultiValue,
        ] {
            assert!(
                families.contains_key(&family),
                "no payload was of the {family:?} family: {families:?}"
            );
        }
    }
}
