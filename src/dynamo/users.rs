//! The users table: read by userInfo (written by the login transaction, in `sessions`).

use super::{DynamoStore, attr, classify, items, within_deadline};
use crate::config::Table;
use crate::error::ApiError;
use crate::ports::{User, UserReader};

impl UserReader for DynamoStore {
    async fn user(&self, uid: &str) -> Result<Option<User>, ApiError> {
        let output = within_deadline(
            self.client
                .get_item()
                .table_name(self.table(Table::User)?)
                .key(attr::UID, items::s(uid))
                // A user who has just signed in must find their record.
                .consistent_read(true)
                .send(),
        )
        .await?
        .map_err(|error| classify(&error))?;
        match output.item {
            None => Ok(None),
            Some(item) => Ok(Some(items::user_record(&item)?)),
        }
    }
}
