//! DynamoDB requests per operation, as counted by the proxy in front of moto.

use std::collections::BTreeMap;

use testkit::faulty::FaultyServer;

use crate::shared::trim;

/// The DynamoDB operations the proxy saw since `before`, by name.
pub fn operations_since(proxy: &FaultyServer, before: usize) -> BTreeMap<String, usize> {
    let mut counted = BTreeMap::new();
    for operation in proxy.operations().into_iter().skip(before) {
        *counted.entry(operation).or_insert(0) += 1;
    }
    counted
}

/// Requests per operation: the total, and each DynamoDB operation's share.
pub struct Counted {
    pub operations: usize,
    pub by_name: BTreeMap<String, usize>,
}

impl Counted {
    pub fn total(&self) -> usize {
        self.by_name.values().sum()
    }

    pub fn per_operation(&self, name: &str) -> f64 {
        self.by_name.get(name).copied().unwrap_or(0) as f64 / self.operations.max(1) as f64
    }

    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .by_name
            .iter()
            .map(|(name, n)| format!("{name} {}", trim(*n as f64 / self.operations as f64)))
            .collect();
        format!(
            "{:.3} ({}; {} requests)",
            self.total() as f64 / self.operations as f64,
            parts.join(" + "),
            self.total()
        )
    }
}
