//! What a page needs to know about the request being rendered. This is the one module
//! in `app` with `#[cfg(feature = "ssr")]`: in the browser there is no request.

use types::Theme;

/// The theme remembered in the reader's cookie, if any.
pub fn theme_cookie() -> Option<Theme> {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        let parts = use_context::<http::request::Parts>()?;
        let header = parts.headers.get(http::header::COOKIE)?.to_str().ok()?;
        Theme::from_cookie_header(header)
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// Sets the HTTP status of the page being rendered.
pub fn set_status(status: http::StatusCode) {
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}
