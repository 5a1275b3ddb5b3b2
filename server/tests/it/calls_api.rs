//! Outbound calls, webhooks and dead letters over HTTP, with the workers running as in
//! `heirloom serve`: an administrator submits a call to a local target and sees it
//! succeed in the delivery log; a story write reaches a registered webhook.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A local receiver recording the bodies POSTed to it.
async fn receiver() -> (Arc<Mutex<Vec<String>>>, String) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push(body);
                "thanks"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (received, url)
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

/// Polls until `check` holds, for ten seconds at most.
async fn eventually(check: impl AsyncFnMut() -> bool) {
    crate::common::within_ten_seconds(Duration::from_millis(20), check).await;
}

server_test!(
    an_admin_submits_a_call_and_sees_it_succeed_in_the_log,
    config = "calls_allow_private_networks = true",
    |server| {
        let admin = server.signed_up_as("admin@example.org", "Someone").await.0;
        let member = server.signed_up_as("member@example.org", "Someone").await.0;
        let (received, url) = receiver().await;

        let call = json!({ "method": "POST", "url": url, "body": "{\"n\":1}", "headers": { "Content-Type": "application/json" } });
        let submit = || {
            let request = server.request(&admin, reqwest::Method::POST, "/api/v1/calls");
            request.header("idempotency-key", "first").json(&call).send()
        };
        let response = submit().await.unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let submitted = json_of(response).await;
        let id = submitted["call"]["id"].as_str().unwrap().to_string();
        let replay = submit().await.unwrap();
        assert_eq!(replay.status(), StatusCode::OK);
        assert_eq!(json_of(replay).await["call"]["id"], id.as_str());

        eventually(async || {
            json_of(admin.get(server.url(&format!("/api/v1/calls/{id}"))).send().await.unwrap()).await["call"]["status"]
                == "succeeded"
        })
        .await;
        let detail = json_of(admin.get(server.url(&format!("/api/v1/calls/{id}"))).send().await.unwrap()).await;
        assert_eq!(detail["attempts"][0]["status_code"], 200);
        assert_eq!(detail["attempts"][0]["response_snippet"], "thanks");
        assert_eq!(received.lock().unwrap().clone(), ["{\"n\":1}"]);
        let listed = json_of(admin.get(server.url("/api/v1/calls?status=succeeded")).send().await.unwrap()).await;
        assert_eq!(listed["items"][0]["id"], id.as_str());
        let none = json_of(admin.get(server.url("/api/v1/calls?status=failed")).send().await.unwrap()).await;
        assert_eq!(none["items"], json!([]));
        let bad = admin.get(server.url("/api/v1/calls?status=nope")).send().await.unwrap();
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // Members may not use the executor or read its log.
        let refused = server
            .send_json(
                &member,
                reqwest::Method::POST,
                "/api/v1/calls",
                json!({ "method": "GET", "url": url, "idempotency_key": "m" }),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(member.get(server.url("/api/v1/calls")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        assert_eq!(
            member.get(server.url("/api/v1/dead-letters")).send().await.unwrap().status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(reqwest::get(server.url("/api/v1/calls")).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
);

server_test!(bad_calls_get_specific_errors_and_store_nothing, |server| {
    let admin = server.signed_up_as("admin@example.org", "Someone").await.0;
    let submit = async |body: Value| {
        server.request(&admin, reqwest::Method::POST, "/api/v1/calls").json(&body).send().await.unwrap()
    };
    let cases = [
        (json!({ "method": "POST", "url": "nope", "idempotency_key": "1" }), "url"),
        (json!({ "method": "POST", "url": "http://10.0.0.5/", "idempotency_key": "2" }), "url"),
        (
            json!({ "method": "POST", "url": "https://example.com/", "idempotency_key": "3", "body": "x".repeat(300 * 1024) }),
            "body",
        ),
    ];
    for (body, field) in cases {
        let response = submit(body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let error = json_of(response).await;
        assert_eq!(error["fields"][0]["field"], field, "{error}");
    }
    let huge = submit(json!({ "method": "POST", "url": "https://example.com/", "idempotency_key": "4", "body": "x".repeat(2 * 1024 * 1024) })).await;
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let listed = json_of(admin.get(server.url("/api/v1/calls")).send().await.unwrap()).await;
    assert_eq!(listed["items"], json!([]), "nothing stored");
});

server_test!(a_story_write_reaches_a_registered_webhook, config = "calls_allow_private_networks = true", |server| {
    let admin = server.signed_up_as("admin@example.org", "Someone").await.0;
    let (received, url) = receiver().await;
    // A type the server does not know is refused by name, and the known ones are listed.
    let misspelt = json!({ "url": url, "event_types": ["LegacyCreatd"] });
    let refused = server.post_json(&admin, "/api/v1/webhooks", misspelt).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = json_of(refused).await;
    assert_eq!(refused["fields"][0]["field"], "event_types", "{refused}");
    let message = refused["fields"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("`LegacyCreatd` is not an event type; the event types are LegacyCreated"), "{message}");
    let created =
        server.post_json(&admin, "/api/v1/webhooks", json!({ "url": url, "event_types": ["LegacyCreated"] })).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = json_of(created).await;
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let listed = json_of(admin.get(server.url("/api/v1/webhooks")).send().await.unwrap()).await;
    assert_eq!(listed[0]["url"], url.as_str());
    assert!(listed[0].get("secret").is_none(), "the secret is shown once only");

    let legacy = server.post_json(&admin, "/api/v1/legacies", json!({ "name": "Rosa Lind" })).await;
    let request_id = legacy.headers()["x-request-id"].to_str().unwrap().to_string();
    eventually(async || !received.lock().unwrap().is_empty()).await;
    let body: Value = serde_json::from_str(&received.lock().unwrap()[0]).unwrap();
    assert_eq!(body["type"], "LegacyCreated");
    assert_eq!(body["payload"]["name"], "Rosa Lind");
    // The event names the request that wrote it (its x-request-id) as its correlation.
    assert_eq!(body["correlation_id"], request_id.as_str(), "{body}");
    assert_eq!(body["causation_id"], Value::Null);

    // The delivery records the request's correlation and the event it sends; its chain
    // runs from the request's events through the call's own, each under its cause.
    let calls = admin.clone();
    let mut listed = Value::Null;
    eventually(async || {
        listed = json_of(calls.get(server.url("/api/v1/calls")).send().await.unwrap()).await;
        listed["items"][0]["status"] == "succeeded"
    })
    .await;
    let call = &listed["items"][0];
    assert_eq!(call["correlation_id"], request_id.as_str());
    assert_eq!(call["causation_id"], body["message_id"]);
    let detail_url = server.url(&format!("/api/v1/calls/{}", call["id"].as_str().unwrap()));
    let detail = json_of(admin.get(detail_url).send().await.unwrap()).await;
    let chain = &detail["chain"];
    assert_eq!(chain["request_id"], request_id.as_str(), "{chain}");
    let steps: Vec<(String, u64)> = chain["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["event_type"].as_str().unwrap().to_string(), e["depth"].as_u64().unwrap()))
        .collect();
    let expected = [
        ("LegacyCreated", 0),
        ("CallSubmitted", 1),
        ("CallAttempted", 2),
        ("CallSucceeded", 3),
        ("MemberAdded", 0),
        ("PersonCreated", 0),
    ];
    assert_eq!(steps, expected.map(|(t, d)| (t.to_string(), d)), "{chain}");
    assert_eq!(chain["events"][1]["causation_id"], body["message_id"]);
    // The delivery's page shows the same chain.
    let page_url = server.url(&format!("/admin/deliveries/{}", call["id"].as_str().unwrap()));
    let page = admin.get(page_url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("Began with request <code>{request_id}</code>")), "{page}");
    assert!(page.contains("class=\"chain-event depth-3\""), "{page}");

    // The dispatcher reports each consumer's lag.
    let metrics = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("heirloom_event_consumer_lag{consumer=\"webhooks\"}"), "{metrics}");

    let id = created["webhook"]["id"].as_str().unwrap();
    let gone = server.request(&admin, reqwest::Method::DELETE, &format!("/api/v1/webhooks/{id}")).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let missing =
        server.request(&admin, reqwest::Method::DELETE, "/api/v1/dead-letters/webhooks/nope").send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
});
