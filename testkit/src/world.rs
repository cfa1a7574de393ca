//! A whole deployment on loopback: every table of template.yaml on a real DynamoDB API (moto),
//! under fresh names; a seeded user domain, app and MCC routes; the Twitter stand-in that
//! checks OAuth signatures; and the functions wired to them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use twitter_auth_admin::template::Template;
use twitter_auth_admin::{Admin, provision};
use twitter_auth_login::config::{CacheSeconds, DEFAULT_MAX_SESSIONS_PER_USER, Table, TableNames};
use twitter_auth_login::domain::grant::IssuedPair;
use twitter_auth_login::domain::secret::Secret;
use twitter_auth_login::domain::session::{Lifetimes, StoredToken, TokenOwner, TokenRules};
use twitter_auth_login::domain::token::{random_hex, random_id};
use twitter_auth_login::domain::user_domain::UserDomainName;
use twitter_auth_login::dynamo::capabilities::{EndingStore, ListingStore};
use twitter_auth_login::dynamo::items;
use twitter_auth_login::dynamo::{DynamoStore, Limits};
use twitter_auth_login::endpoints::authorizer::Authorizer;
use twitter_auth_login::endpoints::end_session::EndSession;
use twitter_auth_login::endpoints::issuing::PairIssuer;
use twitter_auth_login::endpoints::list_sessions::ListSessions;
use twitter_auth_login::endpoints::login::Login;
use twitter_auth_login::endpoints::logout::Logout;
use twitter_auth_login::endpoints::refresh::Refresh;
use twitter_auth_login::endpoints::token_check::TokenCheck;
use twitter_auth_login::endpoints::token_keys::TokenKeys;
use twitter_auth_login::endpoints::user_info::UserInfo;
use twitter_auth_login::jwt::AccessTokenVerifier;
use twitter_auth_login::ports::{Derivation, TokenReader};
use twitter_auth_login::secrets::DerivationSecret;
use twitter_auth_login::startup::{PublicKeys, SigningKeys};
use twitter_auth_login::twitter::{TwitterClient, Url};

use crate::events::{self, Params, RestEvent, signed_params};
use crate::faulty::FaultyServer;
use crate::invoke::{Tokens, call};
use crate::keys::KeyStore;
use crate::memory::ManualClock;
use crate::moto::{PATIENT, dynamodb_client, moto_endpoint};
use crate::stored::Item;
use crate::traffic::ItemKey;
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
    session_max: 7_776_000,
};
pub const REFRESH_REUSE_GRACE: u64 = 30;

/// Every table named `{prefix}-{kebab-case name}`, apart from every other world's.
pub fn table_names(prefix: &str) -> TableNames {
    Table::ALL
        .into_iter()
        .fold(TableNames::default(), |tables, table| {
            let kebab = table
                .variable()
                .trim_end_matches("_TABLE")
                .to_ascii_lowercase()
                .replace('_', "-");
            tables.with(table, format!("{prefix}-{kebab}s"))
        })
}

/// The demo data of local runs and `events/`, from `local/demo.json`.
#[derive(Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Demo {
    pub user_domain: String,
    pub user_domain_secret: String,
    pub derivation_key_secret: String,
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
            derivation_key_secret: String::new(),
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

pub struct World {
    pub endpoint: String,
    /// For setting up and inspecting the tables: patient, so a busy moto does not fail a test.
    pub client: Client,
    /// The functions' own client, with their limits.
    function_client: Client,
    pub tables: TableNames,
    pub admin: Admin,
    pub twitter: TwitterStub,
    pub seed: Demo,
    pub domain_secret: String,
    /// The functions' clock: starts at real time, and tests move it.
    pub clock: Arc<ManualClock>,
    pub lifetimes: Lifetimes,
    pub refresh_reuse_grace: u64,
    /// What the functions' stores keep of the config tables: nothing unless a test says so,
    /// so that every read is counted where a test counts them.
    pub caches: CacheSeconds,
    /// `MAX_SESSIONS_PER_USER` of the world's login.
    pub max_sessions: u64,
    /// Where the keys are: the process's shared key store unless a test gives its own.
    pub keys: KeyStore,
    /// Where the functions read their keys: moto, or a proxy in front of it.
    pub keys_endpoint: String,
    /// `TOKEN_ISSUER`.
    pub issuer: String,
}

/// The functions of a world, as their binaries build them.
pub type WorldLogin = Login<DynamoStore, TwitterClient, SigningKeys, DerivationSecret>;
pub type WorldRefresh = Refresh<DynamoStore, SigningKeys, DerivationSecret>;
pub type WorldLogout = Logout<DynamoStore, PublicKeys>;
pub type WorldAuthorizer<S = DynamoStore> = Authorizer<S, PublicKeys>;

/// The issuer of a world whose API is not served over HTTP.
pub const ISSUER: &str = "https://auth.example.test/prod";

impl World {
    /// Fresh tables with the test domain (a generated secret), app and MCC routes.
    pub async fn new() -> World {
        World::seeded(Demo::test(), None).await
    }

    /// Fresh tables seeded with the demo data of `local/demo.json`, as the local run seeds them.
    pub async fn demo() -> World {
        let demo = Demo::load();
        let secret = demo.user_domain_secret.clone();
        let mut world = World::seeded(demo, Some(secret)).await;
        world.keys =
            KeyStore::rotated_with(&world.endpoint, &world.seed.derivation_key_secret).await;
        world
    }

    async fn seeded(seed: Demo, secret: Option<String>) -> World {
        let endpoint = moto_endpoint();
        let client = dynamodb_client(&endpoint, PATIENT);
        let function_client = dynamodb_client(&endpoint, Limits::default());
        let prefix = random_hex::<6>().expect("random");
        let tables = table_names(&prefix);
        provision::create_tables(&client, &Template::shipped(), &tables, &endpoint)
            .await
            .expect("create tables");
        let admin = Admin::new(client.clone(), tables.clone(), endpoint.clone());
        let domain_secret = admin
            .add_domain(&seed.user_domain, secret.map(Secret::new))
            .await
            .expect("add domain")
            .expose()
            .to_owned();
        admin
            .add_twitter_app(
                &seed.user_domain,
                &seed.app_id,
                &seed.consumer_key,
                &Secret::new(seed.consumer_secret.clone()),
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
        let keys = KeyStore::shared(&endpoint).await;
        World {
            keys_endpoint: endpoint.clone(),
            keys,
            issuer: ISSUER.to_owned(),
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
            refresh_reuse_grace: REFRESH_REUSE_GRACE,
            caches: CacheSeconds::OFF,
            max_sessions: DEFAULT_MAX_SESSIONS_PER_USER,
        }
    }

    /// The DynamoDB adapter on these tables, through `endpoint` (moto, or a proxy in front):
    /// one instance's, with caches of its own as `caches` says, aging by the world's clock.
    pub fn store_via(&self, endpoint: &str, limits: Limits) -> DynamoStore {
        DynamoStore::new(dynamodb_client(endpoint, limits), self.tables.clone())
            .with_caches(self.caches, self.clock.clone())
    }

    pub fn store(&self) -> DynamoStore {
        DynamoStore::new(self.function_client.clone(), self.tables.clone())
            .with_caches(self.caches, self.clock.clone())
    }

    pub fn login(&self) -> WorldLogin {
        self.login_with(self.store(), &self.twitter.base_url())
    }

    pub fn login_with(&self, store: DynamoStore, twitter_base: &str) -> WorldLogin {
        let base = Url::parse(twitter_base).expect("twitter url");
        let twitter = TwitterClient::new(&base, TWITTER_TIMEOUT).expect("twitter client");
        Login::new(
            store,
            twitter,
            self.pair_issuer(),
            self.derivation(),
            self.seed.data_center.clone(),
            self.clock.clone(),
        )
        .with_max_sessions(self.max_sessions)
    }

    /// How the world's login and refresh sign pairs: a fresh key cache, as a cold instance.
    pub fn pair_issuer(&self) -> PairIssuer<SigningKeys> {
        let keys = self
            .keys
            .signing_keys(&self.keys_endpoint, self.clock.clone());
        PairIssuer::new(keys, self.issuer.clone(), self.lifetimes)
    }

    pub fn derivation(&self) -> DerivationSecret {
        self.keys.derivation(&self.keys_endpoint)
    }

    /// How the world's logout and authorizer verify access tokens: a fresh key cache.
    pub fn verifier(&self) -> AccessTokenVerifier<PublicKeys> {
        let keys = self
            .keys
            .public_keys(&self.keys_endpoint, self.clock.clone());
        AccessTokenVerifier::new(keys, self.issuer.clone())
    }

    pub fn refresh(&self) -> WorldRefresh {
        self.refresh_with(self.store())
    }

    pub fn refresh_with(&self, store: DynamoStore) -> WorldRefresh {
        Refresh::new(
            store,
            self.pair_issuer(),
            self.derivation(),
            self.refresh_check(),
        )
    }

    /// How the world's refresh judges refresh tokens.
    pub fn refresh_check(&self) -> TokenCheck {
        let rules = TokenRules::refresh(self.lifetimes.session_max, self.refresh_reuse_grace);
        TokenCheck::new(rules, self.clock.clone())
    }

    /// How the world's logout and authorizer judge access tokens.
    pub fn access_check(&self) -> TokenCheck {
        TokenCheck::new(
            TokenRules::access(self.lifetimes.session_max),
            self.clock.clone(),
        )
    }

    pub fn logout(&self) -> WorldLogout {
        self.logout_with(self.store())
    }

    pub fn logout_with(&self, store: DynamoStore) -> WorldLogout {
        Logout::new(store, self.verifier(), self.access_check())
    }

    pub fn user_info(&self) -> UserInfo<DynamoStore> {
        UserInfo::new(self.store())
    }

    pub fn list_sessions(&self) -> ListSessions<ListingStore> {
        self.list_sessions_with(self.store())
    }

    pub fn list_sessions_with(&self, store: DynamoStore) -> ListSessions<ListingStore> {
        let session_max = self.lifetimes.session_max;
        ListSessions::new(ListingStore::new(store), self.clock.clone(), session_max)
    }

    pub fn end_session(&self) -> EndSession<EndingStore> {
        self.end_session_with(self.store())
    }

    pub fn end_session_with(&self, store: DynamoStore) -> EndSession<EndingStore> {
        let session_max = self.lifetimes.session_max;
        EndSession::new(EndingStore::new(store), self.clock.clone(), session_max)
    }

    pub fn authorizer(&self) -> WorldAuthorizer {
        self.authorizer_with(self.store())
    }

    pub fn authorizer_with<S: TokenReader + Sync>(&self, store: S) -> WorldAuthorizer<S> {
        Authorizer::new(store, self.verifier(), self.access_check())
    }

    pub fn token_keys(&self) -> TokenKeys<PublicKeys> {
        let keys = self
            .keys
            .public_keys(&self.keys_endpoint, self.clock.clone());
        TokenKeys::new(keys, self.issuer.clone())
    }

    /// What template.yaml gives every function (each reads only what it uses), pointed at this
    /// world: its tables, data, lifetimes, Twitter stand-in, issuer and keys. The endpoints
    /// are the caller's to add.
    pub fn variables(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = Table::ALL
            .into_iter()
            .filter_map(|table| {
                let name = self.tables.get(table)?;
                Some((table.variable().to_owned(), name.to_owned()))
            })
            .collect();
        let lifetimes = self.lifetimes;
        env.extend(
            [
                ("DATA_CENTER", self.seed.data_center.clone()),
                (
                    "ACCESS_TOKEN_TTL_SECONDS",
                    lifetimes.access_token_ttl.to_string(),
                ),
                (
                    "REFRESH_TOKEN_TTL_SECONDS",
                    lifetimes.refresh_token_ttl.to_string(),
                ),
                (
                    "REFRESH_REUSE_GRACE_SECONDS",
                    self.refresh_reuse_grace.to_string(),
                ),
                ("SESSION_MAX_SECONDS", lifetimes.session_max.to_string()),
                ("MAX_SESSIONS_PER_USER", self.max_sessions.to_string()),
                ("TWITTER_API_BASE", self.twitter.base_url()),
                ("TWITTER_TIMEOUT_MS", "3000".to_owned()),
                ("TOKEN_ISSUER", self.issuer.clone()),
                ("DOMAIN_CACHE_SECONDS", self.caches.user_domain.to_string()),
                ("MCC_CACHE_SECONDS", self.caches.mcc.to_string()),
            ]
            .map(|(k, v)| (k.to_owned(), v)),
        );
        env.extend(
            self.keys
                .variables()
                .map(|(name, value)| (name.to_owned(), value)),
        );
        env
    }

    /// Each table's key attributes, by the table's name, as template.yaml defines them: what
    /// the counting proxy needs to name the item a `Put` writes.
    pub fn key_attributes(&self) -> HashMap<String, Vec<String>> {
        let specs = Template::shipped().tables().expect("the template's tables");
        Table::ALL
            .into_iter()
            .filter_map(|table| {
                let name = self.tables.get(table)?;
                let spec = specs.iter().find(|s| s.logical_id == table.logical_id())?;
                let key = spec.key_schema.iter().map(|(name, _)| name.clone());
                Some((name.to_owned(), key.collect()))
            })
            .collect()
    }

    /// A pass-through proxy in front of moto that counts requests, and reads and writes per
    /// item: point a function's store at it with [`World::store_via`].
    pub async fn counting_proxy(&self) -> FaultyServer {
        let proxy = FaultyServer::proxy(&self.endpoint).await.expect("proxy");
        proxy.set_key_attributes(self.key_attributes());
        proxy
    }

    /// How the counting proxy names an item of one of these tables.
    pub fn item_key(&self, table: Table, key: &[(&str, &str)]) -> ItemKey {
        ItemKey::new(self.tables.get(table).expect("table"), key)
    }

    /// The item the counting proxy names, read back as it is now.
    pub async fn item_named(&self, item: &ItemKey) -> Option<Item> {
        let specs = Template::shipped().tables().expect("the template's tables");
        let table = Table::ALL
            .into_iter()
            .find(|table| self.tables.get(*table) == Some(item.table.as_str()))?;
        let spec = specs.iter().find(|s| s.logical_id == table.logical_id())?;
        let mut key = Item::new();
        for pair in item.key.split(", ") {
            let (name, value) = pair.split_once('=')?;
            let number = spec
                .attributes
                .iter()
                .any(|(attribute, kind)| attribute == name && kind == "N");
            let value = if number {
                AttributeValue::N(value.to_owned())
            } else {
                AttributeValue::S(value.to_owned())
            };
            key.insert(name.to_owned(), value);
        }
        self.get(&item.table, key).await
    }

    /// The uid of a Twitter account on this world's user domain.
    pub async fn uid_of(&self, twitter_user_id: &str) -> String {
        self.derivation()
            .derivation_keys()
            .await
            .expect("derivation keys")
            .uid(&self.seed.user_domain, twitter_user_id)
            .expect("uid")
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
        self.sign_in_as(&self.login_params(), Some("testkit")).await
    }

    /// A login with these parameters from a client that sends this `User-Agent` (or none),
    /// which must succeed.
    pub async fn sign_in_as(&self, params: &Params, user_agent: Option<&str>) -> Tokens {
        let patient = self.login_with(
            self.store_via(&self.endpoint, PATIENT),
            &self.twitter.base_url(),
        );
        let event = RestEvent::new("POST", events::LOGIN_ROUTE)
            .query(params)
            .user_agent(user_agent);
        let (status, body) = call(&patient, &event.to_json()).await;
        Tokens::from_answer(status, &body)
    }

    /// The signed query of a login of another Twitter account (number `n`) on this world's
    /// user domain: another end user.
    pub fn another_account(&self, n: usize) -> Params {
        let (token, token_secret) = (format!("{n}-another-token"), format!("another-secret-{n}"));
        self.twitter.add_account(Account {
            consumer_key: self.seed.consumer_key.clone(),
            consumer_secret: self.seed.consumer_secret.clone(),
            token: token.clone(),
            token_secret: token_secret.clone(),
            user_id: format!("{}", 500_000 + n),
            username: format!("another{n}"),
        });
        signed_params(
            &self.seed.user_domain,
            &self.seed.app_id,
            &token,
            &token_secret,
            &self.domain_secret,
        )
    }

    /// More active sessions of the end user `uid`, stored as a login stores them but without
    /// their tokens (nor a count on the user's ledger), the `n`th at `created_at(n)`: for
    /// listings of more sessions than logins would make quickly. Their ids, in order.
    pub async fn add_sessions(
        &self,
        uid: &str,
        count: usize,
        created_at: impl Fn(usize) -> u64,
    ) -> Vec<String> {
        let user_domain =
            UserDomainName::parse(&self.seed.user_domain).expect("the world's user domain");
        let mut ids = Vec::new();
        let mut writes = Vec::new();
        for n in 0..count {
            let issued_at = created_at(n);
            let stored = |expiration_time| StoredToken {
                hash: random_hex::<32>().expect("random"),
                expiration_time,
            };
            let pair = IssuedPair {
                pair_id: random_hex::<16>().expect("random"),
                issued_at,
                owner: TokenOwner {
                    uid: uid.to_owned(),
                    session_id: random_id().expect("random"),
                    user_domain: user_domain.clone(),
                    app_id: self.seed.app_id.clone(),
                    twitter_user_id: self.seed.twitter_user_id.clone(),
                    twitter_username: None,
                    mcc: None,
                },
                access: stored(issued_at + self.lifetimes.access_token_ttl),
                refresh: stored(issued_at + self.lifetimes.refresh_token_ttl),
                access_key_id: "added".to_owned(),
            };
            let end = issued_at + self.lifetimes.session_max;
            let item = items::session_item(&pair, end, "");
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .expect("put");
            writes.push(WriteRequest::builder().put_request(put).build());
            ids.push(pair.owner.session_id);
        }
        let table = self.tables.get(Table::Session).expect("table");
        // BatchWriteItem takes 25 at a time.
        for batch in writes.chunks(25) {
            let mut pending = HashMap::from([(table.to_owned(), batch.to_vec())]);
            while !pending.is_empty() {
                let written = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(pending))
                    .send()
                    .await
                    .expect("batch write");
                pending = written.unprocessed_items.unwrap_or_default();
                pending.retain(|_, rest| !rest.is_empty());
            }
        }
        ids
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
        self.get(self.tables.get(table).expect("table"), key).await
    }

    /// One item of the table named `table_name`, read as it is now.
    async fn get(&self, table_name: &str, key: Item) -> Option<Item> {
        self.client
            .get_item()
            .table_name(table_name)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item
    }

    /// The session item of the session these tokens belong to; the test fails without one.
    pub async fn session_of(&self, tokens: &Tokens) -> Item {
        self.item(
            Table::Session,
            &[("uid", &tokens.uid), ("sessionId", &tokens.session_id())],
        )
        .await
        .expect("the session's item")
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
