//! The event backbone's admin side over HTTP: the REST API (`/api/v1/calls`,
//! `/webhooks`, `/dead-letters`) where administrators submit and inspect outbound calls,
//! register webhooks and deal with events a consumer gave up on, and the admin pages'
//! forms for the same operations (one handler each, see `form`). Each handler
//! authenticates, calls one backend method (which checks the administrator role) and
//! maps the result.

use axum::http::StatusCode;
use axum::response::Response;
use backend::calls::CallFilter;
use backend::events::Delivered;
use serde::Deserialize;
use types::routes::{self, api};
use types::{
    ApiError, CallDetail, CallInput, CallPage, CallSubmitted, DeadLetterView, Flash, WebhookCreated, WebhookInput,
    WebhookView,
};
use utoipa::{IntoParams, OpenApi};

use super::extract::{IdempotencyKey, Json, Path, Query};
use super::form::{answer, Done, Input, Mode};
use super::session::Caller;
use super::ApiFailure;

const WEBHOOKS_PAGE: &str = routes::WEBHOOKS.path;
const DEAD_LETTERS_PAGE: &str = routes::DEAD_LETTERS.path;

type ApiResult<T> = Result<T, ApiFailure>;

#[utoipa::path(post, path = api::CALLS, tag = "calls", request_body = CallInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Used when the body has no idempotency_key")),
    responses((status = 202, body = CallSubmitted, description = "Stored and scheduled"),
        (status = 200, body = CallSubmitted, description = "A replay: the first call with this key"),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 409, body = ApiError),
        (status = 413, body = ApiError), (status = 422, body = ApiError)))]
pub async fn submit(
    me: Caller,
    IdempotencyKey(header_key): IdempotencyKey,
    Json(mut input): Json<CallInput>,
) -> ApiResult<(StatusCode, axum::Json<CallSubmitted>)> {
    // The body's key wins; the header is for clients that send keys the usual way.
    if input.idempotency_key.trim().is_empty() {
        if let Some(key) = header_key {
            input.idempotency_key = key;
        }
    }
    let submitted = me.backend.admin.calls(&me.user)?.submit(Some(&me.user.id), "api", &input).await?;
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

#[utoipa::path(get, path = api::CALLS, tag = "calls", params(CallQuery),
    responses((status = 200, body = CallPage), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, body = ApiError)))]
pub async fn list(me: Caller, Query(query): Query<CallQuery>) -> ApiResult<axum::Json<CallPage>> {
    Ok(axum::Json(me.backend.admin.calls(&me.user)?.list(&query.into()).await?))
}

#[utoipa::path(get, path = api::CALL, tag = "calls", params(("id" = String, Path)),
    responses((status = 200, body = CallDetail), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn detail(me: Caller, Path(id): Path<types::CallId>) -> ApiResult<axum::Json<CallDetail>> {
    Ok(axum::Json(me.backend.admin.calls(&me.user)?.detail(&id).await?))
}

#[utoipa::path(get, path = api::WEBHOOKS, tag = "webhooks",
    responses((status = 200, body = [WebhookView]), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn webhooks(me: Caller) -> ApiResult<axum::Json<Vec<WebhookView>>> {
    Ok(axum::Json(me.backend.admin.webhooks(&me.user)?.list().await?))
}

#[utoipa::path(post, path = api::WEBHOOKS, tag = "webhooks", request_body = WebhookInput,
    responses((status = 201, body = WebhookCreated, description = "The signing secret is shown this once"),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub async fn create_webhook(me: Caller, Input(mode, input): Input<WebhookInput>) -> Response {
    let created = match me.backend.admin.webhooks(&me.user) {
        Ok(webhooks) => webhooks.create(&me.user.id, &input).await,
        Err(err) => Err(err),
    };
    let done = created.map(|created| {
        let message = format!(
            "Webhook added. Its signing secret, shown only this once: {} — deliveries carry \
             X-Heirloom-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">.",
            created.secret
        );
        Done::new(WEBHOOKS_PAGE, (StatusCode::CREATED, axum::Json(created))).notice(message)
    });
    let typed = vec![("url".into(), input.url.clone()), ("event_types".into(), input.event_types.join(", "))];
    answer(mode, done, WEBHOOKS_PAGE, typed)
}

#[utoipa::path(delete, path = api::WEBHOOK, tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn delete_webhook(mode: Mode, me: Caller, Path(id): Path<types::WebhookId>) -> Response {
    let deleted = match me.backend.admin.webhooks(&me.user) {
        Ok(webhooks) => webhooks.delete(&id).await,
        Err(err) => Err(err),
    };
    let done = deleted.map(|()| Done::new(WEBHOOKS_PAGE, StatusCode::NO_CONTENT).notice("Webhook removed."));
    answer(mode, done, WEBHOOKS_PAGE, Vec::new())
}

#[utoipa::path(get, path = api::DEAD_LETTERS, tag = "events",
    responses((status = 200, body = [DeadLetterView]), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn dead_letters(me: Caller) -> ApiResult<axum::Json<Vec<DeadLetterView>>> {
    Ok(axum::Json(me.backend.admin.dead_letters(&me.user).await?))
}

/// A parked message: the consumer that parked it and the message's id.
#[derive(Deserialize)]
pub struct DeadLetterRef {
    consumer: String,
    message_id: String,
}

#[utoipa::path(post, path = api::RETRY_DEAD_LETTER, tag = "events",
    params(("consumer" = String, Path), ("message_id" = String, Path)),
    responses((status = 200, body = Object, description = "`handled`, or `parked` again"), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn retry_dead_letter(mode: Mode, me: Caller, Path(letter): Path<DeadLetterRef>) -> Response {
    let retried = me.backend.admin.retry_dead_letter(&me.user, &letter.consumer, &letter.message_id).await;
    let done = retried.map(|delivered| {
        let (outcome, flash) = match delivered {
            Delivered::Parked => ("parked", Flash::error("It failed again; see the error below.")),
            _ => ("handled", Flash::notice(format!("Handled by {}.", letter.consumer))),
        };
        Done::new(DEAD_LETTERS_PAGE, axum::Json(serde_json::json!({ "outcome": outcome }))).flash(flash)
    });
    answer(mode, done, DEAD_LETTERS_PAGE, Vec::new())
}

#[utoipa::path(delete, path = api::DEAD_LETTER, tag = "events",
    params(("consumer" = String, Path), ("message_id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn discard_dead_letter(mode: Mode, me: Caller, Path(letter): Path<DeadLetterRef>) -> Response {
    let discarded = me.backend.admin.discard_dead_letter(&me.user, &letter.consumer, &letter.message_id).await;
    let done = discarded.map(|()| {
        Done::new(DEAD_LETTERS_PAGE, StatusCode::NO_CONTENT).notice("Discarded; it will not be delivered again.")
    });
    answer(mode, done, DEAD_LETTERS_PAGE, Vec::new())
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
