//! Endpoints that serve both a plain HTML form and a JSON client. A form post gets a
//! redirect (with a flash message on failure, so the page can say what to fix); a JSON
//! request gets JSON and the typed error.

use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tower_sessions::Session;
use types::{ApiError, Flash};

use super::extract::rejected;
use super::session::set_flash;
use super::ApiFailure;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Form,
    Json,
}

/// A request body that is JSON when the client says so, a urlencoded form otherwise.
pub struct Input<T>(pub Mode, pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Input<T> {
    type Rejection = ApiFailure;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            let Json(value) =
                Json::<T>::from_request(request, state).await.map_err(|e| rejected(e.status(), e.body_text()))?;
            Ok(Input(Mode::Json, value))
        } else {
            let Form(value) =
                Form::<T>::from_request(request, state).await.map_err(|e| rejected(e.status(), e.body_text()))?;
            Ok(Input(Mode::Form, value))
        }
    }
}

/// Success: forms continue to `next`, JSON clients get `body` with `status`.
pub fn done(mode: Mode, next: &str, status: StatusCode, body: impl Serialize) -> Response {
    match mode {
        Mode::Form => Redirect::to(next).into_response(),
        Mode::Json => (status, Json(body)).into_response(),
    }
}

/// Failure: forms go back to `back` where the flash explains it; JSON gets the error.
pub async fn failed(
    mode: Mode,
    session: &Session,
    err: backend::Error,
    back: &str,
    values: Vec<(String, String)>,
) -> Response {
    let api: ApiError = err.into();
    match mode {
        Mode::Json => ApiFailure::new(api).into_response(),
        Mode::Form => {
            let fields = match &api {
                ApiError::Invalid { fields, .. } => fields.clone(),
                _ => Vec::new(),
            };
            // The summary repeats each field's problem so it is announced even where a
            // field is not on the page (an unknown provider, a stale sign-in attempt).
            let message = match &api {
                ApiError::Invalid { fields, .. } if !fields.is_empty() => format!("Please correct: {}.", api.message()),
                other => other.message().to_string(),
            };
            set_flash(session, Flash { level: "error".into(), message, fields, values }).await;
            let mut response = Redirect::to(back).into_response();
            if let ApiError::RateLimited { retry_after_secs, .. } = api {
                response.headers_mut().insert(header::RETRY_AFTER, retry_after_secs.into());
            }
            response
        }
    }
}
