//! Legacies and stories over HTTP: the REST API (`/api/v1/...`, described by the OpenAPI
//! document at `/api/v1/openapi.json`) and the legacy and story pages' forms. Where a
//! page has a form for an operation, one handler serves both (see `form`): it
//! authenticates, calls one stories service method and answers in the caller's mode.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Json as JsonBody;
use backend::stories::service::ListRequest;
use serde::Deserialize;
use serde_json::json;
use types::routes::{self, api};
use types::{
    ApiError, FlagView, Flash, LegacyInput, LegacyUpdate, LegacyView, MemberView, RevisionView, StoryInput, StoryPage,
    StoryUpdate, StoryView,
};
use types::{FlagId, LegacyId, StoryId, UserId};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::extract::{IdempotencyKey, Path, Query};
use super::form::{answer, Done, Input, Mode};
use super::session::{urlencode, Caller, Visitor};
use super::ApiFailure;

type ApiResult<T> = Result<T, ApiFailure>;

#[utoipa::path(get, path = api::LEGACIES, tag = "legacies",
    responses((status = 200, body = [LegacyView], description = "Legacies you belong to"), (status = 401, body = ApiError)))]
pub async fn my_legacies(me: Caller) -> ApiResult<JsonBody<Vec<LegacyView>>> {
    Ok(JsonBody(me.backend.stories.my_legacies(&me.user).await?))
}

/// The fields a story or legacy form puts back after a refused save.
fn values(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()
}

/// What a legacy form had typed, to refill it after a problem.
fn legacy_values(input: &LegacyInput) -> Vec<(String, String)> {
    values(&[("name", &input.name), ("born", &input.born), ("died", &input.died), ("summary", &input.summary)])
}

#[utoipa::path(post, path = api::LEGACIES, tag = "legacies", request_body = LegacyInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replaying a key returns the first result")),
    responses((status = 201, body = LegacyView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, body = ApiError)))]
pub async fn create_legacy(
    me: Caller,
    IdempotencyKey(key): IdempotencyKey,
    Input(mode, input): Input<LegacyInput>,
) -> Response {
    let created = me.backend.stories.create_legacy(&me.user, &input, key.as_deref()).await;
    let done =
        created.map(|legacy| Done::new(routes::LEGACY.to(&[&legacy.id]), (StatusCode::CREATED, JsonBody(legacy))));
    let typed = legacy_values(&input);
    answer(mode, done, routes::LEGACIES.path, typed)
}

#[utoipa::path(get, path = api::LEGACY, tag = "legacies", params(("id" = String, Path)),
    responses((status = 200, body = LegacyView), (status = 404, body = ApiError)))]
pub async fn get_legacy(visitor: Visitor, Path(id): Path<LegacyId>) -> ApiResult<JsonBody<LegacyView>> {
    Ok(JsonBody(visitor.backend.stories.legacy(visitor.user(), &id).await?))
}

#[utoipa::path(put, path = api::LEGACY, tag = "legacies", params(("id" = String, Path)), request_body = LegacyUpdate,
    responses((status = 200, body = LegacyView), (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "A member who is not an owner"), (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "`legacy_version_conflict`: someone changed it first"),
        (status = 422, body = ApiError)))]
pub async fn update_legacy(me: Caller, Path(id): Path<LegacyId>, Input(mode, update): Input<LegacyUpdate>) -> Response {
    let updated = me.backend.stories.update_legacy(&me.user, &id, &update).await;
    let done = updated.map(|legacy| {
        Done::new(routes::LEGACY.to(&[&legacy.id]), JsonBody(legacy)).notice("The legacy's details were saved.")
    });
    let typed = legacy_values(&update.details);
    answer(mode, done, &routes::EDIT_LEGACY.to(&[&id]), typed)
}

#[utoipa::path(get, path = api::MEMBERS, tag = "legacies", params(("id" = String, Path)),
    responses((status = 200, body = [MemberView]), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn members(me: Caller, Path(id): Path<LegacyId>) -> ApiResult<JsonBody<Vec<MemberView>>> {
    Ok(JsonBody(me.backend.stories.members(&me.user, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct InvitationInput {
    /// `editor`, `contributor` or `viewer`.
    role: String,
    #[serde(default = "default_days")]
    expires_in_days: u32,
    /// Also email the link to this address (refused with `email_not_configured` on an
    /// instance without a mail server). Empty or absent: only the link is returned.
    #[serde(default)]
    email: Option<String>,
}

fn default_days() -> u32 {
    7
}

#[utoipa::path(post, path = api::INVITATIONS, tag = "legacies", params(("id" = String, Path)),
    request_body = InvitationInput,
    responses((status = 201, description = "The link to send", body = Object), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn invite(me: Caller, Path(id): Path<LegacyId>, Input(mode, input): Input<InvitationInput>) -> Response {
    let members = routes::MEMBERS.to(&[&id]);
    let days = input.expires_in_days;
    let email = input.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let invited = me.backend.stories.invite(&me.user, &id, &input.role, days, email).await;
    let done = invited.map(|token| {
        let url = me.backend.config.public_link(&routes::INVITATION.to(&[&token]));
        let sent = email.map(|to| format!(" It was emailed to {to}."));
        let notice = format!("Invitation created for a {}. It works once, for {days} days.", input.role);
        let mut flash = Flash::notice(format!("{notice}{}", sent.unwrap_or_default()));
        flash.values.push(("invitation_url".into(), url.clone()));
        Done::new(&members, (StatusCode::CREATED, JsonBody(json!({ "url": url, "token": token })))).flash(flash)
    });
    answer(mode, done, &members, Vec::new())
}

#[utoipa::path(post, path = api::ACCEPT_INVITATION, tag = "legacies",
    params(("token" = String, Path,
        description = "The emailed link's token, or the invitation's id for the account it was made for")),
    responses((status = 200, body = Object), (status = 401, body = ApiError), (status = 422, body = ApiError)))]
pub async fn accept_invitation(mode: Mode, me: Caller, Path(token): Path<String>) -> Response {
    let accepted = me.backend.stories.accept_invitation(&me.user, &token).await;
    let done = accepted.map(|legacy_id| {
        Done::new(routes::LEGACY.to(&[&legacy_id]), JsonBody(json!({ "legacy_id": legacy_id })))
            .notice("Welcome! You are now a member of this legacy.")
    });
    answer(mode, done, &routes::INVITATION.to(&[&urlencode(&token)]), Vec::new())
}

#[derive(Deserialize, ToSchema)]
pub struct MemberInput {
    /// `owner`, `editor`, `contributor` or `viewer`.
    role: String,
}

#[utoipa::path(put, path = api::MEMBER, tag = "legacies",
    params(("id" = String, Path), ("user_id" = String, Path)), request_body = MemberInput,
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn set_member(
    me: Caller,
    Path((id, user_id)): Path<(LegacyId, UserId)>,
    Input(mode, input): Input<MemberInput>,
) -> Response {
    // The members page offers "remove" beside the roles; the API removes with DELETE.
    let role = (mode == Mode::Json || input.role != "remove").then_some(input.role.as_str());
    let members = routes::MEMBERS.to(&[&id]);
    let changed = me.backend.stories.set_member(&me.user, &id, &user_id, role).await;
    let done = changed.map(|()| Done::new(&members, StatusCode::NO_CONTENT).notice("Membership updated."));
    answer(mode, done, &members, Vec::new())
}

#[utoipa::path(delete, path = api::MEMBER, tag = "legacies",
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError)))]
pub async fn remove_member(me: Caller, Path((id, user_id)): Path<(LegacyId, UserId)>) -> ApiResult<StatusCode> {
    me.backend.stories.set_member(&me.user, &id, &user_id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct StoryQuery {
    #[serde(default)]
    legacy_id: String,
    #[serde(default)]
    author_id: String,
    /// `draft` or `published`.
    #[serde(default)]
    status: String,
    /// `private`, `members` or `public`.
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    tag: String,
    /// Stories whose text mentions this person.
    #[serde(default)]
    person_id: String,
    /// From `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1-100, default 20.
    limit: Option<i64>,
}

#[utoipa::path(get, path = api::STORIES, tag = "stories", params(StoryQuery),
    responses((status = 200, body = StoryPage, description = "Stories you may read; public ones when signed out"),
        (status = 422, body = ApiError)))]
pub async fn list_stories(visitor: Visitor, Query(query): Query<StoryQuery>) -> ApiResult<JsonBody<StoryPage>> {
    let request = ListRequest {
        legacy_id: Some(query.legacy_id),
        author_id: Some(query.author_id),
        status: Some(query.status),
        visibility: Some(query.visibility),
        tag: Some(query.tag),
        person_id: Some(query.person_id),
        cursor: query.cursor,
        limit: query.limit,
    };
    Ok(JsonBody(visitor.backend.stories.list(visitor.user(), &request).await?))
}

/// What a story form puts back after a refused save.
fn story_values(title: &str, body: &str, tags: &[String], visibility: Option<&str>) -> Vec<(String, String)> {
    values(&[
        ("title", title),
        ("body", body),
        ("tags", &tags.join(", ")),
        ("visibility", visibility.unwrap_or_default()),
    ])
}

/// The legacy a new story goes to when the form's URL names it (`/legacies/{id}/stories`).
#[derive(Deserialize)]
pub struct LegacyOfStory {
    id: Option<LegacyId>,
}

#[utoipa::path(post, path = api::STORIES, tag = "stories", request_body = StoryInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replaying a key returns the first result")),
    responses((status = 201, body = StoryView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 413, body = ApiError), (status = 422, body = ApiError)))]
pub async fn create_story(
    me: Caller,
    Path(legacy): Path<LegacyOfStory>,
    IdempotencyKey(key): IdempotencyKey,
    Input(mode, mut input): Input<StoryInput>,
) -> Response {
    if let Some(legacy_id) = legacy.id {
        input.legacy_id = legacy_id;
    }
    let created = me.backend.stories.create_story(&me.user, &input, key.as_deref()).await;
    let done = created.map(|story| Done::new(routes::STORY.to(&[&story.id]), (StatusCode::CREATED, JsonBody(story))));
    let typed = story_values(&input.title, &input.body, &input.tags, input.visibility.as_deref());
    answer(mode, done, &routes::NEW_STORY.to(&[&input.legacy_id]), typed)
}

#[utoipa::path(get, path = api::STORY, tag = "stories", params(("id" = String, Path)),
    responses((status = 200, body = StoryView), (status = 404, body = ApiError)))]
pub async fn get_story(visitor: Visitor, Path(id): Path<StoryId>) -> ApiResult<JsonBody<StoryView>> {
    Ok(JsonBody(visitor.backend.stories.story(visitor.user(), &id).await?))
}

#[utoipa::path(put, path = api::STORY, tag = "stories", params(("id" = String, Path)), request_body = StoryUpdate,
    responses((status = 200, body = StoryView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError, description = "Someone saved first"),
        (status = 413, body = ApiError), (status = 422, body = ApiError)))]
pub async fn update_story(me: Caller, Path(id): Path<StoryId>, Input(mode, update): Input<StoryUpdate>) -> Response {
    let updated = me.backend.stories.update_story(&me.user, &id, &update).await;
    let done = updated.map(|story| Done::new(routes::STORY.to(&[&story.id]), JsonBody(story)));
    let typed = story_values(&update.title, &update.body, &update.tags, update.visibility.as_deref());
    answer(mode, done, &routes::EDIT_STORY.to(&[&id]), typed)
}

#[utoipa::path(delete, path = api::STORY, tag = "stories", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn delete_story(mode: Mode, me: Caller, Path(id): Path<StoryId>) -> Response {
    let deleted = me.backend.stories.delete_story(&me.user, &id).await;
    let done = deleted.map(|legacy_id| {
        Done::new(routes::LEGACY.to(&[&legacy_id]), StatusCode::NO_CONTENT).notice("The story was deleted.")
    });
    answer(mode, done, &routes::STORY.to(&[&id]), Vec::new())
}

#[utoipa::path(get, path = api::REVISIONS, tag = "stories", params(("id" = String, Path)),
    responses((status = 200, body = [RevisionView]), (status = 404, body = ApiError)))]
pub async fn revisions(visitor: Visitor, Path(id): Path<StoryId>) -> ApiResult<JsonBody<Vec<RevisionView>>> {
    Ok(JsonBody(visitor.backend.stories.revisions(visitor.user(), &id).await?))
}

#[utoipa::path(get, path = api::REVISION, tag = "stories",
    params(("id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = RevisionView), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn revision(
    visitor: Visitor,
    Path((id, version)): Path<(StoryId, i64)>,
) -> ApiResult<JsonBody<RevisionView>> {
    Ok(JsonBody(visitor.backend.stories.revision(visitor.user(), &id, version).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct RestoreInput {
    /// The story's current version (the one you are looking at).
    version: i64,
    /// The version to restore, when the URL does not name it (the history page's form).
    #[serde(default)]
    revision: Option<i64>,
}

/// The story, and the version to restore when the URL names it (the REST API).
#[derive(Deserialize)]
pub struct RestorePath {
    id: StoryId,
    version: Option<i64>,
}

#[utoipa::path(post, path = api::RESTORE, tag = "stories",
    params(("id" = String, Path), ("version" = i64, Path)), request_body = RestoreInput,
    responses((status = 200, body = StoryView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn restore(me: Caller, Path(path): Path<RestorePath>, Input(mode, input): Input<RestoreInput>) -> Response {
    let id = path.id;
    let restored = match path.version.or(input.revision) {
        Some(revision) => me.backend.stories.restore(&me.user, &id, revision, input.version).await.map(|story| {
            let message = format!("Version {revision} was restored as version {}.", story.version);
            Done::new(routes::STORY.to(&[&id]), JsonBody(story)).notice(message)
        }),
        None => Err(backend::Error::invalid("revision", "is required")),
    };
    answer(mode, restored, &routes::HISTORY.to(&[&id]), Vec::new())
}

#[derive(Deserialize, ToSchema)]
pub struct FlagInput {
    reason: String,
}

#[utoipa::path(post, path = api::FLAGS, tag = "moderation", params(("id" = String, Path)),
    request_body = FlagInput,
    responses((status = 201, body = Object), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn flag(me: Caller, Path(id): Path<StoryId>, Input(mode, input): Input<FlagInput>) -> Response {
    let story = routes::STORY.to(&[&id]);
    let flagged = me.backend.stories.flag(&me.user, &id, &input.reason).await;
    let done = flagged.map(|flag_id| {
        Done::new(&story, (StatusCode::CREATED, JsonBody(json!({ "id": flag_id }))))
            .notice("Thank you. The legacy's owners will review it.")
    });
    answer(mode, done, &story, Vec::new())
}

#[utoipa::path(get, path = api::MODERATION_FLAGS, tag = "moderation",
    responses((status = 200, body = [FlagView]), (status = 401, body = ApiError)))]
pub async fn moderation_queue(me: Caller) -> ApiResult<JsonBody<Vec<FlagView>>> {
    Ok(JsonBody(me.backend.stories.moderation_queue(&me.user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ResolveInput {
    /// `dismiss` (keep the story) or `remove` (delete it).
    action: String,
}

#[utoipa::path(post, path = api::MODERATION_FLAG, tag = "moderation", params(("id" = String, Path)),
    request_body = ResolveInput,
    responses((status = 204), (status = 401, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn resolve_flag(me: Caller, Path(id): Path<FlagId>, Input(mode, input): Input<ResolveInput>) -> Response {
    let resolved = me.backend.stories.resolve_flag(&me.user, &id, &input.action).await;
    let done = resolved.map(|()| Done::new(routes::MODERATION.path, StatusCode::NO_CONTENT).notice("Resolved."));
    answer(mode, done, routes::MODERATION.path, Vec::new())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Heirloom API",
        description = "Legacies and stories. Writes need a signed-in session cookie and an \
        Origin header matching the instance's public URL."
    ),
    paths(
        my_legacies,
        create_legacy,
        get_legacy,
        update_legacy,
        members,
        invite,
        accept_invitation,
        set_member,
        remove_member,
        list_stories,
        create_story,
        get_story,
        update_story,
        delete_story,
        revisions,
        revision,
        restore,
        flag,
        moderation_queue,
        resolve_flag
    ),
    components(schemas(
        ApiError,
        types::ErrorCode,
        types::FieldError,
        LegacyView,
        LegacyInput,
        LegacyUpdate,
        MemberView,
        StoryView,
        StoryInput,
        StoryUpdate,
        StoryPage,
        types::StorySummary,
        RevisionView,
        FlagView,
        types::LegacyRole,
        types::Visibility,
        types::StoryStatus,
        InvitationInput,
        MemberInput,
        RestoreInput,
        FlagInput,
        ResolveInput
    ))
)]
pub struct ApiDoc;

pub async fn openapi() -> JsonBody<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::calls_api::CallsApiDoc::openapi());
    doc.merge(super::search_api::SearchApiDoc::openapi());
    doc.merge(super::media_api::MediaApiDoc::openapi());
    doc.merge(super::tips_api::TipsApiDoc::openapi());
    doc.merge(super::people_api::PeopleApiDoc::openapi());
    doc.merge(super::conversation_api::ConversationApiDoc::openapi());
    doc.merge(super::feed_api::FeedApiDoc::openapi());
    doc.merge(super::notifications_api::NotificationsApiDoc::openapi());
    doc.merge(super::stream_api::LiveApiDoc::openapi());
    JsonBody(doc)
}
