//! The HTTP surface: one router for pages, API, operational endpoints and static files.
//! Every path comes from the route table (`types::routes`), which the app's router and
//! the OpenAPI document read too. An operation a page's form and the REST API both
//! offer has one handler, mounted at both paths (see `form`).

pub mod assets;
mod auth;
mod calls_api;
mod conversation_api;
mod csrf;
mod database_gate;
mod error;
mod extract;
mod feed_api;
mod form;
mod limits;
mod media_api;
mod middleware;
mod notifications_api;
mod ops;
mod page_cache;
mod people_api;
mod search_api;
mod security;
pub mod session;
mod stories_api;
mod stream_api;
mod theme;
mod tips_api;

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
use types::routes::{self, api, browser};

pub use error::ApiFailure;

/// What every handler and middleware shares. Cloned for each middleware with state on
/// each request, so it is one `Arc`: a profile of the kept-page path found about 14% of
/// the server's samples in cloning and dropping the backend's two dozen `Arc`s and the
/// Leptos options' strings, field by field, several times a request.
#[derive(Clone)]
pub struct AppState(std::sync::Arc<Shared>);

pub struct Shared {
    pub backend: Backend,
    pub leptos_options: LeptosOptions,
    pub metrics: PrometheusHandle,
    pub write_limiter: limits::WriteLimiter,
    pub search_limiter: limits::WriteLimiter,
    pub database_gate: std::sync::Arc<database_gate::DatabaseGate>,
    /// Signed-out readers' pages, kept while nothing changed.
    pub page_cache: page_cache::PageCache,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(backend: Backend, leptos_options: LeptosOptions, metrics: PrometheusHandle) -> AppState {
        let write_limiter = limits::write_limiter(backend.config.writes_per_minute_per_ip);
        let search_limiter = limits::write_limiter(backend.config.searches_per_minute_per_ip);
        let database_gate = database_gate::DatabaseGate::new(backend.db().clone());
        let page_cache = page_cache::PageCache::default();
        let shared =
            Shared { backend, leptos_options, metrics, write_limiter, search_limiter, database_gate, page_cache };
        AppState(std::sync::Arc::new(shared))
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

    // Account endpoints take small JSON or forms; each handler answers in the caller's mode.
    let account = Router::new()
        .route(routes::form::SIGN_UP, post(auth::sign_up))
        .route(api::SIGN_UP, post(auth::sign_up))
        .route(routes::form::SIGN_IN, post(auth::sign_in))
        .route(api::SIGN_IN, post(auth::sign_in))
        .route(routes::form::SIGN_OUT, post(auth::sign_out))
        .route(api::SIGN_OUT, post(auth::sign_out))
        .route(routes::form::PASSWORD, post(auth::change_password))
        .route(api::PASSWORD, post(auth::change_password))
        .route(routes::form::FORGOT_PASSWORD, post(auth::forgot_password))
        .route(api::FORGOT_PASSWORD, post(auth::forgot_password))
        .route(routes::form::RESET_PASSWORD, post(auth::reset_password))
        .route(api::RESET_PASSWORD, post(auth::reset_password))
        .route(routes::form::VERIFY_EMAIL, post(auth::verify_email))
        .route(api::VERIFY_EMAIL, post(auth::verify_email))
        .route(routes::form::SEND_VERIFICATION, post(auth::send_verification))
        .route(api::SEND_VERIFICATION, post(auth::send_verification))
        .route(routes::form::REVOKE_SESSION, post(auth::revoke_session))
        .route(api::REVOKE_SESSION, post(auth::revoke_session))
        .route(routes::form::REVOKE_OTHER_SESSIONS, post(auth::revoke_other_sessions))
        .route(api::REVOKE_OTHER_SESSIONS, post(auth::revoke_other_sessions))
        .route(browser::OIDC_START, get(auth::oidc_start))
        .route(browser::OIDC_CALLBACK, get(auth::oidc_callback))
        .route(api::ME, get(auth::me))
        .route(api::MY_SESSIONS, get(auth::my_sessions))
        .route(api::SIGNUP_INVITES, post(auth::create_invite))
        .layer(DefaultBodyLimit::max(SMALL_BODY));

    // Story bodies may be up to 1 MB of Markdown; larger ones get a field error from the
    // service rather than a bare 413, so the limit here is generous.
    let stories = Router::new()
        .route(api::OPENAPI, get(stories_api::openapi))
        .route(api::LEGACIES, get(stories_api::my_legacies).post(stories_api::create_legacy))
        .route(routes::form::CREATE_LEGACY, post(stories_api::create_legacy))
        .route(api::LEGACY, get(stories_api::get_legacy).put(stories_api::update_legacy))
        .route(routes::form::UPDATE_LEGACY, post(stories_api::update_legacy))
        .route(api::MEMBERS, get(stories_api::members))
        .route(api::MEMBER, put(stories_api::set_member).delete(stories_api::remove_member))
        .route(routes::form::SET_MEMBER, post(stories_api::set_member))
        .route(api::INVITATIONS, post(stories_api::invite))
        .route(routes::form::INVITE, post(stories_api::invite))
        .route(api::ACCEPT_INVITATION, post(stories_api::accept_invitation))
        .route(routes::form::ACCEPT_INVITATION, post(stories_api::accept_invitation))
        .route(api::STORIES, get(stories_api::list_stories).post(stories_api::create_story))
        .route(routes::form::CREATE_STORY, post(stories_api::create_story))
        .route(api::STORY, get(stories_api::get_story).put(stories_api::update_story).delete(stories_api::delete_story))
        .route(routes::form::UPDATE_STORY, post(stories_api::update_story))
        .route(routes::form::DELETE_STORY, post(stories_api::delete_story))
        .route(api::REVISIONS, get(stories_api::revisions))
        .route(api::REVISION, get(stories_api::revision))
        .route(api::RESTORE, post(stories_api::restore))
        .route(routes::form::RESTORE, post(stories_api::restore))
        .route(api::FLAGS, post(stories_api::flag))
        .route(routes::form::FLAG, post(stories_api::flag))
        .route(api::MODERATION_FLAGS, get(stories_api::moderation_queue))
        .route(api::MODERATION_FLAG, post(stories_api::resolve_flag))
        .route(routes::form::RESOLVE_FLAG, post(stories_api::resolve_flag))
        .layer(DefaultBodyLimit::max(STORY_BODY));

    let people = Router::new()
        .route(api::PEOPLE, get(people_api::list).post(people_api::create))
        .route(routes::form::CREATE_PERSON, post(people_api::create))
        .route(api::PERSON, get(people_api::get).put(people_api::update).delete(people_api::delete))
        .route(routes::form::UPDATE_PERSON, post(people_api::update))
        .route(routes::form::DELETE_PERSON, post(people_api::delete))
        .route(api::FAMILY, get(people_api::family))
        .route(api::RELATIONSHIPS, post(people_api::relate))
        .route(routes::form::RELATE, post(people_api::relate))
        .route(api::RELATIONSHIP, delete(people_api::unrelate))
        .route(routes::form::UNRELATE, post(people_api::unrelate))
        .route(api::KINSHIP, get(people_api::kinship))
        .route(api::TREE, get(people_api::tree))
        .route(api::RELATIVES, get(people_api::relatives))
        .route(api::PERSON_ME, put(people_api::claim).delete(people_api::unclaim))
        .route(routes::form::CLAIM_PERSON, post(people_api::claim))
        .route(routes::form::UNCLAIM_PERSON, post(people_api::unclaim))
        .route(api::PERSON_MEDIA, get(people_api::person_media))
        .route(api::PORTRAIT, put(people_api::set_portrait).delete(people_api::remove_portrait))
        .route(routes::form::SET_PORTRAIT, post(people_api::set_portrait))
        .route(api::MEDIA_PERSON, put(people_api::tag).delete(people_api::untag))
        .route(routes::form::TAG_PERSON, post(people_api::tag_form))
        .route(routes::form::UNTAG_PERSON, post(people_api::untag_form))
        .layer(DefaultBodyLimit::max(STORY_BODY));
    let gedcom = Router::new()
        .route(api::GEDCOM, get(people_api::export_gedcom).post(people_api::import_gedcom))
        .route(routes::form::IMPORT_GEDCOM, post(people_api::import_gedcom_form))
        .route(api::GEDCOM_IMPORT, get(people_api::import_job))
        .layer(DefaultBodyLimit::max(backend::people::exchange::FILE_MAX_BYTES));

    // A call's body may be up to `calls_max_body_bytes`; its JSON encoding a little more.
    let calls_body = usize::try_from(state.backend.config.calls_max_body_bytes).unwrap_or(usize::MAX).saturating_mul(2);
    let calls = Router::new()
        .route(api::CALLS, get(calls_api::list).post(calls_api::submit))
        .route(api::CALL, get(calls_api::detail))
        .route(api::WEBHOOKS, get(calls_api::webhooks).post(calls_api::create_webhook))
        .route(api::WEBHOOK, delete(calls_api::delete_webhook))
        .route(api::DEAD_LETTERS, get(calls_api::dead_letters))
        .route(api::DEAD_LETTER, delete(calls_api::discard_dead_letter))
        .route(api::RETRY_DEAD_LETTER, post(calls_api::retry_dead_letter))
        .layer(DefaultBodyLimit::max(calls_body.saturating_add(SMALL_BODY)));
    let admin_forms = Router::new()
        .route(routes::form::CREATE_WEBHOOK, post(calls_api::create_webhook))
        .route(routes::form::DELETE_WEBHOOK, post(calls_api::delete_webhook))
        .route(routes::form::RETRY_DEAD_LETTER, post(calls_api::retry_dead_letter))
        .route(routes::form::DISCARD_DEAD_LETTER, post(calls_api::discard_dead_letter))
        .layer(DefaultBodyLimit::max(SMALL_BODY));

    let conversation = Router::new()
        .route(api::STORY_COMMENTS, get(conversation_api::story_conversation).post(conversation_api::comment_on_story))
        .route(routes::form::COMMENT_ON_STORY, post(conversation_api::comment_on_story))
        .route(api::MEDIA_COMMENTS, get(conversation_api::media_conversation).post(conversation_api::comment_on_media))
        .route(api::COMMENT, put(conversation_api::edit_comment).delete(conversation_api::delete_comment))
        .route(routes::form::EDIT_COMMENT, post(conversation_api::edit_comment))
        .route(routes::form::DELETE_COMMENT, post(conversation_api::delete_comment))
        .route(api::STORY_REACTIONS, post(conversation_api::react_to_story))
        .route(routes::form::REACT_TO_STORY, post(conversation_api::react_to_story))
        .route(api::MEDIA_REACTIONS, post(conversation_api::react_to_media))
        .route(routes::form::COMMENT_ON_MEDIA, post(conversation_api::comment_on_media))
        .route(routes::form::REACT_TO_MEDIA, post(conversation_api::react_to_media))
        .route(api::COMMENT_REACTIONS, post(conversation_api::react_to_comment))
        .route(routes::form::REACT_TO_COMMENT, post(conversation_api::react_to_comment))
        .route(api::COMMENT_FLAGS, post(conversation_api::flag_comment))
        .route(routes::form::FLAG_COMMENT, post(conversation_api::flag_comment))
        .route(api::MEDIA_FLAGS, post(conversation_api::flag_media))
        .route(routes::form::FLAG_MEDIA, post(conversation_api::flag_media))
        .route(api::FEED, get(feed_api::feed))
        .route(api::STREAM, get(stream_api::stream))
        .route(api::NOTIFICATIONS, get(notifications_api::list))
        .route(api::READ_NOTIFICATION, post(notifications_api::read))
        .route(routes::form::READ_NOTIFICATION, post(notifications_api::read))
        .route(api::READ_ALL_NOTIFICATIONS, post(notifications_api::read_all))
        .route(routes::form::READ_ALL_NOTIFICATIONS, post(notifications_api::read_all))
        .route(
            api::NOTIFICATION_PREFERENCES,
            get(notifications_api::preferences).put(notifications_api::set_preferences),
        )
        .route(routes::form::NOTIFICATION_SETTINGS, post(notifications_api::set_preferences))
        .route(routes::form::UNSUBSCRIBE, post(notifications_api::unsubscribe_form))
        .route(
            api::FOLLOW,
            get(notifications_api::following).put(notifications_api::follow).delete(notifications_api::unfollow),
        )
        .route(routes::form::FOLLOW_LEGACY, post(notifications_api::follow))
        .route(routes::form::UNFOLLOW_LEGACY, post(notifications_api::unfollow))
        .route(api::UNSUBSCRIBE, post(notifications_api::unsubscribe_one_click))
        .layer(DefaultBodyLimit::max(SMALL_BODY));

    let search = Router::new()
        .route(api::SEARCH, get(search_api::search))
        .route(api::SUGGEST, get(search_api::suggest))
        .route(api::REINDEX, post(search_api::reindex))
        .layer(DefaultBodyLimit::max(SMALL_BODY));

    // Upload parts stream to storage (bounded by the part size there); the rest is small JSON.
    let media = Router::new()
        .route(api::UPLOADS, post(media_api::request_upload))
        .route(api::UPLOAD, get(media_api::upload_status).delete(media_api::cancel_upload))
        .route(api::COMPLETE_UPLOAD, post(media_api::complete_upload))
        .route(api::MEDIA, get(media_api::get_media).patch(media_api::set_caption).delete(media_api::delete_media))
        .route(api::RETRY_MEDIA, post(media_api::retry))
        .route(api::LEGACY_MEDIA, get(media_api::legacy_media))
        .route(api::STORY_MEDIA, get(media_api::story_media))
        .layer(DefaultBodyLimit::max(SMALL_BODY));
    let media_files = Router::new()
        .route(browser::UPLOAD_PART, put(media_api::put_part))
        .route(browser::MEDIA_ITEM, get(media_api::locate))
        .route(browser::MEDIA_FILE, get(media_api::serve))
        .layer(DefaultBodyLimit::disable());

    // With the browser's legs of a connector's OAuth flow.
    let tips = Router::new()
        .route(api::RECOMMEND, post(tips_api::recommend))
        .route(api::TIP_FEEDBACK, post(tips_api::feedback))
        .route(api::CONNECTORS, get(tips_api::connectors))
        .route(api::CONNECTOR, delete(tips_api::disconnect))
        .route(routes::form::DISCONNECT, post(tips_api::disconnect))
        .route(api::SYNC_CONNECTOR, post(tips_api::sync))
        .route(routes::form::SYNC_CONNECTOR, post(tips_api::sync))
        .route(browser::CONNECTOR_CONNECT, get(tips_api::connect))
        .route(browser::CONNECTOR_CALLBACK, get(tips_api::callback))
        .layer(DefaultBodyLimit::max(SMALL_BODY));

    let router = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route(routes::form::THEME, post(theme::set_theme))
        .merge(account)
        .merge(stories)
        .merge(people)
        .merge(gedcom)
        .merge(calls)
        .merge(admin_forms)
        .merge(conversation)
        .merge(search)
        .merge(media)
        .merge(media_files)
        .merge(tips)
        .route("/api", any(error::api_not_found))
        .route("/api/{*rest}", any(error::api_not_found))
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
        // Inside the user's resolution: it serves only those signed out.
        .layer(from_fn_with_state(state.clone(), page_cache::serve))
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
