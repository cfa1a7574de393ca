//! `POST /v2/enduser/enduserapi/twitterAuthLogin`: checks 1 to 16 (numbered as in
//! `docs/openapi.yaml`), then a new session for the end user, in at most two DynamoDB requests
//! (one read, none when the instance holds the user domain and the route; one transaction).

pub mod request;
pub mod signature;

use std::sync::Arc;

use lambda_http::Request;

use crate::domain::clock::Clock;
use crate::domain::grant::Grant;
use crate::domain::session::TokenOwner;
use crate::domain::token::random_id;
use crate::domain::user_domain::{DomainState, TWITTER_PLATFORM};
use crate::endpoints::issuing::{PairIssuer, Pairing};
use crate::error::ApiError;
use crate::http::{Endpoint, Outcome};
use crate::invocation::Caller;
use crate::keys::SigningKeySet;
use crate::ports::{
    Derivation, DomainDirectory, KeyRing, NewSession, SessionStarter, TwitterCredentials,
    TwitterVerifier,
};
use request::LoginRequest;

pub struct Login<S, T, K, D> {
    store: S,
    twitter: T,
    issuer: PairIssuer<K>,
    derivation: D,
    /// This deployment's data center: an MCC routed elsewhere is refused.
    data_center: String,
    clock: Arc<dyn Clock>,
}

impl<S, T, K, D> Login<S, T, K, D>
where
    S: DomainDirectory + SessionStarter + Sync,
    T: TwitterVerifier + Sync,
    K: KeyRing<SigningKeySet>,
    D: Derivation,
{
    pub fn new(
        store: S,
        twitter: T,
        issuer: PairIssuer<K>,
        derivation: D,
        data_center: impl Into<String>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Login {
            store,
            twitter,
            issuer,
            derivation,
            data_center: data_center.into(),
            clock,
        }
    }

    /// Checks 8 to 16 in their order, then starts the session.
    pub async fn login(&self, request: &LoginRequest) -> Result<Grant, ApiError> {
        let entry = self.store.lookup(&request.user_domain, request.mcc).await?;
        let domain = entry.user_domain.ok_or(ApiError::UnknownUserDomain)?;
        DomainState::usable(Some(&domain.state))?;
        if !signature::verify(request, &domain.secret?) {
            return Err(ApiError::SignatureMismatch);
        }
        let app = match domain.apps?.remove(&request.app_id) {
            None => return Err(ApiError::AppNotConfigured),
            Some(app) => app?,
        };
        if app.platform != TWITTER_PLATFORM {
            return Err(ApiError::AppNotConfigured);
        }
        if request.mcc.is_some() {
            let data_center = entry.mcc_data_center.ok_or(ApiError::MccNotMapped)??;
            if data_center != self.data_center {
                return Err(ApiError::MccOtherDataCenter);
            }
        }

        let credentials = TwitterCredentials {
            consumer_key: &app.consumer_key,
            consumer_secret: &app.consumer_secret,
            token: &request.oauth_token,
            token_secret: &request.oauth_token_secret,
        };
        let twitter_user = self.twitter.verify(&credentials).await?;

        let now = self.clock.now()?;
        let session_end = now.saturating_add(self.issuer.lifetimes.session_max);
        let keys = self.derivation.derivation_keys().await?;
        let owner = TokenOwner {
            uid: keys.uid(request.user_domain.as_str(), &twitter_user.id)?,
            session_id: random_id()?,
            user_domain: request.user_domain.clone(),
            app_id: request.app_id.clone(),
            twitter_user_id: twitter_user.id,
            twitter_username: twitter_user.username,
            mcc: request.mcc,
        };
        let (pair, grant) = self
            .issuer
            .issue(owner, now, session_end, Pairing::Fresh)
            .await?;
        self.store
            .start_session(&NewSession { pair, session_end })
            .await?;
        Ok(grant)
    }
}

impl<S, T, K, D> Endpoint for Login<S, T, K, D>
where
    S: DomainDirectory + SessionStarter + Sync,
    T: TwitterVerifier + Sync,
    K: KeyRing<SigningKeySet>,
    D: Derivation,
{
    const OPERATION: &'static str = "twitterAuthLogin";
    type Data = Grant;

    async fn answer(&self, request: &Request) -> Outcome<Grant> {
        use lambda_http::RequestExt;
        let parsed = match LoginRequest::from_query(&request.query_string_parameters()) {
            Ok(parsed) => parsed,
            Err(error) => return Outcome::refused(error, Caller::default()),
        };
        let mut caller = Caller {
            user_domain: Some(parsed.user_domain.to_string()),
            app_id: Some(parsed.app_id.clone()),
            ..Caller::default()
        };
        let result = self.login(&parsed).await;
        if let Ok(grant) = &result {
            caller.uid = Some(grant.uid.clone());
            caller.session_id = Some(grant.session_id.clone());
        }
        Outcome { result, caller }
    }
}
