//! The signed-out page cache: a signed-out reader's page is served from it while nothing
//! changed, each time with a script nonce of its own, and per theme; an edit, a
//! visibility change and a deletion show on the very next request; a member is never
//! served from it. (On PostgreSQL any commit in the
//! cluster, other databases' too, moves the change stamp, so whether a page is kept
//! there depends on what else runs: only the pages' freshness is asserted on both.)

use backend::db::Engine;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::TestServer;

struct Page {
    status: StatusCode,
    /// The response's header names, sorted.
    headers: Vec<String>,
    cache: String,
    nonce: String,
    body: String,
}

async fn page(server: &TestServer, client: &reqwest::Client, path: &str, theme: Option<&str>) -> Page {
    let mut request = client.get(server.url(path)).header("accept", "text/html");
    if let Some(theme) = theme {
        request = request.header("cookie", format!("heirloom_theme={theme}"));
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    let cache = header("x-page-cache").unwrap_or_default();
    let mut headers: Vec<String> = response.headers().keys().map(|name| name.to_string()).collect();
    headers.sort();
    let policy = header("content-security-policy").unwrap_or_default();
    let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap_or("").to_string();
    Page { status: response.status(), headers, cache, nonce, body: response.text().await.unwrap() }
}

/// Ana, her legacy and a public story in it: (Ana's browser, legacy id, story id).
async fn public_story(server: &TestServer, title: &str, body: &str) -> (reqwest::Client, String, String) {
    let ana = server.signed_up("ana@example.org").await;
    let legacy = server.legacy(&ana, "Rosa Lind").await;
    let input = json!({ "legacy_id": legacy, "title": title, "body": body, "visibility": "public",
        "status": "published" });
    let story = server.created(&ana, "/api/v1/stories", input).await["id"].as_str().unwrap().to_string();
    (ana, legacy, story)
}

server_test!(a_signed_out_page_is_kept_until_anything_changes_and_never_served_to_a_member, |server| {
    let (ana, _, story) = public_story(server, "The bees", "She kept bees.").await;
    // Nothing but this test's requests writes from here on.
    server.stop_workers().await;
    let kept = server.backend.db().engine() == Engine::Sqlite;
    let path = format!("/stories/{story}");
    let anyone = TestServer::browser();

    let first = page(server, &anyone, &path, None).await;
    assert_eq!((first.status, first.cache.as_str()), (StatusCode::OK, "miss"));
    assert!(first.body.contains("The bees") && first.body.contains(&format!("nonce=\"{}\"", first.nonce)));
    let second = page(server, &anyone, &path, None).await;
    if kept {
        assert_eq!(second.cache, "hit");
        assert_eq!(second.headers, first.headers, "a kept page has the headers it had");
    }
    // The same page with a nonce of its own, in the policy and the scripts alike.
    assert_ne!(second.nonce, first.nonce);
    assert!(second.nonce.len() >= 16 && !second.body.contains(&first.nonce));
    assert_eq!(second.body.replace(&second.nonce, "N"), first.body.replace(&first.nonce, "N"));
    // Each theme is a page of its own.
    let dark = page(server, &anyone, &path, Some("dark")).await;
    assert_eq!(dark.cache, "miss");
    assert!(dark.body.contains("data-theme=\"dark\""), "the dark page");
    assert!(!page(server, &anyone, &path, None).await.body.contains("data-theme=\"dark\""));

    // An edit shows on the very next request.
    let edit = json!({ "version": 1, "title": "The bees in June", "body": "She kept bees.",
        "visibility": "public", "status": "published" });
    let edited = server.send_json(&ana, reqwest::Method::PUT, &format!("/api/v1/stories/{story}"), edit).await;
    assert_eq!(edited.status(), StatusCode::OK);
    let after = page(server, &anyone, &path, None).await;
    assert_eq!(after.cache, "miss");
    assert!(after.body.contains("The bees in June"));

    // A member is never sent a kept page, nor stores one.
    let member = page(server, &ana, &path, None).await;
    assert_eq!((member.status, member.cache.as_str()), (StatusCode::OK, ""));
    assert!(member.body.contains("The bees in June"));

    // Members only: the next signed-out request no longer gets it.
    let private = json!({ "version": 2, "title": "The bees in June", "body": "She kept bees.",
        "visibility": "members", "status": "published" });
    let changed = server.send_json(&ana, reqwest::Method::PUT, &format!("/api/v1/stories/{story}"), private).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let hidden = page(server, &anyone, &path, None).await;
    assert_ne!(hidden.status, StatusCode::OK);
    assert!(!hidden.body.contains("The bees in June"));
});

server_test!(a_deleted_story_is_gone_on_the_next_signed_out_request, |server| {
    let (ana, legacy, story) = public_story(server, "The hives", "Three hives.").await;
    let anyone = TestServer::browser();
    let path = format!("/stories/{story}");
    for _ in 0..2 {
        assert!(page(server, &anyone, &path, None).await.body.contains("The hives"));
    }
    let legacy_page = format!("/legacies/{legacy}");
    assert!(page(server, &anyone, &legacy_page, None).await.body.contains("The hives"));
    let deleted = server.request(&ana, reqwest::Method::DELETE, &format!("/api/v1/stories/{story}")).send().await;
    assert!(deleted.unwrap().status().is_success());
    let gone = page(server, &anyone, &path, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(!gone.body.contains("The hives"));
    assert!(!page(server, &anyone, &legacy_page, None).await.body.contains("The hives"));
});
