//! The ports: what the endpoints ask of the outside world, one small trait per capability, so
//! each function is built with only what it uses (a read-only function cannot write). The
//! DynamoDB and Twitter adapters implement them; tests implement them in memory. Beside the
//! traits: the commands they take and the results they give.

use std::future::Future;
use std::sync::Arc;

use crate::domain::derivation::DerivationKeys;
use crate::domain::grant::IssuedPair;
use crate::domain::secret::Secret;
use crate::domain::session::{RevokedReason, TokenState};
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
}

/// Starts a session: user, session and both tokens, all or nothing.
pub trait SessionStarter {
    fn start_session(
        &self,
        session: &NewSession,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
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

/// The result of revoking sessions: how many this call revoked, and whether it stopped at a
/// session that was no longer active (the rest untouched).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    pub revoked: usize,
    pub outcome: Conditional,
}

/// Revokes a user's sessions, each only if still active. The sessions are revoked in the
/// order given; a batch is all or nothing.
pub trait SessionRevoker {
    fn revoke(
        &self,
        uid: &str,
        session_ids: &[String],
        reason: RevokedReason,
    ) -> impl Future<Output = Result<Revocation, ApiError>> + Send;
}

/// An active session of a user, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub session_id: String,
    pub created_at: u64,
    pub expiration_time: u64,
}

/// Lists a user's active sessions.
pub trait SessionLister {
    fn active_sessions(
        &self,
        uid: &str,
    ) -> impl Future<Output = Result<Vec<SessionSummary>, ApiError>> + Send;
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
