//! The ports' contract, as cases any store must pass: the in-memory adapters and the DynamoDB
//! adapter (on moto) run the same cases, so the conditions each write holds cannot drift apart.
//! Each case starts from a store holding [`CONTRACT_DOMAIN`], enabled, with the world's app and
//! its MCC routes, and nothing else.

use twitter_auth_login::domain::grant::{Grant, IssuedPair, PairTimes, SignedAccessToken};
use twitter_auth_login::domain::listing::PageCursor;
use twitter_auth_login::domain::session::{RevokedReason, SessionStatus, TokenKind, TokenOwner};
use twitter_auth_login::domain::token::{MintedToken, PresentedToken, TokenRoute, random_id};
use twitter_auth_login::domain::user_domain::UserDomainName;
use twitter_auth_login::error::ApiError;
use twitter_auth_login::ports::{
    Admission, Admitted, Conditional, DomainDirectory, DomainRead, Ledger, LiveAt, NewSession,
    Rotation, SessionLister, SessionPager, SessionRevoker, SessionRotator, SessionStarter,
    TokenReader, UserReader,
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
    + SessionPager
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
        + SessionPager
        + UserReader
        + Sync
{
}

const NOW: u64 = 1_800_000_000;
/// The cap the cases start sessions under, unless a case is about the cap.
const CAP: u64 = 100;
/// The `User-Agent` every case's login sent.
const USER_AGENT: &str = "ContractClient/1.0";

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

/// A login's write of a new session of `owner` at `now`.
fn new_session(owner: TokenOwner, now: u64) -> (NewSession, Grant) {
    let session_end = now + LIFETIMES.session_max;
    let (pair, grant) = issue_pair(owner, now, session_end, &LIFETIMES).expect("pair");
    let session = NewSession {
        pair,
        session_end,
        user_agent: USER_AGENT.to_owned(),
    };
    (session, grant)
}

async fn start<S: Store>(store: &S, owner: TokenOwner, now: u64) -> Started {
    let (session, grant) = new_session(owner, now);
    let started = store
        .start_session(&session, &Admission::BelowCap { cap: CAP })
        .await;
    assert_eq!(started, Ok(Admitted::Started), "a new session starts");
    Started {
        pair: session.pair,
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
    let below_cap = Admission::BelowCap { cap: CAP };
    let (session, _) = new_session(impostor, NOW);
    let refused = store.start_session(&session, &below_cap).await;
    assert!(matches!(refused, Err(ApiError::Internal(_))), "{refused:?}");
    let (mut twin, _) = new_session(owner("44"), NOW);
    twin.pair.access.hash = first.pair.access.hash.clone();
    let refused = store.start_session(&twin, &below_cap).await;
    assert!(matches!(refused, Err(ApiError::Internal(_))), "{refused:?}");
    assert_eq!(store.user(&twin.pair.owner.uid).await.expect("read"), None);
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

fn ids(listed: &[twitter_auth_login::domain::session::SessionSummary]) -> Vec<String> {
    listed.iter().map(|s| s.session_id.clone()).collect()
}

/// Revocation ends active sessions only, each with its own write; a revoked session rotates no
/// more and leaves the index of active sessions.
pub async fn revocation_ends_active_sessions_only<S: Store>(store: &S) {
    let a = start(store, owner("42"), NOW).await;
    let b = start(store, owner("42"), NOW + 1).await;
    let uid = a.pair.owner.uid.clone();
    let listed = store.active_sessions(&uid).await.expect("list");
    // Oldest first, each with its login time and end.
    assert_eq!(
        ids(&listed),
        [&a, &b].map(|s| s.pair.owner.session_id.clone())
    );
    assert_eq!(
        (listed[1].created_at, listed[1].expiration_time),
        (NOW + 1, NOW + 1 + LIFETIMES.session_max)
    );

    let a_id = &a.pair.owner.session_id;
    let revoke = |reason| store.revoke(&uid, a_id, reason, None);
    assert_eq!(
        revoke(RevokedReason::Logout).await,
        Ok(Conditional::Applied)
    );
    assert_eq!(
        revoke(RevokedReason::Logout).await,
        Ok(Conditional::Conflict)
    );
    let never = "x".repeat(22);
    let unknown = store.revoke(&uid, &never, RevokedReason::Logout, None);
    assert_eq!(unknown.await, Ok(Conditional::Conflict), "no such session");
    let elsewhere = store.revoke(
        "someone-else",
        &b.pair.owner.session_id,
        RevokedReason::Logout,
        None,
    );
    assert_eq!(
        elsewhere.await,
        Ok(Conditional::Conflict),
        "not that user's"
    );
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

    let listed = store.active_sessions(&uid).await.expect("list");
    assert_eq!(ids(&listed), std::slice::from_ref(&b.pair.owner.session_id));
    assert!(
        store
            .active_sessions("someone-else")
            .await
            .expect("list")
            .is_empty()
    );
}

/// A revocation that holds at a moment ends only a session not yet past its end then.
pub async fn a_revocation_at_a_moment_spares_ended_sessions<S: Store>(store: &S) {
    let a = start(store, owner("42"), NOW).await;
    let (uid, id) = (&a.pair.owner.uid, &a.pair.owner.session_id);
    let end = NOW + LIFETIMES.session_max;
    let at = |now, session_max| Some(LiveAt { now, session_max });
    let revoke = |live_at| store.revoke(uid, id, RevokedReason::Logout, live_at);
    assert_eq!(
        revoke(at(end, LIFETIMES.session_max)).await,
        Ok(Conditional::Conflict)
    );
    assert_eq!(
        revoke(at(NOW + 10, 10)).await,
        Ok(Conditional::Conflict),
        "past its age today"
    );
    assert_eq!(
        revoke(at(end - 1, LIFETIMES.session_max)).await,
        Ok(Conditional::Applied)
    );
}

/// The ledger keeps a user under the cap: a login past it writes nothing, and the login that
/// makes room ends the oldest in its own write, only while no other login wrote the ledger
/// since it was read and those sessions are still active.
pub async fn the_ledger_keeps_the_cap<S: Store>(store: &S) {
    let cap = Admission::BelowCap { cap: 2 };
    let mut started = Vec::new();
    for n in 0..2 {
        let (session, _) = new_session(owner("42"), NOW + n);
        assert_eq!(
            store.start_session(&session, &cap).await,
            Ok(Admitted::Started)
        );
        started.push(session.pair.owner.session_id);
    }
    let uid = owner("42").uid;
    let (third, grant) = new_session(owner("42"), NOW + 2);
    let third_access = PresentedToken::parse(grant.access_token.token.expose()).expect("token");
    let full = Ledger {
        sessions: 2,
        writes: 2,
    };
    assert_eq!(
        store.start_session(&third, &cap).await,
        Ok(Admitted::Refused { ledger: full })
    );
    let nothing = store
        .token_state(&third_access, DomainRead::Skip)
        .await
        .expect("read");
    assert_eq!(
        (nothing.token, nothing.session),
        (None, None),
        "nothing written"
    );

    // Room made from a ledger another login has written since: refused, nothing ended.
    let stale = Admission::MakingRoom {
        writes: 1,
        evict: vec![started[0].clone()],
        live_after: 1,
    };
    assert_eq!(
        store.start_session(&third, &stale).await,
        Ok(Admitted::Refused { ledger: full })
    );
    assert_eq!(
        ids(&store.active_sessions(&uid).await.expect("list")),
        started
    );

    // A session to end that has ended meanwhile: nothing written either.
    assert_eq!(
        store
            .revoke(&uid, &started[1], RevokedReason::Logout, None)
            .await,
        Ok(Conditional::Applied)
    );
    let changed = Admission::MakingRoom {
        writes: 2,
        evict: vec![started[1].clone()],
        live_after: 1,
    };
    assert_eq!(
        store.start_session(&third, &changed).await,
        Ok(Admitted::Conflict)
    );
    assert_eq!(
        ids(&store.active_sessions(&uid).await.expect("list")),
        std::slice::from_ref(&started[0])
    );

    // As read: one session live, nothing to end; the ledger then counts two.
    let room = Admission::MakingRoom {
        writes: 2,
        evict: vec![],
        live_after: 1,
    };
    assert_eq!(
        store.start_session(&third, &room).await,
        Ok(Admitted::Started)
    );
    // A twin that counted the same sessions at the same moment does not get in after it,
    // though the count it would write is the one the ledger now holds.
    let (twin, _) = new_session(owner("42"), NOW + 2);
    let counted = Ledger {
        sessions: 2,
        writes: 3,
    };
    assert_eq!(
        store.start_session(&twin, &room).await,
        Ok(Admitted::Refused { ledger: counted })
    );
    assert_eq!(
        store.start_session(&twin, &cap).await,
        Ok(Admitted::Refused { ledger: counted })
    );

    // The oldest ends in the same write that starts the newest.
    let evicting = Admission::MakingRoom {
        writes: 3,
        evict: vec![started[0].clone()],
        live_after: 1,
    };
    assert_eq!(
        store.start_session(&twin, &evicting).await,
        Ok(Admitted::Started)
    );
    let mut live = ids(&store.active_sessions(&uid).await.expect("list"));
    live.sort();
    let mut expected = [
        third.pair.owner.session_id.clone(),
        twin.pair.owner.session_id.clone(),
    ];
    expected.sort();
    assert_eq!(live, expected);
    let mut evicted = vec![];
    for id in [&started[0], &started[1]] {
        let again = store.revoke(&uid, id, RevokedReason::Logout, None).await;
        evicted.push(again);
    }
    assert_eq!(
        evicted,
        [Ok(Conditional::Conflict), Ok(Conditional::Conflict)]
    );
    // Another user's ledger is their own.
    let (other, _) = new_session(owner("43"), NOW);
    assert_eq!(
        store.start_session(&other, &cap).await,
        Ok(Admitted::Started)
    );
}

/// The end user's listing: their active sessions, newest first, with what their logins sent
/// and when each was last used, page by page from a cursor.
pub async fn the_listing_pages_through_active_sessions_newest_first<S: Store>(store: &S) {
    let a = start(store, owner("42"), NOW).await;
    let b = start(store, owner("42"), NOW + 5).await;
    let c = start(store, owner("42"), NOW + 9).await;
    start(store, owner("43"), NOW + 7).await;
    let uid = a.pair.owner.uid.clone();
    let (pair, _) = next_pair(&a, NOW + 20);
    let rotation = Rotation {
        pair,
        presented_hash: a.refresh.hash.clone(),
    };
    assert_eq!(store.rotate(&rotation).await, Ok(Conditional::Applied));
    let b_id = &b.pair.owner.session_id;
    let revoked = store.revoke(&uid, b_id, RevokedReason::Logout, None);
    assert_eq!(revoked.await, Ok(Conditional::Applied));

    let page = store.session_page(&uid, None).await.expect("page");
    let listed: Vec<(String, u64, u64)> = page
        .sessions
        .iter()
        .map(|s| (s.session_id.clone(), s.created_at, s.last_used_at))
        .collect();
    assert_eq!(
        listed,
        [
            (c.pair.owner.session_id.clone(), NOW + 9, NOW + 9),
            (a.pair.owner.session_id.clone(), NOW, NOW + 20),
        ]
    );
    assert_eq!(page.next, None, "one page holds them");
    let first = &page.sessions[0];
    assert_eq!(
        (
            first.app_id.as_str(),
            first.user_agent.as_str(),
            first.status
        ),
        ("app", USER_AGENT, SessionStatus::Active)
    );
    assert_eq!(first.expiration_time, NOW + 9 + LIFETIMES.session_max);

    // From a cursor: what comes after it, newest first.
    let after_c = PageCursor {
        active_since: NOW + 9,
        session_id: c.pair.owner.session_id.clone(),
    };
    let rest = store
        .session_page(&uid, Some(&after_c))
        .await
        .expect("page");
    let rest: Vec<String> = rest.sessions.iter().map(|s| s.session_id.clone()).collect();
    assert_eq!(rest, std::slice::from_ref(&a.pair.owner.session_id));
    let past_all = PageCursor {
        active_since: NOW,
        session_id: a.pair.owner.session_id.clone(),
    };
    let empty = store
        .session_page(&uid, Some(&past_all))
        .await
        .expect("page");
    assert!(empty.sessions.is_empty() && empty.next.is_none());
    assert!(
        store
            .session_page("someone-else", None)
            .await
            .expect("page")
            .sessions
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
