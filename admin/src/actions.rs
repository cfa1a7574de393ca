//! Operator actions on the tables: user domains and their Twitter apps, MCC routes, end users
//! and their sessions. The items are the ones `twitter_auth_login::dynamo::items` defines, so
//! that what the CLI writes is what the functions read. Every failure is an [`AdminError`].

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use twitter_auth_login::config::{Table, TableNames};
use twitter_auth_login::domain::secret::Secret;
use twitter_auth_login::domain::session::{RevokedReason, SessionStatus};
use twitter_auth_login::domain::token::random_hex;
use twitter_auth_login::domain::user::User;
use twitter_auth_login::domain::user_domain::UserDomainName;
use twitter_auth_login::dynamo::sessions::{Revocation, refused_by_condition, sessions_of};
use twitter_auth_login::dynamo::{attr, items};

use crate::error::{AdminError, describe};

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
    /// Where the tables are, for messages: an endpoint URL or `DynamoDB in <region>`.
    endpoint: String,
}

impl Admin {
    pub fn new(client: Client, tables: TableNames, endpoint: impl Into<String>) -> Self {
        Admin {
            client,
            tables,
            endpoint: endpoint.into(),
        }
    }

    /// A table's name, or which variable or flag to set.
    fn table(&self, table: Table) -> Result<&str, AdminError> {
        self.tables.get(table).ok_or_else(|| {
            let variable = table.variable();
            AdminError::new(format!(
                "set {variable} or --{}",
                variable.to_lowercase().replace('_', "-")
            ))
        })
    }

    /// `describe`, except that a failed condition means `refused`.
    fn fail<E, R>(
        &self,
        action: &str,
        table: &str,
        refused: &str,
        error: SdkError<E, R>,
    ) -> AdminError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match error.code() {
            Some("ConditionalCheckFailedException") => AdminError::new(refused),
            _ => describe(action, table, &self.endpoint, error),
        }
    }

    /// Adds an enabled user domain with a fresh 256-bit secret (or the given one); returns the
    /// secret.
    pub async fn add_domain(
        &self,
        user_domain: &str,
        secret: Option<Secret>,
    ) -> Result<Secret, AdminError> {
        let Some(name) = UserDomainName::parse(user_domain) else {
            return Err(AdminError::new(format!(
                "{user_domain:?} is not a user domain such as C.DM.5903.1"
            )));
        };
        let secret = match secret {
            Some(given) if given.expose().len() >= 16 => given,
            Some(_) => {
                return Err(AdminError::new(
                    "a user domain secret needs at least 16 characters",
                ));
            }
            None => Secret::new(
                random_hex::<32>()
                    .map_err(|_| AdminError::new("the operating system's random source failed"))?,
            ),
        };
        let table = self.table(Table::UserDomain)?;
        self.client
            .put_item()
            .table_name(table)
            .set_item(Some(items::user_domain_item(&name, &secret, true)))
            .condition_expression("attribute_not_exists(#d)")
            .expression_attribute_names("#d", attr::USER_DOMAIN)
            .send()
            .await
            .map_err(|e| {
                self.fail(
                    "adding the user domain",
                    table,
                    &format!("user domain {user_domain} already exists"),
                    e,
                )
            })?;
        Ok(secret)
    }

    pub async fn set_enabled(&self, user_domain: &str, enabled: bool) -> Result<(), AdminError> {
        let table = self.table(Table::UserDomain)?;
        self.client
            .update_item()
            .table_name(table)
            .set_key(Some(items::domain_key(user_domain)))
            .update_expression("SET #e = :e")
            .condition_expression("attribute_exists(#d)")
            .expression_attribute_names("#e", attr::ENABLED)
            .expression_attribute_names("#d", attr::USER_DOMAIN)
            .expression_attribute_values(":e", AttributeValue::Bool(enabled))
            .send()
            .await
            .map_err(|e| {
                self.fail(
                    "updating the user domain",
                    table,
                    &no_domain(user_domain),
                    e,
                )
            })?;
        Ok(())
    }

    /// Adds (or replaces) a Twitter app on a user domain.
    pub async fn add_twitter_app(
        &self,
        user_domain: &str,
        app_id: &str,
        consumer_key: &str,
        consumer_secret: &Secret,
    ) -> Result<(), AdminError> {
        if [app_id, consumer_key, consumer_secret.expose()]
            .iter()
            .any(|v| v.trim().is_empty())
        {
            return Err(AdminError::new(
                "app id, consumer key and consumer secret are all required",
            ));
        }
        let table = self.table(Table::UserDomain)?;
        self.client
            .update_item()
            .table_name(table)
            .set_key(Some(items::domain_key(user_domain)))
            .update_expression("SET #apps.#app = :app")
            .condition_expression("attribute_exists(#d) AND attribute_type(#apps, :map)")
            .expression_attribute_names("#apps", attr::APPS)
            .expression_attribute_names("#app", app_id)
            .expression_attribute_names("#d", attr::USER_DOMAIN)
            .expression_attribute_values(
                ":app",
                items::twitter_app_entry(consumer_key, consumer_secret),
            )
            .expression_attribute_values(":map", AttributeValue::S("M".into()))
            .send()
            .await
            .map_err(|e| self.fail("adding the app", table, &no_domain(user_domain), e))?;
        Ok(())
    }

    pub async fn remove_app(&self, user_domain: &str, app_id: &str) -> Result<(), AdminError> {
        let table = self.table(Table::UserDomain)?;
        self.client
            .update_item()
            .table_name(table)
            .set_key(Some(items::domain_key(user_domain)))
            .update_expression("REMOVE #apps.#app")
            .condition_expression("attribute_exists(#apps.#app)")
            .expression_attribute_names("#apps", attr::APPS)
            .expression_attribute_names("#app", app_id)
            .send()
            .await
            .map_err(|e| {
                self.fail(
                    "removing the app",
                    table,
                    &format!("{user_domain} has no app {app_id}"),
                    e,
                )
            })?;
        Ok(())
    }

    pub async fn set_mcc_route(&self, mcc: i32, data_center: &str) -> Result<(), AdminError> {
        if data_center.trim().is_empty() {
            return Err(AdminError::new("a data center is required"));
        }
        let table = self.table(Table::Mcc)?;
        self.client
            .put_item()
            .table_name(table)
            .set_item(Some(items::mcc_route_item(mcc, data_center)))
            .send()
            .await
            .map_err(|e| describe("setting the MCC route", table, &self.endpoint, e))?;
        Ok(())
    }

    pub async fn remove_mcc_route(&self, mcc: i32) -> Result<(), AdminError> {
        let table = self.table(Table::Mcc)?;
        self.client
            .delete_item()
            .table_name(table)
            .set_key(Some(items::mcc_key(mcc)))
            .condition_expression("attribute_exists(#m)")
            .expression_attribute_names("#m", attr::MCC)
            .send()
            .await
            .map_err(|e| {
                self.fail(
                    "removing the MCC route",
                    table,
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
        let table = self.table(Table::UserDomain)?;
        let output = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(items::domain_key(user_domain)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| describe("reading the user domain", table, &self.endpoint, e))?;
        let item = output
            .item
            .ok_or_else(|| AdminError::new(no_domain(user_domain)))?;
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

    /// An end user's record.
    pub async fn show_user(&self, uid: &str) -> Result<User, AdminError> {
        let table = self.table(Table::User)?;
        let output = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(items::user_key(uid)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| describe("reading the user", table, &self.endpoint, e))?;
        let item = output
            .item
            .ok_or_else(|| AdminError::new(format!("no user {uid} in table {table}")))?;
        items::user_record(&item).map_err(|fault| {
            AdminError::new(format!(
                "the user item {uid} is malformed: attribute {}",
                fault.attribute
            ))
        })
    }

    /// Every session of a user, newest first, as JSON: what the end user's own listing shows
    /// of each, and its state; no token hash.
    pub async fn list_sessions(&self, uid: &str) -> Result<Vec<Value>, AdminError> {
        let table = self.table(Table::Session)?;
        let mut sessions = Vec::new();
        let mut start = None;
        loop {
            let page = sessions_of(self.client.query(), table, uid)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| describe("listing the sessions", table, &self.endpoint, e))?;
            for item in page.items.unwrap_or_default() {
                let record = items::session_record(&item).map_err(|fault| {
                    AdminError::new(format!(
                        "a session item of {uid} is malformed: attribute {}",
                        fault.attribute
                    ))
                })?;
                let number = |name: &str| {
                    item.get(name)
                        .and_then(|v| v.as_n().ok())
                        .and_then(|n| n.parse::<u64>().ok())
                };
                let listed = items::stored_listing(&item).map_err(|fault| {
                    AdminError::new(format!(
                        "a session item of {uid} is malformed: attribute {}",
                        fault.attribute
                    ))
                })?;
                sessions.push(json!({
                    "sessionId": record.session_id,
                    "appId": record.app_id,
                    "createdAt": record.created_at,
                    "lastUsedAt": listed.last_used_at,
                    "userAgent": listed.user_agent,
                    "status": record.status.as_str(),
                    "revokedReason": item.get(attr::REVOKED_REASON).and_then(|v| v.as_s().ok()),
                    "refreshedAt": number(attr::REFRESHED_AT),
                    "expirationTime": record.expiration_time,
                }));
            }
            match page.last_evaluated_key.filter(|key| !key.is_empty()) {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        sessions.sort_by_key(|s| std::cmp::Reverse(s["createdAt"].as_u64()));
        Ok(sessions)
    }

    /// Revokes one session: its tokens stop working at refresh and logout at once, and at the
    /// authorizer within its cache time.
    pub async fn revoke_session(&self, uid: &str, session_id: &str) -> Result<(), AdminError> {
        if self.revoke(uid, session_id).await? {
            Ok(())
        } else {
            Err(AdminError::new(format!(
                "user {uid} has no active session {session_id}"
            )))
        }
    }

    /// Revokes every active session of a user; returns how many.
    pub async fn revoke_all_sessions(&self, uid: &str) -> Result<usize, AdminError> {
        let mut revoked = 0;
        for session in self.list_sessions(uid).await? {
            if session["status"] != SessionStatus::Active.as_str() {
                continue;
            }
            let session_id = session["sessionId"].as_str().unwrap_or_default();
            // One revoked meanwhile, by its user or by reuse detection, is gone either way.
            if self.revoke(uid, session_id).await? {
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    /// The library's own revocation, sent alone; false when the session was not active.
    async fn revoke(&self, uid: &str, session_id: &str) -> Result<bool, AdminError> {
        let table = self.table(Table::Session)?;
        let sent = Revocation::new(uid, session_id, RevokedReason::Operator, None)
            .alone(self.client.update_item(), table)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(error) if refused_by_condition(&error) => Ok(false),
            Err(error) => Err(describe(
                "revoking the session",
                table,
                &self.endpoint,
                error,
            )),
        }
    }
}

fn no_domain(user_domain: &str) -> String {
    format!("user domain {user_domain} does not exist")
}

/// The uid of a Twitter account on a user domain: keyed with the stack's derivation secret, so
/// only who may read that secret can tell.
pub async fn uid_of(
    derivation: &twitter_auth_login::secrets::DerivationSecret,
    user_domain: &str,
    twitter_user_id: &str,
) -> Result<String, AdminError> {
    use twitter_auth_login::ports::Derivation;
    let keys = derivation.derivation_keys().await.map_err(|error| {
        AdminError::new(format!(
            "the derivation secret could not be read ({}): check DERIVATION_KEY_SECRET or \
             --derivation-key-secret, and the credentials' access to it",
            error.detail()
        ))
    })?;
    keys.uid(user_domain, twitter_user_id)
        .map_err(|_| AdminError::new("the uid could not be derived"))
}

/// One rotation of the signing keys, all four steps, as Secrets Manager runs them: the new
/// version's id.
pub async fn rotate_signing_keys(
    target: &twitter_auth_login::secrets::rotation::RotationTarget,
) -> Result<String, AdminError> {
    target.rotate().await.map_err(|error| {
        AdminError::new(format!(
            "rotating {} failed at {}; the keys in use are unchanged",
            target.secret_id, error
        ))
    })
}
