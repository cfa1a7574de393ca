//! Login: every check from 8 on, what a success stores (tokens, session, user), and the end
//! user's stable uid.

use aws_sdk_dynamodb::types::AttributeValue;
use testkit::faulty::FaultyServer;
use testkit::prelude::*;
use testkit::twitter::{Account, Mode};
use twitter_auth_login::config::Table;
use twitter_auth_login::domain::secret::Secret;
use twitter_auth_login::domain::token::hash_token;
use twitter_auth_login::dynamo::Limits;

use crate::{assert_nothing_written, assert_refused, login, written};

#[tokio::test]
async fn a_login_returns_two_tokens_and_a_uid_and_stores_a_session_for_the_user() {
    let world = World::new().await;
    let before = now();
    let params = with(&world.login_params(), "mcc", &LOCAL_MCC.to_string());
    let (status, body) = login(&world, &params).await;
    let after = now();

    assert_eq!(body["msg"], "success");
    assert_eq!(body["extMsg"], "");
    let tokens = Tokens::from_answer(status, &body);
    assert_eq!(tokens.uid, world.uid_of(TWITTER_USER_ID).await);
    assert_ne!(tokens.access, tokens.refresh);
    let issued = world.clock.get();
    assert!((before..=after).contains(&issued));
    assert_eq!(tokens.access_expires, issued + 7200);
    assert_eq!(tokens.refresh_expires, issued + 2_592_000);
    assert_eq!(world.twitter.verified(), 1);

    let (token_items, sessions, users) = written(&world).await;
    assert_eq!((token_items.len(), sessions.len(), users.len()), (2, 1, 1));
    let by_kind = |kind: &str| {
        token_items
            .iter()
            .find(|i| string_attr(i, "kind") == kind)
            .cloned()
            .expect(kind)
    };
    let (access_item, refresh_item) = (by_kind("access"), by_kind("refresh"));
    assert_eq!(
        string_attr(&access_item, "tokenHash"),
        hash_token(&tokens.access)
    );
    assert_eq!(
        string_attr(&refresh_item, "tokenHash"),
        hash_token(&tokens.refresh)
    );
    assert_eq!(
        number_attr(&access_item, "expirationTime"),
        tokens.access_expires
    );
    assert_eq!(
        number_attr(&refresh_item, "expirationTime"),
        tokens.refresh_expires
    );
    let session_id = tokens.session_id();
    for item in [&access_item, &refresh_item] {
        assert_eq!(string_attr(item, "userDomain"), DOMAIN);
        assert_eq!(string_attr(item, "appId"), APP_ID);
        assert_eq!(string_attr(item, "twitterUserId"), TWITTER_USER_ID);
        assert_eq!(string_attr(item, "twitterUsername"), TWITTER_USERNAME);
        assert_eq!(number_attr(item, "mcc"), LOCAL_MCC as u64);
        assert_eq!(number_attr(item, "issuedAt"), issued);
        assert_eq!(string_attr(item, "uid"), tokens.uid);
        assert_eq!(string_attr(item, "sessionId"), session_id);
        assert_eq!(
            item.len(),
            12,
            "no attribute beyond the contract's: {item:?}"
        );
    }
    assert_eq!(
        string_attr(&access_item, "pairId"),
        string_attr(&refresh_item, "pairId")
    );

    let session = &sessions[0];
    assert_eq!(string_attr(session, "uid"), tokens.uid);
    assert_eq!(string_attr(session, "sessionId"), session_id);
    assert_eq!(string_attr(session, "appId"), APP_ID);
    assert_eq!(string_attr(session, "userDomain"), DOMAIN);
    assert_eq!(string_attr(session, "status"), "active");
    assert_eq!(number_attr(session, "createdAt"), issued);
    assert_eq!(number_attr(session, "activeSince"), issued);
    assert_eq!(number_attr(session, "lastUsedAt"), issued);
    assert_eq!(string_attr(session, "userAgent"), "testkit");
    assert_eq!(number_attr(session, "expirationTime"), issued + 7_776_000);
    assert_eq!(
        string_attr(session, "accessTokenHash"),
        hash_token(&tokens.access)
    );
    assert_eq!(
        string_attr(session, "refreshTokenHash"),
        hash_token(&tokens.refresh)
    );
    assert!(!session.contains_key("refreshedAt") && !session.contains_key("revokedReason"));

    let user = &users[0];
    assert_eq!(string_attr(user, "uid"), tokens.uid);
    assert_eq!(string_attr(user, "userDomain"), DOMAIN);
    assert_eq!(string_attr(user, "twitterUserId"), TWITTER_USER_ID);
    assert_eq!(string_attr(user, "twitterUsername"), TWITTER_USERNAME);
    assert_eq!(number_attr(user, "registerTime"), issued);
    assert_eq!(number_attr(user, "lastLoginTime"), issued);
    assert_eq!(number_attr(user, "status"), 1);
    assert_eq!(number_attr(user, "sessionLedger"), 1);
    assert_eq!(number_attr(user, "sessionLedgerWrites"), 1);
    assert_eq!(user.len(), 9, "{user:?}");

    for item in token_items.iter().chain(&sessions).chain(&users) {
        let raw = format!("{item:?}");
        assert!(
            !raw.contains(&tokens.access) && !raw.contains(&tokens.refresh),
            "a raw token was stored"
        );
    }
}

#[tokio::test]
async fn a_returning_user_keeps_the_uid_and_the_register_time() {
    let world = World::new().await;
    let first = world.sign_in().await;
    let registered = world.clock.get();
    world.clock.advance(3600);
    let second = world.sign_in().await;
    assert_eq!(first.uid, second.uid);
    assert_ne!(first.session_id(), second.session_id());

    let (tokens, sessions, users) = written(&world).await;
    assert_eq!((tokens.len(), sessions.len(), users.len()), (4, 2, 1));
    let hashes: std::collections::HashSet<String> =
        tokens.iter().map(|i| string_attr(i, "tokenHash")).collect();
    assert_eq!(hashes.len(), 4);
    assert_eq!(number_attr(&users[0], "registerTime"), registered);
    assert_eq!(number_attr(&users[0], "lastLoginTime"), registered + 3600);
    // Both sessions stay live: a second device does not sign out the first.
    let (status, body) = crate::refresh(&world, &first.refresh).await;
    Tokens::from_answer(status, &body);
}

#[tokio::test]
async fn the_latest_username_is_kept_and_an_answer_without_one_keeps_it() {
    let world = World::new().await;
    world.sign_in().await;
    world.twitter.set_mode(Mode::VerifyThenBody(format!(
        r#"{{"data":{{"id":"{TWITTER_USER_ID}","username":"jack_renamed"}}}}"#
    )));
    world.sign_in().await;
    let users = world.items(Table::User).await;
    assert_eq!(string_attr(&users[0], "twitterUsername"), "jack_renamed");
    world.twitter.set_mode(Mode::VerifyThenBody(format!(
        r#"{{"data":{{"id":"{TWITTER_USER_ID}","username":"not a handle!"}}}}"#
    )));
    world.sign_in().await;
    let users = world.items(Table::User).await;
    assert_eq!(string_attr(&users[0], "twitterUsername"), "jack_renamed");
}

#[tokio::test]
async fn another_twitter_account_or_user_domain_is_another_user() {
    let world = World::new().await;
    world.twitter.add_account(Account {
        consumer_key: CONSUMER_KEY.into(),
        consumer_secret: CONSUMER_SECRET.into(),
        token: "9-other".into(),
        token_secret: "other-secret".into(),
        user_id: "9".into(),
        username: "other".into(),
    });
    let jack = world.sign_in().await;
    let params = signed_params(
        DOMAIN,
        APP_ID,
        "9-other",
        "other-secret",
        &world.domain_secret,
    );
    let (status, body) = login(&world, &params).await;
    let other = Tokens::from_answer(status, &body);
    assert_ne!(jack.uid, other.uid);
    assert_eq!(other.uid, world.uid_of("9").await);

    // The same Twitter account on a second user domain.
    let second = "C.DM.5903.2";
    let secret = world.admin.add_domain(second, None).await.expect("domain");
    world
        .admin
        .add_twitter_app(second, APP_ID, CONSUMER_KEY, &Secret::new(CONSUMER_SECRET))
        .await
        .expect("app");
    let params = signed_params(
        second,
        APP_ID,
        OAUTH_TOKEN,
        OAUTH_TOKEN_SECRET,
        secret.expose(),
    );
    let (status, body) = login(&world, &params).await;
    let elsewhere = Tokens::from_answer(status, &body);
    assert_ne!(elsewhere.uid, jack.uid);
    assert!(
        elsewhere
            .refresh
            .starts_with(&format!("{second}.{}.", elsewhere.uid))
    );
    assert_eq!(world.items(Table::User).await.len(), 3);

    // Keyed: not the unkeyed hash of the domain and the Twitter id, which anyone could compute
    // (and so find a Twitter id from a uid by trying ids).
    for (tokens, domain) in [(&jack, DOMAIN), (&elsewhere, second)] {
        assert_ne!(tokens.uid, unkeyed_uid(domain, TWITTER_USER_ID));
    }
}

/// The uid as an unkeyed derivation gave it: SHA-256 of a label and the length-prefixed parts,
/// 16 bytes, base64url.
fn unkeyed_uid(user_domain: &str, twitter_user_id: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"twitter-auth-login/uid/v1");
    for part in [user_domain, twitter_user_id] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hasher.finalize()[..16])
}

#[tokio::test]
async fn a_login_takes_exactly_two_dynamodb_requests_for_new_and_returning_users() {
    let world = World::new().await;
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let endpoint = world.login_with(
        world.store_via(&proxy.url(), Limits::default()),
        &world.twitter.base_url(),
    );
    let event = testkit::events::rest_event(&world.login_params());
    for round in 1..=3 {
        let (status, body) = call(&endpoint, &event).await;
        Tokens::from_answer(status, &body);
        assert_eq!(proxy.requests(), 2 * round, "round {round}");
    }
    let with_mcc =
        testkit::events::rest_event(&with(&world.login_params(), "mcc", &LOCAL_MCC.to_string()));
    let (status, body) = call(&endpoint, &with_mcc).await;
    Tokens::from_answer(status, &body);
    assert_eq!(proxy.requests(), 8);
    assert_eq!(
        proxy.operations(),
        ["BatchGetItem", "TransactWriteItems"].repeat(4),
    );
}

#[tokio::test]
async fn an_unknown_domain_is_5015() {
    let world = World::new().await;
    let params = with(&world.login_params(), "userDomain", "C.DM.999");
    let answer = login(&world, &params).await;
    assert_refused(&answer, 200, 5015, "User domain does not exist", "");
    assert_nothing_written(&world).await;
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
    let answer = login(&world, &world.login_params()).await;
    assert_refused(&answer, 200, 5104, "User domain has been disabled", "");
    assert_nothing_written(&world).await;
    world.admin.set_enabled(DOMAIN, true).await.expect("enable");
    world.sign_in().await;
}

#[tokio::test]
async fn a_domain_without_enabled_counts_as_disabled() {
    let world = World::new().await;
    world
        .client
        .update_item()
        .table_name(world.tables.get(Table::UserDomain).expect("table"))
        .key("userDomain", AttributeValue::S(DOMAIN.into()))
        .update_expression("REMOVE enabled")
        .send()
        .await
        .expect("remove enabled");
    let answer = login(&world, &world.login_params()).await;
    assert_refused(&answer, 200, 5104, "User domain has been disabled", "");
    assert_nothing_written(&world).await;
}

#[tokio::test]
async fn a_wrong_signature_is_5420() {
    let world = World::new().await;
    let forged = signed_params(
        DOMAIN,
        APP_ID,
        OAUTH_TOKEN,
        OAUTH_TOKEN_SECRET,
        "not-the-domain-secret",
    );
    let swapped = with(&world.login_params(), "oauthToken", "another-token");
    let garbage = with(&world.login_params(), "signature", "zz");
    for params in [forged, swapped, garbage] {
        let answer = login(&world, &params).await;
        assert_refused(&answer, 200, 5420, "Signature verification failed", "");
    }
    assert_nothing_written(&world).await;
    assert_eq!(world.twitter.requests(), 0);
}

#[tokio::test]
async fn an_app_not_configured_as_twitter_is_5574() {
    let world = World::new().await;
    let msg = "appId is not configured for this user domain";
    let other = signed_params(
        DOMAIN,
        "unknown-app",
        OAUTH_TOKEN,
        OAUTH_TOKEN_SECRET,
        &world.domain_secret,
    );
    assert_refused(&login(&world, &other).await, 200, 5574, msg, "");

    // A well-formed app of another platform on the same domain.
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
        .table_name(world.tables.get(Table::UserDomain).expect("table"))
        .key("userDomain", AttributeValue::S(DOMAIN.into()))
        .update_expression("SET apps.fb = :app")
        .expression_attribute_values(":app", facebook)
        .send()
        .await
        .expect("add facebook app");
    let fb = signed_params(
        DOMAIN,
        "fb",
        OAUTH_TOKEN,
        OAUTH_TOKEN_SECRET,
        &world.domain_secret,
    );
    assert_refused(&login(&world, &fb).await, 200, 5574, msg, "");

    world
        .admin
        .remove_app(DOMAIN, APP_ID)
        .await
        .expect("remove app");
    assert_refused(
        &login(&world, &world.login_params()).await,
        200,
        5574,
        msg,
        "",
    );
    assert_nothing_written(&world).await;
    assert_eq!(world.twitter.requests(), 0);
}

#[tokio::test]
async fn an_unmapped_mcc_is_6085_and_a_foreign_one_6084() {
    let world = World::new().await;
    let unmapped = with(&world.login_params(), "mcc", "999");
    assert_refused(
        &login(&world, &unmapped).await,
        200,
        6085,
        "Failed to query data center for MCC",
        "",
    );
    let foreign = with(&world.login_params(), "mcc", &FOREIGN_MCC.to_string());
    assert_refused(
        &login(&world, &foreign).await,
        200,
        6084,
        "MCC does not belong to the current data center",
        "",
    );
    world
        .admin
        .remove_mcc_route(LOCAL_MCC)
        .await
        .expect("remove route");
    let removed = with(&world.login_params(), "mcc", &LOCAL_MCC.to_string());
    assert_refused(
        &login(&world, &removed).await,
        200,
        6085,
        "Failed to query data center for MCC",
        "",
    );
    assert_nothing_written(&world).await;
    assert_eq!(world.twitter.requests(), 0);
}

#[tokio::test]
async fn misprovisioned_items_are_5000_at_their_check() {
    let world = World::new().await;
    let internal = |answer: &(u16, serde_json::Value)| {
        assert_refused(answer, 500, 5000, "Internal error", "");
    };
    let domain_key = [("userDomain", DOMAIN)];

    // enabled of another type than BOOL.
    world
        .set(
            Table::UserDomain,
            &domain_key,
            &[("enabled", AttributeValue::S("true".into()))],
        )
        .await;
    internal(&login(&world, &world.login_params()).await);
    world.admin.set_enabled(DOMAIN, true).await.expect("enable");

    // An empty secret.
    world
        .set(
            Table::UserDomain,
            &domain_key,
            &[("userDomainSecret", AttributeValue::S(String::new()))],
        )
        .await;
    internal(&login(&world, &world.login_params()).await);
    // ...but a disabled domain still says so first: check 9 comes before the secret's check 10.
    world
        .admin
        .set_enabled(DOMAIN, false)
        .await
        .expect("disable");
    assert_refused(
        &login(&world, &world.login_params()).await,
        200,
        5104,
        "User domain has been disabled",
        "",
    );
    world.admin.set_enabled(DOMAIN, true).await.expect("enable");
    world
        .set(
            Table::UserDomain,
            &domain_key,
            &[(
                "userDomainSecret",
                AttributeValue::S(world.domain_secret.clone()),
            )],
        )
        .await;

    // The app entry without its consumer secret.
    world
        .client
        .update_item()
        .table_name(world.tables.get(Table::UserDomain).expect("table"))
        .key("userDomain", AttributeValue::S(DOMAIN.into()))
        .update_expression("REMOVE apps.#app.consumerSecret")
        .expression_attribute_names("#app", APP_ID)
        .send()
        .await
        .expect("break the app");
    internal(&login(&world, &world.login_params()).await);
    world
        .admin
        .add_twitter_app(DOMAIN, APP_ID, CONSUMER_KEY, &Secret::new(CONSUMER_SECRET))
        .await
        .expect("mend the app");

    // A route whose data center is a number.
    world
        .client
        .update_item()
        .table_name(world.tables.get(Table::Mcc).expect("table"))
        .key("mcc", AttributeValue::N(LOCAL_MCC.to_string()))
        .update_expression("SET dataCenter = :n")
        .expression_attribute_values(":n", AttributeValue::N("7".into()))
        .send()
        .await
        .expect("break the route");
    let with_mcc = with(&world.login_params(), "mcc", &LOCAL_MCC.to_string());
    internal(&login(&world, &with_mcc).await);

    assert_nothing_written(&world).await;
    assert_eq!(world.twitter.requests(), 0);
    // Mended, the same login works.
    world.sign_in().await;
}

#[tokio::test]
async fn a_token_twitter_does_not_know_is_5368() {
    let world = World::new().await;
    let params = signed_params(
        DOMAIN,
        APP_ID,
        "unknown-token",
        "unknown-secret",
        &world.domain_secret,
    );
    assert_refused(
        &login(&world, &params).await,
        200,
        5368,
        "Failed to get the Twitter user",
        "",
    );
    assert_eq!(world.twitter.rejected(), 1);
    assert_nothing_written(&world).await;
}

#[tokio::test]
async fn a_wrong_consumer_secret_fails_twitters_signature_check() {
    let world = World::new().await;
    world
        .admin
        .add_twitter_app(
            DOMAIN,
            APP_ID,
            CONSUMER_KEY,
            &Secret::new("stale-consumer-secret"),
        )
        .await
        .expect("update app");
    assert_refused(
        &login(&world, &world.login_params()).await,
        200,
        5368,
        "Failed to get the Twitter user",
        "",
    );
    assert_eq!((world.twitter.rejected(), world.twitter.verified()), (1, 0));
    assert_nothing_written(&world).await;
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
        assert_refused(
            &login(&world, &world.login_params()).await,
            status,
            code,
            msg,
            "",
        );
    }
    assert_nothing_written(&world).await;
    world.twitter.set_mode(Mode::Verify);
    world.sign_in().await;
}

#[tokio::test]
async fn a_twitter_answer_without_a_proper_user_id_is_5369() {
    let world = World::new().await;
    let sixty_thousand = "1".repeat(60_000);
    let bodies = [
        r#"{"data":{"name":"no id"}}"#.to_owned(),
        r#"{"errors":[]}"#.to_owned(),
        "<html>".to_owned(),
        r#"{"data":{"id":""}}"#.to_owned(),
        r#"{"data":{"id":"12345678901234567890"}}"#.to_owned(),
        r#"{"data":{"id":"12a"}}"#.to_owned(),
        format!(r#"{{"data":{{"id":"{sixty_thousand}"}}}}"#),
    ];
    for body in &bodies {
        world.twitter.set_mode(Mode::VerifyThenBody(body.clone()));
        assert_refused(
            &login(&world, &world.login_params()).await,
            200,
            5369,
            "Failed to parse the Twitter user",
            "",
        );
    }
    assert_eq!(
        world.twitter.verified(),
        bodies.len(),
        "the stand-in checked each signature first"
    );
    assert_nothing_written(&world).await;
}

#[tokio::test]
async fn a_hung_or_unreachable_twitter_is_5367_within_the_timeout() {
    let world = World::new().await;
    world.twitter.set_mode(Mode::Hang);
    let started = std::time::Instant::now();
    assert_refused(
        &login(&world, &world.login_params()).await,
        503,
        5367,
        "Request to Twitter failed",
        "",
    );
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
    let endpoint = world.login_with(world.store(), &format!("http://{refused}"));
    let answer = call(
        &endpoint,
        &testkit::events::rest_event(&world.login_params()),
    )
    .await;
    assert_refused(&answer, 503, 5367, "Request to Twitter failed", "");
    assert_nothing_written(&world).await;
}
