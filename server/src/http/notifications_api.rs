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
use types::{
    ApiError, Following, LegacyId, NotificationId, NotificationPage, NotificationPreference, PreferencesInput,
};
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

#[utoipa::path(get, path = api::FOLLOW, tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = Following), (status = 401, body = ApiError),
        (status = 404, body = ApiError, description = "Not a legacy the caller is a member of")))]
pub async fn following(me: Caller, Path(id): Path<LegacyId>) -> ApiResult<JsonBody<Following>> {
    let following = me.backend.notifications.following(&me.user, &id).await?;
    let following = following.ok_or(backend::Error::NotFound { what: "legacy" })?;
    Ok(JsonBody(Following { legacy_id: id, following }))
}

#[utoipa::path(put, path = api::FOLLOW, tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = Following, description = "The legacy's new stories reach the caller's bell"),
        (status = 401, body = ApiError),
        (status = 404, body = ApiError, description = "Not a legacy the caller is a member of")))]
pub async fn follow(mode: Mode, me: Caller, Path(id): Path<LegacyId>) -> Response {
    set_following(mode, me, id, true).await
}

#[utoipa::path(delete, path = api::FOLLOW, tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = Following, description = "The legacy's new stories no longer reach the caller \
        (replies, mentions and reactions to what they wrote still do)"), (status = 401, body = ApiError),
        (status = 404, body = ApiError, description = "Not a legacy the caller is a member of")))]
pub async fn unfollow(mode: Mode, me: Caller, Path(id): Path<LegacyId>) -> Response {
    set_following(mode, me, id, false).await
}

async fn set_following(mode: Mode, me: Caller, id: LegacyId, follow: bool) -> Response {
    let set = me.backend.notifications.set_following(&me.user, &id, follow).await;
    let page = routes::LEGACY.to(&[&id]);
    let done = set.map(|following| {
        let notice = if follow {
            "Following: new stories in this legacy will reach your notifications."
        } else {
            "You no longer follow this legacy: its new stories will not reach your notifications (replies, mentions \
                and reactions to what you wrote still do)."
        };
        Done::new(&page, JsonBody(following)).notice(notice)
    });
    answer(mode, done, &page, Vec::new())
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
    paths(list, read, read_all, preferences, set_preferences, following, follow, unfollow, unsubscribe_one_click),
    components(schemas(
        NotificationPage,
        types::NotificationView,
        NotificationPreference,
        PreferencesInput,
        Following,
        types::NotificationKind,
        types::Delivery
    )),
    tags((name = "notifications", description = "The bell: what concerns the caller, and how they hear of it"))
)]
pub struct NotificationsApiDoc;
