//! Refresh: every check of its table, rotation, the grace window, reuse detection, expiry in
//! code, the session's maximum age, and races with itself and with logout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use testkit::events::{REFRESH_ROUTE, RestEvent};
use testkit::faulty::FaultyServer;
use testkit::prelude::*;
use tokio::sync::Barrier;
use twitter_auth_login::config::Table;
use twitter_auth_login::domain::session::{RevokedReason, TokenState};
use twitter_auth_login::domain::token::{PresentedToken, hash_token};
use twitter_auth_login::dynamo::{DynamoStore, Limits};
use twitter_auth_login::endpoints::authorizer::Decision;
use twitter_auth_login::endpoints::refresh::Refresh;
use twitter_auth_login::error::ApiError;
use twitter_auth_login::ports::{
    Conditional, DomainRead, LiveAt, Rotation, SessionRevoker, SessionRotator, TokenReader,
};
use twitter_auth_login::secrets::DerivationSecret;
use twitter_auth_login::startup::SigningKeys;

use crate::{assert_refused, refresh};

const VERIFICATION_FAILED: &str = "Token verification failed";

/// Whether the authorizer lets this access token through.
pub async fn is_live(world: &World, access: &str) -> bool {
    let decision = world
        .authorizer()
        .decide(Some(&format!("Bearer {access}")))
        .await
        .expect("decided");
    matches!(decision, Decision::Allow(_))
}

#[tokio::test]
async fn a_refresh_rotates_the_pair() {
    let world = World::new().await;
    let first = world.sign_in().await;
    world.clock.advance(600);
    let (status, body) = refresh(&world, &first.refresh).await;
    assert_eq!(body["msg"], "success");
    let second = Tokens::from_answer(status, &body);
    let now = world.clock.get();
    assert_eq!(second.uid, first.uid);
    assert_eq!(second.session_id(), first.session_id());
    assert_eq!(second.access_expires, now + 7200);
    assert_eq!(second.refresh_expires, now + 2_592_000);
    assert_ne!(second.access, first.access);
    assert_ne!(second.refresh, first.refresh);

    // The previous access token stops working at once; the new one works.
    assert!(!is_live(&world, &first.access).await);
    assert!(is_live(&world, &second.access).await);

    let session = world.session_of(&second).await;
    assert_eq!(
        string_attr(&session, "accessTokenHash"),
        hash_token(&second.access)
    );
    assert_eq!(
        string_attr(&session, "refreshTokenHash"),
        hash_token(&second.refresh)
    );
    assert_eq!(
        string_attr(&session, "previousRefreshTokenHash"),
        hash_token(&first.refresh)
    );
    assert_eq!(number_attr(&session, "rotatedAt"), now);
    assert_eq!(number_attr(&session, "refreshedAt"), now);
    assert_eq!(string_attr(&session, "status"), "active");

    // The new pair is stored like a login's, and the old items stay for reuse detection.
    let tokens = world.items(Table::Token).await;
    assert_eq!(tokens.len(), 4);
    let new_refresh = tokens
        .iter()
        .find(|i| string_attr(i, "tokenHash") == hash_token(&second.refresh))
        .expect("new refresh item");
    assert_eq!(string_attr(new_refresh, "kind"), "refresh");
    assert_eq!(string_attr(new_refresh, "uid"), first.uid);
    assert_eq!(string_attr(new_refresh, "sessionId"), first.session_id());
    assert_eq!(string_attr(new_refresh, "twitterUserId"), TWITTER_USER_ID);
    assert_eq!(number_attr(new_refresh, "issuedAt"), now);
    assert_eq!(
        number_attr(new_refresh, "expirationTime"),
        second.refresh_expires
    );

    // And it refreshes again.
    world.clock.advance(600);
    let (status, body) = refresh(&world, &second.refresh).await;
    Tokens::from_answer(status, &body);
}

#[tokio::test]
async fn the_token_comes_in_the_query_or_the_form_body_once() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    let endpoint = world.refresh();
    let in_query = RestEvent::new("PUT", REFRESH_ROUTE)
        .query(&[("refreshToken", tokens.refresh.as_str())])
        .to_json();
    let (status, body) = call(&endpoint, &in_query).await;
    let rotated = Tokens::from_answer(status, &body);

    // Given twice, in whatever places: 4001 before the token is even looked at.
    let twice = [
        RestEvent::new("PUT", REFRESH_ROUTE)
            .query(&[("refreshToken", rotated.refresh.as_str())])
            .form(&[("refreshToken", rotated.refresh.as_str())]),
        RestEvent::new("PUT", REFRESH_ROUTE).query(&[
            ("refreshToken", rotated.refresh.as_str()),
            ("refreshToken", rotated.refresh.as_str()),
        ]),
        RestEvent::new("PUT", REFRESH_ROUTE).form(&[
            ("refreshToken", rotated.refresh.as_str()),
            ("refreshToken", "x"),
        ]),
    ];
    for event in twice {
        let answer = call(&endpoint, &event.to_json()).await;
        assert_refused(
            &answer,
            200,
            4001,
            "Parameter format incorrect",
            "refreshToken",
        );
    }
    // A body that is not a form is not read.
    let json_body = RestEvent::new("PUT", REFRESH_ROUTE)
        .header("Content-Type", "application/json")
        .body(&format!(r#"{{"refreshToken":"{}"}}"#, rotated.refresh));
    let answer = call(&endpoint, &json_body.to_json()).await;
    assert_refused(&answer, 200, 5106, "Please enter token", "");
    // A form with a charset parameter is a form.
    let charset = RestEvent::new("PUT", REFRESH_ROUTE)
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .body(&format!("refreshToken={}", rotated.refresh));
    let (status, body) = call(&endpoint, &charset.to_json()).await;
    Tokens::from_answer(status, &body);
}

#[tokio::test]
async fn checks_1_and_2_missing_blank_and_overlong() {
    let world = World::new().await;
    let endpoint = world.refresh();
    let missing = RestEvent::new("PUT", REFRESH_ROUTE).to_json();
    assert_refused(
        &call(&endpoint, &missing).await,
        200,
        5106,
        "Please enter token",
        "",
    );
    for blank in ["", "   ", "\t"] {
        assert_refused(
            &refresh(&world, blank).await,
            200,
            5106,
            "Please enter token",
            "",
        );
    }
    let at_limit = "a".repeat(1024);
    assert_refused(
        &refresh(&world, &at_limit).await,
        200,
        5032,
        VERIFICATION_FAILED,
        "invalid",
    );
    let over = "a".repeat(1025);
    assert_refused(
        &refresh(&world, &over).await,
        200,
        4001,
        "Parameter format incorrect",
        "refreshToken",
    );
}

#[tokio::test]
async fn unknown_tokens_are_invalid_and_revoke_nothing() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    let (head, _) = tokens.refresh.rsplit_once('.').expect("route");
    // The session's real route with a secret never issued.
    let forged = format!("{head}.{}", "A".repeat(43));
    let shorter = format!("{head}.{}", "A".repeat(42));
    for token in [
        forged.as_str(),
        shorter.as_str(),
        "garbage",
        // An access token is not a refresh token.
        tokens.access.as_str(),
    ] {
        assert_refused(
            &refresh(&world, token).await,
            200,
            5032,
            VERIFICATION_FAILED,
            "invalid",
        );
    }
    let session = world.session_of(&tokens).await;
    assert_eq!(string_attr(&session, "status"), "active");
    assert!(is_live(&world, &tokens.access).await);
    let (status, body) = refresh(&world, &tokens.refresh).await;
    Tokens::from_answer(status, &body);
}

#[tokio::test]
async fn an_expired_token_that_ttl_has_not_deleted_is_expired() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    world.clock.advance(2_592_000);
    assert_refused(
        &refresh(&world, &tokens.refresh).await,
        200,
        5032,
        VERIFICATION_FAILED,
        "expired",
    );
    // The item is still there: expiry was decided in code.
    let item = world
        .item(Table::Token, &[("tokenHash", &hash_token(&tokens.refresh))])
        .await;
    assert!(item.is_some());

    // The same with the stored expiry moved instead of the clock.
    let fresh = world.sign_in().await;
    world
        .set(
            Table::Token,
            &[("tokenHash", &hash_token(&fresh.refresh))],
            &[(
                "expirationTime",
                AttributeValue::N(world.clock.get().to_string()),
            )],
        )
        .await;
    assert_refused(
        &refresh(&world, &fresh.refresh).await,
        200,
        5032,
        VERIFICATION_FAILED,
        "expired",
    );
}

#[tokio::test]
async fn no_session_outlives_its_maximum_age() {
    let mut world = World::new().await;
    world.lifetimes.session_max = 10_000;
    world.lifetimes.refresh_token_ttl = 8_000;
    let first = world.sign_in().await;
    let login_at = world.clock.get();
    assert_eq!(first.refresh_expires, login_at + 8_000);

    world.clock.advance(7_000);
    let (status, body) = refresh(&world, &first.refresh).await;
    let second = Tokens::from_answer(status, &body);
    // Capped by the session's end, not now + the refresh lifetime.
    assert_eq!(second.refresh_expires, login_at + 10_000);
    assert_eq!(second.access_expires, login_at + 10_000);

    world.clock.advance(3_000);
    assert_refused(
        &refresh(&world, &second.refresh).await,
        200,
        5032,
        VERIFICATION_FAILED,
        "expired",
    );
    assert!(!is_live(&world, &second.access).await);
}

#[tokio::test]
async fn a_retry_within_the_grace_window_answers_the_same_pair() {
    let world = World::new().await;
    let login = world.sign_in().await;
    let (status, body) = refresh(&world, &login.refresh).await;
    let lost = Tokens::from_answer(status, &body);
    let session_before = world.session_of(&lost).await;

    // The client never saw `lost` and retries with the same token, with fresh instances.
    world.clock.advance(29);
    let (status, body) = refresh(&world, &login.refresh).await;
    let retried = Tokens::from_answer(status, &body);
    assert_eq!(retried.refresh, lost.refresh, "the same refresh token");
    assert_eq!(
        retried.access, lost.access,
        "the same access token, byte for byte"
    );
    assert_eq!(
        (retried.access_expires, retried.refresh_expires),
        (lost.access_expires, lost.refresh_expires)
    );

    // That pair is the session's one live pair; nothing was written again.
    assert!(is_live(&world, &retried.access).await);
    assert!(!is_live(&world, &login.access).await);
    let session = world.session_of(&retried).await;
    assert_eq!(session, session_before, "a retry writes nothing");
    assert_eq!(
        string_attr(&session, "refreshTokenHash"),
        hash_token(&retried.refresh)
    );
    // The window is where the first rotation put it.
    assert_eq!(number_attr(&session, "rotatedAt"), world.clock.get() - 29);
    let (status, body) = refresh(&world, &retried.refresh).await;
    Tokens::from_answer(status, &body);
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_whole_session() {
    let world = World::new().await;
    let other_session = world.sign_in().await;
    let login = world.sign_in().await;
    let (status, body) = refresh(&world, &login.refresh).await;
    let current = Tokens::from_answer(status, &body);

    world.clock.advance(30);
    assert_refused(
        &refresh(&world, &login.refresh).await,
        200,
        5032,
        VERIFICATION_FAILED,
        "reused",
    );
    // Every token of the session is dead.
    assert!(!is_live(&world, &current.access).await);
    assert_refused(
        &refresh(&world, &current.refresh).await,
        200,
        5032,
        VERIFICATION_FAILED,
        "revoked",
    );
    let session = world.session_of(&current).await;
    assert_eq!(string_attr(&session, "status"), "revoked");
    assert_eq!(string_attr(&session, "revokedReason"), "reused");
    // Presented again, the reused token says revoked: the session is already gone.
    assert_refused(
        &refresh(&world, &login.refresh).await,
        200,
        5032,
        VERIFICATION_FAILED,
        "revoked",
    );
    // The user's other session is untouched.
    assert!(is_live(&world, &other_session.access).await);
}

#[tokio::test]
async fn a_token_two_rotations_old_is_reuse_at_once() {
    let world = World::new().await;
    let login = world.sign_in().await;
    let (status, body) = refresh(&world, &login.refresh).await;
    let second = Tokens::from_answer(status, &body);
    let (status, body) = refresh(&world, &second.refresh).await;
    let third = Tokens::from_answer(status, &body);
    assert_refused(
        &refresh(&world, &login.refresh).await,
        200,
        5032,
        VERIFICATION_FAILED,
        "reused",
    );
    assert!(!is_live(&world, &third.access).await);
}

#[tokio::test]
async fn the_user_domain_is_checked_again() {
    let world = World::new().await;
    let tokens = world.sign_in().await;
    world
        .admin
        .set_enabled(DOMAIN, false)
        .await
        .expect("disable");
    assert_refused(
        &refresh(&world, &tokens.refresh).await,
        200,
        5104,
        "User domain has been disabled",
        "",
    );
    // Refused before any write: the token still works once the domain is back.
    world.admin.set_enabled(DOMAIN, true).await.expect("enable");
    let (status, body) = refresh(&world, &tokens.refresh).await;
    let rotated = Tokens::from_answer(status, &body);

    world
        .client
        .delete_item()
        .table_name(world.tables.get(Table::UserDomain).expect("table"))
        .key("userDomain", AttributeValue::S(DOMAIN.into()))
        .send()
        .await
        .expect("delete domain");
    assert_refused(
        &refresh(&world, &rotated.refresh).await,
        200,
        5015,
        "User domain does not exist",
        "",
    );
    // An invalid token says so before the domain is judged (check 3 before 4).
    assert_refused(
        &refresh(&world, "garbage").await,
        200,
        5032,
        VERIFICATION_FAILED,
        "invalid",
    );
}

#[tokio::test]
async fn a_refresh_takes_two_dynamodb_requests() {
    let world = World::new().await;
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let endpoint = world.refresh_with(world.store_via(&proxy.url(), Limits::default()));
    let mut tokens = world.sign_in().await;
    for round in 1..=3 {
        let (status, body) = call(&endpoint, &refresh_event(&tokens.refresh)).await;
        tokens = Tokens::from_answer(status, &body);
        assert_eq!(proxy.requests(), 2 * round);
    }
    assert_eq!(
        proxy.operations(),
        ["BatchGetItem", "TransactWriteItems"].repeat(3)
    );
}

/// The DynamoDB adapter, with its first token read held at barriers, in order: requests that
/// read together then write in turn, the interleavings races are made of.
struct Gated {
    store: DynamoStore,
    gates: Vec<Arc<Barrier>>,
    passed: AtomicBool,
}

impl Gated {
    fn new(store: DynamoStore, gates: &[&Arc<Barrier>]) -> Gated {
        Gated {
            store,
            gates: gates.iter().map(|g| Arc::clone(g)).collect(),
            passed: AtomicBool::new(false),
        }
    }
}

impl TokenReader for Gated {
    async fn token_state(
        &self,
        presented: &PresentedToken,
        domain: DomainRead,
    ) -> Result<TokenState, ApiError> {
        let state = self.store.token_state(presented, domain).await;
        if !self.passed.swap(true, Ordering::SeqCst) {
            for gate in &self.gates {
                gate.wait().await;
            }
        }
        state
    }
}

impl SessionRotator for Gated {
    async fn rotate(&self, rotation: &Rotation) -> Result<Conditional, ApiError> {
        self.store.rotate(rotation).await
    }
}

impl SessionRevoker for Gated {
    async fn revoke(
        &self,
        uid: &str,
        session_id: &str,
        reason: RevokedReason,
        live_at: Option<LiveAt>,
    ) -> Result<Conditional, ApiError> {
        self.store.revoke(uid, session_id, reason, live_at).await
    }
}

fn gated(
    world: &World,
    store: DynamoStore,
    gates: &[&Arc<Barrier>],
) -> Refresh<Gated, SigningKeys, DerivationSecret> {
    Refresh::new(
        Gated::new(store, gates),
        world.pair_issuer(),
        world.derivation(),
        world.refresh_check(),
    )
}

#[tokio::test]
async fn two_refreshes_read_together_answer_the_same_live_pair() {
    let world = World::new().await;
    let login = world.sign_in().await;
    // Both read the session before either writes. DynamoDB's transactions are atomic; moto's
    // only one at a time (a canceled one's rollback would undo the winner's rotation).
    let atomic = FaultyServer::one_at_a_time(&world.endpoint)
        .await
        .expect("proxy");
    let together = Arc::new(Barrier::new(2));
    let store = || world.store_via(&atomic.url(), PATIENT);
    let (a, b) = (
        gated(&world, store(), &[&together]),
        gated(&world, store(), &[&together]),
    );
    let event = refresh_event(&login.refresh);
    let ((status_a, body_a), (status_b, body_b)) = tokio::join!(call(&a, &event), call(&b, &event));
    // The loser decided again, found itself in the grace window and answered the winner's
    // pair: a client that keeps either answer is signed in.
    let first = Tokens::from_answer(status_a, &body_a);
    let second = Tokens::from_answer(status_b, &body_b);
    assert_eq!(first.refresh, second.refresh);
    assert_eq!(first.access, second.access);
    assert_eq!(jti(&first.access), jti(&second.access));
    assert!(is_live(&world, &first.access).await);

    let session = world.session_of(&first).await;
    assert_eq!(
        string_attr(&session, "refreshTokenHash"),
        hash_token(&first.refresh)
    );
    assert_eq!(
        string_attr(&session, "previousRefreshTokenHash"),
        hash_token(&login.refresh)
    );
    assert_eq!(
        string_attr(&session, "status"),
        "active",
        "no reuse flagged"
    );
    // Both keep working: the pair refreshes on.
    let (status, body) = refresh(&world, &second.refresh).await;
    Tokens::from_answer(status, &body);
}

/// The `jti` of an access token, read as any JWT library would.
pub fn jti(access: &str) -> String {
    testkit::forge::claims_of(access).jti
}

#[tokio::test]
async fn simultaneous_refreshes_answer_one_pair_and_never_5000() {
    let world = World::new().await;
    let login = world.sign_in().await;
    // DynamoDB's transactions are atomic; moto's only one at a time (a canceled one's rollback
    // would undo the winner's rotation).
    let atomic = FaultyServer::one_at_a_time(&world.endpoint)
        .await
        .expect("proxy");
    let endpoint = Arc::new(world.refresh_with(world.store_via(&atomic.url(), PATIENT)));
    let event = refresh_event(&login.refresh);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (endpoint, event) = (Arc::clone(&endpoint), event.clone());
        calls.spawn(async move { call(endpoint.as_ref(), &event).await });
    }
    let mut answered = Vec::new();
    while let Some(answer) = calls.join_next().await {
        let (status, body) = answer.expect("task");
        let code = body["code"].as_u64();
        // Losing every attempt to decide again is 5001 at worst, never 5000.
        assert!(
            code == Some(200) || (code == Some(5001) && status == 503),
            "{body}"
        );
        if code == Some(200) {
            answered.push(Tokens::from_answer(status, &body));
        }
    }
    assert!(!answered.is_empty());
    for tokens in &answered {
        assert_eq!(tokens.refresh, answered[0].refresh, "one refresh token");
        assert_eq!(tokens.access, answered[0].access, "one access token");
    }
    assert!(is_live(&world, &answered[0].access).await);
    let session = world.session_of(&answered[0]).await;
    assert_eq!(
        string_attr(&session, "status"),
        "active",
        "no reuse flagged"
    );
}

#[tokio::test]
async fn a_refresh_racing_a_logout_ends_revoked() {
    let world = World::new().await;
    let login = world.sign_in().await;
    // The refresh reads; the logout then runs whole; then the refresh writes.
    let (read, logged_out) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let endpoint = gated(&world, world.store(), &[&read, &logged_out]);
    let event = refresh_event(&login.refresh);
    let logout = async {
        read.wait().await;
        let answer = crate::logout(&world, &format!("Bearer {}", login.access), None).await;
        logged_out.wait().await;
        answer
    };
    let (refreshed, (_, logout_body)) = tokio::join!(call(&endpoint, &event), logout);
    assert_eq!(logout_body["code"], 200, "{logout_body}");
    assert_eq!(logout_body["data"]["revokedSessions"], 1);
    assert_refused(&refreshed, 200, 5032, VERIFICATION_FAILED, "revoked");
    let session = world.session_of(&login).await;
    assert_eq!(string_attr(&session, "status"), "revoked");
    assert_eq!(string_attr(&session, "revokedReason"), "logout");
    assert_eq!(
        world.items(Table::Token).await.len(),
        2,
        "no pair was added"
    );
}

#[tokio::test]
async fn a_logout_after_a_refresh_kills_the_refreshed_pair() {
    let world = World::new().await;
    let login = world.sign_in().await;
    let (status, body) = refresh(&world, &login.refresh).await;
    let refreshed = Tokens::from_answer(status, &body);
    let (_, answer) = crate::logout(&world, &format!("Bearer {}", refreshed.access), None).await;
    assert_eq!(answer["code"], 200);
    assert!(!is_live(&world, &refreshed.access).await);
    assert_refused(
        &refresh(&world, &refreshed.refresh).await,
        200,
        5032,
        VERIFICATION_FAILED,
        "revoked",
    );
}

#[tokio::test]
async fn a_session_from_before_jwts_refreshes_into_a_jwt_pair_and_its_opaque_token_is_refused() {
    let world = World::new().await;
    let login = world.sign_in().await;
    // The session as the release before JWTs left it: an opaque access token, its item in the
    // token table, and no signing key named on the session.
    let opaque = format!(
        "{DOMAIN}.{}.{}.{}",
        login.uid,
        login.session_id(),
        "o".repeat(43)
    );
    let mut token_item = world
        .item(Table::Token, &[("tokenHash", &hash_token(&login.access))])
        .await
        .expect("the access token's item");
    token_item.insert("tokenHash".into(), AttributeValue::S(hash_token(&opaque)));
    world
        .client
        .put_item()
        .table_name(world.tables.get(Table::Token).expect("table"))
        .set_item(Some(token_item))
        .send()
        .await
        .expect("put the opaque token");
    world
        .client
        .update_item()
        .table_name(world.tables.get(Table::Session).expect("table"))
        .key("uid", AttributeValue::S(login.uid.clone()))
        .key("sessionId", AttributeValue::S(login.session_id()))
        .update_expression("SET accessTokenHash = :opaque REMOVE accessKeyId")
        .expression_attribute_values(":opaque", AttributeValue::S(hash_token(&opaque)))
        .send()
        .await
        .expect("make the session an old one");

    // The opaque access token is refused, as any token that is not a JWT of ours, at no cost.
    let proxy = FaultyServer::proxy(&world.endpoint).await.expect("proxy");
    let store = || world.store_via(&proxy.url(), Limits::default());
    let decision = world
        .authorizer_with(store())
        .decide(Some(&format!("Bearer {opaque}")))
        .await
        .expect("decided");
    assert!(!matches!(decision, Decision::Allow(_)));
    let answer = call(
        &world.logout_with(store()),
        &logout_event(Some(&opaque), None),
    )
    .await;
    assert_refused(&answer, 200, 5032, VERIFICATION_FAILED, "invalid");
    assert_eq!(proxy.requests(), 0);

    // Its refresh token refreshes, into a JWT pair that works, and again within grace.
    let (status, body) = refresh(&world, &login.refresh).await;
    let refreshed = Tokens::from_answer(status, &body);
    assert_eq!(
        testkit::forge::header_of(&refreshed.access)["typ"],
        "at+jwt"
    );
    assert!(is_live(&world, &refreshed.access).await);
    let (status, body) = refresh(&world, &login.refresh).await;
    let retried = Tokens::from_answer(status, &body);
    assert_eq!(
        (&retried.access, &retried.refresh),
        (&refreshed.access, &refreshed.refresh)
    );
    let session = world.session_of(&refreshed).await;
    assert_eq!(
        string_attr(&session, "accessKeyId"),
        testkit::forge::header_of(&refreshed.access)["kid"]
            .as_str()
            .expect("kid")
    );
}
