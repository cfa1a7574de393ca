//! Keeping an end user under the cap of live sessions. The usual login counts its session on
//! the user's ledger within its one write. A login the ledger refuses lists the user's active
//! sessions, and its write then ends the oldest live ones and sets the ledger from what it
//! counted, on the condition that no other login wrote the ledger meanwhile; if anything
//! moved, it decides again.

use crate::domain::session::RevokedReason;
use crate::domain::session_cap::{Room, make_room};
use crate::endpoints::revoking::revoke_each;
use crate::error::ApiError;
use crate::ports::{
    Admission, Admitted, MAX_EVICTIONS_PER_LOGIN, NewSession, SessionLister, SessionRevoker,
    SessionStarter,
};

/// How often a login decides again when concurrent writes of the same user got in its way.
const ATTEMPTS: usize = 5;

/// The cap and how live sessions are judged: at most `max_sessions` live at `now`.
#[derive(Debug, Clone, Copy)]
pub struct Cap {
    pub max_sessions: u64,
    pub now: u64,
    pub session_max: u64,
}

/// Starts `session` with the user at most at the cap: all or nothing, the sessions it ends
/// included.
pub async fn start_within_cap<S>(store: &S, session: &NewSession, cap: Cap) -> Result<(), ApiError>
where
    S: SessionStarter + SessionLister + SessionRevoker + Sync,
{
    let below_cap = Admission::BelowCap {
        cap: cap.max_sessions,
    };
    let mut admission = below_cap.clone();
    let mut ledger = None;
    for _ in 0..ATTEMPTS {
        match store.start_session(session, &admission).await? {
            Admitted::Started => return Ok(()),
            Admitted::Refused { ledger: read } => ledger = Some(read),
            // Unchanged ledger: a session to end changed, or another write held an item.
            Admitted::Conflict => {}
        }
        admission = match ledger {
            Some(ledger) if ledger.sessions >= cap.max_sessions => {
                make_room_for(store, &session.pair.owner.uid, ledger.writes, cap).await?
            }
            // Lowered meanwhile by another login that made room.
            _ => below_cap.clone(),
        };
    }
    Err(ApiError::StoreUnavailable(
        "the user's sessions kept changing under the login",
    ))
}

/// The write that makes room, from the user's active sessions as they are now.
async fn make_room_for<S>(
    store: &S,
    uid: &str,
    writes: u64,
    cap: Cap,
) -> Result<Admission, ApiError>
where
    S: SessionLister + SessionRevoker + Sync,
{
    let listed = store.active_sessions(uid).await?;
    let Room {
        mut evict,
        live_after,
    } = make_room(&listed, cap.max_sessions, cap.now, cap.session_max);
    // More than one write holds (the cap was lowered): the oldest end first, each on its own;
    // they are past the cap whatever becomes of this login.
    if evict.len() > MAX_EVICTIONS_PER_LOGIN {
        let in_write = evict.split_off(evict.len() - MAX_EVICTIONS_PER_LOGIN);
        revoke_each(store, uid, &evict, RevokedReason::Evicted, None).await?;
        evict = in_write;
    }
    Ok(Admission::MakingRoom {
        writes,
        evict,
        live_after,
    })
}
