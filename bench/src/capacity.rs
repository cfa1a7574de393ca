//! The capacity model of one user domain: from what a load run did to each DynamoDB item
//! (reads, writes, the item's size), the load a request puts on each item, and the request rate
//! the domain sustains before any item is throttled.
//!
//! DynamoDB serves one item (one partition) at most 3,000 read units and 1,000 write units a
//! second. An item's units per request are what the run measured, divided by its requests; so
//! an item throttles at `rate × units per request = limit`. Items of one user (tokens,
//! sessions, the user) carry only that user's requests: a domain grows by users, so their load
//! stays as measured. Items every request of the domain may read (the user domain, the MCC
//! routes) carry the whole domain's: they set the domain's rate. Such an item read through the
//! instances' caches is read per instance, not per request: with Lambda's instances as many as
//! the rate needs (rate × duration), its reads per request are the run's times the run's
//! instances' busy share.

use testkit::traffic::ItemTraffic;

use crate::cost::{read_units, write_units};

/// DynamoDB's per-partition limits, so one item's at most.
pub const ITEM_READ_UNITS_PER_SECOND: f64 = 3000.0;
pub const ITEM_WRITE_UNITS_PER_SECOND: f64 = 1000.0;

/// Whose requests an item carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carries {
    /// Any user's of the domain: its user domain, the MCC routes.
    TheDomain,
    /// One user's: a token, a session, the user.
    OneUser,
}

/// What a run did to one item.
#[derive(Debug, Clone)]
pub struct ItemLoad {
    pub table: String,
    pub item: String,
    pub carries: Carries,
    /// Bytes, as DynamoDB bills them.
    pub size: usize,
    pub traffic: ItemTraffic,
    /// Read through the instances' caches: its reads grow with instances, not requests.
    pub per_instance: bool,
}

impl ItemLoad {
    /// Read units the run consumed on the item: 1 per 4 KB strongly consistent, half that
    /// eventually consistent.
    pub fn read_units(&self) -> f64 {
        self.traffic.strong_reads as f64 * read_units(self.size, true)
            + self.traffic.eventual_reads as f64 * read_units(self.size, false)
    }

    /// Write units the run consumed on the item: 1 per KB, twice that in a transaction.
    pub fn write_units(&self) -> f64 {
        self.traffic.transactional_writes as f64 * write_units(self.size, true)
            + self.traffic.writes as f64 * write_units(self.size, false)
    }

    /// The fraction of the item's limit (the nearer of the two) each request takes.
    pub fn share_per_request(&self, requests: usize) -> f64 {
        let reads = self.read_units() / ITEM_READ_UNITS_PER_SECOND;
        let writes = self.write_units() / ITEM_WRITE_UNITS_PER_SECOND;
        reads.max(writes) / requests.max(1) as f64
    }
}

/// One run: how many requests, and what they did to each item.
#[derive(Debug, Clone)]
pub struct Model {
    pub requests: usize,
    pub items: Vec<ItemLoad>,
    /// The share of the run's instance-seconds spent serving requests (0 to 1).
    pub busy: f64,
}

impl Model {
    /// The item nearest its limit, of all items or of one table.
    pub fn busiest(&self, table: Option<&str>) -> Option<&ItemLoad> {
        self.items
            .iter()
            .filter(|item| table.is_none_or(|t| item.table == t))
            .max_by(|a, b| {
                a.share_per_request(self.requests)
                    .total_cmp(&b.share_per_request(self.requests))
            })
    }

    /// The request rate (per second) at which the first item carrying the whole domain reaches
    /// its limit, and that item; `None` when no such item was touched. With `as_run`, the
    /// cached items' reads per request are the run's; else those of instances as busy as
    /// Lambda keeps them (as many as the rate needs), fewer by the run's busy share.
    pub fn sustainable_rate(&self, as_run: bool) -> Option<(f64, &ItemLoad)> {
        self.items
            .iter()
            .filter(|item| item.carries == Carries::TheDomain)
            .map(|item| {
                let scale = if item.per_instance && !as_run {
                    self.busy.clamp(f64::MIN_POSITIVE, 1.0)
                } else {
                    1.0
                };
                (1.0 / (item.share_per_request(self.requests) * scale), item)
            })
            .filter(|(rate, _)| rate.is_finite())
            .min_by(|a, b| a.0.total_cmp(&b.0))
    }

    /// Reads and writes a second on `item` per 1,000 requests a second, and the units of each.
    pub fn per_thousand(&self, item: &ItemLoad) -> PerThousand {
        let per = 1000.0 / self.requests.max(1) as f64;
        PerThousand {
            strong_reads: item.traffic.strong_reads as f64 * per,
            eventual_reads: item.traffic.eventual_reads as f64 * per,
            writes: item.traffic.all_writes() as f64 * per,
            read_units: item.read_units() * per,
            write_units: item.write_units() * per,
        }
    }
}

/// An item's load at 1,000 requests a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerThousand {
    pub strong_reads: f64,
    pub eventual_reads: f64,
    pub writes: f64,
    pub read_units: f64,
    pub write_units: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(table: &str, carries: Carries, size: usize, traffic: ItemTraffic) -> ItemLoad {
        ItemLoad {
            table: table.into(),
            item: format!("{table} item"),
            carries,
            size,
            traffic,
            per_instance: false,
        }
    }

    #[test]
    fn the_domain_sustains_what_its_shared_items_allow() {
        let domain = item(
            "user domains",
            Carries::TheDomain,
            200,
            ItemTraffic {
                eventual_reads: 1000,
                ..ItemTraffic::default()
            },
        );
        let session = item(
            "sessions",
            Carries::OneUser,
            1500,
            ItemTraffic {
                strong_reads: 10,
                transactional_writes: 10,
                ..ItemTraffic::default()
            },
        );
        let mut model = Model {
            requests: 1000,
            items: vec![domain, session],
            busy: 0.5,
        };
        // Every request reads the domain's item eventually consistent: half a unit of 3,000.
        let (rate, bound) = model.sustainable_rate(false).expect("a shared item");
        assert_eq!(rate, 6000.0);
        assert_eq!(bound.table, "user domains");
        // Read through caches, its reads follow the instances: at full use, half as many.
        model.items[0].per_instance = true;
        assert_eq!(model.sustainable_rate(true).map(|r| r.0), Some(6000.0));
        assert_eq!(model.sustainable_rate(false).map(|r| r.0), Some(12000.0));
        // The session: 10 writes of 2 KB in transactions, 4 units each, per 1,000 requests.
        let load = model.per_thousand(&model.items[1]);
        assert_eq!(load.write_units, 40.0);
        assert_eq!(load.read_units, 10.0);
        assert_eq!(load.writes, 10.0);
        // The session's 40 of its 1,000 write units are less of its limit than the domain's
        // 500 of its 3,000 read units.
        assert_eq!(
            model.busiest(None).map(|i| i.table.as_str()),
            Some("user domains")
        );
        assert_eq!(
            model.busiest(Some("sessions")).map(|i| i.table.as_str()),
            Some("sessions")
        );
    }

    #[test]
    fn items_of_one_user_do_not_set_the_domains_rate() {
        let model = Model {
            requests: 10,
            items: vec![item(
                "users",
                Carries::OneUser,
                100,
                ItemTraffic {
                    transactional_writes: 10,
                    ..ItemTraffic::default()
                },
            )],
            busy: 1.0,
        };
        assert!(model.sustainable_rate(false).is_none());
        assert_eq!(model.busiest(None).map(|i| i.size), Some(100));
    }
}
