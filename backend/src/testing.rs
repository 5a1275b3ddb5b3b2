//! Throwaway databases for tests: a SQLite file in a temporary folder, and, when
//! `TEST_DATABASE_URL` names a PostgreSQL server, a fresh database on it per test.
//! In CI (`CI=true`) a missing PostgreSQL is a failure, never a silent skip.

// Test helpers (feature "testing"): a setup failure should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use secrecy::SecretString;

use crate::db::Db;

/// A migrated database that lives as long as this value (drop the SQLite folder; call
/// [`TestDb::cleanup`] to drop a PostgreSQL database).
pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        TestDb::sqlite_in(&std::env::temp_dir()).await
    }

    /// A SQLite file in a new folder under `parent` (a small disk, say).
    pub async fn sqlite_in(parent: &std::path::Path) -> TestDb {
        let dir = tempfile::tempdir_in(parent).expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let db = Db::connect(&SecretString::from(url.clone()), 5).await.expect("open SQLite");
        db.migrate().await.expect("migrate SQLite");
        TestDb { db, url, _dir: Some(dir), postgres: None }
    }

    /// `None` (after saying why) when no PostgreSQL is configured on a developer machine.
    pub async fn postgres() -> Option<TestDb> {
        let server_url = postgres_server_url()?;
        let name = format!("heirloom_t_{}", uuid::Uuid::new_v4().simple());
        let admin =
            Db::connect(&SecretString::from(server_url.clone()), 1).await.expect("connect to TEST_DATABASE_URL");
        let Db::Postgres(pool) = &admin else { panic!("TEST_DATABASE_URL must be a postgres:// URL") };
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(pool).await.expect("create test database");
        admin.close().await;
        let url = with_database(&server_url, &name);
        let db = Db::connect(&SecretString::from(url.clone()), 5).await.expect("connect to test database");
        db.migrate().await.expect("migrate PostgreSQL");
        Some(TestDb { db, url, _dir: None, postgres: Some((server_url, name)) })
    }

    /// Drops the PostgreSQL database, if any; SQLite folders go with the value.
    pub async fn cleanup(self) {
        self.db.close().await;
        if let Some((server_url, name)) = self.postgres {
            if let Ok(Db::Postgres(pool)) = Db::connect(&SecretString::from(server_url), 1).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await;
                pool.close().await;
            }
        }
    }
}

fn postgres_server_url() -> Option<String> {
    service_url("TEST_DATABASE_URL", "PostgreSQL", "the PostgreSQL variant")
}

/// A test service's URL from the environment variable `var`; `None`, after saying that
/// `skipped` is skipped, on a developer machine without one. In CI (`CI=true`) a missing
/// one fails the test: the `tests` tests must run there.
fn service_url(var: &str, tests: &str, skipped: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but {var} is not set: the {tests} tests must run in CI")
        }
        _ => {
            eprintln!("skipping {skipped}: {var} is not set");
            None
        }
    }
}

/// The same server URL pointing at another database.
fn with_database(server_url: &str, database: &str) -> String {
    let mut url = url::Url::parse(server_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(database);
    url.to_string()
}

/// Defines `mod $name { sqlite, postgres }`: the same async test body, run once per
/// engine. The body gets a migrated `&Db`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($db: &$crate::db::Db) $body

            #[tokio::test]
            async fn sqlite() {
                let test_db = $crate::testing::TestDb::sqlite().await;
                body(&test_db.db).await;
                test_db.cleanup().await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(test_db) = $crate::testing::TestDb::postgres().await {
                    body(&test_db.db).await;
                    test_db.cleanup().await;
                }
            }
        }
    };
}

/// Defines `mod $name { sqlite, postgres }` calling `$run(test_db)` once per engine, for a
/// test that needs the [`TestDb`] itself (to start a backend or a server on it) rather
/// than the `&Db` of [`db_test!`]. A test attribute other than `#[tokio::test]` (a
/// runtime with more threads) may be given first.
#[macro_export]
macro_rules! engines_test {
    ($name:ident, $run:ident) => {
        $crate::engines_test!(
            #[tokio::test]
            $name,
            $run
        );
    };
    (#[$test:meta] $name:ident, $run:ident) => {
        mod $name {
            #[$test]
            async fn sqlite() {
                super::$run($crate::testing::TestDb::sqlite().await).await;
            }

            #[$test]
            async fn postgres() {
                if let Some(test_db) = $crate::testing::TestDb::postgres().await {
                    super::$run(test_db).await;
                }
            }
        }
    };
}

/// A configuration with defaults, a data folder, a database and the public URL, as the
/// CLI would build it; `extra` is TOML for any other settings a test needs.
pub fn config(data_dir: &std::path::Path, database_url: &str, public_url: &str, extra: &str) -> crate::Config {
    use figment::providers::{Format, Serialized, Toml};
    let figment = crate::config::defaults_figment()
        .merge(Toml::string(extra))
        .merge(Serialized::default("data_dir", data_dir))
        .merge(Serialized::default("database_url", database_url))
        .merge(Serialized::default("public_url", public_url));
    crate::Config::from_figment(figment).expect("test configuration is valid")
}

/// The NATS server for JetStream tests (`TEST_NATS_URL`); `None`, after saying why, on a
/// developer machine without one. In CI a missing NATS is a failure.
pub fn nats_url() -> Option<String> {
    service_url("TEST_NATS_URL", "JetStream", "the JetStream test")
}

/// A small tmpfs of its own, to fill up: mounting needs root, which CI has (a developer
/// machine without it skips, after saying so; in CI that is a failure). Unmounted when
/// dropped.
pub struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    pub fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().expect("temporary folder");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but a tmpfs could not be mounted (root?)");
            eprintln!("skipping the full-disk test: mounting a tmpfs needs root");
            return None;
        }
        Some(SmallDisk { dir })
    }

    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Bytes still free.
    pub fn free(&self) -> u64 {
        fs4::available_space(self.path()).expect("statvfs")
    }

    /// Writes a filler file until at most `leave` bytes are free; returns its path
    /// (remove it to give the space back).
    pub fn fill_leaving(&self, leave: u64) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.path().join(format!("filler-{}", uuid::Uuid::new_v4().simple()));
        let mut file = std::fs::File::create(&path).expect("create the filler");
        let chunk = vec![0x5a_u8; 16 * 1024];
        while self.free() > leave + chunk.len() as u64 && file.write_all(&chunk).is_ok() {}
        if leave == 0 {
            while file.write_all(&chunk).is_ok() {}
            while file.write_all(&[0x5a]).is_ok() {}
        }
        let _ = file.sync_all();
        path
    }

    /// Writes a filler file until the disk is full; returns its path.
    pub fn fill(&self) -> std::path::PathBuf {
        self.fill_leaving(0)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// A PNG whose header claims `width` × `height` pixels, with (almost) no image data:
/// a decompression bomb's shape, for the tests that it is refused before decoding.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for byte in data {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let header = [&width.to_be_bytes()[..], &height.to_be_bytes(), &[8, 2, 0, 0, 0]].concat();
    let empty_zlib = b"\x78\x01\x01\x00\x00\xff\xff\x00\x00\x00\x01".to_vec();
    for (kind, body) in [(&b"IHDR"[..], header), (b"IDAT", empty_zlib), (b"IEND", vec![])] {
        let chunk = [kind, &body].concat();
        png.extend_from_slice(&(body.len() as u32).to_be_bytes());
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    png
}

/// A real SMTP server with an API to read back what arrived: npm `maildev` (installed
/// at the workspace root by `scripts/tools.sh`), on ports of its own, stopped when
/// dropped. `None`, after saying why, on a developer machine without it; in CI a missing
/// maildev is a failure.
pub struct Maildev {
    child: std::process::Child,
    pub smtp_port: u16,
    pub web_port: u16,
    _mail_dir: tempfile::TempDir,
}

impl Maildev {
    pub async fn start() -> Option<Maildev> {
        let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules/.bin/maildev");
        if !bin.exists() {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {} is missing", bin.display());
            eprintln!("skipping the email test: {} is missing (run scripts/tools.sh)", bin.display());
            return None;
        }
        let free_port = || std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port());
        let (smtp_port, web_port) = (free_port().expect("a free port"), free_port().expect("a free port"));
        let mail_dir = tempfile::tempdir().expect("a folder for maildev");
        let child = std::process::Command::new(bin)
            .args(["--ip", "127.0.0.1", "--smtp", &smtp_port.to_string(), "--web", &web_port.to_string()])
            .arg("--mail-directory")
            .arg(mail_dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("maildev starts");
        let maildev = Maildev { child, smtp_port, web_port, _mail_dir: mail_dir };
        for _ in 0..200 {
            if reqwest::get(maildev.api("/api/email")).await.is_ok_and(|r| r.status().is_success()) {
                return Some(maildev);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("maildev did not answer on port {web_port} within 10 s");
    }

    /// The `smtp_url` setting that sends to it.
    pub fn smtp_url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.smtp_port)
    }

    fn api(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.web_port)
    }

    /// Every email that arrived, oldest first, as maildev's API gives them (`subject`,
    /// `text`, `html`, `to`, `headers`…).
    pub async fn emails(&self) -> Vec<serde_json::Value> {
        let response = reqwest::get(self.api("/api/email")).await.expect("maildev answers");
        response.json().await.expect("maildev lists emails as JSON")
    }

    /// One email's header `name` as sent (maildev's parsed `headers` leave out those it
    /// reads into structures, such as `List-Unsubscribe`), unfolded.
    pub async fn raw_header(&self, email: &serde_json::Value, name: &str) -> Option<String> {
        let id = email["id"].as_str().expect("an email from maildev has an id");
        let response = reqwest::get(self.api(&format!("/api/email/{id}/source"))).await.expect("maildev answers");
        let source = response.text().await.expect("maildev gives the source").replace("\r\n ", " ");
        let prefix = format!("{}:", name.to_ascii_lowercase());
        source
            .lines()
            .take_while(|line| !line.is_empty())
            .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
            .map(|line| line[prefix.len()..].trim().to_string())
    }

    /// The emails sent to `to`, once there are at least `count` (waiting up to 10 s).
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<serde_json::Value> {
        for _ in 0..200 {
            let mine: Vec<_> = self
                .emails()
                .await
                .into_iter()
                .filter(|e| e["to"].as_array().is_some_and(|t| t.iter().any(|a| a["address"] == to)))
                .collect();
            if mine.len() >= count {
                return mine;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("fewer than {count} emails reached {to} within 10 s: {:?}", self.emails().await);
    }
}

impl Drop for Maildev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
