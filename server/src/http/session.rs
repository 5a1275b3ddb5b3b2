//! Cookie sessions and who is signed in. The session layer loads the cookie session;
//! [`resolve_user`] turns it into an [`Authenticated`] request extension once per
//! request, which handlers take through [`RequireUser`]/[`MaybeUser`] and pages read
//! from the request. No handler parses cookies itself. What the cookie session holds
//! (the signed-in session's id, an OpenID sign-in under way, a flash message) is this
//! module's business; `backend::identity` judges the ids and never sees the cookie.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use backend::identity::oidc::PendingLogin;
use backend::identity::{Authenticated, ClientInfo, DbSessionStore, SessionCheck, User};
use backend::Backend;
use serde::{Deserialize, Serialize};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use types::{ApiError, Flash};

use super::form::FlashForNextPage;
use super::{ApiFailure, AppState};

pub const SESSION_COOKIE: &str = "heirloom_session";
const FLASH_KEY: &str = "heirloom.flash";
/// Session key of the signed-in state.
const AUTH_KEY: &str = "heirloom.auth";
/// Session key of an OpenID Connect sign-in under way.
const OIDC_KEY: &str = "heirloom.oidc";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AuthState {
    session_id: types::SessionId,
}

/// Signs this browser in as `user`: a new cookie id first (so an id fixed before sign-in
/// is worthless), then a new signed-in session, whose id the cookie session keeps.
pub async fn sign_in(
    backend: &Backend,
    session: &Session,
    user: &User,
    method: &str,
    id_token: Option<String>,
    client: &ClientInfo,
) -> backend::Result<()> {
    session.cycle_id().await?;
    let session_id = backend.identity.start_session(user, method, id_token, client).await?;
    session.insert(AUTH_KEY, AuthState { session_id }).await?;
    Ok(())
}

/// Who this browser is signed in as. A session that ended is forgotten; an active one
/// has its cookie renewed for another idle period.
async fn signed_in_user(backend: &Backend, session: &Session) -> backend::Result<Option<Authenticated>> {
    let Some(state) = session.get::<AuthState>(AUTH_KEY).await? else { return Ok(None) };
    match backend.identity.authenticate(&state.session_id).await? {
        SessionCheck::Ended => {
            session.flush().await?;
            Ok(None)
        }
        SessionCheck::Valid { auth, touched } => {
            if touched {
                // The cookie store only extends a session's expiry when it is saved, and
                // setting the expiry is what marks it for saving: activity keeps it alive.
                session.set_expiry(Some(idle_expiry(&backend.config)));
            }
            Ok(Some(auth))
        }
    }
}

/// Ends the signed-in session and forgets this browser's cookie session; the
/// provider's logout URL when there is one to visit.
pub async fn sign_out(
    backend: &Backend,
    session: &Session,
    auth: Option<&Authenticated>,
) -> backend::Result<Option<url::Url>> {
    let logout = backend.identity.sign_out(auth).await?;
    session.flush().await?;
    Ok(logout)
}

/// Starts an OpenID sign-in; the attempt is remembered in this browser's session.
pub async fn oidc_begin(backend: &Backend, session: &Session, provider: &str, next: &str) -> backend::Result<url::Url> {
    let (url, pending) = backend.identity.oidc_begin(provider, next).await?;
    session.insert(OIDC_KEY, pending).await?;
    Ok(url)
}

/// The OpenID sign-in this browser began, taken out of its session so it is used once.
pub async fn take_oidc_attempt(session: &Session) -> backend::Result<Option<PendingLogin>> {
    Ok(session.remove::<PendingLogin>(OIDC_KEY).await?)
}

fn idle_expiry(config: &backend::config::Config) -> Expiry {
    Expiry::OnInactivity(time::Duration::minutes(config.session_idle_minutes as i64))
}

pub fn layer(backend: &Backend) -> SessionManagerLayer<DbSessionStore> {
    SessionManagerLayer::new(backend.session_store())
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(backend.config.served_over_https())
        .with_path("/")
        .with_expiry(idle_expiry(&backend.config))
}

pub async fn resolve_user(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if is_static_or_ops(request.uri().path()) {
        return next.run(request).await;
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return next.run(request).await;
    };
    let signed_in = match signed_in_user(&state.backend, &session).await {
        Ok(signed_in) => signed_in,
        Err(err) => return ApiFailure::from(err).into_response(),
    };
    let is_page_view = request.method() == Method::GET && accepts_html(request.headers());
    let path = request.uri().path();
    if signed_in.is_none() && is_page_view && types::routes::needs_sign_in(path) {
        let back = request.uri().path_and_query().map_or(path, |pq| pq.as_str());
        return Redirect::to(&sign_in_then(back)).into_response();
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
    let response = next.run(request).await;
    if let Some(FlashForNextPage(flash)) = response.extensions().get::<FlashForNextPage>() {
        set_flash(&session, flash.clone()).await;
    }
    response
}

/// Requests that never need to know the user, so they cost no session lookup.
pub(super) fn is_static_or_ops(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/editor/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics" | "/favicon.svg" | "/favicon.ico" | "/robots.txt")
}

/// A browser asking for a page (rather than a client asking for data).
pub(super) fn accepts_html(headers: &http::HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

pub fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The sign-in page, coming back to `back` afterwards.
pub fn sign_in_then(back: &str) -> String {
    format!("{}?next={}", types::routes::SIGN_IN.path, urlencode(back))
}

/// Shows `flash` on the next page this browser loads.
async fn set_flash(session: &Session, flash: Flash) {
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

/// A handler's signed-in caller with the backend it acts through: the state and the user
/// that almost every handler takes, in one argument. Requests without a user get 401, as
/// with [`RequireUser`].
pub struct Caller {
    pub backend: Backend,
    pub user: User,
    pub session_id: types::SessionId,
}

impl Caller {
    /// The user and session, for the identity operations that act on the session itself.
    pub fn authenticated(&self) -> Authenticated {
        Authenticated { user: self.user.clone(), session_id: self.session_id.clone() }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let RequireUser(auth) = RequireUser::from_request_parts(parts, state).await?;
        Ok(Caller { backend: state.backend.clone(), user: auth.user, session_id: auth.session_id })
    }
}

/// A handler's caller who may be signed in or not (public pages and media), with the
/// backend it acts through.
pub struct Visitor {
    pub backend: Backend,
    pub auth: Option<Authenticated>,
}

impl Visitor {
    /// The signed-in user, if any.
    pub fn user(&self) -> Option<&User> {
        self.auth.as_ref().map(|a| &a.user)
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let MaybeUser(auth) = MaybeUser::from_request_parts(parts, state).await?;
        Ok(Visitor { backend: state.backend.clone(), auth })
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
