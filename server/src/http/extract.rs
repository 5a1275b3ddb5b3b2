//! axum's JSON, path and query extractors, with their rejections turned into the typed
//! `ApiError` (a 422 naming what is wrong, or a 413) instead of plain-text bodies.

use axum::extract::rejection::JsonRejection;
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

/// axum's `$axum` parts extractor as `$name`, its rejection the typed 422.
macro_rules! typed_rejection {
    ($name:ident, $axum:ident) => {
        pub struct $name<T>(pub T);

        impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for $name<T> {
            type Rejection = ApiFailure;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
                let axum::extract::$axum(value) = axum::extract::$axum::<T>::from_request_parts(parts, state)
                    .await
                    .map_err(|err| rejected(StatusCode::UNPROCESSABLE_ENTITY, err.body_text()))?;
                Ok($name(value))
            }
        }
    };
}

typed_rejection!(Path, Path);
typed_rejection!(Query, Query);

/// The `Idempotency-Key` header of a create, if any: a replay with the same key returns
/// the first result (the services keep the keys).
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let key = parts.headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
        Ok(IdempotencyKey(key))
    }
}

/// What an OAuth 2 / OpenID Connect provider sends back to a redirect URI (RFC 6749
/// 4.1.2): a code and the state, or an error when the person declined or it failed.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OAuthCallback {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub state: String,
    /// Set by the provider when the person declined or the authorization failed.
    pub error: Option<String>,
    /// The provider's explanation of `error`, when it gives one.
    pub error_description: Option<String>,
}
