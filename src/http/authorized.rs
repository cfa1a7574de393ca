//! What the authorizer put on a request that passed it: the end user and their session, as the
//! authorizer's context names them ([`crate::endpoints::authorizer::Principal`]). Never a
//! token, and never a parameter.

use lambda_http::{Request, RequestExt};

use crate::error::ApiError;
use crate::invocation::Caller;

/// The context keys that name the end user and their session, and where they signed in.
pub const UID: &str = "uid";
pub const SESSION_ID: &str = "sessionId";
pub const USER_DOMAIN: &str = "userDomain";
pub const APP_ID: &str = "appId";

/// A non-empty string the authorizer put in the request context under `name`.
fn context_field<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .request_context_ref()?
        .authorizer()?
        .fields
        .get(name)?
        .as_str()
        .filter(|value| !value.is_empty())
}

/// The `uid` the authorizer put in the request context.
pub fn authorized_uid(request: &Request) -> Option<&str> {
    context_field(request, UID)
}

/// The end user and the session of the token the authorizer allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorized<'a> {
    pub uid: &'a str,
    pub session_id: &'a str,
    /// For the log line, as far as the context names them.
    user_domain: Option<&'a str>,
    app_id: Option<&'a str>,
}

impl<'a> Authorized<'a> {
    /// Without the authorizer's context the route was deployed without its authorizer: a
    /// server fault, not the caller's.
    pub fn of(request: &'a Request) -> Result<Authorized<'a>, ApiError> {
        match (authorized_uid(request), context_field(request, SESSION_ID)) {
            (Some(uid), Some(session_id)) => Ok(Authorized {
                uid,
                session_id,
                user_domain: context_field(request, USER_DOMAIN),
                app_id: context_field(request, APP_ID),
            }),
            _ => Err(ApiError::Internal("no authorizer context on the request")),
        }
    }

    /// Whom the log line names: known from the authorizer, not from a token read here.
    pub fn caller(&self) -> Caller {
        Caller {
            uid: Some(self.uid.to_owned()),
            session_id: Some(self.session_id.to_owned()),
            user_domain: self.user_domain.map(str::to_owned),
            app_id: self.app_id.map(str::to_owned),
            ..Caller::default()
        }
    }
}
