//! Backup and restore: a server with accounts, stories with revisions and a processed
//! photo is backed up while it runs, wiped, and restored into a fresh database and data
//! folder (also across engines, SQLite into PostgreSQL); every story, revision and media
//! file is back, people sign in with their old passwords, and search finds what it found.
//! Also: every table of the schema is either backed up or deliberately left out, and the
//! `heirloom backup` / `heirloom restore` commands do the same from the command line.

use std::time::Duration;

use crate::common::TestServer;
use backend::backup::tables;
use backend::testing::TestDb;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::PASSWORD;

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap_or(Value::Null)
}

/// A small PNG of noise.
fn photo() -> Vec<u8> {
    let image =
        image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, ((x * y) % 251) as u8]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

struct Written {
    story: String,
    photo: Vec<u8>,
    media: String,
    thumb_bytes: usize,
}

/// Content through the API as people make it: an account, a legacy, a story edited once
/// (two revisions), and a photo processed into thumbnails.
async fn write_content(server: &TestServer) -> Written {
    let ana = TestServer::browser();
    let body = json!({ "email": "ana@example.org", "display_name": "Ana", "password": PASSWORD });
    assert_eq!(server.post_json(&ana, "/api/v1/auth/signup", body).await.status(), StatusCode::CREATED);
    let legacy = json_of(server.post_json(&ana, "/api/v1/legacies", json!({ "name": "Rosa Lind" })).await).await;
    let legacy = legacy["id"].as_str().unwrap().to_string();
    let input = json!({ "legacy_id": legacy, "title": "The orchard", "body": "Grandma kept bees by the river.",
        "tags": ["garden"], "visibility": "members", "status": "published" });
    let story = json_of(server.post_json(&ana, "/api/v1/stories", input).await).await;
    let story_id = story["id"].as_str().unwrap().to_string();
    let update = json!({ "title": "The orchard", "body": "Grandma kept bees by the river, and plums.",
        "tags": ["garden"], "visibility": "members", "status": "published", "version": story["version"] });
    let updated = server.send_json(&ana, reqwest::Method::PUT, &format!("/api/v1/stories/{story_id}"), update).await;
    assert_eq!(updated.status(), StatusCode::OK);

    let photo = photo();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&photo));
    let ticket = json_of(
        server
            .post_json(
                &ana,
                "/api/v1/uploads",
                json!({ "legacy_id": legacy, "story_id": story_id, "file_name": "bees.png",
                "size": photo.len(), "content_type": "image/png", "sha256": sha }),
            )
            .await,
    )
    .await;
    let media = ticket["media_id"].as_str().expect("an upload ticket").to_string();
    let part = &ticket["parts"][0];
    let url = server.url(part["url"].as_str().unwrap());
    assert!(ana
        .put(url)
        .header("origin", &server.base)
        .body(photo.clone())
        .send()
        .await
        .unwrap()
        .status()
        .is_success());
    let complete = server.post_json(&ana, &format!("/api/v1/uploads/{media}/complete"), json!({})).await;
    assert_eq!(complete.status(), StatusCode::OK);
    let mut item = Value::Null;
    for _ in 0..300 {
        item = server.get_json(&ana, &format!("/api/v1/media/{media}")).await.1;
        if item["state"] == "ready" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(item["state"], "ready", "{item}");
    let thumb = ana.get(server.url(&format!("/media/{media}/thumb-320"))).send().await.unwrap();
    assert_eq!(thumb.status(), StatusCode::OK);
    let thumb_bytes = thumb.bytes().await.unwrap().len();
    Written { story: story_id, photo, media, thumb_bytes }
}

/// Everything written is back and works on the restored server.
async fn check_restored(server: &TestServer, written: &Written) {
    let ana = TestServer::browser();
    let signin = server
        .post_json(&ana, "/api/v1/auth/signin", json!({ "email": "ana@example.org", "password": PASSWORD }))
        .await;
    assert_eq!(signin.status(), StatusCode::OK, "the old password works");
    let (status, story) = server.get_json(&ana, &format!("/api/v1/stories/{}", written.story)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(story["body"], "Grandma kept bees by the river, and plums.");
    let (_, revisions) = server.get_json(&ana, &format!("/api/v1/stories/{}/revisions", written.story)).await;
    assert_eq!(revisions.as_array().map(Vec::len), Some(2), "{revisions}");
    let original = ana.get(server.url(&format!("/media/{}/original", written.media))).send().await.unwrap();
    assert_eq!(original.status(), StatusCode::OK);
    assert_eq!(original.bytes().await.unwrap().as_ref(), &written.photo[..], "the photo's bytes are back");
    let thumb = ana.get(server.url(&format!("/media/{}/thumb-320", written.media))).send().await.unwrap();
    assert_eq!(thumb.bytes().await.unwrap().len(), written.thumb_bytes, "and its thumbnail");
    let (_, found) = server.get_json(&ana, "/api/v1/search?q=plums").await;
    assert_eq!(found["hits"][0]["id"].as_str(), Some(written.story.as_str()), "search works: {found}");
    let (_, stranger_finds) = server.get_json(&TestServer::browser(), "/api/v1/search?q=plums").await;
    assert_eq!(stranger_finds["total"], 0, "and still hides what it hid");
}

async fn round_trip(source: TestDb, target: TestDb) {
    let server = TestServer::start(source).await;
    let written = write_content(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("heirloom.tar.gz");
    let b = &server.backend;
    let manifest =
        backend::backup::create(&b.config, b.db(), b.media.storage().clone(), &archive, false).await.unwrap();
    assert_eq!(manifest.tables["stories"], 1);
    assert_eq!(manifest.tables["story_revisions"], 2);
    assert!(manifest.media_files >= 2, "the photo and its thumbnails: {manifest:?}");
    assert!(!manifest.tables.contains_key("user_sessions"), "sessions are not backed up");
    // The wipe: the database is dropped and the data folder deleted with the server.
    server.stop().await;

    let restored_server = TestServer::start(target).await;
    let b = &restored_server.backend;
    let restored = backend::backup::restore(&b.config, b.db(), b.media.storage().clone(), &archive).await.unwrap();
    assert_eq!(restored.media_files, manifest.media_files);
    b.search.rebuild().await.unwrap();
    check_restored(&restored_server, &written).await;

    // A second restore on top is refused and changes nothing.
    let again = backend::backup::restore(&b.config, b.db(), b.media.storage().clone(), &archive).await;
    assert!(matches!(again, Err(backend::Error::Conflict(_))), "{again:?}");
    check_restored(&restored_server, &written).await;
    restored_server.stop().await;
}

#[tokio::test]
async fn sqlite_backup_restores_into_sqlite() {
    round_trip(TestDb::sqlite().await, TestDb::sqlite().await).await;
}

#[tokio::test]
async fn postgres_backup_restores_into_postgres() {
    let (Some(source), Some(target)) = (TestDb::postgres().await, TestDb::postgres().await) else { return };
    round_trip(source, target).await;
}

#[tokio::test]
async fn sqlite_backup_restores_into_postgres() {
    let Some(target) = TestDb::postgres().await else { return };
    round_trip(TestDb::sqlite().await, target).await;
}

async fn every_table_is_accounted_for(db: TestDb) {
    let server = TestServer::start(db).await;
    for table in tables::schema_tables(server.backend.db()).await.unwrap() {
        assert!(
            tables::TABLES.contains(&table.as_str()) || tables::NOT_BACKED_UP.contains(&table.as_str()),
            "table {table} is neither backed up nor deliberately left out: add it to backup::tables"
        );
    }
    server.stop().await;
}

backend::engines_test!(every_table_is_accounted_for, every_table_is_accounted_for);

#[tokio::test]
async fn a_file_that_is_not_a_backup_is_refused() {
    let server = TestServer::start(TestDb::sqlite().await).await;
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("photo.tar.gz");
    std::fs::write(&bogus, b"not an archive").unwrap();
    let b = &server.backend;
    let refused = backend::backup::restore(&b.config, b.db(), b.media.storage().clone(), &bogus).await;
    assert!(matches!(refused, Err(backend::Error::Invalid(_))), "{refused:?}");
    server.stop().await;
}

/// The commands as an operator runs them: backup of a data folder, restore into another.
#[test]
fn the_commands_back_up_and_restore_a_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let run = |data: &str, args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_heirloom"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HEIRLOOM_DATA_DIR", dir.path().join(data))
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let invite = run("old", &["invite"]);
    assert!(invite.status.success(), "{}", String::from_utf8_lossy(&invite.stderr));
    let backup = run("old", &["backup", "family.tar.gz", "--include-vault-key"]);
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    let said = String::from_utf8_lossy(&backup.stdout);
    assert!(said.contains("backup written") && said.contains("vault key"), "{said}");
    let restore = run("new", &["restore", "family.tar.gz"]);
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    assert!(String::from_utf8_lossy(&restore.stdout).contains("vault key file restored"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("old/vault.key")).unwrap().trim(),
        std::fs::read_to_string(dir.path().join("new/vault.key")).unwrap().trim()
    );
    let missing = run("new2", &["restore", "nope.tar.gz"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("archive"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}
