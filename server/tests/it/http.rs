//! The HTTP surface of a real server: operational endpoints, SSR pages, API errors,
//! request ids, metrics and the theme cookie.

use crate::common::TestServer;
use reqwest::StatusCode;
use serde_json::Value;

server_test!(health_and_readiness, |server| {
    let health = server.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");

    let ready = server.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let engine = format!("{:?}", server.backend.db().engine()).to_lowercase();
    assert_eq!(body["database"], engine);
});

sqlite_server_test!(readiness_fails_with_a_typed_error_when_the_database_is_gone, |server| {
    server.backend.db().close().await;
    let ready = server.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["kind"], "unavailable");
    assert!(!body["message"].as_str().unwrap().to_lowercase().contains("pool"), "{body}");
    // Liveness is about the process, not its dependencies.
    assert_eq!(server.get("/healthz").await.status(), StatusCode::OK);
});

sqlite_server_test!(the_landing_page_is_rendered_on_the_server, |server| {
    let page = server.get("/").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Keep the stories of the people you love"), "{html}");
    assert!(html.contains("<title>Heirloom</title>"), "{html}");
    assert!(html.contains(r#"<main id="main""#));
    assert!(html.contains(r#"href="/pkg/heirloom.css""#));
    // The theme switch ships as an island; the rest of the page ships no WASM.
    assert!(html.contains("<leptos-island"), "{html}");
    assert!(html.contains("/pkg/heirloom.js"), "{html}");
    assert!(!html.contains("data-theme=\""), "no theme chosen yet: {html}");
});

sqlite_server_test!(an_unknown_page_is_a_404_page, |server| {
    let page = server.get("/no/such/page").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let html = page.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
    assert!(html.contains("<title>Page not found · Heirloom</title>"), "{html}");
});

sqlite_server_test!(an_unknown_api_path_is_a_typed_json_error, |server| {
    let response = server.get("/api/v1/nothing-here").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["kind"], "not_found");
    assert!(body["message"].as_str().unwrap().contains("/api/v1/nothing-here"));
});

sqlite_server_test!(every_response_carries_a_request_id, |server| {
    let generated = server.get("/healthz").await;
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let not_found = server.get("/missing").await;
    assert!(not_found.headers().contains_key("x-request-id"));

    let given = server.client.get(server.url("/healthz")).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");
});

sqlite_server_test!(metrics_count_requests_by_route_and_status, |server| {
    server.get("/healthz").await;
    server.get("/definitely/not/here").await;
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"}"#), "{metrics}");
    assert!(metrics.contains(r#"route="unmatched",status="404""#), "{metrics}");
    assert!(metrics.contains("http_request_duration_seconds_bucket"), "{metrics}");
});

sqlite_server_test!(the_theme_form_sets_a_cookie_the_next_page_honours, |server| {
    let host = server.base.trim_start_matches("http://").to_string();
    let response = server
        .request(&server.client, reqwest::Method::POST, "/theme")
        .header("referer", format!("http://{host}/some/page"))
        .form(&[("theme", "dark")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/some/page");
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("heirloom_theme=dark;"), "{cookie}");

    let page = server.client.get(server.url("/")).header("cookie", "heirloom_theme=dark").send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<html lang="en" data-theme="dark""#), "{html}");
    assert!(html.contains("Switch to light theme"), "{html}");

    let bad = server.post_form(&server.client, "/theme", &[("theme", "purple")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["kind"], "invalid");
    assert_eq!(body["fields"][0]["field"], "theme");
    assert!(bad_has_no_cookie(&server).await);
});

async fn bad_has_no_cookie(server: &TestServer) -> bool {
    let bad = server.post_form(&server.client, "/theme", &[("theme", "")]).await;
    bad.status() == StatusCode::UNPROCESSABLE_ENTITY && !bad.headers().contains_key("set-cookie")
}

sqlite_server_test!(every_response_carries_the_security_headers, |server| {
    for path in ["/", "/api/v1/stories", "/healthz", "/missing", "/api/v1/nothing"] {
        let response = server.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "strict-origin-when-cross-origin", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(!headers.contains_key("strict-transport-security"), "plain http: no HSTS");
    }
    let page = server.get("/").await;
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    let html = page.text().await.unwrap();
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the header's nonce");
    let api = server.get("/api/v1/stories").await;
    assert!(api.headers()["content-security-policy"].to_str().unwrap().starts_with("default-src 'none'"));
});

sqlite_server_test!(an_oversized_body_is_a_typed_413, |server| {
    let browser = TestServer::browser();
    let huge = serde_json::json!({ "email": "a@example.org", "password": "p".repeat(100 * 1024) });
    let response = server.post_json(&browser, "/api/v1/auth/signin", huge).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.json::<Value>().await.unwrap()["kind"], "payload_too_large");
});

#[tokio::test]
async fn state_changing_requests_are_rate_limited_per_address() {
    let server = TestServer::start_with(backend::testing::TestDb::sqlite().await, "writes_per_minute_per_ip = 3").await;
    for _ in 0..3 {
        let response = server.post_form(&server.client, "/theme", &[("theme", "dark")]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let limited = server.post_form(&server.client, "/theme", &[("theme", "dark")]).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    assert_eq!(limited.json::<Value>().await.unwrap()["kind"], "rate_limited");
    // Reading is not limited.
    assert_eq!(server.get("/healthz").await.status(), StatusCode::OK);
    server.stop().await;
}

// The islands' WASM goes gzip-compressed to browsers that accept it (its twin, made by
// `assets::refresh_twins` as `serve` does at start), as is to others, with the security
// headers either way.
server_test!(static_files_are_served_gzip_compressed_to_browsers_that_accept_it, |server| {
    let pkg = server.site_root().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let wasm: Vec<u8> = (0..200_000u32).map(|i| (i % 7) as u8).collect();
    std::fs::write(pkg.join("heirloom.wasm"), &wasm).unwrap();
    assert_eq!(server::http::assets::refresh_twins(&pkg).unwrap(), 1);

    let client = reqwest::Client::new();
    let url = server.url("/pkg/heirloom.wasm");
    let gzipped = client.get(&url).header("accept-encoding", "gzip, deflate, br").send().await.unwrap();
    assert_eq!(gzipped.status(), StatusCode::OK);
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    assert_eq!(gzipped.headers()["content-type"], "application/wasm");
    assert_eq!(gzipped.headers()["x-content-type-options"], "nosniff");
    let body = gzipped.bytes().await.unwrap();
    assert!(body.len() < wasm.len() / 10, "{} bytes on the wire", body.len());
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut unzipped).unwrap();
    assert_eq!(unzipped, wasm);

    let plain = client.get(&url).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.bytes().await.unwrap().len(), wasm.len());
    assert_eq!(client.get(server.url("/pkg/missing.js")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
});
