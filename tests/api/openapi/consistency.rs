//! The document on its own, and against the template: references, schemas and examples; the
//! routes and authorizers of template.yaml; its gateway responses.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};
use twitter_auth_admin::template::Template;

use super::TEMPLATE;
use super::document::{Contract, JSON, escape, ref_pointer};
use super::harness::Answer;

/// Routes of template.yaml that the document does not describe; it describes every other
/// route, and no more. Each must be a route of the template and absent from the document, so
/// that describing one takes it off this list.
const UNDOCUMENTED: [(&str, &str); 0] = [];

#[test]
fn the_document_is_consistent_and_matches_the_template() {
    let contract = Contract::load();
    let doc = &contract.doc;

    // Every local reference resolves.
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(doc, &mut all);
    for reference in all {
        assert!(
            doc.pointer(ref_pointer(reference)).is_some(),
            "dangling {reference}"
        );
    }

    // Every named schema is a valid JSON Schema 2020-12.
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        let mut schema = schema.clone();
        schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        if let Err(error) = jsonschema::meta::validate(&schema) {
            panic!("components/schemas/{name}: {error}");
        }
    }

    // Per response: every named example fits the schema; for the envelope, the code enum is
    // exactly the branches' codes, each with an example, and 200 only with HTTP 200; a plain
    // document (discovery) is only ever a success.
    for operation in &contract.operations {
        let id = &operation.id;
        for status in contract.statuses(id) {
            let response = contract.response_pointer(id, status);
            let schema_pointer = contract.media_schema_pointer(&response);
            let schema = contract.at(&schema_pointer);
            let examples = format!("{response}/content/{}/examples", escape(JSON));
            let mut example_codes = BTreeSet::new();
            for name in contract.at(&examples).as_object().expect("examples").keys() {
                let example = contract.follow(&format!("{examples}/{}", escape(name)));
                let value = &contract.at(&example)["value"];
                if let Err(why) = contract.validate(&schema_pointer, value) {
                    panic!("{id} {status} example {name}: {why}");
                }
                example_codes.extend(value["code"].as_i64());
            }
            if contract.is_envelope(schema) {
                let codes = contract.codes(schema);
                let branch_codes: BTreeSet<i64> =
                    contract.variants(schema).iter().map(|(c, _)| *c).collect();
                assert_eq!(
                    codes, branch_codes,
                    "{id} {status}: code enum against oneOf"
                );
                assert_eq!(
                    status == 200,
                    codes.contains(&200),
                    "{id} {status}: success only with HTTP 200"
                );
                assert_eq!(codes, example_codes, "{id} {status}: one example per code");
            } else {
                assert_eq!(status, 200, "{id} {status}: a document only with HTTP 200");
                assert!(
                    example_codes.is_empty(),
                    "{id} {status}: a document has no code"
                );
            }
            let headers: Vec<String> = contract
                .headers(&response)
                .into_iter()
                .map(|h| h.0)
                .collect();
            assert_eq!(
                headers,
                ["Cache-Control"],
                "{id} {status}: documented headers"
            );
        }
    }

    // The routes are the template's, and only the authorizer's routes name its scheme.
    let mut api = Template::parse(TEMPLATE)
        .and_then(|t| t.api(&HashMap::new()))
        .expect("template");
    let documented: BTreeSet<(String, String)> = contract
        .operations
        .iter()
        .map(|o| (o.method.clone(), o.path.clone()))
        .collect();
    for (method, path) in UNDOCUMENTED {
        let route = (method.to_owned(), path.to_owned());
        assert!(
            api.routes
                .iter()
                .any(|r| (r.method.as_str(), r.path.as_str()) == (method, path)),
            "{method} {path} is no route of template.yaml: take it off UNDOCUMENTED"
        );
        assert!(
            !documented.contains(&route),
            "{method} {path} is documented: take it off UNDOCUMENTED"
        );
    }
    api.routes
        .retain(|r| !UNDOCUMENTED.contains(&(r.method.as_str(), r.path.as_str())));
    let served: BTreeSet<(String, String)> = api
        .routes
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert_eq!(
        documented, served,
        "the document's routes against template.yaml's"
    );
    let schemes = &doc["components"]["securitySchemes"];
    for route in &api.routes {
        let operation = contract
            .operations
            .iter()
            .find(|o| o.method == route.method && o.path == route.path)
            .expect("documented");
        let security = contract.at(&operation.pointer).get("security");
        let named: Vec<&str> = security
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|requirement| requirement.as_object().expect("requirement").keys())
            .map(String::as_str)
            .collect();
        match &route.authorizer {
            Some(authorizer) => {
                assert_eq!(
                    named,
                    [authorizer.as_str()],
                    "{}: its authorizer",
                    operation.id
                );
                let spec = &api.authorizers[authorizer];
                let scheme = &schemes[authorizer.as_str()];
                assert_eq!(scheme["type"], "apiKey");
                assert_eq!(scheme["in"], "header");
                let header = scheme["name"].as_str().expect("header name");
                assert_eq!(header.to_ascii_lowercase(), spec.header);
            }
            None => {
                for name in &named {
                    assert!(
                        !api.authorizers.contains_key(*name),
                        "{}: not behind {name}",
                        operation.id
                    );
                }
            }
        }
    }

    // Every gateway response the template sets is an answer the routes it can meet document:
    // the authorizer's on the routes behind it, API Gateway's own on every route. One added to
    // the template must be documented before it is listed here.
    let authorizer_kinds = [
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "AUTHORIZER_FAILURE",
        "AUTHORIZER_CONFIGURATION_ERROR",
    ];
    let gateway_kinds = ["THROTTLED", "INTEGRATION_TIMEOUT", "DEFAULT_5XX"];
    let mut set: Vec<&str> = api.responses.keys().map(String::as_str).collect();
    set.sort_unstable();
    let mut expected: Vec<&str> = authorizer_kinds
        .iter()
        .chain(&gateway_kinds)
        .copied()
        .collect();
    expected.sort_unstable();
    assert_eq!(set, expected, "the template's gateway responses");
    for kind in authorizer_kinds.iter().chain(&gateway_kinds) {
        let response = testkit::gateway::gateway_response(&api, kind);
        let mut headers: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in &response.headers {
            headers
                .entry(name.to_ascii_lowercase())
                .or_default()
                .push(value.clone());
        }
        let answer = Answer {
            status: response.status,
            headers,
            body: serde_json::from_str(&response.body).expect("a JSON body"),
        };
        let behind_authorizer = authorizer_kinds.contains(kind);
        for route in api
            .routes
            .iter()
            .filter(|r| !behind_authorizer || r.authorizer.is_some())
        {
            let operation = contract
                .operations
                .iter()
                .find(|o| o.method == route.method && o.path == route.path)
                .expect("documented");
            contract.check(&format!("gateway response {kind}"), &operation.id, &answer);
        }
    }
}
