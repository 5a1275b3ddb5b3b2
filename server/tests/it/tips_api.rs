//! Tips and connectors over HTTP, with the workers running as in `heirloom serve` and a
//! local fake Todoist: sign-in required, the OAuth redirects with a state bound to the
//! browser's session, a task completed at Todoist exactly once, a revoked token shown in
//! the list, bad input as 422s, the OpenAPI document, and `heirloom rotate-vault-key`.

#[path = "../../../backend/tests/it/support/fake_todoist.rs"]
mod fake_todoist;

use std::time::{Duration, Instant};

use crate::common::TestServer;
use backend::testing::TestDb;
use fake_todoist::{task, FakeTodoist};
use reqwest::StatusCode;
use serde_json::{json, Value};

macro_rules! tips_server_test {
    ($name:ident, |$server:ident, $fake:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($server: &TestServer, $fake: &FakeTodoist) $body

            #[tokio::test]
            async fn sqlite() {
                let fake = FakeTodoist::start().await;
                let server = TestServer::start_with(TestDb::sqlite().await, &fake.config()).await;
                body(&server, &fake).await;
                server.stop().await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = TestDb::postgres().await {
                    let fake = FakeTodoist::start().await;
                    let server = TestServer::start_with(db, &fake.config()).await;
                    body(&server, &fake).await;
                    server.stop().await;
                }
            }
        }
    };
}

async fn post(server: &TestServer, client: &reqwest::Client, path: &str, body: Value) -> (StatusCode, Value) {
    let response = server.post_json(client, path, body).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Follows the connect button: returns the state the provider would send back.
async fn start_connect(server: &TestServer, client: &reqwest::Client, fake: &FakeTodoist) -> String {
    let response = client.get(server.url("/connectors/todoist/connect")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let to = url::Url::parse(&location(&response)).unwrap();
    assert!(to.as_str().starts_with(&format!("{}/oauth/authorize?", fake.base)), "{to}");
    let query: std::collections::HashMap<String, String> = to.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], fake_todoist::CLIENT_ID);
    assert_eq!(query["scope"], "data:read_write");
    assert!(!to.as_str().contains(fake_todoist::CLIENT_SECRET));
    query["state"].clone()
}

async fn callback(server: &TestServer, client: &reqwest::Client, query: &str) -> reqwest::Response {
    client.get(server.url(&format!("/connectors/todoist/callback?{query}"))).send().await.unwrap()
}

server_test!(signed_out_requests_are_refused, |server| {
    let anonymous = TestServer::browser();
    for (method, path) in [
        ("POST", "/api/v1/recommend"),
        ("POST", "/api/v1/tips/some-tip/feedback"),
        ("GET", "/api/v1/connectors"),
        ("DELETE", "/api/v1/connectors/todoist"),
        ("POST", "/api/v1/connectors/todoist/sync"),
        ("GET", "/connectors/todoist/connect"),
        ("GET", "/connectors/todoist/callback?code=x&state=y"),
    ] {
        let request = match method {
            "POST" => anonymous.post(server.url(path)).json(&json!({ "action": "done" })),
            "DELETE" => anonymous.delete(server.url(path)),
            _ => anonymous.get(server.url(path)),
        };
        let response = request.header("origin", &server.base).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["kind"], "unauthenticated", "{method} {path}");
    }
    // A browser is sent to sign in and brought back.
    let page =
        anonymous.get(server.url("/connectors/todoist/connect")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FOUND);
    assert_eq!(location(&page), "/signin?next=%2Fconnectors%2Ftodoist%2Fconnect");
});

server_test!(tips_and_feedback_over_http_with_bad_input_refused, |server| {
    let alice = server.signed_up_as("alice@example.org", "alice@example.org").await.0;
    // No legacy yet: the one suggestion is to start one.
    let (status, tip) = post(server, &alice, "/api/v1/recommend", json!({ "context": { "hour": 20 } })).await;
    assert_eq!(status, StatusCode::OK, "{tip}");
    assert_eq!((tip["kind"].as_str(), tip["deep_link"].as_str()), (Some("advice"), Some("/legacies")));
    let id = tip["id"].as_str().unwrap().to_string();
    // An empty body's context is optional.
    let (status, _) = post(server, &alice, "/api/v1/recommend", json!({})).await;
    assert_eq!(status, StatusCode::OK);

    for (body, field) in [
        (json!({ "context": { "hour": 24 } }), Some("context.hour")),
        (json!({ "context": { "weekday": 9 } }), Some("context.weekday")),
        (json!({ "context": { "device": "fridge" } }), None),
        (json!({ "context": { "hour": "noon" } }), None),
    ] {
        let (status, error) = post(server, &alice, "/api/v1/recommend", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert_eq!(error["kind"], "invalid");
        if let Some(field) = field {
            assert_eq!(error["fields"][0]["field"], field, "{error}");
        }
    }
    let feedback = format!("/api/v1/tips/{id}/feedback");
    let (status, error) = post(server, &alice, &feedback, json!({ "action": "maybe" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let (status, _) = post(server, &alice, &feedback, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, error) = post(server, &alice, "/api/v1/tips/no-such-tip/feedback", json!({ "action": "done" })).await;
    assert_eq!((status, error["kind"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));

    let (status, shown) = post(server, &alice, &feedback, json!({ "action": "shown" })).await;
    assert_eq!((status, shown["recorded"].as_bool()), (StatusCode::OK, Some(true)), "{shown}");
    let (_, again) = post(server, &alice, &feedback, json!({ "action": "shown" })).await;
    assert_eq!(again["recorded"], false);
    let (status, done) = post(server, &alice, &feedback, json!({ "action": "dismissed" })).await;
    assert_eq!((status, done["outcome"].as_str()), (StatusCode::OK, Some("dismissed")), "{done}");
    assert!(done["completion"].is_null());
    let (status, error) = post(server, &alice, &feedback, json!({ "action": "done" })).await;
    assert_eq!((status, error["kind"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{error}");
    // Another user cannot see or answer it.
    let bob = server.signed_up_as("bob@example.org", "bob@example.org").await.0;
    let (status, _) = post(server, &bob, &feedback, json!({ "action": "done" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // With the advice dismissed and nothing else, a friendly tip, never an error.
    let (status, empty) = post(server, &alice, "/api/v1/recommend", json!({ "context": { "hour": 20 } })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(empty["title"], "Nothing to suggest right now");

    // With a legacy to write in, prompts and drafts are suggested.
    let (status, legacy) = post(server, &alice, "/api/v1/legacies", json!({ "name": "Grandma Rosa" })).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut kinds = std::collections::HashSet::new();
    for _ in 0..6 {
        let (_, tip) = post(server, &alice, "/api/v1/recommend", json!({ "context": { "hour": 9 } })).await;
        kinds.insert(tip["kind"].as_str().unwrap().to_string());
        if tip["kind"] == "prompt" {
            assert!(tip["deep_link"]
                .as_str()
                .unwrap()
                .starts_with(&format!("/legacies/{}/new", legacy["id"].as_str().unwrap())));
            assert!(!tip["meta"]["arm"].as_str().unwrap().is_empty(), "{tip}");
        }
    }
    assert!(kinds.contains("prompt"), "{kinds:?}");
});

tips_server_test!(connecting_todoist_and_completing_a_task_once, |server, fake| {
    let admin = server.signed_up_as("admin@example.org", "admin@example.org").await.0; // the first account administers
    let alice = server.signed_up_as("alice@example.org", "alice@example.org").await.0;
    let mut seen = String::new();

    let (status, list) = server.get_json(&alice, "/api/v1/connectors").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["name"], "todoist");
    assert_eq!((list[0]["enabled"].as_bool(), list[0]["connected"].as_bool()), (Some(true), Some(false)));
    assert_eq!(list[0]["connect_url"], "/connectors/todoist/connect");
    assert_eq!(list[0]["last_sync_status"], "never");

    // Unknown connectors are a typed 404 everywhere.
    for path in ["/connectors/trello/connect", "/connectors/trello/callback?code=c&state=s"] {
        let (status, error) = server.get_json(&alice, path).await;
        assert_eq!((status, error["kind"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{path}");
    }
    let response = server.request(&alice, reqwest::Method::DELETE, "/api/v1/connectors/trello").send().await;
    assert_eq!(response.unwrap().status(), StatusCode::NOT_FOUND);

    // A made-up state, or one from another person's session: refused, nothing stored.
    let state = start_connect(server, &alice, fake).await;
    let refused = callback(server, &alice, "code=c1&state=made-up").await;
    assert_eq!(refused.status(), StatusCode::FOUND);
    assert_eq!(location(&refused), "/connect?error=forbidden&connector=todoist");
    let stolen = callback(server, &admin, &format!("code=c1&state={state}")).await;
    assert_eq!(location(&stolen), "/connect?error=forbidden&connector=todoist");
    let (_, list) = server.get_json(&alice, "/api/v1/connectors").await;
    assert_eq!(list[0]["connected"], false);
    assert_eq!(fake.count("POST", "/oauth/access_token"), 0, "refused before any code was exchanged");
    // The provider reporting that the user declined.
    let declined = callback(server, &alice, "error=access_denied&state=x").await;
    assert_eq!(location(&declined), "/connect?error=forbidden&connector=todoist");

    // The real thing.
    fake.set_tasks(vec![task("4711", "Book the family dinner", 3, Some("2026-12-24"))]);
    let state = start_connect(server, &alice, fake).await;
    let connected = callback(server, &alice, &format!("code=alice-code&state={state}")).await;
    assert_eq!(connected.status(), StatusCode::FOUND);
    assert_eq!(location(&connected), "/connect?connected=todoist");
    let token = fake.token_for("alice-code").expect("the code was exchanged");
    let (_, list) = server.get_json(&alice, "/api/v1/connectors").await;
    assert_eq!(list[0]["connected"], true, "{list}");
    seen.push_str(&list.to_string());

    // The task becomes a tip (alice has no legacy: it competes with "start a legacy").
    let mut tip = Value::Null;
    for _ in 0..6 {
        let (status, next) = post(server, &alice, "/api/v1/recommend", json!({ "context": { "hour": 8 } })).await;
        assert_eq!(status, StatusCode::OK);
        seen.push_str(&next.to_string());
        if next["kind"] == "todo" {
            tip = next;
            break;
        }
    }
    assert_eq!(tip["title"], "Book the family dinner", "{tip}");
    assert_eq!(tip["source"], "todoist");
    let feedback = format!("/api/v1/tips/{}/feedback", tip["id"].as_str().unwrap());
    let (status, first) = post(server, &alice, &feedback, json!({ "action": "done" })).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (_, second) = post(server, &alice, &feedback, json!({ "action": "done" })).await;
    assert_eq!((first["recorded"].as_bool(), second["recorded"].as_bool()), (Some(true), Some(false)));
    let call_id = first["completion"]["call_id"].as_str().expect("completion call").to_string();
    assert_eq!(second["completion"]["call_id"], call_id.as_str());
    seen.push_str(&first.to_string());

    // The workers run the call; Todoist sees exactly one close.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, detail) = server.get_json(&admin, &format!("/api/v1/calls/{call_id}")).await;
        if detail["call"]["status"] == "succeeded" {
            seen.push_str(&detail.to_string());
            assert_eq!(detail["call"]["headers"]["authorization"], "[redacted]");
            break;
        }
        assert!(Instant::now() < deadline, "the close call did not succeed: {detail}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await; // a second call would have been made by now
    assert_eq!(fake.closes("4711"), 1);
    let (_, log) = server.get_json(&admin, "/api/v1/calls?source=connector:todoist").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    seen.push_str(&log.to_string());

    // Todoist revokes the token: the next sync disconnects, with a reason in the list.
    fake.revoke();
    let (status, view) = post(server, &alice, "/api/v1/connectors/todoist/sync", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let (_, list) = server.get_json(&alice, "/api/v1/connectors").await;
    assert_eq!(list[0]["connected"], false);
    assert_eq!(list[0]["last_sync_status"], "failed");
    assert!(list[0]["last_error"].as_str().unwrap().contains("revoked"), "{list}");
    let (status, error) = post(server, &alice, "/api/v1/connectors/todoist/sync", json!({})).await;
    assert_eq!((status, error["kind"].as_str()), (StatusCode::CONFLICT, Some("conflict")));
    let response = server.request(&alice, reqwest::Method::DELETE, "/api/v1/connectors/todoist").send().await;
    assert_eq!(response.unwrap().status(), StatusCode::NO_CONTENT);

    assert!(!seen.contains(&token), "the Todoist token appeared in a response");
});

server_test!(an_unconfigured_connector_is_listed_but_cannot_be_connected, |server| {
    let alice = server.signed_up_as("alice@example.org", "alice@example.org").await.0;
    let (_, list) = server.get_json(&alice, "/api/v1/connectors").await;
    assert_eq!((list[0]["name"].as_str(), list[0]["enabled"].as_bool()), (Some("todoist"), Some(false)));
    let (status, error) = server.get_json(&alice, "/connectors/todoist/connect").await;
    assert_eq!((status, error["kind"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{error}");
    assert!(error["message"].as_str().unwrap().contains("not set up"), "{error}");
});

server_test!(the_openapi_document_describes_tips_and_connectors, |server| {
    let doc: Value = server.get("/api/v1/openapi.json").await.json().await.unwrap();
    let paths = &doc["paths"];
    for (path, method) in [
        ("/api/v1/recommend", "post"),
        ("/api/v1/tips/{id}/feedback", "post"),
        ("/api/v1/connectors", "get"),
        ("/api/v1/connectors/{name}", "delete"),
        ("/api/v1/connectors/{name}/sync", "post"),
        ("/connectors/{name}/connect", "get"),
        ("/connectors/{name}/callback", "get"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path} missing");
    }
    let schemas = &doc["components"]["schemas"];
    for schema in ["Tip", "TipKind", "TipAction", "RecommendInput", "FeedbackResult", "ConnectorView"] {
        assert!(schemas[schema].is_object(), "schema {schema} missing");
    }
    let kinds: Vec<&str> = schemas["TipKind"]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(kinds, ["todo", "prompt", "draft", "media", "advice"]);
});

/// The page's HTML, following nothing.
async fn page(server: &TestServer, client: &reqwest::Client, path: &str) -> (StatusCode, String, String) {
    let response = client.get(server.url(path)).header("accept", "text/html").send().await.unwrap();
    let status = response.status();
    let to = location(&response);
    (status, to, response.text().await.unwrap())
}

tips_server_test!(tip_page_and_connect_page_with_their_forms, |server, fake| {
    // Both pages need a signed-in reader; others are sent to sign in and back.
    let anonymous = TestServer::browser();
    for (path, next) in [("/tips", "%2Ftips"), ("/connect", "%2Fconnect")] {
        let (status, to, _) = page(server, &anonymous, path).await;
        assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, format!("/signin?next={next}").as_str()), "{path}");
    }

    let carol = server.signed_up_as("carol@example.org", "carol@example.org").await.0;
    let (status, _, html) = page(server, &carol, "/connect").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Not connected.") && html.contains("href=\"/connectors/todoist/connect\""), "{html}");

    fake.set_tasks(vec![task("8001", "Frame the old map", 2, None), task("8002", "Label the tapes", 1, None)]);
    let state = start_connect(server, &carol, fake).await;
    let connected = callback(server, &carol, &format!("code=carol-code&state={state}")).await;
    assert_eq!(location(&connected), "/connect?connected=todoist");
    let (_, _, html) = page(server, &carol, "/connect?connected=todoist").await;
    assert!(html.contains("Todoist is connected."), "the callback's flash is shown once: {html}");
    assert!(html.contains("Sync now") && html.contains("Disconnect Todoist"), "{html}");

    // Sync now (a plain form): back to the page, which says how it went.
    let synced = server.post_form(&carol, "/connectors/todoist/sync", &[]).await;
    assert_eq!((synced.status(), location(&synced).as_str()), (StatusCode::SEE_OTHER, "/connect"));
    let (_, _, html) = page(server, &carol, "/connect").await;
    assert!(html.contains("Todoist synced: 2 open tasks."), "{html}");
    assert!(html.contains("2 open tasks."), "{html}");
    // An unknown connector: a clear message, nothing changed.
    let unknown = server.post_form(&carol, "/connectors/myspace/sync", &[]).await;
    assert_eq!(location(&unknown), "/connect");
    let (_, _, html) = page(server, &carol, "/connect").await;
    assert!(html.contains("flash-error"), "{html}");

    // The tip page renders one tip, with its done and skip forms, on the server.
    let (status, _, html) = page(server, &carol, "/tips").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("class=\"tip-title\"").count(), 1, "exactly one tip: {html}");
    assert!(html.contains("value=\"done\"") && html.contains("value=\"skipped\""), "{html}");

    // Disconnecting forgets the token and the tasks.
    let gone = server.post_form(&carol, "/connectors/todoist/disconnect", &[]).await;
    assert_eq!(location(&gone), "/connect");
    let (_, _, html) = page(server, &carol, "/connect").await;
    assert!(html.contains("Todoist is disconnected"), "{html}");
    let (_, list) = server.get_json(&carol, "/api/v1/connectors").await;
    assert_eq!((list[0]["connected"].as_bool(), list[0]["items"].as_i64()), (Some(false), Some(0)), "{list}");
    // A form from elsewhere changes nothing.
    let forged = carol
        .post(server.url("/connectors/todoist/sync"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
});

/// `heirloom rotate-vault-key` as an operator runs it: refuses (exit 1) while a value
/// opens with no configured key, re-seals with the old key listed as previous, and
/// finds nothing left to do afterwards.
#[tokio::test]
async fn rotate_vault_key_reseals_everything_and_reports_counts() {
    let old_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let new_key = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let extra = format!("vault_key = \"{old_key}\"\ncalls_allow_private_networks = true\n");
    let config = backend::testing::config(
        &data,
        &format!("sqlite://{}/heirloom.db", data.display()),
        "http://127.0.0.1:9",
        &extra,
    );
    std::fs::create_dir_all(&data).unwrap();
    let backend = backend::Backend::start(config).await.unwrap();
    let admin = backend::identity::repo::insert(
        backend.db(),
        &backend::identity::NewUser::new("admin@example.org", "Admin", backend::identity::Role::Admin).unwrap(),
    )
    .await
    .unwrap();
    let hook = types::WebhookInput {
        url: "http://127.0.0.1:9/hook".into(),
        event_types: vec!["*".into()],
        description: String::new(),
    };
    backend.webhooks.create(&admin.id, &hook).await.unwrap();
    backend.db().close().await;
    drop(backend);

    let run = |previous: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_heirloom"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .current_dir(dir.path())
            .env("HEIRLOOM_DATA_DIR", &data)
            .env("HEIRLOOM_VAULT_KEY", new_key)
            .arg("rotate-vault-key");
        if let Some(previous) = previous {
            cmd.env("HEIRLOOM_VAULT_PREVIOUS_KEYS", format!("[\"{previous}\"]"));
        }
        cmd.output().unwrap()
    };
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

    let without_old = run(None);
    assert_eq!(without_old.status.code(), Some(1), "{}", text(&without_old.stderr));
    assert!(text(&without_old.stdout).contains("webhook secrets: 0 re-sealed, 0 already current, 1 unreadable"));
    assert!(text(&without_old.stderr).contains("vault_previous_keys"), "{}", text(&without_old.stderr));

    let rotated = run(Some(old_key));
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let out = text(&rotated.stdout);
    assert!(out.contains("webhook secrets: 1 re-sealed"), "{out}");
    assert!(out.contains("connector tokens: 0 re-sealed") && out.contains("call credentials:"), "{out}");
    let again = run(None);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(text(&again.stdout).contains("webhook secrets: 0 re-sealed, 1 already current, 0 unreadable"));
    let all = format!("{}{}{}{}", out, text(&rotated.stderr), text(&again.stdout), text(&without_old.stdout));
    assert!(!all.contains(old_key) && !all.contains(new_key), "keys never printed");
}
