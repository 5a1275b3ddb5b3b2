//! axum's JSON, path and query extractors, with their rejections turned into the typed
//! `ApiError` (a 422 naming what is wrong, or a 413) instead of plain-text bodies.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use types::ApiError;

use super::ApiFailure;

/// A rejected body, path or query as the typed error: 413 when too large, else 422.
pub fn rejected(status: StatusCode, text: String) -> ApiFailure {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiFailure::new(ApiError::payload_too_large(
            "The request body is larger than this endpoint accepts.",
            None,
        ));
    }
    ApiFailure::new(ApiError::invalid_request(text))
}

pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiFailure;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(err @ JsonRejection::MissingJsonContentType(_)) => {
                Err(rejected(err.status(), "Send the body as JSON with Content-Type: application/json.".into()))
            }
            Err(err) => Err(rejected(err.status(), err.body_text())),
        }
    }
}

pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|err: PathRejection| rejected(StatusCode::UNPROCESSABLE_ENTITY, err.body_text()))
    }
}

pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|err: QueryRejection| rejected(StatusCode::UNPROCESSABLE_ENTITY, err.body_text()))
    }
}
