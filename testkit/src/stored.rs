//! Reading the items the tests find in the tables: an attribute of the type it must have, or
//! the test fails naming it.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

pub type Item = HashMap<String, AttributeValue>;

/// A string attribute of a stored item; the test fails if it is missing or not S.
pub fn string_attr(item: &Item, name: &str) -> String {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_else(|| panic!("{name} is not S in {item:?}"))
}

/// A number attribute of a stored item; the test fails if it is missing or not N.
pub fn number_attr(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} is not N in {item:?}"))
}
