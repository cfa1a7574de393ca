//! Sessions and their tokens: the login's transaction, the token checks' read, rotation,
//! revocation and listing.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};

use super::items::{number_value, session_key, string_value};
use super::{DynamoStore, Item, Transaction, attr, classify, items, keys, within_deadline};
use crate::config::Table;
use crate::domain::grant::IssuedPair;
use crate::domain::session::{RevokedReason, SessionStatus, TokenKind, TokenState};
use crate::domain::token::{PresentedToken, random_hex};
use crate::domain::user::USER_ACTIVE;
use crate::error::ApiError;
use crate::ports::{
    Conditional, DomainRead, NewSession, Revocation, Rotation, SessionLister, SessionRevoker,
    SessionRotator, SessionStarter, SessionSummary, TokenReader,
};

/// DynamoDB's limit of items in one transaction.
const MAX_TRANSACTION_ITEMS: usize = 100;

/// Placeholders for every attribute name the expressions below use, so that no name can
/// collide with a reserved word.
fn names(
    update: aws_sdk_dynamodb::types::builders::UpdateBuilder,
    used: &[&str],
) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
    used.iter().fold(update, |update, name| {
        update.expression_attribute_names(format!("#{name}"), *name)
    })
}

fn write(update: Update) -> TransactWriteItem {
    TransactWriteItem::builder().update(update).build()
}

/// A put that creates the item or nothing: a token hash or session id is never overwritten.
fn create(table: &str, item: Item, key: &str) -> Result<TransactWriteItem, ApiError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#key)")
        .expression_attribute_names("#key", key)
        .build()
        .map_err(|_| ApiError::Internal("put construction"))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The puts of a new pair's two token items, access first.
fn pair_puts(token_table: &str, pair: &IssuedPair) -> Result<[TransactWriteItem; 2], ApiError> {
    Ok([
        create(
            token_table,
            items::token_item(pair, TokenKind::Access, &pair.access),
            attr::TOKEN_HASH,
        )?,
        create(
            token_table,
            items::token_item(pair, TokenKind::Refresh, &pair.refresh),
            attr::TOKEN_HASH,
        )?,
    ])
}

impl SessionStarter for DynamoStore {
    async fn start_session(&self, session: &NewSession) -> Result<(), ApiError> {
        let pair = &session.pair;
        let owner = &pair.owner;
        let token_table = self.table(Table::Token)?;
        // The end user, created on the first login and updated on every other; the condition
        // guards against a uid that names someone else.
        let mut set = vec![
            "#userDomain = :domain",
            "#twitterUserId = :twitterUser",
            "#lastLoginTime = :now",
            "#registerTime = if_not_exists(#registerTime, :now)",
            "#status = if_not_exists(#status, :active)",
        ];
        let mut user = names(
            Update::builder(),
            &[
                attr::UID,
                attr::USER_DOMAIN,
                attr::TWITTER_USER_ID,
                attr::LAST_LOGIN_TIME,
                attr::REGISTER_TIME,
                attr::STATUS,
            ],
        )
        .table_name(self.table(Table::User)?)
        .set_key(Some(items::user_key(&owner.uid)))
        .condition_expression(
            "attribute_not_exists(#uid) OR (#userDomain = :domain AND #twitterUserId = :twitterUser)",
        )
        .expression_attribute_values(":domain", string_value(owner.user_domain.as_str()))
        .expression_attribute_values(":twitterUser", string_value(&owner.twitter_user_id))
        .expression_attribute_values(":now", number_value(pair.issued_at))
        .expression_attribute_values(":active", number_value(USER_ACTIVE));
        // The latest username seen; an answer without one keeps the last.
        if let Some(username) = &owner.twitter_username {
            set.push("#twitterUsername = :username");
            user = user
                .expression_attribute_names("#twitterUsername", attr::TWITTER_USERNAME)
                .expression_attribute_values(":username", string_value(username));
        }
        let user = user
            .update_expression(format!("SET {}", set.join(", ")))
            .build()
            .map_err(|_| ApiError::Internal("user update construction"))?;

        let [access, refresh] = pair_puts(token_table, pair)?;
        let writes = vec![
            access,
            refresh,
            create(
                self.table(Table::Session)?,
                items::session_item(pair, session.session_end),
                attr::SESSION_ID,
            )?,
            write(user),
        ];
        match self.transact(writes, &pair.pair_id).await? {
            Transaction::Committed => Ok(()),
            Transaction::Canceled { failed_conditions } if failed_conditions.is_empty() => {
                Err(ApiError::StoreUnavailable("transaction conflict"))
            }
            Transaction::Canceled { .. } => {
                Err(ApiError::Internal("login write refused by a condition"))
            }
        }
    }
}

impl TokenReader for DynamoStore {
    async fn token_state(
        &self,
        presented: &PresentedToken,
        domain: DomainRead,
    ) -> Result<TokenState, ApiError> {
        let route = &presented.route;
        let token_table = self.table(Table::Token)?;
        let session_table = self.table(Table::Session)?;
        // Strongly consistent: a token just issued, rotated or revoked is seen as it is now.
        let mut wanted = HashMap::from([
            (
                token_table.to_owned(),
                keys(items::token_key(&presented.hash), true, None)?,
            ),
            (
                session_table.to_owned(),
                keys(session_key(&route.uid, &route.session_id), true, None)?,
            ),
        ]);
        // The user domain's state from the instance's cache when it holds it; else read with
        // the token, eventually consistent, as the login reads it.
        let states = &self.caches().domain_states;
        let cached = match domain {
            DomainRead::Include => states.get(&route.user_domain),
            DomainRead::Skip => None,
        };
        let domain_table = if domain == DomainRead::Include && cached.is_none() {
            let table = self.table(Table::UserDomain)?;
            wanted.insert(
                table.to_owned(),
                keys(
                    items::domain_key(route.user_domain.as_str()),
                    false,
                    // Only whether it is enabled: no secret leaves the table here.
                    Some(&[attr::USER_DOMAIN, attr::ENABLED]),
                )?,
            );
            Some(table)
        } else {
            None
        };

        let domain_read = states.read_started();
        let mut found = self.batch_get(wanted).await?;
        let mut first = |table: &str| {
            found
                .remove(table)
                .and_then(|items| items.into_iter().next())
        };
        let token = first(token_table)
            .map(|item| items::token_record(&item))
            .transpose()?;
        let session = first(session_table)
            .map(|item| items::session_record(&item))
            .transpose()?;
        let domain = match (cached, domain_table) {
            (Some(cached), _) => cached,
            (None, Some(table)) => {
                let read =
                    first(table).map(|item| items::domain_state(route.user_domain.as_str(), &item));
                states.insert(route.user_domain.clone(), read.clone(), domain_read);
                read
            }
            (None, None) => None,
        };
        Ok(TokenState {
            token,
            session,
            domain,
        })
    }
}

impl SessionRotator for DynamoStore {
    async fn rotate(&self, rotation: &Rotation) -> Result<Conditional, ApiError> {
        let pair = &rotation.pair;
        let owner = &pair.owner;
        let token_table = self.table(Table::Token)?;
        let session = names(
            Update::builder(),
            &[
                attr::STATUS,
                attr::ACCESS_TOKEN_HASH,
                attr::REFRESH_TOKEN_HASH,
                attr::PREVIOUS_REFRESH_TOKEN_HASH,
                attr::ROTATED_AT,
                attr::REFRESHED_AT,
                attr::ACCESS_KEY_ID,
            ],
        )
        .table_name(self.table(Table::Session)?)
        .set_key(Some(session_key(&owner.uid, &owner.session_id)))
        .update_expression(
            "SET #accessTokenHash = :access, #refreshTokenHash = :refresh, \
             #previousRefreshTokenHash = :presented, #rotatedAt = :now, #refreshedAt = :now, \
             #accessKeyId = :kid",
        )
        .condition_expression("#status = :active AND #refreshTokenHash = :presented")
        .expression_attribute_values(":active", string_value(SessionStatus::Active.as_str()))
        .expression_attribute_values(":access", string_value(&pair.access.hash))
        .expression_attribute_values(":refresh", string_value(&pair.refresh.hash))
        .expression_attribute_values(":presented", string_value(&rotation.presented_hash))
        .expression_attribute_values(":now", number_value(pair.issued_at))
        .expression_attribute_values(":kid", string_value(&pair.access_key_id))
        .build()
        .map_err(|_| ApiError::Internal("session update construction"))?;
        let [access, refresh] = pair_puts(token_table, pair)?;
        let writes = vec![access, refresh, write(session)];
        // A rotation's pair is derived from the presented token, so a concurrent twin writes
        // the same token items: its attempt is its own, never the same request repeated.
        match self.transact(writes, &random_hex::<16>()?).await? {
            Transaction::Committed => Ok(Conditional::Applied),
            // Another request rotated first (its token items are these), or the session was
            // revoked: nothing was written, and the refresh decides again.
            Transaction::Canceled { .. } => Ok(Conditional::Conflict),
        }
    }
}

/// The write that revokes one session, if it is still active: every revocation, whoever asks
/// for it, is this one.
pub fn revocation(
    table: &str,
    uid: &str,
    session_id: &str,
    reason: RevokedReason,
) -> Result<TransactWriteItem, ApiError> {
    names(Update::builder(), &[attr::STATUS, attr::REVOKED_REASON])
        .table_name(table)
        .set_key(Some(session_key(uid, session_id)))
        .update_expression("SET #status = :revoked, #revokedReason = :reason")
        .condition_expression("#status = :active")
        .expression_attribute_values(":revoked", string_value(SessionStatus::Revoked.as_str()))
        .expression_attribute_values(":active", string_value(SessionStatus::Active.as_str()))
        .expression_attribute_values(":reason", string_value(reason.as_str()))
        .build()
        .map(write)
        .map_err(|_| ApiError::Internal("session update construction"))
}

impl SessionRevoker for DynamoStore {
    async fn revoke(
        &self,
        uid: &str,
        session_ids: &[String],
        reason: RevokedReason,
    ) -> Result<Revocation, ApiError> {
        let table = self.table(Table::Session)?;
        let mut revoked = 0;
        for batch in session_ids.chunks(MAX_TRANSACTION_ITEMS) {
            let writes = batch
                .iter()
                .map(|session_id| revocation(table, uid, session_id, reason))
                .collect::<Result<Vec<_>, _>>()?;
            match self.transact(writes, &random_hex::<16>()?).await? {
                Transaction::Committed => revoked += batch.len(),
                Transaction::Canceled { .. } => {
                    return Ok(Revocation {
                        revoked,
                        outcome: Conditional::Conflict,
                    });
                }
            }
        }
        Ok(Revocation {
            revoked,
            outcome: Conditional::Applied,
        })
    }
}

impl SessionLister for DynamoStore {
    async fn active_sessions(&self, uid: &str) -> Result<Vec<SessionSummary>, ApiError> {
        let table = self.table(Table::Session)?;
        let mut sessions = Vec::new();
        let mut start = None;
        loop {
            let query = sessions_of(self.client.query(), table, uid)
                .filter_expression("#status = :active")
                .projection_expression("#sessionId, #createdAt, #expirationTime")
                .expression_attribute_names("#status", attr::STATUS)
                .expression_attribute_names("#sessionId", attr::SESSION_ID)
                .expression_attribute_names("#createdAt", attr::CREATED_AT)
                .expression_attribute_names("#expirationTime", attr::EXPIRATION_TIME)
                .expression_attribute_values(
                    ":active",
                    string_value(SessionStatus::Active.as_str()),
                )
                .set_exclusive_start_key(start)
                .send();
            let page = within_deadline(query)
                .await?
                .map_err(|error| classify(&error))?;
            for item in page.items.unwrap_or_default() {
                sessions.push(items::session_summary(&item)?);
            }
            match page.last_evaluated_key.filter(|key| !key.is_empty()) {
                Some(key) => start = Some(key),
                None => return Ok(sessions),
            }
        }
    }
}

/// A query of one user's sessions, read as they are now: the listing's and the admin CLI's.
pub fn sessions_of(query: QueryFluentBuilder, table: &str, uid: &str) -> QueryFluentBuilder {
    query
        .table_name(table)
        .key_condition_expression("#uid = :uid")
        .expression_attribute_names("#uid", attr::UID)
        .expression_attribute_values(":uid", string_value(uid))
        .consistent_read(true)
}
