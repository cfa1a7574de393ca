//! The login logic with in-memory adapters: the order of checks 8 to 16 where several fail at
//! once, and what reaches the stores.

use std::collections::HashMap;

use twitter_auth_login::error::LoginError;
use twitter_auth_login::login::{App, Login, Policy, TwitterUser, UserDomain};
use twitter_auth_login::memory::{MemoryStore, MemoryTwitter};
use twitter_auth_login::request::LoginRequest;
use twitter_auth_login::secret::Secret;
use twitter_auth_login::signature;
use twitter_auth_login::token::hash_token;

const DOMAIN: &str = "C.DM.5903.1";
const SECRET: &str = "domain-secret-0123456789";

fn domain(enabled: bool, secret: Option<&str>) -> UserDomain {
    UserDomain {
        secret: secret.map(Secret::new),
        enabled,
        apps: HashMap::from([
            (
                "tw".to_owned(),
                App {
                    platform: "twitter".into(),
                    consumer_key: "ck".into(),
                    consumer_secret: Secret::new("cs"),
                },
            ),
            (
                "fb".to_owned(),
                App {
                    platform: "facebook".into(),
                    consumer_key: "ck".into(),
                    consumer_secret: Secret::new("cs"),
                },
            ),
        ]),
    }
}

fn store(domain: UserDomain) -> MemoryStore {
    MemoryStore::new(
        HashMap::from([(DOMAIN.to_owned(), domain)]),
        HashMap::from([(262, "dc-eu".to_owned()), (460, "dc-cn".to_owned())]),
    )
}

fn twitter() -> MemoryTwitter {
    MemoryTwitter {
        users: HashMap::from([(
            ("ck".to_owned(), "tok".to_owned(), "toksec".to_owned()),
            TwitterUser {
                id: "42".into(),
                username: Some("jack".into()),
            },
        )]),
        fail_with: None,
    }
}

fn login(store: MemoryStore, twitter: MemoryTwitter) -> Login<MemoryStore, MemoryTwitter> {
    Login::new(
        store,
        twitter,
        Policy {
            data_center: "dc-eu".into(),
            access_token_ttl_seconds: 60,
            refresh_token_ttl_seconds: 600,
        },
    )
}

fn request(app_id: &str, domain_secret: &str, mcc: Option<i32>) -> LoginRequest {
    LoginRequest {
        user_domain: DOMAIN.into(),
        app_id: app_id.into(),
        oauth_token: Secret::new("tok"),
        oauth_token_secret: Secret::new("toksec"),
        signature: Secret::new(signature::expected(app_id, "tok", "toksec", domain_secret)),
        mcc,
    }
}

async fn code(login: &Login<MemoryStore, MemoryTwitter>, request: &LoginRequest) -> u32 {
    match login.login(request).await {
        Ok(_) => 200,
        Err(error) => error.code(),
    }
}

#[tokio::test]
async fn a_good_login_saves_one_pair_matching_the_grant() {
    let login = login(store(domain(true, Some(SECRET))), twitter());
    let grant = login
        .login(&request("tw", SECRET, Some(262)))
        .await
        .expect("login");
    let saved = login.store().saved();
    assert_eq!(saved.len(), 1);
    let pair = &saved[0];
    assert_eq!(
        pair.access.hash,
        hash_token(grant.access_token.token.expose())
    );
    assert_eq!(
        pair.refresh.hash,
        hash_token(grant.refresh_token.token.expose())
    );
    assert_eq!(pair.access.expiration_time, pair.issued_at + 60);
    assert_eq!(pair.refresh.expiration_time, pair.issued_at + 600);
    assert_eq!(
        grant.access_token.expiration_time,
        pair.access.expiration_time
    );
    assert_eq!(
        pair.twitter_user,
        TwitterUser {
            id: "42".into(),
            username: Some("jack".into())
        }
    );
    assert_eq!(
        (pair.user_domain.as_str(), pair.app_id.as_str(), pair.mcc),
        (DOMAIN, "tw", Some(262))
    );
    assert_eq!(pair.pair_id.len(), 32);
}

#[tokio::test]
async fn the_first_failing_check_answers() {
    // Disabled (9) wins over a bad signature (10).
    let disabled = login(store(domain(false, Some(SECRET))), twitter());
    assert_eq!(code(&disabled, &request("tw", "wrong", None)).await, 5104);
    // A bad signature (10) wins over an unknown app (11).
    let enabled = login(store(domain(true, Some(SECRET))), twitter());
    assert_eq!(code(&enabled, &request("nope", "wrong", None)).await, 5420);
    // An unknown app (11) wins over an unmapped MCC (12).
    assert_eq!(
        code(&enabled, &request("nope", SECRET, Some(1))).await,
        5574
    );
    // A non-Twitter app is not configured for this login.
    assert_eq!(code(&enabled, &request("fb", SECRET, None)).await, 5574);
    // Unmapped (12), then foreign (13), both before Twitter (14).
    let failing_twitter = login(
        store(domain(true, Some(SECRET))),
        MemoryTwitter {
            fail_with: Some(LoginError::TwitterUnavailable("x")),
            ..twitter()
        },
    );
    assert_eq!(
        code(&failing_twitter, &request("tw", SECRET, Some(1))).await,
        6085
    );
    assert_eq!(
        code(&failing_twitter, &request("tw", SECRET, Some(460))).await,
        6084
    );
    assert_eq!(
        code(&failing_twitter, &request("tw", SECRET, Some(262))).await,
        5367
    );
    assert!(failing_twitter.store().saved().is_empty());
}

#[tokio::test]
async fn a_domain_without_a_secret_is_an_internal_error_after_the_enabled_check() {
    let no_secret = login(store(domain(true, None)), twitter());
    assert_eq!(code(&no_secret, &request("tw", SECRET, None)).await, 5000);
    let disabled = login(store(domain(false, None)), twitter());
    assert_eq!(code(&disabled, &request("tw", SECRET, None)).await, 5104);
}

#[tokio::test]
async fn store_failures_pass_through_and_save_nothing() {
    let mut failing = store(domain(true, Some(SECRET)));
    failing.fail_with = Some(LoginError::StoreUnavailable("x"));
    let login = login(failing, twitter());
    assert_eq!(code(&login, &request("tw", SECRET, None)).await, 5001);
    assert!(login.store().saved().is_empty());
}
