//! The one reader of `template.yaml`: its tables (which the admin CLI creates on a local
//! DynamoDB), its functions, its REST API (routes, authorizers, gateway responses, stage) and
//! its global settings. Everything that needs to know what the template says asks here, so that nothing
//! it defines is written a second time.

use std::collections::HashMap;
use std::time::Duration;

use twitter_auth_login::domain::token::hash_token;
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

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

/// A local secondary index of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: String,
    /// (name, HASH | RANGE)
    pub key_schema: Vec<(String, String)>,
    /// ALL | KEYS_ONLY | INCLUDE
    pub projection: String,
    /// The attributes an INCLUDE projection adds to the keys.
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
                    .ok_or(format!("{logical_id}: a local index has no IndexName"))?;
                let projection = &index["Projection"];
                local_indexes.push(IndexSpec {
                    key_schema: pairs(&index["KeySchema"], "AttributeName", "KeyType")?,
                    projection: scalar(&projection["ProjectionType"])
                        .ok_or(format!("{logical_id}: {name} has no ProjectionType"))?,
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
                local_indexes,
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

    /// The REST API, as CloudFormation defines it resource by resource: its routes (the tree of
    /// `AWS::ApiGateway::Resource`s and their `AWS::ApiGateway::Method`s, each a Lambda proxy
    /// integration of a function), its Lambda `REQUEST` authorizers, its gateway responses and
    /// its stage. `overrides` set template parameters.
    pub fn api(&self, overrides: &HashMap<String, String>) -> Result<ApiSpec, String> {
        let api_id = self.rest_api()?;
        let ours = |resource: &Yaml| {
            reference(&resource["Properties"]["RestApiId"]) == Some(api_id.clone())
        };

        let mut authorizers = HashMap::new();
        for (id, resource) in self.resources_of("AWS::ApiGateway::Authorizer") {
            if !ours(resource) {
                continue;
            }
            let properties = &resource["Properties"];
            if scalar(&properties["Type"]).as_deref() != Some("REQUEST") {
                return Err(format!("{id}: only REQUEST authorizers are served"));
            }
            let function = self.integrated_function(&id, &properties["AuthorizerUri"])?;
            let header = scalar(&properties["IdentitySource"])
                .unwrap_or_default()
                .split(',')
                .find_map(|source| source.trim().strip_prefix("method.request.header."))
                .map(str::to_ascii_lowercase)
                .ok_or(format!("{id}: no identity header"))?;
            // API Gateway's default when the template sets none.
            let cache = scalar(&properties["AuthorizerResultTtlInSeconds"])
                .map(|value| self.parameter(&value, overrides).unwrap_or(value))
                .unwrap_or_else(|| "300".to_owned());
            let cache = cache
                .parse()
                .map_err(|_| format!("{id}: AuthorizerResultTtlInSeconds is not a number"))?;
            authorizers.insert(
                id,
                AuthorizerSpec {
                    function,
                    header,
                    cache: Duration::from_secs(cache),
                },
            );
        }

        let mut routes = Vec::new();
        for (id, resource) in self.resources_of("AWS::ApiGateway::Method") {
            if !ours(resource) {
                continue;
            }
            let properties = &resource["Properties"];
            let method = scalar(&properties["HttpMethod"])
                .ok_or(format!("{id}: no HttpMethod"))?
                .to_ascii_uppercase();
            let resource_id =
                reference(&properties["ResourceId"]).ok_or(format!("{id}: no ResourceId"))?;
            let path = self.resource_path(&api_id, &resource_id)?;
            let integration = &properties["Integration"];
            if scalar(&integration["Type"]).as_deref() != Some("AWS_PROXY") {
                return Err(format!("{id}: only Lambda proxy integrations are served"));
            }
            let function = self.integrated_function(&id, &integration["Uri"])?;
            let authorizer = match scalar(&properties["AuthorizationType"]).as_deref() {
                Some("CUSTOM") => {
                    let name = reference(&properties["AuthorizerId"])
                        .ok_or(format!("{id}: CUSTOM authorization names no AuthorizerId"))?;
                    if !authorizers.contains_key(&name) {
                        return Err(format!("{id}: no authorizer {name} of {api_id}"));
                    }
                    Some(name)
                }
                None | Some("NONE") => None,
                Some(other) => {
                    return Err(format!("{id}: AuthorizationType {other} is not served"));
                }
            };
            routes.push(Route {
                method,
                path,
                function,
                authorizer,
            });
        }

        let mut responses = HashMap::new();
        for (id, resource) in self.resources_of("AWS::ApiGateway::GatewayResponse") {
            if !ours(resource) {
                continue;
            }
            let properties = &resource["Properties"];
            let kind =
                scalar(&properties["ResponseType"]).ok_or(format!("{id}: no ResponseType"))?;
            let status = scalar(&properties["StatusCode"])
                .and_then(|s| s.parse().ok())
                .ok_or(format!("{id}: no StatusCode"))?;
            let headers = properties["ResponseParameters"]
                .as_hash()
                .map(|parameters| {
                    parameters
                        .iter()
                        .filter_map(|(name, value)| {
                            let name = name.as_str()?.strip_prefix("gatewayresponse.header.")?;
                            // Static values are quoted: "'application/json'".
                            let value = scalar(value)?;
                            Some((name.to_owned(), value.trim_matches('\'').to_owned()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let body =
                scalar(&properties["ResponseTemplates"]["application/json"]).unwrap_or_default();
            responses.insert(
                kind,
                GatewayResponseSpec {
                    status,
                    headers,
                    body,
                },
            );
        }

        let stages: Vec<String> = self
            .resources_of("AWS::ApiGateway::Stage")
            .into_iter()
            .filter(|(_, stage)| ours(stage))
            .filter_map(|(_, stage)| scalar(&stage["Properties"]["StageName"]))
            .collect();
        let [stage] = &stages[..] else {
            return Err(format!("{api_id} has not exactly one stage: {stages:?}"));
        };
        Ok(ApiSpec {
            stage: stage.clone(),
            routes,
            authorizers,
            responses,
        })
    }

    /// The logical id of the template's one `AWS::ApiGateway::RestApi`.
    fn rest_api(&self) -> Result<String, String> {
        let apis = self.resources_of("AWS::ApiGateway::RestApi");
        match &apis[..] {
            [(id, _)] => Ok(id.clone()),
            _ => Err(format!(
                "template has {} AWS::ApiGateway::RestApi, not one",
                apis.len()
            )),
        }
    }

    /// The path of an API resource: `/` for the API's root (`!GetAtt Api.RootResourceId`),
    /// else its parents' path parts and its own, as `/v2/enduser/{sessionId}`.
    fn resource_path(&self, api_id: &str, resource_id: &str) -> Result<String, String> {
        let root = format!("{api_id}.RootResourceId");
        let mut parts = Vec::new();
        let mut at = resource_id.to_owned();
        while at != root {
            let resource = &self.doc["Resources"][at.as_str()];
            if resource["Type"].as_str() != Some("AWS::ApiGateway::Resource") {
                return Err(format!(
                    "{at} is not an AWS::ApiGateway::Resource of {api_id}"
                ));
            }
            if parts.len() > 64 {
                return Err(format!("the resources above {resource_id} make a loop"));
            }
            let properties = &resource["Properties"];
            parts.push(scalar(&properties["PathPart"]).ok_or(format!("{at}: no PathPart"))?);
            at = reference(&properties["ParentId"]).ok_or(format!("{at}: no ParentId"))?;
        }
        parts.reverse();
        Ok(format!("/{}", parts.join("/")))
    }

    /// The binary of the function a Lambda integration or authorizer URI names, as
    /// `arn:...:lambda:path/2015-03-31/functions/${Function.Arn}/invocations`.
    fn integrated_function(&self, id: &str, uri: &Yaml) -> Result<String, String> {
        let uri = substituted(uri).ok_or(format!("{id}: no Lambda URI"))?;
        let functions: Vec<&str> = uri
            .split("${")
            .skip(1)
            .filter_map(|rest| rest.split_once('}'))
            .filter_map(|(name, _)| name.strip_suffix(".Arn"))
            .collect();
        match &functions[..] {
            [function] => self.binary_of(function),
            _ => Err(format!(
                "{id}: the URI names no one function's ${{X.Arn}}: {uri}"
            )),
        }
    }

    /// A digest of everything a deployment of the API snapshots: every resource, method,
    /// authorizer and gateway response of the REST API, with its logical id. The deployment's
    /// logical id ends with it, so that any change of them makes a new deployment.
    pub fn api_digest(&self) -> Result<String, String> {
        let api_id = self.rest_api()?;
        let mut text = String::new();
        for (id, resource) in self.doc["Resources"].as_hash().into_iter().flatten() {
            let kind = resource["Type"].as_str().unwrap_or_default();
            let part_of_api = id.as_str() == Some(&api_id)
                || matches!(
                    kind,
                    "AWS::ApiGateway::Resource"
                        | "AWS::ApiGateway::Method"
                        | "AWS::ApiGateway::Authorizer"
                        | "AWS::ApiGateway::GatewayResponse"
                );
            if !part_of_api {
                continue;
            }
            let mut entry = Yaml::Hash(Default::default());
            if let Yaml::Hash(hash) = &mut entry {
                hash.insert(id.clone(), resource.clone());
            }
            YamlEmitter::new(&mut text)
                .dump(&entry)
                .map_err(|e| format!("{id:?}: {e}"))?;
            text.push('\n');
        }
        // SHA-256, hex: the first 8 digits name the deployment.
        Ok(hash_token(&text)[..8].to_owned())
    }
}

/// What a Ref or a GetAtt names: `!Ref X` and `{Ref: X}` read "X", `!GetAtt X.Y` and
/// `{Fn::GetAtt: [X, Y]}` read "X.Y".
fn reference(yaml: &Yaml) -> Option<String> {
    if let Some(name) = yaml["Ref"].as_str() {
        return Some(name.to_owned());
    }
    match &yaml["Fn::GetAtt"] {
        Yaml::Array(parts) => {
            let parts: Option<Vec<&str>> = parts.iter().map(Yaml::as_str).collect();
            return parts.map(|parts| parts.join("."));
        }
        Yaml::String(name) => return Some(name.clone()),
        _ => {}
    }
    scalar(yaml)
}

/// The text of a `!Sub`, `{Fn::Sub: text}` or a literal.
fn substituted(yaml: &Yaml) -> Option<String> {
    match &yaml["Fn::Sub"] {
        Yaml::String(text) => Some(text.clone()),
        _ => scalar(yaml),
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
        assert_eq!(session.ttl_attribute.as_deref(), Some("expirationTime"));

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
                .find(|r| r.method == method && r.path == path)
                .cloned()
                .unwrap_or_else(|| panic!("{method} {path}"))
        };
        let served = |method: &str, path: &str| {
            let route = route(method, path);
            (route.function, route.authorizer)
        };
        let open = |function: &str| (function.to_owned(), None);
        let behind = |function: &str| (function.to_owned(), Some("TokenAuthorizer".to_owned()));
        let base = "/v2/enduser/enduserapi";
        assert_eq!(
            served("POST", &format!("{base}/twitterAuthLogin")),
            open("twitter-auth-login")
        );
        assert_eq!(
            served("PUT", &format!("{base}/refreshToken")),
            open("refresh-token")
        );
        assert_eq!(
            served("DELETE", &format!("{base}/userLogout")),
            open("user-logout")
        );
        assert_eq!(
            served("GET", &format!("{base}/userInfo")),
            behind("user-info")
        );
        assert_eq!(
            served("GET", &format!("{base}/sessions")),
            behind("list-sessions")
        );
        assert_eq!(
            served("DELETE", &format!("{base}/sessions/{{sessionId}}")),
            behind("end-session")
        );
        // The discovery documents, at the stage's root.
        assert_eq!(
            served("GET", "/.well-known/openid-configuration"),
            open("token-keys")
        );
        assert_eq!(served("GET", "/.well-known/jwks.json"), open("token-keys"));
        assert_eq!(api.routes.len(), 8);
        assert_eq!(
            api.authorizers["TokenAuthorizer"],
            AuthorizerSpec {
                function: "token-authorizer".into(),
                header: "authorization".into(),
                cache: Duration::from_secs(60),
            }
        );
        assert_eq!(api.authorizers.len(), 1);
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
        let unauthorized = &api.responses["UNAUTHORIZED"];
        assert_eq!(unauthorized.status, 200);
        assert!(
            unauthorized
                .headers
                .contains(&("Cache-Control".to_owned(), "no-store".to_owned()))
        );
        assert_eq!(api.responses.len(), 7);
    }

    /// The resources of the shipped template, by logical id.
    fn resource(id: &str) -> Yaml {
        Template::shipped().doc["Resources"][id].clone()
    }

    fn ids_of(kind: &str) -> Vec<String> {
        Template::shipped()
            .resources_of(kind)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    #[test]
    fn the_api_deploys_whenever_its_definition_changes() {
        let template = Template::shipped();
        let digest = template.api_digest().expect("digest");
        let deployments = ids_of("AWS::ApiGateway::Deployment");
        assert_eq!(
            deployments,
            [format!("ApiDeployment{digest}")],
            "the API's definition changed: rename its deployment to ApiDeployment{digest}, \
             in the stage's DeploymentId too"
        );
        let deployment = &deployments[0];
        let depends: Vec<String> = resource(deployment)["DependsOn"]
            .as_vec()
            .expect("DependsOn")
            .iter()
            .filter_map(scalar)
            .collect();
        // A deployment made before a method or a gateway response exists leaves it out.
        for id in ids_of("AWS::ApiGateway::Method")
            .into_iter()
            .chain(ids_of("AWS::ApiGateway::GatewayResponse"))
        {
            assert!(depends.contains(&id), "{deployment} does not wait for {id}");
        }
        let stages = ids_of("AWS::ApiGateway::Stage");
        assert_eq!(stages.len(), 1);
        assert_eq!(
            reference(&resource(&stages[0])["Properties"]["DeploymentId"]).as_deref(),
            Some(deployment.as_str())
        );

        // The digest sees a change of a route, and nothing outside the API.
        let changed = TEMPLATE.replace("PathPart: userInfo", "PathPart: userInfo2");
        assert_ne!(
            Template::parse(&changed).and_then(|t| t.api_digest()),
            Ok(digest.clone())
        );
        let elsewhere = TEMPLATE.replace("MemorySize: 128", "MemorySize: 256");
        assert_eq!(
            Template::parse(&elsewhere).and_then(|t| t.api_digest()),
            Ok(digest)
        );
    }

    #[test]
    fn api_gateway_may_invoke_each_function_for_its_own_routes_only() {
        let template = Template::shipped();
        let api = template.api(&HashMap::new()).expect("api");
        let functions = template.functions().expect("functions");
        let logical_id = |binary: &str| {
            functions
                .iter()
                .find(|f| f.binary == binary)
                .map(|f| f.logical_id.clone())
                .expect("a function")
        };
        // (function, what the SourceArn says after the API's id) of every permission.
        let permissions: Vec<(String, String)> = template
            .resources_of("AWS::Lambda::Permission")
            .into_iter()
            .filter(|(_, p)| {
                scalar(&p["Properties"]["Principal"]).as_deref() == Some("apigateway.amazonaws.com")
            })
            .map(|(id, p)| {
                let properties = &p["Properties"];
                assert_eq!(
                    scalar(&properties["Action"]).as_deref(),
                    Some("lambda:InvokeFunction"),
                    "{id}"
                );
                let source = substituted(&properties["SourceArn"]).expect("SourceArn");
                let (_, after) = source.split_once("${Api}").expect("the API's ARN");
                (
                    reference(&properties["FunctionName"]).expect("FunctionName"),
                    after.to_owned(),
                )
            })
            .collect();
        let mut expected: Vec<(String, String)> = api
            .routes
            .iter()
            .map(|route| {
                // A path parameter is any one path segment, as API Gateway's ARNs say it.
                let path: Vec<&str> = route
                    .path
                    .split('/')
                    .map(|part| if part.starts_with('{') { "*" } else { part })
                    .collect();
                (
                    logical_id(&route.function),
                    format!("/{}/{}{}", api.stage, route.method, path.join("/")),
                )
            })
            .collect();
        expected.push((
            logical_id(&api.authorizers["TokenAuthorizer"].function),
            "/authorizers/${TokenAuthorizer}".to_owned(),
        ));
        let mut permissions = permissions;
        permissions.sort();
        expected.sort();
        assert_eq!(permissions, expected);
    }

    #[test]
    fn reads_a_rest_api_resource_by_resource() {
        let template = Template::parse(
            r#"
Parameters:
  Cache: {Type: Number, Default: 30}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: fn}}
  Auth:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: auth}}
  Api:
    Type: AWS::ApiGateway::RestApi
  Items:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !GetAtt Api.RootResourceId, PathPart: items}
  Item:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: {Ref: Api}, ParentId: {Ref: Items}, PathPart: "{itemId}"}
  GetItem:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Item
      HttpMethod: get
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref Checker
      Integration:
        Type: AWS_PROXY
        Uri: {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"}
  GetRoot:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !GetAtt Api.RootResourceId
      HttpMethod: GET
      Integration:
        Type: AWS_PROXY
        Uri: !Sub "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"
  Checker:
    Type: AWS::ApiGateway::Authorizer
    Properties:
      RestApiId: !Ref Api
      Name: Checker
      Type: REQUEST
      AuthorizerUri: !Sub "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${Auth.Arn}/invocations"
      IdentitySource: method.request.querystring.q, method.request.header.X-Token
      AuthorizerResultTtlInSeconds: !Ref Cache
  Missing:
    Type: AWS::ApiGateway::GatewayResponse
    Properties:
      RestApiId: !Ref Api
      ResponseType: MISSING_AUTHENTICATION_TOKEN
      StatusCode: "404"
      ResponseParameters: {gatewayresponse.header.X-Why: "'no route'", method.response.header.Other: "'x'"}
      ResponseTemplates: {application/json: '{"code":404}'}
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: {RestApiId: !Ref Api, StageName: v1}
"#,
        )
        .expect("template");
        let api = template.api(&HashMap::new()).expect("api");
        assert_eq!(api.stage, "v1");
        assert_eq!(
            api.routes,
            [
                Route {
                    method: "GET".into(),
                    path: "/items/{itemId}".into(),
                    function: "fn".into(),
                    authorizer: Some("Checker".into()),
                },
                Route {
                    method: "GET".into(),
                    path: "/".into(),
                    function: "fn".into(),
                    authorizer: None,
                },
            ]
        );
        assert_eq!(
            api.authorizers["Checker"],
            AuthorizerSpec {
                function: "auth".into(),
                header: "x-token".into(),
                cache: Duration::from_secs(30),
            }
        );
        assert_eq!(
            api.responses["MISSING_AUTHENTICATION_TOKEN"],
            GatewayResponseSpec {
                status: 404,
                headers: vec![("X-Why".into(), "no route".into())],
                body: r#"{"code":404}"#.into(),
            }
        );

        let broken = |from: &str, to: &str| {
            let text = TEMPLATE_FOR_ERRORS.replace(from, to);
            Template::parse(&text).and_then(|t| t.api(&HashMap::new()))
        };
        assert!(broken("", "").is_ok());
        assert!(broken("Type: REQUEST", "Type: TOKEN").is_err_and(|e| e.contains("REQUEST")));
        assert!(broken("${Fn.Arn}", "${Fn}").is_err_and(|e| e.contains("X.Arn")));
        assert!(broken("Type: AWS_PROXY", "Type: HTTP").is_err_and(|e| e.contains("proxy")));
        assert!(broken("ParentId: !Ref Items", "ParentId: !Ref Nowhere").is_err());
        assert!(broken("StageName: v1", "").is_err_and(|e| e.contains("stage")));
        assert!(
            Template::parse("Resources: {A: {Type: AWS::Serverless::Function}}")
                .and_then(|t| t.api(&HashMap::new()))
                .is_err_and(|e| e.contains("RestApi"))
        );
    }

    const TEMPLATE_FOR_ERRORS: &str = r#"
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: fn}}
  Api:
    Type: AWS::ApiGateway::RestApi
  Items:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !GetAtt Api.RootResourceId, PathPart: items}
  Item:
    Type: AWS::ApiGateway::Resource
    Properties:
      RestApiId: !Ref Api
      ParentId: !Ref Items
      PathPart: one
  GetItem:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Item
      HttpMethod: GET
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref Checker
      Integration:
        Type: AWS_PROXY
        Uri: !Sub "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"
  Checker:
    Type: AWS::ApiGateway::Authorizer
    Properties:
      RestApiId: !Ref Api
      Type: REQUEST
      AuthorizerUri: !Sub "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"
      IdentitySource: method.request.header.Authorization
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: !Ref Api
      StageName: v1
"#;

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
            "token-keys",
            "signing-key-rotation",
            "list-sessions",
            "end-session",
        ] {
            assert!(binaries.iter().any(|b| b == binary), "{binary}");
        }
        assert_eq!(binaries.len(), 9);
        assert_eq!(template.function_timeout(), Ok(Duration::from_secs(10)));
        assert_eq!(
            template.global_variable("TWITTER_TIMEOUT_MS").as_deref(),
            Ok("3000")
        );
    }
}
