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
use backend::config::{Config, IpNet};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use types::ApiError;

use super::{ApiFailure, AppState};

pub type WriteLimiter = Arc<RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>>;

pub fn write_limiter(per_minute: u32) -> WriteLimiter {
    let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN));
    Arc::new(RateLimiter::keyed(quota))
}

/// The client's address, for rate limits and session records; the one place it is read.
/// Without `trust_proxy_headers` it is the peer. With it, the peer is the proxy and the
/// client is found in `X-Forwarded-For`, read from the right: each proxy appends the
/// address it was reached from, so only the right-most entries were written by proxies,
/// and anything left of them is whatever the client sent (the left-most entry is the
/// client's choice, and keying limits on it let a client pick a fresh address per
/// request). Entries of `trusted_proxies` are skipped; the first other one is the client.
pub fn client_ip(headers: &HeaderMap, peer: Option<&ConnectInfo<SocketAddr>>, config: &Config) -> IpAddr {
    let peer = peer.map(|ConnectInfo(addr)| addr.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if !config.trust_proxy_headers {
        return peer;
    }
    // Several header lines form one list, in order (RFC 9110, section 5.3).
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    forwarded_client(&entries, &config.trusted_proxies).unwrap_or(peer)
}

/// The right-most entry not in `trusted`; the left-most when all are trusted (a request
/// sent by a proxy itself). `None` when the header is missing or an entry that must be
/// read is not an address: then the peer stands for the client.
fn forwarded_client(entries: &[&str], trusted: &[IpNet]) -> Option<IpAddr> {
    let mut client = None;
    for entry in entries.iter().rev() {
        let ip = parse_entry(entry)?;
        client = Some(ip);
        if !trusted.iter().any(|range| range.contains(&ip)) {
            break;
        }
    }
    client
}

/// `203.0.113.7`, `2001:db8::1`, and with a port as some proxies write them:
/// `203.0.113.7:4711`, `[2001:db8::1]:4711`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

pub async fn limit_writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Upload parts are not counted: a signed URL authorises each, and quotas bound them.
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || super::middleware::is_upload_part(&request)
    {
        return next.run(request).await;
    }
    match over_limit(&state.write_limiter, &state, &request, "changes") {
        Some(refused) => refused,
        None => next.run(request).await,
    }
}

/// The typed 429 when this request's client has used up `limiter`'s quota; `what` names
/// what is counted ("changes", "searches").
fn over_limit(limiter: &WriteLimiter, state: &AppState, request: &Request, what: &str) -> Option<Response> {
    let ip = client_ip(request.headers(), request.extensions().get::<ConnectInfo<SocketAddr>>(), &state.backend.config);
    let not_until = limiter.check_key(&ip).err()?;
    let retry_after_secs = not_until.wait_time_from(DefaultClock::default().now()).as_secs() + 1;
    if limiter.len() > 100_000 {
        limiter.retain_recent();
    }
    let message = format!("Too many {what} from your address. Try again in {retry_after_secs} seconds.");
    Some(ApiFailure::new(ApiError::rate_limited(message, retry_after_secs)).into_response())
}

/// The GET requests that run a search: the results page, the search API and the search
/// server functions the page and the search box call.
fn is_search(path: &str) -> bool {
    path == types::routes::SEARCH.path
        || path.starts_with(types::routes::api::SEARCH)
        || path.starts_with("/api/search_")
}

/// Searches (pages, API, typeahead) per client address per minute are limited by
/// `searches_per_minute_per_ip` (300 by default).
pub async fn limit_searches(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) || !is_search(request.uri().path()) {
        return next.run(request).await;
    }
    match over_limit(&state.search_limiter, &state, &request, "searches") {
        Some(refused) => refused,
        None => next.run(request).await,
    }
}

/// A request that did not finish within `request_timeout_secs`.
pub fn timed_out() -> ApiFailure {
    ApiFailure::new(
        ApiError::unavailable("The request took too long and was stopped. Please try again.")
            .with_code(types::ErrorCode::RequestTimeout),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(cidrs: &[&str]) -> Vec<IpNet> {
        cidrs.iter().map(|c| c.parse().unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_entry() {
        let loopback = ranges(&["127.0.0.1/32", "::1/128"]);
        // One proxy appended the client's address to what the client sent.
        assert_eq!(forwarded_client(&["1.2.3.4", "203.0.113.7"], &loopback), Some(ip("203.0.113.7")));
        assert_eq!(forwarded_client(&["203.0.113.7"], &loopback), Some(ip("203.0.113.7")));
        // A second proxy on the same machine appended loopback; a CDN in a trusted range too.
        assert_eq!(forwarded_client(&["1.2.3.4", "203.0.113.7", "127.0.0.1"], &loopback), Some(ip("203.0.113.7")));
        let cdn = ranges(&["127.0.0.1/32", "198.51.100.0/24", "2001:db8::/32"]);
        assert_eq!(
            forwarded_client(&["10.9.9.9", "2001:db8:ffff::1", "198.51.100.20", "2001:db8::7"], &cdn),
            Some(ip("10.9.9.9"))
        );
        assert_eq!(forwarded_client(&["6.6.6.6", "203.0.113.7", "198.51.100.20"], &cdn), Some(ip("203.0.113.7")));
    }

    #[test]
    fn forged_entries_left_of_the_client_are_never_read() {
        let loopback = ranges(&["127.0.0.1/32"]);
        for forged in ["127.0.0.1", "not an address", "", "999.1.1.1", "1.1.1.1, 2.2.2.2"] {
            let entries = [forged, "203.0.113.7"];
            assert_eq!(forwarded_client(&entries, &loopback), Some(ip("203.0.113.7")), "{forged:?}");
        }
    }

    #[test]
    fn all_trusted_gives_the_left_most_and_garbage_gives_the_peer() {
        let loopback = ranges(&["127.0.0.1/32", "::1/128"]);
        assert_eq!(forwarded_client(&["::1", "127.0.0.1"], &loopback), Some(ip("::1")));
        assert_eq!(forwarded_client(&[], &loopback), None);
        assert_eq!(forwarded_client(&["203.0.113.7", "unknown"], &loopback), None);
        assert_eq!(forwarded_client(&["garbage", "127.0.0.1"], &loopback), None);
    }

    #[test]
    fn entries_may_carry_a_port() {
        assert_eq!(parse_entry("203.0.113.7:4711"), Some(ip("203.0.113.7")));
        assert_eq!(parse_entry("[2001:db8::1]:4711"), Some(ip("2001:db8::1")));
        assert_eq!(parse_entry("2001:db8::1"), Some(ip("2001:db8::1")));
        assert_eq!(parse_entry("_hidden"), None);
    }

    #[test]
    fn the_header_is_read_only_when_trusted() {
        let mut config =
            backend::testing::config(std::path::Path::new("/tmp"), "sqlite::memory:", "http://127.0.0.1:1", "");
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", "1.2.3.4, 203.0.113.7".parse().unwrap());
        headers.append("x-forwarded-for", "198.51.100.20".parse().unwrap());
        let peer = ConnectInfo(SocketAddr::from(([10, 0, 0, 2], 5000)));
        assert_eq!(client_ip(&headers, Some(&peer), &config), ip("10.0.0.2"));
        config.trust_proxy_headers = true;
        assert_eq!(client_ip(&headers, Some(&peer), &config), ip("198.51.100.20"));
        config.trusted_proxies = ranges(&["198.51.100.0/24"]);
        assert_eq!(client_ip(&headers, Some(&peer), &config), ip("203.0.113.7"));
        assert_eq!(client_ip(&HeaderMap::new(), Some(&peer), &config), ip("10.0.0.2"));
    }
}
