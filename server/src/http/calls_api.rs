//! The REST API of the event backbone's admin side (`/api/v1/calls`, `/webhooks`,
//! `/dead-letters`): administrators submit and inspect outbound calls, register
//! webhooks and deal with events a consumer gave up on. Each handler authenticates,
//! calls one backend method (which checks the administrator role) and maps the result.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use backend::calls::CallFilter;
use serde::Deserialize;
use types::{
    ApiError, CallDetail, CallInput, CallPage, CallSubmitted, DeadLetterView, WebhookCreated, WebhookInput, WebhookView,
};
use utoipa::{IntoParams, OpenApi};

use super::extract::{Json, Path, Query};
use super::session::RequireUser;
use super::{ApiFailure, AppState};

type ApiResult<T> = Result<T, ApiFailure>;

#[utoipa::path(post, path = "/api/v1/calls", tag = "calls", request_body = CallInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Used when the body has no idempotency_key")),
    responses((status = 202, body = CallSubmitted, description = "Stored and scheduled"),
        (status = 200, body = CallSubmitted, description = "A replay: the first call with this key"),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 422, body = ApiError)))]
pub async fn submit(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    headers: HeaderMap,
    Json(mut input): Json<CallInput>,
) -> ApiResult<(StatusCode, axum::Json<CallSubmitted>)> {
    if input.idempotency_key.trim().is_empty() {
        if let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
            input.idempotency_key = key.to_string();
        }
    }
    let submitted = state.backend.calls_for(&auth.user)?.submit(Some(&auth.user.id), "api", &input).await?;
    let status = if submitted.created { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, axum::Json(submitted)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallQuery {
    /// `scheduled`, `running`, `succeeded` or `failed`.
    status: Option<String>,
    /// Host or host:port, exactly.
    target: Option<String>,
    /// `api`, or `webhook:<id>`.
    source: Option<String>,
    /// Created at or after, unix milliseconds.
    from: Option<i64>,
    /// Created before, unix milliseconds.
    to: Option<i64>,
    cursor: Option<String>,
    /// 1 to 100, default 25.
    limit: Option<i64>,
}

impl From<CallQuery> for CallFilter {
    fn from(q: CallQuery) -> CallFilter {
        CallFilter {
            status: q.status,
            target: q.target,
            source: q.source,
            from: q.from,
            to: q.to,
            cursor: q.cursor,
            limit: q.limit,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/calls", tag = "calls", params(CallQuery),
    responses((status = 200, body = CallPage), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Query(query): Query<CallQuery>,
) -> ApiResult<axum::Json<CallPage>> {
    Ok(axum::Json(state.backend.calls_for(&auth.user)?.list(&query.into()).await?))
}

#[utoipa::path(get, path = "/api/v1/calls/{id}", tag = "calls", params(("id" = String, Path)),
    responses((status = 200, body = CallDetail), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn detail(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CallDetail>> {
    Ok(axum::Json(state.backend.calls_for(&auth.user)?.detail(&id).await?))
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = [WebhookView]), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn webhooks(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
) -> ApiResult<axum::Json<Vec<WebhookView>>> {
    Ok(axum::Json(state.backend.webhooks_for(&auth.user)?.list().await?))
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookInput,
    responses((status = 201, body = WebhookCreated, description = "The signing secret is shown this once"),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Json(input): Json<WebhookInput>,
) -> ApiResult<(StatusCode, axum::Json<WebhookCreated>)> {
    let created = state.backend.webhooks_for(&auth.user)?.create(&auth.user.id, &input).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.backend.webhooks_for(&auth.user)?.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/dead-letters", tag = "events",
    responses((status = 200, body = [DeadLetterView]), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn dead_letters(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
) -> ApiResult<axum::Json<Vec<DeadLetterView>>> {
    Ok(axum::Json(state.backend.dead_letters(&auth.user).await?))
}

#[utoipa::path(post, path = "/api/v1/dead-letters/{consumer}/{message_id}/retry", tag = "events",
    params(("consumer" = String, Path), ("message_id" = String, Path)),
    responses((status = 200, body = Object, description = "`handled`, or `parked` again"), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn retry_dead_letter(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path((consumer, message_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let delivered = state.backend.retry_dead_letter(&auth.user, &consumer, &message_id).await?;
    let outcome = match delivered {
        backend::events::Delivered::Parked => "parked",
        _ => "handled",
    };
    Ok(axum::Json(serde_json::json!({ "outcome": outcome })))
}

#[utoipa::path(delete, path = "/api/v1/dead-letters/{consumer}/{message_id}", tag = "events",
    params(("consumer" = String, Path), ("message_id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn discard_dead_letter(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path((consumer, message_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.backend.discard_dead_letter(&auth.user, &consumer, &message_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(OpenApi)]
#[openapi(
    paths(
        submit,
        list,
        detail,
        webhooks,
        create_webhook,
        delete_webhook,
        dead_letters,
        retry_dead_letter,
        discard_dead_letter
    ),
    components(schemas(
        CallInput,
        CallSubmitted,
        CallPage,
        CallDetail,
        types::CallView,
        types::CallAttemptView,
        types::CallStatus,
        types::EventChain,
        types::ChainEvent,
        types::events::EventType,
        WebhookInput,
        WebhookView,
        WebhookCreated,
        DeadLetterView
    ))
)]
pub struct CallsApiDoc;
