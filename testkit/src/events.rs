//! Lambda events as the functions receive them: the tests, the benchmarks and the fuzzing all
//! build their events here.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "/v2/enduser/enduserapi";
pub const LOGIN_ROUTE: &str = "/v2/enduser/enduserapi/twitterAuthLogin";
pub const REFRESH_ROUTE: &str = "/v2/enduser/enduserapi/refreshToken";
pub const LOGOUT_ROUTE: &str = "/v2/enduser/enduserapi/userLogout";
pub const USER_INFO_ROUTE: &str = "/v2/enduser/enduserapi/userInfo";
pub const SESSIONS_ROUTE: &str = "/v2/enduser/enduserapi/sessions";
/// The route of one session, as the API's resource names it.
pub const SESSION_ROUTE: &str = "/v2/enduser/enduserapi/sessions/{sessionId}";

/// The request id every built event carries.
pub const REQUEST_ID: &str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef";
pub const API_ID: &str = "1234567890";
pub const ACCOUNT_ID: &str = "123456789012";

/// A REST API (v1) proxy event.
#[derive(Debug, Clone)]
pub struct RestEvent {
    method: String,
    /// The API's resource, `{name}` for a path parameter; the path itself unless set.
    resource: Option<String>,
    path: String,
    path_parameters: Vec<(String, String)>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<String>,
    authorizer: Option<Value>,
}

impl RestEvent {
    pub fn new(method: &str, path: &str) -> RestEvent {
        RestEvent {
            method: method.to_owned(),
            resource: None,
            path: path.to_owned(),
            path_parameters: Vec::new(),
            query: Vec::new(),
            headers: vec![
                ("Host".into(), "api.example.com".into()),
                ("User-Agent".into(), "testkit".into()),
                ("X-Forwarded-For".into(), "127.0.0.1".into()),
                ("X-Forwarded-Proto".into(), "https".into()),
                ("X-Forwarded-Port".into(), "443".into()),
            ],
            body: None,
            authorizer: None,
        }
    }

    /// Query parameters in order, repeats allowed.
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, params: &[(K, V)]) -> Self {
        self.query.extend(
            params
                .iter()
                .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())),
        );
        self
    }

    /// The route's resource, with `{name}` where this path carries parameter `name`.
    pub fn resource(mut self, resource: &str) -> Self {
        self.resource = Some(resource.to_owned());
        self
    }

    /// A path parameter, as API Gateway passes it.
    pub fn path_parameter(mut self, name: &str, value: &str) -> Self {
        self.path_parameters
            .push((name.to_owned(), value.to_owned()));
        self
    }

    /// The `User-Agent` the client sent in place of the default one, or none at all.
    pub fn user_agent(mut self, value: Option<&str>) -> Self {
        self.headers.retain(|(name, _)| name != "User-Agent");
        match value {
            Some(value) => self.header("User-Agent", value),
            None => self,
        }
    }

    /// A header; given twice, it is sent twice.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// An `application/x-www-form-urlencoded` body of these pairs.
    pub fn form<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> Self {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
            .finish();
        self.header("Content-Type", "application/x-www-form-urlencoded")
            .body(&body)
    }

    pub fn body(mut self, body: &str) -> Self {
        self.body = Some(body.to_owned());
        self
    }

    /// The context an authorizer put on the request.
    pub fn authorizer(mut self, context: Value) -> Self {
        self.authorizer = Some(context);
        self
    }

    pub fn to_json(&self) -> String {
        let (single_query, multi_query) = single_and_multi(&self.query);
        let (single_headers, multi_headers) = single_and_multi(&self.headers);
        let resource = self.resource.as_deref().unwrap_or(&self.path);
        let (path_parameters, _) = single_and_multi(&self.path_parameters);
        let mut context = json!({
            "accountId": ACCOUNT_ID,
            "resourceId": "abc123",
            "stage": "prod",
            "requestId": REQUEST_ID,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "testkit"},
            "resourcePath": resource,
            "httpMethod": self.method,
            "apiId": API_ID,
            "protocol": "HTTP/1.1"
        });
        if let Some(authorizer) = &self.authorizer {
            context["authorizer"] = authorizer.clone();
        }
        json!({
            "resource": resource,
            "path": self.path,
            "httpMethod": self.method,
            "headers": single_headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": single_query,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": path_parameters,
            "stageVariables": null,
            "requestContext": context,
            "body": self.body,
            "isBase64Encoded": false
        })
        .to_string()
    }
}

/// API Gateway's two views of repeated names: the last value, and every value.
pub(crate) fn single_and_multi(pairs: &[(String, String)]) -> (Value, Value) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in pairs {
        single.insert(name.clone(), Value::String(value.clone()));
        if let Value::Array(values) = multi.entry(name.clone()).or_insert_with(|| json!([])) {
            values.push(Value::String(value.clone()));
        }
    }
    let or_null = |map: Map<String, Value>| {
        if map.is_empty() {
            Value::Null
        } else {
            Value::Object(map)
        }
    };
    (or_null(single), or_null(multi))
}

/// A login event (REST API v1 proxy) with these query parameters, in order, repeats allowed.
pub fn rest_event<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    RestEvent::new("POST", LOGIN_ROUTE).query(params).to_json()
}

/// A login event from an HTTP API (v2) with this raw (percent-encoded) query string.
pub fn http_api_event(raw_query: &str) -> String {
    json!({
        "version": "2.0",
        "routeKey": format!("POST {LOGIN_ROUTE}"),
        "rawPath": LOGIN_ROUTE,
        "rawQueryString": raw_query,
        "headers": {"host": "api.example.com", "content-length": "0"},
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "api-id",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {"method": "POST", "path": LOGIN_ROUTE, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "testkit"},
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": format!("POST {LOGIN_ROUTE}"),
            "stage": "$default",
            "time": "25/Nov/2026:19:00:00 +0000",
            "timeEpoch": 1795633200000u64
        },
        "isBase64Encoded": false
    })
    .to_string()
}

/// The method ARN API Gateway sends the authorizer for `method path` on stage `prod`.
pub fn method_arn(method: &str, path: &str) -> String {
    format!("arn:aws:execute-api:us-east-1:{ACCOUNT_ID}:{API_ID}/prod/{method}{path}")
}

/// A `REQUEST` authorizer event for `method path` with these headers.
pub fn authorizer_event(method: &str, path: &str, headers: &[(&str, &str)]) -> Value {
    let pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let (single, multi) = single_and_multi(&pairs);
    json!({
        "type": "REQUEST",
        "methodArn": method_arn(method, path),
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": null,
        "stageVariables": null,
        "requestContext": {
            "path": format!("/prod{path}"),
            "accountId": ACCOUNT_ID,
            "resourceId": "abc123",
            "stage": "prod",
            "requestId": REQUEST_ID,
            "identity": {"sourceIp": "127.0.0.1"},
            "resourcePath": path,
            "httpMethod": method,
            "apiId": API_ID
        }
    })
}

/// Query parameters in order, repeats allowed.
pub type Params = Vec<(String, String)>;

/// The signature a client sends with a login: hex SHA-256 of the plain concatenation.
pub fn login_signature(
    app_id: &str,
    token: &str,
    token_secret: &str,
    domain_secret: &str,
) -> String {
    hex::encode(Sha256::digest(
        format!("{app_id}{token}{token_secret}{domain_secret}").as_bytes(),
    ))
}

/// A login's query, signed with the user domain's secret as a client signs it.
pub fn signed_params(
    user_domain: &str,
    app_id: &str,
    token: &str,
    token_secret: &str,
    domain_secret: &str,
) -> Params {
    vec![
        ("userDomain".into(), user_domain.into()),
        ("appId".into(), app_id.into()),
        ("oauthToken".into(), token.into()),
        ("oauthTokenSecret".into(), token_secret.into()),
        (
            "signature".into(),
            login_signature(app_id, token, token_secret, domain_secret),
        ),
    ]
}

/// Replaces (or adds) one parameter.
pub fn with(params: &[(String, String)], name: &str, value: &str) -> Params {
    let mut out: Params = params.iter().filter(|(k, _)| k != name).cloned().collect();
    out.push((name.into(), value.into()));
    out
}

/// A refresh with the token in a form body, as the platform's clients send it.
pub fn refresh_event(refresh_token: &str) -> String {
    RestEvent::new("PUT", REFRESH_ROUTE)
        .form(&[("refreshToken", refresh_token)])
        .to_json()
}

/// A logout with this `Authorization` header (none with `None`) and `scope`.
pub fn logout_event(authorization: Option<&str>, scope: Option<&str>) -> String {
    let mut event = RestEvent::new("DELETE", LOGOUT_ROUTE);
    if let Some(value) = authorization {
        event = event.header("Authorization", value);
    }
    if let Some(scope) = scope {
        event = event.query(&[("scope", scope)]);
    }
    event.to_json()
}

/// A userInfo request as API Gateway passes it on after the authorizer allowed `uid`.
pub fn user_info_event(uid: &str) -> String {
    RestEvent::new("GET", USER_INFO_ROUTE)
        .authorizer(json!({"principalId": uid, "uid": uid}))
        .to_json()
}

/// What the authorizer tells a route of the session `session_id` of `uid`.
pub fn principal(uid: &str, session_id: &str) -> Value {
    json!({"principalId": uid, "uid": uid, "sessionId": session_id})
}

/// A listing of the sessions of `uid`, from its session `session_id`, as API Gateway passes it
/// on after the authorizer; with a `nextPageToken` for a page after the first.
pub fn list_sessions_event(uid: &str, session_id: &str, page_token: Option<&str>) -> String {
    let mut event = RestEvent::new("GET", SESSIONS_ROUTE).authorizer(principal(uid, session_id));
    if let Some(token) = page_token {
        event = event.query(&[("nextPageToken", token)]);
    }
    event.to_json()
}

/// The ending of session `target` of `uid`, asked from its session `session_id`, as API
/// Gateway passes it on after the authorizer.
pub fn end_session_event(uid: &str, session_id: &str, target: &str) -> String {
    RestEvent::new("DELETE", &format!("{SESSIONS_ROUTE}/{target}"))
        .resource(SESSION_ROUTE)
        .path_parameter("sessionId", target)
        .authorizer(principal(uid, session_id))
        .to_json()
}
