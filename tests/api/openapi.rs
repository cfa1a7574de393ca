//! docs/openapi.yaml against the code: each operation is driven through its cases over HTTP,
//! through the local API that serves template.yaml's routes (authorizer and gateway responses
//! included), with the functions in this process on moto and the Twitter stand-in. Every
//! answer must be one the document describes for its operation and HTTP status, and every
//! answer the document describes must come up at least once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use jsonschema::Validator;
use serde_json::{Value, json};
use testkit::events::RestEvent;
use testkit::faulty::{Fault, FaultyServer};
use testkit::functions::InProcess;
use testkit::gateway::Gateway;
use testkit::prelude::*;
use testkit::twitter::Mode;
use twitter_auth_admin::template::Template;
use twitter_auth_login::config::Table;
use twitter_auth_login::dynamo::Limits;
use yaml_rust2::{Yaml, YamlLoader};

const DOCUMENT: &str = include_str!("../../docs/openapi.yaml");
const TEMPLATE: &str = include_str!("../../template.yaml");
const JSON: &str = "application/json";
/// The fields of a path item that are operations.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// DynamoDB limits of the functions under test: generous, since moto on a busy machine can take
/// more than the deployed 1 s, and every fault injected here answers at once.
const LIMITS: Limits = Limits {
    connect_timeout: Duration::from_secs(5),
    attempt_timeout: Duration::from_secs(5),
    operation_timeout: Duration::from_secs(12),
    max_attempts: 2,
};

/// Documented answers no case below produces, with the reason. Empty: every one is produced.
const NOT_PRODUCED: &[(&str, u16, i64, &str)] = &[];

// ---------------------------------------------------------------------------------------------
// The document

/// YAML to JSON; mapping keys must be strings, as OpenAPI's JSON form requires.
fn to_json(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Real(text) => {
            let number = text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64);
            Value::Number(number.unwrap_or_else(|| panic!("not a number: {text}")))
        }
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Null => Value::Null,
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Hash(map) => Value::Object(
            map.iter()
                .map(|(key, value)| match key {
                    Yaml::String(key) => (key.clone(), to_json(value)),
                    other => panic!("a mapping key is not a string: {other:?}"),
                })
                .collect(),
        ),
        other => panic!("unsupported YAML node: {other:?}"),
    }
}

/// `/` and `~` escaped for a JSON pointer.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The pointer of a local `$ref`.
fn ref_pointer(reference: &str) -> &str {
    reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local references are used: {reference}"))
}

struct Operation {
    id: String,
    method: String,
    path: String,
    pointer: String,
}

struct Contract {
    doc: Value,
    operations: Vec<Operation>,
    /// Compiled schemas by their pointer in the document.
    validators: HashMap<String, Validator>,
}

impl Contract {
    fn load() -> Contract {
        let docs = YamlLoader::load_from_str(DOCUMENT).expect("docs/openapi.yaml is YAML");
        assert_eq!(docs.len(), 1, "one YAML document");
        let doc = to_json(&docs[0]);
        let version = doc["openapi"].as_str().expect("openapi version");
        assert!(version.starts_with("3.1."), "OpenAPI 3.1, not {version}");

        let mut operations = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                let id = operation["operationId"].as_str().expect("operationId");
                operations.push(Operation {
                    id: id.to_owned(),
                    method: method.to_ascii_uppercase(),
                    path: path.clone(),
                    pointer: format!("/paths/{}/{method}", escape(path)),
                });
            }
        }
        let mut contract = Contract {
            doc,
            operations,
            validators: HashMap::new(),
        };
        let mut schemas = Vec::new();
        for operation in &contract.operations {
            for status in contract.statuses(&operation.id) {
                let response = contract.response_pointer(&operation.id, status);
                schemas.push(format!("{response}/content/{}/schema", escape(JSON)));
                for (_, header) in contract.headers(&response) {
                    schemas.push(format!("{header}/schema"));
                }
            }
        }
        for pointer in schemas {
            let validator = contract.compile(&pointer);
            contract.validators.insert(pointer, validator);
        }
        contract
    }

    /// A validator for the schema at `pointer`, its `$ref`s resolved within the document.
    fn compile(&self, pointer: &str) -> Validator {
        let mut root = self.doc.clone();
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        root["$ref"] = json!(format!("#{pointer}"));
        jsonschema::draft202012::new(&root)
            .unwrap_or_else(|error| panic!("schema at {pointer} does not compile: {error}"))
    }

    fn at(&self, pointer: &str) -> &Value {
        self.doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("nothing at #{pointer}"))
    }

    /// The pointer of the object at `pointer`, following `$ref`s (responses, headers, examples).
    fn follow(&self, pointer: &str) -> String {
        let mut pointer = pointer.to_owned();
        while let Some(reference) = self.at(&pointer).get("$ref").and_then(Value::as_str) {
            pointer = ref_pointer(reference).to_owned();
        }
        pointer
    }

    /// A schema, through a `$ref` that stands alone.
    fn schema<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.schema(self.at(ref_pointer(reference))),
            None => schema,
        }
    }

    fn operation(&self, id: &str) -> &Operation {
        self.operations
            .iter()
            .find(|o| o.id == id)
            .unwrap_or_else(|| panic!("no operation {id} in the document"))
    }

    fn statuses(&self, id: &str) -> Vec<u16> {
        let operation = self.operation(id);
        self.at(&format!("{}/responses", operation.pointer))
            .as_object()
            .expect("responses")
            .keys()
            .map(|status| {
                status
                    .parse()
                    .unwrap_or_else(|_| panic!("{id}: status {status}"))
            })
            .collect()
    }

    fn response_pointer(&self, id: &str, status: u16) -> String {
        let operation = self.operation(id);
        let pointer = format!("{}/responses/{status}", operation.pointer);
        if self.doc.pointer(&pointer).is_none() {
            panic!("{id} documents no HTTP {status}");
        }
        self.follow(&pointer)
    }

    /// A response's headers: name and pointer, `$ref`s followed.
    fn headers(&self, response: &str) -> Vec<(String, String)> {
        let pointer = format!("{response}/headers");
        let Some(headers) = self.doc.pointer(&pointer).and_then(Value::as_object) else {
            return Vec::new();
        };
        headers
            .keys()
            .map(|name| {
                (
                    name.clone(),
                    self.follow(&format!("{pointer}/{}", escape(name))),
                )
            })
            .collect()
    }

    fn media_schema_pointer(&self, response: &str) -> String {
        let content = self.at(&format!("{response}/content"));
        let types: Vec<&String> = content.as_object().expect("content").keys().collect();
        assert_eq!(types, [JSON], "{response}: answers are JSON only");
        format!("{response}/content/{}/schema", escape(JSON))
    }

    fn validate(&self, pointer: &str, instance: &Value) -> Result<(), String> {
        let validator = &self.validators[pointer];
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{e} (at {})", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// The codes a response schema lists for its status.
    fn codes(&self, schema: &Value) -> BTreeSet<i64> {
        let schema = self.schema(schema);
        schema
            .pointer("/properties/code/enum")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("a response schema without its code enum: {schema}"))
            .iter()
            .map(|c| c.as_i64().expect("integer code"))
            .collect()
    }

    /// What a schema allows for one property, by `const` or `enum`, looking through `allOf`.
    fn allowed(&self, schema: &Value, property: &str) -> Option<Vec<Value>> {
        let schema = self.schema(schema);
        if let Some(p) = schema.pointer(&format!("/properties/{property}")) {
            if let Some(value) = p.get("const") {
                return Some(vec![value.clone()]);
            }
            if let Some(values) = p.get("enum").and_then(Value::as_array) {
                return Some(values.clone());
            }
        }
        schema
            .get("allOf")?
            .as_array()?
            .iter()
            .find_map(|s| self.allowed(s, property))
    }

    /// Every (code, extMsg) a response schema's branches allow.
    fn variants(&self, schema: &Value) -> BTreeSet<(i64, String)> {
        let schema = self.schema(schema);
        let mut variants = BTreeSet::new();
        for branch in schema["oneOf"].as_array().expect("a oneOf per code") {
            let codes = self
                .allowed(branch, "code")
                .expect("a branch fixes its code");
            assert_eq!(codes.len(), 1, "one code per branch: {branch}");
            let code = codes[0].as_i64().expect("integer code");
            let ext = self
                .allowed(branch, "extMsg")
                .expect("a branch fixes its extMsg");
            for ext in ext {
                variants.insert((code, ext.as_str().expect("string extMsg").to_owned()));
            }
        }
        variants
    }

    /// Checks one answer of `id` against the document; panics naming `case` if it does not fit.
    fn check(&self, case: &str, id: &str, answer: &Answer) {
        let fail = |why: String| -> ! { panic!("{id}, {case}: {why}\nanswer: {answer:?}") };
        if !self.statuses(id).contains(&answer.status) {
            fail(format!("HTTP {} is not documented", answer.status));
        }
        let response = self.response_pointer(id, answer.status);
        let schema = self.media_schema_pointer(&response);
        if let Err(why) = self.validate(&schema, &answer.body) {
            fail(format!("the body does not fit the schema: {why}"));
        }
        let code = answer.body["code"].as_i64().unwrap_or_default();
        if !self.codes(self.at(&schema)).contains(&code) {
            fail(format!(
                "code {code} is not listed for HTTP {}",
                answer.status
            ));
        }
        match answer.headers.get("content-type").map(Vec::as_slice) {
            Some([value]) if value == JSON => {}
            other => fail(format!("content-type {other:?}")),
        }
        for (name, header) in self.headers(&response) {
            let values = answer.headers.get(&name.to_ascii_lowercase());
            match values.map(Vec::as_slice) {
                None if self.at(&header)["required"] == true => {
                    fail(format!("required header {name} is missing"))
                }
                None => {}
                Some([value]) => {
                    if let Err(why) = self.validate(&format!("{header}/schema"), &json!(value)) {
                        fail(format!("header {name}: {why}"));
                    }
                }
                Some(values) => fail(format!("header {name} given {} times", values.len())),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The functions behind the local API

/// An HTTP answer: status, headers by lowercase name, JSON body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: HashMap<String, Vec<String>>,
    body: Value,
}

/// One request: query parameters, headers and form fields, in order, repeats allowed.
#[derive(Default, Clone)]
struct Call {
    query: Params,
    headers: Params,
    form: Option<Params>,
}

impl Call {
    fn query(params: &[(String, String)]) -> Call {
        Call {
            query: params.to_vec(),
            ..Call::default()
        }
    }

    fn param(mut self, name: &str, value: &str) -> Call {
        self.query.push((name.into(), value.into()));
        self
    }

    fn header(mut self, name: &str, value: &str) -> Call {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn form(mut self, name: &str, value: &str) -> Call {
        self.form
            .get_or_insert_with(Vec::new)
            .push((name.into(), value.into()));
        self
    }

    fn bearer(token: &str) -> Call {
        Call::default().header("Authorization", &format!("Bearer {token}"))
    }
}

/// A world whose functions reach moto through a proxy that can fail on demand, served by the
/// local API with the authorizer's cache off, and what the answers covered.
struct Harness {
    contract: Contract,
    world: World,
    proxy: FaultyServer,
    gateway: Gateway,
    http: reqwest::Client,
    /// (operation, HTTP status) to the (code, extMsg) answered.
    seen: BTreeMap<(String, u16), BTreeSet<(i64, String)>>,
}

impl Harness {
    async fn new() -> Harness {
        let world = World::new().await;
        let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
        let store = world.store_via(&proxy.url(), LIMITS);
        let functions = InProcess::new(&world, store);
        // No cache: each request meets the authorizer's decision of that moment.
        let overrides = HashMap::from([("AuthorizerCacheSeconds".to_owned(), "0".to_owned())]);
        let api = Template::parse(TEMPLATE)
            .and_then(|t| t.api(&overrides))
            .expect("template");
        let gateway = Gateway::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            api,
            Arc::new(functions),
            false,
        )
        .await
        .expect("local API");
        Harness {
            contract: Contract::load(),
            world,
            proxy,
            gateway,
            http: reqwest::Client::new(),
            seen: BTreeMap::new(),
        }
    }

    /// Sends `call` to the operation's method and path as the document gives them.
    async fn send(&self, id: &str, call: &Call) -> Answer {
        let operation = self.contract.operation(id);
        let mut url = format!("{}{}", self.gateway.url(), operation.path);
        if !call.query.is_empty() {
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&call.query)
                .finish();
            url = format!("{url}?{query}");
        }
        let method = reqwest::Method::from_bytes(operation.method.as_bytes()).expect("method");
        let mut request = self.http.request(method, url);
        for (name, value) in &call.headers {
            request = request.header(name, value);
        }
        if let Some(form) = &call.form {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish();
            request = request
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let response = request.send().await.expect("the local API answers");
        let status = response.status().as_u16();
        let mut headers: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in response.headers() {
            headers
                .entry(name.as_str().to_owned())
                .or_default()
                .push(value.to_str().expect("text header").to_owned());
        }
        let bytes = response.bytes().await.expect("a body");
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{id}: not JSON: {}", String::from_utf8_lossy(&bytes)));
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Checks an answer against the document and the code and extMsg the case expects.
    fn record(&mut self, case: &str, id: &str, answer: &Answer, code: i64, ext_msg: &str) {
        self.contract.check(case, id, answer);
        let got = (
            answer.body["code"].as_i64().unwrap_or_default(),
            answer.body["extMsg"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
        assert_eq!(got, (code, ext_msg.to_owned()), "{id}, {case}: {answer:?}");
        self.seen
            .entry((id.to_owned(), answer.status))
            .or_default()
            .insert(got);
    }

    /// One case: the request, the checks, and the answer's body.
    async fn case(&mut self, case: &str, id: &str, call: Call, code: i64, ext: &str) -> Value {
        let answer = self.send(id, &call).await;
        self.record(case, id, &answer, code, ext);
        answer.body
    }

    /// A case with DynamoDB failing on `operation` (every one with `None`) for its duration.
    async fn case_with_fault(
        &mut self,
        case: &str,
        id: &str,
        call: Call,
        (operation, fault): (Option<&str>, Fault),
        code: i64,
    ) {
        self.proxy.inject(operation, fault);
        let answer = self.send(id, &call).await;
        self.proxy.heal();
        self.record(case, id, &answer, code, "");
    }

    /// A throttled DynamoDB request answers 5001, a refused one 5000.
    async fn dynamodb_faults(&mut self, id: &str, call: Call) {
        let cases = [
            ("DynamoDB throttles", throttled(), 5001),
            ("DynamoDB refuses the request", refused(), 5000),
        ];
        for (case, fault, code) in cases {
            self.case_with_fault(case, id, call.clone(), (None, fault), code)
                .await;
        }
    }

    /// Every (code, extMsg) the document gives the operation was answered, bar `NOT_PRODUCED`.
    fn assert_covered(&self, id: &str) {
        let mut missing = Vec::new();
        for status in self.contract.statuses(id) {
            let response = self.contract.response_pointer(id, status);
            let schema = self
                .contract
                .at(&self.contract.media_schema_pointer(&response));
            let seen = self.seen.get(&(id.to_owned(), status));
            for (code, ext) in self.contract.variants(schema) {
                let excused = NOT_PRODUCED.contains(&(id, status, code, ext.as_str()));
                if !excused && !seen.is_some_and(|s| s.contains(&(code, ext.clone()))) {
                    missing.push(format!("HTTP {status} code {code} extMsg {ext:?}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "{id}: documented, never answered: {missing:?}"
        );
    }

    /// A login through the local API: a new session.
    async fn sign_in(&mut self) -> Tokens {
        let call = Call::query(&self.world.login_params());
        let body = self
            .case("sign in", "twitterAuthLogin", call, 200, "")
            .await;
        Tokens::from_answer(200, &body)
    }

    async fn set_enabled(&self, enabled: bool) {
        self.world
            .admin
            .set_enabled(DOMAIN, enabled)
            .await
            .expect("set enabled");
    }
}

fn throttled() -> Fault {
    Fault::dynamodb_error(400, "ThrottlingException")
}

/// A request DynamoDB refuses as malformed: not the caller's fault, so 5000.
fn refused() -> Fault {
    Fault::dynamodb_error(400, "ValidationException")
}

// ---------------------------------------------------------------------------------------------
// The document on its own, and against the template

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

    // Per response: the code enum is exactly the branches' codes, and each code has a named
    // example that fits the schema.
    for operation in &contract.operations {
        let id = &operation.id;
        for status in contract.statuses(id) {
            let response = contract.response_pointer(id, status);
            let schema_pointer = contract.media_schema_pointer(&response);
            let schema = contract.at(&schema_pointer);
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
            let examples = format!("{response}/content/{}/examples", escape(JSON));
            let mut example_codes = BTreeSet::new();
            for name in contract.at(&examples).as_object().expect("examples").keys() {
                let example = contract.follow(&format!("{examples}/{}", escape(name)));
                let value = &contract.at(&example)["value"];
                if let Err(why) = contract.validate(&schema_pointer, value) {
                    panic!("{id} {status} example {name}: {why}");
                }
                example_codes.insert(value["code"].as_i64().expect("code"));
            }
            assert_eq!(codes, example_codes, "{id} {status}: one example per code");
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
    let api = Template::parse(TEMPLATE)
        .and_then(|t| t.api(&HashMap::new()))
        .expect("template");
    let documented: BTreeSet<(String, String)> = contract
        .operations
        .iter()
        .map(|o| (o.method.clone(), o.path.clone()))
        .collect();
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

// ---------------------------------------------------------------------------------------------
// The operations

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
    let long = Call::bearer(&"a".repeat(1100));
    h.case(
        "Authorization over 1024 bytes",
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
