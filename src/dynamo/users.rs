//! The users table: read by userInfo (written by the login transaction, in `sessions`).

use super::{DynamoStore, classify, items, within_deadline};
use crate::config::Table;
use crate::domain::user::User;
use crate::error::ApiError;
use crate::ports::UserReader;

impl UserReader for DynamoStore {
    async fn user(&self, uid: &str) -> Result<Option<User>, ApiError> {
        let output = within_deadline(
            self.client
                .get_item()
                .table_name(self.table(Table::User)?)
                .set_key(Some(items::user_key(uid)))
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
