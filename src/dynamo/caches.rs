//! What one instance keeps of the config tables it reads, so that the user domain's item and an
//! MCC route's are not read by every request: each read's answer, found or not, for the time
//! `DOMAIN_CACHE_SECONDS` and `MCC_CACHE_SECONDS` say.

use std::sync::Arc;

use crate::config::CacheSeconds;
use crate::domain::clock::Clock;
use crate::domain::read_cache::{CAPACITY, ReadCache};
use crate::domain::user_domain::{DomainState, UserDomain, UserDomainName};
use crate::error::Field;

/// The caches of one instance; a function fills only those of the reads it makes.
#[derive(Debug)]
pub struct ReadCaches {
    /// The login's: whole user domains (`None`: no such item).
    pub user_domains: ReadCache<UserDomainName, Option<UserDomain>>,
    /// The token checks': whether a user domain may be used.
    pub domain_states: ReadCache<UserDomainName, Option<DomainState>>,
    /// MCC routes' data centers.
    pub mcc_routes: ReadCache<i32, Option<Field<String>>>,
}

impl ReadCaches {
    pub fn new(seconds: CacheSeconds, clock: Arc<dyn Clock>) -> ReadCaches {
        ReadCaches {
            user_domains: ReadCache::new(seconds.user_domain, CAPACITY, clock.clone()),
            domain_states: ReadCache::new(seconds.user_domain, CAPACITY, clock.clone()),
            mcc_routes: ReadCache::new(seconds.mcc, CAPACITY, clock),
        }
    }

    /// Nothing kept: every read goes to the table.
    pub fn off() -> ReadCaches {
        ReadCaches::new(
            CacheSeconds::OFF,
            Arc::new(crate::domain::clock::SystemClock),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    use crate::domain::clock::SystemClock;
    use crate::domain::secret::Secret;
    use crate::domain::user_domain::{App, TWITTER_PLATFORM};

    #[test]
    fn a_cached_domain_keeps_its_secrets_out_of_debug() {
        let caches = ReadCaches::new(
            CacheSeconds {
                user_domain: 10,
                mcc: 300,
            },
            Arc::new(SystemClock),
        );
        let name = UserDomainName::parse("C.DM.1").expect("name");
        let app = App {
            platform: TWITTER_PLATFORM.to_owned(),
            consumer_key: "ck".to_owned(),
            consumer_secret: Secret::new("consumer-s3cret"),
        };
        let domain = UserDomain {
            state: DomainState { enabled: Ok(true) },
            secret: Ok(Secret::new("domain-s3cret")),
            apps: Ok(HashMap::from([("app".to_owned(), Ok(app))])),
        };
        let read = caches.user_domains.read_started();
        caches.user_domains.insert(name.clone(), Some(domain), read);
        assert!(caches.user_domains.get(&name).is_some());
        let shown = format!("{caches:?}");
        assert!(shown.contains("C.DM.1"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
