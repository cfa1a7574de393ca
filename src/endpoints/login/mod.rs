//! `POST /v2/enduser/enduserapi/twitterAuthLogin`: checks 1 to 16 (numbered as in
//! `docs/openapi.yaml`), then a new session for the end user, in at most two DynamoDB requests
//! (one read, none when the instance holds the user domain and the route; one transaction)
//! while the user is under the cap of live sessions.

pub mod admission;
pub mod request;
pub mod signature;

use std::sync::Arc;

use lambda_http::Request;
use lambda_http::http::header::USER_AGENT;

use crate::domain::clock::Clock;
use crate::domain::grant::Grant;
use crate::domain::session::{TokenOwner, clean_user_agent};
use crate::domain::session_cap::DEFAULT_MAX_SESSIONS_PER_USER;
use crate::domain::token::random_id;
use crate::domain::user_domain::{DomainState, TWITTER_PLATFORM};
use crate::endpoints::issuing::{PairIssuer, Pairing};
use crate::error::ApiError;
use crate::http::{Endpoint, Outcome};
use crate::invocation::Caller;
use crate::keys::SigningKeySet;
use crate::ports::{
    Derivation, DomainDirectory, KeyRing, NewSession, SessionLister, SessionRevoker,
    SessionStarter, TwitterCredentials, TwitterVerifier,
};
use admission::{Cap, start_within_cap};
use request::LoginRequest;

pub struct Login<S, T, K, D> {
    store: S,
    twitter: T,
    issuer: PairIssuer<K>,
    derivation: D,
    /// This deployment's data center: an MCC routed elsewhere is refused.
    data_center: String,
    clock: Arc<dyn Clock>,
    /// The most live sessions an end user may have.
    max_sessions: u64,
}

impl<S, T, K, D> Login<S, T, K, D>
where
    S: DomainDirectory + SessionStarter + SessionLister + SessionRevoker + Sync,
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
            max_sessions: DEFAULT_MAX_SESSIONS_PER_USER,
        }
    }

    /// At most `max_sessions` (at least 1) live sessions per end user, rather than the default.
    pub fn with_max_sessions(mut self, max_sessions: u64) -> Self {
        self.max_sessions = max_sessions.max(1);
        self
    }

    /// Checks 8 to 16 in their order, then starts the session, which keeps `user_agent` (as
    /// [`clean_user_agent`] leaves it).
    pub async fn login(&self, request: &LoginRequest, user_agent: &str) -> Result<Grant, ApiError> {
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
        let session = NewSession {
            pair,
            session_end,
            user_agent: user_agent.to_owned(),
        };
        let cap = Cap {
            max_sessions: self.max_sessions,
            now,
            session_max: self.issuer.lifetimes.session_max,
        };
        start_within_cap(&self.store, &session, cap).await?;
        Ok(grant)
    }
}

impl<S, T, K, D> Endpoint for Login<S, T, K, D>
where
    S: DomainDirectory + SessionStarter + SessionLister + SessionRevoker + Sync,
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
        // Not valid UTF-8 is no reason to refuse a login: it is only kept for the end user.
        let user_agent = request
            .headers()
            .get(USER_AGENT)
            .map(|value| String::from_utf8_lossy(value.as_bytes()));
        let user_agent = clean_user_agent(user_agent.as_deref());
        let result = self.login(&parsed, &user_agent).await;
        if let Ok(grant) = &result {
            caller.uid = Some(grant.uid.clone());
            caller.session_id = Some(grant.session_id.clone());
        }
        Outcome { result, caller }
    }
}
