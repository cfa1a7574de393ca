//! A whole login world on loopback: tables on a real DynamoDB API (moto), created from
//! template.yaml under fresh names, a seeded user domain, and a Twitter stand-in that checks
//! OAuth signatures.

#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Response};
use serde_json::Value;
use testkit::twitter::{Account, TwitterStub};
use twitter_auth_login::admin::Admin;
use twitter_auth_login::config::TableNames;
use twitter_auth_login::dynamo::{DynamoStore, Limits};
use twitter_auth_login::handler::Handler;
use twitter_auth_login::login::{Login, Policy};
use twitter_auth_login::provision;
use twitter_auth_login::signature;
use twitter_auth_login::token::random_hex;
use twitter_auth_login::twitter::TwitterClient;

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
pub const ACCESS_TTL: u64 = 7200;
pub const REFRESH_TTL: u64 = 2_592_000;
pub const TWITTER_TIMEOUT: Duration = Duration::from_millis(800);

pub type TestHandler = Handler<DynamoStore, TwitterClient>;

pub type Item = HashMap<String, AttributeValue>;

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
    match testkit::moto::dynamodb_endpoint() {
        Ok(url) => url,
        Err(why) => panic!("a DynamoDB API server is needed: {why}"),
    }
}

pub fn twitter_account() -> Account {
    Account {
        consumer_key: CONSUMER_KEY.into(),
        consumer_secret: CONSUMER_SECRET.into(),
        token: OAUTH_TOKEN.into(),
        token_secret: OAUTH_TOKEN_SECRET.into(),
        user_id: TWITTER_USER_ID.into(),
        username: TWITTER_USERNAME.into(),
    }
}

pub fn policy() -> Policy {
    Policy {
        data_center: DATA_CENTER.into(),
        access_token_ttl_seconds: ACCESS_TTL,
        refresh_token_ttl_seconds: REFRESH_TTL,
    }
}

pub struct World {
    pub endpoint: String,
    pub client: Client,
    pub tables: TableNames,
    pub admin: Admin,
    pub twitter: TwitterStub,
    pub domain_secret: String,
    pub handler: TestHandler,
}

/// The demo data of local runs and `events/`, from `local/demo.json`.
#[derive(serde::Deserialize)]
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
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/local/demo.json");
        serde_json::from_str(&std::fs::read_to_string(path).expect("local/demo.json"))
            .expect("demo data")
    }
}

/// Fresh, uniquely named tables created from template.yaml on the shared DynamoDB server.
async fn fresh_tables() -> (String, Client, TableNames, Admin) {
    let endpoint = moto_endpoint();
    let client = dynamodb_client(&endpoint, Limits::default());
    let prefix = random_hex::<6>().expect("random");
    let tables = TableNames {
        user_domain: format!("{prefix}-user-domains"),
        mcc: format!("{prefix}-mcc-routes"),
        token: format!("{prefix}-tokens"),
    };
    provision::create_login_tables(&client, provision::TEMPLATE, &tables)
        .await
        .expect("create tables");
    let admin = Admin::new(client.clone(), tables.clone());
    (endpoint, client, tables, admin)
}

impl World {
    /// Fresh tables with the test domain (a generated secret), app and MCC routes, and a
    /// handler wired to them.
    pub async fn new() -> World {
        let seed = Demo {
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
        };
        World::seeded(&seed, None).await
    }

    /// Fresh tables seeded with the demo data of `local/demo.json`, as the local run seeds them.
    pub async fn demo() -> World {
        let demo = Demo::load();
        World::seeded(&demo, Some(demo.user_domain_secret.clone())).await
    }

    /// Fresh tables holding `seed`'s domain (with `secret`, or a generated one), app and MCC
    /// routes; a Twitter stand-in that knows its token; a handler wired to both.
    async fn seeded(seed: &Demo, secret: Option<String>) -> World {
        let (endpoint, client, tables, admin) = fresh_tables().await;
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
        let twitter = TwitterStub::start(vec![Account {
            consumer_key: seed.consumer_key.clone(),
            consumer_secret: seed.consumer_secret.clone(),
            token: seed.oauth_token.clone(),
            token_secret: seed.oauth_token_secret.clone(),
            user_id: seed.twitter_user_id.clone(),
            username: seed.twitter_username.clone(),
        }])
        .await
        .expect("twitter stub");
        let policy = Policy {
            data_center: seed.data_center.clone(),
            ..policy()
        };
        let handler = handler_for(&client, &tables, &twitter.base_url(), policy);
        World {
            endpoint,
            client,
            tables,
            admin,
            twitter,
            domain_secret,
            handler,
        }
    }

    /// A handler on these tables whose DynamoDB calls go to `endpoint` instead.
    pub fn handler_via(&self, endpoint: &str, limits: Limits) -> TestHandler {
        let client = dynamodb_client(endpoint, limits);
        handler_for(&client, &self.tables, &self.twitter.base_url(), policy())
    }

    /// A handler on these tables whose Twitter calls go to `base` instead.
    pub fn handler_with_twitter(&self, base: &str) -> TestHandler {
        handler_for(&self.client, &self.tables, base, policy())
    }

    /// The query of a valid login, signed with this domain's secret, as ordered pairs.
    pub fn valid_params(&self) -> Vec<(String, String)> {
        signed_params(APP_ID, OAUTH_TOKEN, OAUTH_TOKEN_SECRET, &self.domain_secret)
    }

    pub async fn call(&self, params: &[(String, String)]) -> (u16, Value) {
        call(&self.handler, params).await
    }

    /// Every item of the token table.
    pub async fn token_items(&self) -> Vec<Item> {
        let output = self
            .client
            .scan()
            .table_name(&self.tables.token)
            .consistent_read(true)
            .send()
            .await
            .expect("scan");
        output.items.unwrap_or_default()
    }
}

pub fn handler_for(
    client: &Client,
    tables: &TableNames,
    twitter_base: &str,
    policy: Policy,
) -> TestHandler {
    let store = DynamoStore::new(client.clone(), tables.clone());
    let base = reqwest::Url::parse(twitter_base).expect("twitter url");
    let twitter = TwitterClient::new(&base, TWITTER_TIMEOUT).expect("twitter client");
    Handler::new(Login::new(store, twitter, policy))
}

pub fn signed_params(
    app_id: &str,
    token: &str,
    token_secret: &str,
    domain_secret: &str,
) -> Vec<(String, String)> {
    vec![
        ("userDomain".into(), DOMAIN.into()),
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
pub fn with(params: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        params.iter().filter(|(k, _)| k != name).cloned().collect();
    out.push((name.into(), value.into()));
    out
}

pub use testkit::events::rest_event;

pub async fn call(handler: &TestHandler, params: &[(String, String)]) -> (u16, Value) {
    let request = lambda_http::request::from_str(&rest_event(params)).expect("event");
    envelope_of(handler.handle(request).await)
}

pub fn envelope_of(response: Response<Body>) -> (u16, Value) {
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        other => panic!("unexpected body {other:?}"),
    };
    (
        response.status().as_u16(),
        serde_json::from_str(&body).expect("json body"),
    )
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
