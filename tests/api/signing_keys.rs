//! The signing keys over their life: published before they sign, kept after, dropped after two
//! rotations; a rotation that fails half-way changes nothing that signs or verifies; a key
//! store that is down leaves warm instances working and cold ones answering 5001, with no key
//! in any log line.

use serde_json::Value;
use testkit::events::{RestEvent, rest_event};
use testkit::faulty::{Fault, FaultyServer};
use testkit::forge::header_of;
use testkit::keys::KEYS_REFRESH_SECONDS;
use testkit::prelude::*;
use twitter_auth_login::endpoints::authorizer::UNAUTHORIZED;
use twitter_auth_login::endpoints::token_keys::JWKS_PATH;
use twitter_auth_login::jwt::AccessTokenVerifier;
use twitter_auth_login::keys::jwk::KeyStatus;
use twitter_auth_login::secrets::rotation::Step;

use crate::access_tokens::authorized;
use crate::{assert_refused, login, logout, refresh};

/// A world with a key store of its own, to rotate or break.
async fn world_with_own_keys() -> World {
    let mut world = World::new().await;
    world.keys = testkit::keys::KeyStore::rotated(&world.endpoint).await;
    world
}

fn jwks_event() -> String {
    RestEvent::new("GET", JWKS_PATH).to_json()
}

/// The kids the JWKS publishes, as a fresh discovery function serves them.
async fn published_kids(world: &World) -> Vec<String> {
    let (status, body) = call(&world.token_keys(), &jwks_event()).await;
    assert_eq!(status, 200, "{body}");
    body["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|key| key["kid"].as_str().expect("kid").to_owned())
        .collect()
}

fn kid(access: &str) -> String {
    header_of(access)["kid"].as_str().expect("kid").to_owned()
}

async fn rotate(world: &World) {
    world.keys.rotation().rotate().await.expect("a rotation");
}

#[tokio::test]
async fn a_key_is_published_before_it_signs_and_dropped_two_rotations_after() {
    let world = world_with_own_keys().await;
    let first = world.keys.key(KeyStatus::Current).await;
    let next = world.keys.key(KeyStatus::Next).await;
    assert_eq!(
        published_kids(&world).await,
        [first.kid.clone(), next.kid.clone()]
    );
    let old = world.sign_in().await;
    assert_eq!(kid(&old.access), first.kid);

    // A verifier that read the keys before the rotation knows the next key already: it
    // verifies what is signed after, without reading the keys again.
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let warm = AccessTokenVerifier::new(
        world.keys.public_keys(&proxy.url(), world.clock.clone()),
        world.issuer.clone(),
    );
    let now = world.clock.get();
    assert!(warm.verify(&old.access, now).await.expect("keys").is_ok());
    let reads = proxy.requests();

    rotate(&world).await;
    assert_eq!(world.keys.key(KeyStatus::Current).await.kid, next.kid);
    assert_eq!(world.keys.key(KeyStatus::Previous).await.kid, first.kid);
    let new = world.sign_in().await;
    assert_eq!(
        kid(&new.access),
        next.kid,
        "the next key signs once current"
    );
    assert!(warm.verify(&new.access, now).await.expect("keys").is_ok());
    assert_eq!(
        proxy.requests(),
        reads,
        "no read for a key published in advance"
    );
    // The old token verifies after one rotation: its key is previous, still published.
    assert!(published_kids(&world).await.contains(&first.kid));
    assert!(authorized(&world, &old.access).await.is_ok());
    let (status, body) = refresh(&world, &old.refresh).await;
    let refreshed = Tokens::from_answer(status, &body);
    assert_eq!(kid(&refreshed.access), next.kid);

    // Two rotations on, the first key is gone and what it signed is refused.
    for _ in 0..2 {
        rotate(&world).await;
        assert!(!published_kids(&world).await.contains(&first.kid));
        assert_eq!(
            authorized(&world, &old.access).await,
            Err(UNAUTHORIZED.to_owned())
        );
    }
    // A token signed two rotations ago by the then-current key is refused too (its key is
    // dropped), while the session itself lives on through its refresh token.
    assert_eq!(
        authorized(&world, &refreshed.access).await,
        Err(UNAUTHORIZED.to_owned())
    );
    let (status, body) = refresh(&world, &refreshed.refresh).await;
    let latest = Tokens::from_answer(status, &body);
    assert_eq!(
        kid(&latest.access),
        world.keys.key(KeyStatus::Current).await.kid
    );
    assert!(authorized(&world, &latest.access).await.is_ok());
}

#[tokio::test]
async fn a_rotation_that_fails_half_way_leaves_every_function_working() {
    let world = world_with_own_keys().await;
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let rotation = world.keys.rotation_via(&proxy.url());
    for (operation, step) in [
        ("PutParameter", Step::SetSecret),
        ("UpdateSecretVersionStage", Step::FinishSecret),
    ] {
        let version = world.keys.current_version().await;
        let current = world.keys.key(KeyStatus::Current).await;
        proxy.inject(Some(operation), denied());
        let failed = rotation.rotate().await.expect_err("the rotation fails");
        assert_eq!(failed.step, step, "{operation}");
        proxy.heal();
        assert_eq!(world.keys.current_version().await, version, "{operation}");

        // Every function works as before: the old current key signs, and is published.
        let tokens = world.sign_in().await;
        assert_eq!(kid(&tokens.access), current.kid, "{operation}");
        assert!(published_kids(&world).await.contains(&current.kid));
        assert!(authorized(&world, &tokens.access).await.is_ok());
        let (status, body) = refresh(&world, &tokens.refresh).await;
        let refreshed = Tokens::from_answer(status, &body);
        let (_, body) = logout(&world, &refreshed.access, None).await;
        assert_eq!(body["data"]["revokedSessions"], 1, "{body}");
    }
    // The next rotation completes: the next key signs.
    let next = world.keys.key(KeyStatus::Next).await;
    rotate(&world).await;
    assert_eq!(kid(&world.sign_in().await.access), next.kid);
}

/// An AWS refusal no SDK retries.
fn denied() -> Fault {
    Fault::answer(
        400,
        "application/x-amz-json-1.1",
        r#"{"__type":"AccessDeniedException","message":"stand-in"}"#,
    )
}

/// Every private and public member of every key of the store, as they would appear in a log.
async fn key_material(world: &World) -> Vec<String> {
    world
        .keys
        .private_keys()
        .await
        .into_iter()
        .flat_map(|key| [key.d, key.p, key.q, key.dp, key.dq, key.qi, key.n])
        .collect()
}

#[tokio::test]
async fn a_key_store_that_is_down_leaves_warm_instances_working_and_cold_ones_5001() {
    let mut world = world_with_own_keys().await;
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    world.keys_endpoint = proxy.url();
    let material = key_material(&world).await;

    // Warm instances: each has read its keys once.
    let (warm_login, warm_refresh, warm_logout) = (world.login(), world.refresh(), world.logout());
    let warm_authorizer = world.authorizer();
    let warm_keys = world.token_keys();
    let (status, body) = call(&warm_login, &rest_event(&world.login_params())).await;
    let first = Tokens::from_answer(status, &body);
    let untouched = world.sign_in().await;
    let spare = world.sign_in().await;
    let (status, body) = call(&warm_refresh, &refresh_event(&spare.refresh)).await;
    let spare = Tokens::from_answer(status, &body);
    let (_, body) = call(&warm_logout, &logout_event(Some(&spare.access), None)).await;
    assert_eq!(body["data"]["revokedSessions"], 1, "{body}");
    assert!(
        authorize(&warm_authorizer, user_info_request(&first.access))
            .await
            .is_ok()
    );
    assert_eq!(call(&warm_keys, &jwks_event()).await.0, 200);

    proxy.inject(None, Fault::Drop);
    // Past the refresh time, so that every warm instance tries to read its keys again.
    world.clock.advance(KEYS_REFRESH_SECONDS + 1);
    let (answers, lines) = testkit::capture::logged(async {
        let login = call(&warm_login, &rest_event(&world.login_params())).await;
        let refreshed = call(&warm_refresh, &refresh_event(&first.refresh)).await;
        let rotated = Tokens::from_answer(refreshed.0, &refreshed.1);
        let allowed = authorize(&warm_authorizer, user_info_request(&rotated.access)).await;
        let jwks = call(&warm_keys, &jwks_event()).await;
        let logged_out = call(&warm_logout, &logout_event(Some(&rotated.access), None)).await;

        let cold_login = call(&world.login(), &rest_event(&world.login_params())).await;
        let cold_refresh = call(&world.refresh(), &refresh_event(&untouched.refresh)).await;
        let cold_authorizer =
            authorize(&world.authorizer(), user_info_request(&first.access)).await;
        let cold_logout = call(&world.logout(), &logout_event(Some(&first.access), None)).await;
        let cold_jwks = call(&world.token_keys(), &jwks_event()).await;
        (
            [login, refreshed, jwks, logged_out],
            allowed,
            [cold_login, cold_refresh, cold_logout],
            cold_authorizer,
            cold_jwks,
        )
    })
    .await;
    let (warm, allowed, cold, cold_authorizer, cold_jwks) = answers;
    for (status, body) in &warm {
        assert_eq!(*status, 200, "{body}");
    }
    assert!(warm[0].1["code"] == 200 && warm[3].1["data"]["revokedSessions"] == 1);
    assert!(allowed.is_ok(), "{allowed:?}");
    for answer in &cold {
        assert_refused(answer, 503, 5001, "Service temporarily unavailable", "");
    }
    // The authorizer fails rather than deny: API Gateway answers 500, the client may retry.
    let failed = cold_authorizer.expect_err("a cold authorizer cannot decide");
    assert_ne!(failed.error_message, UNAUTHORIZED);
    assert_eq!(cold_jwks.0, 503, "{}", cold_jwks.1);
    assert_eq!(cold_jwks.1["code"], 5001);
    assert!(proxy.faulted() > 0);

    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    assert!(
        text.iter()
            .any(|line| line.contains("keys could not be read again")),
        "the warm instances warn"
    );
    for line in &text {
        for secret in &material {
            assert!(
                !line.contains(secret.as_str()),
                "a key in a log line: {line}"
            );
        }
    }
    // The store back, cold instances work again.
    proxy.heal();
    let (status, body) = login(&world, &world.login_params()).await;
    assert_eq!((status, body["code"].as_u64()), (200, Some(200)), "{body}");
}

fn user_info_request(access: &str) -> Value {
    testkit::events::authorizer_event(
        "GET",
        testkit::events::USER_INFO_ROUTE,
        &[("Authorization", access)],
    )
}
