//! Comments and reactions over HTTP: the REST API (`/api/v1/stories/{id}/comments`,
//! `/api/v1/media/{id}/comments`, `/api/v1/comments/…`, the `reactions` of each) and the
//! story page's forms, one handler per operation answering in the caller's mode (see
//! `form`). A form goes back to the comment on its page (`#comment-…`).

use axum::http::StatusCode;
use axum::response::Response;
use axum::Json as JsonBody;
use backend::conversation::{Subject, Thread};
use serde::Deserialize;
use serde_json::json;
use types::routes::{self, api, browser};
use types::{
    ApiError, CommentId, CommentInput, CommentUpdate, CommentView, ConversationView, MediaId, ReactionCount,
    ReactionInput, StoryId,
};
use utoipa::{OpenApi, ToSchema};

use super::extract::Path;
use super::form::{answer, Done, Input, Mode};
use super::session::{Caller, Visitor};
use super::ApiFailure;

type ApiResult<T> = Result<T, ApiFailure>;

/// The page a thread is read on: its story's, or its media item's (found through the
/// item's URL when the reader may not see the item).
async fn thread_page(me: &Caller, thread: &Thread) -> String {
    match thread {
        Thread::Story(id) => routes::STORY.to(&[id]),
        Thread::Media(id) => match me.backend.media.media(Some(&me.user), id).await {
            Ok(item) => routes::MEDIA_PAGE.to(&[&item.legacy_id, id]),
            Err(_) => routes::fill(browser::MEDIA_ITEM, &[id]),
        },
    }
}

/// Where a form about comment `id` goes back to: its page, at the comment.
async fn comment_page(me: &Caller, id: &CommentId) -> String {
    match me.backend.conversation.thread_of(id).await {
        Ok(Some(thread)) => format!("{}#comment-{id}", thread_page(me, &thread).await),
        _ => routes::HOME.path.to_string(),
    }
}

#[utoipa::path(get, path = api::STORY_COMMENTS, tag = "conversation", params(("id" = String, Path)),
    responses((status = 200, body = ConversationView), (status = 404, body = ApiError)))]
pub async fn story_conversation(visitor: Visitor, Path(id): Path<StoryId>) -> ApiResult<JsonBody<ConversationView>> {
    Ok(JsonBody(visitor.backend.conversation.conversation(visitor.user(), &Thread::Story(id)).await?))
}

#[utoipa::path(get, path = api::MEDIA_COMMENTS, tag = "conversation", params(("id" = String, Path)),
    responses((status = 200, body = ConversationView), (status = 404, body = ApiError)))]
pub async fn media_conversation(visitor: Visitor, Path(id): Path<MediaId>) -> ApiResult<JsonBody<ConversationView>> {
    Ok(JsonBody(visitor.backend.conversation.conversation(visitor.user(), &Thread::Media(id)).await?))
}

async fn add_comment(me: Caller, thread: Thread, mode: Mode, input: CommentInput) -> Response {
    let page = thread_page(&me, &thread).await;
    let added = me.backend.conversation.comment(&me.user, &thread, &input).await;
    let done = added.map(|comment| {
        Done::new(format!("{page}#comment-{}", comment.id), (StatusCode::CREATED, JsonBody(comment)))
            .notice("Your comment was added.")
    });
    answer(mode, done, &format!("{page}#comments"), vec![("body".into(), input.body)])
}

#[utoipa::path(post, path = api::STORY_COMMENTS, tag = "conversation", params(("id" = String, Path)),
    request_body = CommentInput,
    responses((status = 201, body = CommentView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn comment_on_story(
    me: Caller,
    Path(id): Path<StoryId>,
    Input(mode, input): Input<CommentInput>,
) -> Response {
    add_comment(me, Thread::Story(id), mode, input).await
}

#[utoipa::path(post, path = api::MEDIA_COMMENTS, tag = "conversation", params(("id" = String, Path)),
    request_body = CommentInput,
    responses((status = 201, body = CommentView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn comment_on_media(
    me: Caller,
    Path(id): Path<MediaId>,
    Input(mode, input): Input<CommentInput>,
) -> Response {
    add_comment(me, Thread::Media(id), mode, input).await
}

#[utoipa::path(put, path = api::COMMENT, tag = "conversation", params(("id" = String, Path)),
    request_body = CommentUpdate,
    responses((status = 200, body = CommentView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn edit_comment(me: Caller, Path(id): Path<CommentId>, Input(mode, input): Input<CommentUpdate>) -> Response {
    let page = comment_page(&me, &id).await;
    let edited = me.backend.conversation.edit_comment(&me.user, &id, &input).await;
    let done = edited.map(|comment| Done::new(&page, JsonBody(comment)).notice("Your comment was changed."));
    answer(mode, done, &page, Vec::new())
}

#[utoipa::path(delete, path = api::COMMENT, tag = "conversation", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn delete_comment(mode: Mode, me: Caller, Path(id): Path<CommentId>) -> Response {
    let page = comment_page(&me, &id).await;
    let deleted = me.backend.conversation.delete_comment(&me.user, &id).await;
    let next = match &deleted {
        Ok(thread) => format!("{}#comments", thread_page(&me, thread).await),
        Err(_) => page.clone(),
    };
    let done = deleted.map(|_| Done::new(next, StatusCode::NO_CONTENT).notice("The comment was deleted."));
    answer(mode, done, &page, Vec::new())
}

async fn react(me: Caller, subject: Subject, back: String, mode: Mode, input: ReactionInput) -> Response {
    let reacted = me.backend.conversation.react(&me.user, &subject, &input).await;
    answer(mode, reacted.map(|counts| Done::new(&back, JsonBody(counts))), &back, Vec::new())
}

#[utoipa::path(post, path = api::STORY_REACTIONS, tag = "conversation", params(("id" = String, Path)),
    request_body = ReactionInput,
    responses((status = 200, body = [ReactionCount], description = "The story's reactions after the change"),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 422, body = ApiError)))]
pub async fn react_to_story(me: Caller, Path(id): Path<StoryId>, Input(mode, input): Input<ReactionInput>) -> Response {
    let back = format!("{}#reactions", routes::STORY.to(&[&id]));
    react(me, Subject::Thread(Thread::Story(id)), back, mode, input).await
}

#[utoipa::path(post, path = api::MEDIA_REACTIONS, tag = "conversation", params(("id" = String, Path)),
    request_body = ReactionInput,
    responses((status = 200, body = [ReactionCount], description = "The item's reactions after the change"),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 422, body = ApiError)))]
pub async fn react_to_media(me: Caller, Path(id): Path<MediaId>, Input(mode, input): Input<ReactionInput>) -> Response {
    let thread = Thread::Media(id);
    let back = format!("{}#reactions", thread_page(&me, &thread).await);
    react(me, Subject::Thread(thread), back, mode, input).await
}

#[utoipa::path(post, path = api::COMMENT_REACTIONS, tag = "conversation", params(("id" = String, Path)),
    request_body = ReactionInput,
    responses((status = 200, body = [ReactionCount], description = "The comment's reactions after the change"),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 422, body = ApiError)))]
pub async fn react_to_comment(
    me: Caller,
    Path(id): Path<CommentId>,
    Input(mode, input): Input<ReactionInput>,
) -> Response {
    let back = comment_page(&me, &id).await;
    react(me, Subject::Comment(id), back, mode, input).await
}

/// A report's reason (of a comment, a photo or a recording).
#[derive(Deserialize, ToSchema)]
pub struct CommentFlagInput {
    #[serde(default)]
    reason: String,
}

#[utoipa::path(post, path = api::COMMENT_FLAGS, tag = "moderation", params(("id" = String, Path)),
    request_body = CommentFlagInput,
    responses((status = 201, body = Object), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn flag_comment(
    me: Caller,
    Path(id): Path<CommentId>,
    Input(mode, input): Input<CommentFlagInput>,
) -> Response {
    let page = comment_page(&me, &id).await;
    let flagged = me.backend.conversation.flag_comment(&me.user, &id, &input.reason).await;
    let done = flagged.map(|flag_id| {
        Done::new(&page, (StatusCode::CREATED, JsonBody(json!({ "id": flag_id }))))
            .notice("Thank you. The legacy's owners will review it.")
    });
    answer(mode, done, &page, Vec::new())
}

#[utoipa::path(post, path = api::MEDIA_FLAGS, tag = "moderation", params(("id" = String, Path)),
    request_body = CommentFlagInput,
    responses((status = 201, body = Object), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn flag_media(me: Caller, Path(id): Path<MediaId>, Input(mode, input): Input<CommentFlagInput>) -> Response {
    let page = thread_page(&me, &Thread::Media(id.clone())).await;
    let flagged = me.backend.conversation.flag_media(&me.user, &id, &input.reason).await;
    let done = flagged.map(|flag_id| {
        Done::new(&page, (StatusCode::CREATED, JsonBody(json!({ "id": flag_id }))))
            .notice("Thank you. The legacy's owners will review it.")
    });
    answer(mode, done, &page, Vec::new())
}

#[derive(OpenApi)]
#[openapi(
    paths(
        story_conversation,
        media_conversation,
        comment_on_story,
        comment_on_media,
        edit_comment,
        delete_comment,
        react_to_story,
        react_to_media,
        react_to_comment,
        flag_comment,
        flag_media
    ),
    components(schemas(
        ConversationView,
        CommentView,
        CommentInput,
        CommentUpdate,
        ReactionInput,
        ReactionCount,
        CommentFlagInput,
        types::ReactionKind,
        types::SubjectKind
    )),
    tags((name = "conversation", description = "Comments and reactions on stories and media items"))
)]
pub struct ConversationApiDoc;
