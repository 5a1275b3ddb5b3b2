//! Cross-site request refusal. A state-changing request must come from a page of this
//! site: its `Origin` (or, lacking that, `Referer`) must match `public_url`. It runs
//! before sessions and authentication, so a forged request is refused whoever is
//! signed in, and changes nothing. One address is left to its own check: the one-click
//! unsubscribe link of emails (RFC 8058), which mail clients post to from nowhere and
//! which needs no session: its signature is what allows it.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use types::{ApiError, ErrorCode};

use super::{ApiFailure, AppState};

pub async fn same_origin_only(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || request.uri().path() == types::routes::api::UNSUBSCRIBE
    {
        return next.run(request).await;
    }
    let expected = state.backend.config.public_url.origin().ascii_serialization();
    match request_origin(request.headers()) {
        Some(origin) if origin == expected => next.run(request).await,
        seen => {
            tracing::warn!(expected = %expected, seen = ?seen, "cross-site request refused");
            let message = match seen {
                Some(origin) => format!(
                    "This request came from {origin}, but this Heirloom is at {expected} (HEIRLOOM_PUBLIC_URL). \
                     It was refused to protect your account."
                ),
                None => "This request did not say which page it came from (no Origin or Referer header), \
                         so it was refused to protect your account."
                    .to_string(),
            };
            ApiFailure::new(ApiError::forbidden(message).with_code(ErrorCode::CrossOriginRefused)).into_response()
        }
    }
}

fn request_origin(headers: &HeaderMap) -> Option<String> {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        return Some(origin.to_string());
    }
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    url::Url::parse(referer).ok().map(|url| url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn origin_wins_and_referer_is_reduced_to_its_origin() {
        let mut headers = HeaderMap::new();
        headers.insert(header::REFERER, HeaderValue::from_static("https://h.example:8443/a/b?c"));
        assert_eq!(request_origin(&headers).as_deref(), Some("https://h.example:8443"));
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert_eq!(request_origin(&headers).as_deref(), Some("null"));
        assert_eq!(request_origin(&HeaderMap::new()), None);
    }
}
