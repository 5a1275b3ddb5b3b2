//! Traces over OTLP: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, a story saved over HTTP
//! yields one trace that runs from the HTTP request through `stories.create` and, via
//! the trace context stored with the outbox event, to the event consumer and the search
//! indexer. A small OTLP/HTTP receiver in this test captures what is exported (JSON).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{alone_in_a_process, TestServer};
use axum::routing::post;
use backend::testing::TestDb;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Spans as `(name, trace id, span id, parent span id)`.
type Span = (String, String, String, String);

fn spans_in(batches: &[Value]) -> Vec<Span> {
    let mut spans = Vec::new();
    for batch in batches {
        for resource in batch["resourceSpans"].as_array().into_iter().flatten() {
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    let text = |key: &str| span[key].as_str().unwrap_or_default().to_lowercase();
                    spans.push((text("name"), text("traceId"), text("spanId"), text("parentSpanId")));
                }
            }
        }
    }
    spans
}

/// The `events.consume` span, in the trace of `stories.create`, that has a
/// `search.index` child.
fn indexed_in_story_trace(spans: &[Span]) -> Option<&Span> {
    let trace = &spans.iter().find(|s| s.0 == "stories.create")?.1;
    spans.iter().find(|s| {
        &s.1 == trace
            && s.0 == "events.consume"
            && spans.iter().any(|child| child.0 == "search.index" && &child.1 == trace && child.3 == s.2)
    })
}

/// The OTLP exporter reads its endpoint from the environment when the global tracing
/// subscriber is installed, and both belong to the process: the body runs alone in a
/// child process, started with the variables already set.
#[test]
fn a_story_save_is_one_trace_from_the_request_to_the_indexer() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://127.0.0.1:{port}")),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json".to_string()),
    ];
    alone_in_a_process(
        "telemetry::a_story_save_is_one_trace_from_the_request_to_the_indexer",
        &env,
        story_save_is_one_trace,
    );
}

async fn story_save_is_one_trace() {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = received.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                if let Ok(batch) = serde_json::from_slice::<Value>(&body) {
                    sink.lock().unwrap().push(batch);
                }
                StatusCode::OK
            }
        }),
    );
    // The port the parent chose and put in OTEL_EXPORTER_OTLP_ENDPOINT.
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").unwrap();
    let listener = tokio::net::TcpListener::bind(endpoint.trim_start_matches("http://")).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, collector).await.unwrap() });

    // This process runs only this test, so the global subscriber is ours.
    let dir = tempfile::tempdir().unwrap();
    let config = backend::testing::config(dir.path(), "sqlite::memory:", "http://127.0.0.1:1", "log_level = \"info\"");
    let telemetry = server::telemetry::init_logging(&config);

    let server = TestServer::start(TestDb::sqlite().await).await;
    let ana = TestServer::browser();
    let body = json!({ "email": "ana@example.org", "display_name": "Ana", "password": "a long enough password" });
    assert_eq!(server.post_json(&ana, "/api/v1/auth/signup", body).await.status(), StatusCode::CREATED);
    let legacy: Value =
        server.post_json(&ana, "/api/v1/legacies", json!({ "name": "Rosa" })).await.json().await.unwrap();
    let input = json!({ "legacy_id": legacy["id"], "title": "Traced", "body": "A story about lighthouses.",
        "visibility": "members", "status": "published" });
    assert_eq!(server.post_json(&ana, "/api/v1/stories", input).await.status(), StatusCode::CREATED);

    let telemetry = Arc::new(telemetry);
    let mut spans = Vec::new();
    for _ in 0..100 {
        let flusher = telemetry.clone();
        tokio::task::spawn_blocking(move || flusher.flush()).await.unwrap();
        spans = spans_in(&received.lock().unwrap());
        if indexed_in_story_trace(&spans).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let create =
        spans.iter().find(|s| s.0 == "stories.create").unwrap_or_else(|| panic!("no stories.create in {spans:?}"));
    let in_trace: Vec<&Span> = spans.iter().filter(|s| s.1 == create.1).collect();
    let names: Vec<&str> = in_trace.iter().map(|s| s.0.as_str()).collect();
    let request = in_trace.iter().find(|s| s.0 == "request").unwrap_or_else(|| panic!("no request span: {names:?}"));
    assert!(request.3.is_empty(), "the request span is the trace's root");
    assert!(!create.3.is_empty(), "stories.create runs inside the request");
    let consume = indexed_in_story_trace(&spans)
        .unwrap_or_else(|| panic!("no events.consume → search.index in the story's trace: {names:?}"));
    assert!(!consume.3.is_empty(), "the consumer's span has a parent in the request's trace");
    server.stop().await;
}
