//! What a page needs to know about the request being rendered: who is signed in, a
//! flash message, the theme cookie, instance settings. Its readers are `#[cfg(feature = "ssr")]`:
//! in the browser there is no request. (The other `ssr`-only code in `app` is `api.rs`'s
//! backend access for server functions and `components/raw_text.rs`'s server-side escaping.)

use types::{Flash, ProviderView, Theme, UserView};

#[cfg(feature = "ssr")]
fn with_parts<T>(read: impl FnOnce(&http::request::Parts) -> Option<T>) -> Option<T> {
    leptos::prelude::use_context::<http::request::Parts>().as_ref().and_then(read)
}

/// The theme remembered in the reader's cookie, if any.
pub fn theme_cookie() -> Option<Theme> {
    #[cfg(feature = "ssr")]
    return with_parts(|parts| {
        let header = parts.headers.get(http::header::COOKIE)?.to_str().ok()?;
        Theme::from_cookie_header(header)
    });
    #[cfg(not(feature = "ssr"))]
    None
}

/// The signed-in user, resolved once per request by the server's session middleware.
pub fn current_user() -> Option<UserView> {
    #[cfg(feature = "ssr")]
    return with_parts(|parts| parts.extensions.get::<backend::identity::Authenticated>().map(|a| a.user.view()));
    #[cfg(not(feature = "ssr"))]
    None
}

/// The message a form handler left for this page, shown once.
pub fn flash() -> Flash {
    #[cfg(feature = "ssr")]
    return with_parts(|parts| parts.extensions.get::<Flash>().cloned()).unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    Flash::default()
}

/// OpenID Connect providers offered on the sign-in page.
pub fn oidc_providers() -> Vec<ProviderView> {
    #[cfg(feature = "ssr")]
    return leptos::prelude::use_context::<backend::Backend>().map(|b| b.identity.oidc.list()).unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    Vec::new()
}

/// `open`, `invite_only` or `closed`.
pub fn signup_policy() -> &'static str {
    #[cfg(feature = "ssr")]
    return match leptos::prelude::use_context::<backend::Backend>().map(|b| b.identity.signup_policy()) {
        Some(backend::config::SignupPolicy::InviteOnly) => "invite_only",
        Some(backend::config::SignupPolicy::Closed) => "closed",
        _ => "open",
    };
    #[cfg(not(feature = "ssr"))]
    "open"
}

/// Whether this instance sends email (`smtp_url` is set).
pub fn email_enabled() -> bool {
    #[cfg(feature = "ssr")]
    return leptos::prelude::use_context::<backend::Backend>().is_some_and(|b| b.email.enabled());
    #[cfg(not(feature = "ssr"))]
    false
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

/// Sets the page's Content-Security-Policy: scripts only from this site or carrying this
/// response's nonce (the hydration script), WASM allowed to compile, no inline styles,
/// connections to this site (and the media bucket, where uploads go straight to S3),
/// forms only to this site and the configured sign-in providers (sign-out redirects there).
pub fn set_page_security_policy() {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
        else {
            // The page then goes out with the locked-down policy and none of its scripts run.
            leptos::logging::warn!(
                "cannot set the page's Content-Security-Policy: no nonce or response options in context"
            );
            return;
        };
        let backend = use_context::<backend::Backend>();
        let providers: Vec<String> = backend
            .as_ref()
            .map(|b| b.config.oidc_providers.iter().map(|p| p.issuer.origin().ascii_serialization()).collect())
            .unwrap_or_default();
        let connect = match backend.as_ref().and_then(|b| media_bucket_origin(&b.config)) {
            Some(bucket) => format!("'self' {bucket}"),
            None => "'self'".to_string(),
        };
        let policy = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
             img-src 'self' https: data:; connect-src {connect}; font-src 'self'; object-src 'none'; \
             frame-ancestors 'none'; base-uri 'self'; form-action 'self' {}",
            providers.join(" ")
        );
        if let Ok(value) = http::HeaderValue::from_str(policy.trim()) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// Where browsers send upload parts when media live in S3 (presigned URLs): the bucket's
/// origin, virtual-hosted (`https://bucket.endpoint`) or path-style (the endpoint).
#[cfg(feature = "ssr")]
fn media_bucket_origin(config: &backend::config::Config) -> Option<String> {
    let bucket = config.s3_bucket.as_deref()?;
    Some(match &config.s3_endpoint {
        Some(endpoint) if config.s3_force_path_style => endpoint.origin().ascii_serialization(),
        Some(endpoint) => {
            let host = endpoint.host_str()?;
            let port = endpoint.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{bucket}.{host}{port}", endpoint.scheme())
        }
        None => format!("https://{bucket}.s3.{}.amazonaws.com", config.s3_region),
    })
}
