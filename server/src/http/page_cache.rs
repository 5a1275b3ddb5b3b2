//! Pages as signed-out readers get them, kept for the next signed-out reader of the same
//! address in the same theme. A page is served from here only while nothing that writes
//! an event has committed since it was rendered (`outbox::change_stamp`, read from the
//! database on each request: one cheap statement instead of a page's several, and exact
//! on every replica, so an edit, a visibility change or a deletion shows on the very next
//! request) and for at most [`TTL`] (a page's media links are signed for a while only),
//! [`BYTES_MAX`] of them at most.
//!
//! What a signed-out page depends on is its address, the theme cookie, the database and
//! the configuration: a request with a signed-in user or a flash message is never served
//! from here nor stored. Each response gets a fresh script nonce: the stored page is kept
//! split at its nonce and joined with a new one, in the body and in its
//! Content-Security-Policy alike. `x-page-cache: hit|miss` says which it was.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use types::Theme;

use super::session::accepts_html;
use super::AppState;

/// How long a stored page may be served at most, whatever happens.
const TTL: Duration = Duration::from_secs(60);
/// How many bytes of pages are kept at most (the least recently served go first).
const BYTES_MAX: usize = 24 * 1024 * 1024;
/// Larger pages are not kept.
const PAGE_MAX_BYTES: usize = 256 * 1024;
const CACHE_HEADER: HeaderName = HeaderName::from_static("x-page-cache");

/// The stored pages of this process.
pub struct PageCache {
    kept: Mutex<Kept>,
}

struct Kept {
    pages: lru::LruCache<Key, Arc<Page>>,
    /// The bodies' bytes, kept under `BYTES_MAX`.
    bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    path_and_query: String,
    theme: Option<Theme>,
}

struct Page {
    /// The change stamp it was rendered after.
    stamp: String,
    stored_at: Instant,
    /// The route it was rendered for, as the request metrics label it.
    route: Option<MatchedPath>,
    content_type: HeaderValue,
    /// The Content-Security-Policy and the body, each split where the nonce stood.
    policy: Vec<String>,
    body: Vec<Bytes>,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache { kept: Mutex::new(Kept { pages: lru::LruCache::unbounded(), bytes: 0 }) }
    }
}

impl PageCache {
    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, key: &Key, stamp: &str) -> Option<Arc<Page>> {
        let mut kept = self.kept();
        let page = kept.pages.get(key)?.clone();
        if page.stamp == stamp && page.stored_at.elapsed() < TTL {
            return Some(page);
        }
        if let Some(stale) = kept.pages.pop(key) {
            kept.bytes -= stale.bytes();
        }
        None
    }

    fn put(&self, key: Key, page: Page) {
        let mut kept = self.kept();
        kept.bytes += page.bytes();
        if let Some(replaced) = kept.pages.put(key, Arc::new(page)) {
            kept.bytes -= replaced.bytes();
        }
        while kept.bytes > BYTES_MAX {
            let Some((_, oldest)) = kept.pages.pop_lru() else { break };
            kept.bytes -= oldest.bytes();
        }
    }
}

/// The pages a signed-out reader may be sent from the cache: the home page, a legacy's
/// and a story's (each `/{kind}/{id}`, with or without a query).
fn cacheable_path(path: &str) -> bool {
    if path == "/" {
        return true;
    }
    match path.strip_prefix("/stories/").or_else(|| path.strip_prefix("/legacies/")) {
        Some(id) => !id.is_empty() && !id.contains('/'),
        None => false,
    }
}

/// Serves a signed-out reader's page from the cache, or renders it and keeps it.
pub async fn serve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let signed_out_page_view = request.method() == Method::GET
        && accepts_html(request.headers())
        && cacheable_path(request.uri().path())
        && request.extensions().get::<backend::identity::Authenticated>().is_none()
        && request.extensions().get::<types::Flash>().is_none();
    if !signed_out_page_view {
        return next.run(request).await;
    }
    // Read before the page is rendered: a write that commits meanwhile moves it again.
    let stamp = match backend::events::outbox::change_stamp(state.backend.db()).await {
        Ok(stamp) => stamp,
        Err(err) => {
            tracing::warn!(error = %err, "page cache: no change stamp; rendering");
            return next.run(request).await;
        }
    };
    let key = Key {
        path_and_query: request.uri().path_and_query().map_or("/", |pq| pq.as_str()).to_string(),
        theme: cookie_theme(request.headers()),
    };
    let cache = &state.page_cache;
    if let Some(page) = cache.get(&key, &stamp) {
        metrics::counter!("heirloom_page_cache_total", "result" => "hit").increment(1);
        return page.response();
    }
    metrics::counter!("heirloom_page_cache_total", "result" => "miss").increment(1);
    let response = next.run(request).await;
    let (mut parts, body) = response.into_parts();
    let keepable = parts.status == StatusCode::OK
        && !parts.headers.contains_key(header::SET_COOKIE)
        && parts.headers.get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    let nonce = keepable.then(|| policy_nonce(&parts.headers)).flatten();
    parts.headers.insert(CACHE_HEADER, HeaderValue::from_static("miss"));
    let Some(nonce) = nonce else {
        return Response::from_parts(parts, body);
    };
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(error = %err, "page cache: the page failed while it was rendered");
            return (StatusCode::INTERNAL_SERVER_ERROR, "The page could not be rendered; please reload.")
                .into_response();
        }
    };
    let policy = parts.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or("");
    let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
    if let (Some(content_type), true) = (content_type, bytes.len() <= PAGE_MAX_BYTES) {
        let page = Page {
            stamp,
            stored_at: Instant::now(),
            route: parts.extensions.get::<MatchedPath>().cloned(),
            content_type,
            policy: policy.split(nonce.as_str()).map(str::to_string).collect(),
            body: split(&bytes, nonce.as_bytes()),
        };
        cache.put(key, page);
    }
    Response::from_parts(parts, Body::from(bytes))
}

impl Page {
    fn bytes(&self) -> usize {
        self.body.iter().map(Bytes::len).sum()
    }

    /// The stored page with a nonce of its own.
    fn response(&self) -> Response {
        let nonce = new_nonce();
        let mut body = BytesMut::with_capacity(self.bytes() + 64);
        for (i, part) in self.body.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(nonce.as_bytes());
            }
            body.extend_from_slice(part);
        }
        let mut response = Body::from(body.freeze()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, self.content_type.clone());
        if let Ok(policy) = HeaderValue::from_str(&self.policy.join(&nonce)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        headers.insert(CACHE_HEADER, HeaderValue::from_static("hit"));
        if let Some(route) = &self.route {
            response.extensions_mut().insert(route.clone());
        }
        response
    }
}

/// The theme cookie's value: pages differ by it.
fn cookie_theme(headers: &HeaderMap) -> Option<Theme> {
    headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).and_then(Theme::from_cookie_header)
}

/// The script nonce a page's Content-Security-Policy allows (`'nonce-…'`).
fn policy_nonce(headers: &HeaderMap) -> Option<String> {
    let policy = headers.get(header::CONTENT_SECURITY_POLICY)?.to_str().ok()?;
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let nonce = &policy[start..];
    let nonce = &nonce[..nonce.find('\'')?];
    // Long enough that it stands nowhere else in the page by chance.
    (nonce.len() >= 16).then(|| nonce.to_string())
}

/// `bytes` split at every `separator`.
fn split(bytes: &Bytes, separator: &[u8]) -> Vec<Bytes> {
    let mut parts = Vec::new();
    let mut start = 0;
    for at in memchr::memmem::find_iter(bytes, separator) {
        parts.push(bytes.slice(start..at));
        start = at + separator.len();
    }
    parts.push(bytes.slice(start..));
    parts
}

/// 128 random bits in hex (hex digits are base64 characters, as CSP nonces are).
fn new_nonce() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_home_legacy_and_story_pages_are_kept() {
        for path in ["/", "/stories/abc", "/legacies/abc"] {
            assert!(cacheable_path(path), "{path}");
        }
        for path in ["/stories/", "/stories/abc/edit", "/legacies/abc/members", "/search", "/api/v1/stories/abc"] {
            assert!(!cacheable_path(path), "{path}");
        }
    }

    #[test]
    fn the_least_recently_served_pages_go_when_the_bytes_run_over() {
        let cache = PageCache::default();
        let page = |n: u8| Page {
            stamp: "1".into(),
            stored_at: Instant::now(),
            route: None,
            content_type: HeaderValue::from_static("text/html"),
            policy: vec![String::new()],
            body: vec![Bytes::from(vec![n; PAGE_MAX_BYTES])],
        };
        let key = |n: u8| Key { path_and_query: format!("/stories/{n}"), theme: None };
        let pages = u8::try_from(BYTES_MAX / PAGE_MAX_BYTES).unwrap();
        for n in 0..pages {
            cache.put(key(n), page(n));
        }
        assert!(cache.get(&key(0), "1").is_some(), "all fit");
        cache.put(key(pages), page(pages));
        assert_eq!(cache.kept().bytes, BYTES_MAX);
        assert!(cache.get(&key(1), "1").is_none(), "the least recently served went");
        assert!(cache.get(&key(0), "1").is_some() && cache.get(&key(pages), "1").is_some());
        // A stale one is dropped when found.
        assert!(cache.get(&key(0), "2").is_none());
        assert_eq!(cache.kept().bytes, BYTES_MAX - PAGE_MAX_BYTES);
    }

    #[test]
    fn a_page_is_split_at_its_nonce_and_joined_with_another() {
        let body = Bytes::from_static(b"<script nonce=\"N0nce1234567890ab\">x</script><p>N0nce1234567890ab</p>");
        let parts = split(&body, b"N0nce1234567890ab");
        assert_eq!(parts.len(), 3);
        let mut headers = HeaderMap::new();
        let policy = "script-src 'self' 'nonce-N0nce1234567890ab' 'wasm-unsafe-eval'";
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
        assert_eq!(policy_nonce(&headers).as_deref(), Some("N0nce1234567890ab"));
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("script-src 'nonce-short'"));
        assert_eq!(policy_nonce(&headers), None);
    }
}
