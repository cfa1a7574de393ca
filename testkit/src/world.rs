//! A whole deployment on loopback: every table of template.yaml on a real DynamoDB API (moto),
//! under fresh names; a seeded user domain, app and MCC routes; the Twitter stand-in that
//! checks OAuth signatures; and the five functions wired to them, driven through their edges.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::lambda_runtime::{Context, Diagnostic};
use serde_json::{Value, json};
use twitter_auth_admin::admin::Admin;
use twitter_auth_admin::provision;
use twitter_auth_login::config::{Table, Tables};
use twitter_auth_login::dynamo::{DynamoStore, Limits};
use twitter_auth_login::endpoints::authorizer::Authorizer;
use twitter_auth_login::endpoints::login::signature;
use twitter_auth_login::endpoints::login::{Login, Policy};
use twitter_auth_login::endpoints::logout::Logout;
use twitter_auth_login::endpoints::refresh::Refresh;
use twitter_auth_login::endpoints::user_info::UserInfo;
use twitter_auth_login::http::{Endpoint, edge};
use twitter_auth_login::ports::TokenReader;
use twitter_auth_login::session::Lifetimes;
use twitter_auth_login::token::random_hex;
use twitter_auth_login::twitter::{TwitterClient, Url};

use crate::events::{self, LOGOUT_ROUTE, REFRESH_ROUTE, REQUEST_ID, RestEvent, USER_INFO_ROUTE};
use crate::memory::ManualClock;
use crate::twitter::{Account, TwitterStub};

pub const DOMAIN: &str = "C.DM.5903.1";
pub const APP_ID: &str = "twitter-app-1";
pub const CONSUMER_KEY: &str = "ck-abc";
pub const CONSUMER_SECRET: &str = "cs-very-secret";
pub const OAUTH_TOKEN: &str = "1234-oauthtokenvalue";
pub const OAUTH_TOKEN_SECRET: &str = "oauth+token/secret";
pub const TWITTER_USER_ID: &str = "783214";
pub const TWITTER_USERNAME: &str = "jack";
pub const DATA_CENTER: &str = "dc-eu";
pub const LOCAL_MCC: i32 = 262;
pub const FOREIGN_MCC: i32 = 460;
pub const TWITTER_TIMEOUT: Duration = Duration::from_millis(800);
pub const LIFETIMES: Lifetimes = Lifetimes {
    access_token_ttl: 7200,
    refresh_token_ttl: 2_592_000,
    refresh_reuse_grace: 30,
    session_max: 7_776_000,
};

pub type Item = HashMap<String, AttributeValue>;

/// Limits for the tests' own calls, which wait out a busy moto.
pub const PATIENT: Limits = Limits {
    connect_timeout: Duration::from_secs(10),
    attempt_timeout: Duration::from_secs(30),
    operation_timeout: Duration::from_secs(60),
    max_attempts: 3,
};

/// Query parameters in order, repeats allowed.
pub type Params = Vec<(String, String)>;

pub fn dynamodb_client(endpoint: &str, limits: Limits) -> Client {
    let builder = aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"));
    Client::from_conf(limits.apply(builder).build())
}

pub fn moto_endpoint() -> String {
    match crate::moto::dynamodb_endpoint() {
        Ok(url) => url,
        Err(why) => panic!("a DynamoDB API server is needed: {why}"),
    }
}

/// The demo data of local runs and `events/`, from `local/demo.json`.
#[derive(Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Demo {
    pub user_domain: String,
    pub user_domain_secret: String,
    pub app_id: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub oauth_token: String,
    pub oauth_token_secret: String,
    pub twitter_user_id: String,
    pub twitter_username: String,
    pub data_center: String,
    pub mcc_routes: HashMap<String, String>,
}

impl Demo {
    pub fn load() -> Demo {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../local/demo.json");
        serde_json::from_str(&std::fs::read_to_string(path).expect("local/demo.json"))
            .expect("demo data")
    }

    /// The test world's data: a generated domain secret.
    fn test() -> Demo {
        Demo {
            user_domain: DOMAIN.into(),
            user_domain_secret: String::new(),
            app_id: APP_ID.into(),
            consumer_key: CONSUMER_KEY.into(),
            consumer_secret: CONSUMER_SECRET.into(),
            oauth_token: OAUTH_TOKEN.into(),
            oauth_token_secret: OAUTH_TOKEN_SECRET.into(),
            twitter_user_id: TWITTER_USER_ID.into(),
            twitter_username: TWITTER_USERNAME.into(),
            data_center: DATA_CENTER.into(),
            mcc_routes: HashMap::from([
                (LOCAL_MCC.to_string(), DATA_CENTER.into()),
                (FOREIGN_MCC.to_string(), "dc-cn".into()),
            ]),
        }
    }

    pub fn account(&self) -> Account {
        Account {
            consumer_key: self.consumer_key.clone(),
            consumer_secret: self.consumer_secret.clone(),
            token: self.oauth_token.clone(),
            token_secret: self.oauth_token_secret.clone(),
            user_id: self.twitter_user_id.clone(),
            username: self.twitter_username.clone(),
        }
    }
}

/// The tokens a login or refresh answered.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub uid: String,
    pub access_expires: u64,
    pub refresh_expires: u64,
}

impl Tokens {
    /// From a success envelope; panics (failing the test) on anything else.
    pub fn from_answer(status: u16, body: &Value) -> Tokens {
        assert_eq!((status, body["code"].as_u64()), (200, Some(200)), "{body}");
        let text = |pointer: &str| {
            body.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{pointer} in {body}"))
                .to_owned()
        };
        let number = |pointer: &str| {
            body.pointer(pointer)
                .and_then(Value::as_u64)
                .unwrap_or_else(|| panic!("{pointer} in {body}"))
        };
        Tokens {
            access: text("/data/accessToken/token"),
            refresh: text("/data/refreshToken/token"),
            uid: text("/data/uid"),
            access_expires: number("/data/accessToken/expirationTime"),
            refresh_expires: number("/data/refreshToken/expirationTime"),
        }
    }

    /// The session id in front of the tokens.
    pub fn session_id(&self) -> String {
        self.access
            .rsplit('.')
            .nth(1)
            .expect("a token carries its session id")
            .to_owned()
    }
}

pub struct World {
    pub endpoint: String,
    /// For setting up and inspecting the tables: patient, so a busy moto does not fail a test.
    pub client: Client,
    /// The functions' own client, with their limits.
    function_client: Client,
    pub tables: Tables,
    pub admin: Admin,
    pub twitter: TwitterStub,
    pub seed: Demo,
    pub domain_secret: String,
    /// The functions' clock: starts at real time, and tests move it.
    pub clock: Arc<ManualClock>,
    pub lifetimes: Lifetimes,
}

impl World {
    /// Fresh tables with the test domain (a generated secret), app and MCC routes.
    pub async fn new() -> World {
        World::seeded(Demo::test(), None).await
    }

    /// Fresh tables seeded with the demo data of `local/demo.json`, as the local run seeds them.
    pub async fn demo() -> World {
        let demo = Demo::load();
        let secret = demo.user_domain_secret.clone();
        World::seeded(demo, Some(secret)).await
    }

    async fn seeded(seed: Demo, secret: Option<String>) -> World {
        let endpoint = moto_endpoint();
        let client = dynamodb_client(&endpoint, PATIENT);
        let function_client = dynamodb_client(&endpoint, Limits::default());
        let prefix = random_hex::<6>().expect("random");
        let tables = Tables::prefixed(&prefix);
        provision::create_tables(&client, provision::TEMPLATE, &tables, &endpoint)
            .await
            .expect("create tables");
        let admin = Admin::new(client.clone(), tables.clone(), endpoint.clone());
        let domain_secret = admin
            .add_domain(&seed.user_domain, secret)
            .await
            .expect("add domain");
        admin
            .add_twitter_app(
                &seed.user_domain,
                &seed.app_id,
                &seed.consumer_key,
                &seed.consumer_secret,
            )
            .await
            .expect("add app");
        for (mcc, data_center) in &seed.mcc_routes {
            admin
                .set_mcc_route(mcc.parse().expect("mcc"), data_center)
                .await
                .expect("mcc route");
        }
        let twitter = TwitterStub::start(vec![seed.account()])
            .await
            .expect("twitter stub");
        World {
            endpoint,
            client,
            function_client,
            tables,
            admin,
            twitter,
            seed,
            domain_secret,
            clock: Arc::new(ManualClock::starting_now()),
            lifetimes: LIFETIMES,
        }
    }

    /// The DynamoDB adapter on these tables, through `endpoint` (moto, or a proxy in front).
    pub fn store_via(&self, endpoint: &str, limits: Limits) -> DynamoStore {
        DynamoStore::new(dynamodb_client(endpoint, limits), self.tables.clone())
    }

    pub fn store(&self) -> DynamoStore {
        DynamoStore::new(self.function_client.clone(), self.tables.clone())
    }

    pub fn login(&self) -> Login<DynamoStore, TwitterClient> {
        self.login_with(self.store(), &self.twitter.base_url())
    }

    pub fn login_with(
        &self,
        store: DynamoStore,
        twitter_base: &str,
    ) -> Login<DynamoStore, TwitterClient> {
        let base = Url::parse(twitter_base).expect("twitter url");
        let twitter = TwitterClient::new(&base, TWITTER_TIMEOUT).expect("twitter client");
        let policy = Policy {
            data_center: self.seed.data_center.clone(),
            lifetimes: self.lifetimes,
        };
        Login::new(store, twitter, policy, self.clock.clone())
    }

    pub fn refresh(&self) -> Refresh<DynamoStore> {
        self.refresh_with(self.store())
    }

    pub fn refresh_with(&self, store: DynamoStore) -> Refresh<DynamoStore> {
        Refresh::new(store, self.lifetimes, self.clock.clone())
    }

    pub fn logout(&self) -> Logout<DynamoStore> {
        self.logout_with(self.store())
    }

    pub fn logout_with(&self, store: DynamoStore) -> Logout<DynamoStore> {
        Logout::new(store, self.lifetimes, self.clock.clone())
    }

    pub fn user_info(&self) -> UserInfo<DynamoStore> {
        UserInfo::new(self.store())
    }

    pub fn authorizer(&self) -> Authorizer<DynamoStore> {
        self.authorizer_with(self.store())
    }

    pub fn authorizer_with<S: TokenReader + Sync>(&self, store: S) -> Authorizer<S> {
        Authorizer::new(store, self.lifetimes, self.clock.clone())
    }

    /// The query of a valid login, signed with this domain's secret, as ordered pairs.
    pub fn login_params(&self) -> Params {
        signed_params(
            &self.seed.user_domain,
            &self.seed.app_id,
            &self.seed.oauth_token,
            &self.seed.oauth_token_secret,
            &self.domain_secret,
        )
    }

    /// A login through the login function, which must succeed: a test's setup, so it waits out
    /// a moto that other tests keep busy.
    pub async fn sign_in(&self) -> Tokens {
        let patient = self.login_with(
            self.store_via(&self.endpoint, PATIENT),
            &self.twitter.base_url(),
        );
        let (status, body) = call(&patient, &events::rest_event(&self.login_params())).await;
        Tokens::from_answer(status, &body)
    }

    /// Every item of a table.
    pub async fn items(&self, table: Table) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(self.tables.get(table).expect("table"))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return items,
            }
        }
    }

    /// One item by its key.
    pub async fn item(&self, table: Table, key: &[(&str, &str)]) -> Option<Item> {
        let key: Item = key
            .iter()
            .map(|(k, v)| ((*k).to_owned(), AttributeValue::S((*v).to_owned())))
            .collect();
        self.client
            .get_item()
            .table_name(self.tables.get(table).expect("table"))
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item
    }

    /// Sets attributes of one item, as an operator or a lapse of time would.
    pub async fn set(&self, table: Table, key: &[(&str, &str)], values: &[(&str, AttributeValue)]) {
        let key: Item = key
            .iter()
            .map(|(k, v)| ((*k).to_owned(), AttributeValue::S((*v).to_owned())))
            .collect();
        let mut update = self
            .client
            .update_item()
            .table_name(self.tables.get(table).expect("table"))
            .set_key(Some(key));
        let mut sets = Vec::new();
        for (i, (name, value)) in values.iter().enumerate() {
            sets.push(format!("#n{i} = :v{i}"));
            update = update
                .expression_attribute_names(format!("#n{i}"), *name)
                .expression_attribute_values(format!(":v{i}"), value.clone());
        }
        update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
            .expect("update item");
    }
}

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
            signature::expected(app_id, token, token_secret, domain_secret),
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

/// The invocation context the tests give: a request id, no deadline.
pub fn context() -> Context {
    let mut context = Context::default();
    context.request_id = REQUEST_ID.to_owned();
    context
}

/// Invokes an HTTP function with a raw event, as Lambda would: the status and the envelope.
pub async fn call<E: Endpoint>(endpoint: &E, event: &str) -> (u16, Value) {
    call_before(endpoint, event, None).await
}

/// The same, as an invocation whose Lambda deadline is `deadline` from now.
pub async fn call_before<E: Endpoint>(
    endpoint: &E,
    event: &str,
    deadline: Option<Duration>,
) -> (u16, Value) {
    let mut context = context();
    if let Some(deadline) = deadline {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock");
        context.deadline = (now + deadline).as_millis() as u64;
    }
    let (status, headers, body) = invoke_whole(endpoint, event, context).await;
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some("application/json"),
        "{body}"
    );
    (status, body)
}

/// Invokes an HTTP function with a raw event: status, headers (lowercase names) and body.
pub async fn call_whole<E: Endpoint>(
    endpoint: &E,
    event: &str,
) -> (u16, HashMap<String, String>, Value) {
    invoke_whole(endpoint, event, context()).await
}

async fn invoke_whole<E: Endpoint>(
    endpoint: &E,
    event: &str,
    context: Context,
) -> (u16, HashMap<String, String>, Value) {
    let payload = serde_json::value::RawValue::from_string(event.to_owned()).expect("raw json");
    let response = edge::invoke(endpoint, &payload, context).await;
    let response = serde_json::to_value(&response).expect("response json");
    let status = response["statusCode"].as_u64().expect("statusCode") as u16;
    let mut headers = HashMap::new();
    for field in ["headers", "multiValueHeaders"] {
        if let Some(map) = response[field].as_object() {
            for (name, value) in map {
                let value = match value {
                    Value::Array(values) => values.first().and_then(Value::as_str),
                    other => other.as_str(),
                };
                if let Some(value) = value {
                    headers.insert(name.to_ascii_lowercase(), value.to_owned());
                }
            }
        }
    }
    let body = response["body"]
        .as_str()
        .map(|text| serde_json::from_str(text).expect("json body"))
        .unwrap_or(Value::Null);
    (status, headers, body)
}

/// Asks the authorizer about an event: its policy as JSON, or its error.
pub async fn authorize<S: TokenReader + Sync>(
    authorizer: &Authorizer<S>,
    event: Value,
) -> Result<Value, Diagnostic> {
    let event = serde_json::from_value(event).expect("authorizer event");
    authorizer
        .invoke(event, REQUEST_ID, None)
        .await
        .map(|response| serde_json::to_value(response).expect("policy json"))
}

/// A string attribute of a stored item; the test fails if it is missing or not S.
pub fn string_attr(item: &Item, name: &str) -> String {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_else(|| panic!("{name} is not S in {item:?}"))
}

/// A number attribute of a stored item; the test fails if it is missing or not N.
pub fn number_attr(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} is not N in {item:?}"))
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A request id as API Gateway would make one.
pub fn fresh_request_id() -> String {
    random_hex::<16>().unwrap_or_default()
}
