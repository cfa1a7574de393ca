//! The ports' contract, as cases any store must pass: the in-memory adapters and the DynamoDB
//! adapter (on moto) run the same cases, so the conditions each write holds cannot drift apart.
//! Each case starts from a store holding [`CONTRACT_DOMAIN`], enabled, with the world's app and
//! its MCC routes, and nothing else.

use twitter_auth_login::domain::grant::{Grant, IssuedPair, PairTimes, SignedAccessToken};
use twitter_auth_login::domain::session::{RevokedReason, SessionStatus, TokenKind, TokenOwner};
use twitter_auth_login::domain::token::{MintedToken, PresentedToken, TokenRoute, random_id};
use twitter_auth_login::domain::user_domain::UserDomainName;
use twitter_auth_login::error::ApiError;
use twitter_auth_login::ports::{
    Conditional, DomainDirectory, DomainRead, NewSession, Rotation, SessionLister, SessionRevoker,
    SessionRotator, SessionStarter, TokenReader, UserReader,
};

use crate::world::{DATA_CENTER, DOMAIN, LIFETIMES, LOCAL_MCC};

/// The user domain every case's store holds.
pub const CONTRACT_DOMAIN: &str = DOMAIN;

/// Every port a store implements.
pub trait Store:
    DomainDirectory
    + SessionStarter
    + TokenReader
    + SessionRotator
    + SessionRevoker
    + SessionLister
    + UserReader
    + Sync
{
}

impl<S> Store for S where
    S: DomainDirectory
        + SessionStarter
        + TokenReader
        + SessionRotator
        + SessionRevoker
        + SessionLister
        + UserReader
        + Sync
{
}

const NOW: u64 = 1_800_000_000;

fn domain() -> UserDomainName {
    UserDomainName::parse(CONTRACT_DOMAIN).expect("the contract's domain")
}

/// A pair as stores see one: two tokens' hashes and times; what the tokens look like is the
/// issuer's business.
fn issue_pair(
    owner: TokenOwner,
    now: u64,
    session_end: u64,
    lifetimes: &twitter_auth_login::domain::session::Lifetimes,
) -> Result<(IssuedPair, Grant), ApiError> {
    let route = TokenRoute::from(&owner);
    let access = MintedToken::mint(&route)?;
    let access = SignedAccessToken {
        token: access.token,
        hash: access.hash,
        kid: "contract-kid".into(),
    };
    let refresh = MintedToken::mint(&route)?;
    let times = PairTimes::new(now, session_end, lifetimes);
    Ok(IssuedPair::new(random_id()?, owner, times, access, refresh))
}

fn owner(twitter_user_id: &str) -> TokenOwner {
    TokenOwner {
        uid: format!("{twitter_user_id:0>22}"),
        session_id: random_id().expect("random"),
        user_domain: domain(),
        app_id: "app".into(),
        twitter_user_id: twitter_user_id.into(),
        twitter_username: Some("jack".into()),
        mcc: Some(LOCAL_MCC),
    }
}

/// A new session's pair, its raw tokens presented as a client would.
struct Started {
    pair: IssuedPair,
    access: PresentedToken,
    refresh: PresentedToken,
}

async fn start<S: Store>(store: &S, owner: TokenOwner, now: u64) -> Started {
    let session_end = now + LIFETIMES.session_max;
    let (pair, grant) = issue_pair(owner, now, session_end, &LIFETIMES).expect("pair");
    store
        .start_session(&NewSession {
            pair: pair.clone(),
            session_end,
        })
        .await
        .expect("a new session starts");
    Started {
        pair,
        access: PresentedToken::parse(grant.access_token.token.expose()).expect("access"),
        refresh: PresentedToken::parse(grant.refresh_token.token.expose()).expect("refresh"),
    }
}

/// The pair a refresh of `started` at `now` would write.
fn next_pair(started: &Started, now: u64) -> (IssuedPair, PresentedToken) {
    let session_end = started.pair.issued_at + LIFETIMES.session_max;
    let (pair, grant) =
        issue_pair(started.pair.owner.clone(), now, session_end, &LIFETIMES).expect("pair");
    let refresh = PresentedToken::parse(grant.refresh_token.token.expose()).expect("refresh");
    (pair, refresh)
}

/// The directory reads the user domain and, when asked, its MCC route; what is not there is
/// `None`.
pub async fn the_directory_reads_the_domain_and_its_route<S: Store>(store: &S) {
    let entry = store
        .lookup(&domain(), Some(LOCAL_MCC))
        .await
        .expect("read");
    let found = entry.user_domain.expect("the domain");
    assert_eq!(found.state.enabled, Ok(true));
    assert!(found.apps.is_ok_and(|apps| !apps.is_empty()));
    assert_eq!(entry.mcc_data_center, Some(Ok(DATA_CENTER.to_owned())));

    let elsewhere = UserDomainName::parse("Z.ZZ.404").expect("name");
    let missing = store.lookup(&elsewhere, Some(999)).await.expect("read");
    assert_eq!(missing.user_domain, None);
    assert_eq!(missing.mcc_data_center, None);
    let without_mcc = store.lookup(&domain(), None).await.expect("read");
    assert_eq!(without_mcc.mcc_data_center, None);
}

/// A started session is read back whole: both tokens, the session naming them, the domain
/// when asked for, and the user.
pub async fn a_started_session_reads_back<S: Store>(store: &S) {
    let started = start(store, owner("42"), NOW).await;
    let state = store
        .token_state(&started.access, DomainRead::Include)
        .await
        .expect("read");
    let token = state.token.expect("the access token's item");
    assert_eq!(token.kind, TokenKind::Access);
    assert_eq!(token.owner, started.pair.owner);
    assert_eq!(token.expiration_time, started.pair.access.expiration_time);
    let session = state.session.expect("the session");
    assert_eq!(session.status, SessionStatus::Active);
    assert_eq!(session.access_token_hash, started.access.hash);
    assert_eq!(session.refresh_token_hash, started.refresh.hash);
    assert_eq!(session.created_at, NOW);
    assert_eq!(session.previous_refresh_token_hash, None);
    assert_eq!(state.domain.map(|d| d.enabled), Some(Ok(true)));

    let without_domain = store
        .token_state(&started.refresh, DomainRead::Skip)
        .await
        .expect("read");
    assert_eq!(without_domain.domain, None);
    assert_eq!(
        without_domain.token.map(|t| t.kind),
        Some(TokenKind::Refresh)
    );

    let user = store
        .user(&started.pair.owner.uid)
        .await
        .expect("read")
        .expect("the user");
    assert_eq!(
        (user.register_time, user.last_login_time, user.status),
        (NOW, NOW, 1)
    );
    assert_eq!(user.twitter_user_id, "42");
    assert_eq!(user.twitter_username.as_deref(), Some("jack"));
    assert_eq!(store.user("nobody").await.expect("read"), None);
}

/// A second login of the same user keeps its registration and moves its last login; a login
/// whose uid names another account, or whose token hash is taken, writes nothing.
pub async fn a_login_never_overwrites<S: Store>(store: &S) {
    let first = start(store, owner("42"), NOW).await;
    start(store, owner("42"), NOW + 5).await;
    let user = store
        .user(&first.pair.owner.uid)
        .await
        .expect("read")
        .expect("user");
    assert_eq!((user.register_time, user.last_login_time), (NOW, NOW + 5));

    let mut impostor = owner("43");
    impostor.uid = first.pair.owner.uid.clone();
    let session_end = NOW + LIFETIMES.session_max;
    let (pair, _) = issue_pair(impostor, NOW, session_end, &LIFETIMES).expect("pair");
    let refused = store
        .start_session(&NewSession {
            pair: pair.clone(),
            session_end,
        })
        .await;
    assert!(matches!(refused, Err(ApiError::Internal(_))), "{refused:?}");
    let (mut twin, _) = issue_pair(owner("44"), NOW, session_end, &LIFETIMES).expect("pair");
    twin.access.hash = first.pair.access.hash.clone();
    let refused = store
        .start_session(&NewSession {
            pair: twin.clone(),
            session_end,
        })
        .await;
    assert!(matches!(refused, Err(ApiError::Internal(_))), "{refused:?}");
    assert_eq!(store.user(&twin.owner.uid).await.expect("read"), None);
}

/// A rotation holds only while the session is active and still names the presented refresh
/// token, and never writes over a token item: a twin that rotates the same token a moment
/// later, with the same derived tokens, writes nothing.
pub async fn a_rotation_holds_only_on_the_state_it_was_decided_from<S: Store>(store: &S) {
    let started = start(store, owner("42"), NOW).await;
    let (pair, next_refresh) = next_pair(&started, NOW + 10);
    let rotation = Rotation {
        pair: pair.clone(),
        presented_hash: started.refresh.hash.clone(),
    };
    assert_eq!(store.rotate(&rotation).await, Ok(Conditional::Applied));
    let state = store
        .token_state(&next_refresh, DomainRead::Skip)
        .await
        .expect("read");
    let session = state.session.expect("session");
    assert_eq!(session.refresh_token_hash, pair.refresh.hash);
    assert_eq!(session.access_token_hash, pair.access.hash);
    assert_eq!(
        session.previous_refresh_token_hash.as_deref(),
        Some(started.refresh.hash.as_str())
    );
    assert_eq!(session.rotated_at, Some(NOW + 10));
    assert_eq!(session.access_key_id.as_deref(), Some("contract-kid"));
    assert!(state.token.is_some(), "the new tokens are stored");

    // The same token again: the session moved on.
    let (again, _) = next_pair(&started, NOW + 11);
    let stale = Rotation {
        pair: again,
        ..rotation.clone()
    };
    assert_eq!(store.rotate(&stale).await, Ok(Conditional::Conflict));

    // A twin of the winning rotation (its refresh token is the winner's) writes nothing,
    // even when the session would let it: no token item is written over.
    let (mut twin, _) = next_pair(&started, NOW + 12);
    twin.refresh.hash = pair.refresh.hash.clone();
    let twin = Rotation {
        pair: twin,
        presented_hash: pair.refresh.hash.clone(),
    };
    assert_eq!(store.rotate(&twin).await, Ok(Conditional::Conflict));
    let session = store
        .token_state(&next_refresh, DomainRead::Skip)
        .await
        .expect("read")
        .session
        .expect("session");
    assert_eq!(session.refresh_token_hash, pair.refresh.hash, "unchanged");
    assert_eq!(session.rotated_at, Some(NOW + 10));
}

/// Revocation ends active sessions only; a revoked session rotates no more and is listed no
/// more.
pub async fn revocation_ends_active_sessions_only<S: Store>(store: &S) {
    let a = start(store, owner("42"), NOW).await;
    let b = start(store, owner("42"), NOW + 1).await;
    let uid = a.pair.owner.uid.clone();
    let mut listed: Vec<String> = store
        .active_sessions(&uid)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.session_id)
        .collect();
    listed.sort();
    let mut expected = vec![
        a.pair.owner.session_id.clone(),
        b.pair.owner.session_id.clone(),
    ];
    expected.sort();
    assert_eq!(listed, expected);

    let ids = [a.pair.owner.session_id.clone()];
    let revoked = store
        .revoke(&uid, &ids, RevokedReason::Logout)
        .await
        .expect("revoke");
    assert_eq!(
        (revoked.revoked, revoked.outcome),
        (1, Conditional::Applied)
    );
    let again = store
        .revoke(&uid, &ids, RevokedReason::Logout)
        .await
        .expect("revoke");
    assert_eq!((again.revoked, again.outcome), (0, Conditional::Conflict));
    let state = store
        .token_state(&a.access, DomainRead::Skip)
        .await
        .expect("read");
    assert_eq!(
        state.session.map(|s| s.status),
        Some(SessionStatus::Revoked)
    );

    let (pair, _) = next_pair(&a, NOW + 10);
    let rotation = Rotation {
        pair,
        presented_hash: a.refresh.hash.clone(),
    };
    assert_eq!(store.rotate(&rotation).await, Ok(Conditional::Conflict));

    let listed: Vec<String> = store
        .active_sessions(&uid)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.session_id)
        .collect();
    assert_eq!(listed, vec![b.pair.owner.session_id.clone()]);
    assert!(
        store
            .active_sessions("someone-else")
            .await
            .expect("list")
            .is_empty()
    );
}

/// An in-memory store holding what every case starts from, as the world seeds DynamoDB.
pub fn memory_store() -> crate::memory::MemoryStore {
    use std::collections::HashMap;
    use twitter_auth_login::domain::secret::Secret;
    use twitter_auth_login::domain::user_domain::{App, DomainState, TWITTER_PLATFORM, UserDomain};

    use crate::world::{APP_ID, CONSUMER_KEY, CONSUMER_SECRET, FOREIGN_MCC};

    let app = App {
        platform: TWITTER_PLATFORM.to_owned(),
        consumer_key: CONSUMER_KEY.to_owned(),
        consumer_secret: Secret::new(CONSUMER_SECRET),
    };
    let domain = UserDomain {
        state: DomainState { enabled: Ok(true) },
        secret: Ok(Secret::new("contract-domain-secret")),
        apps: Ok(HashMap::from([(APP_ID.to_owned(), Ok(app))])),
    };
    crate::memory::MemoryStore::new(
        HashMap::from([(CONTRACT_DOMAIN.to_owned(), domain)]),
        HashMap::from([
            (LOCAL_MCC, Ok(DATA_CENTER.to_owned())),
            (FOREIGN_MCC, Ok("dc-cn".to_owned())),
        ]),
    )
}
