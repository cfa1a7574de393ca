//! `PUT /v2/enduser/enduserapi/refreshToken`: rotates a session's pair. A refresh token works
//! once; presented again within the grace window (a retry whose answer was lost, or a twin sent
//! at the same moment) it answers the same pair again, byte for byte; presented after that, it
//! revokes its whole session. Two DynamoDB requests on the normal path: one read, one
//! transaction (a retry within the grace window only reads). Checks are numbered as in
//! `docs/openapi.yaml`.

use lambda_http::Request;

use crate::domain::grant::Grant;
use crate::domain::session::{Freshness, RevokedReason};
use crate::domain::token::PresentedToken;
use crate::domain::user_domain::DomainState;
use crate::endpoints::issuing::{PairIssuer, Pairing};
use crate::endpoints::token_check::TokenCheck;
use crate::error::{ApiError, Rejection};
use crate::http::params::{query_and_form_values, single};
use crate::http::{Endpoint, Outcome};
use crate::invocation::Caller;
use crate::keys::SigningKeySet;
use crate::ports::{
    Conditional, Derivation, DomainRead, KeyRing, Rotation, SessionRevoker, SessionRotator,
    TokenReader,
};

pub const REFRESH_TOKEN: &str = "refreshToken";

/// How often a refresh decides again after losing a race to another write on its session.
const ATTEMPTS: usize = 3;

pub struct Refresh<S, K, D> {
    store: S,
    issuer: PairIssuer<K>,
    derivation: D,
    check: TokenCheck,
}

impl<S, K, D> Refresh<S, K, D>
where
    S: TokenReader + SessionRotator + SessionRevoker + Sync,
    K: KeyRing<SigningKeySet>,
    D: Derivation,
{
    /// `check` judges refresh tokens; `issuer` signs the pairs.
    pub fn new(store: S, issuer: PairIssuer<K>, derivation: D, check: TokenCheck) -> Self {
        Refresh {
            store,
            issuer,
            derivation,
            check,
        }
    }

    /// Checks 3 to 5, then the rotation. A write that lost a race is decided again from a
    /// fresh read: the loser of two simultaneous refreshes finds itself in the grace window,
    /// and answers the winner's pair. `caller` names the token's session once the token is
    /// found to be ours.
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

            let successor = self
                .derivation
                .derivation_keys()
                .await?
                .successor(&presented.token)?;
            let session = live.session;
            let session_end = session.end(self.check.rules.session_max);
            let owner = live.token.owner.clone();
            if live.freshness == Freshness::WithinGrace {
                // The pair the first rotation answered, again: same claims, same key.
                let first_at = session.rotated_at.unwrap_or(checked.now);
                let pairing = Pairing::Successor {
                    successor,
                    kid: session.access_key_id.clone(),
                };
                let (pair, grant) = self
                    .issuer
                    .issue(owner, first_at, session_end, pairing)
                    .await?;
                // A session rotated by an older release, or whose key or lifetimes changed
                // since, has a pair that cannot be given again: it was replaced.
                if pair.refresh.hash != session.refresh_token_hash
                    || pair.access.hash != session.access_token_hash
                {
                    return Err(Rejection::Revoked.into());
                }
                return Ok(grant);
            }
            let pairing = Pairing::Successor {
                successor,
                kid: None,
            };
            let (pair, grant) = self
                .issuer
                .issue(owner, checked.now, session_end, pairing)
                .await?;
            let rotation = Rotation {
                pair,
                presented_hash: presented.hash.clone(),
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
            .revoke(&route.uid, &route.session_id, RevokedReason::Reused, None)
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

impl<S, K, D> Endpoint for Refresh<S, K, D>
where
    S: TokenReader + SessionRotator + SessionRevoker + Sync,
    K: KeyRing<SigningKeySet>,
    D: Derivation,
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
