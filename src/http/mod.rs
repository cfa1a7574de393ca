//! The HTTP edge every HTTP function shares: an API Gateway event in, the platform's JSON
//! envelope out, one log line per request.

pub mod edge;
pub mod envelope;
pub mod params;

use std::future::Future;

use lambda_http::Request;
use serde::Serialize;

use crate::error::ApiError;

/// One HTTP function's checks and logic, as the edge drives it.
pub trait Endpoint: Sync {
    /// The operation's name in log lines and metrics, as in its route: `twitterAuthLogin`.
    const OPERATION: &'static str;
    /// What a success carries in the envelope's `data`.
    type Data: Serialize + Send;

    fn answer(&self, request: &Request) -> impl Future<Output = Answer<Self::Data>> + Send;
}

/// An endpoint's outcome and whom it concerned.
#[derive(Debug)]
pub struct Answer<T> {
    pub outcome: Result<T, ApiError>,
    pub subject: Subject,
}

impl<T> Answer<T> {
    pub fn refused(error: ApiError, subject: Subject) -> Self {
        Answer {
            outcome: Err(error),
            subject,
        }
    }
}

/// Whom a request concerned, as far as it is known and safe to log: names and ids, never a
/// token, hash or secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub user_domain: Option<String>,
    pub app_id: Option<String>,
    pub uid: Option<String>,
    pub session_id: Option<String>,
}
