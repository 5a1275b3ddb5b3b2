//! A local stand-in for Todoist (which cannot be reached from tests): the endpoints
//! Heirloom uses, answering with Todoist's documented response shapes — the OAuth token
//! exchange, the open tasks list and closing a task — recording every request. It can
//! be told to refuse the token (401), as Todoist does once a user revokes the app.
//! Shared by `backend/tests/it/tips.rs` and `server/tests/it/tips_api.rs` (`#[path]`).

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub const CLIENT_ID: &str = "heirloom-test-client";
pub const CLIENT_SECRET: &str = "heirloom-test-secret";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Inner {
    tasks: Vec<Value>,
    /// Tokens handed out, by the code exchanged for them.
    tokens: HashMap<String, String>,
    revoked: bool,
    requests: Vec<Request>,
    /// Answer the next N task lists with 503 (a Todoist hiccup).
    fail_lists: u32,
}

#[derive(Clone)]
pub struct FakeTodoist {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

/// A task as `GET /rest/v2/tasks` returns it (Todoist's documented example, with its ids).
pub fn task(id: &str, content: &str, priority: i64, due_date: Option<&str>) -> Value {
    json!({
        "id": id, "project_id": "2203306141", "section_id": null, "content": content,
        "description": "", "is_completed": false, "labels": [], "parent_id": null, "order": 1,
        "priority": priority,
        "due": due_date.map(|date| json!({
            "date": date, "is_recurring": false, "datetime": null, "string": date, "timezone": null,
        })),
        "url": format!("https://todoist.com/showTask?id={id}"), "comment_count": 0,
        "created_at": "2019-12-11T22:36:50.000000Z", "creator_id": "2671355",
        "assignee_id": null, "assigner_id": null, "duration": null,
    })
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string)
}

impl FakeTodoist {
    pub async fn start() -> FakeTodoist {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/oauth/authorize", get(|| async { "Todoist would ask the user here." }))
            .route("/oauth/access_token", post(access_token))
            .route("/rest/v2/tasks", get(tasks))
            .route("/rest/v2/tasks/{id}/close", post(close))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeTodoist { base, inner }
    }

    /// Settings (TOML) pointing Heirloom at this fake.
    pub fn config(&self) -> String {
        format!(
            "todoist_client_id = \"{CLIENT_ID}\"\ntodoist_client_secret = \"{CLIENT_SECRET}\"\n\
             todoist_auth_url = \"{0}\"\ntodoist_api_url = \"{0}/rest/v2\"\n\
             calls_allow_private_networks = true\ncalls_timeout_secs = 2\n",
            self.base
        )
    }

    pub fn set_tasks(&self, tasks: Vec<Value>) {
        self.inner.lock().unwrap().tasks = tasks;
    }

    /// From now on every token is refused with 401.
    pub fn revoke(&self) {
        self.inner.lock().unwrap().revoked = true;
    }

    pub fn fail_next_lists(&self, n: u32) {
        self.inner.lock().unwrap().fail_lists = n;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// How many requests went to `method path`.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.requests().iter().filter(|r| r.method == method && r.path == path).count()
    }

    pub fn closes(&self, task_id: &str) -> usize {
        self.count("POST", &format!("/rest/v2/tasks/{task_id}/close"))
    }

    /// The token issued for `code`.
    pub fn token_for(&self, code: &str) -> Option<String> {
        self.inner.lock().unwrap().tokens.get(code).cloned()
    }
}

type Shared = State<Arc<Mutex<Inner>>>;

fn record(inner: &Arc<Mutex<Inner>>, method: &'static str, path: String, headers: &HeaderMap) {
    inner.lock().unwrap().requests.push(Request { method, path, authorization: bearer(headers) });
}

/// `POST /oauth/access_token` with client_id, client_secret and code as form fields.
async fn access_token(State(inner): Shared, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    record(&inner, "POST", "/oauth/access_token".into(), &headers);
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid_client" }))).into_response();
    }
    let code = form.get("code").cloned().unwrap_or_default();
    if code.is_empty() || code == "bad-code" {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_grant" }))).into_response();
    }
    let token = format!("0123456789abcdef-{code}");
    inner.lock().unwrap().tokens.insert(code, token.clone());
    Json(json!({ "access_token": token, "token_type": "Bearer" })).into_response()
}

fn authorized(inner: &Arc<Mutex<Inner>>, headers: &HeaderMap) -> bool {
    let inner = inner.lock().unwrap();
    let Some(value) = bearer(headers) else { return false };
    !inner.revoked && inner.tokens.values().any(|t| value == format!("Bearer {t}"))
}

async fn tasks(State(inner): Shared, headers: HeaderMap) -> Response {
    record(&inner, "GET", "/rest/v2/tasks".into(), &headers);
    if !authorized(&inner, &headers) {
        return (StatusCode::UNAUTHORIZED, "Forbidden").into_response();
    }
    let mut guard = inner.lock().unwrap();
    if guard.fail_lists > 0 {
        guard.fail_lists -= 1;
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    }
    Json(Value::Array(guard.tasks.clone())).into_response()
}

async fn close(State(inner): Shared, Path(id): Path<String>, headers: HeaderMap) -> Response {
    record(&inner, "POST", format!("/rest/v2/tasks/{id}/close"), &headers);
    if !authorized(&inner, &headers) {
        return (StatusCode::UNAUTHORIZED, "Forbidden").into_response();
    }
    let mut guard = inner.lock().unwrap();
    guard.tasks.retain(|t| t["id"].as_str() != Some(id.as_str()));
    StatusCode::NO_CONTENT.into_response()
}
