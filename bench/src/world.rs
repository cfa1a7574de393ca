//! The loopback deployment the runner measures is testkit's world (every table of template.yaml
//! on moto, the seeded user domain, app and MCC routes, the Twitter stand-in). Here is what the
//! benchmarks add to it: each binary's Lambda environment, each function's first event, and
//! invocations that report a failure instead of panicking.

use std::time::{Duration, Instant};

use lambda_http::aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;
use serde_json::value::RawValue;
use testkit::events::{self, Params, USER_INFO_ROUTE};
use testkit::invoke::context;
use testkit::prelude::{LOCAL_MCC, World};
use testkit::twitter::Account;
use twitter_auth_login::endpoints::authorizer::Authorizer;
use twitter_auth_login::http::{Endpoint, edge};
use twitter_auth_login::invocation::{Handler, Invocation};
use twitter_auth_login::keys::PublicKeySet;
use twitter_auth_login::ports::{KeyRing, TokenReader};

pub type Fallible<T> = Result<T, String>;

/// The world a benchmark measures: testkit's, with a cap of sessions above what any run signs
/// in for one end user, so that each login is the usual one (the login past the cap is
/// measured on its own).
pub async fn world() -> World {
    let mut world = World::new().await;
    world.max_sessions = 1_000_000;
    world
}

pub const REGION: &str = "us-east-1";

/// The login's query, with an MCC routed to this data center so that checks 12 and 13 run too.
pub fn login_params(world: &World) -> Params {
    events::with(&world.login_params(), "mcc", &LOCAL_MCC.to_string())
}

pub fn login_event(world: &World) -> String {
    events::rest_event(&login_params(world))
}

/// The login event of a Twitter account made up for it, so that its end user has only the
/// sessions a benchmark gives it (every login of the seeded account is the same end user).
pub fn new_account_login_event(world: &World, n: usize) -> String {
    let seed = &world.seed;
    let token = format!("{n}-benchaccounttoken");
    let token_secret = format!("bench-account-secret-{n}");
    world.twitter.add_account(Account {
        consumer_key: seed.consumer_key.clone(),
        consumer_secret: seed.consumer_secret.clone(),
        token: token.clone(),
        token_secret: token_secret.clone(),
        user_id: format!("{}", 900_000_000 + n),
        username: format!("bench{n}"),
    });
    let params = events::signed_params(
        &seed.user_domain,
        &seed.app_id,
        &token,
        &token_secret,
        &world.domain_secret,
    );
    events::rest_event(&events::with(&params, "mcc", &LOCAL_MCC.to_string()))
}

/// The authorizer's event for a userInfo request with this access token.
pub fn authorizer_event(access_token: &str) -> String {
    events::authorizer_event("GET", USER_INFO_ROUTE, &[("Authorization", access_token)]).to_string()
}

/// What template.yaml gives every function (each reads only what it uses), with DynamoDB at
/// `dynamodb_endpoint` (a counting proxy, say) and the keys' Secrets Manager and SSM at the
/// world's own moto, and the lifetimes of the in-process world, so both agree on tokens.
pub fn function_env(world: &World, dynamodb_endpoint: &str) -> Vec<(String, String)> {
    let mut env = world.variables();
    env.push((
        "AWS_ENDPOINT_URL_DYNAMODB".to_owned(),
        dynamodb_endpoint.to_owned(),
    ));
    for service in ["SECRETS_MANAGER", "SSM"] {
        env.push((
            format!("AWS_ENDPOINT_URL_{service}"),
            world.endpoint.clone(),
        ));
    }
    env
}

/// Everything a Lambda execution environment sets for a function of this name (128 MB, JSON
/// logs at INFO as template.yaml asks, dummy credentials), plus `function_env`.
pub fn lambda_env(
    function_name: &str,
    runtime_api: &str,
    function_env: &[(String, String)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", function_name),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2025/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        ),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ("AWS_REGION", REGION),
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_SESSION_TOKEN", "bench"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.extend_from_slice(function_env);
    env
}

/// The tokens of a login or refresh answer.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub uid: String,
}

impl Tokens {
    /// The session id in front of the (opaque) refresh token.
    pub fn session_id(&self) -> &str {
        self.refresh.rsplit('.').nth(1).unwrap_or_default()
    }
}

/// An HTTP function's answer: the status and the envelope.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u64,
    pub body: Value,
}

impl Answer {
    /// From the JSON API Gateway receives (`{"statusCode":200,"body":"{...}",...}`).
    pub fn from_gateway(response: &Value) -> Fallible<Answer> {
        let status = response["statusCode"]
            .as_u64()
            .ok_or_else(|| format!("no statusCode in {response}"))?;
        let body = response["body"]
            .as_str()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or(Value::Null);
        Ok(Answer { status, body })
    }

    /// The envelope's `data` of a success (status 200, code 200).
    pub fn data(&self) -> Fallible<&Value> {
        if self.status == 200 && self.body["code"].as_u64() == Some(200) {
            Ok(&self.body["data"])
        } else {
            Err(format!("answered {} {}", self.status, self.body))
        }
    }

    pub fn tokens(&self) -> Fallible<Tokens> {
        let data = self.data()?;
        let text = |pointer: &str| {
            data.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("no {pointer} in {data}"))
        };
        Ok(Tokens {
            access: text("/accessToken/token")?,
            refresh: text("/refreshToken/token")?,
            uid: text("/uid")?,
        })
    }
}

/// Invokes an HTTP function with a raw event, as the runtime would; the time `edge::invoke`
/// took (conversion, logic, envelope, log line) and the answer.
pub async fn invoke<E: Endpoint>(endpoint: &E, event: &str) -> Fallible<(Duration, Answer)> {
    let payload =
        RawValue::from_string(event.to_owned()).map_err(|e| format!("event json: {e}"))?;
    let started = Instant::now();
    let response = edge::invoke(endpoint, &payload, context()).await;
    let elapsed = started.elapsed();
    let response = serde_json::to_value(&response).map_err(|e| format!("response json: {e}"))?;
    Ok((elapsed, Answer::from_gateway(&response)?))
}

/// Answers one request lambda_http has already converted, as the edge does after converting
/// it: the endpoint within the invocation's deadline, its envelope, log line and metric record.
pub async fn handle<E: Endpoint>(endpoint: &E, request: Request) -> Response<Body> {
    let context = request.lambda_context_ref().cloned().unwrap_or_default();
    let invocation = Invocation::new(context);
    let (outcome, time) = invocation.run(Box::pin(endpoint.answer(&request))).await;
    edge::respond::<E>(outcome, &invocation, time)
}

/// Asks the authorizer about an event as the runtime would (deserialize, decide, serialize the
/// policy); the time that took and the policy, which must allow.
pub async fn authorize<S: TokenReader + Sync, K: KeyRing<PublicKeySet>>(
    authorizer: &Authorizer<S, K>,
    event: &str,
) -> Fallible<Duration> {
    let started = Instant::now();
    let parsed: ApiGatewayCustomAuthorizerRequestTypeRequest =
        serde_json::from_str(event).map_err(|e| format!("authorizer event: {e}"))?;
    let decided = authorizer.handle(parsed, &Invocation::new(context())).await;
    let policy = decided
        .map_err(|e| format!("authorizer error: {}", e.error_message))
        .and_then(|policy| serde_json::to_vec(&policy).map_err(|e| e.to_string()))?;
    let elapsed = started.elapsed();
    check_policy(&policy)?;
    Ok(elapsed)
}

/// An authorizer's answer must be an Allow.
pub fn check_policy(policy: &[u8]) -> Fallible<()> {
    let policy: Value = serde_json::from_slice(policy).map_err(|e| format!("policy: {e}"))?;
    match policy.pointer("/policyDocument/Statement/0/Effect") {
        Some(Value::String(effect)) if effect == "Allow" => Ok(()),
        _ => Err(format!("the authorizer did not allow: {policy}")),
    }
}
