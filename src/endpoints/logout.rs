//! `DELETE /v2/enduser/enduserapi/userLogout`: revokes this session (`scope=local`, the
//! default), the user's other sessions (`others`) or all of them (`global`), each with its own
//! conditional write. The access token comes in the `Authorization` header, raw or as
//! `Bearer <token>`.

use lambda_http::Request;
use lambda_http::RequestExt;
use lambda_http::http::header::AUTHORIZATION;
use serde::Serialize;

use crate::domain::session::RevokedReason;
use crate::domain::token::PresentedToken;
use crate::endpoints::revoking::revoke_each;
use crate::endpoints::token_check::TokenCheck;
use crate::error::{ApiError, Rejection};
use crate::http::params::{authorization_token, required};
use crate::http::{Endpoint, Outcome};
use crate::invocation::Caller;
use crate::jwt::{AccessTokenVerifier, MAX_AUTHORIZATION_BYTES};
use crate::keys::PublicKeySet;
use crate::ports::{Conditional, DomainRead, KeyRing, SessionLister, SessionRevoker, TokenReader};

pub const SCOPE_PARAMETER: &str = "scope";
/// How the header is named in an `extMsg`.
pub const AUTHORIZATION_NAME: &str = "Authorization";

/// Which of the user's sessions a logout ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutScope {
    /// The session of the token presented.
    Local,
    /// Every other session of the user.
    Others,
    /// Every session of the user.
    Global,
}

impl LogoutScope {
    /// The `scope` parameter: absent means `local`; given twice or any other value is 4001.
    pub fn from_values(values: &[&str]) -> Result<LogoutScope, ApiError> {
        match values {
            [] => Ok(LogoutScope::Local),
            ["local"] => Ok(LogoutScope::Local),
            ["others"] => Ok(LogoutScope::Others),
            ["global"] => Ok(LogoutScope::Global),
            _ => Err(ApiError::ParameterFormat(SCOPE_PARAMETER)),
        }
    }
}

/// What a logout answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedOut {
    pub revoked_sessions: usize,
}

pub struct Logout<S, K> {
    store: S,
    verifier: AccessTokenVerifier<K>,
    check: TokenCheck,
}

impl<S, K> Logout<S, K>
where
    S: TokenReader + SessionLister + SessionRevoker + Sync,
    K: KeyRing<PublicKeySet>,
{
    /// `verifier` verifies access tokens' signatures and claims; `check` then judges them
    /// against their sessions.
    pub fn new(store: S, verifier: AccessTokenVerifier<K>, check: TokenCheck) -> Self {
        Logout {
            store,
            verifier,
            check,
        }
    }

    /// Ends the sessions `scope` names, each with its own conditional write. `caller` names
    /// the token's session once the token is found to be ours.
    pub async fn logout(
        &self,
        presented: &PresentedToken,
        scope: LogoutScope,
        caller: &mut Caller,
    ) -> Result<LoggedOut, ApiError> {
        let route = &presented.route;
        let session_max = self.check.rules.session_max;
        let checked = self
            .check
            .read(&self.store, presented, DomainRead::Skip)
            .await?;
        let now = checked.now;
        let verdict = checked.live().map(|_| ());
        if verdict != Err(Rejection::Invalid) {
            *caller = Caller::verified(route);
        }
        verdict?;

        let mut revoked = 0;
        if scope != LogoutScope::Local {
            let others: Vec<String> = self
                .store
                .active_sessions(&route.uid)
                .await?
                .into_iter()
                .filter(|s| s.session_id != route.session_id && s.is_live(now, session_max))
                .map(|s| s.session_id)
                .collect();
            revoked = revoke_each(
                &self.store,
                &route.uid,
                &others,
                RevokedReason::Logout,
                None,
            )
            .await?;
        }
        // This session last, so a logout that fails part-way leaves its token live for a
        // retry.
        if scope != LogoutScope::Others {
            let own = self
                .store
                .revoke(&route.uid, &route.session_id, RevokedReason::Logout, None)
                .await?;
            match own {
                Conditional::Applied => revoked += 1,
                // Another request ended it meanwhile: unless this one ended others, the token
                // was no longer live.
                Conditional::Conflict if revoked == 0 => return Err(Rejection::Revoked.into()),
                Conditional::Conflict => {}
            }
        }
        Ok(LoggedOut {
            revoked_sessions: revoked,
        })
    }
}

impl<S, K> Endpoint for Logout<S, K>
where
    S: TokenReader + SessionLister + SessionRevoker + Sync,
    K: KeyRing<PublicKeySet>,
{
    const OPERATION: &'static str = "userLogout";
    type Data = LoggedOut;

    async fn answer(&self, request: &Request) -> Outcome<LoggedOut> {
        let parsed = (|| {
            let raw = bearer(request)?;
            let query = request.query_string_parameters_ref();
            let scopes = query
                .and_then(|q| q.all(SCOPE_PARAMETER))
                .unwrap_or_default();
            let scope = LogoutScope::from_values(&scopes)?;
            Ok::<_, ApiError>((raw, scope))
        })();
        let (raw, scope) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => return Outcome::refused(error, Caller::default()),
        };
        // The signature and claims first: a token that is no JWT of ours costs no DynamoDB
        // request.
        let verified = match self.check.now() {
            Ok(now) => self.verifier.verify(raw, now).await,
            Err(error) => Err(error),
        };
        let presented = match verified {
            Ok(Ok(presented)) => presented,
            Ok(Err(rejection)) => {
                return Outcome::refused(rejection.into(), Caller::unverified());
            }
            Err(error) => return Outcome::refused(error, Caller::unverified()),
        };
        let mut caller = Caller::verified(&presented.route);
        let result = self.logout(&presented, scope, &mut caller).await;
        Outcome { result, caller }
    }
}

/// The token of the one `Authorization` header: missing or blank is 5106; given twice or over
/// 4096 bytes is 4001; a value that is not text cannot be a token.
fn bearer(request: &Request) -> Result<&str, ApiError> {
    let mut values = request.headers().get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(ApiError::MissingToken);
    };
    if values.next().is_some() || value.len() > MAX_AUTHORIZATION_BYTES {
        return Err(ApiError::ParameterFormat(AUTHORIZATION_NAME));
    }
    let text = value.to_str().map_err(|_| Rejection::Invalid)?;
    required(authorization_token(text), ApiError::MissingToken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_values() {
        assert_eq!(LogoutScope::from_values(&[]), Ok(LogoutScope::Local));
        assert_eq!(LogoutScope::from_values(&["local"]), Ok(LogoutScope::Local));
        assert_eq!(
            LogoutScope::from_values(&["others"]),
            Ok(LogoutScope::Others)
        );
        assert_eq!(
            LogoutScope::from_values(&["global"]),
            Ok(LogoutScope::Global)
        );
        for bad in [
            &["Global"][..],
            &[""],
            &["all"],
            &["local", "local"],
            &["local", "global"],
        ] {
            assert_eq!(
                LogoutScope::from_values(bad),
                Err(ApiError::ParameterFormat("scope")),
                "{bad:?}"
            );
        }
    }
}
