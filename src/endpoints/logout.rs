//! `DELETE /v2/enduser/enduserapi/userLogout`: revokes this session (`scope=local`, the
//! default), the user's other sessions (`others`) or all of them (`global`). The access token
//! comes in the `Authorization` header, raw or as `Bearer <token>`.

use std::sync::Arc;

use lambda_http::Request;
use lambda_http::RequestExt;
use lambda_http::http::header::AUTHORIZATION;
use serde::Serialize;

use crate::clock::Clock;
use crate::error::{ApiError, Rejection};
use crate::http::params::{MAX_PARAMETER_BYTES, authorization_token, required};
use crate::http::{Answer, Endpoint, Subject};
use crate::ports::{SessionLister, SessionRevoker, TokenReader, Written};
use crate::session::{self, Lifetimes, RevokedReason, TokenKind, session_end};
use crate::token::PresentedToken;

pub const SCOPE: &str = "scope";
/// How the header is named in an `extMsg`.
pub const AUTHORIZATION_NAME: &str = "Authorization";

/// How often a logout decides again after a session changed under it.
const ATTEMPTS: usize = 3;

/// Which of the user's sessions a logout ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The session of the token presented.
    Local,
    /// Every other session of the user.
    Others,
    /// Every session of the user.
    Global,
}

impl Scope {
    /// The `scope` parameter: absent means `local`; given twice or any other value is 4001.
    pub fn from_values(values: &[&str]) -> Result<Scope, ApiError> {
        match values {
            [] => Ok(Scope::Local),
            ["local"] => Ok(Scope::Local),
            ["others"] => Ok(Scope::Others),
            ["global"] => Ok(Scope::Global),
            _ => Err(ApiError::ParameterFormat(SCOPE)),
        }
    }
}

/// What a logout answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedOut {
    pub revoked_sessions: usize,
}

pub struct Logout<S> {
    store: S,
    lifetimes: Lifetimes,
    clock: Arc<dyn Clock>,
}

impl<S> Logout<S>
where
    S: TokenReader + SessionLister + SessionRevoker + Sync,
{
    pub fn new(store: S, lifetimes: Lifetimes, clock: Arc<dyn Clock>) -> Self {
        Logout {
            store,
            lifetimes,
            clock,
        }
    }

    pub async fn logout(
        &self,
        presented: &PresentedToken,
        scope: Scope,
    ) -> Result<LoggedOut, ApiError> {
        let route = &presented.route;
        let mut revoked = 0;
        for _ in 0..ATTEMPTS {
            let state = self
                .store
                .token_state(route, &presented.hash, false)
                .await?;
            let now = self.clock.now()?;
            if let Err(rejection) = session::check(
                TokenKind::Access,
                presented,
                state.token.as_ref(),
                state.session.as_ref(),
                now,
                &self.lifetimes,
            ) {
                // An earlier attempt already revoked some sessions, and another request then
                // ended this one: what was asked for is done.
                if revoked > 0 && rejection == Rejection::Revoked {
                    return Ok(LoggedOut {
                        revoked_sessions: revoked,
                    });
                }
                return Err(rejection.into());
            }

            let mut targets = Vec::new();
            if scope != Scope::Local {
                let listed = self.store.active_sessions(&route.uid).await?;
                targets.extend(
                    listed
                        .into_iter()
                        .filter(|s| s.session_id != route.session_id)
                        .filter(|s| {
                            now < session_end(s.created_at, s.expiration_time, &self.lifetimes)
                        })
                        .map(|s| s.session_id),
                );
            }
            // This session last, so a logout that fails part-way leaves its token live for a
            // retry.
            if scope != Scope::Others {
                targets.push(route.session_id.clone());
            }
            if targets.is_empty() {
                return Ok(LoggedOut {
                    revoked_sessions: revoked,
                });
            }
            let revocation = self
                .store
                .revoke(&route.uid, &targets, RevokedReason::Logout)
                .await?;
            revoked += revocation.revoked;
            if revocation.written == Written::Done {
                return Ok(LoggedOut {
                    revoked_sessions: revoked,
                });
            }
        }
        Err(ApiError::StoreUnavailable(
            "sessions kept changing under the logout",
        ))
    }
}

impl<S> Endpoint for Logout<S>
where
    S: TokenReader + SessionLister + SessionRevoker + Sync,
{
    const OPERATION: &'static str = "userLogout";
    type Data = LoggedOut;

    async fn answer(&self, request: &Request) -> Answer<LoggedOut> {
        let parsed = (|| {
            let raw = bearer(request)?;
            let query = request.query_string_parameters_ref();
            let scopes = query.and_then(|q| q.all(SCOPE)).unwrap_or_default();
            let scope = Scope::from_values(&scopes)?;
            let presented = PresentedToken::parse(raw).ok_or(Rejection::Invalid)?;
            Ok::<_, ApiError>((presented, scope))
        })();
        let (presented, scope) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => return Answer::refused(error, Subject::default()),
        };
        let subject = Subject {
            user_domain: Some(presented.route.user_domain.clone()),
            uid: Some(presented.route.uid.clone()),
            session_id: Some(presented.route.session_id.clone()),
            ..Subject::default()
        };
        Answer {
            outcome: self.logout(&presented, scope).await,
            subject,
        }
    }
}

/// The token of the one `Authorization` header: missing or blank is 5106; given twice or over
/// 1024 bytes is 4001; a value that is not text cannot be a token.
fn bearer(request: &Request) -> Result<&str, ApiError> {
    let mut values = request.headers().get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(ApiError::MissingToken);
    };
    if values.next().is_some() || value.len() > MAX_PARAMETER_BYTES {
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
        assert_eq!(Scope::from_values(&[]), Ok(Scope::Local));
        assert_eq!(Scope::from_values(&["local"]), Ok(Scope::Local));
        assert_eq!(Scope::from_values(&["others"]), Ok(Scope::Others));
        assert_eq!(Scope::from_values(&["global"]), Ok(Scope::Global));
        for bad in [
            &["Global"][..],
            &[""],
            &["all"],
            &["local", "local"],
            &["local", "global"],
        ] {
            assert_eq!(
                Scope::from_values(bad),
                Err(ApiError::ParameterFormat("scope")),
                "{bad:?}"
            );
        }
    }
}
