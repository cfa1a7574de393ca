//! What an operator is told when something fails: one line that names what failed and how to
//! mend it, and the SDK's own account of it for `--verbose`.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// What an operator is told: one line, and the SDK's account of it for `--verbose`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminError {
    pub message: String,
    pub detail: Option<String>,
}

impl AdminError {
    pub fn new(message: impl Into<String>) -> Self {
        AdminError {
            message: message.into(),
            detail: None,
        }
    }
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AdminError {}

/// The one-line account of an SDK failure of `action` on `table` at `endpoint`.
pub fn describe<E, R>(
    action: &str,
    table: &str,
    endpoint: &str,
    error: SdkError<E, R>,
) -> AdminError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let message = match &error {
        SdkError::ServiceError(_) => match error.code().unwrap_or_default() {
            "ResourceNotFoundException" => {
                format!("table {table} does not exist at {endpoint}: run create-tables first")
            }
            "ResourceInUseException" => format!("table {table} already exists at {endpoint}"),
            code @ ("AccessDeniedException"
            | "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "MissingAuthenticationTokenException"
            | "ExpiredTokenException") => format!(
                "{endpoint} refused the credentials for {action} on table {table} ({code}): \
                 check AWS_PROFILE or AWS_ACCESS_KEY_ID and their permissions"
            ),
            code @ ("ThrottlingException"
            | "ProvisionedThroughputExceededException"
            | "RequestLimitExceeded") => format!(
                "{endpoint} is throttling {action} on table {table} ({code}): try again shortly"
            ),
            "ValidationException" => format!(
                "{endpoint} refused {action} on table {table} as invalid: is {table} a table \
                 of this stack, created from template.yaml?"
            ),
            code => format!("{action} on table {table} failed at {endpoint} ({code})"),
        },
        SdkError::DispatchFailure(failure) if failure.is_io() => {
            format!("cannot reach DynamoDB at {endpoint}: is it running, and is the URL right?")
        }
        SdkError::DispatchFailure(failure) if failure.is_timeout() => {
            format!("DynamoDB at {endpoint} did not answer in time")
        }
        SdkError::TimeoutError(_) => format!("DynamoDB at {endpoint} did not answer in time"),
        SdkError::ResponseError(_) => format!(
            "{endpoint} answered {action} with something unreadable: is it a DynamoDB endpoint?"
        ),
        _ => format!("{action} on table {table} could not be sent to {endpoint}"),
    };
    AdminError {
        message,
        detail: Some(DisplayErrorContext(error).to_string()),
    }
}
