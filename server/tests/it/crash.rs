//! `kill -9` in the middle of writes: every acknowledged write is still there after a
//! restart, and every event is delivered to each consumer once (here the webhook
//! consumer, whose effect is one outbound call per event), including events whose
//! process died between the outbox append and their delivery.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::routing::post;
use backend::db::{with_pool, Db};
use secrecy::SecretString;
use serde_json::{json, Value};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn(dir: &Path, port: u16, database_url: &str) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heirloom"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir)
        .arg("serve")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", dir)
        .env("HEIRLOOM_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("HEIRLOOM_CALLS_ALLOW_PRIVATE_NETWORKS", "true")
        .env("HEIRLOOM_WRITES_PER_MINUTE_PER_IP", "100000")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if !database_url.is_empty() {
        cmd.env("DATABASE_URL", database_url);
    }
    let mut child = cmd.spawn().unwrap();
    crate::common::wait_until_listening(&mut child, "server exited early");
    child
}

async fn crash_and_recover(database_url: String) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");

    let received: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let store = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let store = store.clone();
            async move {
                let delivery = headers["x-heirloom-delivery"].to_str().unwrap().to_string();
                let event: Value = serde_json::from_str(&body).unwrap();
                let legacy = event["aggregate_id"].as_str().unwrap().to_string();
                store.lock().unwrap().push((delivery, legacy));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut server = spawn(dir.path(), port, &database_url);
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let post =
        |path: &str, body: Value| client.post(format!("{base}{path}")).header("origin", &base).json(&body).send();
    let signup = json!({ "email": "admin@example.org", "display_name": "Admin", "password": "a long enough password" });
    assert_eq!(post("/api/v1/auth/signup", signup).await.unwrap().status(), 201);
    let webhook = post("/api/v1/webhooks", json!({ "url": hook, "event_types": ["LegacyCreated"] })).await.unwrap();
    assert_eq!(webhook.status(), 201);

    // Writers run until the process is killed under them.
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..6 {
        let (client, base, acknowledged) = (client.clone(), base.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let sent = client
                    .post(format!("{base}/api/v1/legacies"))
                    .header("origin", &base)
                    .json(&json!({ "name": format!("Legacy {w}-{i}") }))
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == 201 => {
                        let legacy: Value = response.json().await.unwrap();
                        acknowledged.lock().unwrap().push(legacy["id"].as_str().unwrap().to_string());
                    }
                    _ => return,
                }
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < 40 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged: Vec<String> = acknowledged.lock().unwrap().clone();

    let db_url = if database_url.is_empty() {
        format!("sqlite://{}", dir.path().join("data/heirloom.db").display())
    } else {
        database_url.clone()
    };
    let db = Db::connect(&SecretString::from(db_url), 2).await.unwrap();
    let unpublished = backend::events::outbox::unpublished_count(&db).await.unwrap();
    eprintln!("killed with {} acknowledged writes, {unpublished} events not yet delivered", acknowledged.len());

    let mut server = spawn(dir.path(), port, &database_url);
    let created: Vec<String> = with_pool!(&db, |pool| {
        sqlx::query_scalar::<_, String>("SELECT aggregate_id FROM outbox WHERE event_type = 'LegacyCreated'")
            .fetch_all(pool)
            .await
    })
    .unwrap();
    let created: HashSet<String> = created.into_iter().collect();
    for id in &acknowledged {
        assert!(created.contains(id), "acknowledged legacy {id} lost");
    }
    // A webhook call cut off mid-flight by the kill is retried when its timer's lease
    // (60 s) runs out, so allow for that.
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        let delivered: HashSet<String> = received.lock().unwrap().iter().map(|(_, legacy)| legacy.clone()).collect();
        if created.iter().all(|id| delivered.contains(id)) {
            break;
        }
        assert!(Instant::now() < deadline, "{} of {} events delivered after restart", delivered.len(), created.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The outbox drains (every consumer's batch recorded) before the server is stopped.
    let deadline = Instant::now() + Duration::from_secs(60);
    while backend::events::outbox::unpublished_count(&db).await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the outbox did not drain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();

    // Once per consumer: one webhook call per event, and the consumer recorded each once.
    let calls: i64 = with_pool!(&db, |pool| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM calls WHERE source LIKE 'webhook:%'").fetch_one(pool).await
    })
    .unwrap();
    assert_eq!(calls as usize, created.len(), "one call per LegacyCreated event");
    let processed: i64 = with_pool!(&db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM processed_events p JOIN outbox o ON o.message_id = p.message_id \
             WHERE p.consumer = 'webhooks' AND o.event_type = 'LegacyCreated'",
        )
        .fetch_one(pool)
        .await
    })
    .unwrap();
    assert_eq!(processed as usize, created.len());
    let deliveries: Vec<String> = received.lock().unwrap().iter().map(|(d, _)| d.clone()).collect();
    let distinct: HashSet<&String> = deliveries.iter().collect();
    // An HTTP call cut off by the kill may be sent again (the receiver can deduplicate by
    // the delivery id); anything beyond one per killed in-flight call would be a bug.
    assert!(deliveries.len() - distinct.len() <= 6, "{} duplicate deliveries", deliveries.len() - distinct.len());
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    crash_and_recover(String::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    if let Some(test_db) = backend::testing::TestDb::postgres().await {
        crash_and_recover(test_db.url.clone()).await;
        test_db.cleanup().await;
    }
}
