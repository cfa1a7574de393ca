//! `DELETE /v2/enduser/enduserapi/sessions/{sessionId}`, behind the authorizer: ends one of the
//! caller's sessions if it is live, with one conditional write; its tokens then stop working as
//! after a logout. A session that is not the caller's, unknown or already ended answers 0, so
//! nothing is said about other users' sessions.

use std::sync::Arc;

use lambda_http::{Request, RequestExt};

use crate::domain::clock::Clock;
use crate::domain::session::RevokedReason;
use crate::domain::token::{ID_CHARS, is_url_safe};
use crate::endpoints::logout::LoggedOut;
use crate::error::ApiError;
use crate::http::authorized::Authorized;
use crate::http::{Endpoint, Outcome};
use crate::invocation::Caller;
use crate::ports::{Conditional, LiveAt, SessionRevoker};

/// The path parameter naming the session to end.
pub const SESSION_ID_PARAMETER: &str = "sessionId";

pub struct EndSession<S> {
    store: S,
    clock: Arc<dyn Clock>,
    /// No session outlives this from its login.
    session_max: u64,
}

impl<S: SessionRevoker + Sync> EndSession<S> {
    pub fn new(store: S, clock: Arc<dyn Clock>, session_max: u64) -> Self {
        EndSession {
            store,
            clock,
            session_max,
        }
    }

    /// Ends `caller`'s session `session_id` if it is live: the key is the caller's `uid`, so
    /// another user's session is never found.
    pub async fn end(
        &self,
        caller: Authorized<'_>,
        session_id: &str,
    ) -> Result<LoggedOut, ApiError> {
        let live_at = LiveAt {
            now: self.clock.now()?,
            session_max: self.session_max,
        };
        let ended = self
            .store
            .revoke(caller.uid, session_id, RevokedReason::Logout, Some(live_at))
            .await?;
        Ok(LoggedOut {
            revoked_sessions: usize::from(ended == Conditional::Applied),
        })
    }
}

impl<S: SessionRevoker + Sync> Endpoint for EndSession<S> {
    const OPERATION: &'static str = "endSession";
    type Data = LoggedOut;

    async fn answer(&self, request: &Request) -> Outcome<LoggedOut> {
        let caller = match Authorized::of(request) {
            Ok(caller) => caller,
            Err(error) => return Outcome::refused(error, Caller::default()),
        };
        let ids = request
            .path_parameters_ref()
            .and_then(|path| path.all(SESSION_ID_PARAMETER))
            .unwrap_or_default();
        let result = match ids[..] {
            [id] if is_url_safe(id, ID_CHARS) => self.end(caller, id).await,
            _ => Err(ApiError::ParameterFormat(SESSION_ID_PARAMETER)),
        };
        Outcome {
            result,
            caller: caller.caller(),
        }
    }
}
