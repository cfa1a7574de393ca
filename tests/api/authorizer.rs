//! The authorizer, for every state a token can be in, through its Lambda event and policy.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use testkit::events::{USER_INFO_ROUTE, authorizer_event, method_arn};
use testkit::faulty::{Fault, FaultyServer};
use testkit::prelude::*;
use twitter_auth_login::config::Table;
use twitter_auth_login::domain::token::hash_token;
use twitter_auth_login::dynamo::Limits;
use twitter_auth_login::endpoints::authorizer::UNAUTHORIZED;

use crate::{logout, refresh};

async fn ask(world: &World, authorization: Option<&str>) -> Result<Value, String> {
    let headers: Vec<(&str, &str)> = authorization
        .map(|value| vec![("Authorization", value)])
        .unwrap_or_default();
    authorize(
        &world.authorizer(),
        authorizer_event("GET", USER_INFO_ROUTE, &headers),
    )
    .await
    .map_err(|diagnostic| diagnostic.error_message)
}

fn stage_wide(effect: &str, tokens: &Tokens) -> Value {
    json!({
        "principalId": tokens.uid,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{
                "Action": ["execute-api:Invoke"],
                "Effect": effect,
                "Resource": ["arn:aws:execute-api:us-east-1:123456789012:1234567890/prod/*/*"]
            }]
        },
        "context": {
            "uid": tokens.uid,
            "sessionId": tokens.session_id(),
            "userDomain": DOMAIN,
            "appId": APP_ID,
            "twitterUserId": TWITTER_USER_ID
        },
        "usageIdentifierKey": null
    })
}

#[tokio::test]
async fn a_live_token_is_allowed_on_the_whole_stage_raw_or_bearer() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    for header in [
        format!("Bearer {}", tokens.access),
        tokens.access.clone(),
        format!("bearer {}", tokens.access),
    ] {
        let policy = ask(&world, Some(&header)).await.expect("allowed");
        assert_eq!(policy, stage_wide("Allow", &tokens));
        // The context names the user, never a token or its hash.
        let text = policy.to_string();
        assert!(!text.contains(&tokens.access) && !text.contains(&tokens.refresh));
        assert!(!text.contains(&hash_token(&tokens.access)));
    }
    // Asked from another route, the answer is the same stage-wide policy, so a cached Allow
    // serves every route.
    let other_route = authorizer_event(
        "DELETE",
        "/v2/enduser/enduserapi/userLogout",
        &[("Authorization", &tokens.access)],
    );
    assert_eq!(
        other_route["methodArn"],
        method_arn("DELETE", "/v2/enduser/enduserapi/userLogout")
    );
    let policy = authorize(&world.authorizer(), other_route)
        .await
        .expect("allowed");
    assert_eq!(policy, stage_wide("Allow", &tokens));
}

#[tokio::test]
async fn tokens_that_are_not_live_are_unauthorized() {
    let world = World::new().await;
    let unauthorized = Err(UNAUTHORIZED.to_owned());

    // Missing, blank, never issued, the refresh token instead of the access token.
    let tokens = world.sign_in().await;
    let (head, _) = tokens.access.rsplit_once('.').expect("route");
    let forged = format!("{head}.{}", "C".repeat(43));
    for header in [
        None,
        Some(""),
        Some("Bearer "),
        Some("Bearer garbage"),
        Some(forged.as_str()),
        Some(tokens.refresh.as_str()),
    ] {
        assert_eq!(ask(&world, header).await, unauthorized, "{header:?}");
    }
    // Two Authorization headers, the live token among them: which was meant cannot be told.
    let twice = authorizer_event(
        "GET",
        USER_INFO_ROUTE,
        &[
            ("Authorization", "garbage"),
            ("Authorization", tokens.access.as_str()),
        ],
    );
    let refused = authorize(&world.authorizer(), twice)
        .await
        .map_err(|d| d.error_message);
    assert_eq!(refused, unauthorized);

    // Rotated away by a refresh.
    let (status, body) = refresh(&world, &tokens.refresh).await;
    let rotated = Tokens::from_answer(status, &body);
    assert_eq!(ask(&world, Some(&tokens.access)).await, unauthorized);
    assert!(ask(&world, Some(&rotated.access)).await.is_ok());

    // Revoked by logout.
    let (_, body) = logout(&world, &rotated.access, None).await;
    assert_eq!(body["code"], 200);
    assert_eq!(ask(&world, Some(&rotated.access)).await, unauthorized);

    // Revoked by reuse.
    let victim = world.sign_in().await;
    let (status, body) = refresh(&world, &victim.refresh).await;
    let current = Tokens::from_answer(status, &body);
    world.clock.advance(world.refresh_reuse_grace);
    let (_, body) = refresh(&world, &victim.refresh).await;
    assert_eq!(body["extMsg"], "reused");
    assert_eq!(ask(&world, Some(&current.access)).await, unauthorized);
}

#[tokio::test]
async fn an_expired_token_that_ttl_has_not_deleted_is_unauthorized() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    world.clock.advance(world.lifetimes.access_token_ttl - 1);
    assert!(ask(&world, Some(&tokens.access)).await.is_ok());
    world.clock.advance(1);
    assert_eq!(
        ask(&world, Some(&tokens.access)).await,
        Err(UNAUTHORIZED.to_owned())
    );
    assert!(
        world
            .item(Table::Token, &[("tokenHash", &hash_token(&tokens.access))])
            .await
            .is_some()
    );
}

#[tokio::test]
async fn a_disabled_or_deleted_user_domain_is_denied() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    world
        .admin
        .set_enabled(DOMAIN, false)
        .await
        .expect("disable");
    assert_eq!(
        ask(&world, Some(&tokens.access)).await,
        Ok(stage_wide("Deny", &tokens))
    );
    world.admin.set_enabled(DOMAIN, true).await.expect("enable");
    assert_eq!(
        ask(&world, Some(&tokens.access)).await,
        Ok(stage_wide("Allow", &tokens))
    );
    world
        .client
        .delete_item()
        .table_name(world.tables.get(Table::UserDomain).expect("table"))
        .key("userDomain", AttributeValue::S(DOMAIN.into()))
        .send()
        .await
        .expect("delete domain");
    assert_eq!(
        ask(&world, Some(&tokens.access)).await,
        Ok(stage_wide("Deny", &tokens))
    );
}

#[tokio::test]
async fn dynamodb_failing_is_an_error_never_a_deny() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let authorizer = world.authorizer_with(world.store_via(&proxy.url(), Limits::default()));
    let event = authorizer_event("GET", USER_INFO_ROUTE, &[("Authorization", &tokens.access)]);
    for fault in [
        Fault::dynamodb_error(400, "ThrottlingException"),
        Fault::dynamodb_error(500, "InternalServerError"),
        Fault::Drop,
        Fault::Hang,
    ] {
        proxy.inject(None, fault.clone());
        let error = authorize(&authorizer, event.clone())
            .await
            .expect_err("an error");
        assert_ne!(error.error_type, UNAUTHORIZED, "{fault:?}");
        assert_ne!(error.error_message, UNAUTHORIZED, "{fault:?}");
        // Our words only.
        assert_eq!(error.error_message, "the token could not be checked");
    }
    proxy.heal();
    assert!(authorize(&authorizer, event).await.is_ok());

    // A malformed user domain item is the operator's fault: an error too.
    world
        .set(
            Table::UserDomain,
            &[("userDomain", DOMAIN)],
            &[("enabled", AttributeValue::S("yes".into()))],
        )
        .await;
    let error = ask(&world, Some(&tokens.access))
        .await
        .expect_err("an error");
    assert_ne!(error, UNAUTHORIZED);
}

#[tokio::test]
async fn one_dynamodb_request_per_check() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let authorizer = world.authorizer_with(world.store_via(&proxy.url(), Limits::default()));
    let allowed = authorizer_event("GET", USER_INFO_ROUTE, &[("Authorization", &tokens.access)]);
    // The signature of a JWT of ours, on claims naming someone else: verified first, so it
    // costs no request.
    let (head, rest) = tokens.access.split_once('.').expect("a JWT");
    let (_, signature) = rest.split_once('.').expect("a JWT");
    let forged = format!("{head}.{}.{signature}", "eyJzdWIiOiJzb21lb25lIn0");
    let refused = authorizer_event("GET", USER_INFO_ROUTE, &[("Authorization", &forged)]);
    for round in 1..=3 {
        assert!(authorize(&authorizer, allowed.clone()).await.is_ok());
        assert!(authorize(&authorizer, refused.clone()).await.is_err());
        assert_eq!(proxy.requests(), round);
    }
    assert!(proxy.operations().iter().all(|op| op == "BatchGetItem"));
    // A header that cannot be a token costs nothing.
    let garbage = authorizer_event("GET", USER_INFO_ROUTE, &[("Authorization", "garbage")]);
    assert!(authorize(&authorizer, garbage).await.is_err());
    assert_eq!(proxy.requests(), 3);
}
