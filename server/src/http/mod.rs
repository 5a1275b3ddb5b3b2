//! The HTTP surface: one router for pages, API, operational endpoints and static files.

mod admin_forms;
pub mod assets;
mod auth;
mod calls_api;
mod csrf;
mod database_gate;
mod error;
mod extract;
mod form;
mod limits;
mod media_api;
mod middleware;
mod ops;
mod search_api;
mod security;
pub mod session;
mod stories_api;
mod stories_forms;
mod theme;
mod tips_api;
mod tips_forms;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::extract::FromRef;
use axum::middleware::from_fn_with_state;
use axum::routing::{any, delete, get, post, put};
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
    pub write_limiter: limits::WriteLimiter,
    pub search_limiter: limits::WriteLimiter,
    pub database_gate: std::sync::Arc<database_gate::DatabaseGate>,
}

impl AppState {
    pub fn new(backend: Backend, leptos_options: LeptosOptions, metrics: PrometheusHandle) -> AppState {
        let write_limiter = limits::write_limiter(backend.config.writes_per_minute_per_ip);
        let search_limiter = limits::write_limiter(backend.config.searches_per_minute_per_ip);
        let database_gate = database_gate::DatabaseGate::new(backend.db.clone());
        AppState { backend, leptos_options, metrics, write_limiter, search_limiter, database_gate }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Request body limits: account forms and JSON are small; story bodies may be long.
const SMALL_BODY: usize = 64 * 1024;
const STORY_BODY: usize = 8 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let timeout = Duration::from_secs(state.backend.config.request_timeout_secs);
    let backend = state.backend.clone();
    let shell_options = state.leptos_options.clone();
    let site_root = std::path::PathBuf::from(state.leptos_options.site_root.as_ref());

    let auth_forms = Router::new()
        .route("/auth/signup", post(auth::sign_up))
        .route("/auth/signin", post(auth::sign_in))
        .route("/auth/signout", post(auth::sign_out))
        .route("/auth/password", post(auth::change_password))
        .route("/auth/sessions/revoke", post(auth::revoke_session))
        .route("/auth/sessions/revoke-others", post(auth::revoke_other_sessions))
        .route("/auth/oidc/{provider}/start", get(auth::oidc_start))
        .route("/auth/oidc/{provider}/callback", get(auth::oidc_callback))
        .layer(DefaultBodyLimit::max(SMALL_BODY));

    let story_forms = Router::new()
        .route("/legacies", post(stories_forms::create_legacy))
        .route("/legacies/{id}/stories", post(stories_forms::create_story))
        .route("/legacies/{id}/invitations", post(stories_forms::invite))
        .route("/legacies/{id}/members/{user_id}", post(stories_forms::set_member))
        .route("/stories/{id}", post(stories_forms::update_story))
        .route("/stories/{id}/delete", post(stories_forms::delete_story))
        .route("/stories/{id}/restore", post(stories_forms::restore))
        .route("/stories/{id}/flag", post(stories_forms::flag))
        .route("/invitations/{token}/accept", post(stories_forms::accept_invitation))
        .route("/moderation/{id}", post(stories_forms::resolve_flag))
        .layer(DefaultBodyLimit::max(STORY_BODY));

    let admin_forms = Router::new()
        .route("/admin/webhooks", post(admin_forms::create_webhook))
        .route("/admin/webhooks/{id}/delete", post(admin_forms::delete_webhook))
        .route("/admin/dead-letters/{consumer}/{message_id}/retry", post(admin_forms::retry_dead_letter))
        .route("/admin/dead-letters/{consumer}/{message_id}/discard", post(admin_forms::discard_dead_letter))
        .layer(DefaultBodyLimit::max(SMALL_BODY));

    // Account endpoints take small JSON or forms.
    let account_api = Router::new()
        .route("/api/v1/auth/signup", post(auth::sign_up))
        .route("/api/v1/auth/signin", post(auth::sign_in))
        .route("/api/v1/auth/signout", post(auth::sign_out))
        .route("/api/v1/auth/password", post(auth::change_password))
        .route("/api/v1/me", get(auth::me))
        .route("/api/v1/me/sessions", get(auth::my_sessions))
        .route("/api/v1/me/sessions/revoke", post(auth::revoke_session))
        .route("/api/v1/me/sessions/revoke-others", post(auth::revoke_other_sessions))
        .route("/api/v1/signup-invites", post(auth::create_invite))
        .layer(DefaultBodyLimit::max(SMALL_BODY));

    // A call's body may be up to `calls_max_body_bytes`; its JSON encoding a little more.
    let calls_body = usize::try_from(state.backend.config.calls_max_body_bytes).unwrap_or(usize::MAX).saturating_mul(2);
    let calls_api = Router::new()
        .route("/api/v1/calls", get(calls_api::list).post(calls_api::submit))
        .route("/api/v1/calls/{id}", get(calls_api::detail))
        .route("/api/v1/webhooks", get(calls_api::webhooks).post(calls_api::create_webhook))
        .route("/api/v1/webhooks/{id}", delete(calls_api::delete_webhook))
        .route("/api/v1/dead-letters", get(calls_api::dead_letters))
        .route("/api/v1/dead-letters/{consumer}/{message_id}", delete(calls_api::discard_dead_letter))
        .route("/api/v1/dead-letters/{consumer}/{message_id}/retry", post(calls_api::retry_dead_letter))
        .layer(DefaultBodyLimit::max(calls_body.saturating_add(SMALL_BODY)));

    let search_api = Router::new()
        .route("/api/v1/search", get(search_api::search))
        .route("/api/v1/search/suggest", get(search_api::suggest))
        .route("/api/v1/search/reindex", post(search_api::reindex))
        .layer(DefaultBodyLimit::max(SMALL_BODY));

    // Upload parts stream to storage (bounded by the part size there); the rest is small JSON.
    let media_api = Router::new()
        .route("/api/v1/uploads", post(media_api::request_upload))
        .route("/api/v1/uploads/{id}", get(media_api::upload_status).delete(media_api::cancel_upload))
        .route("/api/v1/uploads/{id}/complete", post(media_api::complete_upload))
        .route(
            "/api/v1/media/{id}",
            get(media_api::get_media).patch(media_api::set_caption).delete(media_api::delete_media),
        )
        .route("/api/v1/media/{id}/retry", post(media_api::retry))
        .route("/api/v1/legacies/{id}/media", get(media_api::legacy_media))
        .route("/api/v1/stories/{id}/media", get(media_api::story_media))
        .layer(DefaultBodyLimit::max(SMALL_BODY));
    let media_files = Router::new()
        .route("/uploads/{id}/parts/{number}", put(media_api::put_part))
        .route("/media/{id}", get(media_api::locate))
        .route("/media/{id}/{variant}", get(media_api::serve))
        .layer(DefaultBodyLimit::disable());

    let tips_api = Router::new()
        .route("/api/v1/recommend", post(tips_api::recommend))
        .route("/api/v1/tips/{id}/feedback", post(tips_api::feedback))
        .route("/api/v1/connectors", get(tips_api::connectors))
        .route("/api/v1/connectors/{name}", delete(tips_api::disconnect))
        .route("/api/v1/connectors/{name}/sync", post(tips_api::sync))
        .layer(DefaultBodyLimit::max(SMALL_BODY));
    // The browser's legs of a connector's OAuth flow.
    let connector_redirects = Router::new()
        .route("/connectors/{name}/connect", get(tips_api::connect))
        .route("/connectors/{name}/callback", get(tips_api::callback))
        .route("/connectors/{name}/sync", post(tips_forms::sync))
        .route("/connectors/{name}/disconnect", post(tips_forms::disconnect))
        .layer(DefaultBodyLimit::max(SMALL_BODY));

    let api = Router::new()
        .route("/api/v1/openapi.json", get(stories_api::openapi))
        .route("/api/v1/legacies", get(stories_api::my_legacies).post(stories_api::create_legacy))
        .route("/api/v1/legacies/{id}", get(stories_api::get_legacy))
        .route("/api/v1/legacies/{id}/members", get(stories_api::members))
        .route(
            "/api/v1/legacies/{id}/members/{user_id}",
            put(stories_api::set_member).delete(stories_api::remove_member),
        )
        .route("/api/v1/legacies/{id}/invitations", post(stories_api::invite))
        .route("/api/v1/invitations/{token}/accept", post(stories_api::accept_invitation))
        .route("/api/v1/stories", get(stories_api::list_stories).post(stories_api::create_story))
        .route(
            "/api/v1/stories/{id}",
            get(stories_api::get_story).put(stories_api::update_story).delete(stories_api::delete_story),
        )
        .route("/api/v1/stories/{id}/revisions", get(stories_api::revisions))
        .route("/api/v1/stories/{id}/revisions/{version}", get(stories_api::revision))
        .route("/api/v1/stories/{id}/revisions/{version}/restore", post(stories_api::restore))
        .route("/api/v1/stories/{id}/flags", post(stories_api::flag))
        .route("/api/v1/moderation/flags", get(stories_api::moderation_queue))
        .route("/api/v1/moderation/flags/{id}", post(stories_api::resolve_flag))
        // Story bodies may be up to 1 MB of Markdown; larger ones get a field error from the
        // service rather than a bare 413, so the limit here is generous.
        .layer(DefaultBodyLimit::max(STORY_BODY))
        .merge(account_api)
        .merge(calls_api)
        .merge(search_api)
        .merge(media_api)
        .merge(tips_api)
        .route("/api", any(error::api_not_found))
        .route("/api/{*rest}", any(error::api_not_found));

    let router = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/theme", post(theme::set_theme))
        .merge(auth_forms)
        .merge(story_forms)
        .merge(admin_forms)
        .merge(api)
        .merge(media_files)
        .merge(connector_redirects)
        .nest_service("/pkg", assets::service(&site_root, "pkg"))
        .nest_service("/editor", assets::service(&site_root, "editor"))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(backend.clone()),
            move || app::shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(axum::middleware::from_fn(error::server_fn_errors))
        // Listed innermost first: a refused parameter is still counted under its route.
        .route_layer(axum::middleware::from_fn(middleware::refuse_malformed_path_params))
        .route_layer(axum::middleware::from_fn(middleware::remember_matched_path))
        // Listed innermost first: CSRF runs before the session is loaded, then the user is resolved.
        .layer(from_fn_with_state(state.clone(), session::resolve_user))
        .layer(session::layer(&state.backend))
        // Outside the session layer: a closed gate costs no session lookup.
        .layer(from_fn_with_state(state.clone(), database_gate::guard))
        .layer(from_fn_with_state(state.clone(), csrf::same_origin_only))
        .layer(from_fn_with_state(state.clone(), limits::limit_writes))
        .layer(from_fn_with_state(state.clone(), limits::limit_searches))
        .layer(from_fn_with_state(state.clone(), security::headers))
        .with_state(state);
    middleware::wrap(router, timeout)
}
