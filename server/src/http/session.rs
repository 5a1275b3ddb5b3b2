//! Cookie sessions and who is signed in. The session layer loads the cookie session;
//! [`resolve_user`] turns it into an [`Authenticated`] request extension once per
//! request, which handlers take through [`RequireUser`]/[`MaybeUser`] and pages read
//! from the request. No handler parses cookies itself.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use backend::identity::{Authenticated, ClientInfo, DbSessionStore};
use backend::Backend;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use types::{ApiError, Flash};

use super::{ApiFailure, AppState};

pub const SESSION_COOKIE: &str = "heirloom_session";
const FLASH_KEY: &str = "heirloom.flash";

/// Pages only a signed-in user may use; others are sent to sign in and brought back.
fn needs_sign_in(path: &str) -> bool {
    matches!(path, "/account" | "/legacies" | "/moderation" | "/tips" | "/connect")
        || path.starts_with("/invitations/")
        || (path.starts_with("/legacies/") && (path.ends_with("/new") || path.ends_with("/members")))
        || (path.starts_with("/stories/") && path.ends_with("/edit"))
}

pub fn layer(backend: &Backend) -> SessionManagerLayer<DbSessionStore> {
    SessionManagerLayer::new(backend.sessions.clone())
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(backend.config.served_over_https())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(backend.config.session_idle_minutes as i64)))
}

pub async fn resolve_user(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if is_static_or_ops(request.uri().path()) {
        return next.run(request).await;
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return next.run(request).await;
    };
    let signed_in = match state.backend.identity.authenticate(&session).await {
        Ok(signed_in) => signed_in,
        Err(err) => return ApiFailure::from(err).into_response(),
    };
    let is_page_view = request.method() == Method::GET && accepts_html(&request);
    let path = request.uri().path();
    if signed_in.is_none() && is_page_view && needs_sign_in(path) {
        let back = request.uri().path_and_query().map_or(path, |pq| pq.as_str());
        return Redirect::to(&format!("/signin?next={}", urlencode(back))).into_response();
    }
    // `get` first: `remove` marks the session changed (a store write) even when empty.
    if is_page_view {
        if let Ok(Some(flash)) = session.get::<Flash>(FLASH_KEY).await {
            let _ = session.remove::<Flash>(FLASH_KEY).await;
            request.extensions_mut().insert(flash);
        }
    }
    if let Some(auth) = signed_in {
        request.extensions_mut().insert(auth);
    }
    next.run(request).await
}

/// Requests that never need to know the user, so they cost no session lookup.
pub(super) fn is_static_or_ops(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/editor/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics" | "/favicon.svg" | "/favicon.ico" | "/robots.txt")
}

pub(super) fn accepts_html(request: &Request) -> bool {
    request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

pub fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Shows `flash` on the next page this browser loads.
pub async fn set_flash(session: &Session, flash: Flash) {
    if let Err(err) = session.insert(FLASH_KEY, flash).await {
        tracing::warn!(error = %err, "could not store a flash message");
    }
}

/// The signed-in user; requests without one get 401 with the typed error.
pub struct RequireUser(pub Authenticated);

impl<S: Send + Sync> FromRequestParts<S> for RequireUser {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Authenticated>()
            .cloned()
            .map(RequireUser)
            .ok_or(ApiFailure::new(ApiError::unauthenticated("Please sign in first.")))
    }
}

/// The signed-in user, if any.
pub struct MaybeUser(pub Option<Authenticated>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(parts.extensions.get::<Authenticated>().cloned()))
    }
}

/// Who is calling: address ([`super::limits::client_ip`], the same the rate limits use)
/// and user agent, recorded with sign-ins and used for the sign-in limits.
pub struct Client(pub ClientInfo);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ip = super::limits::client_ip(
            &parts.headers,
            parts.extensions.get::<ConnectInfo<SocketAddr>>(),
            &state.backend.config,
        );
        let user_agent =
            parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("unknown").to_string();
        Ok(Client(ClientInfo { ip, user_agent }))
    }
}
