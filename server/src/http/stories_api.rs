//! The REST API for legacies and stories (`/api/v1/...`), described by the OpenAPI
//! document at `/api/v1/openapi.json`. Each handler authenticates, calls one stories
//! service method and maps the result.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use backend::stories::service::ListRequest;
use serde::Deserialize;
use serde_json::{json, Value};
use types::{
    ApiError, FlagView, LegacyInput, LegacyView, MemberView, RevisionView, StoryInput, StoryPage, StoryUpdate,
    StoryView,
};
use types::{FlagId, LegacyId, StoryId, UserId};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::extract::{Json, Path, Query};
use super::session::{MaybeUser, RequireUser};
use super::{ApiFailure, AppState};

type ApiResult<T> = Result<T, ApiFailure>;

/// The `Idempotency-Key` header of a create, if any.
fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string)
}

#[utoipa::path(get, path = "/api/v1/legacies", tag = "legacies",
    responses((status = 200, body = [LegacyView], description = "Legacies you belong to"), (status = 401, body = ApiError)))]
pub async fn my_legacies(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
) -> ApiResult<axum::Json<Vec<LegacyView>>> {
    Ok(axum::Json(state.backend.stories.my_legacies(&auth.user).await?))
}

#[utoipa::path(post, path = "/api/v1/legacies", tag = "legacies", request_body = LegacyInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replaying a key returns the first result")),
    responses((status = 201, body = LegacyView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, body = ApiError)))]
pub async fn create_legacy(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    headers: HeaderMap,
    Json(input): Json<LegacyInput>,
) -> ApiResult<(StatusCode, axum::Json<LegacyView>)> {
    let legacy = state.backend.stories.create_legacy(&auth.user, &input, idempotency_key(&headers).as_deref()).await?;
    Ok((StatusCode::CREATED, axum::Json(legacy)))
}

#[utoipa::path(get, path = "/api/v1/legacies/{id}", tag = "legacies", params(("id" = String, Path)),
    responses((status = 200, body = LegacyView), (status = 404, body = ApiError)))]
pub async fn get_legacy(
    State(state): State<AppState>,
    MaybeUser(auth): MaybeUser,
    Path(id): Path<LegacyId>,
) -> ApiResult<axum::Json<LegacyView>> {
    Ok(axum::Json(state.backend.stories.legacy(auth.as_ref().map(|a| &a.user), &id).await?))
}

#[utoipa::path(get, path = "/api/v1/legacies/{id}/members", tag = "legacies", params(("id" = String, Path)),
    responses((status = 200, body = [MemberView]), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn members(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path(id): Path<LegacyId>,
) -> ApiResult<axum::Json<Vec<MemberView>>> {
    Ok(axum::Json(state.backend.stories.members(&auth.user, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct InvitationInput {
    /// `editor`, `contributor` or `viewer`.
    role: String,
    #[serde(default = "default_days")]
    expires_in_days: u32,
}

fn default_days() -> u32 {
    7
}

#[utoipa::path(post, path = "/api/v1/legacies/{id}/invitations", tag = "legacies", params(("id" = String, Path)),
    request_body = InvitationInput,
    responses((status = 201, description = "The link to send", body = Object), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn invite(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path(id): Path<LegacyId>,
    Json(input): Json<InvitationInput>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let token = state.backend.stories.invite(&auth.user, &id, &input.role, input.expires_in_days).await?;
    let base = state.backend.config.public_url.as_str().trim_end_matches('/').to_string();
    Ok((StatusCode::CREATED, axum::Json(json!({ "url": format!("{base}/invitations/{token}"), "token": token }))))
}

#[utoipa::path(post, path = "/api/v1/invitations/{token}/accept", tag = "legacies", params(("token" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ApiError), (status = 422, body = ApiError)))]
pub async fn accept_invitation(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path(token): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let legacy_id = state.backend.stories.accept_invitation(&auth.user, &token).await?;
    Ok(axum::Json(json!({ "legacy_id": legacy_id })))
}

#[derive(Deserialize, ToSchema)]
pub struct MemberInput {
    /// `owner`, `editor`, `contributor` or `viewer`.
    role: String,
}

#[utoipa::path(put, path = "/api/v1/legacies/{id}/members/{user_id}", tag = "legacies",
    params(("id" = String, Path), ("user_id" = String, Path)), request_body = MemberInput,
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn set_member(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path((id, user_id)): Path<(LegacyId, UserId)>,
    Json(input): Json<MemberInput>,
) -> ApiResult<StatusCode> {
    state.backend.stories.set_member(&auth.user, &id, &user_id, Some(&input.role)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/legacies/{id}/members/{user_id}", tag = "legacies",
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError)))]
pub async fn remove_member(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path((id, user_id)): Path<(LegacyId, UserId)>,
) -> ApiResult<StatusCode> {
    state.backend.stories.set_member(&auth.user, &id, &user_id, None).await?;
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
    /// From `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1-100, default 20.
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/stories", tag = "stories", params(StoryQuery),
    responses((status = 200, body = StoryPage, description = "Stories you may read; public ones when signed out"),
        (status = 422, body = ApiError)))]
pub async fn list_stories(
    State(state): State<AppState>,
    MaybeUser(auth): MaybeUser,
    Query(query): Query<StoryQuery>,
) -> ApiResult<axum::Json<StoryPage>> {
    let request = ListRequest {
        legacy_id: Some(query.legacy_id),
        author_id: Some(query.author_id),
        status: Some(query.status),
        visibility: Some(query.visibility),
        tag: Some(query.tag),
        cursor: query.cursor,
        limit: query.limit,
    };
    Ok(axum::Json(state.backend.stories.list(auth.as_ref().map(|a| &a.user), &request).await?))
}

#[utoipa::path(post, path = "/api/v1/stories", tag = "stories", request_body = StoryInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replaying a key returns the first result")),
    responses((status = 201, body = StoryView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 413, body = ApiError), (status = 422, body = ApiError)))]
pub async fn create_story(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    headers: HeaderMap,
    Json(input): Json<StoryInput>,
) -> ApiResult<(StatusCode, axum::Json<StoryView>)> {
    let story = state.backend.stories.create_story(&auth.user, &input, idempotency_key(&headers).as_deref()).await?;
    Ok((StatusCode::CREATED, axum::Json(story)))
}

#[utoipa::path(get, path = "/api/v1/stories/{id}", tag = "stories", params(("id" = String, Path)),
    responses((status = 200, body = StoryView), (status = 404, body = ApiError)))]
pub async fn get_story(
    State(state): State<AppState>,
    MaybeUser(auth): MaybeUser,
    Path(id): Path<StoryId>,
) -> ApiResult<axum::Json<StoryView>> {
    Ok(axum::Json(state.backend.stories.story(auth.as_ref().map(|a| &a.user), &id).await?))
}

#[utoipa::path(put, path = "/api/v1/stories/{id}", tag = "stories", params(("id" = String, Path)), request_body = StoryUpdate,
    responses((status = 200, body = StoryView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError, description = "Someone saved first"),
        (status = 413, body = ApiError), (status = 422, body = ApiError)))]
pub async fn update_story(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path(id): Path<StoryId>,
    Json(update): Json<StoryUpdate>,
) -> ApiResult<axum::Json<StoryView>> {
    Ok(axum::Json(state.backend.stories.update_story(&auth.user, &id, &update).await?))
}

#[utoipa::path(delete, path = "/api/v1/stories/{id}", tag = "stories", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn delete_story(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path(id): Path<StoryId>,
) -> ApiResult<StatusCode> {
    state.backend.stories.delete_story(&auth.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/stories/{id}/revisions", tag = "stories", params(("id" = String, Path)),
    responses((status = 200, body = [RevisionView]), (status = 404, body = ApiError)))]
pub async fn revisions(
    State(state): State<AppState>,
    MaybeUser(auth): MaybeUser,
    Path(id): Path<StoryId>,
) -> ApiResult<axum::Json<Vec<RevisionView>>> {
    Ok(axum::Json(state.backend.stories.revisions(auth.as_ref().map(|a| &a.user), &id).await?))
}

#[utoipa::path(get, path = "/api/v1/stories/{id}/revisions/{version}", tag = "stories",
    params(("id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = RevisionView), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn revision(
    State(state): State<AppState>,
    MaybeUser(auth): MaybeUser,
    Path((id, version)): Path<(StoryId, i64)>,
) -> ApiResult<axum::Json<RevisionView>> {
    Ok(axum::Json(state.backend.stories.revision(auth.as_ref().map(|a| &a.user), &id, version).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct RestoreInput {
    /// The story's current version (the one you are looking at).
    version: i64,
}

#[utoipa::path(post, path = "/api/v1/stories/{id}/revisions/{version}/restore", tag = "stories",
    params(("id" = String, Path), ("version" = i64, Path)), request_body = RestoreInput,
    responses((status = 200, body = StoryView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn restore(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path((id, version)): Path<(StoryId, i64)>,
    Json(input): Json<RestoreInput>,
) -> ApiResult<axum::Json<StoryView>> {
    Ok(axum::Json(state.backend.stories.restore(&auth.user, &id, version, input.version).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct FlagInput {
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/stories/{id}/flags", tag = "moderation", params(("id" = String, Path)),
    request_body = FlagInput,
    responses((status = 201, body = Object), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn flag(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path(id): Path<StoryId>,
    Json(input): Json<FlagInput>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let flag_id = state.backend.stories.flag(&auth.user, &id, &input.reason).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "id": flag_id }))))
}

#[utoipa::path(get, path = "/api/v1/moderation/flags", tag = "moderation",
    responses((status = 200, body = [FlagView]), (status = 401, body = ApiError)))]
pub async fn moderation_queue(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
) -> ApiResult<axum::Json<Vec<FlagView>>> {
    Ok(axum::Json(state.backend.stories.moderation_queue(&auth.user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ResolveInput {
    /// `dismiss` (keep the story) or `remove` (delete it).
    action: String,
}

#[utoipa::path(post, path = "/api/v1/moderation/flags/{id}", tag = "moderation", params(("id" = String, Path)),
    request_body = ResolveInput,
    responses((status = 204), (status = 401, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn resolve_flag(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    Path(id): Path<FlagId>,
    Json(input): Json<ResolveInput>,
) -> ApiResult<StatusCode> {
    state.backend.stories.resolve_flag(&auth.user, &id, &input.action).await?;
    Ok(StatusCode::NO_CONTENT)
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

pub async fn openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::calls_api::CallsApiDoc::openapi());
    doc.merge(super::search_api::SearchApiDoc::openapi());
    doc.merge(super::media_api::MediaApiDoc::openapi());
    doc.merge(super::tips_api::TipsApiDoc::openapi());
    axum::Json(doc)
}
