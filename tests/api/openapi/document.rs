//! The document: docs/openapi.yaml loaded as JSON, its operations, its schemas compiled, and
//! one answer checked against what it describes for the operation and HTTP status.

use std::collections::{BTreeSet, HashMap};

use jsonschema::Validator;
use serde_json::{Value, json};
use yaml_rust2::{Yaml, YamlLoader};

use super::harness::Answer;

const DOCUMENT: &str = include_str!("../../../docs/openapi.yaml");

pub const JSON: &str = "application/json";
/// The fields of a path item that are operations.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

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
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The pointer of a local `$ref`.
pub fn ref_pointer(reference: &str) -> &str {
    reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local references are used: {reference}"))
}

pub struct Operation {
    pub id: String,
    pub method: String,
    pub path: String,
    pub pointer: String,
}

pub struct Contract {
    pub doc: Value,
    pub operations: Vec<Operation>,
    /// Compiled schemas by their pointer in the document.
    validators: HashMap<String, Validator>,
}

impl Contract {
    pub fn load() -> Contract {
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
        // As a URI fragment: a path's `{param}` percent-encoded.
        let fragment = pointer
            .replace('%', "%25")
            .replace('{', "%7B")
            .replace('}', "%7D");
        root["$ref"] = json!(format!("#{fragment}"));
        jsonschema::draft202012::new(&root)
            .unwrap_or_else(|error| panic!("schema at {pointer} does not compile: {error}"))
    }

    pub fn at(&self, pointer: &str) -> &Value {
        self.doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("nothing at #{pointer}"))
    }

    /// The pointer of the object at `pointer`, following `$ref`s (responses, headers, examples).
    pub fn follow(&self, pointer: &str) -> String {
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

    pub fn operation(&self, id: &str) -> &Operation {
        self.operations
            .iter()
            .find(|o| o.id == id)
            .unwrap_or_else(|| panic!("no operation {id} in the document"))
    }

    pub fn statuses(&self, id: &str) -> Vec<u16> {
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

    pub fn response_pointer(&self, id: &str, status: u16) -> String {
        let operation = self.operation(id);
        let pointer = format!("{}/responses/{status}", operation.pointer);
        if self.doc.pointer(&pointer).is_none() {
            panic!("{id} documents no HTTP {status}");
        }
        self.follow(&pointer)
    }

    /// A response's headers: name and pointer, `$ref`s followed.
    pub fn headers(&self, response: &str) -> Vec<(String, String)> {
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

    pub fn media_schema_pointer(&self, response: &str) -> String {
        let content = self.at(&format!("{response}/content"));
        let types: Vec<&String> = content.as_object().expect("content").keys().collect();
        assert_eq!(types, [JSON], "{response}: answers are JSON only");
        format!("{response}/content/{}/schema", escape(JSON))
    }

    pub fn validate(&self, pointer: &str, instance: &Value) -> Result<(), String> {
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

    /// Whether a response schema is the envelope (it has a `code`), or a plain document (the
    /// discovery endpoints' 200).
    pub fn is_envelope(&self, schema: &Value) -> bool {
        self.schema(schema).pointer("/properties/code").is_some()
    }

    /// What one answer was, as coverage counts it: the envelope's code and extMsg, or for a
    /// plain document its HTTP status.
    pub fn answered(&self, id: &str, answer: &Answer) -> (i64, String) {
        let response = self.response_pointer(id, answer.status);
        if !self.is_envelope(self.at(&self.media_schema_pointer(&response))) {
            return (i64::from(answer.status), String::new());
        }
        (
            answer.body["code"].as_i64().unwrap_or_default(),
            answer.body["extMsg"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }

    /// Every answer a response documents, as [`Contract::answered`] names them.
    pub fn answers(&self, id: &str, status: u16) -> BTreeSet<(i64, String)> {
        let schema = self.at(&self.media_schema_pointer(&self.response_pointer(id, status)));
        if self.is_envelope(schema) {
            self.variants(schema)
        } else {
            BTreeSet::from([(i64::from(status), String::new())])
        }
    }

    /// The codes a response schema lists for its status.
    pub fn codes(&self, schema: &Value) -> BTreeSet<i64> {
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
    pub fn variants(&self, schema: &Value) -> BTreeSet<(i64, String)> {
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
    pub fn check(&self, case: &str, id: &str, answer: &Answer) {
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
        if self.is_envelope(self.at(&schema)) && !self.codes(self.at(&schema)).contains(&code) {
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
