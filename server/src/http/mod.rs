//! The HTTP surface: one router for pages, API, operational endpoints and static files.

mod error;
mod middleware;
mod ops;
mod theme;

use std::time::Duration;

use axum::extract::FromRef;
use axum::routing::{any, get, post};
use axum::Router;
use backend::Backend;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use metrics_exporter_prometheus::PrometheusHandle;

pub use error::ApiFailure;

#[derive(Clone)]
pub struct AppState {
    pub backend: Backend,
    pub leptos_options: LeptosOptions,
    pub metrics: PrometheusHandle,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let timeout = Duration::from_secs(state.backend.config.request_timeout_secs);
    let backend = state.backend.clone();
    let shell_options = state.leptos_options.clone();

    let api = Router::new().route("/api", any(error::api_not_found)).route("/api/{*rest}", any(error::api_not_found));

    let router = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/theme", post(theme::set_theme))
        .merge(api)
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(backend.clone()),
            move || app::shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .route_layer(axum::middleware::from_fn(middleware::remember_matched_path))
        .with_state(state);
    middleware::wrap(router, timeout)
}
