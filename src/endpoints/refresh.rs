//! `PUT /v2/enduser/enduserapi/refreshToken`: rotates a session's pair. A refresh token works
//! once, plus retries within the grace window; presented again after that, it revokes its whole
//! session. Two DynamoDB requests on the normal path: one read, one transaction. Checks are
//! numbered as in `docs/openapi.yaml`.

use std::sync::Arc;

use lambda_http::Request;

use crate::clock::Clock;
use crate::endpoints::{Grant, domain_usable, issue_pair};
use crate::error::{ApiError, Rejection};
use crate::http::params::{query_and_form_values, single};
use crate::http::{Answer, Endpoint, Subject};
use crate::ports::{Rotation, SessionRevoker, SessionRotator, TokenReader, Written};
use crate::session::{self, Lifetimes, RevokedReason, Standing, TokenKind};
use crate::token::PresentedToken;

pub const REFRESH_TOKEN: &str = "refreshToken";

/// How often a refresh decides again after losing a race to another write on its session.
const ATTEMPTS: usize = 3;

pub struct Refresh<S> {
    store: S,
    lifetimes: Lifetimes,
    clock: Arc<dyn Clock>,
}

impl<S> Refresh<S>
where
    S: TokenReader + SessionRotator + SessionRevoker + Sync,
{
    pub fn new(store: S, lifetimes: Lifetimes, clock: Arc<dyn Clock>) -> Self {
        Refresh {
            store,
            lifetimes,
            clock,
        }
    }

    /// Checks 3 to 5, then the rotation. A write that lost a race is decided again from a
    /// fresh read: the loser of two simultaneous refreshes finds itself in the grace window.
    pub async fn refresh(&self, presented: &PresentedToken) -> Result<Grant, ApiError> {
        for _ in 0..ATTEMPTS {
            let state = self
                .store
                .token_state(&presented.route, &presented.hash, true)
                .await?;
            let now = self.clock.now()?;
            let live = match session::check(
                TokenKind::Refresh,
                presented,
                state.token.as_ref(),
                state.session.as_ref(),
                now,
                &self.lifetimes,
            ) {
                Ok(live) => live,
                Err(Rejection::Reused) => return Err(self.revoke_for_reuse(presented).await),
                Err(rejection) => return Err(rejection.into()),
            };
            domain_usable(state.domain.as_ref())?;

            let session_end = live.session.end(&self.lifetimes);
            let (pair, grant) =
                issue_pair(live.token.owner.clone(), now, session_end, &self.lifetimes)?;
            let rotation = Rotation {
                pair,
                presented_hash: presented.hash.clone(),
                current_refresh_hash: live.session.refresh_token_hash.clone(),
                grace_retry: live.standing == Standing::GraceRetry,
            };
            match self.store.rotate(&rotation).await? {
                Written::Done => return Ok(grant),
                Written::Conflict => continue,
            }
        }
        Err(ApiError::StoreUnavailable(
            "session kept changing under the refresh",
        ))
    }

    /// Reuse: the session's every token stops working. The answer is `reused` whether this
    /// call or a concurrent one revoked it.
    async fn revoke_for_reuse(&self, presented: &PresentedToken) -> ApiError {
        let route = &presented.route;
        let revoked = self
            .store
            .revoke(
                &route.uid,
                std::slice::from_ref(&route.session_id),
                RevokedReason::Reused,
            )
            .await;
        match revoked {
            Ok(_) => {
                tracing::warn!(
                    uid = route.uid,
                    session_id = route.session_id,
                    "refresh token reused after rotation: session revoked"
                );
                Rejection::Reused.into()
            }
            Err(error) => error,
        }
    }
}

impl<S> Endpoint for Refresh<S>
where
    S: TokenReader + SessionRotator + SessionRevoker + Sync,
{
    const OPERATION: &'static str = "refreshToken";
    type Data = Grant;

    async fn answer(&self, request: &Request) -> Answer<Grant> {
        // Checks 1 and 2: the token, once, from the query string and the form body together.
        let values = query_and_form_values(request, REFRESH_TOKEN);
        let raw = match single(&values, REFRESH_TOKEN, ApiError::MissingToken) {
            Ok(raw) => raw,
            Err(error) => return Answer::refused(error, Subject::default()),
        };
        let Some(presented) = PresentedToken::parse(raw) else {
            return Answer::refused(Rejection::Invalid.into(), Subject::default());
        };
        let subject = Subject {
            user_domain: Some(presented.route.user_domain.clone()),
            uid: Some(presented.route.uid.clone()),
            session_id: Some(presented.route.session_id.clone()),
            ..Subject::default()
        };
        Answer {
            outcome: self.refresh(&presented).await,
            subject,
        }
    }
}
