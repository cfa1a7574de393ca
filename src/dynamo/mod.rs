//! The DynamoDB adapter behind the ports: reads are one `BatchGetItem`, `GetItem` or `Query`
//! page; writes are one `TransactWriteItems`, or one `UpdateItem` for a session's revocation,
//! each conditioned on the state it was decided from.

pub mod attr;
pub mod caches;
pub mod capabilities;
mod directory;
pub mod items;
pub mod sessions;
mod users;

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, TransactWriteItem};

use crate::config::{CacheSeconds, Table, TableNames};
use crate::domain::clock::Clock;
use crate::error::ApiError;
use crate::invocation::deadline::Dependency;
pub use crate::sdk::Limits;
use crate::sdk::{self, classify};
use caches::ReadCaches;

pub type Item = HashMap<String, AttributeValue>;

/// Puts `limits` on a DynamoDB client's configuration.
pub fn with_limits(
    builder: aws_sdk_dynamodb::config::Builder,
    limits: &Limits,
) -> aws_sdk_dynamodb::config::Builder {
    builder
        .timeout_config(limits.timeout_config())
        .retry_config(limits.retry_config())
}

/// BatchGetItem may leave keys unprocessed under load: ask for them once more, then give up.
const BATCH_GET_ROUNDS: usize = 2;

/// The adapter. It implements every port; each function is handed it only through the ports
/// its logic names (or wrapped in a store of [`capabilities`] that implements only those), and
/// its IAM role allows only those calls. Clones share its caches.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    tables: TableNames,
    caches: Arc<ReadCaches>,
}

impl DynamoStore {
    /// A store that keeps nothing of what it reads.
    pub fn new(client: Client, tables: TableNames) -> Self {
        DynamoStore {
            client,
            tables,
            caches: Arc::new(ReadCaches::off()),
        }
    }

    /// The same store, keeping what it reads of the config tables as `seconds` say, from now on
    /// in caches of its own.
    pub fn with_caches(self, seconds: CacheSeconds, clock: Arc<dyn Clock>) -> Self {
        DynamoStore {
            caches: Arc::new(ReadCaches::new(seconds, clock)),
            ..self
        }
    }

    /// What this instance keeps of the config tables.
    pub fn caches(&self) -> &ReadCaches {
        &self.caches
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
    sdk::within_deadline(Dependency::DynamoDb, call).await
}

/// How a transaction ended, when it was not a failure of the store.
#[derive(Debug, Clone, PartialEq)]
enum Transaction {
    Committed,
    /// Canceled: a condition failed on the writes at these positions (each with the item as
    /// it was, when the write asked for it), or another transaction held one of the items.
    /// Nothing was written.
    Canceled {
        failed_conditions: Vec<(usize, Option<Item>)>,
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

/// A canceled transaction is a conflict when conditions failed or another transaction held an
/// item; throttling is the store's failure.
fn classify_transaction<R>(
    error: &SdkError<TransactWriteItemsError, R>,
) -> Result<Transaction, ApiError> {
    if let SdkError::ServiceError(service) = error
        && let TransactWriteItemsError::TransactionCanceledException(canceled) = service.err()
    {
        let all = canceled.cancellation_reasons();
        let reasons: Vec<&str> = all.iter().map(|r| r.code().unwrap_or("None")).collect();
        if reasons.iter().any(|r| {
            matches!(
                *r,
                "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded"
            )
        }) {
            return Err(ApiError::StoreUnavailable("transaction throttled"));
        }
        let failed_conditions: Vec<(usize, Option<Item>)> = all
            .iter()
            .enumerate()
            .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
            .map(|(i, r)| (i, r.item().cloned()))
            .collect();
        if !failed_conditions.is_empty() || reasons.contains(&"TransactionConflict") {
            return Ok(Transaction::Canceled { failed_conditions });
        }
        return Err(ApiError::Internal("transaction canceled"));
    }
    Err(classify(error))
}
