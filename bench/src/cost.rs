//! What an operation costs on AWS: DynamoDB request units from item sizes, Lambda requests and
//! GB-seconds, API Gateway requests.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// us-east-1 on-demand list prices, USD. AWS's pricing pages render their rates client-side,
/// so these were read from copies quoting them; see [`PRICES_SOURCE`].
pub const DYNAMODB_PER_MILLION_WRU: f64 = 0.625;
pub const DYNAMODB_PER_MILLION_RRU: f64 = 0.125;
pub const LAMBDA_PER_MILLION_REQUESTS: f64 = 0.20;
pub const LAMBDA_ARM64_PER_GB_SECOND: f64 = 0.000_013_333_4;
pub const API_GATEWAY_REST_PER_MILLION: f64 = 3.50;
/// template.yaml's MemorySize.
pub const LAMBDA_MEMORY_GB: f64 = 128.0 / 1024.0;

pub const PRICES: &str = "us-east-1 on-demand list prices, no free tier: DynamoDB standard table \
    class $0.625 per million WRU and $0.125 per million RRU (since the cut of 2024-11-01); \
    Lambda arm64 $0.20 per million requests and $0.0000133334 per GB-second (first tier); \
    API Gateway REST API $3.50 per million requests (first 333 million a month)";
pub const PRICES_SOURCE: &str = "as quoted in 2025–2026 by AWS's API Gateway whitepaper \
    (REST tiers) and third-party copies of aws.amazon.com/dynamodb/pricing/on-demand and \
    aws.amazon.com/lambda/pricing (the AWS pages themselves render rates client-side); not \
    verified against aws.amazon.com here";

/// An item's size as DynamoDB bills it: per attribute, the UTF-8 length of its name plus its
/// value's size (numbers: 1 byte per 2 significant digits + 1; maps and lists: 3 bytes + 1 per
/// element + the elements).
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(values) => values.iter().map(String::len).sum(),
        AttributeValue::Ns(values) => values.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(values) => values.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(values) => 3 + values.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(fields) => {
            3 + fields
                .iter()
                .map(|(name, v)| 1 + name.len() + value_size(v))
                .sum::<usize>()
        }
        _ => 0,
    }
}

fn number_size(number: &str) -> usize {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let significant = digits
        .trim_start_matches('0')
        .trim_end_matches('0')
        .len()
        .max(1);
    significant.div_ceil(2) + 1
}

/// Read request units of one item read: 1 per 4 KB strongly consistent, half that eventually.
pub fn read_units(size: usize, strongly_consistent: bool) -> f64 {
    let units = size.max(1).div_ceil(4096) as f64;
    if strongly_consistent {
        units
    } else {
        units / 2.0
    }
}

/// Write request units of one item written: 1 per 1 KB, twice that inside a transaction. An
/// update is billed on the larger of the item before and after.
pub fn write_units(size: usize, transactional: bool) -> f64 {
    let units = size.max(1).div_ceil(1024) as f64;
    if transactional { 2.0 * units } else { units }
}

/// One operation's bill per million, in USD, and how it adds up.
#[derive(Debug, Clone)]
pub struct PerMillion {
    pub api_gateway: f64,
    pub lambda_requests: f64,
    pub lambda_duration: f64,
    pub dynamodb: f64,
}

impl PerMillion {
    /// `billed_ms`: the duration Lambda bills per invocation (rounded up to the millisecond).
    pub fn new(api_gateway_requests: f64, billed_ms: u64, rru: f64, wru: f64) -> PerMillion {
        PerMillion {
            api_gateway: api_gateway_requests * API_GATEWAY_REST_PER_MILLION,
            lambda_requests: LAMBDA_PER_MILLION_REQUESTS,
            lambda_duration: 1e6
                * LAMBDA_MEMORY_GB
                * (billed_ms as f64 / 1000.0)
                * LAMBDA_ARM64_PER_GB_SECOND,
            dynamodb: rru * DYNAMODB_PER_MILLION_RRU + wru * DYNAMODB_PER_MILLION_WRU,
        }
    }

    pub fn total(&self) -> f64 {
        self.api_gateway + self.lambda_requests + self.lambda_duration + self.dynamodb
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_dynamodb_rules() {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let n = |v: &str| AttributeValue::N(v.to_owned());
        assert_eq!(number_size("1764000000"), 3);
        assert_eq!(number_size("1764000001"), 6);
        assert_eq!(number_size("262"), 3);
        assert_eq!(number_size("0"), 2);
        let item = HashMap::from([
            ("uid".to_owned(), s("abc")),
            ("n".to_owned(), n("12345")),
            ("on".to_owned(), AttributeValue::Bool(true)),
            (
                "m".to_owned(),
                AttributeValue::M(HashMap::from([("k".to_owned(), s("vv"))])),
            ),
        ]);
        // 3+3, 1+4, 2+1, 1+(3+1+1+2)
        assert_eq!(item_size(&item), 6 + 5 + 3 + 8);
        assert_eq!(read_units(4096, true), 1.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(100, false), 0.5);
        assert_eq!(write_units(1024, false), 1.0);
        assert_eq!(write_units(1025, true), 4.0);
    }

    #[test]
    fn a_million_of_nothing_costs_the_fixed_prices() {
        let bill = PerMillion::new(1.0, 0, 0.0, 0.0);
        assert!((bill.total() - 3.70).abs() < 1e-12);
        let one_ms = PerMillion::new(0.0, 1, 0.0, 0.0);
        assert!((one_ms.lambda_duration - 0.001_666_675).abs() < 1e-9);
    }
}
