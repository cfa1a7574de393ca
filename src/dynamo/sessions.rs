//! Sessions and their tokens: the login's transaction, the token checks' read, rotation,
//! revocation and listing.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};

use super::items::{n, s};
use super::{DynamoStore, Item, Transacted, attr, classify, items, keys, within_deadline};
use crate::config::Table;
use crate::error::ApiError;
use crate::ports::{
    IssuedPair, NewSession, Revocation, Rotation, SessionLister, SessionRevoker, SessionRotator,
    SessionStarter, SessionSummary, TokenReader, TokenState, Written,
};
use crate::session::{RevokedReason, SessionStatus, TokenKind, USER_ACTIVE};
use crate::token::{TokenRoute, random_hex};

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

fn session_key(uid: &str, session_id: &str) -> Item {
    HashMap::from([
        (attr::UID.to_owned(), s(uid)),
        (attr::SESSION_ID.to_owned(), s(session_id)),
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
        .set_key(Some(HashMap::from([(attr::UID.to_owned(), s(&owner.uid))])))
        .condition_expression(
            "attribute_not_exists(#uid) OR (#userDomain = :domain AND #twitterUserId = :twitterUser)",
        )
        .expression_attribute_values(":domain", s(&owner.user_domain))
        .expression_attribute_values(":twitterUser", s(&owner.twitter_user_id))
        .expression_attribute_values(":now", n(pair.issued_at))
        .expression_attribute_values(":active", n(USER_ACTIVE));
        // The latest username seen; an answer without one keeps the last.
        if let Some(username) = &owner.twitter_username {
            set.push("#twitterUsername = :username");
            user = user
                .expression_attribute_names("#twitterUsername", attr::TWITTER_USERNAME)
                .expression_attribute_values(":username", s(username));
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
            Transacted::Done => Ok(()),
            Transacted::Canceled { failed_conditions } if failed_conditions.is_empty() => {
                Err(ApiError::StoreUnavailable("transaction conflict"))
            }
            Transacted::Canceled { .. } => {
                Err(ApiError::Internal("login write refused by a condition"))
            }
        }
    }
}

impl TokenReader for DynamoStore {
    async fn token_state(
        &self,
        route: &TokenRoute,
        token_hash: &str,
        with_domain: bool,
    ) -> Result<TokenState, ApiError> {
        let token_table = self.table(Table::Token)?;
        let session_table = self.table(Table::Session)?;
        // Strongly consistent: a token just issued, rotated or revoked is seen as it is now.
        let mut wanted = HashMap::from([
            (
                token_table.to_owned(),
                keys(
                    HashMap::from([(attr::TOKEN_HASH.to_owned(), s(token_hash))]),
                    true,
                    None,
                )?,
            ),
            (
                session_table.to_owned(),
                keys(session_key(&route.uid, &route.session_id), true, None)?,
            ),
        ]);
        let domain_table = if with_domain {
            let table = self.table(Table::UserDomain)?;
            wanted.insert(
                table.to_owned(),
                keys(
                    HashMap::from([(attr::USER_DOMAIN.to_owned(), s(&route.user_domain))]),
                    true,
                    // Only whether it is enabled: no secret leaves the table here.
                    Some(&[attr::USER_DOMAIN, attr::ENABLED]),
                )?,
            );
            Some(table)
        } else {
            None
        };

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
        let domain = domain_table
            .and_then(&mut first)
            .map(|item| items::domain_state(&route.user_domain, &item));
        Ok(TokenState {
            token,
            session,
            domain,
        })
    }
}

impl SessionRotator for DynamoStore {
    async fn rotate(&self, rotation: &Rotation) -> Result<Written, ApiError> {
        let pair = &rotation.pair;
        let owner = &pair.owner;
        let token_table = self.table(Table::Token)?;
        let mut session = names(
            Update::builder(),
            &[
                attr::STATUS,
                attr::ACCESS_TOKEN_HASH,
                attr::REFRESH_TOKEN_HASH,
                attr::PREVIOUS_REFRESH_TOKEN_HASH,
                attr::REFRESHED_AT,
            ],
        )
        .table_name(self.table(Table::Session)?)
        .set_key(Some(session_key(&owner.uid, &owner.session_id)))
        .expression_attribute_values(":active", s(SessionStatus::Active.as_str()))
        .expression_attribute_values(":access", s(&pair.access.hash))
        .expression_attribute_values(":refresh", s(&pair.refresh.hash))
        .expression_attribute_values(":presented", s(&rotation.presented_hash))
        .expression_attribute_values(":now", n(pair.issued_at));
        session = if rotation.grace_retry {
            // The window stays where the first rotation put it.
            session
                .update_expression(
                    "SET #accessTokenHash = :access, #refreshTokenHash = :refresh, #refreshedAt = :now",
                )
                .condition_expression(
                    "#status = :active AND #refreshTokenHash = :current AND #previousRefreshTokenHash = :presented",
                )
                .expression_attribute_values(":current", s(&rotation.current_refresh_hash))
        } else {
            session
                .update_expression(
                    "SET #accessTokenHash = :access, #refreshTokenHash = :refresh, \
                     #previousRefreshTokenHash = :presented, #rotatedAt = :now, #refreshedAt = :now",
                )
                .condition_expression("#status = :active AND #refreshTokenHash = :presented")
                .expression_attribute_names("#rotatedAt", attr::ROTATED_AT)
        };
        let session = session
            .build()
            .map_err(|_| ApiError::Internal("session update construction"))?;
        let [access, refresh] = pair_puts(token_table, pair)?;
        let writes = vec![access, refresh, write(session)];
        match self.transact(writes, &pair.pair_id).await? {
            Transacted::Done => Ok(Written::Done),
            Transacted::Canceled { failed_conditions }
                if failed_conditions.iter().any(|&i| i < 2) =>
            {
                Err(ApiError::Internal("token hash already stored"))
            }
            Transacted::Canceled { .. } => Ok(Written::Conflict),
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
        .expression_attribute_values(":revoked", s(SessionStatus::Revoked.as_str()))
        .expression_attribute_values(":active", s(SessionStatus::Active.as_str()))
        .expression_attribute_values(":reason", s(reason.as_str()))
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
                Transacted::Done => revoked += batch.len(),
                Transacted::Canceled { .. } => {
                    return Ok(Revocation {
                        revoked,
                        written: Written::Conflict,
                    });
                }
            }
        }
        Ok(Revocation {
            revoked,
            written: Written::Done,
        })
    }
}

impl SessionLister for DynamoStore {
    async fn active_sessions(&self, uid: &str) -> Result<Vec<SessionSummary>, ApiError> {
        let table = self.table(Table::Session)?;
        let mut sessions = Vec::new();
        let mut start = None;
        loop {
            let query = self
                .client
                .query()
                .table_name(table)
                .key_condition_expression("#uid = :uid")
                .filter_expression("#status = :active")
                .projection_expression("#sessionId, #createdAt, #expirationTime")
                .expression_attribute_names("#uid", attr::UID)
                .expression_attribute_names("#status", attr::STATUS)
                .expression_attribute_names("#sessionId", attr::SESSION_ID)
                .expression_attribute_names("#createdAt", attr::CREATED_AT)
                .expression_attribute_names("#expirationTime", attr::EXPIRATION_TIME)
                .expression_attribute_values(":uid", s(uid))
                .expression_attribute_values(":active", s(SessionStatus::Active.as_str()))
                .consistent_read(true)
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
