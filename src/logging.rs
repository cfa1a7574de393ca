//! Structured logs, JSON when Lambda asks for it (`AWS_LAMBDA_LOG_FORMAT=JSON`), text otherwise;
//! and the metric records of [`crate::invocation::metrics`], written as bare JSON lines at every
//! level.

use std::fmt::Write as _;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::config::Telemetry;
use crate::invocation::metrics::EMF_TARGET;

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
    EnvFilter::new(format!("warn,twitter_auth_login={level},{EMF_TARGET}=off"))
}

/// The subscriber the functions log through, writing to `writer`.
pub fn subscriber<W>(level: &str, json: bool, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Clone + Send + Sync + 'static,
{
    let metrics = MetricLines {
        writer: writer.clone(),
    }
    .with_filter(filter_fn(|metadata| metadata.target() == EMF_TARGET));
    let logs = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_writer(writer);
    let registry = tracing_subscriber::registry().with(metrics);
    if json {
        let logs = logs
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_filter(filter(level));
        Box::new(registry.with(logs))
    } else {
        // CloudWatch stamps each line itself.
        let logs = logs
            .without_time()
            .with_ansi(false)
            .with_filter(filter(level));
        Box::new(registry.with(logs))
    }
}

/// Writes the message of each metric event as a line of its own, nothing added: CloudWatch
/// reads a log line that is an EMF object as metrics.
struct MetricLines<W> {
    writer: W,
}

impl<S, W> Layer<S> for MetricLines<W>
where
    S: Subscriber,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        message.0.push('\n');
        let _ = self.writer.make_writer().write_all(message.0.as_bytes());
    }
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }
}

/// Installs the subscriber Lambda's settings ask for, on standard output.
pub fn init(telemetry: &Telemetry) {
    let subscriber = subscriber(&telemetry.log_level, telemetry.json_logs, std::io::stdout);
    // Fails only if a subscriber is already installed, which then keeps logging.
    let _ = tracing::subscriber::set_global_default(subscriber);
}
