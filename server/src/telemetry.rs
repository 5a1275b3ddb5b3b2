//! Logs as JSON lines (or human-readable text), each carrying the request id of the
//! request it belongs to, and the Prometheus recorder behind `/metrics`.

use std::sync::OnceLock;

use backend::config::{Config, LogFormat};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

/// Installs the global log subscriber. `RUST_LOG`, when set, wins over the config.
pub fn init_logging(config: &Config) {
    let wanted = std::env::var("RUST_LOG").ok().filter(|v| !v.trim().is_empty()).unwrap_or(config.log_level.clone());
    let mut filter = EnvFilter::try_new(&wanted).unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    // The search index (tantivy) logs every commit and merge at info and debug; only its
    // warnings concern an operator, unless the filter asks for tantivy by name.
    if !wanted.contains("tantivy") {
        if let Ok(quiet) = "tantivy=warn".parse() {
            filter = filter.add_directive(quiet);
        }
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stdout);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// The process-wide metrics recorder, installed on first use (tests start several
/// routers in one process; they share it).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0],
                )
                .expect("bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may exist only if an embedding program installed one.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
