//! The ports: what the endpoints ask of the outside world, one small trait per capability, so
//! each function is built with only what it uses (a read-only function cannot write). The
//! DynamoDB and Twitter adapters implement them; tests implement them in memory. Beside the
//! traits: the commands they take and the results they give.

use std::future::Future;
use std::sync::Arc;

use crate::domain::derivation::DerivationKeys;
use crate::domain::grant::IssuedPair;
use crate::domain::listing::{PageCursor, StoredListing};
use crate::domain::secret::Secret;
use crate::domain::session::{RevokedReason, SessionSummary, TokenState};
use crate::domain::token::PresentedToken;
use crate::domain::user::{TwitterUser, User};
use crate::domain::user_domain::{UserDomain, UserDomainName};
use crate::error::{ApiError, Field};

/// What one directory read returns: the user domain and, when an MCC was asked for, its
/// route's data center. `None` means no such item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub user_domain: Option<UserDomain>,
    pub mcc_data_center: Option<Field<String>>,
}

/// Reads the config tables a login needs: the user domain and the MCC route, in at most one
/// request (none when the instance holds both).
pub trait DomainDirectory {
    fn lookup(
        &self,
        user_domain: &UserDomainName,
        mcc: Option<i32>,
    ) -> impl Future<Output = Result<DirectoryEntry, ApiError>> + Send;
}

/// Who signs a request to Twitter: the app (consumer) and the user (token).
#[derive(Clone, Copy)]
pub struct TwitterCredentials<'a> {
    pub consumer_key: &'a str,
    pub consumer_secret: &'a Secret,
    pub token: &'a Secret,
    pub token_secret: &'a Secret,
}

/// Verifies an OAuth token with Twitter.
pub trait TwitterVerifier {
    fn verify(
        &self,
        credentials: &TwitterCredentials<'_>,
    ) -> impl Future<Output = Result<TwitterUser, ApiError>> + Send;
}

/// Everything a login writes: the end user (created or updated), a new session and its pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub pair: IssuedPair,
    /// When the session ends whatever happens: login + the maximum session age.
    pub session_end: u64,
    /// The login's `User-Agent` as the session keeps it ([`clean_user_agent`]); empty for none.
    ///
    /// [`clean_user_agent`]: crate::domain::session::clean_user_agent
    pub user_agent: String,
}

/// The most sessions a login's own write ends beside starting its session (a transaction holds
/// 100 items, the login's are four).
pub const MAX_EVICTIONS_PER_LOGIN: usize = 96;

/// A user's ledger of live sessions, as the user item holds it (zeros before the first login).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ledger {
    /// An upper bound on the user's live sessions: every login adds one, and only a login at
    /// the cap sets it again, from the sessions it counted.
    pub sessions: u64,
    /// How many logins have written it: a login that counted holds only if no other login
    /// wrote in between, whatever the count then reads.
    pub writes: u64,
}

/// How a login's write keeps the user under the cap of live sessions, as the ledger counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The usual case: the write holds while the ledger is below `cap`, and counts the session.
    BelowCap { cap: u64 },
    /// Past the cap: the write holds while the ledger was written `writes` times and the
    /// sessions of `evict` (at most [`MAX_EVICTIONS_PER_LOGIN`]) are active; it ends them and
    /// sets the ledger to `live_after` + 1.
    MakingRoom {
        writes: u64,
        evict: Vec<String>,
        live_after: u64,
    },
}

/// How a login's write ended, when the store did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admitted {
    Started,
    /// The ledger did not allow it (the cap is reached, or another login wrote it since it was
    /// read): nothing was written. `ledger` is what it holds.
    Refused {
        ledger: Ledger,
    },
    /// Another write got in the way (a session to end had changed, or another transaction
    /// held an item): nothing was written.
    Conflict,
}

/// Starts a session: user, session and both tokens, and the sessions it ends, all or nothing.
pub trait SessionStarter {
    fn start_session(
        &self,
        session: &NewSession,
        admission: &Admission,
    ) -> impl Future<Output = Result<Admitted, ApiError>> + Send;
}

/// Whether a token read also reads its user domain's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainRead {
    /// Refresh and the authorizer: the token is good only on a usable domain.
    Include,
    /// Logout: a token ends its session whatever its domain.
    Skip,
}

/// Reads a presented token's state in one request. The user domain's state may be as much
/// older as the instance keeps it (`DOMAIN_CACHE_SECONDS`).
pub trait TokenReader {
    fn token_state(
        &self,
        presented: &PresentedToken,
        domain: DomainRead,
    ) -> impl Future<Output = Result<TokenState, ApiError>> + Send;
}

/// How a write that is conditioned on the state it was decided from ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conditional {
    Applied,
    /// The state changed since it was read (another request won): nothing was written.
    Conflict,
}

/// A refresh's write: the new pair replaces the session's current one, and the presented
/// refresh token moves into the grace window. It holds only while the session is active and
/// still names the presented token as its current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub pair: IssuedPair,
    /// The refresh token presented.
    pub presented_hash: String,
}

/// Rotates a session's pair, all or nothing, if the session is as it was read.
pub trait SessionRotator {
    fn rotate(
        &self,
        rotation: &Rotation,
    ) -> impl Future<Output = Result<Conditional, ApiError>> + Send;
}

/// The moment a revocation holds at: it ends only a session not yet past its end then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveAt {
    pub now: u64,
    pub session_max: u64,
}

/// Ends one session of a user with its own conditional write: only if it is still active (and,
/// with `live_at`, not past its end). `Conflict` means it was not: nothing was written.
pub trait SessionRevoker {
    fn revoke(
        &self,
        uid: &str,
        session_id: &str,
        reason: RevokedReason,
        live_at: Option<LiveAt>,
    ) -> impl Future<Output = Result<Conditional, ApiError>> + Send;
}

/// Lists a user's active sessions, every one, from the index of active sessions.
pub trait SessionLister {
    fn active_sessions(
        &self,
        uid: &str,
    ) -> impl Future<Output = Result<Vec<SessionSummary>, ApiError>> + Send;
}

/// One page of a user's active sessions, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPage {
    pub sessions: Vec<StoredListing>,
    /// Where the next page starts, when more remain.
    pub next: Option<PageCursor>,
}

/// Pages through a user's active sessions, newest first: one request per page of up to
/// [`PAGE_SIZE`](crate::domain::listing::PAGE_SIZE).
pub trait SessionPager {
    fn session_page(
        &self,
        uid: &str,
        after: Option<&PageCursor>,
    ) -> impl Future<Output = Result<SessionPage, ApiError>> + Send;
}

/// Reads an end user's record.
pub trait UserReader {
    fn user(&self, uid: &str) -> impl Future<Output = Result<Option<User>, ApiError>> + Send;
}

/// A set of keys, read through the instance's cache: the signing secret's private keys (login,
/// refresh) or the published public ones (the verifiers).
pub trait KeyRing<K>: Sync {
    /// The keys, read again when they are old.
    fn keys(&self) -> impl Future<Output = Result<Arc<K>, ApiError>> + Send;

    /// The keys, read again at once (at most every few seconds) when they lack `kid`.
    fn keys_with(&self, kid: &str) -> impl Future<Output = Result<Arc<K>, ApiError>> + Send;
}

/// The subkeys of the stack's derivation secret, read once.
pub trait Derivation: Sync {
    fn derivation_keys(&self)
    -> impl Future<Output = Result<Arc<DerivationKeys>, ApiError>> + Send;
}
