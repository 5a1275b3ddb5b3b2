//! The one way an operation serves both a page's plain HTML form and a JSON client
//! (docs/adr/0021): the handler reads its input with [`Input`] (or, without a body, its
//! [`Mode`]), calls one backend service method and hands the result to [`answer`]. A
//! form post gets a redirect: on success to the page that shows the result, with a
//! flash message when there is something to say; on failure back to the form, with a
//! flash saying what to fix and the values to put back. A JSON request gets the JSON
//! response or the typed error.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::de::DeserializeOwned;
use types::{ApiError, Flash};

use super::extract::{rejected, Json};
use super::ApiFailure;

/// Who is asking: a page's form post (answered with a redirect) or a JSON client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Form,
    Json,
}

/// For an operation without a body: the REST API (`/api/...`) answers JSON, anything
/// else is a page's form.
impl<S: Send + Sync> FromRequestParts<S> for Mode {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(if parts.uri.path().starts_with("/api/") { Mode::Json } else { Mode::Form })
    }
}

/// A request body: a urlencoded form when the client says so, JSON otherwise (a body
/// that is neither is refused as the JSON endpoints refuse it).
pub struct Input<T>(pub Mode, pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Input<T> {
    type Rejection = ApiFailure;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if is_form(request.headers()) {
            let Form(value) =
                Form::<T>::from_request(request, state).await.map_err(|e| rejected(e.status(), e.body_text()))?;
            Ok(Input(Mode::Form, value))
        } else {
            let Json(value) = Json::<T>::from_request(request, state).await?;
            Ok(Input(Mode::Json, value))
        }
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// How an operation that succeeded answers: where a form goes next and what it is told
/// there, and what a JSON client gets.
pub struct Done {
    next: String,
    flash: Option<Flash>,
    json: Response,
}

impl Done {
    /// A form continues to `next`; a JSON client gets `json` (a status and body).
    pub fn new(next: impl Into<String>, json: impl IntoResponse) -> Done {
        Done { next: next.into(), flash: None, json: json.into_response() }
    }

    /// Tells the form's next page `message`.
    pub fn notice(self, message: impl Into<String>) -> Done {
        self.flash(Flash::notice(message))
    }

    pub fn flash(mut self, flash: Flash) -> Done {
        self.flash = Some(flash);
        self
    }
}

/// A flash message for the page a form post is sent to next. It travels on the response,
/// and `session::resolve_user` puts it in the browser's session, so a handler does not
/// hold the session to say something.
#[derive(Debug, Clone)]
pub struct FlashForNextPage(pub Flash);

/// An operation's answer in its mode: on failure a form goes back to `back`, where the
/// flash explains it and `values` refill the form.
pub fn answer(mode: Mode, result: backend::Result<Done>, back: &str, values: Vec<(String, String)>) -> Response {
    match (result, mode) {
        (Ok(done), Mode::Json) => done.json,
        (Ok(done), Mode::Form) => redirect(&done.next, done.flash),
        (Err(err), mode) => failed(mode, err, back, values),
    }
}

/// Failure: forms go back to `back` where the flash explains it; JSON gets the error.
pub fn failed(mode: Mode, err: backend::Error, back: &str, values: Vec<(String, String)>) -> Response {
    if mode == Mode::Json {
        return ApiFailure::from(err).into_response();
    }
    let api: ApiError = err.into();
    let fields = match &api {
        ApiError::Invalid { fields, .. } => fields.clone(),
        _ => Vec::new(),
    };
    // The summary repeats each field's problem so it is announced even where a field is
    // not on the page (an unknown provider, a stale sign-in attempt).
    let message = match &api {
        ApiError::Invalid { fields, .. } if !fields.is_empty() => format!("Please correct: {}.", api.message()),
        other => other.message().to_string(),
    };
    let mut response = redirect(back, Some(Flash { level: "error".into(), message, fields, values }));
    if let ApiError::RateLimited { retry_after_secs, .. } = api {
        response.headers_mut().insert(header::RETRY_AFTER, retry_after_secs.into());
    }
    response
}

/// A 303 to `to`, with `flash` for the page there.
pub fn redirect(to: &str, flash: Option<Flash>) -> Response {
    let mut response = Redirect::to(to).into_response();
    if let Some(flash) = flash {
        response.extensions_mut().insert(FlashForNextPage(flash));
    }
    response
}
