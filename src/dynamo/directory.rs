//! The login's read: the user domain and its MCC route in one `BatchGetItem`.

use std::collections::HashMap;

use super::{DynamoStore, items, keys};
use crate::config::Table;
use crate::domain::user_domain::UserDomainName;
use crate::error::ApiError;
use crate::ports::{DirectoryEntry, DomainDirectory};

impl DomainDirectory for DynamoStore {
    async fn lookup(
        &self,
        user_domain: &UserDomainName,
        mcc: Option<i32>,
    ) -> Result<DirectoryEntry, ApiError> {
        let user_domain = user_domain.as_str();
        let domain_table = self.table(Table::UserDomain)?;
        let mut wanted = HashMap::new();
        // Strongly consistent, so that disabling a domain takes effect at once.
        wanted.insert(
            domain_table.to_owned(),
            keys(items::domain_key(user_domain), true, None)?,
        );
        let mcc_table = match mcc {
            Some(mcc) => {
                let table = self.table(Table::Mcc)?;
                wanted.insert(table.to_owned(), keys(items::mcc_key(mcc), false, None)?);
                Some((table, mcc))
            }
            None => None,
        };

        let mut found = self.batch_get(wanted).await?;
        let mut first = |table: &str| {
            found
                .remove(table)
                .and_then(|items| items.into_iter().next())
        };
        Ok(DirectoryEntry {
            user_domain: first(domain_table).map(|item| items::user_domain(user_domain, &item)),
            mcc_data_center: mcc_table.and_then(|(table, mcc)| {
                first(table).map(|item| items::route_data_center(mcc, &item))
            }),
        })
    }
}
