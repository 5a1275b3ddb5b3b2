//! How a [`types::ApiError`] becomes an HTTP response: its status, JSON body and, for
//! rate limits, `Retry-After`. Every handler returns errors through [`ApiFailure`], and
//! server functions' errors are given the same response by [`server_fn_errors`].

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
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

/// The largest server function error body read back; an `ApiError` is a few hundred bytes.
const SERVER_FN_ERROR_MAX_BYTES: usize = 64 * 1024;

/// Server functions answer every error with 500 (`server_fn` knows nothing of the kinds),
/// with the `ApiError` as JSON and a `serverfnerror` header naming the function. This
/// gives such a response what the REST API gives the same error, through [`ApiFailure`]
/// (404, 401, 403, 422…, `Retry-After`), so statuses mean the same across the site and
/// monitoring does not count a reader's "not found" as a server fault. The islands'
/// client reads any 4xx/5xx body as the error, so they see the same `ApiError` as before.
pub async fn server_fn_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, SERVER_FN_ERROR_MAX_BYTES).await else {
        return ApiFailure::new(ApiError::internal()).into_response();
    };
    let Ok(error) = serde_json::from_slice::<ApiError>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let mut mapped = ApiFailure::new(error).into_response();
    // Keep what else the function set (cookies, its `serverfnerror` name); the body and
    // its type are the ones just written.
    let kept: Vec<_> = parts.headers.keys().filter(|name| !mapped.headers().contains_key(*name)).cloned().collect();
    for name in kept {
        for value in parts.headers.get_all(&name) {
            mapped.headers_mut().append(name.clone(), value.clone());
        }
    }
    mapped
}
