//! The functions behind the local API: a world on moto through a proxy that fails on demand,
//! the requests of each case, and the answers it saw.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use testkit::faulty::{Fault, FaultyServer};
use testkit::functions::InProcess;
use testkit::gateway::Gateway;
use testkit::keys::KeyStore;
use testkit::prelude::*;
use twitter_auth_admin::template::Template;
use twitter_auth_login::dynamo::Limits;

use super::TEMPLATE;
use super::document::Contract;

/// What a path segment must escape: all but the unreserved characters of RFC 3986.
const NOT_URL_SAFE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// DynamoDB limits of the functions under test: generous, since moto on a busy machine can take
/// more than the deployed 1 s, and every fault injected here answers at once.
const LIMITS: Limits = Limits {
    connect_timeout: Duration::from_secs(5),
    attempt_timeout: Duration::from_secs(5),
    operation_timeout: Duration::from_secs(12),
    max_attempts: 2,
};

/// An HTTP answer: status, headers by lowercase name, JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HashMap<String, Vec<String>>,
    pub body: Value,
}

/// One request: path parameters, query parameters, headers and form fields, in order, repeats
/// allowed.
#[derive(Default, Clone)]
pub struct Call {
    path: Params,
    query: Params,
    headers: Params,
    form: Option<Params>,
}

impl Call {
    pub fn query(params: &[(String, String)]) -> Call {
        Call {
            query: params.to_vec(),
            ..Call::default()
        }
    }

    /// A path parameter: `{name}` in the operation's path, percent-encoded.
    pub fn path(mut self, name: &str, value: &str) -> Call {
        self.path.push((name.into(), value.into()));
        self
    }

    pub fn param(mut self, name: &str, value: &str) -> Call {
        self.query.push((name.into(), value.into()));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Call {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn form(mut self, name: &str, value: &str) -> Call {
        self.form
            .get_or_insert_with(Vec::new)
            .push((name.into(), value.into()));
        self
    }

    pub fn bearer(token: &str) -> Call {
        Call::default().header("Authorization", &format!("Bearer {token}"))
    }
}

/// A world whose functions reach moto through a proxy that can fail on demand, served by the
/// local API with the authorizer's cache off, and what the answers covered.
pub struct Harness {
    pub contract: Contract,
    pub world: World,
    proxy: FaultyServer,
    /// Between the functions and their keys (Secrets Manager, SSM).
    keys_proxy: FaultyServer,
    gateway: Gateway,
    http: reqwest::Client,
    /// (operation, HTTP status) to the (code, extMsg) answered.
    pub seen: BTreeMap<(String, u16), BTreeSet<(i64, String)>>,
}

impl Harness {
    pub async fn new() -> Harness {
        Harness::with(World::new().await).await
    }

    /// The same, with a key store of its own, for cases that break it.
    pub async fn with_own_keys() -> Harness {
        let mut world = World::new().await;
        world.keys = KeyStore::rotated(&world.endpoint).await;
        Harness::with(world).await
    }

    /// The harness around `world`, as the test set it up.
    pub async fn with(mut world: World) -> Harness {
        let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
        let keys_proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
        world.keys_endpoint = keys_proxy.url();
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
            keys_proxy,
            gateway,
            http: reqwest::Client::new(),
            seen: BTreeMap::new(),
        }
    }

    /// Sends `call` to the operation's method and path as the document gives them.
    async fn send(&self, id: &str, call: &Call) -> Answer {
        let operation = self.contract.operation(id);
        let mut path = operation.path.clone();
        for (name, value) in &call.path {
            let encoded = percent_encoding::utf8_percent_encode(value, NOT_URL_SAFE);
            path = path.replace(&format!("{{{name}}}"), &encoded.to_string());
        }
        let mut url = format!("{}{path}", self.gateway.url());
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
    pub fn record(&mut self, case: &str, id: &str, answer: &Answer, code: i64, ext_msg: &str) {
        self.contract.check(case, id, answer);
        let got = self.contract.answered(id, answer);
        assert_eq!(got, (code, ext_msg.to_owned()), "{id}, {case}: {answer:?}");
        self.seen
            .entry((id.to_owned(), answer.status))
            .or_default()
            .insert(got);
    }

    /// One case: the request, the checks, and the answer's body.
    pub async fn case(&mut self, case: &str, id: &str, call: Call, code: i64, ext: &str) -> Value {
        let answer = self.send(id, &call).await;
        self.record(case, id, &answer, code, ext);
        answer.body
    }

    /// A case with DynamoDB failing on `operation` (every one with `None`) for its duration.
    pub async fn case_with_fault(
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

    /// A case with every read of the keys failing for its duration.
    pub async fn case_with_keys_down(&mut self, case: &str, id: &str, call: Call, code: i64) {
        self.keys_proxy.inject(None, Fault::Drop);
        let answer = self.send(id, &call).await;
        self.keys_proxy.heal();
        self.record(case, id, &answer, code, "");
    }

    /// A throttled DynamoDB request answers 5001, a refused one 5000.
    pub async fn dynamodb_faults(&mut self, id: &str, call: Call) {
        let cases = [
            ("DynamoDB throttles", throttled(), 5001),
            ("DynamoDB refuses the request", refused(), 5000),
        ];
        for (case, fault, code) in cases {
            self.case_with_fault(case, id, call.clone(), (None, fault), code)
                .await;
        }
    }

    /// A login through the local API: a new session.
    pub async fn sign_in(&mut self) -> Tokens {
        let call = Call::query(&self.world.login_params());
        let body = self
            .case("sign in", "twitterAuthLogin", call, 200, "")
            .await;
        Tokens::from_answer(200, &body)
    }

    pub async fn set_enabled(&self, enabled: bool) {
        self.world
            .admin
            .set_enabled(DOMAIN, enabled)
            .await
            .expect("set enabled");
    }
}

pub fn throttled() -> Fault {
    Fault::dynamodb_error(400, "ThrottlingException")
}

/// A request DynamoDB refuses as malformed: not the caller's fault, so 5000.
pub fn refused() -> Fault {
    Fault::dynamodb_error(400, "ValidationException")
}
