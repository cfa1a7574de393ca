//! The logic alone, with in-memory adapters: the order of login checks 8 to 16 where several
//! fail at once, what reaches the stores, and the lifecycle's decisions without any network.

use std::collections::HashMap;
use std::sync::Arc;

use testkit::events::login_signature;
use testkit::memory::{ManualClock, MemoryKeys, MemoryStore, MemoryTwitter};
use testkit::prelude::ISSUER;
use twitter_auth_login::domain::secret::Secret;
use twitter_auth_login::domain::session::{Lifetimes, RevokedReason, SessionStatus, TokenRules};
use twitter_auth_login::domain::token::{PresentedToken, hash_token};
use twitter_auth_login::domain::user::TwitterUser;
use twitter_auth_login::domain::user_domain::{App, DomainState, UserDomain, UserDomainName};
use twitter_auth_login::endpoints::issuing::PairIssuer;
use twitter_auth_login::endpoints::login::Login;
use twitter_auth_login::endpoints::login::request::LoginRequest;
use twitter_auth_login::endpoints::logout::{Logout, LogoutScope};
use twitter_auth_login::endpoints::refresh::Refresh;
use twitter_auth_login::endpoints::token_check::TokenCheck;
use twitter_auth_login::error::{ApiError, Rejection};
use twitter_auth_login::invocation::Caller;
use twitter_auth_login::jwt::AccessTokenVerifier;

const DOMAIN: &str = "C.DM.1";
const SECRET: &str = "domain-secret";
const LIFETIMES: Lifetimes = Lifetimes {
    access_token_ttl: 7200,
    refresh_token_ttl: 2_592_000,
    session_max: 7_776_000,
};
const GRACE: u64 = 30;

fn domain(enabled: bool) -> UserDomain {
    UserDomain {
        state: DomainState {
            enabled: Ok(enabled),
        },
        secret: Ok(Secret::new(SECRET)),
        apps: Ok(HashMap::from([(
            "app".to_owned(),
            Ok(App {
                platform: "twitter".into(),
                consumer_key: "ck".into(),
                consumer_secret: Secret::new("cs"),
            }),
        )])),
    }
}

fn twitter() -> MemoryTwitter {
    MemoryTwitter {
        users: HashMap::from([(
            ("ck".to_owned(), "tok".to_owned(), "sec".to_owned()),
            TwitterUser {
                id: "42".into(),
                username: Some("jack".into()),
            },
        )]),
        fail_with: None,
    }
}

fn request(mcc: Option<i32>) -> LoginRequest {
    LoginRequest {
        user_domain: UserDomainName::parse(DOMAIN).expect("domain"),
        app_id: "app".into(),
        oauth_token: Secret::new("tok"),
        oauth_token_secret: Secret::new("sec"),
        signature: Secret::new(login_signature("app", "tok", "sec", SECRET)),
        mcc,
    }
}

struct Setup {
    store: MemoryStore,
    keys: MemoryKeys,
    clock: Arc<ManualClock>,
}

type MemoryLogin = Login<MemoryStore, MemoryTwitter, MemoryKeys, MemoryKeys>;

impl Setup {
    fn new() -> Setup {
        Setup {
            store: MemoryStore::new(
                HashMap::from([(DOMAIN.to_owned(), domain(true))]),
                HashMap::from([(262, Ok("dc-eu".to_owned())), (460, Ok("dc-cn".to_owned()))]),
            ),
            keys: MemoryKeys::new(),
            clock: Arc::new(ManualClock::at(1_800_000_000)),
        }
    }

    fn issuer(&self) -> PairIssuer<MemoryKeys> {
        PairIssuer::new(self.keys.clone(), ISSUER, LIFETIMES)
    }

    fn login(&self, twitter: MemoryTwitter) -> MemoryLogin {
        Login::new(
            self.store.clone(),
            twitter,
            self.issuer(),
            self.keys.clone(),
            "dc-eu",
            self.clock.clone(),
        )
    }

    fn refresh(&self) -> Refresh<MemoryStore, MemoryKeys, MemoryKeys> {
        let rules = TokenRules::refresh(LIFETIMES.session_max, GRACE);
        let check = TokenCheck::new(rules, self.clock.clone());
        Refresh::new(self.store.clone(), self.issuer(), self.keys.clone(), check)
    }

    fn logout(&self) -> Logout<MemoryStore, MemoryKeys> {
        let rules = TokenRules::access(LIFETIMES.session_max);
        let verifier = AccessTokenVerifier::new(self.keys.clone(), ISSUER);
        Logout::new(
            self.store.clone(),
            verifier,
            TokenCheck::new(rules, self.clock.clone()),
        )
    }

    /// An access token as logout takes it: verified first.
    async fn verified(&self, token: &Secret) -> PresentedToken {
        AccessTokenVerifier::new(self.keys.clone(), ISSUER)
            .verify(token.expose(), self.clock.get())
            .await
            .expect("keys")
            .expect("a token of ours")
    }
}

fn presented(token: &Secret) -> PresentedToken {
    PresentedToken::parse(token.expose()).expect("a minted token parses")
}

#[tokio::test]
async fn the_first_failing_check_answers() {
    let setup = Setup::new();
    let mut twitter = twitter();
    twitter.fail_with = Some(ApiError::TwitterUnavailable("down"));
    // A wrong signature (10) with an unmapped MCC (12) and Twitter down (14): 5420.
    let mut bad = request(Some(999));
    bad.signature = Secret::new("00");
    let login = setup.login(twitter);
    assert_eq!(
        login.login(&bad, "").await.err(),
        Some(ApiError::SignatureMismatch)
    );
    // Signature fixed: the MCC answers before Twitter is asked.
    assert_eq!(
        login.login(&request(Some(999)), "").await.err(),
        Some(ApiError::MccNotMapped)
    );
    assert_eq!(
        login.login(&request(Some(460)), "").await.err(),
        Some(ApiError::MccOtherDataCenter)
    );
    assert_eq!(
        login.login(&request(Some(262)), "").await.err(),
        Some(ApiError::TwitterUnavailable("down"))
    );
    assert!(setup.store.tables().tokens.is_empty());
}

#[tokio::test]
async fn a_login_stores_a_session_and_the_user_and_refresh_rotates_it() {
    let setup = Setup::new();
    let grant = setup
        .login(twitter())
        .login(&request(None), "")
        .await
        .expect("login");
    let tables = setup.store.tables();
    assert_eq!(tables.tokens.len(), 2);
    assert_eq!(tables.sessions.len(), 1);
    assert_eq!(
        tables.users[&grant.uid].twitter_username.as_deref(),
        Some("jack")
    );

    setup.clock.advance(10);
    let refreshed = setup
        .refresh()
        .refresh(
            &presented(&grant.refresh_token.token),
            &mut Caller::default(),
        )
        .await
        .expect("refresh");
    let session = setup
        .store
        .tables()
        .sessions
        .into_values()
        .next()
        .expect("session");
    assert_eq!(
        session.record.refresh_token_hash,
        hash_token(refreshed.refresh_token.token.expose())
    );
    assert_eq!(
        session.record.previous_refresh_token_hash.as_deref(),
        Some(hash_token(grant.refresh_token.token.expose()).as_str())
    );
    assert_eq!(session.record.rotated_at, Some(1_800_000_010));

    // After the grace window the old token is reuse: the session is revoked.
    setup.clock.advance(30);
    assert_eq!(
        setup
            .refresh()
            .refresh(
                &presented(&grant.refresh_token.token),
                &mut Caller::default()
            )
            .await
            .err(),
        Some(ApiError::TokenRejected(Rejection::Reused))
    );
    let session = setup
        .store
        .tables()
        .sessions
        .into_values()
        .next()
        .expect("session");
    assert_eq!(session.record.status, SessionStatus::Revoked);
    assert_eq!(session.revoked_reason, Some(RevokedReason::Reused));
}

#[tokio::test]
async fn logout_scopes_count_what_they_revoke() {
    let setup = Setup::new();
    let login = setup.login(twitter());
    let a = login.login(&request(None), "").await.expect("a");
    let b = login.login(&request(None), "").await.expect("b");
    let c = login.login(&request(None), "").await.expect("c");
    let logout = setup.logout();
    let others = logout
        .logout(
            &setup.verified(&a.access_token.token).await,
            LogoutScope::Others,
            &mut Caller::default(),
        )
        .await
        .expect("others");
    assert_eq!(others.revoked_sessions, 2);
    assert_eq!(
        logout
            .logout(
                &setup.verified(&b.access_token.token).await,
                LogoutScope::Local,
                &mut Caller::default()
            )
            .await
            .err(),
        Some(ApiError::TokenRejected(Rejection::Revoked))
    );
    assert_eq!(
        logout
            .logout(
                &setup.verified(&a.access_token.token).await,
                LogoutScope::Global,
                &mut Caller::default()
            )
            .await
            .map(|l| l.revoked_sessions),
        Ok(1)
    );
    let _ = c;
    assert!(
        setup
            .store
            .tables()
            .sessions
            .values()
            .all(|s| s.record.status == SessionStatus::Revoked)
    );
}

#[tokio::test]
async fn a_store_failure_is_passed_on_unchanged() {
    let mut store = MemoryStore::new(
        HashMap::from([(DOMAIN.to_owned(), domain(true))]),
        HashMap::new(),
    );
    store.fail_with = Some(ApiError::StoreUnavailable("timeout"));
    let keys = MemoryKeys::new();
    let login = Login::new(
        store,
        twitter(),
        PairIssuer::new(keys.clone(), ISSUER, LIFETIMES),
        keys,
        "dc-eu",
        Arc::new(ManualClock::at(1)),
    );
    assert_eq!(
        login.login(&request(None), "").await.err(),
        Some(ApiError::StoreUnavailable("timeout"))
    );
}
