//! Endpoints for orchestrators and monitoring: liveness, readiness, Prometheus metrics.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::{ApiFailure, AppState};

/// The process is up and answering.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// The instance can serve: database reachable and fully migrated.
pub async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiFailure> {
    if state.database_gate.is_closed() {
        // Known to be down: answer at once rather than wait out the pool's acquire timeout.
        return Err(ApiFailure::new(super::database_gate::closed()));
    }
    state.backend.readiness().await?;
    Ok(Json(json!({ "status": "ready", "database": format!("{:?}", state.backend.db().engine()).to_lowercase() })))
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}
