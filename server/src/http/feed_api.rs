//! The activity feed over HTTP (`/api/v1/feed`): what happened in the caller's legacies,
//! newest first, a page at a time.

use axum::Json as JsonBody;
use backend::activity::FeedRequest;
use serde::Deserialize;
use types::routes::api;
use types::{ActivityItem, ActivityKind, ApiError, FeedPage};
use utoipa::{IntoParams, OpenApi};

use super::extract::Query;
use super::session::Caller;
use super::ApiFailure;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Keep to one legacy.
    legacy_id: Option<String>,
    /// `next_cursor` of the page before.
    cursor: Option<String>,
    /// Items per page, 1 to 100 (20).
    limit: Option<i64>,
}

#[utoipa::path(get, path = api::FEED, tag = "feed", params(FeedQuery),
    responses((status = 200, body = FeedPage), (status = 401, body = ApiError), (status = 422, body = ApiError)))]
pub async fn feed(me: Caller, Query(query): Query<FeedQuery>) -> Result<JsonBody<FeedPage>, ApiFailure> {
    let request = FeedRequest { legacy_id: query.legacy_id, cursor: query.cursor, limit: query.limit };
    Ok(JsonBody(me.backend.activity.feed(&me.user, &request).await?))
}

#[derive(OpenApi)]
#[openapi(
    paths(feed),
    components(schemas(FeedPage, ActivityItem, ActivityKind)),
    tags((name = "feed", description = "What happened in the legacies the caller belongs to"))
)]
pub struct FeedApiDoc;
