//! A full disk, with the server running as in `heirloom serve`: the data folder is a
//! small tmpfs of its own (mounting one needs root, as CI runs). A write that finds no
//! room is answered 507 `storage_full` and stores nothing; once space is back, writes
//! work again and search finds every acknowledged story, without a restart. Before the
//! disk is full, uploads and the search index leave the last `disk_reserve_mib` to the
//! database, so stories still save.

use std::time::Duration;

use crate::common::TestServer;
use backend::testing::{SmallDisk, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};

const LIMITS: &str = "writes_per_minute_per_ip = 100000\nsearches_per_minute_per_ip = 100000\n";

async fn signed_up_with_legacy(server: &TestServer) -> (reqwest::Client, String) {
    let client = TestServer::browser();
    let body = json!({ "email": "ana@example.org", "display_name": "Ana", "password": "a long enough password" });
    assert_eq!(server.post_json(&client, "/api/v1/auth/signup", body).await.status(), StatusCode::CREATED);
    let response = server.post_json(&client, "/api/v1/legacies", json!({ "name": "Rosa Lind" })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let legacy = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    // The legacy's events (its subject person last) are indexed before a test fills the
    // disk: otherwise the indexer may meet the full disk with one of them and park it,
    // and the test would measure that race instead of its own writes.
    for _ in 0..200 {
        let response = client.get(server.url("/api/v1/search?q=Rosa%20Lind&type=person")).send().await.unwrap();
        if response.json::<Value>().await.unwrap()["total"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (client, legacy)
}

/// Creates a story; `Ok(id)` when acknowledged, `Err((status, body))` otherwise.
async fn create(
    server: &TestServer,
    client: &reqwest::Client,
    legacy: &str,
    n: usize,
) -> Result<String, (StatusCode, Value)> {
    let body = json!({ "legacy_id": legacy, "title": format!("Harvest {n}"),
        "body": format!("diskmarker story number {n} about the orchard"), "visibility": "members",
        "status": "published" });
    let response = server.post_json(client, "/api/v1/stories", body).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status == StatusCode::CREATED {
        Ok(body["id"].as_str().unwrap().to_string())
    } else {
        Err((status, body))
    }
}

/// The ids search finds for the marker every story here carries.
async fn found(server: &TestServer, client: &reqwest::Client) -> Vec<String> {
    let response = client.get(server.url("/api/v1/search?q=diskmarker&limit=100")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let results: Value = response.json().await.unwrap();
    let mut ids: Vec<String> =
        results["hits"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

/// Waits (up to a minute: reconciliation runs every few seconds) until search finds
/// exactly `expected`; the last answer otherwise.
async fn search_finds(server: &TestServer, client: &reqwest::Client, expected: &[String]) -> Vec<String> {
    let mut expected = expected.to_vec();
    expected.sort();
    let mut last = Vec::new();
    for _ in 0..240 {
        last = found(server, client).await;
        if last == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    last
}

fn assert_storage_full(status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert_eq!(body["kind"], "storage_full", "{body}");
    assert!(body["message"].as_str().unwrap().contains("storage is full"), "{body}");
}

/// Everything (database, index, media) on one disk that fills up completely.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_on_a_full_disk_get_507_and_all_work_again_once_space_is_back() {
    let Some(disk) = SmallDisk::mount(48) else { return };
    let test_db = TestDb::sqlite_in(disk.path()).await;
    let server = TestServer::start_in(test_db, disk.path(), &format!("{LIMITS}disk_reserve_mib = 0")).await;
    let (client, legacy) = signed_up_with_legacy(&server).await;
    let mut acknowledged = Vec::new();
    for n in 0..5 {
        acknowledged.push(create(&server, &client, &legacy, n).await.expect("created with room to spare"));
    }
    assert_eq!(search_finds(&server, &client, &acknowledged).await.len(), 5);

    let filler = disk.fill();
    let mut refused = 0;
    for n in 5..25 {
        match create(&server, &client, &legacy, n).await {
            Ok(id) => acknowledged.push(id),
            Err((status, body)) => {
                assert_storage_full(status, &body);
                refused += 1;
            }
        }
    }
    assert!(refused > 0, "a full disk refused nothing");

    std::fs::remove_file(filler).unwrap();
    // No restart: every pooled connection, the index writer and the event workers
    // recover by themselves.
    for n in 25..45 {
        acknowledged.push(create(&server, &client, &legacy, n).await.expect("created once space is back"));
    }
    let listed = client.get(server.url(&format!("/api/v1/stories?legacy_id={legacy}&limit=100"))).send().await.unwrap();
    let listed: Value = listed.json().await.unwrap();
    let mut stored: Vec<String> =
        listed["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect();
    stored.sort();
    let mut expected = acknowledged.clone();
    expected.sort();
    assert_eq!(stored, expected, "a refused write stored something, or an acknowledged one is gone");
    assert_eq!(search_finds(&server, &client, &acknowledged).await, expected, "search misses acknowledged stories");
    server.stop().await;
}

/// The database elsewhere, the data folder (search index, media) on a disk that fills:
/// every story is acknowledged, the index's failed writes are not lost but made good
/// once space is back, while the server runs.
async fn search_catches_up_after_its_disk_was_full(test_db: TestDb) {
    let Some(disk) = SmallDisk::mount(32) else { return };
    let server = TestServer::start_in(test_db, disk.path(), &format!("{LIMITS}disk_reserve_mib = 0")).await;
    let (client, legacy) = signed_up_with_legacy(&server).await;
    let mut acknowledged = vec![create(&server, &client, &legacy, 0).await.unwrap()];
    assert_eq!(search_finds(&server, &client, &acknowledged).await.len(), 1);

    let filler = disk.fill();
    for n in 1..11 {
        acknowledged.push(create(&server, &client, &legacy, n).await.expect("the database has room"));
    }
    // Give the indexer time to fail on them (and park them).
    tokio::time::sleep(Duration::from_secs(4)).await;
    std::fs::remove_file(filler).unwrap();
    for n in 11..21 {
        acknowledged.push(create(&server, &client, &legacy, n).await.unwrap());
    }
    let mut expected = acknowledged.clone();
    expected.sort();
    assert_eq!(search_finds(&server, &client, &acknowledged).await, expected, "search lost stories to a full disk");
    server.stop().await;
}

backend::engines_test!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    search_catches_up_after_its_disk_was_full,
    search_catches_up_after_its_disk_was_full
);

/// With only the reserve left, stories still save, uploads are refused with 507 and
/// the index waits; once space is back, all of it works and search finds everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reserve_is_left_to_the_database() {
    let Some(disk) = SmallDisk::mount(40) else { return };
    let server =
        TestServer::start_in(TestDb::sqlite().await, disk.path(), &format!("{LIMITS}disk_reserve_mib = 16")).await;
    let (client, legacy) = signed_up_with_legacy(&server).await;
    let filler = disk.fill_leaving(8 * 1024 * 1024);

    let saved = vec![create(&server, &client, &legacy, 1).await.expect("stories use the reserve")];
    let upload = json!({ "legacy_id": legacy, "file_name": "garden.png", "size": 1000, "content_type": "image/png",
        // SHA-256 of the 1000 zero bytes sent below.
        "sha256": "541b3e9daa09b20bf85fa273e5cbd3e80185aa4ec298e765db87742b70138a53" });
    let response = server.post_json(&client, "/api/v1/uploads", upload.clone()).await;
    let status = response.status();
    let ticket: Value = response.json().await.unwrap();
    // The upload is refused when asked for, or at its first part at the latest.
    if status == StatusCode::CREATED {
        let url = server.url(ticket["parts"][0]["url"].as_str().unwrap());
        let response = client.put(url).header("origin", &server.base).body(vec![0_u8; 1000]).send().await.unwrap();
        let status = response.status();
        assert_storage_full(status, &response.json().await.unwrap());
    } else {
        assert_storage_full(status, &ticket);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(found(&server, &client).await.is_empty(), "the index wrote into the reserve");
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("heirloom_disk_free_bytes"), "no free-space gauge in /metrics");

    std::fs::remove_file(filler).unwrap();
    assert_eq!(search_finds(&server, &client, &saved).await, saved, "the index did not catch up");
    let response = server.post_json(&client, "/api/v1/uploads", upload).await;
    assert_eq!(response.status(), StatusCode::CREATED, "uploads work again");
    server.stop().await;
}
