//! The one reader of `template.yaml`: its tables (which the admin CLI creates on a local
//! DynamoDB), its functions, its API (routes, authorizers, gateway responses) and its global
//! settings. Everything that needs to know what the template says asks here, so that nothing
//! it defines is written a second time.

use std::collections::HashMap;
use std::time::Duration;

use yaml_rust2::{Yaml, YamlLoader};

/// The template, as shipped beside the crates.
pub const TEMPLATE: &str = include_str!("../../template.yaml");

/// A parsed SAM/CloudFormation template.
#[derive(Debug, Clone)]
pub struct Template {
    doc: Yaml,
}

/// One `AWS::DynamoDB::Table`, as far as creating it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub logical_id: String,
    /// (name, S | N | B)
    pub attributes: Vec<(String, String)>,
    /// (name, HASH | RANGE)
    pub key_schema: Vec<(String, String)>,
    pub billing_mode: String,
    pub ttl_attribute: Option<String>,
    pub local_indexes: Vec<IndexSpec>,
}

/// One local secondary index of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: String,
    /// (name, HASH | RANGE)
    pub key_schema: Vec<(String, String)>,
    /// ALL | KEYS_ONLY | INCLUDE
    pub projection: String,
    /// What INCLUDE adds to the keys.
    pub non_key_attributes: Vec<String>,
}

/// One `AWS::Serverless::Function`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    pub logical_id: String,
    /// Its binary, as `Metadata.BuildProperties.Binary` names it.
    pub binary: String,
}

/// One route of the API: `GET /v2/...` served by a function, maybe behind an authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
    /// The function's binary.
    pub function: String,
    pub authorizer: Option<String>,
}

/// A Lambda `REQUEST` authorizer of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerSpec {
    pub function: String,
    /// The identity source: this header, lowercase.
    pub header: String,
    pub cache: Duration,
}

/// A gateway response the template sets: status, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayResponseSpec {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The API as the template defines it.
#[derive(Debug, Clone)]
pub struct ApiSpec {
    pub stage: String,
    pub routes: Vec<Route>,
    pub authorizers: HashMap<String, AuthorizerSpec>,
    pub responses: HashMap<String, GatewayResponseSpec>,
}

/// A scalar as text: strings, numbers and booleans alike. `!Ref Name` reads as "Name" and
/// `!GetAtt Resource.Arn` as "Resource.Arn".
fn scalar(yaml: &Yaml) -> Option<String> {
    match yaml {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, String> {
        let docs =
            YamlLoader::load_from_str(text).map_err(|e| format!("template is not YAML: {e}"))?;
        let doc = docs.into_iter().next().ok_or("template is empty")?;
        if doc["Resources"].as_hash().is_none() {
            return Err("template has no Resources".to_owned());
        }
        Ok(Template { doc })
    }

    /// The template shipped beside the crates.
    pub fn shipped() -> Template {
        match Template::parse(TEMPLATE) {
            Ok(template) => template,
            // Checked by this module's tests: the shipped template always parses.
            Err(why) => panic!("the shipped template.yaml: {why}"),
        }
    }

    /// Every resource of a type, with its logical id.
    fn resources_of(&self, kind: &str) -> Vec<(String, &Yaml)> {
        self.doc["Resources"]
            .as_hash()
            .into_iter()
            .flatten()
            .filter(|(_, resource)| resource["Type"].as_str() == Some(kind))
            .filter_map(|(id, resource)| Some((id.as_str()?.to_owned(), resource)))
            .collect()
    }

    /// A parameter's default, or the override given for it (as `sam deploy
    /// --parameter-overrides` sets it).
    pub fn parameter(&self, name: &str, overrides: &HashMap<String, String>) -> Option<String> {
        overrides
            .get(name)
            .cloned()
            .or_else(|| scalar(&self.doc["Parameters"][name]["Default"]))
    }

    /// Every DynamoDB table.
    pub fn tables(&self) -> Result<Vec<TableSpec>, String> {
        let mut specs = Vec::new();
        for (logical_id, resource) in self.resources_of("AWS::DynamoDB::Table") {
            let properties = &resource["Properties"];
            let pairs = |list: &Yaml, a: &str, b: &str| -> Result<Vec<(String, String)>, String> {
                list.as_vec()
                    .ok_or(format!("{logical_id}: no list of {a}"))?
                    .iter()
                    .map(|entry| match (entry[a].as_str(), entry[b].as_str()) {
                        (Some(x), Some(y)) => Ok((x.to_owned(), y.to_owned())),
                        _ => Err(format!("{logical_id}: an entry lacks {a} or {b}")),
                    })
                    .collect()
            };
            let ttl = &properties["TimeToLiveSpecification"];
            let mut local_indexes = Vec::new();
            for index in properties["LocalSecondaryIndexes"]
                .as_vec()
                .into_iter()
                .flatten()
            {
                let name = scalar(&index["IndexName"])
                    .ok_or(format!("{logical_id}: an index without IndexName"))?;
                let projection = &index["Projection"];
                local_indexes.push(IndexSpec {
                    key_schema: pairs(&index["KeySchema"], "AttributeName", "KeyType")?,
                    projection: scalar(&projection["ProjectionType"])
                        .ok_or(format!("{logical_id}: index {name} without ProjectionType"))?,
                    non_key_attributes: projection["NonKeyAttributes"]
                        .as_vec()
                        .into_iter()
                        .flatten()
                        .filter_map(scalar)
                        .collect(),
                    name,
                });
            }
            specs.push(TableSpec {
                local_indexes,
                attributes: pairs(
                    &properties["AttributeDefinitions"],
                    "AttributeName",
                    "AttributeType",
                )?,
                key_schema: pairs(&properties["KeySchema"], "AttributeName", "KeyType")?,
                billing_mode: properties["BillingMode"]
                    .as_str()
                    .unwrap_or("PROVISIONED")
                    .to_owned(),
                ttl_attribute: match ttl["Enabled"].as_bool() {
                    Some(true) => ttl["AttributeName"].as_str().map(str::to_owned),
                    _ => None,
                },
                logical_id,
            });
        }
        Ok(specs)
    }

    /// Every function, with the binary it is built from.
    pub fn functions(&self) -> Result<Vec<FunctionSpec>, String> {
        self.resources_of("AWS::Serverless::Function")
            .into_iter()
            .map(|(logical_id, _)| {
                Ok(FunctionSpec {
                    binary: self.binary_of(&logical_id)?,
                    logical_id,
                })
            })
            .collect()
    }

    fn binary_of(&self, logical_id: &str) -> Result<String, String> {
        scalar(&self.doc["Resources"][logical_id]["Metadata"]["BuildProperties"]["Binary"])
            .ok_or(format!("function {logical_id} names no binary"))
    }

    /// Every function's `Timeout`, from `Globals`.
    pub fn function_timeout(&self) -> Result<Duration, String> {
        let seconds = self.doc["Globals"]["Function"]["Timeout"]
            .as_i64()
            .ok_or("Globals.Function.Timeout is not a number")?;
        Ok(Duration::from_secs(
            seconds.try_into().map_err(|_| "negative Timeout")?,
        ))
    }

    /// An environment variable every function gets, from `Globals`, when it is a literal.
    pub fn global_variable(&self, name: &str) -> Result<String, String> {
        match &self.doc["Globals"]["Function"]["Environment"]["Variables"][name] {
            Yaml::String(value) => Ok(value.clone()),
            Yaml::Integer(value) => Ok(value.to_string()),
            _ => Err(format!("{name} is not a literal in Globals")),
        }
    }

    /// The one `AWS::Serverless::Api` and the functions' `Api` events. `overrides` set
    /// template parameters.
    pub fn api(&self, overrides: &HashMap<String, String>) -> Result<ApiSpec, String> {
        let mut routes = Vec::new();
        for (id, resource) in self.resources_of("AWS::Serverless::Function") {
            let Some(events) = resource["Properties"]["Events"].as_hash() else {
                continue;
            };
            for event in events.values() {
                if event["Type"].as_str() != Some("Api") {
                    continue;
                }
                let properties = &event["Properties"];
                let field = |name: &str| {
                    scalar(&properties[name]).ok_or(format!("{id}: an Api event lacks {name}"))
                };
                routes.push(Route {
                    method: field("Method")?.to_ascii_uppercase(),
                    path: field("Path")?,
                    function: self.binary_of(&id)?,
                    authorizer: scalar(&properties["Auth"]["Authorizer"])
                        .filter(|name| name != "NONE"),
                });
            }
        }
        let apis = self.resources_of("AWS::Serverless::Api");
        let (_, api) = apis.first().ok_or("template has no AWS::Serverless::Api")?;
        let properties = &api["Properties"];
        let stage = scalar(&properties["StageName"]).ok_or("the API has no StageName")?;

        let mut authorizers = HashMap::new();
        if let Some(defined) = properties["Auth"]["Authorizers"].as_hash() {
            for (name, spec) in defined {
                let name = name.as_str().ok_or("authorizer name")?.to_owned();
                let arn = scalar(&spec["FunctionArn"]).ok_or(format!("{name}: no FunctionArn"))?;
                let function = self.binary_of(arn.trim_end_matches(".Arn"))?;
                if scalar(&spec["FunctionPayloadType"]).as_deref() != Some("REQUEST") {
                    return Err(format!("{name}: only REQUEST authorizers are served"));
                }
                let header = spec["Identity"]["Headers"]
                    .as_vec()
                    .and_then(|headers| headers.first())
                    .and_then(scalar)
                    .ok_or(format!("{name}: no identity header"))?
                    .to_ascii_lowercase();
                let cache = scalar(&spec["Identity"]["ReauthorizeEvery"])
                    .map(|value| self.parameter(&value, overrides).unwrap_or(value))
                    .unwrap_or_else(|| "300".to_owned());
                let cache = cache
                    .parse()
                    .map_err(|_| format!("{name}: ReauthorizeEvery is not a number"))?;
                authorizers.insert(
                    name,
                    AuthorizerSpec {
                        function,
                        header,
                        cache: Duration::from_secs(cache),
                    },
                );
            }
        }

        let mut responses = HashMap::new();
        if let Some(defined) = properties["GatewayResponses"].as_hash() {
            for (kind, spec) in defined {
                let kind = kind.as_str().ok_or("gateway response type")?.to_owned();
                let status = scalar(&spec["StatusCode"])
                    .and_then(|s| s.parse().ok())
                    .ok_or(format!("{kind}: no StatusCode"))?;
                let headers = spec["ResponseParameters"]["Headers"]
                    .as_hash()
                    .map(|headers| {
                        headers
                            .iter()
                            .filter_map(|(name, value)| {
                                // Static values are quoted: "'application/json'".
                                let value = scalar(value)?;
                                Some((
                                    name.as_str()?.to_owned(),
                                    value.trim_matches('\'').to_owned(),
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let body =
                    scalar(&spec["ResponseTemplates"]["application/json"]).unwrap_or_default();
                responses.insert(
                    kind,
                    GatewayResponseSpec {
                        status,
                        headers,
                        body,
                    },
                );
            }
        }
        Ok(ApiSpec {
            stage,
            routes,
            authorizers,
            responses,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(tables: &[TableSpec], logical_id: &str) -> TableSpec {
        tables
            .iter()
            .find(|t| t.logical_id == logical_id)
            .cloned()
            .unwrap_or_else(|| panic!("{logical_id}"))
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn reads_the_shipped_templates_tables() {
        let tables = Template::shipped().tables().expect("tables");
        assert_eq!(tables.len(), 5);

        let domain = spec(&tables, "UserDomainTable");
        assert_eq!(domain.key_schema, pairs(&[("userDomain", "HASH")]));
        assert_eq!(domain.attributes, pairs(&[("userDomain", "S")]));
        assert_eq!(domain.billing_mode, "PAY_PER_REQUEST");
        assert_eq!(domain.ttl_attribute, None);

        let mcc = spec(&tables, "MccTable");
        assert_eq!(mcc.key_schema, pairs(&[("mcc", "HASH")]));
        assert_eq!(mcc.attributes, pairs(&[("mcc", "N")]));

        let token = spec(&tables, "TokenTable");
        assert_eq!(token.key_schema, pairs(&[("tokenHash", "HASH")]));
        assert_eq!(token.ttl_attribute.as_deref(), Some("expirationTime"));

        let session = spec(&tables, "SessionTable");
        assert_eq!(
            session.key_schema,
            pairs(&[("uid", "HASH"), ("sessionId", "RANGE")])
        );
        assert_eq!(
            session.attributes,
            pairs(&[("uid", "S"), ("sessionId", "S"), ("activeSince", "N")])
        );
        assert_eq!(session.ttl_attribute.as_deref(), Some("expirationTime"));
        assert_eq!(
            session.local_indexes,
            [IndexSpec {
                name: "ActiveSessions".into(),
                key_schema: pairs(&[("uid", "HASH"), ("activeSince", "RANGE")]),
                projection: "INCLUDE".into(),
                non_key_attributes: [
                    "appId",
                    "createdAt",
                    "lastUsedAt",
                    "userAgent",
                    "expirationTime",
                    "status"
                ]
                .map(String::from)
                .to_vec(),
            }]
        );
        assert!(
            tables
                .iter()
                .filter(|t| t.logical_id != "SessionTable")
                .all(|t| t.local_indexes.is_empty())
        );

        let user = spec(&tables, "UserTable");
        assert_eq!(user.key_schema, pairs(&[("uid", "HASH")]));
        assert_eq!(user.ttl_attribute, None);
        assert!(tables.iter().all(|s| s.billing_mode == "PAY_PER_REQUEST"));
    }

    #[test]
    fn a_template_without_resources_is_refused() {
        assert!(
            Template::parse("Resources: {}").is_ok_and(|t| t.tables().is_ok_and(|t| t.is_empty()))
        );
        assert!(Template::parse("Parameters: {}").is_err());
        assert!(Template::parse("not: [valid").is_err());
    }

    #[test]
    fn reads_the_shipped_templates_api() {
        let api = Template::shipped().api(&HashMap::new()).expect("api");
        assert_eq!(api.stage, "prod");
        let route = |method: &str, path: &str| {
            api.routes
                .iter()
                .find(|r| r.method == method && r.path == format!("/v2/enduser/enduserapi/{path}"))
                .cloned()
                .unwrap_or_else(|| panic!("{method} {path}"))
        };
        assert_eq!(
            route("POST", "twitterAuthLogin").function,
            "twitter-auth-login"
        );
        assert_eq!(route("PUT", "refreshToken").function, "refresh-token");
        assert_eq!(route("DELETE", "userLogout").function, "user-logout");
        let info = route("GET", "userInfo");
        assert_eq!(
            (info.function.as_str(), info.authorizer.as_deref()),
            ("user-info", Some("TokenAuthorizer"))
        );
        for (method, path, function) in [
            ("GET", "sessions", "list-sessions"),
            ("DELETE", "sessions/{sessionId}", "end-session"),
        ] {
            let behind = route(method, path);
            assert_eq!(
                (behind.function.as_str(), behind.authorizer.as_deref()),
                (function, Some("TokenAuthorizer"))
            );
        }
        assert_eq!(api.routes.len(), 6);
        assert_eq!(
            api.authorizers["TokenAuthorizer"],
            AuthorizerSpec {
                function: "token-authorizer".into(),
                header: "authorization".into(),
                cache: Duration::from_secs(60),
            }
        );
        let overridden = Template::shipped()
            .api(&HashMap::from([(
                "AuthorizerCacheSeconds".to_owned(),
                "5".to_owned(),
            )]))
            .expect("api");
        assert_eq!(
            overridden.authorizers["TokenAuthorizer"].cache,
            Duration::from_secs(5)
        );
    }

    #[test]
    fn reads_the_shipped_templates_functions_and_globals() {
        let template = Template::shipped();
        let binaries: Vec<String> = template
            .functions()
            .expect("functions")
            .into_iter()
            .map(|f| f.binary)
            .collect();
        for binary in [
            "twitter-auth-login",
            "refresh-token",
            "user-logout",
            "user-info",
            "list-sessions",
            "end-session",
            "token-authorizer",
        ] {
            assert!(binaries.iter().any(|b| b == binary), "{binary}");
        }
        assert_eq!(template.function_timeout(), Ok(Duration::from_secs(10)));
        assert_eq!(
            template.global_variable("TWITTER_TIMEOUT_MS").as_deref(),
            Ok("3000")
        );
    }
}
