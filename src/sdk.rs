//! What every AWS adapter shares: the SDK's limits, each call bounded by what is left of the
//! request's deadline, and an SDK error read in our own words (no AWS text goes further).

use std::future::Future;
use std::time::Duration;

// The SDK's shared types, as every service's crate re-exports them.
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::error::ApiError;
use crate::invocation::deadline::{self, Dependency};

/// How long an AWS service may take before a request gives up with 5001: small enough that a
/// failing, throttled or hung service answers well inside the Lambda timeout.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub connect_timeout: Duration,
    pub attempt_timeout: Duration,
    pub operation_timeout: Duration,
    pub max_attempts: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_millis(1000),
            attempt_timeout: Duration::from_millis(1000),
            operation_timeout: Duration::from_millis(2500),
            max_attempts: 2,
        }
    }
}

impl Limits {
    /// The SDK's timeouts for these limits, for any service's client configuration.
    pub fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .operation_timeout(self.operation_timeout)
            .build()
    }

    /// The SDK's retries for these limits: few, and soon.
    pub fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(Duration::from_millis(20))
            .with_max_backoff(Duration::from_millis(200))
    }
}

/// Runs one AWS call within what is left of the request's deadline, timing it.
pub async fn within_deadline<F: Future>(
    dependency: Dependency,
    call: F,
) -> Result<F::Output, ApiError> {
    deadline::call(dependency, call)
        .await
        .map_err(|_| ApiError::StoreUnavailable("request deadline reached"))
}

/// Service-side codes that mean "try again later" rather than "this request is wrong".
const TRANSIENT_CODES: [&str; 8] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalServiceError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "TransactionConflictException",
];

/// Maps an SDK error to the contract, in our own words.
pub fn classify<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> ApiError {
    match error {
        SdkError::TimeoutError(_) => ApiError::StoreUnavailable("timeout"),
        SdkError::DispatchFailure(_) => ApiError::StoreUnavailable("unreachable"),
        SdkError::ResponseError(_) => ApiError::StoreUnavailable("unreadable response"),
        SdkError::ServiceError(service) => match service.err().code() {
            Some(code) if TRANSIENT_CODES.contains(&code) => {
                ApiError::StoreUnavailable("throttled or failing")
            }
            Some("ResourceNotFoundException" | "ParameterNotFound") => {
                ApiError::Internal("resource not found")
            }
            Some(_) => ApiError::Internal("request refused"),
            None => ApiError::StoreUnavailable("unrecognised failure"),
        },
        _ => ApiError::Internal("request not sent"),
    }
}
