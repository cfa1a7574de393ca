//! The whole journey over HTTP, through the local API that serves template.yaml's routes as
//! API Gateway would: login, userInfo, refresh, userInfo with the new token, logout, userInfo
//! refused. The functions run in this process, behind the same local API the local run uses.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use testkit::functions::InProcess;
use testkit::gateway::Gateway;
use testkit::prelude::*;
use twitter_auth_admin::template::Template;
use twitter_auth_login::dynamo::{DynamoStore, Limits};

const TEMPLATE: &str = include_str!("../../template.yaml");

async fn local_api(world: &World, template: &str, cache_seconds: u64) -> Gateway {
    local_api_with(world, template, cache_seconds, world.store()).await
}

async fn local_api_with(
    world: &World,
    template: &str,
    cache_seconds: u64,
    authorizer_store: DynamoStore,
) -> Gateway {
    let overrides = HashMap::from([(
        "AuthorizerCacheSeconds".to_owned(),
        cache_seconds.to_string(),
    )]);
    let api = Template::parse(template)
        .and_then(|t| t.api(&overrides))
        .expect("api");
    let functions = InProcess {
        authorizer: world.authorizer_with(authorizer_store),
        ..InProcess::new(world, world.store())
    };
    Gateway::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        api,
        Arc::new(functions),
        false,
    )
    .await
    .expect("local api")
}

/// An HTTP client of the local API: status and JSON body.
struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    fn new(gateway: &Gateway) -> Client {
        Client {
            base: format!("{}/v2/enduser/enduserapi", gateway.url()),
            http: reqwest::Client::new(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("the local API answers");
        let status = response.status().as_u16();
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        let bytes = response.bytes().await.expect("a body");
        let body = serde_json::from_slice(&bytes).expect("a JSON body");
        (status, body)
    }

    async fn login(&self, params: &Params) -> (u16, Value) {
        self.login_from(params, "journey").await
    }

    /// A login from a client that sends this `User-Agent`.
    async fn login_from(&self, params: &Params, user_agent: &str) -> (u16, Value) {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let url = format!("{}/twitterAuthLogin?{query}", self.base);
        self.send(self.http.post(url).header("User-Agent", user_agent))
            .await
    }

    async fn sessions(&self, access: &str) -> (u16, Value) {
        let request = self
            .http
            .get(format!("{}/sessions", self.base))
            .header("Authorization", format!("Bearer {access}"));
        self.send(request).await
    }

    async fn end_session(&self, access: &str, session_id: &str) -> (u16, Value) {
        let request = self
            .http
            .delete(format!("{}/sessions/{session_id}", self.base))
            .header("Authorization", format!("Bearer {access}"));
        self.send(request).await
    }

    async fn user_info(&self, access: Option<&str>) -> (u16, Value) {
        let mut request = self.http.get(format!("{}/userInfo", self.base));
        if let Some(access) = access {
            request = request.header("Authorization", format!("Bearer {access}"));
        }
        self.send(request).await
    }

    async fn refresh(&self, refresh: &str) -> (u16, Value) {
        let request = self
            .http
            .put(format!("{}/refreshToken", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("refreshToken={refresh}"));
        self.send(request).await
    }

    async fn logout(&self, access: &str) -> (u16, Value) {
        let request = self
            .http
            .delete(format!("{}/userLogout", self.base))
            .header("Authorization", format!("Bearer {access}"));
        self.send(request).await
    }
}

fn assert_token_refused(answer: &(u16, Value)) {
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_eq!(
        answer.1,
        serde_json::json!({"code": 5032, "msg": "Token verification failed", "extMsg": "", "data": null})
    );
}

#[tokio::test]
async fn the_whole_journey_over_http() {
    let world = World::new().await;
    let cache = 1;
    let gateway = local_api(&world, TEMPLATE, cache).await;
    let client = Client::new(&gateway);

    let (status, body) = client.login(&world.login_params()).await;
    let first = Tokens::from_answer(status, &body);

    let (status, info) = client.user_info(Some(&first.access)).await;
    assert_eq!((status, info["code"].as_u64()), (200, Some(200)), "{info}");
    assert_eq!(info["data"]["uid"], first.uid.as_str());
    assert_eq!(info["data"]["twitterUserId"], TWITTER_USER_ID);

    let (status, body) = client.refresh(&first.refresh).await;
    let second = Tokens::from_answer(status, &body);
    let (status, info) = client.user_info(Some(&second.access)).await;
    assert_eq!(
        (status, info["data"]["uid"].as_str()),
        (200, Some(first.uid.as_str()))
    );

    let (status, body) = client.logout(&second.access).await;
    assert_eq!(
        (status, body["data"]["revokedSessions"].as_u64()),
        (200, Some(1)),
        "{body}"
    );

    // Within the authorizer's cache time the cached Allow still stands, as on API Gateway;
    // after it, the revoked token is refused with the envelope.
    tokio::time::sleep(Duration::from_millis(cache * 1000 + 100)).await;
    assert_token_refused(&client.user_info(Some(&second.access)).await);
    assert_token_refused(&client.user_info(Some(&first.access)).await);
    assert_token_refused(&client.user_info(None).await);
    assert_token_refused(&client.user_info(Some("garbage")).await);
}

#[tokio::test]
async fn two_devices_sign_in_one_lists_both_and_signs_the_other_out() {
    let world = World::new().await;
    let cache = 1;
    let gateway = local_api(&world, TEMPLATE, cache).await;
    let client = Client::new(&gateway);
    let (status, body) = client.login_from(&world.login_params(), "Phone/1.0").await;
    let phone = Tokens::from_answer(status, &body);
    world.clock.advance(1);
    let (status, body) = client.login_from(&world.login_params(), "Tablet/2.0").await;
    let tablet = Tokens::from_answer(status, &body);

    let (status, listed) = client.sessions(&phone.access).await;
    assert_eq!(
        (status, listed["code"].as_u64()),
        (200, Some(200)),
        "{listed}"
    );
    let seen: Vec<(&str, &str, bool)> = listed["data"]["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| {
            (
                s["sessionId"].as_str().expect("id"),
                s["userAgent"].as_str().expect("user agent"),
                s["current"].as_bool().expect("current"),
            )
        })
        .collect();
    let (phone_id, tablet_id) = (phone.session_id(), tablet.session_id());
    assert_eq!(
        seen,
        [
            (tablet_id.as_str(), "Tablet/2.0", false),
            (phone_id.as_str(), "Phone/1.0", true)
        ]
    );

    // The tablet's token is allowed, and the gateway caches that.
    assert_eq!(client.sessions(&tablet.access).await.1["code"], 200);

    let (status, body) = client.end_session(&phone.access, &tablet_id).await;
    assert_eq!(
        (status, body["data"]["revokedSessions"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    let (status, body) = client.refresh(&tablet.refresh).await;
    assert_eq!(
        (status, body["code"].as_u64(), body["extMsg"].as_str()),
        (200, Some(5032), Some("revoked"))
    );
    // Past the authorizer's cache, the tablet's access token is refused; the phone's works.
    tokio::time::sleep(Duration::from_millis(cache * 1000 + 100)).await;
    assert_token_refused(&client.sessions(&tablet.access).await);
    let (status, listed) = client.sessions(&phone.access).await;
    assert_eq!(status, 200);
    assert_eq!(listed["data"]["sessions"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_cached_allow_serves_another_route_and_holds_until_it_lapses() {
    let world = World::new().await;
    // A second route behind the same authorizer.
    let template = TEMPLATE.replace(
        "  UserInfoMethod:\n",
        "  ApiUserInfoAgainResource:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !Ref ApiEnduserApiResource, PathPart: userInfoAgain}
  UserInfoAgainMethod:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref ApiUserInfoAgainResource
      HttpMethod: GET
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref TokenAuthorizer
      Integration:
        Type: AWS_PROXY
        Uri: !Sub \"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${UserInfoFunction.Arn}/invocations\"
  UserInfoMethod:\n",
    );
    assert_ne!(template, TEMPLATE, "the second route was added");
    let gateway = local_api(&world, &template, 60).await;
    let client = Client::new(&gateway);
    let tokens = world.sign_in().await;

    assert_eq!(client.user_info(Some(&tokens.access)).await.0, 200);
    let again = client
        .send(
            client
                .http
                .get(format!("{}/userInfoAgain", client.base))
                .header("Authorization", format!("Bearer {}", tokens.access)),
        )
        .await;
    assert_eq!(
        (again.0, again.1["code"].as_u64()),
        (200, Some(200)),
        "{}",
        again.1
    );
    let counters = gateway.counters();
    assert_eq!(
        counters
            .authorizer_calls
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(
        counters
            .cache_hits
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );

    // Revoked, the token still passes from the cache: revocation reaches the authorizer
    // within its cache time, as the contract says.
    let (_, body) = client.logout(&tokens.access).await;
    assert_eq!(body["code"], 200);
    assert_eq!(client.user_info(Some(&tokens.access)).await.1["code"], 200);
}

#[tokio::test]
async fn a_disabled_domain_is_denied_and_a_failing_authorizer_is_5001() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    let gateway = local_api(&world, TEMPLATE, 0).await;
    let client = Client::new(&gateway);
    world
        .admin
        .set_enabled(DOMAIN, false)
        .await
        .expect("disable");
    assert_token_refused(&client.user_info(Some(&tokens.access)).await);
    world.admin.set_enabled(DOMAIN, true).await.expect("enable");
    assert_eq!(client.user_info(Some(&tokens.access)).await.0, 200);

    let refused = format!("http://{}", testkit::server::refused_addr().expect("port"));
    let broken = local_api_with(
        &world,
        TEMPLATE,
        0,
        world.store_via(&refused, Limits::default()),
    )
    .await;
    let (status, body) = Client::new(&broken).user_info(Some(&tokens.access)).await;
    assert_eq!(status, 503);
    assert_eq!(
        body,
        serde_json::json!({"code": 5001, "msg": "Service temporarily unavailable", "extMsg": "", "data": null})
    );
}

#[tokio::test]
async fn an_unknown_route_is_refused_as_api_gateway_does() {
    let world = World::new().await;
    let gateway = local_api(&world, TEMPLATE, 0).await;
    let client = Client::new(&gateway);
    let (status, body) = client
        .send(client.http.get(format!("{}/twitterAuthLogin", client.base)))
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (403, Some("Missing Authentication Token"))
    );
}
