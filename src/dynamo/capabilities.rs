//! Stores that can do one thing each: a function built with one cannot reach anything else of
//! DynamoDB, whatever it is handed, and its IAM role allows the same one thing.

use super::DynamoStore;
use crate::domain::listing::PageCursor;
use crate::domain::session::RevokedReason;
use crate::error::ApiError;
use crate::ports::{Conditional, LiveAt, SessionPage, SessionPager, SessionRevoker};

/// `list-sessions`' store: it reads pages of a user's active sessions, and writes nothing.
#[derive(Clone)]
pub struct ListingStore(DynamoStore);

impl ListingStore {
    pub fn new(store: DynamoStore) -> Self {
        ListingStore(store)
    }
}

impl SessionPager for ListingStore {
    async fn session_page(
        &self,
        uid: &str,
        after: Option<&PageCursor>,
    ) -> Result<SessionPage, ApiError> {
        self.0.session_page(uid, after).await
    }
}

/// `end-session`'s store: it ends one session with one conditional write, and reads nothing.
#[derive(Clone)]
pub struct EndingStore(DynamoStore);

impl EndingStore {
    pub fn new(store: DynamoStore) -> Self {
        EndingStore(store)
    }
}

impl SessionRevoker for EndingStore {
    async fn revoke(
        &self,
        uid: &str,
        session_id: &str,
        reason: RevokedReason,
        live_at: Option<LiveAt>,
    ) -> Result<Conditional, ApiError> {
        self.0.revoke(uid, session_id, reason, live_at).await
    }
}
