//! Snapshots of what a REST client depends on (ADR 0022): the OpenAPI document, the error
//! bodies real requests get, and the status and body every error code is answered with.
//! A change to any of them shows in review as a changed file under `snapshots/`.
//!
//! On a difference (or a missing snapshot) the test fails and, outside CI, writes the new
//! version beside the old one as `*.snap.new`; with `CI=true` it only fails. To accept a
//! change on purpose: `INSTA_UPDATE=always cargo nextest run -p server --test it
//! api_snapshots` (or `cargo insta review`), and commit the `.snap` files with the change.
//! Values that differ from run to run (ids, seconds left) are replaced before the
//! comparison.

use backend::testing::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use types::{ApiError, ErrorCode};

use crate::common::TestServer;

#[tokio::test]
async fn the_openapi_document() {
    let server = TestServer::start(TestDb::sqlite().await).await;
    let response = server.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut doc: Value = response.json().await.unwrap();
    // The crate's version moves with every release, not with the API.
    doc["info"]["version"] = json!("[version]");
    insta::assert_json_snapshot!("openapi", doc);
    server.stop().await;
}

/// One request of the table: what was sent, the status and the body that came back.
struct Answer {
    request: String,
    status: StatusCode,
    retry_after: Option<String>,
    body: Value,
}

impl Answer {
    async fn of(request: String, response: reqwest::Response) -> Answer {
        let status = response.status();
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        let body = response.json().await.unwrap_or(Value::Null);
        Answer { request, status, retry_after, body }
    }
}

/// Requests that each provoke one error code, answered by a server on SQLite.
#[tokio::test]
async fn error_bodies_of_requests() {
    let server = TestServer::start_with(TestDb::sqlite().await, "searches_per_minute_per_ip = 1").await;
    let signed_out = TestServer::browser();
    let (ana, ana_user) = server.signed_up_as("ana@example.org", "Ana").await;
    let (bo, _) = server.signed_up_as("bo@example.org", "Bo").await;
    let legacy = server.legacy(&ana, "Rosa Lind").await;
    let bees = json!({ "legacy_id": legacy, "title": "The bees", "body": "She kept bees.", "status": "published" });
    let story_id = server.created(&ana, "/api/v1/stories", bees).await["id"].as_str().unwrap().to_string();
    let ana_id = ana_user["id"].as_str().unwrap().to_string();

    let mut answers = Vec::new();
    let send = |client: &reqwest::Client, method: Method, path: &str| server.request(client, method, path);

    let path = "/api/v1/no-such-endpoint";
    answers.push(Answer::of(format!("GET {path}"), send(&ana, Method::GET, path).send().await.unwrap()).await);
    let path = "/api/v1/stories/no-such-story";
    answers.push(Answer::of(format!("GET {path}"), send(&ana, Method::GET, path).send().await.unwrap()).await);
    let path = "/api/v1/me";
    let response = send(&signed_out, Method::GET, path).send().await.unwrap();
    answers.push(Answer::of(format!("GET {path}, signed out"), response).await);
    let path = "/api/v1/auth/signin";
    let response = send(&signed_out, Method::POST, path)
        .json(&json!({ "email": "ana@example.org", "password": "not the password" }))
        .send()
        .await
        .unwrap();
    answers.push(Answer::of(format!("POST {path}, wrong password"), response).await);
    let path = "/api/v1/legacies";
    let response = ana
        .post(server.url(path))
        .header("origin", "https://evil.example")
        .json(&json!({ "name": "X" }))
        .send()
        .await
        .unwrap();
    answers.push(Answer::of(format!("POST {path}, from another site"), response).await);
    let path = "/api/v1/dead-letters";
    answers
        .push(Answer::of(format!("GET {path}, as a member"), send(&bo, Method::GET, path).send().await.unwrap()).await);
    let path = "/uploads/no-such-upload/parts/1";
    let response = send(&ana, Method::PUT, path).body("x").send().await.unwrap();
    answers.push(Answer::of(format!("PUT {path}, unsigned"), response).await);
    let path = "/api/v1/auth/signup";
    let response = send(&signed_out, Method::POST, path)
        .json(&json!({ "email": "not-an-email", "display_name": "", "password": "short" }))
        .send()
        .await
        .unwrap();
    answers.push(Answer::of(format!("POST {path}, every field wrong"), response).await);
    let path = "/api/v1/stories";
    let response = server.post_raw_json(&ana, path, "{").await;
    answers.push(Answer::of(format!("POST {path}, not JSON"), response).await);
    let path = "/api/v1/auth/signup";
    let response = send(&signed_out, Method::POST, path)
        .json(&json!({ "email": "ana@example.org", "display_name": "Ana", "password": crate::common::PASSWORD }))
        .send()
        .await
        .unwrap();
    answers.push(Answer::of(format!("POST {path}, email taken"), response).await);
    let path = format!("/api/v1/stories/{story_id}");
    let stale = json!({ "version": 0, "title": "The bees", "body": "She kept bees and goats." });
    let response = send(&ana, Method::PUT, &path).json(&stale).send().await.unwrap();
    answers.push(Answer::of("PUT /api/v1/stories/{id}, from an old version".to_string(), response).await);
    let path = format!("/api/v1/legacies/{legacy}/members/{ana_id}");
    let response = send(&ana, Method::DELETE, &path).send().await.unwrap();
    answers
        .push(Answer::of("DELETE /api/v1/legacies/{id}/members/{own id}, the only owner".to_string(), response).await);
    let path = "/api/v1/connectors/todoist/sync";
    answers.push(
        Answer::of(format!("POST {path}, never connected"), send(&ana, Method::POST, path).send().await.unwrap()).await,
    );
    let path = "/api/v1/auth/signin";
    let response = server.post_raw_json(&signed_out, path, &"x".repeat(128 * 1024)).await;
    answers.push(Answer::of(format!("POST {path}, a 128 KiB body"), response).await);
    let path = "/api/v1/search?q=bees";
    send(&ana, Method::GET, path).send().await.unwrap();
    answers.push(
        Answer::of(format!("GET {path}, twice in a minute"), send(&ana, Method::GET, path).send().await.unwrap()).await,
    );

    let expected = [
        ErrorCode::NotFound,
        ErrorCode::NotFound,
        ErrorCode::Unauthenticated,
        ErrorCode::SignInFailed,
        ErrorCode::CrossOriginRefused,
        ErrorCode::AdminRequired,
        ErrorCode::LinkRefused,
        ErrorCode::Invalid,
        ErrorCode::Invalid,
        ErrorCode::EmailTaken,
        ErrorCode::StoryVersionConflict,
        ErrorCode::LastOwner,
        ErrorCode::ConnectorNotConnected,
        ErrorCode::PayloadTooLarge,
        ErrorCode::RateLimited,
    ];
    assert_eq!(answers.len(), expected.len());
    let volatile = [
        (story_id.as_str(), "[story id]"),
        (legacy.as_str(), "[legacy id]"),
        (ana_id.as_str(), "[user id]"),
        (server.base.as_str(), "[public url]"),
    ];
    let mut table = Vec::new();
    for (answer, code) in answers.into_iter().zip(expected) {
        // Each row provokes the code it is there for, whatever the snapshot says.
        let parsed: ApiError = serde_json::from_value(answer.body.clone())
            .unwrap_or_else(|e| panic!("{}: not an ApiError ({e}): {}", answer.request, answer.body));
        assert_eq!(parsed.code(), code, "{}: {}", answer.request, answer.body);
        assert_eq!(answer.status.as_u16(), parsed.status(), "{}", answer.request);
        let mut body = answer.body;
        let mut text = body.to_string();
        if let Some(secs) = body["retry_after_secs"].as_u64() {
            body["retry_after_secs"] = json!("[seconds]");
            text = body.to_string().replace(&format!(" {secs} seconds"), " [seconds] seconds");
        }
        for (value, name) in volatile {
            text = text.replace(value, name);
        }
        let mut row = json!({ "request": answer.request, "status": answer.status.as_u16() });
        if let Some(retry_after) = answer.retry_after {
            assert!(retry_after.parse::<u64>().is_ok(), "{}: Retry-After {retry_after}", row["request"]);
            row["retry_after"] = json!("[seconds]");
        }
        row["body"] = serde_json::from_str(&text).unwrap();
        table.push(row);
    }
    insta::assert_json_snapshot!("error_bodies_of_requests", table);
    server.stop().await;
}

/// Every code the OpenAPI document lists, answered as the server answers any error (the
/// codes no request in a test can provoke, such as a database that is busy, included):
/// status, `Retry-After` and body.
#[tokio::test]
async fn every_error_code_as_answered() {
    use axum::response::IntoResponse;

    let server = TestServer::start(TestDb::sqlite().await).await;
    let doc: Value = server.get("/api/v1/openapi.json").await.json().await.unwrap();
    server.stop().await;
    let codes =
        doc["components"]["schemas"]["ErrorCode"]["enum"].as_array().expect("ErrorCode lists its codes").clone();
    let mut table = Vec::new();
    for name in codes {
        let code: ErrorCode = serde_json::from_value(name.clone()).unwrap();
        let message = "A message for a person.";
        let error = match code.kind() {
            "not_found" => ApiError::not_found(message),
            "unauthenticated" => ApiError::unauthenticated(message),
            "forbidden" => ApiError::forbidden(message),
            "invalid" => ApiError::invalid(vec![types::FieldError::new("field", "what is wrong with it")]),
            "conflict" => ApiError::conflict(message),
            "rate_limited" => ApiError::rate_limited(message, 30),
            "payload_too_large" => ApiError::payload_too_large(message, Some(65536)),
            "unavailable" => ApiError::unavailable(message),
            "storage_full" => ApiError::storage_full(message),
            "internal" => ApiError::internal(),
            other => panic!("{name}: a kind this test does not know: {other}"),
        }
        .with_code(code);
        let response = server::http::ApiFailure::new(error).into_response();
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["code"], name);
        table.push(json!({ "code": name, "status": status, "retry_after": retry_after, "body": body }));
    }
    insta::assert_json_snapshot!("every_error_code_as_answered", table);
}
