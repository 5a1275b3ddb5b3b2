//! The stories REST API over HTTP: typed errors, idempotency header, conflicts,
//! signed-out reads and the OpenAPI document.

use crate::common::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn post(
    server: &TestServer,
    client: &reqwest::Client,
    path: &str,
    body: Value,
    key: Option<&str>,
) -> reqwest::Response {
    let mut request = server.request(client, reqwest::Method::POST, path).json(&body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.send().await.unwrap()
}

server_test!(stories_are_written_and_read_over_rest, |server| {
    let ana = server.signed_up("ana@example.org").await;
    let legacy: Value =
        post(server, &ana, "/api/v1/legacies", json!({ "name": "Rosa Lind", "born": "1931" }), Some("l-1"))
            .await
            .json()
            .await
            .unwrap();
    let replay: Value =
        post(server, &ana, "/api/v1/legacies", json!({ "name": "Rosa Lind" }), Some("l-1")).await.json().await.unwrap();
    assert_eq!(legacy["id"], replay["id"]);
    let legacy_id = legacy["id"].as_str().unwrap();

    let input = json!({ "legacy_id": legacy_id, "title": "The bees", "body": "She kept **bees**.", "tags": ["Garden"],
        "visibility": "public", "status": "published" });
    let created = post(server, &ana, "/api/v1/stories", input.clone(), Some("s-1")).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let story: Value = created.json().await.unwrap();
    assert_eq!(story["body_html"], "<p>She kept <strong>bees</strong>.</p>\n");
    assert_eq!(story["tags"], json!(["garden"]));
    let again: Value = post(server, &ana, "/api/v1/stories", input, Some("s-1")).await.json().await.unwrap();
    assert_eq!(again["id"], story["id"]);
    let id = story["id"].as_str().unwrap();

    // Signed out: the public story is readable, members-only ones are not listed.
    let members_only = json!({ "legacy_id": legacy_id, "title": "Private matters", "body": "x", "visibility": "members", "status": "published" });
    post(server, &ana, "/api/v1/stories", members_only, None).await;
    let public: Value = reqwest::get(server.url("/api/v1/stories")).await.unwrap().json().await.unwrap();
    let titles: Vec<&str> = public["items"].as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["The bees"]);
    let mine: Value = ana.get(server.url("/api/v1/stories?limit=10")).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    assert_eq!(reqwest::get(server.url(&format!("/api/v1/stories/{id}"))).await.unwrap().status(), StatusCode::OK);

    // Two saves from version 1: the second is a 409 a person can act on.
    let update = |body: &str| json!({ "version": 1, "title": "The bees", "body": body, "tags": ["garden"] });
    let first = server.send_json(&ana, reqwest::Method::PUT, &format!("/api/v1/stories/{id}"), update("one")).await;
    assert_eq!(first.status(), StatusCode::OK);
    let second = server.send_json(&ana, reqwest::Method::PUT, &format!("/api/v1/stories/{id}"), update("two")).await;
    assert_eq!(second.status(), StatusCode::CONFLICT);
    let conflict: Value = second.json().await.unwrap();
    assert_eq!(conflict["kind"], "conflict");
    assert_eq!(conflict["code"], "story_version_conflict", "{conflict}");
    assert!(conflict["message"].as_str().unwrap().contains("changed by ana"), "{conflict}");

    let history: Value =
        ana.get(server.url(&format!("/api/v1/stories/{id}/revisions"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(history.as_array().unwrap().len(), 2);
    let restored =
        post(server, &ana, &format!("/api/v1/stories/{id}/revisions/1/restore"), json!({ "version": 2 }), None).await;
    assert_eq!(restored.json::<Value>().await.unwrap()["body"], "She kept **bees**.");

    let deleted = server.request(&ana, reqwest::Method::DELETE, &format!("/api/v1/stories/{id}")).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        ana.get(server.url(&format!("/api/v1/stories/{id}"))).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
});

sqlite_server_test!(bad_requests_get_typed_errors_and_write_nothing, |server| {
    let ana = server.signed_up("ana@example.org").await;
    let legacy: Value =
        post(&server, &ana, "/api/v1/legacies", json!({ "name": "Rosa" }), None).await.json().await.unwrap();

    let not_json = server.post_raw_json(&ana, "/api/v1/stories", "{").await;
    assert_eq!(not_json.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(not_json.json::<Value>().await.unwrap()["kind"], "invalid");

    let huge = json!({ "legacy_id": legacy["id"], "title": "Big", "body": "x".repeat(5 * 1024 * 1024) });
    let too_big = post(&server, &ana, "/api/v1/stories", huge, None).await;
    assert_eq!(too_big.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_big.json::<Value>().await.unwrap()["fields"][0]["field"], "body");

    let unknown =
        post(&server, &ana, "/api/v1/stories", json!({ "legacy_id": "nope", "title": "T", "body": "" }), None).await;
    assert_eq!(unknown.json::<Value>().await.unwrap()["fields"][0]["field"], "legacy_id");

    let bad_version = ana.get(server.url("/api/v1/stories/abc/revisions/not-a-number")).send().await.unwrap();
    assert_eq!(bad_version.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_version.json::<Value>().await.unwrap()["kind"], "invalid");
    let bad_limit = ana.get(server.url("/api/v1/stories?limit=abc")).send().await.unwrap();
    assert_eq!(bad_limit.json::<Value>().await.unwrap()["kind"], "invalid");

    let signed_out = post(&server, &reqwest::Client::new(), "/api/v1/legacies", json!({ "name": "X" }), None).await;
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
    let page: Value = ana.get(server.url("/api/v1/stories")).send().await.unwrap().json().await.unwrap();
    assert!(page["items"].as_array().unwrap().is_empty());
});

sqlite_server_test!(the_openapi_document_describes_the_api, |server| {
    let doc: Value = reqwest::get(server.url("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/api/v1/stories", "/api/v1/stories/{id}", "/api/v1/legacies", "/api/v1/stories/{id}/revisions"] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc["components"]["schemas"].get("ApiError").is_some());
    // Every error kind documents its stable `code`, and the codes are listed.
    let kinds = doc["components"]["schemas"]["ApiError"]["oneOf"].as_array().expect("ApiError is a oneOf");
    assert_eq!(kinds.len(), 10, "{kinds:?}");
    for kind in kinds {
        let required: Vec<&str> = kind["required"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(required.contains(&"code") && required.contains(&"kind"), "{kind}");
    }
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"].as_array().expect("ErrorCode lists its codes");
    for code in ["not_found", "internal", "story_version_conflict", "quota_exceeded", "database_unreachable"] {
        assert!(codes.iter().any(|c| c == code), "{code} missing from {codes:?}");
    }
});

server_test!(a_legacy_page_lists_its_stories_in_pages, |server| {
    let ana = server.signed_up("ana@example.org").await;
    let legacy: Value =
        post(server, &ana, "/api/v1/legacies", json!({ "name": "Rosa Lind" }), None).await.json().await.unwrap();
    let legacy_id = legacy["id"].as_str().unwrap();
    for n in 0..32 {
        let input = json!({ "legacy_id": legacy_id, "title": format!("Summer number {n:02}"), "body": "By the river.",
            "visibility": "members", "status": "published" });
        assert_eq!(post(server, &ana, "/api/v1/stories", input, None).await.status(), StatusCode::CREATED);
    }
    let page = |path: String| {
        let ana = ana.clone();
        let url = server.url(&path);
        async move { ana.get(url).header("accept", "text/html").send().await.unwrap().text().await.unwrap() }
    };
    let first = page(format!("/legacies/{legacy_id}")).await;
    let titles = |html: &str| (0..32).filter(|n| html.contains(&format!("Summer number {n:02}<"))).collect::<Vec<_>>();
    assert_eq!(titles(&first), (2..32).collect::<Vec<_>>(), "the newest 30");
    let more = first.split("rel=\"next\"").next().unwrap().rsplit("href=\"").next().unwrap().split('"').next().unwrap();
    assert!(more.starts_with(&format!("/legacies/{legacy_id}?cursor=")), "{more}");
    let second = page(more.replace("&amp;", "&")).await;
    assert_eq!(titles(&second), vec![0, 1], "the two oldest on the next page");
    assert!(!second.contains("rel=\"next\""), "no link past the last page");
});

server_test!(an_admin_managing_members_of_a_legacy_that_does_not_exist_gets_404, |server| {
    // The first account is the instance's admin, who passes every legacy's member checks.
    let admin = server.signed_up("admin@example.org").await;
    let missing = "01a23000-0000-7000-8000-000000000000";
    let invite =
        post(server, &admin, &format!("/api/v1/legacies/{missing}/invitations"), json!({ "role": "viewer" }), None)
            .await;
    assert_eq!(invite.status(), StatusCode::NOT_FOUND);
    let members_path = format!("/api/v1/legacies/{missing}/members/{missing}");
    let member = server.send_json(&admin, reqwest::Method::PUT, &members_path, json!({ "role": "viewer" })).await;
    assert_eq!(member.status(), StatusCode::NOT_FOUND);
});

server_test!(owners_edit_a_legacy_over_rest_and_from_its_edit_page, |server| {
    let ana = server.signed_up("ana@example.org").await;
    let bo = server.signed_up("bo@example.org").await;
    let legacy_id = server.legacy(&ana, "Rosa Lind").await;
    let path = format!("/api/v1/legacies/{legacy_id}");
    let change = |version: i64, name: &str| json!({ "version": version, "name": name, "born": "1931", "summary": "" });

    let changed = server.send_json(&ana, reqwest::Method::PUT, &path, change(1, "Rosa Maria Lind")).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!((changed["name"].as_str(), changed["version"].as_i64()), (Some("Rosa Maria Lind"), Some(2)));
    let stale: Value =
        server.send_json(&ana, reqwest::Method::PUT, &path, change(1, "Rosa")).await.json().await.unwrap();
    assert_eq!((stale["kind"].as_str(), stale["code"].as_str()), (Some("conflict"), Some("legacy_version_conflict")));
    let empty: Value = server.send_json(&ana, reqwest::Method::PUT, &path, change(2, "")).await.json().await.unwrap();
    assert_eq!(empty["fields"][0]["field"], "name");
    let outsider = server.send_json(&bo, reqwest::Method::PUT, &path, change(2, "Bo's")).await;
    assert_eq!(outsider.status(), StatusCode::NOT_FOUND);
    let signed_out = server.send_json(&TestServer::browser(), reqwest::Method::PUT, &path, change(2, "x")).await;
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);

    // The edit page: a form of the legacy's details; a problem comes back to it with what
    // was typed, a save goes to the legacy's page.
    let edit = format!("/legacies/{legacy_id}/edit");
    let html = |client: &reqwest::Client, path: String| {
        let request = client.get(server.url(&path)).header("accept", "text/html").send();
        async move { request.await.unwrap().text().await.unwrap() }
    };
    let form = html(&ana, edit.clone()).await;
    assert!(form.contains("value=\"Rosa Maria Lind\"") && form.contains("name=\"version\" value=\"2\""), "{form}");
    assert!(!html(&bo, edit.clone()).await.contains("name=\"version\""), "no form for a non-owner");
    let form_path = format!("/legacies/{legacy_id}");
    let typed = [("version", "2"), ("name", "Rosa M. Lind"), ("born", &"9".repeat(41)), ("died", ""), ("summary", "")];
    let refused = server.post_form(&ana, &form_path, &typed).await;
    assert_eq!(refused.headers()["location"], edit.as_str());
    let again = html(&ana, edit.clone()).await;
    assert!(again.contains("must be at most 40 characters") && again.contains("value=\"Rosa M. Lind\""), "{again}");
    let saved =
        server.post_form(&ana, &form_path, &[("version", "2"), ("name", "Rosa M. Lind"), ("summary", "")]).await;
    assert_eq!(saved.headers()["location"], form_path.as_str());
    let page = html(&ana, form_path.clone()).await;
    assert!(page.contains("Rosa M. Lind") && page.contains("details were saved."), "{page}");
});
