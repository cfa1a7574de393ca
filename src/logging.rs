//! Structured logs: JSON when Lambda asks for it (`AWS_LAMBDA_LOG_FORMAT=JSON`), text otherwise.

use tracing_subscriber::EnvFilter;

/// Our own crate logs at the level Lambda asks for (`AWS_LAMBDA_LOG_LEVEL`, default INFO).
/// Every dependency is held at `warn` or above whatever is asked, because the AWS SDK's and
/// HTTP clients' debug and trace logs print requests and responses, and with them secrets and
/// token hashes.
pub fn filter(level: &str) -> EnvFilter {
    let level = match level.to_ascii_lowercase().as_str() {
        "trace" => "trace",
        "debug" => "debug",
        "warn" => "warn",
        "error" | "fatal" => "error",
        _ => "info",
    };
    EnvFilter::new(format!("warn,twitter_auth_login={level}"))
}

pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").unwrap_or_default();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(&level))
        .with_target(false);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        // CloudWatch stamps each line itself.
        builder.without_time().with_ansi(false).init();
    }
}
