//! The handler end to end against a real DynamoDB API (moto on loopback) and the Twitter
//! stand-in: every check of the contract from 8 on, and what is stored.

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use common::*;
use testkit::twitter::Mode;
use twitter_auth_login::token::hash_token;

#[tokio::test]
async fn a_login_returns_two_tokens_and_stores_exactly_their_hashes() {
    let world = World::new().await;
    let before = now();
    let (status, body) = world
        .call(&with(&world.valid_params(), "mcc", &LOCAL_MCC.to_string()))
        .await;
    let after = now();

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], 200);
    assert_eq!(body["msg"], "success");
    assert_eq!(body["extMsg"], "");
    let access = body["data"]["accessToken"]["token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let refresh = body["data"]["refreshToken"]["token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let access_exp = body["data"]["accessToken"]["expirationTime"]
        .as_u64()
        .expect("access exp");
    let refresh_exp = body["data"]["refreshToken"]["expirationTime"]
        .as_u64()
        .expect("refresh exp");
    assert_ne!(access, refresh);
    assert!((before + ACCESS_TTL..=after + ACCESS_TTL).contains(&access_exp));
    assert!((before + REFRESH_TTL..=after + REFRESH_TTL).contains(&refresh_exp));
    assert_eq!(world.twitter.verified(), 1);

    let items = world.token_items().await;
    assert_eq!(items.len(), 2);
    let by_kind = |kind: &str| {
        items
            .iter()
            .find(|i| string_attr(i, "kind") == kind)
            .cloned()
            .expect(kind)
    };
    let (access_item, refresh_item) = (by_kind("access"), by_kind("refresh"));
    assert_eq!(string_attr(&access_item, "tokenHash"), hash_token(&access));
    assert_eq!(
        string_attr(&refresh_item, "tokenHash"),
        hash_token(&refresh)
    );
    assert_eq!(number_attr(&access_item, "expirationTime"), access_exp);
    assert_eq!(number_attr(&refresh_item, "expirationTime"), refresh_exp);
    for item in [&access_item, &refresh_item] {
        assert_eq!(string_attr(item, "userDomain"), DOMAIN);
        assert_eq!(string_attr(item, "appId"), APP_ID);
        assert_eq!(string_attr(item, "twitterUserId"), TWITTER_USER_ID);
        assert_eq!(string_attr(item, "twitterUsername"), TWITTER_USERNAME);
        assert_eq!(number_attr(item, "mcc"), LOCAL_MCC as u64);
        assert!((before..=after).contains(&number_attr(item, "issuedAt")));
        assert_eq!(
            item.len(),
            10,
            "no attribute beyond the contract's: {item:?}"
        );
        let raw = format!("{item:?}");
        assert!(
            !raw.contains(&access) && !raw.contains(&refresh),
            "a raw token was stored"
        );
    }
    assert_eq!(
        string_attr(&access_item, "pairId"),
        string_attr(&refresh_item, "pairId")
    );
    assert_eq!(
        number_attr(&access_item, "expirationTime") - number_attr(&access_item, "issuedAt"),
        ACCESS_TTL
    );
    assert_eq!(
        number_attr(&refresh_item, "expirationTime") - number_attr(&refresh_item, "issuedAt"),
        REFRESH_TTL
    );
}

#[tokio::test]
async fn a_login_without_mcc_stores_no_mcc_and_accepts_an_uppercase_signature() {
    let world = World::new().await;
    let params = world.valid_params();
    let upper = params
        .iter()
        .find(|(k, _)| k == "signature")
        .map(|(_, v)| v.to_uppercase())
        .expect("signature");
    let (status, body) = world.call(&with(&params, "signature", &upper)).await;
    assert_eq!((status, body["code"].as_u64()), (200, Some(200)), "{body}");
    let items = world.token_items().await;
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|item| !item.contains_key("mcc")));
}

#[tokio::test]
async fn two_logins_give_four_distinct_tokens() {
    let world = World::new().await;
    let (_, first) = world.call(&world.valid_params()).await;
    let (_, second) = world.call(&world.valid_params()).await;
    assert_eq!(
        (first["code"].as_u64(), second["code"].as_u64()),
        (Some(200), Some(200))
    );
    let items = world.token_items().await;
    assert_eq!(items.len(), 4);
    let hashes: std::collections::HashSet<String> =
        items.iter().map(|i| string_attr(i, "tokenHash")).collect();
    assert_eq!(hashes.len(), 4);
}

/// Asserts the answer's code, msg and status, that data is null, and that nothing was stored.
async fn assert_refused(
    world: &World,
    params: &[(String, String)],
    code: u64,
    msg: &str,
    status: u16,
) {
    let (got_status, body) = world.call(params).await;
    assert_eq!(body["code"].as_u64(), Some(code), "{body}");
    assert_eq!(body["msg"], msg);
    assert_eq!(got_status, status);
    assert!(body["data"].is_null());
    assert!(
        world.token_items().await.is_empty(),
        "a refused login stored tokens"
    );
}

#[tokio::test]
async fn an_unknown_domain_is_5015() {
    let world = World::new().await;
    let params = with(&world.valid_params(), "userDomain", "C.DM.999");
    assert_refused(&world, &params, 5015, "User domain does not exist", 200).await;
    assert_eq!(world.twitter.requests(), 0);
}

#[tokio::test]
async fn a_disabled_domain_is_5104_and_reenabling_works() {
    let world = World::new().await;
    world
        .admin
        .set_enabled(DOMAIN, false)
        .await
        .expect("disable");
    assert_refused(
        &world,
        &world.valid_params(),
        5104,
        "User domain has been disabled",
        200,
    )
    .await;
    world.admin.set_enabled(DOMAIN, true).await.expect("enable");
    let (_, body) = world.call(&world.valid_params()).await;
    assert_eq!(body["code"], 200);
}

#[tokio::test]
async fn a_domain_without_enabled_counts_as_disabled() {
    let world = World::new().await;
    world
        .client
        .update_item()
        .table_name(&world.tables.user_domain)
        .key("userDomain", AttributeValue::S(DOMAIN.into()))
        .update_expression("REMOVE enabled")
        .send()
        .await
        .expect("remove enabled");
    assert_refused(
        &world,
        &world.valid_params(),
        5104,
        "User domain has been disabled",
        200,
    )
    .await;
}

#[tokio::test]
async fn a_wrong_signature_is_5420() {
    let world = World::new().await;
    let forged = signed_params(
        APP_ID,
        OAUTH_TOKEN,
        OAUTH_TOKEN_SECRET,
        "not-the-domain-secret",
    );
    assert_refused(&world, &forged, 5420, "Signature verification failed", 200).await;
    // Signed for another token than the one sent.
    let mut swapped = world.valid_params();
    swapped = with(&swapped, "oauthToken", "another-token");
    assert_refused(&world, &swapped, 5420, "Signature verification failed", 200).await;
    assert_refused(
        &world,
        &with(&world.valid_params(), "signature", "zz"),
        5420,
        "Signature verification failed",
        200,
    )
    .await;
    assert_eq!(world.twitter.requests(), 0);
}

#[tokio::test]
async fn an_app_not_configured_as_twitter_is_5574() {
    let world = World::new().await;
    let other = signed_params(
        "unknown-app",
        OAUTH_TOKEN,
        OAUTH_TOKEN_SECRET,
        &world.domain_secret,
    );
    assert_refused(
        &world,
        &other,
        5574,
        "appId is not configured for this user domain",
        200,
    )
    .await;

    // An app of another platform on the same domain.
    let facebook = AttributeValue::M(
        [
            ("platform", "facebook"),
            ("consumerKey", "k"),
            ("consumerSecret", "s"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned())))
        .collect(),
    );
    world
        .client
        .update_item()
        .table_name(&world.tables.user_domain)
        .key("userDomain", AttributeValue::S(DOMAIN.into()))
        .update_expression("SET apps.fb = :app")
        .expression_attribute_values(":app", facebook)
        .send()
        .await
        .expect("add facebook app");
    let fb = signed_params("fb", OAUTH_TOKEN, OAUTH_TOKEN_SECRET, &world.domain_secret);
    assert_refused(
        &world,
        &fb,
        5574,
        "appId is not configured for this user domain",
        200,
    )
    .await;

    world
        .admin
        .remove_app(DOMAIN, APP_ID)
        .await
        .expect("remove app");
    assert_refused(
        &world,
        &world.valid_params(),
        5574,
        "appId is not configured for this user domain",
        200,
    )
    .await;
    assert_eq!(world.twitter.requests(), 0);
}

#[tokio::test]
async fn an_unmapped_mcc_is_6085_and_a_foreign_one_6084() {
    let world = World::new().await;
    let unmapped = with(&world.valid_params(), "mcc", "999");
    assert_refused(
        &world,
        &unmapped,
        6085,
        "Failed to query data center for MCC",
        200,
    )
    .await;
    let foreign = with(&world.valid_params(), "mcc", &FOREIGN_MCC.to_string());
    assert_refused(
        &world,
        &foreign,
        6084,
        "MCC does not belong to the current data center",
        200,
    )
    .await;
    world
        .admin
        .remove_mcc_route(LOCAL_MCC)
        .await
        .expect("remove route");
    let removed = with(&world.valid_params(), "mcc", &LOCAL_MCC.to_string());
    assert_refused(
        &world,
        &removed,
        6085,
        "Failed to query data center for MCC",
        200,
    )
    .await;
    assert_eq!(world.twitter.requests(), 0);
}

#[tokio::test]
async fn a_token_twitter_does_not_know_is_5368() {
    let world = World::new().await;
    let params = signed_params(
        APP_ID,
        "unknown-token",
        "unknown-secret",
        &world.domain_secret,
    );
    assert_refused(&world, &params, 5368, "Failed to get the Twitter user", 200).await;
    assert_eq!(world.twitter.rejected(), 1);
}

#[tokio::test]
async fn a_wrong_consumer_secret_fails_twitters_signature_check() {
    let world = World::new().await;
    world
        .admin
        .add_twitter_app(DOMAIN, APP_ID, CONSUMER_KEY, "stale-consumer-secret")
        .await
        .expect("update app");
    assert_refused(
        &world,
        &world.valid_params(),
        5368,
        "Failed to get the Twitter user",
        200,
    )
    .await;
    assert_eq!((world.twitter.rejected(), world.twitter.verified()), (1, 0));
}

#[tokio::test]
async fn twitter_statuses_map_to_their_codes() {
    let world = World::new().await;
    let cases: [(u16, u64, &str, u16); 7] = [
        (401, 5368, "Failed to get the Twitter user", 200),
        (403, 5368, "Failed to get the Twitter user", 200),
        (404, 5368, "Failed to get the Twitter user", 200),
        (302, 5368, "Failed to get the Twitter user", 200),
        (429, 5367, "Request to Twitter failed", 503),
        (500, 5367, "Request to Twitter failed", 503),
        (503, 5367, "Request to Twitter failed", 503),
    ];
    for (twitter_status, code, msg, status) in cases {
        world.twitter.set_mode(Mode::Status(twitter_status));
        assert_refused(&world, &world.valid_params(), code, msg, status).await;
    }
    world.twitter.set_mode(Mode::Verify);
    let (_, body) = world.call(&world.valid_params()).await;
    assert_eq!(body["code"], 200, "healthy again after the faults");
}

#[tokio::test]
async fn a_twitter_answer_without_a_user_is_5369() {
    let world = World::new().await;
    for body in [
        r#"{"data":{"name":"no id"}}"#,
        r#"{"errors":[]}"#,
        "<html>",
        r#"{"data":{"id":""}}"#,
    ] {
        world.twitter.set_mode(Mode::VerifyThenBody(body.into()));
        assert_refused(
            &world,
            &world.valid_params(),
            5369,
            "Failed to parse the Twitter user",
            200,
        )
        .await;
    }
    assert_eq!(
        world.twitter.verified(),
        4,
        "the stand-in checked each signature first"
    );
}

#[tokio::test]
async fn a_hung_or_unreachable_twitter_is_5367_within_the_timeout() {
    let world = World::new().await;
    world.twitter.set_mode(Mode::Hang);
    let started = std::time::Instant::now();
    assert_refused(
        &world,
        &world.valid_params(),
        5367,
        "Request to Twitter failed",
        503,
    )
    .await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= TWITTER_TIMEOUT,
        "gave up before the timeout: {elapsed:?}"
    );
    assert!(
        elapsed < TWITTER_TIMEOUT * 5,
        "did not give up: {elapsed:?}"
    );

    let refused = testkit::server::refused_addr().expect("port");
    let handler = world.handler_with_twitter(&format!("http://{refused}"));
    let (status, body) = call(&handler, &world.valid_params()).await;
    assert_eq!((status, body["code"].as_u64()), (503, Some(5367)));
    assert!(world.token_items().await.is_empty());
}
