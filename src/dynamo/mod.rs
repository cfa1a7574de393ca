//! The DynamoDB adapter behind the ports: reads are one `BatchGetItem`, `GetItem` or `Query`
//! page; writes are one `TransactWriteItems`, each conditioned on the state it was decided
//! from.

pub mod attr;
mod directory;
pub mod items;
pub mod sessions;
mod users;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, TransactWriteItem};

use crate::config::{Table, TableNames};
use crate::error::ApiError;
use crate::invocation::deadline::{self, Dependency};

pub type Item = HashMap<String, AttributeValue>;

/// How long DynamoDB may take before a request gives up with 5001: small enough that a
/// failing, throttled or hung table answers well inside the Lambda timeout.
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
    /// Puts these limits on a client configuration.
    pub fn apply(
        &self,
        builder: aws_sdk_dynamodb::config::Builder,
    ) -> aws_sdk_dynamodb::config::Builder {
        builder
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(self.connect_timeout)
                    .operation_attempt_timeout(self.attempt_timeout)
                    .operation_timeout(self.operation_timeout)
                    .build(),
            )
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(self.max_attempts)
                    .with_initial_backoff(Duration::from_millis(20))
                    .with_max_backoff(Duration::from_millis(200)),
            )
    }
}

/// BatchGetItem may leave keys unprocessed under load: ask for them once more, then give up.
const BATCH_GET_ROUNDS: usize = 2;

/// The adapter. It implements every port; each function is handed it only through the ports
/// its logic names, and its IAM role allows only those calls.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    tables: TableNames,
}

impl DynamoStore {
    pub fn new(client: Client, tables: TableNames) -> Self {
        DynamoStore { client, tables }
    }

    /// A table's name; every function is configured with the tables its ports use.
    fn table(&self, table: Table) -> Result<&str, ApiError> {
        self.tables.get(table).ok_or(ApiError::Internal(
            "a table this function uses is not configured",
        ))
    }

    /// One `BatchGetItem` (plus one round for unprocessed keys): the items found, by table.
    async fn batch_get(
        &self,
        mut wanted: HashMap<String, KeysAndAttributes>,
    ) -> Result<HashMap<String, Vec<Item>>, ApiError> {
        let mut found: HashMap<String, Vec<Item>> = HashMap::new();
        for _ in 0..BATCH_GET_ROUNDS {
            let output = within_deadline(
                self.client
                    .batch_get_item()
                    .set_request_items(Some(wanted))
                    .send(),
            )
            .await?
            .map_err(|error| classify(&error))?;
            for (table, items) in output.responses.unwrap_or_default() {
                found.entry(table).or_default().extend(items);
            }
            match output.unprocessed_keys.filter(|rest| !rest.is_empty()) {
                None => return Ok(found),
                Some(rest) => wanted = rest,
            }
        }
        Err(ApiError::StoreUnavailable("keys left unprocessed"))
    }

    /// One `TransactWriteItems`. `idempotency` makes an SDK retry of a write that did land
    /// answer success rather than a failed condition.
    async fn transact(
        &self,
        writes: Vec<TransactWriteItem>,
        idempotency: &str,
    ) -> Result<Transaction, ApiError> {
        let sent = within_deadline(
            self.client
                .transact_write_items()
                .set_transact_items(Some(writes))
                .client_request_token(idempotency)
                .send(),
        )
        .await?;
        match sent {
            Ok(_) => Ok(Transaction::Committed),
            Err(error) => classify_transaction(&error),
        }
    }
}

/// Runs one DynamoDB call within what is left of the request's deadline, timing it.
async fn within_deadline<F: std::future::Future>(call: F) -> Result<F::Output, ApiError> {
    deadline::call(Dependency::DynamoDb, call)
        .await
        .map_err(|_| ApiError::StoreUnavailable("request deadline reached"))
}

/// How a transaction ended, when it was not a failure of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Transaction {
    Committed,
    /// Canceled: a condition failed on the writes at these positions, or another transaction
    /// held one of the items. Nothing was written.
    Canceled {
        failed_conditions: Vec<usize>,
    },
}

/// The primary key of one item, for a `BatchGetItem` of single items.
fn keys(
    key: Item,
    consistent: bool,
    projection: Option<&[&str]>,
) -> Result<KeysAndAttributes, ApiError> {
    let mut builder = KeysAndAttributes::builder()
        .keys(key)
        .consistent_read(consistent);
    if let Some(names) = projection {
        let placeholders: Vec<String> = (0..names.len()).map(|i| format!("#p{i}")).collect();
        builder = builder.projection_expression(placeholders.join(", "));
        for (placeholder, name) in placeholders.iter().zip(names) {
            builder = builder.expression_attribute_names(placeholder, *name);
        }
    }
    builder
        .build()
        .map_err(|_| ApiError::Internal("batch get construction"))
}

/// Service-side codes that mean "try again later" rather than "this request is wrong".
const TRANSIENT_CODES: [&str; 7] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "TransactionConflictException",
];

/// Maps an SDK error to the contract, in our own words: no AWS text goes further.
fn classify<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> ApiError {
    match error {
        SdkError::TimeoutError(_) => ApiError::StoreUnavailable("timeout"),
        SdkError::DispatchFailure(_) => ApiError::StoreUnavailable("unreachable"),
        SdkError::ResponseError(_) => ApiError::StoreUnavailable("unreadable response"),
        SdkError::ServiceError(service) => match service.err().code() {
            Some(code) if TRANSIENT_CODES.contains(&code) => {
                ApiError::StoreUnavailable("throttled or failing")
            }
            Some("ResourceNotFoundException") => ApiError::Internal("table not found"),
            Some(_) => ApiError::Internal("request refused"),
            None => ApiError::StoreUnavailable("unrecognised failure"),
        },
        _ => ApiError::Internal("request not sent"),
    }
}

/// A canceled transaction is a conflict when conditions failed or another transaction held an
/// item; throttling is the store's failure.
fn classify_transaction<R>(
    error: &SdkError<TransactWriteItemsError, R>,
) -> Result<Transaction, ApiError> {
    if let SdkError::ServiceError(service) = error
        && let TransactWriteItemsError::TransactionCanceledException(canceled) = service.err()
    {
        let reasons: Vec<&str> = canceled
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or("None"))
            .collect();
        if reasons.iter().any(|r| {
            matches!(
                *r,
                "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded"
            )
        }) {
            return Err(ApiError::StoreUnavailable("transaction throttled"));
        }
        let failed_conditions: Vec<usize> = reasons
            .iter()
            .enumerate()
            .filter(|(_, r)| **r == "ConditionalCheckFailed")
            .map(|(i, _)| i)
            .collect();
        if !failed_conditions.is_empty() || reasons.contains(&"TransactionConflict") {
            return Ok(Transaction::Canceled { failed_conditions });
        }
        return Err(ApiError::Internal("transaction canceled"));
    }
    Err(classify(error))
}
