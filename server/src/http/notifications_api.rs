//! Notifications over HTTP: the reader's list and bell (`/api/v1/notifications`), marking
//! them read, the preferences of each kind, and the signed unsubscribe links of emails
//! (`/unsubscribe` asks first; `/api/v1/unsubscribe` is the one-click address mail
//! clients post to, RFC 8058, needing no session and no same-origin check: its
//! signature is what allows it). Each operation is one handler for its form and its JSON.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Json as JsonBody;
use serde::Deserialize;
use serde_json::json;
use types::routes::{self, api};
use types::{ApiError, NotificationId, NotificationPage, NotificationPreference, PreferencesInput};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::extract::{Path, Query};
use super::form::{answer, Done, Input, Mode};
use super::session::{Caller, Visitor};
use super::ApiFailure;

type ApiResult<T> = Result<T, ApiFailure>;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationsQuery {
    /// `next_cursor` of the page before.
    cursor: Option<String>,
    /// Notifications per page, 1 to 100 (30).
    limit: Option<i64>,
}

#[utoipa::path(get, path = api::NOTIFICATIONS, tag = "notifications", params(NotificationsQuery),
    responses((status = 200, body = NotificationPage), (status = 401, body = ApiError), (status = 422, body = ApiError)))]
pub async fn list(me: Caller, Query(query): Query<NotificationsQuery>) -> ApiResult<JsonBody<NotificationPage>> {
    Ok(JsonBody(me.backend.notifications.list(&me.user, query.cursor.as_deref(), query.limit).await?))
}

#[utoipa::path(post, path = api::READ_NOTIFICATION, tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = Object, description = "`link`: where the notification points"),
        (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn read(mode: Mode, me: Caller, Path(id): Path<NotificationId>) -> Response {
    let read = me.backend.notifications.mark_read(&me.user, &id).await;
    let done = read.map(|link| Done::new(&link, JsonBody(json!({ "link": link }))));
    answer(mode, done, routes::NOTIFICATIONS.path, Vec::new())
}

#[utoipa::path(post, path = api::READ_ALL_NOTIFICATIONS, tag = "notifications",
    responses((status = 200, body = Object, description = "`marked`: how many were unread"),
        (status = 401, body = ApiError)))]
pub async fn read_all(mode: Mode, me: Caller) -> Response {
    let marked = me.backend.notifications.mark_all_read(&me.user).await;
    let done = marked.map(|marked| {
        Done::new(routes::NOTIFICATIONS.path, JsonBody(json!({ "marked": marked })))
            .notice("Every notification is marked read.")
    });
    answer(mode, done, routes::NOTIFICATIONS.path, Vec::new())
}

#[utoipa::path(get, path = api::NOTIFICATION_PREFERENCES, tag = "notifications",
    responses((status = 200, body = [NotificationPreference]), (status = 401, body = ApiError)))]
pub async fn preferences(me: Caller) -> ApiResult<JsonBody<Vec<NotificationPreference>>> {
    Ok(JsonBody(me.backend.notifications.preferences(&me.user.id).await?))
}

#[utoipa::path(put, path = api::NOTIFICATION_PREFERENCES, tag = "notifications", request_body = PreferencesInput,
    responses((status = 200, body = [NotificationPreference]), (status = 401, body = ApiError),
        (status = 422, body = ApiError)))]
pub async fn set_preferences(me: Caller, Input(mode, input): Input<PreferencesInput>) -> Response {
    let set = me.backend.notifications.set_preferences(&me.user, &input).await;
    let page = routes::NOTIFICATION_SETTINGS.path;
    let done =
        set.map(|preferences| Done::new(page, JsonBody(preferences)).notice("Your notification settings were saved."));
    answer(mode, done, page, Vec::new())
}

/// What an unsubscribe link carries: whose emails, which, and the signature over both.
#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeLink {
    #[serde(default)]
    user: String,
    /// A kind of notification (`comment`…), or `digest`.
    #[serde(default)]
    scope: String,
    #[serde(default)]
    sig: String,
}

/// The page's "Stop these emails" button.
pub async fn unsubscribe_form(visitor: Visitor, Input(mode, link): Input<UnsubscribeLink>) -> Response {
    let stopped = visitor.backend.notifications.unsubscribe(&link.user, &link.scope, &link.sig).await;
    let back = format!("{}?{}", routes::UNSUBSCRIBE.path, link_query(&link));
    let done = stopped.map(|what| {
        Done::new(format!("{}?done=1", routes::UNSUBSCRIBE.path), StatusCode::NO_CONTENT)
            .notice(format!("You will no longer get {what}. You can turn them on again in your notification settings."))
    });
    answer(mode, done, &back, Vec::new())
}

#[utoipa::path(post, path = api::UNSUBSCRIBE, tag = "notifications", params(UnsubscribeLink),
    responses((status = 200, body = Object, description = "`stopped`: what no longer comes, in words"),
        (status = 403, body = ApiError)))]
pub async fn unsubscribe_one_click(
    visitor: Visitor,
    Query(link): Query<UnsubscribeLink>,
) -> ApiResult<JsonBody<serde_json::Value>> {
    let stopped = visitor.backend.notifications.unsubscribe(&link.user, &link.scope, &link.sig).await?;
    Ok(JsonBody(json!({ "stopped": stopped })))
}

fn link_query(link: &UnsubscribeLink) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("user", &link.user).append_pair("scope", &link.scope).append_pair("sig", &link.sig);
    query.finish()
}

#[derive(OpenApi)]
#[openapi(
    paths(list, read, read_all, preferences, set_preferences, unsubscribe_one_click),
    components(schemas(
        NotificationPage,
        types::NotificationView,
        NotificationPreference,
        PreferencesInput,
        types::NotificationKind,
        types::Delivery
    )),
    tags((name = "notifications", description = "The bell: what concerns the caller, and how they hear of it"))
)]
pub struct NotificationsApiDoc;
