//! The ports: what the endpoints ask of the outside world, one small trait per capability, so
//! each function is built with only what it uses (a read-only function cannot write). The
//! DynamoDB and Twitter adapters implement them; tests implement them in memory.

use std::collections::HashMap;
use std::future::Future;

use crate::error::{ApiError, Misprovision};
use crate::secret::Secret;
use crate::session::{RevokedReason, SessionRecord, StoredToken, TokenOwner, TokenRecord};
use crate::token::TokenRoute;
use crate::twitter::oauth;

/// An attribute as read from a stored item: the value, or what was wrong with it.
pub type Provisioned<T> = Result<T, Misprovision>;

/// A user domain's record. Each attribute is judged only when a check needs it, so a
/// malformed one answers 5000 at that check's place in the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDomain {
    /// A missing `enabled` means disabled; one of another type is malformed.
    pub enabled: Provisioned<bool>,
    pub secret: Provisioned<Secret>,
    pub apps: Provisioned<HashMap<String, Provisioned<App>>>,
}

/// One third-party app of a user domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub platform: String,
    pub consumer_key: String,
    pub consumer_secret: Secret,
}

/// What one directory read returns: the user domain and, when an MCC was asked for, its
/// route's data center. `None` means no such item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub user_domain: Option<UserDomain>,
    pub mcc_data_center: Option<Provisioned<String>>,
}

/// Reads the config tables a login needs: the user domain and the MCC route, in one request.
pub trait DomainDirectory {
    fn lookup(
        &self,
        user_domain: &str,
        mcc: Option<i32>,
    ) -> impl Future<Output = Result<DirectoryEntry, ApiError>> + Send;
}

/// The Twitter user a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwitterUser {
    pub id: String,
    pub username: Option<String>,
}

/// Verifies an OAuth token with Twitter.
pub trait TwitterVerifier {
    fn verify(
        &self,
        credentials: &oauth::Credentials<'_>,
    ) -> impl Future<Output = Result<TwitterUser, ApiError>> + Send;
}

/// The two tokens one login or refresh hands out, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedPair {
    pub pair_id: String,
    pub issued_at: u64,
    pub owner: TokenOwner,
    pub access: StoredToken,
    pub refresh: StoredToken,
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

/// What one read returns for a presented token: its item, its session's and, when asked
/// for, its user domain's state. `None` means no such item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenState {
    pub token: Option<TokenRecord>,
    pub session: Option<SessionRecord>,
    pub domain: Option<DomainState>,
}

/// What the token checks need of a user domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainState {
    pub enabled: Provisioned<bool>,
}

/// Reads a presented token's state in one request.
pub trait TokenReader {
    fn token_state(
        &self,
        route: &TokenRoute,
        token_hash: &str,
        with_domain: bool,
    ) -> impl Future<Output = Result<TokenState, ApiError>> + Send;
}

/// A write that is conditioned on the state it was decided from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Done,
    /// The state changed since it was read (another request won): nothing was written.
    Conflict,
}

/// A refresh's write: the new pair replaces the session's current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub pair: IssuedPair,
    /// The refresh token presented.
    pub presented_hash: String,
    /// The session's current refresh token as read; the write holds only if it still is.
    pub current_refresh_hash: String,
    /// A first rotation moves the presented token into the grace window; a retry within the
    /// window leaves the window as it was.
    pub grace_retry: bool,
}

/// Rotates a session's pair, all or nothing, if the session is as it was read.
pub trait SessionRotator {
    fn rotate(&self, rotation: &Rotation)
    -> impl Future<Output = Result<Written, ApiError>> + Send;
}

/// The result of revoking sessions: how many this call revoked, and whether it stopped at a
/// session that was no longer active (the rest untouched).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    pub revoked: usize,
    pub written: Written,
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

/// An end user's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: String,
    pub user_domain: String,
    pub twitter_user_id: String,
    pub twitter_username: Option<String>,
    pub register_time: u64,
    pub last_login_time: u64,
    pub status: i64,
}

/// Reads an end user's record.
pub trait UserReader {
    fn user(&self, uid: &str) -> impl Future<Output = Result<Option<User>, ApiError>> + Send;
}
