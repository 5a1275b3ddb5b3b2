//! How a [`types::ApiError`] becomes an HTTP response: its status, JSON body and, for
//! rate limits, `Retry-After`. Every handler returns errors through [`ApiFailure`].

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use types::ApiError;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiFailure {
    pub error: ApiError,
    /// The database could not be reached: the response carries [`DatabaseUnreachable`]
    /// so the database gate starts failing requests fast.
    database_unreachable: bool,
}

/// Marks a response that failed because the database could not be reached.
#[derive(Clone, Copy, Debug)]
pub struct DatabaseUnreachable;

impl ApiFailure {
    pub fn new(error: ApiError) -> ApiFailure {
        ApiFailure { error, database_unreachable: false }
    }
}

impl From<backend::Error> for ApiFailure {
    fn from(err: backend::Error) -> Self {
        let database_unreachable = err.is_database_unreachable();
        ApiFailure { error: err.into(), database_unreachable }
    }
}

impl From<ApiError> for ApiFailure {
    fn from(err: ApiError) -> Self {
        ApiFailure::new(err)
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = match &self.error {
            ApiError::RateLimited { retry_after_secs, .. } => Some(*retry_after_secs),
            _ => None,
        };
        let mut response = (status, Json(self.error)).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.database_unreachable {
            response.extensions_mut().insert(DatabaseUnreachable);
        }
        response
    }
}

/// Any path under `/api` that no endpoint answers.
pub async fn api_not_found(uri: axum::http::Uri) -> ApiFailure {
    ApiFailure::new(ApiError::not_found(format!("No API endpoint at {}.", uri.path())))
}
