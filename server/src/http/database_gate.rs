//! Fails requests fast while the database cannot be reached. Without it every request
//! in an outage waits out the pool's acquire timeout (sqlx retries a refused connection
//! until then) and the outage fills the server with waiting requests. The first response
//! that failed for want of the database closes the gate; while closed, every request that
//! needs the database gets a 503 at once, and one task probes the database twice a second
//! and opens the gate as soon as it answers. Static files and the operational endpoints
//! pass regardless (`/readyz` tells the outage to the load balancer).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use backend::db::Db;
use types::ApiError;

use super::error::DatabaseUnreachable;
use super::{ApiFailure, AppState};

const PROBE_EVERY: Duration = Duration::from_millis(500);
/// A probe shorter than the acquire timeout: an answer within it means the database is back.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
pub(super) const MESSAGE: &str = "The database cannot be reached right now. Try again shortly.";

/// The typed 503 of a closed gate, the same as a request that found the database down.
pub(super) fn closed() -> ApiError {
    ApiError::unavailable(MESSAGE).with_code(types::ErrorCode::DatabaseUnreachable)
}

#[derive(Debug)]
pub struct DatabaseGate {
    db: Db,
    closed: AtomicBool,
}

impl DatabaseGate {
    pub fn new(db: Db) -> Arc<DatabaseGate> {
        Arc::new(DatabaseGate { db, closed: AtomicBool::new(false) })
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the gate and starts the probe, unless it is closed already.
    fn close(self: &Arc<Self>) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::warn!("database unreachable: failing requests fast until it answers again");
        metrics::counter!("heirloom_database_gate_closed_total").increment(1);
        let gate = Arc::clone(self);
        tokio::spawn(async move {
            let down_since = std::time::Instant::now();
            loop {
                tokio::time::sleep(PROBE_EVERY).await;
                if let Ok(Ok(())) = tokio::time::timeout(PROBE_TIMEOUT, gate.db.ping()).await {
                    break;
                }
            }
            gate.closed.store(false, Ordering::Release);
            tracing::info!(down_ms = down_since.elapsed().as_millis() as u64, "database answers again");
        });
    }
}

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if super::session::is_static_or_ops(request.uri().path()) {
        return next.run(request).await;
    }
    let wants_html = super::session::accepts_html(request.headers());
    if state.database_gate.is_closed() {
        return unavailable(wants_html);
    }
    let response = next.run(request).await;
    if response.extensions().get::<DatabaseUnreachable>().is_some() {
        state.database_gate.close();
    }
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        // The session layer answers a session it could not save with a bare 500 (every
        // response of ours has a body); its store is the database, so say so.
        return unavailable(wants_html);
    }
    response
}

/// The 503 a closed gate answers with: a page for a browser, the typed error otherwise.
fn unavailable(wants_html: bool) -> Response {
    let mut response = if wants_html {
        let page = format!(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Heirloom is unavailable</title>\
             <body><h1>Heirloom is unavailable</h1><p>{MESSAGE}</p></body></html>"
        );
        (StatusCode::SERVICE_UNAVAILABLE, Html(page)).into_response()
    } else {
        ApiFailure::new(closed()).into_response()
    };
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}
