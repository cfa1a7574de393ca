//! In-memory adapters for every port, and a clock that tests move by hand: the logic's tests
//! and the CPU benchmark use them so that neither needs the network. Writes keep the same
//! conditions the DynamoDB adapter puts on its transactions (`testkit::contract` holds both to
//! them).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use twitter_auth_login::domain::clock::{Clock, unix_now};
use twitter_auth_login::domain::derivation::DerivationKeys;
use twitter_auth_login::domain::grant::IssuedPair;
use twitter_auth_login::domain::listing::{PAGE_SIZE, PageCursor, StoredListing};
use twitter_auth_login::domain::secret::Secret;
use twitter_auth_login::domain::session::{
    RevokedReason, SessionRecord, SessionStatus, SessionSummary, TokenKind, TokenRecord, TokenState,
};
use twitter_auth_login::domain::token::PresentedToken;
use twitter_auth_login::domain::user::{TwitterUser, USER_ACTIVE, User};
use twitter_auth_login::domain::user_domain::{UserDomain, UserDomainName};
use twitter_auth_login::error::{ApiError, Field};
use twitter_auth_login::keys::jwk::{JwkSet, PrivateJwk};
use twitter_auth_login::keys::{PublicKeySet, SigningKeySet, rotation};
use twitter_auth_login::ports::{
    Admission, Admitted, Conditional, Derivation, DirectoryEntry, DomainDirectory, DomainRead,
    KeyRing, Ledger, LiveAt, MAX_EVICTIONS_PER_LOGIN, NewSession, Rotation, SessionLister,
    SessionPage, SessionPager, SessionRevoker, SessionRotator, SessionStarter, TokenReader,
    TwitterCredentials, TwitterVerifier, UserReader,
};

/// A session as stored in memory, with why it was revoked and what the listing shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub record: SessionRecord,
    pub revoked_reason: Option<RevokedReason>,
    pub user_agent: String,
    pub last_used_at: u64,
    /// Its place in the index of active sessions, while it is active.
    pub active_since: Option<u64>,
}

impl StoredSession {
    fn summary(&self) -> SessionSummary {
        SessionSummary {
            session_id: self.record.session_id.clone(),
            created_at: self.record.created_at,
            expiration_time: self.record.expiration_time,
        }
    }

    fn listing(&self) -> StoredListing {
        StoredListing {
            session_id: self.record.session_id.clone(),
            app_id: self.record.app_id.clone(),
            created_at: self.record.created_at,
            last_used_at: self.last_used_at,
            user_agent: self.user_agent.clone(),
            expiration_time: self.record.expiration_time,
            status: self.record.status,
        }
    }
}

/// Every table in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryTables {
    pub user_domains: HashMap<String, UserDomain>,
    pub mcc_routes: HashMap<i32, Field<String>>,
    pub tokens: HashMap<String, TokenRecord>,
    pub sessions: HashMap<(String, String), StoredSession>,
    pub users: HashMap<String, User>,
    /// Each user's ledger of live sessions, as the user item holds it.
    pub session_ledgers: HashMap<String, Ledger>,
}

impl MemoryTables {
    /// A user's entries in the index of active sessions, in its order: by `activeSince`,
    /// then session id.
    fn active_sessions(&self, uid: &str) -> Vec<&StoredSession> {
        let mut active: Vec<&StoredSession> = self
            .sessions
            .values()
            .filter(|s| s.record.uid == uid && s.active_since.is_some())
            .collect();
        active.sort_by(|a, b| {
            (a.active_since, &a.record.session_id).cmp(&(b.active_since, &b.record.session_id))
        });
        active
    }

    /// The revocation's condition and effect, as the DynamoDB adapter's.
    fn revoke(
        &mut self,
        uid: &str,
        session_id: &str,
        reason: RevokedReason,
        live_at: Option<LiveAt>,
    ) -> Conditional {
        let key = (uid.to_owned(), session_id.to_owned());
        let Some(session) = self.sessions.get_mut(&key) else {
            return Conditional::Conflict;
        };
        let record = &session.record;
        let live = live_at.is_none_or(|at| {
            at.now < record.expiration_time
                && record.created_at > at.now.saturating_sub(at.session_max)
        });
        if record.status != SessionStatus::Active || !live {
            return Conditional::Conflict;
        }
        session.record.status = SessionStatus::Revoked;
        session.revoked_reason = Some(reason);
        session.active_since = None;
        Conditional::Applied
    }
}

/// The tables behind a lock; clones share them. `fail_with` makes every call answer that error.
#[derive(Clone, Default)]
pub struct MemoryStore {
    tables: Arc<Mutex<MemoryTables>>,
    pub fail_with: Option<ApiError>,
}

impl MemoryStore {
    pub fn new(
        user_domains: HashMap<String, UserDomain>,
        mcc_routes: HashMap<i32, Field<String>>,
    ) -> Self {
        MemoryStore {
            tables: Arc::new(Mutex::new(MemoryTables {
                user_domains,
                mcc_routes,
                ..MemoryTables::default()
            })),
            fail_with: None,
        }
    }

    /// The tables as they are now.
    pub fn tables(&self) -> MemoryTables {
        self.lock().clone()
    }

    /// Changes the tables in place, as an operator or a lapse of time would.
    pub fn edit(&self, change: impl FnOnce(&mut MemoryTables)) {
        change(&mut self.lock());
    }

    fn lock(&self) -> MutexGuard<'_, MemoryTables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check(&self) -> Result<(), ApiError> {
        match &self.fail_with {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }
}

fn token_record(pair: &IssuedPair, kind: TokenKind) -> TokenRecord {
    let stored = match kind {
        TokenKind::Access => &pair.access,
        TokenKind::Refresh => &pair.refresh,
    };
    TokenRecord {
        kind,
        owner: pair.owner.clone(),
        expiration_time: stored.expiration_time,
    }
}

/// Stores both token items of a pair.
fn insert_pair(tables: &mut MemoryTables, pair: &IssuedPair) {
    for (kind, stored) in [
        (TokenKind::Access, &pair.access),
        (TokenKind::Refresh, &pair.refresh),
    ] {
        tables
            .tokens
            .insert(stored.hash.clone(), token_record(pair, kind));
    }
}

impl DomainDirectory for MemoryStore {
    async fn lookup(
        &self,
        user_domain: &UserDomainName,
        mcc: Option<i32>,
    ) -> Result<DirectoryEntry, ApiError> {
        self.check()?;
        let tables = self.lock();
        Ok(DirectoryEntry {
            user_domain: tables.user_domains.get(user_domain.as_str()).cloned(),
            mcc_data_center: mcc.and_then(|mcc| tables.mcc_routes.get(&mcc).cloned()),
        })
    }
}

impl SessionStarter for MemoryStore {
    async fn start_session(
        &self,
        session: &NewSession,
        admission: &Admission,
    ) -> Result<Admitted, ApiError> {
        self.check()?;
        let pair = &session.pair;
        let owner = &pair.owner;
        let mut tables = self.lock();
        let key = (owner.uid.clone(), owner.session_id.clone());
        let collides = tables.tokens.contains_key(&pair.access.hash)
            || tables.tokens.contains_key(&pair.refresh.hash)
            || tables.sessions.contains_key(&key)
            || tables.users.get(&owner.uid).is_some_and(|user| {
                user.user_domain != owner.user_domain.as_str()
                    || user.twitter_user_id != owner.twitter_user_id
            });
        if collides {
            return Err(ApiError::Internal("login write refused by a condition"));
        }
        // As the transaction's conditions: the ledger, then every session it ends.
        let read = tables
            .session_ledgers
            .get(&owner.uid)
            .copied()
            .unwrap_or_default();
        let (allowed, after, evict) = match admission {
            Admission::BelowCap { cap } => (read.sessions < *cap, read.sessions + 1, &[][..]),
            Admission::MakingRoom {
                writes,
                evict,
                live_after,
            } => (read.writes == *writes, live_after + 1, evict.as_slice()),
        };
        if evict.len() > MAX_EVICTIONS_PER_LOGIN {
            return Err(ApiError::Internal(
                "more sessions to end than a login's write holds",
            ));
        }
        if !allowed {
            return Ok(Admitted::Refused { ledger: read });
        }
        let all_active = evict.iter().all(|id| {
            tables
                .sessions
                .get(&(owner.uid.clone(), id.clone()))
                .is_some_and(|s| s.record.status == SessionStatus::Active)
        });
        if !all_active {
            return Ok(Admitted::Conflict);
        }
        for id in evict {
            tables.revoke(&owner.uid, id, RevokedReason::Evicted, None);
        }
        tables.session_ledgers.insert(
            owner.uid.clone(),
            Ledger {
                sessions: after,
                writes: read.writes + 1,
            },
        );
        insert_pair(&mut tables, pair);
        tables.sessions.insert(
            key,
            StoredSession {
                record: SessionRecord {
                    uid: owner.uid.clone(),
                    session_id: owner.session_id.clone(),
                    app_id: owner.app_id.clone(),
                    user_domain: owner.user_domain.to_string(),
                    created_at: pair.issued_at,
                    status: SessionStatus::Active,
                    access_token_hash: pair.access.hash.clone(),
                    refresh_token_hash: pair.refresh.hash.clone(),
                    previous_refresh_token_hash: None,
                    rotated_at: None,
                    access_key_id: Some(pair.access_key_id.clone()),
                    expiration_time: session.session_end,
                },
                revoked_reason: None,
                user_agent: session.user_agent.clone(),
                last_used_at: pair.issued_at,
                active_since: Some(pair.issued_at),
            },
        );
        let user = tables.users.entry(owner.uid.clone()).or_insert(User {
            uid: owner.uid.clone(),
            user_domain: owner.user_domain.to_string(),
            twitter_user_id: owner.twitter_user_id.clone(),
            twitter_username: None,
            register_time: pair.issued_at,
            last_login_time: pair.issued_at,
            status: USER_ACTIVE,
        });
        user.last_login_time = pair.issued_at;
        if owner.twitter_username.is_some() {
            user.twitter_username = owner.twitter_username.clone();
        }
        Ok(Admitted::Started)
    }
}

impl TokenReader for MemoryStore {
    async fn token_state(
        &self,
        presented: &PresentedToken,
        domain: DomainRead,
    ) -> Result<TokenState, ApiError> {
        self.check()?;
        let tables = self.lock();
        let route = &presented.route;
        let key = (route.uid.clone(), route.session_id.clone());
        Ok(TokenState {
            token: tables.tokens.get(&presented.hash).cloned(),
            session: tables.sessions.get(&key).map(|s| s.record.clone()),
            domain: (domain == DomainRead::Include)
                .then(|| tables.user_domains.get(route.user_domain.as_str()))
                .flatten()
                .map(|domain| domain.state.clone()),
        })
    }
}

impl SessionRotator for MemoryStore {
    async fn rotate(&self, rotation: &Rotation) -> Result<Conditional, ApiError> {
        self.check()?;
        let pair = &rotation.pair;
        let mut tables = self.lock();
        // As the transaction's conditions: no token item is written over, and the session
        // is active and still names the presented token.
        if tables.tokens.contains_key(&pair.access.hash)
            || tables.tokens.contains_key(&pair.refresh.hash)
        {
            return Ok(Conditional::Conflict);
        }
        let key = (pair.owner.uid.clone(), pair.owner.session_id.clone());
        let Some(session) = tables.sessions.get_mut(&key) else {
            return Ok(Conditional::Conflict);
        };
        let record = &session.record;
        if record.status != SessionStatus::Active
            || record.refresh_token_hash != rotation.presented_hash
        {
            return Ok(Conditional::Conflict);
        }
        session.last_used_at = pair.issued_at;
        let record = &mut session.record;
        record.previous_refresh_token_hash = Some(rotation.presented_hash.clone());
        record.rotated_at = Some(pair.issued_at);
        record.access_key_id = Some(pair.access_key_id.clone());
        record.access_token_hash = pair.access.hash.clone();
        record.refresh_token_hash = pair.refresh.hash.clone();
        insert_pair(&mut tables, pair);
        Ok(Conditional::Applied)
    }
}

impl SessionRevoker for MemoryStore {
    async fn revoke(
        &self,
        uid: &str,
        session_id: &str,
        reason: RevokedReason,
        live_at: Option<LiveAt>,
    ) -> Result<Conditional, ApiError> {
        self.check()?;
        Ok(self.lock().revoke(uid, session_id, reason, live_at))
    }
}

impl SessionLister for MemoryStore {
    async fn active_sessions(&self, uid: &str) -> Result<Vec<SessionSummary>, ApiError> {
        self.check()?;
        let tables = self.lock();
        Ok(tables
            .active_sessions(uid)
            .into_iter()
            .map(StoredSession::summary)
            .collect())
    }
}

impl SessionPager for MemoryStore {
    async fn session_page(
        &self,
        uid: &str,
        after: Option<&PageCursor>,
    ) -> Result<SessionPage, ApiError> {
        self.check()?;
        let tables = self.lock();
        let newest_first: Vec<&StoredSession> = tables
            .active_sessions(uid)
            .into_iter()
            .rev()
            .filter(|s| {
                after.is_none_or(|cursor| {
                    (s.active_since, &s.record.session_id)
                        < (Some(cursor.active_since), &cursor.session_id)
                })
            })
            .collect();
        let page = &newest_first[..newest_first.len().min(PAGE_SIZE)];
        let next = (newest_first.len() > PAGE_SIZE)
            .then(|| page.last())
            .flatten()
            .map(|last| PageCursor {
                active_since: last.active_since.unwrap_or_default(),
                session_id: last.record.session_id.clone(),
            });
        Ok(SessionPage {
            sessions: page.iter().map(|s| s.listing()).collect(),
            next,
        })
    }
}

impl UserReader for MemoryStore {
    async fn user(&self, uid: &str) -> Result<Option<User>, ApiError> {
        self.check()?;
        Ok(self.lock().users.get(uid).cloned())
    }
}

/// Twitter in memory: knows users by (consumer key, token, token secret).
#[derive(Default)]
pub struct MemoryTwitter {
    pub users: HashMap<(String, String, String), TwitterUser>,
    pub fail_with: Option<ApiError>,
}

impl TwitterVerifier for MemoryTwitter {
    async fn verify(&self, credentials: &TwitterCredentials<'_>) -> Result<TwitterUser, ApiError> {
        if let Some(error) = &self.fail_with {
            return Err(error.clone());
        }
        let key = (
            credentials.consumer_key.to_owned(),
            credentials.token.expose().to_owned(),
            credentials.token_secret.expose().to_owned(),
        );
        self.users
            .get(&key)
            .cloned()
            .ok_or(ApiError::TwitterRejected("unknown token"))
    }
}

/// A clock that moves only when told: expiry and grace windows are tested without waiting.
#[derive(Debug)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// Starts at the system's now, so that what the stand-ins check against real time agrees.
    pub fn starting_now() -> ManualClock {
        ManualClock(AtomicU64::new(unix_now().unwrap_or_default()))
    }

    pub fn at(now: u64) -> ManualClock {
        ManualClock(AtomicU64::new(now))
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    pub fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Result<u64, ApiError> {
        Ok(self.get())
    }
}

/// Keys in memory: one rotation's worth (a `current` and a `next` key), made once per process
/// since making RSA keys takes a while, and a derivation secret. `fail_with` makes every read
/// answer that error.
#[derive(Clone)]
pub struct MemoryKeys {
    signing: Arc<SigningKeySet>,
    public: Arc<PublicKeySet>,
    derivation: Arc<DerivationKeys>,
    pub fail_with: Option<ApiError>,
}

/// The private keys every [`MemoryKeys`] of this process holds.
pub fn memory_private_keys() -> &'static [PrivateJwk] {
    static KEYS: OnceLock<Vec<PrivateJwk>> = OnceLock::new();
    KEYS.get_or_init(|| match rotation::rotated(&[]) {
        Ok(keys) => keys,
        Err(error) => panic!("keys for the in-memory world: {error}"),
    })
}

impl MemoryKeys {
    pub fn new() -> MemoryKeys {
        let keys = memory_private_keys();
        let secret = serde_json::to_string(&JwkSet {
            keys: keys.to_vec(),
        })
        .expect("keys json");
        let public = serde_json::to_string(&rotation::published(keys)).expect("public json");
        MemoryKeys {
            signing: Arc::new(SigningKeySet::parse(&secret).expect("signing keys")),
            public: Arc::new(PublicKeySet::parse(&public).expect("public keys")),
            derivation: Arc::new(
                DerivationKeys::from_secret(&Secret::new(
                    "in-memory-derivation-secret-0123456789abcdef0123456789abcdef0123",
                ))
                .expect("derivation keys"),
            ),
            fail_with: None,
        }
    }

    fn check(&self) -> Result<(), ApiError> {
        self.fail_with.clone().map_or(Ok(()), Err)
    }

    /// The uid these keys give a Twitter account on a user domain.
    pub fn uid(&self, user_domain: &str, twitter_user_id: &str) -> String {
        self.derivation
            .uid(user_domain, twitter_user_id)
            .expect("a uid")
    }
}

impl Default for MemoryKeys {
    fn default() -> Self {
        MemoryKeys::new()
    }
}

impl KeyRing<SigningKeySet> for MemoryKeys {
    async fn keys(&self) -> Result<Arc<SigningKeySet>, ApiError> {
        self.check()?;
        Ok(Arc::clone(&self.signing))
    }

    async fn keys_with(&self, _kid: &str) -> Result<Arc<SigningKeySet>, ApiError> {
        self.check()?;
        Ok(Arc::clone(&self.signing))
    }
}

impl KeyRing<PublicKeySet> for MemoryKeys {
    async fn keys(&self) -> Result<Arc<PublicKeySet>, ApiError> {
        self.check()?;
        Ok(Arc::clone(&self.public))
    }

    async fn keys_with(&self, _kid: &str) -> Result<Arc<PublicKeySet>, ApiError> {
        self.check()?;
        Ok(Arc::clone(&self.public))
    }
}

impl Derivation for MemoryKeys {
    async fn derivation_keys(&self) -> Result<Arc<DerivationKeys>, ApiError> {
        self.check()?;
        Ok(Arc::clone(&self.derivation))
    }
}
