//! Structured logs: JSON when Lambda asks for it (`AWS_LAMBDA_LOG_FORMAT=JSON`), text otherwise.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

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

/// The subscriber the function logs through, writing to `writer`.
pub fn subscriber<W>(level: &str, json: bool, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_target(false)
        .with_writer(writer);
    if json {
        Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .finish(),
        )
    } else {
        // CloudWatch stamps each line itself.
        Box::new(builder.without_time().with_ansi(false).finish())
    }
}

/// Installs the subscriber Lambda's settings ask for, on standard output.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").unwrap_or_default();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // Fails only if a subscriber is already installed, which then keeps logging.
    let _ = tracing::subscriber::set_global_default(subscriber(&level, json, std::io::stdout));
}
