//! Ending many sessions of one user: each with its own conditional write, a few at a time, so
//! that a session that changed meanwhile costs only its own write and a hundred sessions end
//! well within a request's deadline.

use futures_util::{StreamExt, stream};

use crate::domain::session::RevokedReason;
use crate::error::ApiError;
use crate::ports::{Conditional, LiveAt, SessionRevoker};

/// How many revocations are in flight at once.
pub const CONCURRENCY: usize = 16;

/// Ends each of `session_ids` of `uid` that is still active (and, with `live_at`, not past its
/// end): how many this call ended. The first failure of the store stops it; what was ended
/// stays ended, each session whole.
pub async fn revoke_each<S: SessionRevoker + Sync>(
    store: &S,
    uid: &str,
    session_ids: &[String],
    reason: RevokedReason,
    live_at: Option<LiveAt>,
) -> Result<usize, ApiError> {
    // Owned ids: a closure over borrowed ones would make the future not provably `Send`.
    let mut writes = stream::iter(session_ids.to_vec())
        .map(|session_id| async move { store.revoke(uid, &session_id, reason, live_at).await })
        .buffer_unordered(CONCURRENCY);
    let mut ended = 0;
    while let Some(outcome) = writes.next().await {
        if outcome? == Conditional::Applied {
            ended += 1;
        }
    }
    Ok(ended)
}
