//! One Lambda invocation, whatever the function: the runtime loop, the deadline its
//! dependencies must meet, and its outcome written as one log line and one metric record. The
//! HTTP edge and the authorizer both run here.

pub mod deadline;
pub mod metrics;

use std::future::Future;
use std::time::Instant;

use lambda_http::lambda_runtime::{self, Context, Diagnostic, LambdaEvent};
use lambda_http::{BoxFuture, Error, service_fn};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::token::TokenRoute;
use crate::error::{ApiError, Rejection};
use deadline::DependencyTime;

/// A function as the Lambda runtime drives it: an event in, a response (or an error Lambda
/// reports) out.
pub trait Handler: Sync {
    type Event: DeserializeOwned + Send;
    type Response: Serialize;

    fn handle(
        &self,
        event: Self::Event,
        invocation: &Invocation,
    ) -> impl Future<Output = Result<Self::Response, Diagnostic>> + Send;
}

/// Serves `handler` until the Lambda runtime stops.
pub async fn serve<H: Handler>(handler: H) -> Result<(), Error> {
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<H::Event>| {
        // Boxed: the nested futures' types are otherwise too deep for the compiler's limit.
        let answer: BoxFuture<'_, _> = Box::pin(async move {
            let invocation = Invocation::new(event.context);
            Box::pin(handler.handle(event.payload, &invocation)).await
        });
        answer
    }))
    .await
}

/// What is known of one invocation before it is handled.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub context: Context,
    started: Instant,
    deadline: Option<Instant>,
}

impl Invocation {
    /// Starts the clock of an invocation; its dependencies get what is left of Lambda's
    /// deadline, less a margin to answer.
    pub fn new(context: Context) -> Invocation {
        let deadline = deadline::from_lambda(context.deadline);
        Invocation {
            context,
            started: Instant::now(),
            deadline,
        }
    }

    pub fn request_id(&self) -> &str {
        &self.context.request_id
    }

    /// Runs `work` within the invocation's deadline: its output, and the time it spent on
    /// each dependency.
    pub async fn run<F: Future>(&self, work: F) -> (F::Output, DependencyTime) {
        deadline::run(self.deadline, work).await
    }

    /// Writes the invocation's one log line and one metric record.
    pub fn report(&self, report: &Report<'_>) {
        let latency = self.started.elapsed();
        let error = report.error;
        let misprovision = match error {
            Some(ApiError::Misprovisioned(fault)) => Some(fault),
            _ => None,
        };
        let caller = report.caller;
        let detail = error.map_or("", ApiError::detail);
        let (user_domain, app_id) = (caller.user_domain.as_deref(), caller.app_id.as_deref());
        let (uid, session_id) = (caller.uid.as_deref(), caller.session_id.as_deref());
        let outcome = match report.answered {
            // Only names and ids are logged: never a token, hash, secret or signature.
            Answered::Envelope { code, status } => {
                tracing::info!(
                    request_id = self.request_id(),
                    code,
                    status,
                    latency_us = latency.as_micros() as u64,
                    dynamodb_us = report.time.dynamodb.as_micros() as u64,
                    twitter_us = report.time.twitter.as_micros() as u64,
                    keys_us = report.time.keys.as_micros() as u64,
                    user_domain = user_domain.unwrap_or(""),
                    app_id = app_id.unwrap_or(""),
                    uid = uid.unwrap_or(""),
                    session_id = session_id.unwrap_or(""),
                    route = caller.route.as_str(),
                    detail,
                    item = misprovision.map_or("", |m| m.item.as_str()),
                    attribute = misprovision.map_or("", |m| m.attribute.as_str()),
                    "{}",
                    report.operation
                );
                code.to_string()
            }
            Answered::Event { outcome } => {
                tracing::info!(
                    request_id = self.request_id(),
                    outcome,
                    latency_us = latency.as_micros() as u64,
                    keys_us = report.time.keys.as_micros() as u64,
                    detail,
                    "{}",
                    report.operation
                );
                outcome.to_owned()
            }
            Answered::Policy { decision, code } => {
                tracing::info!(
                    request_id = self.request_id(),
                    outcome = decision,
                    code,
                    latency_us = latency.as_micros() as u64,
                    dynamodb_us = report.time.dynamodb.as_micros() as u64,
                    keys_us = report.time.keys.as_micros() as u64,
                    user_domain = user_domain.unwrap_or(""),
                    uid = uid.unwrap_or(""),
                    session_id = session_id.unwrap_or(""),
                    route = caller.route.as_str(),
                    detail,
                    "{}",
                    report.operation
                );
                decision.to_owned()
            }
        };
        metrics::emit(&metrics::Record {
            operation: report.operation,
            outcome: &outcome,
            latency,
            time: report.time,
            reuse_detected: error == Some(&ApiError::TokenRejected(Rejection::Reused)),
        });
    }
}

/// What an invocation answered, as its log line and metric record name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// An HTTP function's envelope: its code and HTTP status.
    Envelope { code: u32, status: u16 },
    /// The authorizer's decision (`allow`, `deny`, `unauthorized`, `error`) and, for an
    /// error, its code.
    Policy { decision: &'static str, code: u32 },
    /// What a function that answers no request did (the rotation's step, or `failed`).
    Event { outcome: &'static str },
}

/// One invocation's outcome, for its log line and metric record.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// The operation's name, as in its route: `twitterAuthLogin`, `tokenAuthorizer`...
    pub operation: &'static str,
    pub answered: Answered,
    pub caller: &'a Caller,
    pub error: Option<&'a ApiError>,
    pub time: DependencyTime,
}

/// Whom a request concerned, as far as it is known and safe to log: names and ids, never a
/// token, hash or secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    pub user_domain: Option<String>,
    pub app_id: Option<String>,
    pub uid: Option<String>,
    pub session_id: Option<String>,
    pub route: RouteTrust,
}

/// Whether the ids a token carries were verified before the log line names them: a forged
/// token must not write log lines naming its victim.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RouteTrust {
    /// No token, or a caller known another way (a login, the authorizer's context).
    #[default]
    None,
    /// A token was presented but not found to be one of ours: its ids are not named.
    Unverified,
    /// The token was found to be ours: its ids are named.
    Verified,
}

impl RouteTrust {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteTrust::None => "",
            RouteTrust::Unverified => "unverified",
            RouteTrust::Verified => "verified",
        }
    }
}

impl Caller {
    /// The caller a presented token names, once the token was found to be ours.
    pub fn verified(route: &TokenRoute) -> Caller {
        Caller {
            user_domain: Some(route.user_domain.to_string()),
            uid: Some(route.uid.clone()),
            session_id: Some(route.session_id.clone()),
            route: RouteTrust::Verified,
            ..Caller::default()
        }
    }

    /// A presented token that was not found to be ours: nobody is named.
    pub fn unverified() -> Caller {
        Caller {
            route: RouteTrust::Unverified,
            ..Caller::default()
        }
    }
}
