//! Per-address rate limits on state-changing requests (signed in or not) and on searches,
//! answered with the typed 429 and `Retry-After`, and the typed answer to a request that
//! ran too long.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use types::ApiError;

use super::{ApiFailure, AppState};

pub type WriteLimiter = Arc<RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>>;

pub fn write_limiter(per_minute: u32) -> WriteLimiter {
    let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).expect("at least 1"));
    Arc::new(RateLimiter::keyed(quota))
}

/// The client's address: the proxy's `X-Forwarded-For` only when configured to trust it.
pub fn client_ip(headers: &HeaderMap, peer: Option<&ConnectInfo<SocketAddr>>, trust_proxy: bool) -> IpAddr {
    let forwarded = trust_proxy
        .then(|| headers.get("x-forwarded-for")?.to_str().ok()?.split(',').next()?.trim().parse::<IpAddr>().ok())
        .flatten();
    forwarded.or(peer.map(|ConnectInfo(addr)| addr.ip())).unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

pub async fn limit_writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Upload parts are not counted: a signed URL authorises each, and quotas bound them.
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || super::middleware::is_upload_part(&request)
    {
        return next.run(request).await;
    }
    let ip = client_ip(
        request.headers(),
        request.extensions().get::<ConnectInfo<SocketAddr>>(),
        state.backend.config.trust_proxy_headers,
    );
    if let Err(not_until) = state.write_limiter.check_key(&ip) {
        let retry_after_secs = not_until.wait_time_from(DefaultClock::default().now()).as_secs() + 1;
        if state.write_limiter.len() > 100_000 {
            state.write_limiter.retain_recent();
        }
        let message = format!("Too many changes from your address. Try again in {retry_after_secs} seconds.");
        return ApiFailure::new(ApiError::RateLimited { message, retry_after_secs }).into_response();
    }
    next.run(request).await
}

/// The GET requests that run a search: the results page, the search API and the search
/// server functions the page and the search box call.
fn is_search(path: &str) -> bool {
    path == "/search" || path.starts_with("/api/v1/search") || path.starts_with("/api/search_")
}

/// Searches (pages, API, typeahead) per client address per minute are limited by
/// `searches_per_minute_per_ip` (300 by default).
pub async fn limit_searches(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) || !is_search(request.uri().path()) {
        return next.run(request).await;
    }
    let ip = client_ip(
        request.headers(),
        request.extensions().get::<ConnectInfo<SocketAddr>>(),
        state.backend.config.trust_proxy_headers,
    );
    if let Err(not_until) = state.search_limiter.check_key(&ip) {
        let retry_after_secs = not_until.wait_time_from(DefaultClock::default().now()).as_secs() + 1;
        if state.search_limiter.len() > 100_000 {
            state.search_limiter.retain_recent();
        }
        let message = format!("Too many searches from your address. Try again in {retry_after_secs} seconds.");
        return ApiFailure::new(ApiError::RateLimited { message, retry_after_secs }).into_response();
    }
    next.run(request).await
}

/// A request that did not finish within `request_timeout_secs`.
pub fn timed_out() -> ApiFailure {
    ApiFailure::new(ApiError::Unavailable {
        message: "The request took too long and was stopped. Please try again.".into(),
    })
}
