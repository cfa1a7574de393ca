//! The login's read: the user domain and its MCC route, each from the instance's cache when it
//! holds it, the rest in one `BatchGetItem` (none when both are cached).

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
        let caches = self.caches();
        let cached_domain = caches.user_domains.get(user_domain);
        let cached_route = mcc.and_then(|mcc| caches.mcc_routes.get(&mcc));
        let route_wanted = mcc.filter(|_| cached_route.is_none());
        if let Some(user_domain) = cached_domain.clone()
            && route_wanted.is_none()
        {
            return Ok(DirectoryEntry {
                user_domain,
                mcc_data_center: cached_route.flatten(),
            });
        }

        // Eventually consistent (half the read units): the caches make these reads stale by up
        // to their lifetime anyway, and an operator's change is seen within it.
        let mut wanted = HashMap::new();
        let domain_table = self.table(Table::UserDomain)?;
        if cached_domain.is_none() {
            wanted.insert(
                domain_table.to_owned(),
                keys(items::domain_key(user_domain.as_str()), false, None)?,
            );
        }
        let mcc_table = match route_wanted {
            Some(mcc) => {
                let table = self.table(Table::Mcc)?;
                wanted.insert(table.to_owned(), keys(items::mcc_key(mcc), false, None)?);
                Some((table, mcc))
            }
            None => None,
        };

        let domain_read = caches.user_domains.read_started();
        let route_read = caches.mcc_routes.read_started();
        let mut found = self.batch_get(wanted).await?;
        let mut first = |table: &str| {
            found
                .remove(table)
                .and_then(|items| items.into_iter().next())
        };
        let user_domain = match cached_domain {
            Some(cached) => cached,
            None => {
                let read =
                    first(domain_table).map(|item| items::user_domain(user_domain.as_str(), &item));
                caches
                    .user_domains
                    .insert(user_domain.clone(), read.clone(), domain_read);
                read
            }
        };
        let mcc_data_center = match mcc_table {
            Some((table, mcc)) => {
                let read = first(table).map(|item| items::route_data_center(mcc, &item));
                caches.mcc_routes.insert(mcc, read.clone(), route_read);
                read
            }
            None => cached_route.flatten(),
        };
        Ok(DirectoryEntry {
            user_domain,
            mcc_data_center,
        })
    }
}
