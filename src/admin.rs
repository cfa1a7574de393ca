//! Operator actions on the config tables, behind the admin CLI and the local run's seeding.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::config::TableNames;
use crate::dynamo::attr;
use crate::login::TWITTER_PLATFORM;
use crate::request::is_user_domain;
use crate::token::random_hex;

/// What an operator is told; may quote the SDK, since it goes to the operator's own terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminError(pub String);

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AdminError {}

fn sdk<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    action: &str,
    missing: &str,
    error: SdkError<E, R>,
) -> AdminError {
    match error.code() {
        Some("ConditionalCheckFailedException") => AdminError(missing.to_owned()),
        _ => AdminError(format!("{action}: {}", DisplayErrorContext(error))),
    }
}

/// A user domain as shown to an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainView {
    pub user_domain: String,
    pub enabled: bool,
    pub secret: Option<String>,
    pub apps: Vec<AppView>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AppView {
    pub app_id: String,
    pub platform: String,
    pub consumer_key: String,
    /// Only when asked for.
    pub consumer_secret: Option<String>,
}

pub struct Admin {
    client: Client,
    tables: TableNames,
}

impl Admin {
    pub fn new(client: Client, tables: TableNames) -> Self {
        Admin { client, tables }
    }

    /// Adds an enabled user domain with a fresh 256-bit secret (or the given one); returns the secret.
    pub async fn add_domain(
        &self,
        user_domain: &str,
        secret: Option<String>,
    ) -> Result<String, AdminError> {
        if !is_user_domain(user_domain) {
            return Err(AdminError(format!(
                "{user_domain:?} is not a user domain such as C.DM.5903.1"
            )));
        }
        let secret = match secret {
            Some(given) if given.len() >= 16 => given,
            Some(_) => {
                return Err(AdminError(
                    "a user domain secret needs at least 16 characters".into(),
                ));
            }
            None => {
                random_hex::<32>().map_err(|_| AdminError("the OS random source failed".into()))?
            }
        };
        self.client
            .put_item()
            .table_name(&self.tables.user_domain)
            .item(attr::USER_DOMAIN, AttributeValue::S(user_domain.to_owned()))
            .item(attr::USER_DOMAIN_SECRET, AttributeValue::S(secret.clone()))
            .item(attr::ENABLED, AttributeValue::Bool(true))
            .item(attr::APPS, AttributeValue::M(HashMap::new()))
            .condition_expression("attribute_not_exists(#d)")
            .expression_attribute_names("#d", attr::USER_DOMAIN)
            .send()
            .await
            .map_err(|e| {
                sdk(
                    "adding the user domain",
                    &format!("user domain {user_domain} already exists"),
                    e,
                )
            })?;
        Ok(secret)
    }

    pub async fn set_enabled(&self, user_domain: &str, enabled: bool) -> Result<(), AdminError> {
        self.client
            .update_item()
            .table_name(&self.tables.user_domain)
            .key(attr::USER_DOMAIN, AttributeValue::S(user_domain.to_owned()))
            .update_expression("SET #e = :e")
            .condition_expression("attribute_exists(#d)")
            .expression_attribute_names("#e", attr::ENABLED)
            .expression_attribute_names("#d", attr::USER_DOMAIN)
            .expression_attribute_values(":e", AttributeValue::Bool(enabled))
            .send()
            .await
            .map_err(|e| sdk("updating the user domain", &no_domain(user_domain), e))?;
        Ok(())
    }

    /// Adds (or replaces) a Twitter app on a user domain.
    pub async fn add_twitter_app(
        &self,
        user_domain: &str,
        app_id: &str,
        consumer_key: &str,
        consumer_secret: &str,
    ) -> Result<(), AdminError> {
        if [app_id, consumer_key, consumer_secret]
            .iter()
            .any(|v| v.trim().is_empty())
        {
            return Err(AdminError(
                "app id, consumer key and consumer secret are all required".into(),
            ));
        }
        let app = AttributeValue::M(HashMap::from([
            (
                attr::PLATFORM.to_owned(),
                AttributeValue::S(TWITTER_PLATFORM.to_owned()),
            ),
            (
                attr::CONSUMER_KEY.to_owned(),
                AttributeValue::S(consumer_key.to_owned()),
            ),
            (
                attr::CONSUMER_SECRET.to_owned(),
                AttributeValue::S(consumer_secret.to_owned()),
            ),
        ]));
        self.client
            .update_item()
            .table_name(&self.tables.user_domain)
            .key(attr::USER_DOMAIN, AttributeValue::S(user_domain.to_owned()))
            .update_expression("SET #apps.#app = :app")
            .condition_expression("attribute_exists(#d) AND attribute_type(#apps, :map)")
            .expression_attribute_names("#apps", attr::APPS)
            .expression_attribute_names("#app", app_id)
            .expression_attribute_names("#d", attr::USER_DOMAIN)
            .expression_attribute_values(":app", app)
            .expression_attribute_values(":map", AttributeValue::S("M".into()))
            .send()
            .await
            .map_err(|e| sdk("adding the app", &no_domain(user_domain), e))?;
        Ok(())
    }

    pub async fn remove_app(&self, user_domain: &str, app_id: &str) -> Result<(), AdminError> {
        self.client
            .update_item()
            .table_name(&self.tables.user_domain)
            .key(attr::USER_DOMAIN, AttributeValue::S(user_domain.to_owned()))
            .update_expression("REMOVE #apps.#app")
            .condition_expression("attribute_exists(#apps.#app)")
            .expression_attribute_names("#apps", attr::APPS)
            .expression_attribute_names("#app", app_id)
            .send()
            .await
            .map_err(|e| {
                sdk(
                    "removing the app",
                    &format!("{user_domain} has no app {app_id}"),
                    e,
                )
            })?;
        Ok(())
    }

    pub async fn set_mcc_route(&self, mcc: i32, data_center: &str) -> Result<(), AdminError> {
        if data_center.trim().is_empty() {
            return Err(AdminError("a data center is required".into()));
        }
        self.client
            .put_item()
            .table_name(&self.tables.mcc)
            .item(attr::MCC, AttributeValue::N(mcc.to_string()))
            .item(attr::DATA_CENTER, AttributeValue::S(data_center.to_owned()))
            .send()
            .await
            .map_err(|e| sdk("setting the MCC route", "", e))?;
        Ok(())
    }

    pub async fn remove_mcc_route(&self, mcc: i32) -> Result<(), AdminError> {
        self.client
            .delete_item()
            .table_name(&self.tables.mcc)
            .key(attr::MCC, AttributeValue::N(mcc.to_string()))
            .condition_expression("attribute_exists(#m)")
            .expression_attribute_names("#m", attr::MCC)
            .send()
            .await
            .map_err(|e| {
                sdk(
                    "removing the MCC route",
                    &format!("no route for MCC {mcc}"),
                    e,
                )
            })?;
        Ok(())
    }

    /// The user domain; secrets are left out unless `with_secrets`.
    pub async fn show_domain(
        &self,
        user_domain: &str,
        with_secrets: bool,
    ) -> Result<DomainView, AdminError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.user_domain)
            .key(attr::USER_DOMAIN, AttributeValue::S(user_domain.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk("reading the user domain", "", e))?;
        let item = output
            .item
            .ok_or_else(|| AdminError(no_domain(user_domain)))?;
        let text = |map: &HashMap<String, AttributeValue>, name: &str| {
            map.get(name)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        let mut apps: Vec<AppView> = match item.get(attr::APPS) {
            Some(AttributeValue::M(apps)) => apps
                .iter()
                .map(|(id, app)| {
                    let fields = app.as_m().cloned().unwrap_or_default();
                    AppView {
                        app_id: id.clone(),
                        platform: text(&fields, attr::PLATFORM),
                        consumer_key: text(&fields, attr::CONSUMER_KEY),
                        consumer_secret: with_secrets.then(|| text(&fields, attr::CONSUMER_SECRET)),
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        apps.sort();
        Ok(DomainView {
            user_domain: user_domain.to_owned(),
            enabled: matches!(item.get(attr::ENABLED), Some(AttributeValue::Bool(true))),
            secret: with_secrets.then(|| text(&item, attr::USER_DOMAIN_SECRET)),
            apps,
        })
    }
}

fn no_domain(user_domain: &str) -> String {
    format!("user domain {user_domain} does not exist")
}
