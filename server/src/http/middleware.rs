//! Layers every request passes through: request id, tracing span, metrics, timeout and
//! panic containment; and, once routed, the check on path parameters.

use std::time::{Duration, Instant};

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request};
use axum::http::HeaderName;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use types::ApiError;

use super::ApiFailure;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the whole router; the first layer listed is the first a request meets.
pub fn wrap(router: Router, timeout: Duration) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(axum::middleware::from_fn(correlate_events))
            .layer(axum::middleware::from_fn(record_metrics))
            .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
                ApiFailure::new(ApiError::internal()).into_response()
            }))
            .layer(axum::middleware::from_fn(move |request: Request, next: Next| time_limit(timeout, request, next))),
    )
}

/// An upload part may take minutes on a slow connection; it is bounded by its size instead.
const UPLOAD_PART_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Stops a request that has not produced its response within `request_timeout_secs`
/// (a response body that streams, like a video, is not cut off).
async fn time_limit(timeout: Duration, request: Request, next: Next) -> Response {
    let limit = if is_upload_part(&request) { timeout.max(UPLOAD_PART_TIMEOUT) } else { timeout };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => super::limits::timed_out().into_response(),
    }
}

pub fn is_upload_part(request: &Request) -> bool {
    request.method() == axum::http::Method::PUT && request.uri().path().starts_with("/uploads/")
}

/// Every log line written while handling a request carries this span's request id.
fn request_span(request: &Request) -> tracing::Span {
    let request_id =
        request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-");
    let span = tracing::info_span!("request", request_id = %request_id, method = %request.method(), path = %request.uri().path());
    // A caller that traces (a proxy, a client) passes its trace on in `traceparent`.
    let incoming = request.headers().get("traceparent").and_then(|v| v.to_str().ok());
    backend::telemetry::continue_trace(&span, incoming);
    span
}

/// Runs the request with its id as the correlation of every event it writes, so the
/// admin can show what one request set off (ADR 0020). A client's own `x-request-id` is
/// kept when it is usable as one (`backend::events::Cause::request`).
async fn correlate_events(request: Request, next: Next) -> Response {
    let request_id = request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok());
    match request_id.and_then(backend::events::Cause::request) {
        Some(cause) => backend::events::cause::within(cause, next.run(request)).await,
        None => next.run(request).await,
    }
}

/// Copies the matched route pattern onto the response so [`record_metrics`], which runs
/// outside routing, can label by route (`/stories/{id}`) instead of by raw path.
pub async fn remember_matched_path(request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(matched);
    }
    response
}

/// Answers 404 when a path parameter (`{id}`, `{token}`, `{name}`…), percent-decoded,
/// holds a control character or is not UTF-8. No id, token or name has one, and such a
/// value reaching a handler ended in a 500: it was echoed into a `Location` header
/// (`/stories/{id}/edit`), which cannot hold control characters. Checked here, after
/// routing and before any handler or page, so every route with a parameter, present or
/// future, is covered in one place.
pub async fn refuse_malformed_path_params(request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let problem = match RawPathParams::from_request_parts(&mut parts, &()).await {
        Ok(params) => params
            .iter()
            .find(|(_, value)| value.chars().any(char::is_control))
            .map(|(name, _)| format!("The address is not valid: its {name} contains a control character.")),
        Err(RawPathParamsRejection::InvalidUtf8InPathParam(err)) => {
            Some(format!("The address is not valid: {}.", err.body_text().trim_end_matches('.')))
        }
        // A route without parameters.
        Err(_) => None,
    };
    match problem {
        Some(message) => ApiFailure::new(ApiError::not_found(message)).into_response(),
        None => next.run(Request::from_parts(parts, body)).await,
    }
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let response = next.run(request).await;
    // Unmatched paths share one label so scanners cannot blow up the series count.
    let route =
        response.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let labels = [("method", method), ("route", route), ("status", response.status().as_u16().to_string())];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}
