//! `PUT /v2/enduser/enduserapi/refreshToken`: rotates a session's pair. A refresh token works
//! once, plus retries within the grace window; presented again after that, it revokes its whole
//! session. Two DynamoDB requests on the normal path: one read, one transaction. Checks are
//! numbered as in `docs/openapi.yaml`.

use lambda_http::Request;

use crate::domain::grant::{Grant, issue_pair};
use crate::domain::session::{Freshness, Lifetimes, RevokedReason};
use crate::domain::token::PresentedToken;
use crate::domain::user_domain::DomainState;
use crate::endpoints::token_check::TokenCheck;
use crate::error::{ApiError, Rejection};
use crate::http::params::{query_and_form_values, single};
use crate::http::{Endpoint, Outcome};
use crate::invocation::Caller;
use crate::ports::{
    Conditional, DomainRead, Rotation, SessionRevoker, SessionRotator, TokenReader,
};

pub const REFRESH_TOKEN: &str = "refreshToken";

/// How often a refresh decides again after losing a race to another write on its session.
const ATTEMPTS: usize = 3;

pub struct Refresh<S> {
    store: S,
    lifetimes: Lifetimes,
    check: TokenCheck,
}

impl<S> Refresh<S>
where
    S: TokenReader + SessionRotator + SessionRevoker + Sync,
{
    /// `check` judges refresh tokens; `lifetimes` bound the pairs it issues.
    pub fn new(store: S, lifetimes: Lifetimes, check: TokenCheck) -> Self {
        Refresh {
            store,
            lifetimes,
            check,
        }
    }

    /// Checks 3 to 5, then the rotation. A write that lost a race is decided again from a
    /// fresh read: the loser of two simultaneous refreshes finds itself in the grace window.
    /// `caller` names the token's session once the token is found to be ours.
    pub async fn refresh(
        &self,
        presented: &PresentedToken,
        caller: &mut Caller,
    ) -> Result<Grant, ApiError> {
        for _ in 0..ATTEMPTS {
            let checked = self
                .check
                .read(&self.store, presented, DomainRead::Include)
                .await?;
            let verdict = checked.live();
            if verdict.as_ref().err() != Some(&Rejection::Invalid) {
                *caller = Caller::verified(&presented.route);
            }
            let live = match verdict {
                Ok(live) => live,
                Err(Rejection::Reused) => return Err(self.revoke_for_reuse(presented).await),
                Err(rejection) => return Err(rejection.into()),
            };
            DomainState::usable(checked.state.domain.as_ref())?;

            let session_end = live.session.end(self.lifetimes.session_max);
            let (pair, grant) = issue_pair(
                live.token.owner.clone(),
                checked.now,
                session_end,
                &self.lifetimes,
            )?;
            let rotation = Rotation {
                pair,
                presented_hash: presented.hash.clone(),
                current_refresh_hash: live.session.refresh_token_hash.clone(),
                grace_retry: live.freshness == Freshness::WithinGrace,
            };
            match self.store.rotate(&rotation).await? {
                Conditional::Applied => return Ok(grant),
                Conditional::Conflict => continue,
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

    async fn answer(&self, request: &Request) -> Outcome<Grant> {
        // Checks 1 and 2: the token, once, from the query string and the form body together.
        let values = query_and_form_values(request, REFRESH_TOKEN);
        let raw = match single(&values, REFRESH_TOKEN, ApiError::MissingToken) {
            Ok(raw) => raw,
            Err(error) => return Outcome::refused(error, Caller::default()),
        };
        let Some(presented) = PresentedToken::parse(raw) else {
            return Outcome::refused(Rejection::Invalid.into(), Caller::unverified());
        };
        let mut caller = Caller::unverified();
        let result = self.refresh(&presented, &mut caller).await;
        Outcome { result, caller }
    }
}
