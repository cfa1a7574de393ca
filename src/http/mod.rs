//! The HTTP edge every HTTP function shares: an API Gateway event in, the platform's JSON
//! envelope out, one log line and metric record per request.

pub mod authorized;
pub mod edge;
pub mod envelope;
pub mod params;

use std::future::Future;

use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::error::ApiError;
use crate::invocation::Caller;

/// One HTTP function's checks and logic, as the edge drives it.
pub trait Endpoint: Sync {
    /// The operation's name in log lines and metrics, as in its route: `twitterAuthLogin`.
    const OPERATION: &'static str;
    /// What a success carries in the envelope's `data`.
    type Data: Serialize + Send;

    fn answer(&self, request: &Request) -> impl Future<Output = Outcome<Self::Data>> + Send;

    /// The HTTP answer of a result: the platform's envelope, unless the endpoint answers in a
    /// form of its own (discovery documents are plain JSON).
    fn respond(result: &Result<Self::Data, ApiError>) -> Response<Body> {
        envelope::respond(result)
    }
}

/// An endpoint's result and whom it concerned.
#[derive(Debug)]
pub struct Outcome<T> {
    pub result: Result<T, ApiError>,
    pub caller: Caller,
}

impl<T> Outcome<T> {
    pub fn refused(error: ApiError, caller: Caller) -> Self {
        Outcome {
            result: Err(error),
            caller,
        }
    }
}
