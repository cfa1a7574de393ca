//! Sessions and their tokens: the login's transaction (which keeps the user under the cap of
//! live sessions), the token checks' read, rotation, revocation, and the index of each user's
//! active sessions.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::items::{number_value, session_key, string_value};
use super::{DynamoStore, Item, Transaction, attr, classify, items, keys, within_deadline};
use crate::config::Table;
use crate::domain::grant::IssuedPair;
use crate::domain::listing::{PAGE_SIZE, PageCursor};
use crate::domain::session::{
    RevokedReason, SessionStatus, SessionSummary, TokenKind, TokenOwner, TokenState,
};
use crate::domain::token::{PresentedToken, random_hex};
use crate::domain::user::USER_ACTIVE;
use crate::error::ApiError;
use crate::ports::{
    Admission, Admitted, Conditional, DomainRead, LiveAt, MAX_EVICTIONS_PER_LOGIN, NewSession,
    Rotation, SessionLister, SessionPage, SessionPager, SessionRevoker, SessionRotator,
    SessionStarter, TokenReader,
};

/// Where the user's update sits in a login's transaction: after both tokens and the session.
const LOGIN_USER_WRITE: usize = 3;

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
    async fn start_session(
        &self,
        session: &NewSession,
        admission: &Admission,
    ) -> Result<Admitted, ApiError> {
        let pair = &session.pair;
        let owner = &pair.owner;
        let token_table = self.table(Table::Token)?;
        let session_table = self.table(Table::Session)?;
        // The end user, created on the first login and updated on every other; the condition
        // guards against a uid that names someone else, and keeps the user under the cap.
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
                attr::SESSION_LEDGER,
                attr::SESSION_LEDGER_WRITES,
            ],
        )
        .table_name(self.table(Table::User)?)
        .set_key(Some(items::user_key(&owner.uid)))
        .expression_attribute_values(":domain", string_value(owner.user_domain.as_str()))
        .expression_attribute_values(":twitterUser", string_value(&owner.twitter_user_id))
        .expression_attribute_values(":now", number_value(pair.issued_at))
        .expression_attribute_values(":active", number_value(USER_ACTIVE))
        .expression_attribute_values(":zero", number_value(0))
        .expression_attribute_values(":one", number_value(1))
        // On a failed condition the item comes back: the ledger it holds, whose it is.
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        set.push("#sessionLedgerWrites = if_not_exists(#sessionLedgerWrites, :zero) + :one");
        let (ledger, evict) = match admission {
            Admission::BelowCap { cap } => {
                user = user.expression_attribute_values(":cap", number_value(cap));
                set.push("#sessionLedger = if_not_exists(#sessionLedger, :zero) + :one");
                (
                    "(attribute_not_exists(#sessionLedger) OR #sessionLedger < :cap)",
                    &[][..],
                )
            }
            Admission::MakingRoom {
                writes,
                evict,
                live_after,
            } => {
                user = user
                    .expression_attribute_values(":writesRead", number_value(writes))
                    .expression_attribute_values(":ledgerAfter", number_value(live_after + 1));
                set.push("#sessionLedger = :ledgerAfter");
                let unwritten = if *writes == 0 {
                    "(attribute_not_exists(#sessionLedgerWrites) OR \
                     #sessionLedgerWrites = :writesRead)"
                } else {
                    "#sessionLedgerWrites = :writesRead"
                };
                (unwritten, evict.as_slice())
            }
        };
        if evict.len() > MAX_EVICTIONS_PER_LOGIN {
            return Err(ApiError::Internal(
                "more sessions to end than a login's write holds",
            ));
        }
        // The latest username seen; an answer without one keeps the last.
        if let Some(username) = &owner.twitter_username {
            set.push("#twitterUsername = :username");
            user = user
                .expression_attribute_names("#twitterUsername", attr::TWITTER_USERNAME)
                .expression_attribute_values(":username", string_value(username));
        }
        let user = user
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression(format!(
                "(attribute_not_exists(#uid) OR (#userDomain = :domain AND \
                 #twitterUserId = :twitterUser)) AND {ledger}"
            ))
            .build()
            .map_err(|_| ApiError::Internal("user update construction"))?;

        let [access, refresh] = pair_puts(token_table, pair)?;
        let mut writes = vec![
            access,
            refresh,
            create(
                session_table,
                items::session_item(pair, session.session_end, &session.user_agent),
                attr::SESSION_ID,
            )?,
            write(user),
        ];
        for session_id in evict {
            writes.push(
                Revocation::new(&owner.uid, session_id, RevokedReason::Evicted, None)
                    .in_transaction(session_table)?,
            );
        }
        // Each attempt its own: a retried write is decided anew, never taken for a repeat.
        match self.transact(writes, &random_hex::<16>()?).await? {
            Transaction::Committed => Ok(Admitted::Started),
            Transaction::Canceled { failed_conditions } => refusal(owner, &failed_conditions),
        }
    }
}

/// What a canceled login says: the ledger refused it; another write got in the way; or one
/// of its own conditions failed (a token hash or session id taken, a uid naming someone
/// else), which no client can cause.
fn refusal(owner: &TokenOwner, failed: &[(usize, Option<Item>)]) -> Result<Admitted, ApiError> {
    let refused = ApiError::Internal("login write refused by a condition");
    if failed.iter().any(|(at, _)| *at < LOGIN_USER_WRITE) {
        return Err(refused);
    }
    let Some((_, user)) = failed.iter().find(|(at, _)| *at == LOGIN_USER_WRITE) else {
        // A session it was to end had changed, or another transaction held an item.
        return Ok(Admitted::Conflict);
    };
    let text = |item: &Item, name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    match user {
        Some(user)
            if text(user, attr::USER_DOMAIN).as_deref() == Some(owner.user_domain.as_str())
                && text(user, attr::TWITTER_USER_ID).as_ref() == Some(&owner.twitter_user_id) =>
        {
            Ok(Admitted::Refused {
                ledger: items::session_ledger(user)?,
            })
        }
        _ => Err(refused),
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
                attr::LAST_USED_AT,
                attr::ACCESS_KEY_ID,
            ],
        )
        .table_name(self.table(Table::Session)?)
        .set_key(Some(session_key(&owner.uid, &owner.session_id)))
        .update_expression(
            "SET #accessTokenHash = :access, #refreshTokenHash = :refresh, \
             #previousRefreshTokenHash = :presented, #rotatedAt = :now, #refreshedAt = :now, \
             #lastUsedAt = :now, #accessKeyId = :kid",
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

/// What ends a session: it is revoked and leaves the index of active sessions.
const REVOKE: &str = "SET #status = :revoked, #revokedReason = :reason REMOVE #activeSince";

/// The write that ends one session if it is still active: every revocation, whoever asks for
/// it and however it is sent, is this one.
pub struct Revocation {
    key: Item,
    condition: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Revocation {
    /// Ends `uid`'s session `session_id` for `reason`, if it is active and, with `live_at`,
    /// not past its end at that moment.
    pub fn new(
        uid: &str,
        session_id: &str,
        reason: RevokedReason,
        live_at: Option<LiveAt>,
    ) -> Revocation {
        let mut used = vec![attr::STATUS, attr::REVOKED_REASON, attr::ACTIVE_SINCE];
        let mut values = HashMap::from([
            (
                ":revoked".to_owned(),
                string_value(SessionStatus::Revoked.as_str()),
            ),
            (
                ":active".to_owned(),
                string_value(SessionStatus::Active.as_str()),
            ),
            (":reason".to_owned(), string_value(reason.as_str())),
        ]);
        let mut condition = "#status = :active".to_owned();
        if let Some(LiveAt { now, session_max }) = live_at {
            // Before its stored end, and younger than the maximum age today.
            condition.push_str(" AND #expirationTime > :now AND #createdAt > :bornAfter");
            used.extend([attr::EXPIRATION_TIME, attr::CREATED_AT]);
            values.insert(":now".to_owned(), number_value(now));
            values.insert(
                ":bornAfter".to_owned(),
                number_value(now.saturating_sub(session_max)),
            );
        }
        Revocation {
            key: session_key(uid, session_id),
            condition,
            names: used
                .into_iter()
                .map(|name| (format!("#{name}"), name.to_owned()))
                .collect(),
            values,
        }
    }

    /// Sent alone, as one `UpdateItem`.
    pub fn alone(self, update: UpdateItemFluentBuilder, table: &str) -> UpdateItemFluentBuilder {
        update
            .table_name(table)
            .set_key(Some(self.key))
            .update_expression(REVOKE)
            .condition_expression(self.condition)
            .set_expression_attribute_names(Some(self.names))
            .set_expression_attribute_values(Some(self.values))
    }

    /// As one write of a transaction.
    fn in_transaction(self, table: &str) -> Result<TransactWriteItem, ApiError> {
        Update::builder()
            .table_name(table)
            .set_key(Some(self.key))
            .update_expression(REVOKE)
            .condition_expression(self.condition)
            .set_expression_attribute_names(Some(self.names))
            .set_expression_attribute_values(Some(self.values))
            .build()
            .map(write)
            .map_err(|_| ApiError::Internal("session update construction"))
    }
}

/// Whether a single write was refused by its condition.
pub fn refused_by_condition<R>(
    error: &aws_sdk_dynamodb::error::SdkError<UpdateItemError, R>,
) -> bool {
    matches!(
        error.as_service_error(),
        Some(UpdateItemError::ConditionalCheckFailedException(_))
    )
}

impl SessionRevoker for DynamoStore {
    async fn revoke(
        &self,
        uid: &str,
        session_id: &str,
        reason: RevokedReason,
        live_at: Option<LiveAt>,
    ) -> Result<Conditional, ApiError> {
        let table = self.table(Table::Session)?;
        let update = Revocation::new(uid, session_id, reason, live_at)
            .alone(self.client.update_item(), table)
            .send();
        match within_deadline(update).await? {
            Ok(_) => Ok(Conditional::Applied),
            Err(error) if refused_by_condition(&error) => Ok(Conditional::Conflict),
            Err(error) => Err(classify(&error)),
        }
    }
}

impl SessionLister for DynamoStore {
    async fn active_sessions(&self, uid: &str) -> Result<Vec<SessionSummary>, ApiError> {
        let table = self.table(Table::Session)?;
        let mut sessions = Vec::new();
        let mut start = None;
        loop {
            let query = projected(
                active_sessions_of(self.client.query(), table, uid),
                &[attr::SESSION_ID, attr::CREATED_AT, attr::EXPIRATION_TIME],
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

impl SessionPager for DynamoStore {
    async fn session_page(
        &self,
        uid: &str,
        after: Option<&PageCursor>,
    ) -> Result<SessionPage, ApiError> {
        let table = self.table(Table::Session)?;
        // One more than a page: whether more remain is known without another request.
        let query = projected(
            active_sessions_of(self.client.query(), table, uid),
            &[
                attr::SESSION_ID,
                attr::ACTIVE_SINCE,
                attr::APP_ID,
                attr::CREATED_AT,
                attr::LAST_USED_AT,
                attr::USER_AGENT,
                attr::EXPIRATION_TIME,
                attr::STATUS,
            ],
        )
        .scan_index_forward(false)
        .limit(i32::try_from(PAGE_SIZE + 1).unwrap_or(i32::MAX))
        .set_exclusive_start_key(after.map(|cursor| items::active_session_key(uid, cursor)))
        .send();
        let found = within_deadline(query)
            .await?
            .map_err(|error| classify(&error))?
            .items
            .unwrap_or_default();
        let next = match found.get(PAGE_SIZE) {
            Some(_) => Some(items::listing_cursor(&found[PAGE_SIZE - 1])?),
            None => None,
        };
        let sessions = found
            .iter()
            .take(PAGE_SIZE)
            .map(items::stored_listing)
            .collect::<Result<_, _>>()?;
        Ok(SessionPage { sessions, next })
    }
}

/// A query that returns only these attributes.
fn projected(query: QueryFluentBuilder, attributes: &[&str]) -> QueryFluentBuilder {
    let placeholders: Vec<String> = (0..attributes.len()).map(|i| format!("#p{i}")).collect();
    let query = query.projection_expression(placeholders.join(", "));
    placeholders
        .iter()
        .zip(attributes)
        .fold(query, |query, (placeholder, name)| {
            query.expression_attribute_names(placeholder, *name)
        })
}

/// A query of one user's sessions, read as they are now: the admin CLI's.
pub fn sessions_of(query: QueryFluentBuilder, table: &str, uid: &str) -> QueryFluentBuilder {
    query
        .table_name(table)
        .key_condition_expression("#uid = :uid")
        .expression_attribute_names("#uid", attr::UID)
        .expression_attribute_values(":uid", string_value(uid))
        .consistent_read(true)
}

/// A query of one user's active sessions, oldest first, from their index (a local index reads
/// as consistently as the table).
fn active_sessions_of(query: QueryFluentBuilder, table: &str, uid: &str) -> QueryFluentBuilder {
    sessions_of(query, table, uid).index_name(attr::ACTIVE_SESSIONS)
}
