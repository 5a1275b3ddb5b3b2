//! Uploads and media files over HTTP, against the real router on both engines: a file
//! sent in parts, out of order and resumed, is verified and served; limits are refused
//! before a byte is stored; signed URLs refuse expiry and tampering; a private file's
//! URL without a signature is "not found" to a non-member; the same flow against an
//! S3 server (s3s-fs) through presigned part URLs.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crate::common::{noise_png, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const PART: usize = 64 * 1024;
const SMALL_PARTS: &str = "media_part_size_bytes = 65536";

/// Waits until processing is done with the item and returns it.
async fn processed(server: &TestServer, client: &reqwest::Client, id: &str) -> Value {
    for _ in 0..300 {
        let (status, item) = server.get_json(client, &format!("/api/v1/media/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        if !matches!(item["state"].as_str(), Some("pending" | "processing")) {
            return item;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("media {id} was not processed within 30 s");
}

/// A file that starts like a PNG, `len` bytes long (for requests that never store it).
fn png_like(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..len.saturating_sub(8)).map(|i| (i * 31 % 251) as u8));
    bytes
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn request_upload(server: &TestServer, client: &reqwest::Client, body: Value) -> (StatusCode, Value) {
    let response = server.post_json(client, "/api/v1/uploads", body).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn upload_body(legacy_id: &str, bytes: &[u8]) -> Value {
    json!({ "legacy_id": legacy_id, "file_name": "garden.png", "size": bytes.len(),
        "content_type": "image/png", "sha256": sha256(bytes) })
}

/// The part URL as the browser would use it: Heirloom's own (relative) or presigned S3.
fn absolute(server: &TestServer, url: &str) -> String {
    if url.starts_with('/') {
        server.url(url)
    } else {
        url.to_string()
    }
}

async fn put_part(server: &TestServer, client: &reqwest::Client, part: &Value, file: &[u8]) -> StatusCode {
    let offset = part["offset"].as_u64().unwrap() as usize;
    let size = part["size"].as_u64().unwrap() as usize;
    let url = absolute(server, part["url"].as_str().unwrap());
    let bytes = file[offset..offset + size].to_vec();
    client.put(url).header("origin", &server.base).body(bytes).send().await.unwrap().status()
}

fn part(ticket: &Value, number: u64) -> &Value {
    ticket["parts"].as_array().unwrap().iter().find(|p| p["number"] == number).expect("part listed")
}

async fn uploads_resume_complete_and_serve(server: &TestServer) {
    let ana = server.signed_up("ana@example.org").await;
    let rosa = server.legacy(&ana, "Rosa Lind").await;
    let file = noise_png(230, 0x2545_f491);
    let last = file.len() - 2 * PART;
    assert!(last > 0 && last < PART, "three parts");

    let (status, ticket) = request_upload(server, &ana, upload_body(&rosa, &file)).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["media_id"].as_str().unwrap().to_string();
    assert_eq!(ticket["state"], "uploading");
    assert_eq!(ticket["parts"].as_array().unwrap().len(), 3);
    assert_eq!(part(&ticket, 3)["size"], last);

    // Part 2 first, then the connection "drops": completing now names what is missing.
    assert_eq!(put_part(server, &ana, part(&ticket, 2), &file).await, StatusCode::NO_CONTENT);
    let complete = format!("/api/v1/uploads/{id}/complete");
    let response = server.post_json(&ana, &complete, json!({})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = response.json().await.unwrap();
    assert!(error["fields"][0]["message"].as_str().unwrap().contains("2 of 3 parts"), "{error}");

    // Resuming: the status lists part 2 as done and fresh URLs for 1 and 3 only.
    let (status, resumed) = server.get_json(&ana, &format!("/api/v1/uploads/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resumed["parts_done"], json!([2]));
    let missing: Vec<u64> =
        resumed["parts"].as_array().unwrap().iter().map(|p| p["number"].as_u64().unwrap()).collect();
    assert_eq!(missing, [1, 3]);
    // A part of the wrong size is refused and changes nothing.
    let url = absolute(server, part(&resumed, 3)["url"].as_str().unwrap());
    let wrong = ana.put(&url).header("origin", &server.base).body(vec![0u8; last - 1]).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for n in [1, 3] {
        assert_eq!(put_part(server, &ana, part(&resumed, n), &file).await, StatusCode::NO_CONTENT);
    }
    let response = server.post_json(&ana, &complete, json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let item: Value = response.json().await.unwrap();
    assert!(matches!(item["state"].as_str(), Some("pending" | "processing" | "ready")), "{item}");
    // Completing again (a retried request) is harmless.
    assert_eq!(server.post_json(&ana, &complete, json!({})).await.status(), StatusCode::OK);
    let item = processed(server, &ana, &id).await;
    assert_eq!(item["state"], "ready", "{item}");
    assert_eq!(item["content_type"], "image/png");

    // Whoever holds the signed URL gets the file, with headers that keep it inert.
    let original = item["original_url"].as_str().unwrap().to_string();
    let stranger = TestServer::browser();
    let response = stranger.get(server.url(&original)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(response.bytes().await.unwrap().as_ref(), &file[..]);
    assert_eq!(headers["content-type"], "image/png");
    assert!(headers["content-security-policy"].to_str().unwrap().starts_with("sandbox"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "strict-origin-when-cross-origin");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers.contains_key("permissions-policy"));
    assert_eq!(headers["cross-origin-resource-policy"], "same-origin");
    assert!(headers["cache-control"].to_str().unwrap().starts_with("private"));
    assert_eq!(headers["content-disposition"], "inline; filename=\"garden.png\"; filename*=UTF-8''garden.png");
    let thumb = item["variants"].as_array().unwrap().iter().find(|v| v["name"] == "thumb-320").expect("a thumbnail");
    let response = stranger.get(server.url(thumb["url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(
        (response.status(), response.headers()["content-type"].to_str().unwrap()),
        (StatusCode::OK, "image/webp")
    );

    // A member reads it with the session alone, by range too (for seeking in video).
    let ranged =
        ana.get(server.url(&format!("/media/{id}/original"))).header("range", "bytes=10-19").send().await.unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.headers()["content-range"], format!("bytes 10-19/{}", file.len()).as_str());
    assert_eq!(ranged.bytes().await.unwrap().as_ref(), &file[10..20]);
    let beyond =
        ana.get(server.url(&format!("/media/{id}/original"))).header("range", "bytes=999999-").send().await.unwrap();
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    // A caption makes it findable, to those who may see it; search results lead to it.
    let media_path = format!("/api/v1/media/{id}");
    let set_caption = |caption: &str| {
        let body = json!({ "caption": caption, "version": item["version"] });
        server.send_json(&ana, reqwest::Method::PATCH, &media_path, body)
    };
    let patch = set_caption("Grandma's roses in bloom").await;
    assert_eq!(patch.status(), StatusCode::OK);
    let stale = set_caption("overwritten").await;
    assert_eq!(stale.status(), StatusCode::CONFLICT, "a stale version does not overwrite");
    let mut found = Value::Null;
    for _ in 0..100 {
        found = server.get_json(&ana, "/api/v1/search?q=roses&type=media").await.1;
        if found["total"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found["hits"][0]["id"].as_str(), Some(id.as_str()), "{found}");
    let located = ana.get(server.url(&format!("/media/{id}"))).send().await.unwrap();
    assert_eq!(located.status(), StatusCode::SEE_OTHER);
    assert_eq!(located.headers()["location"], format!("/legacies/{rosa}/media#media-{id}").as_str());

    // Without a signature, a non-member gets "not found", exactly as for no such item.
    let bob = server.signed_up("bob@example.org").await;
    let unsigned = bob.get(server.url(&format!("/media/{id}/original"))).send().await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::NOT_FOUND);
    let nothing = bob.get(server.url("/media/0190aaaa-0000-7000-8000-000000000000/original")).send().await.unwrap();
    assert_eq!(nothing.status(), StatusCode::NOT_FOUND);
    assert_eq!(server.get_json(&bob, &format!("/api/v1/media/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(bob.get(server.url(&format!("/media/{id}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let (_, hidden) = server.get_json(&bob, "/api/v1/search?q=roses").await;
    assert_eq!(hidden["total"], 0, "nobody finds or counts what they may not see: {hidden}");

    // A tampered or expired signature is refused whoever asks.
    let tampered = original.replace("sig=", "sig=A");
    assert_eq!(stranger.get(server.url(&tampered)).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let expired = format!("/media/{id}/original?exp=1000&sig={}", original.split("sig=").nth(1).unwrap());
    let response = stranger.get(server.url(&expired)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let error: Value = response.json().await.unwrap();
    assert!(error["message"].as_str().unwrap().contains("expired"), "{error}");
    let other_variant = original.replace("/original?", "/thumb-320?");
    assert_eq!(stranger.get(server.url(&other_variant)).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

server_test!(uploads_resume_complete_and_are_served_to_who_may_see_them, config = SMALL_PARTS, |server| {
    uploads_resume_complete_and_serve(server).await;
});

/// Files under `data/media` (parts, objects), to prove a refused request stored nothing.
fn stored_files(server: &TestServer) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| entries.flatten().map(|e| if e.path().is_dir() { count(&e.path()) } else { 1 }).sum())
            .unwrap_or(0)
    }
    count(&server.backend.config.data_dir.join("media"))
}

server_test!(
    limits_are_refused_before_anything_is_stored,
    config = "media_part_size_bytes = 65536\nmedia_user_quota_bytes = 200000\nmedia_max_bytes = 150000",
    |server| {
        let ana = server.signed_up("ana@example.org").await;
        let rosa = server.legacy(&ana, "Rosa Lind").await;
        let field_error = |body: &Value| body["fields"][0]["field"].as_str().unwrap_or_default().to_string();

        let too_big = png_like(150_001);
        let (status, body) = request_upload(server, &ana, upload_body(&rosa, &too_big)).await;
        assert_eq!((status, field_error(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "size".to_string()), "{body}");
        assert!(body["fields"][0]["message"].as_str().unwrap().contains("largest allowed"), "{body}");

        let mut exe = upload_body(&rosa, &png_like(10));
        exe["content_type"] = json!("application/x-msdownload");
        let (status, body) = request_upload(server, &ana, exe).await;
        assert_eq!((status, field_error(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "content_type".to_string()));

        let mut bad_sum = upload_body(&rosa, &png_like(10));
        bad_sum["sha256"] = json!("abc");
        assert_eq!(request_upload(server, &ana, bad_sum).await.0, StatusCode::UNPROCESSABLE_ENTITY);

        let bob = server.signed_up("bob@example.org").await;
        let (status, body) = request_upload(server, &bob, upload_body(&rosa, &png_like(10))).await;
        assert_eq!((status, field_error(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "legacy_id".to_string()));

        // Quota: 150 000 reserved by an unfinished upload, so another 60 000 is over 200 000.
        let first = png_like(150_000);
        let (status, ticket) = request_upload(server, &ana, upload_body(&rosa, &first)).await;
        assert_eq!(status, StatusCode::CREATED);
        let stored_before = stored_files(server);
        let (status, body) = request_upload(server, &ana, upload_body(&rosa, &png_like(60_000))).await;
        assert_eq!((status, field_error(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "size".to_string()), "{body}");
        assert!(body["fields"][0]["message"].as_str().unwrap().contains("quota"), "{body}");
        assert_eq!((body["kind"].as_str(), body["code"].as_str()), (Some("invalid"), Some("quota_exceeded")), "{body}");
        assert_eq!(stored_files(server), stored_before, "a refused upload stores nothing");

        // Cancelling frees the reservation.
        let id = ticket["media_id"].as_str().unwrap();
        let cancel =
            server.request(&ana, reqwest::Method::DELETE, &format!("/api/v1/uploads/{id}")).send().await.unwrap();
        assert_eq!(cancel.status(), StatusCode::NO_CONTENT);
        assert_eq!(server.get_json(&ana, &format!("/api/v1/uploads/{id}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(request_upload(server, &ana, upload_body(&rosa, &png_like(60_000))).await.0, StatusCode::CREATED);
    }
);

server_test!(bytes_that_do_not_match_the_checksum_are_discarded, config = SMALL_PARTS, |server| {
    let ana = server.signed_up("ana@example.org").await;
    let rosa = server.legacy(&ana, "Rosa Lind").await;
    let file = png_like(1000);
    let mut body = upload_body(&rosa, &file);
    body["sha256"] = json!(sha256(b"something else"));
    let (_, ticket) = request_upload(server, &ana, body).await;
    let id = ticket["media_id"].as_str().unwrap();
    assert_eq!(put_part(server, &ana, part(&ticket, 1), &file).await, StatusCode::NO_CONTENT);
    let response = server.post_json(&ana, &format!("/api/v1/uploads/{id}/complete"), json!({})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = response.json().await.unwrap();
    assert!(error["fields"][0]["message"].as_str().unwrap().contains("SHA-256"), "{error}");
    assert_eq!(server.get_json(&ana, &format!("/api/v1/uploads/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(stored_files(server), 0, "nothing of it is kept");

    // A part URL without its signature, or for another upload's part, is refused.
    let url = part(&ticket, 1)["url"].as_str().unwrap().split('?').next().unwrap().to_string();
    let unsigned = server.request(&ana, reqwest::Method::PUT, &url).body(file.clone()).send().await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);
});

/// Makes a member of `legacy_id` with `role` through an invitation link.
async fn member(
    server: &TestServer,
    owner: &reqwest::Client,
    legacy_id: &str,
    email: &str,
    role: &str,
) -> reqwest::Client {
    let path = format!("/api/v1/legacies/{legacy_id}/invitations");
    let invitation: Value = server.post_json(owner, &path, json!({ "role": role })).await.json().await.unwrap();
    let client = server.signed_up(email).await;
    let token = invitation["token"].as_str().unwrap();
    let accepted = server.post_json(&client, &format!("/api/v1/invitations/{token}/accept"), json!({})).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    client
}

/// What `client` can reach of item `id`: the item over the API, its original without a
/// signature, and the item in its legacy's media list.
async fn reach(server: &TestServer, client: &reqwest::Client, legacy_id: &str, id: &str) -> [bool; 3] {
    let api = server.get_json(client, &format!("/api/v1/media/{id}")).await.0 == StatusCode::OK;
    let original = client.get(server.url(&format!("/media/{id}/original"))).send().await.unwrap();
    let (status, listed) = server.get_json(client, &format!("/api/v1/legacies/{legacy_id}/media")).await;
    let listed = status == StatusCode::OK && listed.as_array().unwrap().iter().any(|item| item["id"] == id);
    [api, original.status() == StatusCode::OK, listed]
}

fn stored(server: &TestServer, key: &str) -> bool {
    server.backend.config.data_dir.join("media").join("objects").join(key).exists()
}

// Deleting, moderating away, unpublishing or narrowing a story never lets anyone see its
// photos who could not before (a deleted story's media used to become the legacy's, open
// to every member): for each visibility, each reader and each action.
server_test!(a_story_s_media_never_widen_to_new_readers, config = SMALL_PARTS, |server| {
    let ana = server.signed_up("ana@example.org").await;
    let rosa = server.legacy(&ana, "Rosa Lind").await;
    let readers = [
        ("viewer", member(server, &ana, &rosa, "vic@example.org", "viewer").await),
        ("contributor", member(server, &ana, &rosa, "cora@example.org", "contributor").await),
        ("non-member", server.signed_up("nora@example.org").await),
        ("signed out", TestServer::browser()),
    ];
    let file = noise_png(24, 0x2545_f491);
    for visibility in ["private", "members", "public"] {
        for action in ["delete", "remove", "unpublish", "make private"] {
            let case = format!("{action} a {visibility} story");
            let input = json!({ "legacy_id": rosa, "title": case, "body": "With a photo.", "visibility": visibility,
                "status": "published" });
            let story: Value = server.post_json(&ana, "/api/v1/stories", input).await.json().await.unwrap();
            let story_id = story["id"].as_str().unwrap();
            let mut body = upload_body(&rosa, &file);
            body["story_id"] = json!(story_id);
            let (status, ticket) = request_upload(server, &ana, body).await;
            assert_eq!(status, StatusCode::CREATED, "{case}: {ticket}");
            let id = ticket["media_id"].as_str().unwrap().to_string();
            assert_eq!(put_part(server, &ana, part(&ticket, 1), &file).await, StatusCode::NO_CONTENT);
            let complete = server.post_json(&ana, &format!("/api/v1/uploads/{id}/complete"), json!({})).await;
            assert_eq!(complete.status(), StatusCode::OK, "{case}");
            let item = processed(server, &ana, &id).await;
            assert_eq!(item["state"], "ready", "{case}: {item}");
            let mut keys = vec![format!("originals/{id}")];
            let variants = item["variants"].as_array().unwrap().iter();
            keys.extend(variants.map(|v| format!("variants/{id}/{}", v["name"].as_str().unwrap())));
            assert!(keys.len() > 1 && keys.iter().all(|key| stored(server, key)), "{case}: stored: {keys:?}");

            let mut before = Vec::new();
            for (who, client) in &readers {
                let reached = reach(server, client, &rosa, &id).await;
                // The photo follows its story: members see a members' story's, anyone a public one's.
                let expected = match (visibility, *who) {
                    ("public", _) | ("members", "viewer" | "contributor") => [true; 3],
                    _ => [false; 3],
                };
                assert_eq!(reached, expected, "{case}: the {who} before");
                before.push(reached);
            }

            match action {
                "delete" => {
                    // The story's page says what deleting it takes with it.
                    let page = ana.get(server.url(&format!("/stories/{story_id}"))).send().await.unwrap();
                    let page = page.text().await.unwrap();
                    assert!(page.contains("Deleting it also deletes the photo or recording added to it."), "{page}");
                    let deleted = server
                        .request(&ana, reqwest::Method::DELETE, &format!("/api/v1/stories/{story_id}"))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(deleted.status(), StatusCode::NO_CONTENT, "{case}");
                }
                "remove" => {
                    // The author reports it (a private story has no other reader); the owner removes it.
                    let flagged = server
                        .post_json(&ana, &format!("/api/v1/stories/{story_id}/flags"), json!({ "reason": "Not ours" }))
                        .await;
                    assert_eq!(flagged.status(), StatusCode::CREATED, "{case}");
                    let flag: Value = flagged.json().await.unwrap();
                    let path = format!("/api/v1/moderation/flags/{}", flag["id"].as_str().unwrap());
                    let resolved = server.post_json(&ana, &path, json!({ "action": "remove" })).await;
                    assert_eq!(resolved.status(), StatusCode::NO_CONTENT, "{case}");
                }
                _ => {
                    let mut update = json!({ "version": story["version"], "title": case, "body": "With a photo." });
                    match action {
                        "unpublish" => update["status"] = json!("draft"),
                        _ => update["visibility"] = json!("private"),
                    }
                    let changed = server
                        .send_json(&ana, reqwest::Method::PUT, &format!("/api/v1/stories/{story_id}"), update)
                        .await;
                    assert_eq!(changed.status(), StatusCode::OK, "{case}");
                }
            }

            for ((who, client), before) in readers.iter().zip(&before) {
                let after = reach(server, client, &rosa, &id).await;
                let gained: Vec<bool> = after.iter().zip(before).map(|(a, b)| *a && !*b).collect();
                assert_eq!(gained, [false; 3], "{case}: the {who} gained access (api, original, list)");
                assert_eq!(after, [false; 3], "{case}: the {who} after");
            }
            let signed = stranger_status(server, item["original_url"].as_str().unwrap()).await;
            if matches!(action, "unpublish" | "make private") {
                // The author still has it; a signed URL handed out earlier lasts until it expires.
                assert_eq!(reach(server, &ana, &rosa, &id).await, [true; 3], "{case}: the author");
                assert_eq!(signed, StatusCode::OK, "{case}");
                continue;
            }
            // Gone for its author too, signed URLs included, and its files are removed.
            assert_eq!(reach(server, &ana, &rosa, &id).await, [false; 3], "{case}: the author");
            assert_eq!(signed, StatusCode::NOT_FOUND, "{case}: a signed URL");
            for _ in 0..100 {
                if !keys.iter().any(|key| stored(server, key)) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            for key in &keys {
                assert!(!stored(server, key), "{case}: {key} is still stored");
            }
        }
    }
});

async fn stranger_status(server: &TestServer, url: &str) -> StatusCode {
    TestServer::browser().get(server.url(url)).send().await.unwrap().status()
}

/// An s3s-fs server on a folder, when the binary is installed (`make test` installs it).
struct S3Server {
    child: tokio::process::Child,
    endpoint: String,
    _root: tempfile::TempDir,
}

fn s3s_fs_binary() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("S3S_FS").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/s3s-fs")),
        Some(PathBuf::from("/usr/local/bin/s3s-fs")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

async fn start_s3() -> Option<S3Server> {
    let Some(binary) = s3s_fs_binary() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but s3s-fs is not installed (scripts/test-tools.sh installs it)");
        }
        eprintln!(
            "skipping the S3 test: s3s-fs is not installed (cargo install s3s-fs@0.14.1 --locked --features binary)"
        );
        return None;
    };
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("heirloom-media")).unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let child = tokio::process::Command::new(binary)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--access-key", "AKTEST", "--secret-key", "SKTEST"])
        .arg(root.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("s3s-fs starts");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Some(S3Server { child, endpoint: format!("http://127.0.0.1:{port}"), _root: root });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("s3s-fs did not start");
}

async fn through_s3(db: backend::testing::TestDb) {
    let Some(mut s3) = start_s3().await else { return };
    let config = format!(
        "s3_endpoint = \"{}\"\ns3_bucket = \"heirloom-media\"\ns3_region = \"us-east-1\"\ns3_force_path_style = true\n\
         s3_access_key_id = \"AKTEST\"\ns3_secret_access_key = \"SKTEST\"\nmedia_part_size_bytes = 5242880",
        s3.endpoint
    );
    let server = TestServer::start_with(db, &config).await;
    let ana = server.signed_up("ana@example.org").await;
    let rosa = server.legacy(&ana, "Rosa Lind").await;
    let file = noise_png(1340, 0x2545_f491);
    assert!(file.len() > 5 * 1024 * 1024, "two parts of S3's smallest size");
    let (status, ticket) = request_upload(&server, &ana, upload_body(&rosa, &file)).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["media_id"].as_str().unwrap().to_string();
    let first = part(&ticket, 1)["url"].as_str().unwrap();
    assert!(first.starts_with(&s3.endpoint) && first.contains("X-Amz-Signature"), "a presigned S3 URL: {first}");
    // Straight to S3, as the browser does (no cookies, no origin needed there).
    let direct = reqwest::Client::new();
    for n in [2, 1] {
        let p = part(&ticket, n);
        let (offset, size) = (p["offset"].as_u64().unwrap() as usize, p["size"].as_u64().unwrap() as usize);
        let response =
            direct.put(p["url"].as_str().unwrap()).body(file[offset..offset + size].to_vec()).send().await.unwrap();
        assert!(response.status().is_success(), "S3 took part {n}: {}", response.status());
        if n == 2 {
            let (_, resumed) = server.get_json(&ana, &format!("/api/v1/uploads/{id}")).await;
            assert_eq!(resumed["parts_done"], json!([2]), "S3's part list is the resume point");
        }
    }
    let response = server.post_json(&ana, &format!("/api/v1/uploads/{id}/complete"), json!({})).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    let item = processed(&server, &ana, &id).await;
    assert_eq!(item["state"], "ready", "{item}");
    let served = ana.get(server.url(&format!("/media/{id}/original"))).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(sha256(&served.bytes().await.unwrap()), sha256(&file), "the bytes came back from S3 intact");
    assert!(item["variants"].as_array().unwrap().iter().any(|v| v["name"] == "thumb-320"), "thumbnails in S3 too");
    server.stop().await;
    let _ = s3.child.kill().await;
}

#[tokio::test]
async fn uploads_go_straight_to_s3_sqlite() {
    through_s3(backend::testing::TestDb::sqlite().await).await;
}
