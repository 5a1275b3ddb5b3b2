//! A database outage seen through the HTTP surface: the server reaches PostgreSQL
//! through a loopback proxy the test can cut (every connection dropped, new ones
//! refused) and restore on the same port, as a PostgreSQL restart or failover does.

use std::sync::Arc;

use crate::common::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// Forwards 127.0.0.1:`port` to PostgreSQL until cut.
struct CuttableProxy {
    port: u16,
    upstream: String,
    running: Mutex<Option<JoinHandle<()>>>,
}

impl CuttableProxy {
    async fn start(upstream: String) -> Arc<CuttableProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Arc::new(CuttableProxy { port, upstream, running: Mutex::new(None) });
        *proxy.running.lock().await = Some(proxy.serve(listener));
        proxy
    }

    fn serve(&self, listener: TcpListener) -> JoinHandle<()> {
        let upstream = self.upstream.clone();
        tokio::spawn(async move {
            let mut pipes = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                pipes.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        })
    }

    /// Drops the listener and every open connection (the JoinSet aborts its pipes).
    async fn cut(&self) {
        if let Some(task) = self.running.lock().await.take() {
            task.abort();
            let _ = task.await;
        }
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.expect("the proxy's port is free again");
        *self.running.lock().await = Some(self.serve(listener));
    }
}

#[tokio::test]
async fn a_database_outage_fails_fast_with_503_and_recovers_without_a_restart() {
    let Some(mut test_db) = backend::testing::TestDb::postgres().await else { return };
    let url = url::Url::parse(&test_db.url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = CuttableProxy::start(upstream).await;
    let mut through_proxy = url.clone();
    through_proxy.set_port(Some(proxy.port)).unwrap();
    test_db.url = through_proxy.to_string();
    let server = TestServer::start(test_db).await;

    let member = TestServer::browser();
    let signed_up = server
        .post_json(
            &member,
            "/api/v1/auth/signup",
            json!({ "email": "ana@example.org", "display_name": "Ana", "password": "grandma's garden 1952" }),
        )
        .await;
    assert_eq!(signed_up.status(), StatusCode::CREATED);
    let list = || member.get(server.url("/api/v1/legacies")).send();
    assert_eq!(list().await.unwrap().status(), StatusCode::OK);

    proxy.cut().await;
    // The first request finds the database gone: a typed 503, not a 500 or a hang.
    let first = list().await.unwrap();
    assert_eq!(first.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["kind"], "unavailable", "{body}");
    assert!(body["message"].as_str().unwrap().contains("database"), "{body}");
    // From then on the gate answers without waiting for the pool: only it sets Retry-After.
    for request in [list(), member.get(server.url("/legacies")).header("accept", "text/html").send()] {
        let gated = request.await.unwrap();
        assert_eq!(gated.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(gated.headers()["retry-after"], "1");
    }
    let write = server.post_json(&member, "/api/v1/legacies", json!({ "name": "Rosa Alvarez" })).await;
    assert_eq!(write.status(), StatusCode::SERVICE_UNAVAILABLE, "a write is refused, not half-done");
    // Liveness is about the process; readiness tells the load balancer.
    assert_eq!(server.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(server.get("/readyz").await.status(), StatusCode::SERVICE_UNAVAILABLE);

    proxy.restore().await;
    let mut recovered = false;
    for _ in 0..100 {
        if list().await.unwrap().status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "requests succeed again once the database is back, without a restart");
    let legacies: Value = list().await.unwrap().json().await.unwrap();
    assert_eq!(legacies.as_array().map(Vec::len), Some(0), "the refused write left nothing: {legacies}");
    let write = server.post_json(&member, "/api/v1/legacies", json!({ "name": "Rosa Alvarez" })).await;
    assert_eq!(write.status(), StatusCode::CREATED);
    server.stop().await;
}
