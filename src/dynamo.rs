//! The DynamoDB adapter: one `BatchGetItem` to read, one `TransactWriteItems` to write.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem};

use crate::config::TableNames;
use crate::error::LoginError;
use crate::login::{
    App, Directory, DirectoryEntry, IssuedPair, StoredToken, TokenStore, UserDomain,
};
use crate::secret::Secret;

type Item = HashMap<String, AttributeValue>;

/// How long DynamoDB may take before a login gives up with 5001: small enough that a failing,
/// throttled or hung table answers well inside the Lambda timeout.
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

pub mod attr {
    pub const USER_DOMAIN: &str = "userDomain";
    pub const USER_DOMAIN_SECRET: &str = "userDomainSecret";
    pub const ENABLED: &str = "enabled";
    pub const APPS: &str = "apps";
    pub const PLATFORM: &str = "platform";
    pub const CONSUMER_KEY: &str = "consumerKey";
    pub const CONSUMER_SECRET: &str = "consumerSecret";
    pub const MCC: &str = "mcc";
    pub const DATA_CENTER: &str = "dataCenter";
    pub const TOKEN_HASH: &str = "tokenHash";
    pub const KIND: &str = "kind";
    pub const PAIR_ID: &str = "pairId";
    pub const APP_ID: &str = "appId";
    pub const TWITTER_USER_ID: &str = "twitterUserId";
    pub const TWITTER_USERNAME: &str = "twitterUsername";
    pub const ISSUED_AT: &str = "issuedAt";
    pub const EXPIRATION_TIME: &str = "expirationTime";
}

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    tables: TableNames,
}

impl DynamoStore {
    pub fn new(client: Client, tables: TableNames) -> Self {
        DynamoStore { client, tables }
    }
}

impl Directory for DynamoStore {
    async fn lookup(
        &self,
        user_domain: &str,
        mcc: Option<i32>,
    ) -> Result<DirectoryEntry, LoginError> {
        let mut wanted = HashMap::new();
        // Strongly consistent, so that disabling a domain takes effect at once.
        wanted.insert(
            self.tables.user_domain.clone(),
            keys(
                attr::USER_DOMAIN,
                AttributeValue::S(user_domain.to_owned()),
                true,
            )?,
        );
        if let Some(mcc) = mcc {
            wanted.insert(
                self.tables.mcc.clone(),
                keys(attr::MCC, AttributeValue::N(mcc.to_string()), false)?,
            );
        }

        let mut found: HashMap<String, Vec<Item>> = HashMap::new();
        for _ in 0..BATCH_GET_ROUNDS {
            let output = self
                .client
                .batch_get_item()
                .set_request_items(Some(wanted))
                .send()
                .await
                .map_err(|error| classify(&error))?;
            for (table, items) in output.responses.unwrap_or_default() {
                found.entry(table).or_default().extend(items);
            }
            match output.unprocessed_keys.filter(|rest| !rest.is_empty()) {
                None => return self.entry_from(found),
                Some(rest) => wanted = rest,
            }
        }
        Err(LoginError::StoreUnavailable("keys left unprocessed"))
    }
}

impl DynamoStore {
    fn entry_from(
        &self,
        mut found: HashMap<String, Vec<Item>>,
    ) -> Result<DirectoryEntry, LoginError> {
        let first = |found: &mut HashMap<String, Vec<Item>>, table: &str| {
            found
                .remove(table)
                .and_then(|items| items.into_iter().next())
        };
        let user_domain =
            first(&mut found, &self.tables.user_domain).map(|item| user_domain_from(&item));
        let mcc_data_center =
            first(&mut found, &self.tables.mcc).and_then(|item| string(&item, attr::DATA_CENTER));
        Ok(DirectoryEntry {
            user_domain,
            mcc_data_center,
        })
    }
}

impl TokenStore for DynamoStore {
    async fn save_pair(&self, pair: &IssuedPair) -> Result<(), LoginError> {
        let mut puts = Vec::with_capacity(2);
        for (kind, token) in [("access", &pair.access), ("refresh", &pair.refresh)] {
            let put = Put::builder()
                .table_name(&self.tables.token)
                .set_item(Some(token_item(pair, kind, token)))
                .condition_expression("attribute_not_exists(#hash)")
                .expression_attribute_names("#hash", attr::TOKEN_HASH)
                .build()
                .map_err(|_| LoginError::Internal("token put construction"))?;
            puts.push(TransactWriteItem::builder().put(put).build());
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(puts))
            // The same token on an SDK retry makes a write that did land answer success, not a
            // failed condition.
            .client_request_token(&pair.pair_id)
            .send()
            .await
            .map_err(|error| classify_write(&error))?;
        Ok(())
    }
}

/// A token table item: everything the contract lists, the raw token never.
pub fn token_item(pair: &IssuedPair, kind: &str, token: &StoredToken) -> Item {
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let n = |v: String| AttributeValue::N(v);
    let mut item = HashMap::from([
        (attr::TOKEN_HASH.to_owned(), s(&token.hash)),
        (attr::KIND.to_owned(), s(kind)),
        (attr::PAIR_ID.to_owned(), s(&pair.pair_id)),
        (attr::USER_DOMAIN.to_owned(), s(&pair.user_domain)),
        (attr::APP_ID.to_owned(), s(&pair.app_id)),
        (attr::TWITTER_USER_ID.to_owned(), s(&pair.twitter_user.id)),
        (attr::ISSUED_AT.to_owned(), n(pair.issued_at.to_string())),
        (
            attr::EXPIRATION_TIME.to_owned(),
            n(token.expiration_time.to_string()),
        ),
    ]);
    if let Some(username) = &pair.twitter_user.username {
        item.insert(attr::TWITTER_USERNAME.to_owned(), s(username));
    }
    if let Some(mcc) = pair.mcc {
        item.insert(attr::MCC.to_owned(), n(mcc.to_string()));
    }
    item
}

fn keys(
    name: &str,
    value: AttributeValue,
    consistent: bool,
) -> Result<KeysAndAttributes, LoginError> {
    KeysAndAttributes::builder()
        .keys(HashMap::from([(name.to_owned(), value)]))
        .consistent_read(consistent)
        .build()
        .map_err(|_| LoginError::Internal("batch get construction"))
}

fn string(item: &Item, name: &str) -> Option<String> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .filter(|s| !s.is_empty())
        .cloned()
}

/// Reads a user domain item leniently: what is missing or mistyped counts as absent, so each
/// gap gives the contract's code at its own check (a missing `enabled` means disabled).
fn user_domain_from(item: &Item) -> UserDomain {
    let apps = match item.get(attr::APPS) {
        Some(AttributeValue::M(apps)) => apps
            .iter()
            .filter_map(|(app_id, app)| match app {
                AttributeValue::M(fields) => app_from(fields).map(|app| (app_id.clone(), app)),
                _ => None,
            })
            .collect(),
        _ => HashMap::new(),
    };
    UserDomain {
        secret: string(item, attr::USER_DOMAIN_SECRET).map(Secret::new),
        enabled: matches!(item.get(attr::ENABLED), Some(AttributeValue::Bool(true))),
        apps,
    }
}

fn app_from(fields: &Item) -> Option<App> {
    Some(App {
        platform: string(fields, attr::PLATFORM)?,
        consumer_key: string(fields, attr::CONSUMER_KEY)?,
        consumer_secret: Secret::new(string(fields, attr::CONSUMER_SECRET)?),
    })
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
fn classify<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> LoginError {
    match error {
        SdkError::TimeoutError(_) => LoginError::StoreUnavailable("timeout"),
        SdkError::DispatchFailure(_) => LoginError::StoreUnavailable("unreachable"),
        SdkError::ResponseError(_) => LoginError::StoreUnavailable("unreadable response"),
        SdkError::ServiceError(service) => match service.err().code() {
            Some(code) if TRANSIENT_CODES.contains(&code) => {
                LoginError::StoreUnavailable("throttled or failing")
            }
            Some("ResourceNotFoundException") => LoginError::Internal("table not found"),
            Some(_) => LoginError::Internal("request refused"),
            None => LoginError::StoreUnavailable("unrecognised failure"),
        },
        _ => LoginError::Internal("request not sent"),
    }
}

fn classify_write<R>(error: &SdkError<TransactWriteItemsError, R>) -> LoginError {
    if let SdkError::ServiceError(service) = error
        && let TransactWriteItemsError::TransactionCanceledException(canceled) = service.err()
    {
        let reasons: Vec<&str> = canceled
            .cancellation_reasons()
            .iter()
            .filter_map(|r| r.code())
            .collect();
        if reasons.contains(&"ConditionalCheckFailed") {
            return LoginError::Internal("token hash already stored");
        }
        if reasons.iter().any(|r| {
            matches!(
                *r,
                "ThrottlingError"
                    | "ProvisionedThroughputExceeded"
                    | "TransactionConflict"
                    | "RequestLimitExceeded"
            )
        }) {
            return LoginError::StoreUnavailable("transaction throttled or conflicting");
        }
        return LoginError::Internal("transaction canceled");
    }
    classify(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::login::TwitterUser;

    #[test]
    fn token_items_hold_the_contract_attributes() {
        let pair = IssuedPair {
            pair_id: "p".into(),
            user_domain: "C.DM.1".into(),
            app_id: "app".into(),
            twitter_user: TwitterUser {
                id: "42".into(),
                username: Some("jack".into()),
            },
            issued_at: 100,
            mcc: Some(460),
            access: StoredToken {
                hash: "aa".into(),
                expiration_time: 7300,
            },
            refresh: StoredToken {
                hash: "rr".into(),
                expiration_time: 2_592_100,
            },
        };
        let item = token_item(&pair, "refresh", &pair.refresh);
        let expected: Item = [
            ("tokenHash", AttributeValue::S("rr".into())),
            ("kind", AttributeValue::S("refresh".into())),
            ("pairId", AttributeValue::S("p".into())),
            ("userDomain", AttributeValue::S("C.DM.1".into())),
            ("appId", AttributeValue::S("app".into())),
            ("twitterUserId", AttributeValue::S("42".into())),
            ("twitterUsername", AttributeValue::S("jack".into())),
            ("issuedAt", AttributeValue::N("100".into())),
            ("expirationTime", AttributeValue::N("2592100".into())),
            ("mcc", AttributeValue::N("460".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(item, expected);

        let without = IssuedPair {
            mcc: None,
            twitter_user: TwitterUser {
                id: "42".into(),
                username: None,
            },
            ..pair
        };
        let item = token_item(&without, "access", &without.access);
        assert!(!item.contains_key("mcc") && !item.contains_key("twitterUsername"));
        assert_eq!(item["expirationTime"], AttributeValue::N("7300".into()));
    }

    #[test]
    fn user_domain_items_are_read_leniently() {
        let app = |platform: &str| {
            AttributeValue::M(HashMap::from([
                ("platform".to_owned(), AttributeValue::S(platform.into())),
                ("consumerKey".to_owned(), AttributeValue::S("ck".into())),
                ("consumerSecret".to_owned(), AttributeValue::S("cs".into())),
            ]))
        };
        let item: Item = HashMap::from([
            (
                "userDomainSecret".to_owned(),
                AttributeValue::S("s3cret".into()),
            ),
            ("enabled".to_owned(), AttributeValue::Bool(true)),
            (
                "apps".to_owned(),
                AttributeValue::M(HashMap::from([
                    ("tw".to_owned(), app("twitter")),
                    ("fb".to_owned(), app("facebook")),
                    ("broken".to_owned(), AttributeValue::M(HashMap::new())),
                    ("odd".to_owned(), AttributeValue::S("x".into())),
                ])),
            ),
        ]);
        let domain = user_domain_from(&item);
        assert!(domain.enabled);
        assert_eq!(domain.secret.as_ref().map(Secret::expose), Some("s3cret"));
        assert_eq!(domain.apps.len(), 2);
        assert_eq!(domain.apps["tw"].consumer_key, "ck");
        assert_eq!(domain.apps["fb"].platform, "facebook");

        let bare = user_domain_from(&HashMap::from([(
            "enabled".to_owned(),
            AttributeValue::S("true".into()),
        )]));
        assert!(!bare.enabled, "only BOOL true enables");
        assert!(bare.secret.is_none() && bare.apps.is_empty());
    }
}
