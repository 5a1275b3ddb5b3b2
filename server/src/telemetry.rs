//! Logs as JSON lines (or human-readable text), each carrying the request id of the
//! request it belongs to; traces exported over OTLP/HTTP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the standard OpenTelemetry variables apply:
//! `OTEL_EXPORTER_OTLP_PROTOCOL` `http/protobuf` or `http/json`, `OTEL_SERVICE_NAME`…);
//! and the Prometheus recorder behind `/metrics`.

use std::sync::OnceLock;

use backend::config::{Config, LogFormat};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{EnvFilter, Layer};

/// Flushes and stops trace export when dropped (at the end of `serve`).
pub struct Telemetry {
    tracer_provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Sends every span still buffered; the test that captures spans calls it.
    pub fn flush(&self) {
        if let Some(provider) = &self.tracer_provider {
            let _ = provider.force_flush();
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.tracer_provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// The OTLP exporter the environment asks for, if any.
fn tracer_provider() -> Option<opentelemetry_sdk::trace::SdkTracerProvider> {
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok().filter(|e| !e.trim().is_empty())?;
    let protocol = match std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() {
        Ok("http/json") => Protocol::HttpJson,
        _ => Protocol::HttpBinary,
    };
    let traces_url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .with_endpoint(traces_url)
        .build()
    {
        Ok(exporter) => exporter,
        Err(err) => {
            eprintln!("heirloom: warning: traces will not be exported: {err}");
            return None;
        }
    };
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "heirloom".into());
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service).build();
    Some(
        opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    )
}

/// Installs the global log subscriber. `RUST_LOG`, when set, wins over the config.
pub fn init_logging(config: &Config) -> Telemetry {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let wanted = std::env::var("RUST_LOG").ok().filter(|v| !v.trim().is_empty()).unwrap_or(config.log_level.clone());
    let mut filter = EnvFilter::try_new(&wanted).unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    // The search index (tantivy) logs every commit and merge at info and debug; only its
    // warnings concern an operator, unless the filter asks for tantivy by name.
    if !wanted.contains("tantivy") {
        if let Ok(quiet) = "tantivy=warn".parse() {
            filter = filter.add_directive(quiet);
        }
    }
    let tracer_provider = tracer_provider();
    let otel = tracer_provider
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("heirloom")));
    let fmt = match config.log_format {
        LogFormat::Json => json_lines(std::io::stdout).boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_writer(std::io::stdout).boxed(),
    };
    let _ = tracing_subscriber::registry().with(request_ids::RequestIds).with(filter).with(fmt).with(otel).try_init();
    Telemetry { tracer_provider }
}

/// The process-wide metrics recorder, installed on first use (tests start several
/// routers in one process; they share it).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // The bucket list below is a non-empty constant, so set_buckets_for_metric cannot fail.
            #[allow(clippy::expect_used)]
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

/// One JSON object per line: the event's fields flattened, its innermost span as `span`,
/// and the id of the request it was logged in (if any) as `request_id`. Use it beneath
/// [`request_ids::RequestIds`].
fn json_lines<S, W>(writer: W) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
        .event_format(request_ids::WithRequestId(
            tracing_subscriber::fmt::format().json().with_current_span(true).with_span_list(false).flatten_event(true),
        ))
}

/// `request_id` at the top of every JSON line logged while a request is handled. The
/// request's span (`http::middleware`) holds it, but a line logged inside a nested span
/// (a service's own, an event delivery) shows only that innermost span: the line that
/// names why a request failed would lose it.
mod request_ids {
    use std::fmt;

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id};
    use tracing::{Event, Subscriber};
    use tracing_subscriber::fmt::format::Writer;
    use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
    use tracing_subscriber::layer::Context;
    use tracing_subscriber::registry::LookupSpan;
    use tracing_subscriber::Layer;

    /// A span's `request_id`, kept in its extensions.
    struct RequestId(String);

    /// Keeps the `request_id` field of any span that has one where the formatter finds it.
    pub struct RequestIds;

    impl<S> Layer<S> for RequestIds
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
            let mut found = Found(None);
            attrs.record(&mut found);
            if let (Some(request_id), Some(span)) = (found.0, ctx.span(id)) {
                span.extensions_mut().insert(RequestId(request_id));
            }
        }
    }

    struct Found(Option<String>);

    impl Visit for Found {
        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "request_id" {
                self.0 = Some(value.to_string());
            }
        }

        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            if field.name() == "request_id" {
                self.0 = Some(format!("{value:?}"));
            }
        }
    }

    /// A JSON line formatter that puts the enclosing request's id first.
    pub struct WithRequestId<F>(pub F);

    impl<S, N, F> FormatEvent<S, N> for WithRequestId<F>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        N: for<'a> FormatFields<'a> + 'static,
        F: FormatEvent<S, N>,
    {
        fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
            let request_id = ctx.event_scope().and_then(|scope| {
                scope.from_root().find_map(|span| span.extensions().get::<RequestId>().map(|id| id.0.clone()))
            });
            let Some(request_id) = request_id else { return self.0.format_event(ctx, writer, event) };
            let mut line = String::new();
            self.0.format_event(ctx, Writer::new(&mut line), event)?;
            match line.strip_prefix('{') {
                Some(rest) => {
                    let quoted = serde_json::to_string(&request_id).map_err(|_| fmt::Error)?;
                    write!(writer, "{{\"request_id\":{quoted},")?;
                    writer.write_str(rest)
                }
                None => writer.write_str(&line),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_of_a_request_carries_its_id_however_deep_it_is_logged() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber =
            tracing_subscriber::registry().with(request_ids::RequestIds).with(json_lines(move || writer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let request = tracing::info_span!("request", request_id = %"req-42", path = "/x");
            let _request = request.enter();
            tracing::info!("at the top");
            let service = tracing::info_span!("stories.create", legacy = "l1");
            let _service = service.enter();
            let nested = tracing::info_span!("db.write");
            let _nested = nested.enter();
            tracing::error!(error = "database or disk is full", "internal error");
        });
        tracing::subscriber::with_default(
            tracing_subscriber::registry().with(request_ids::RequestIds).with(json_lines({
                let writer = lines.clone();
                move || writer.clone()
            })),
            || tracing::info!("outside any request"),
        );
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let entries: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(entries.len(), 3, "{text}");
        assert_eq!(entries[0]["request_id"], "req-42", "{text}");
        assert_eq!(entries[0]["span"]["request_id"], "req-42", "{text}");
        assert_eq!(entries[1]["request_id"], "req-42", "{text}");
        assert_eq!(entries[1]["error"], "database or disk is full");
        assert_eq!(entries[1]["span"]["name"], "db.write", "the innermost span is still named");
        assert!(entries[2].get("request_id").is_none(), "{text}");
    }
}
