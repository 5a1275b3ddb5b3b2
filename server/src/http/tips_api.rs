//! Tips and connectors over HTTP: `POST /api/v1/recommend` (one tip), feedback on a
//! tip, the connectors list, disconnect and sync (one handler each for the API and the
//! connect page's forms, see `form`), and the two browser redirects of the OAuth flow
//! (`/connectors/{name}/connect` → the provider → `/connectors/{name}/callback` →
//! `/connect`). Each handler authenticates, calls one tips service method and maps the
//! result; the rules live in `backend::tips`.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use types::routes::{self, api, browser};
use types::TipId;
use types::{ApiError, ConnectorView, FeedbackInput, FeedbackResult, Flash, RecommendInput, SyncStatus, Tip};
use utoipa::OpenApi;

use super::extract::{Json, OAuthCallback, Path, Query};
use super::form::{answer, Done, FlashForNextPage, Mode};
use super::session::{accepts_html, sign_in_then, urlencode, Caller, MaybeUser};
use super::{ApiFailure, AppState};

type ApiResult<T> = Result<T, ApiFailure>;

/// Where the connect page lives (the UI half of the tips work renders it).
const CONNECT_PAGE: &str = routes::CONNECT.path;

#[utoipa::path(post, path = api::RECOMMEND, tag = "tips", request_body = RecommendInput,
    responses(
        (status = 200, body = Tip, description = "One tip; a friendly advice tip when there is nothing to suggest"),
        (status = 401, body = ApiError), (status = 422, body = ApiError), (status = 429, body = ApiError)))]
pub async fn recommend(me: Caller, Json(input): Json<RecommendInput>) -> ApiResult<axum::Json<Tip>> {
    Ok(axum::Json(me.backend.tips.recommend(&me.user, &input).await?))
}

#[utoipa::path(post, path = api::TIP_FEEDBACK, tag = "tips", params(("id" = String, Path)),
    request_body = FeedbackInput,
    responses((status = 200, body = FeedbackResult, description = "Recorded, or a repeat that changed nothing"),
        (status = 401, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "The tip already has another outcome"),
        (status = 422, body = ApiError)))]
pub async fn feedback(
    me: Caller,
    Path(id): Path<TipId>,
    Json(input): Json<FeedbackInput>,
) -> ApiResult<axum::Json<FeedbackResult>> {
    Ok(axum::Json(me.backend.tips.feedback(&me.user, &id, input.action).await?))
}

#[utoipa::path(get, path = api::CONNECTORS, tag = "connectors",
    responses((status = 200, body = [ConnectorView]), (status = 401, body = ApiError)))]
pub async fn connectors(me: Caller) -> ApiResult<axum::Json<Vec<ConnectorView>>> {
    Ok(axum::Json(me.backend.tips.connectors(&me.user).await?))
}

#[utoipa::path(delete, path = api::CONNECTOR, tag = "connectors", params(("name" = String, Path)),
    responses((status = 204, description = "Disconnected: the token is forgotten"), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn disconnect(mode: Mode, me: Caller, Path(name): Path<String>) -> Response {
    let done = me.backend.tips.disconnect(&me.user, &name).await.map(|display_name| {
        let message =
            format!("{display_name} is disconnected; its token is forgotten and its tasks are gone from your tips.");
        Done::new(CONNECT_PAGE, StatusCode::NO_CONTENT).notice(message)
    });
    answer(mode, done, CONNECT_PAGE, Vec::new())
}

#[utoipa::path(post, path = api::SYNC_CONNECTOR, tag = "connectors", params(("name" = String, Path)),
    responses((status = 200, body = ConnectorView, description = "After the fetch (see last_sync_status)"),
        (status = 401, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "Not connected"), (status = 429, body = ApiError)))]
pub async fn sync(mode: Mode, me: Caller, Path(name): Path<String>) -> Response {
    let done = me.backend.tips.sync(&me.user, &name).await.map(|view| {
        let flash = match view.last_sync_status {
            SyncStatus::Failed => Flash::error(format!(
                "{} could not be synced: {}",
                view.display_name,
                view.last_error.as_deref().unwrap_or("it did not answer")
            )),
            _ => Flash::notice(format!("{} synced: {} open tasks.", view.display_name, view.items)),
        };
        Done::new(CONNECT_PAGE, axum::Json(view)).flash(flash)
    });
    answer(mode, done, CONNECT_PAGE, Vec::new())
}

/// A plain 302, as OAuth flows conventionally redirect.
fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_string())]).into_response()
}

/// `response`, and `flash` for the page it leads to.
fn with_flash(mut response: Response, flash: Flash) -> Response {
    response.extensions_mut().insert(FlashForNextPage(flash));
    response
}

/// For a request without a signed-in user: a browser is sent to sign in and brought
/// back to `back`, anything else gets 401.
fn sign_in_first(headers: &HeaderMap, back: &str) -> Response {
    if accepts_html(headers) {
        found(&sign_in_then(back))
    } else {
        ApiFailure::new(ApiError::unauthenticated("Please sign in first.")).into_response()
    }
}

#[utoipa::path(get, path = browser::CONNECTOR_CONNECT, tag = "connectors", params(("name" = String, Path)),
    responses((status = 302, description = "To the provider's authorization page, with a state bound to this session"),
        (status = 401, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "The connector is not configured")))]
pub async fn connect(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    let Some(auth) = user else { return sign_in_first(&headers, &routes::fill(browser::CONNECTOR_CONNECT, &[&name])) };
    match state.backend.tips.begin_oauth(&auth.user, &auth.session_id, &name).await {
        Ok(url) => found(url.as_str()),
        Err(err) => ApiFailure::from(err).into_response(),
    }
}

#[utoipa::path(get, path = browser::CONNECTOR_CALLBACK, tag = "connectors",
    params(("name" = String, Path), OAuthCallback),
    responses((status = 302, description = "To /connect?connected={name}, or /connect?error=… with a message"),
        (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn callback(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(query): Query<OAuthCallback>,
) -> Response {
    let Some(auth) = user else { return sign_in_first(&headers, CONNECT_PAGE) };
    let tips = &state.backend.tips;
    let outcome = if let Some(error) = query.error {
        // The provider ended the attempt (the user said no). The state is left to expire.
        let known = tips.connector_view(&auth.user, &name).await;
        match known {
            Ok(view) => Err(backend::Error::Forbidden(
                format!(
                    "{} was not connected: {}.",
                    view.display_name,
                    if error == "access_denied" { "access was declined" } else { "the provider ended the attempt" }
                )
                .into(),
            )),
            Err(err) => Err(err),
        }
    } else {
        tips.finish_oauth(&auth.user, &auth.session_id, &name, &query.code, &query.state).await
    };
    let flag = urlencode(&name);
    match outcome {
        Ok(view) => {
            let flash = Flash::notice(format!("{} is connected.", view.display_name));
            with_flash(found(&format!("{CONNECT_PAGE}?connected={flag}")), flash)
        }
        Err(backend::Error::NotFound { what }) => ApiFailure::from(backend::Error::NotFound { what }).into_response(),
        Err(err) => {
            let api = ApiError::from(err);
            with_flash(
                found(&format!("{CONNECT_PAGE}?error={}&connector={flag}", api.kind())),
                Flash::error(api.message()),
            )
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(recommend, feedback, connectors, disconnect, sync, connect, callback),
    components(schemas(
        Tip,
        RecommendInput,
        types::TipContext,
        types::TipDevice,
        types::TipKind,
        types::TipAction,
        FeedbackInput,
        FeedbackResult,
        types::TipCompletion,
        ConnectorView,
        types::SyncStatus
    ))
)]
pub struct TipsApiDoc;
