//! The REST API of search (`/api/v1/search`): full-text search with filters and facets,
//! typeahead suggestions, and the administrator's rebuild of this server's index. Results
//! only ever hold what the caller may read (public ones when signed out); each handler
//! authenticates, calls one backend method and maps the result.

use serde::Deserialize;
use types::routes::api;
use types::{
    ApiError, FacetCount, ReindexReport, SearchFacets, SearchHit, SearchKind, SearchParams, SearchResults,
    SearchSuggestion,
};
use utoipa::{IntoParams, OpenApi};

use super::extract::Query;
use super::session::{Caller, Visitor};
use super::ApiFailure;

type ApiResult<T> = Result<T, ApiFailure>;

#[utoipa::path(get, path = api::SEARCH, tag = "search", params(SearchParams),
    responses((status = 200, body = SearchResults, description = "Matches you may read (public ones when signed out), \
        best first or newest first, with facet counts over all of them"),
        (status = 422, body = ApiError, description = "A parameter is wrong: `q` empty or longer than 512 characters, \
        an unknown `type` or `sort`, a bad date, `limit` or `offset` out of range"),
        (status = 429, body = ApiError, description = "Too many searches from your address")))]
pub async fn search(visitor: Visitor, Query(params): Query<SearchParams>) -> ApiResult<axum::Json<SearchResults>> {
    Ok(axum::Json(visitor.backend.search.find(visitor.user(), &params).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    /// What has been typed so far (required, at most 512 characters).
    #[serde(default)]
    q: String,
}

#[utoipa::path(get, path = api::SUGGEST, tag = "search", params(SuggestQuery),
    responses((status = 200, body = [SearchSuggestion], description = "Up to 8 stories and legacies you may read, \
        title matches first"),
        (status = 422, body = ApiError), (status = 429, body = ApiError)))]
pub async fn suggest(
    visitor: Visitor,
    Query(query): Query<SuggestQuery>,
) -> ApiResult<axum::Json<Vec<SearchSuggestion>>> {
    Ok(axum::Json(visitor.backend.search.suggest_for(visitor.user(), &query.q).await?))
}

#[utoipa::path(post, path = api::REINDEX, tag = "search",
    responses((status = 200, body = ReindexReport, description = "This server's index was rebuilt from the database \
        and switched to; searches kept answering meanwhile"),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 409, body = ApiError, description = "A rebuild is already running")))]
pub async fn reindex(me: Caller) -> ApiResult<axum::Json<ReindexReport>> {
    Ok(axum::Json(me.backend.admin.reindex(&me.user).await?))
}

#[derive(OpenApi)]
#[openapi(
    paths(search, suggest, reindex),
    components(schemas(
        SearchResults,
        SearchHit,
        SearchFacets,
        FacetCount,
        SearchSuggestion,
        SearchKind,
        ReindexReport
    ))
)]
pub struct SearchApiDoc;
