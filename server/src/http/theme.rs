//! The no-JavaScript path of the theme switch: a form post that sets the cookie and
//! returns the reader to the page they were on.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;
use types::{ApiError, FieldError, Theme};

use super::ApiFailure;

#[derive(Deserialize)]
pub struct ThemeForm {
    theme: String,
}

pub async fn set_theme(headers: HeaderMap, Form(form): Form<ThemeForm>) -> Result<Response, ApiFailure> {
    let theme = Theme::parse(&form.theme)
        .ok_or_else(|| ApiError::invalid(vec![FieldError::new("theme", "must be `light` or `dark`")]))?;
    let back_to = same_site_path(&headers).unwrap_or_else(|| "/".into());
    let cookie = HeaderValue::from_str(&theme.cookie()).map_err(|_| ApiError::internal())?;
    let location = HeaderValue::from_str(&back_to).unwrap_or(HeaderValue::from_static("/"));
    Ok((StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, location)]).into_response())
}

/// The path of the referring page when it is on this site, so the redirect can never
/// send a reader elsewhere.
fn same_site_path(headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let rest = referer.strip_prefix("http://").or_else(|| referer.strip_prefix("https://"))?;
    let path = rest.strip_prefix(host)?;
    (path.starts_with('/') && !path.starts_with("//")).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(referer: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("heirloom.example"));
        headers.insert(header::REFERER, HeaderValue::from_str(referer).unwrap());
        headers
    }

    #[test]
    fn returns_to_pages_on_this_site_only() {
        assert_eq!(same_site_path(&headers("https://heirloom.example/stories?x=1")).as_deref(), Some("/stories?x=1"));
        assert_eq!(same_site_path(&headers("https://evil.example/")), None);
        assert_eq!(same_site_path(&headers("https://heirloom.example.evil.example/")), None);
        assert_eq!(same_site_path(&headers("https://heirloom.example//evil.example")), None);
    }
}
