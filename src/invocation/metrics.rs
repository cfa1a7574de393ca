//! One CloudWatch Embedded Metric Format record per request: the outcome, the latency, and the
//! time spent on DynamoDB and Twitter. CloudWatch turns the log line into metrics, so the
//! dashboard and alarms cost no metrics API call on the request path.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::invocation::deadline::DependencyTime;

/// The tracing target of the records; the logging setup writes them as bare JSON lines,
/// whatever the log level.
pub const EMF_TARGET: &str = "emf";

/// The metrics' namespace when start-up names none.
pub const DEFAULT_NAMESPACE: &str = "TwitterAuthLogin";

/// What one request's record says.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The function's operation: `twitterAuthLogin`, `refreshToken`, `tokenAuthorizer`...
    pub operation: &'a str,
    /// The answer's code (`200`, `5032`...); the authorizer's decision (`allow`, `deny`,
    /// `unauthorized`, `error`).
    pub outcome: &'a str,
    pub latency: Duration,
    pub time: DependencyTime,
    /// A rotated refresh token came back after its grace window.
    pub reuse_detected: bool,
}

static NAMESPACE: OnceLock<String> = OnceLock::new();

/// Names the namespace of every record this process writes; start-up calls it once, from the
/// configuration.
pub fn set_namespace(namespace: &str) {
    let _ = NAMESPACE.set(namespace.to_owned());
}

fn namespace() -> &'static str {
    NAMESPACE.get().map_or(DEFAULT_NAMESPACE, String::as_str)
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The record as one EMF JSON line.
pub fn to_json(record: &Record<'_>, namespace: &str, timestamp_ms: u64) -> String {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Operation"], ["Operation", "Outcome"]],
                "Metrics": [
                    {"Name": "Requests", "Unit": "Count"},
                    {"Name": "Latency", "Unit": "Milliseconds"},
                    {"Name": "DynamoDbTime", "Unit": "Milliseconds"},
                    {"Name": "TwitterTime", "Unit": "Milliseconds"},
                    {"Name": "ReuseDetections", "Unit": "Count"}
                ]
            }]
        },
        "Operation": record.operation,
        "Outcome": record.outcome,
        "Requests": 1,
        "Latency": milliseconds(record.latency),
        "DynamoDbTime": milliseconds(record.time.dynamodb),
        "TwitterTime": milliseconds(record.time.twitter),
        "ReuseDetections": u8::from(record.reuse_detected)
    })
    .to_string()
}

/// Writes the record, through the logging setup, as a line of its own.
pub fn emit(record: &Record<'_>) {
    let timestamp_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let line = to_json(record, namespace(), timestamp_ms);
    tracing::info!(target: EMF_TARGET, "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_record_is_emf_with_its_dimensions_and_values() {
        let record = Record {
            operation: "refreshToken",
            outcome: "5032",
            latency: Duration::from_micros(12_500),
            time: DependencyTime {
                dynamodb: Duration::from_millis(7),
                twitter: Duration::ZERO,
                keys: Duration::ZERO,
            },
            reuse_detected: true,
        };
        let json: Value =
            serde_json::from_str(&to_json(&record, "NS", 1_700_000_000_000)).expect("json");
        assert_eq!(json["_aws"]["Timestamp"], 1_700_000_000_000u64);
        let directive = &json["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "NS");
        // Every dimension and metric the directive names is a member of the record.
        for dimensions in directive["Dimensions"].as_array().expect("dimensions") {
            for name in dimensions.as_array().expect("set") {
                assert!(json[name.as_str().expect("name")].is_string(), "{name}");
            }
        }
        for metric in directive["Metrics"].as_array().expect("metrics") {
            assert!(
                json[metric["Name"].as_str().expect("name")].is_number(),
                "{metric}"
            );
        }
        assert_eq!(json["Operation"], "refreshToken");
        assert_eq!(json["Outcome"], "5032");
        assert_eq!(json["Requests"], 1);
        assert_eq!(json["Latency"], 12.5);
        assert_eq!(json["DynamoDbTime"], 7.0);
        assert_eq!(json["TwitterTime"], 0.0);
        assert_eq!(json["ReuseDetections"], 1);
    }
}
