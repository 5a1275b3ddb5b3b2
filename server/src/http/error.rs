//! How a [`types::ApiError`] becomes an HTTP response: its status, JSON body and, for
//! rate limits, `Retry-After`. Every handler returns errors through [`ApiFailure`].

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use types::ApiError;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiFailure(pub ApiError);

impl From<backend::Error> for ApiFailure {
    fn from(err: backend::Error) -> Self {
        ApiFailure(err.into())
    }
}

impl From<ApiError> for ApiFailure {
    fn from(err: ApiError) -> Self {
        ApiFailure(err)
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = match &self.0 {
            ApiError::RateLimited { retry_after_secs, .. } => Some(*retry_after_secs),
            _ => None,
        };
        let mut response = (status, Json(self.0)).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Any path under `/api` that no endpoint answers.
pub async fn api_not_found(uri: axum::http::Uri) -> ApiFailure {
    ApiFailure(ApiError::not_found(format!("No API endpoint at {}.", uri.path())))
}
