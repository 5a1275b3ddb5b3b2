//! Trace context across the event backbone: the request's W3C `traceparent` is stored
//! with each event it writes, and the span of each delivery continues that trace, so a
//! trace shows a story's save from the HTTP request to the search indexer. Exporting
//! spans (OTLP) is the server's business; without an exporter these are no-ops.

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The current span's trace context as a `traceparent` value, when it is being traced.
pub fn current_trace_parent() -> Option<String> {
    let context = tracing::Span::current().context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = std::collections::HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove("traceparent")
}

/// Makes `span` a child of the trace named by `trace_parent` (a stored or received
/// `traceparent`); nothing happens without one or with one that does not parse.
pub fn continue_trace(span: &tracing::Span, trace_parent: Option<&str>) {
    let Some(trace_parent) = trace_parent else { return };
    let carrier = std::collections::HashMap::from([("traceparent".to_string(), trace_parent.to_string())]);
    let parent = TraceContextPropagator::new().extract(&carrier);
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}
