//! What DynamoDB requests do to each item, read from the requests themselves: how often each
//! item (table and key) is read, strongly or eventually consistent, and written. The fault
//! proxy counts it for every request it passes on, so tests and benchmarks can tell a hot item.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// One item: its table and its key, as `name=value` pairs sorted by name
/// (`userDomain=C.DM.5903.1`; a value that is not a string or number shows as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    pub table: String,
    pub key: String,
}

impl ItemKey {
    /// The key of `table`'s item whose key attributes are `pairs`, as the proxy names it.
    pub fn new(table: &str, pairs: &[(&str, &str)]) -> ItemKey {
        let mut pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.sort();
        ItemKey {
            table: table.to_owned(),
            key: pairs.join(", "),
        }
    }

    /// From a request's key (or item) in DynamoDB's JSON, keeping only `names` when given.
    fn from_json(table: &str, attributes: &Value, names: Option<&[String]>) -> Option<ItemKey> {
        let attributes = attributes.as_object()?;
        let mut pairs: Vec<String> = attributes
            .iter()
            .filter(|(name, _)| names.is_none_or(|names| names.contains(name)))
            .map(|(name, value)| format!("{name}={}", scalar(value)))
            .collect();
        if pairs.is_empty() {
            return None;
        }
        pairs.sort();
        Some(ItemKey {
            table: table.to_owned(),
            key: pairs.join(", "),
        })
    }
}

/// `{"S": "x"}` and `{"N": "1"}` as `x` and `1`; anything else as its JSON.
fn scalar(value: &Value) -> String {
    match value.as_object().map(|typed| typed.iter().next()) {
        Some(Some((kind, Value::String(text)))) if kind == "S" || kind == "N" => text.clone(),
        _ => value.to_string(),
    }
}

/// What the requests did to one item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ItemTraffic {
    pub strong_reads: usize,
    pub eventual_reads: usize,
    /// Writes inside a `TransactWriteItems` (billed twice a plain write's units).
    pub transactional_writes: usize,
    pub writes: usize,
}

impl ItemTraffic {
    pub fn reads(&self) -> usize {
        self.strong_reads + self.eventual_reads
    }

    pub fn all_writes(&self) -> usize {
        self.transactional_writes + self.writes
    }
}

/// The counts per item, and each table's key attributes (a `Put` names its item by them).
#[derive(Debug, Default)]
pub struct Traffic {
    /// Table name → its key attributes.
    key_attributes: HashMap<String, Vec<String>>,
    items: BTreeMap<ItemKey, ItemTraffic>,
}

impl Traffic {
    /// Tells which attributes make each table's key; a `Put` to another table is not counted.
    pub fn set_key_attributes(&mut self, key_attributes: HashMap<String, Vec<String>>) {
        self.key_attributes = key_attributes;
    }

    pub fn items(&self) -> &BTreeMap<ItemKey, ItemTraffic> {
        &self.items
    }

    /// Hands the counts over, starting again from none.
    pub fn take(&mut self) -> BTreeMap<ItemKey, ItemTraffic> {
        std::mem::take(&mut self.items)
    }

    /// Counts one request of `operation` (`BatchGetItem`, ...) with this JSON body.
    pub fn count(&mut self, operation: &str, body: &[u8]) {
        let Ok(request) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        match operation {
            "BatchGetItem" => {
                let Some(tables) = request["RequestItems"].as_object() else {
                    return;
                };
                for (table, wanted) in tables {
                    let strong = wanted["ConsistentRead"].as_bool().unwrap_or(false);
                    for key in wanted["Keys"].as_array().into_iter().flatten() {
                        self.read(table, key, strong);
                    }
                }
            }
            "GetItem" => {
                if let Some(table) = request["TableName"].as_str() {
                    let strong = request["ConsistentRead"].as_bool().unwrap_or(false);
                    self.read(table, &request["Key"], strong);
                }
            }
            "TransactWriteItems" => {
                for write in request["TransactItems"].as_array().into_iter().flatten() {
                    self.write(write, true);
                }
            }
            "PutItem" => self.write(&serde_json::json!({ "Put": request }), false),
            "UpdateItem" => self.write(&serde_json::json!({ "Update": request }), false),
            "DeleteItem" => self.write(&serde_json::json!({ "Delete": request }), false),
            _ => {}
        }
    }

    fn read(&mut self, table: &str, key: &Value, strong: bool) {
        if let Some(item) = ItemKey::from_json(table, key, None) {
            let traffic = self.items.entry(item).or_default();
            if strong {
                traffic.strong_reads += 1;
            } else {
                traffic.eventual_reads += 1;
            }
        }
    }

    /// One write of a transaction's list (`{"Put": ...}`, `{"Update": ...}`, ...).
    fn write(&mut self, write: &Value, transactional: bool) {
        let Some((kind, write)) = write.as_object().and_then(|w| w.iter().next()) else {
            return;
        };
        let Some(table) = write["TableName"].as_str() else {
            return;
        };
        let item = match kind.as_str() {
            "Put" => self
                .key_attributes
                .get(table)
                .and_then(|names| ItemKey::from_json(table, &write["Item"], Some(names))),
            "Update" | "Delete" => ItemKey::from_json(table, &write["Key"], None),
            _ => None,
        };
        if let Some(item) = item {
            let traffic = self.items.entry(item).or_default();
            if transactional {
                traffic.transactional_writes += 1;
            } else {
                traffic.writes += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_item_a_request_names() {
        let mut traffic = Traffic::default();
        traffic.set_key_attributes(HashMap::from([(
            "sessions".to_owned(),
            vec!["uid".to_owned(), "sessionId".to_owned()],
        )]));
        let read = serde_json::json!({"RequestItems": {
            "domains": {"Keys": [{"userDomain": {"S": "C.DM.1"}}], "ConsistentRead": false},
            "tokens": {"Keys": [{"tokenHash": {"S": "ab"}}], "ConsistentRead": true},
        }});
        traffic.count("BatchGetItem", read.to_string().as_bytes());
        traffic.count("BatchGetItem", read.to_string().as_bytes());
        let write = serde_json::json!({"TransactItems": [
            {"Put": {"TableName": "sessions", "Item": {
                "uid": {"S": "u"}, "sessionId": {"S": "s"}, "status": {"S": "active"}}}},
            {"Update": {"TableName": "users", "Key": {"uid": {"S": "u"}}}},
            {"Put": {"TableName": "unknown", "Item": {"k": {"S": "v"}}}},
        ]});
        traffic.count("TransactWriteItems", write.to_string().as_bytes());
        let get = serde_json::json!({"TableName": "users", "Key": {"uid": {"S": "u"}}});
        traffic.count("GetItem", get.to_string().as_bytes());

        let items = traffic.take();
        let of = |table: &str, pairs: &[(&str, &str)]| items[&ItemKey::new(table, pairs)];
        let domain = of("domains", &[("userDomain", "C.DM.1")]);
        assert_eq!((domain.eventual_reads, domain.strong_reads), (2, 0));
        assert_eq!(of("tokens", &[("tokenHash", "ab")]).strong_reads, 2);
        let session = of("sessions", &[("uid", "u"), ("sessionId", "s")]);
        assert_eq!((session.transactional_writes, session.reads()), (1, 0));
        let user = of("users", &[("uid", "u")]);
        assert_eq!((user.transactional_writes, user.eventual_reads), (1, 1));
        assert_eq!(
            items.len(),
            4,
            "a put to a table of unknown key is not counted"
        );
        assert!(traffic.items().is_empty(), "taken");
    }
}
