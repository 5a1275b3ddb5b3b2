//! Starts the real router on an ephemeral port against a throwaway database.

// Integration tests and their helpers: a failed step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code)]

use backend::testing::TestDb;
use backend::Backend;
use leptos::config::LeptosOptions;
use server::{router, AppState};

pub struct TestServer {
    pub base: String,
    pub backend: Backend,
    pub client: reqwest::Client,
    test_db: TestDb,
    _data_dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
    /// Taken by [`TestServer::stop_workers`].
    workers: tokio::sync::Mutex<Option<backend::events::runtime::Workers>>,
    /// Set by tests that park events on purpose; `stop` then allows dead letters.
    expects_dead_letters: std::sync::atomic::AtomicBool,
}

impl TestServer {
    pub async fn start(test_db: TestDb) -> TestServer {
        Self::start_with(test_db, "").await
    }

    /// Starts with extra settings, as TOML (`signup = "closed"`, providers, limits…).
    pub async fn start_with(test_db: TestDb, extra: &str) -> TestServer {
        Self::start_in(test_db, &std::env::temp_dir(), extra).await
    }

    /// Starts with its data folder in a new folder under `parent` (a small disk, say).
    pub async fn start_in(test_db: TestDb, parent: &std::path::Path, extra: &str) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let data_dir = tempfile::tempdir_in(parent).unwrap();
        let config = backend::testing::config(data_dir.path(), &test_db.url, &base, extra);
        let backend = Backend::start(config).await.expect("backend starts");
        let leptos_options =
            LeptosOptions::builder().output_name("heirloom").site_root(data_dir.path().display().to_string()).build();
        let state = AppState::new(backend.clone(), leptos_options, server::telemetry::metrics_handle());
        let task = tokio::spawn(async move {
            axum::serve(listener, router(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
                .await
                .unwrap();
        });
        // As `heirloom serve` does: events and timers run beside the HTTP server.
        let workers = backend.start_workers().await.expect("workers start");
        let client = Self::browser();
        TestServer {
            base,
            backend,
            client,
            test_db,
            _data_dir: data_dir,
            task,
            workers: tokio::sync::Mutex::new(Some(workers)),
            expects_dead_letters: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The site root the server serves static files from (its data folder in tests).
    #[allow(dead_code)]
    pub fn site_root(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    /// A client like a browser: keeps cookies, does not follow redirects by itself.
    pub fn browser() -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap()
    }

    /// POSTs JSON from this site's own origin, as the site's pages do.
    pub async fn post_json(&self, client: &reqwest::Client, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.send_json(client, reqwest::Method::POST, path, body).await
    }

    /// Sends JSON with any method (PUT, PATCH…) from this site's own origin.
    pub async fn send_json(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.request(client, method, path).json(&body).send().await.unwrap()
    }

    /// A request from this site's own origin, as the site's pages send it; the caller adds
    /// a body or headers and sends it.
    pub fn request(&self, client: &reqwest::Client, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        client.request(method, self.url(path)).header("origin", &self.base)
    }

    /// POSTs `body` labelled as JSON, whatever it holds (for bodies that must not parse).
    pub async fn post_raw_json(&self, client: &reqwest::Client, path: &str, body: &str) -> reqwest::Response {
        let request = self.request(client, reqwest::Method::POST, path).header("content-type", "application/json");
        request.body(body.to_string()).send().await.unwrap()
    }

    /// POSTs a form from this site's own origin.
    pub async fn post_form(&self, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.request(client, reqwest::Method::POST, path).form(form).send().await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Signs up a new account (the first on an instance is its administrator) named after
    /// the email's local part, with [`PASSWORD`]; the browser that holds its session.
    pub async fn signed_up(&self, email: &str) -> reqwest::Client {
        let name = email.split('@').next().unwrap_or(email);
        self.signed_up_as(email, name).await.0
    }

    /// Signs up with a display name of the test's choosing; the browser and the user as
    /// the API returned it.
    pub async fn signed_up_as(&self, email: &str, display_name: &str) -> (reqwest::Client, serde_json::Value) {
        let browser = Self::browser();
        let body = serde_json::json!({ "email": email, "display_name": display_name, "password": PASSWORD });
        let response = self.post_json(&browser, "/api/v1/auth/signup", body).await;
        assert_eq!(response.status(), reqwest::StatusCode::CREATED, "signing up {email}");
        let user = response.json().await.unwrap();
        (browser, user)
    }

    /// POSTs JSON that must create something (201); what the API returned.
    pub async fn created(&self, client: &reqwest::Client, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self.post_json(client, path, body).await;
        assert_eq!(response.status(), reqwest::StatusCode::CREATED, "{path}");
        response.json().await.unwrap()
    }

    /// Creates a legacy named `name`; its id.
    pub async fn legacy(&self, client: &reqwest::Client, name: &str) -> String {
        let legacy = self.created(client, "/api/v1/legacies", serde_json::json!({ "name": name })).await;
        legacy["id"].as_str().unwrap().to_string()
    }

    /// GETs `path` with `client`: the status and the body as JSON (`Null` when it is not).
    pub async fn get_json(&self, client: &reqwest::Client, path: &str) -> (reqwest::StatusCode, serde_json::Value) {
        let response = client.get(self.url(path)).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// For a test that parks events on purpose: `stop` then does not fail on dead letters.
    pub fn expect_dead_letters(&self) {
        self.expects_dead_letters.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Stops the event and timer workers once every event is published (nothing else in
    /// the process touches the database afterwards); `stop` then has none to stop.
    pub async fn stop_workers(&self) {
        let db = self.backend.db();
        let unpublished = async || backend::events::outbox::unpublished_count(db).await.expect("counting events");
        let mut workers = self.workers.lock().await;
        loop {
            within_ten_seconds(std::time::Duration::from_millis(20), async || unpublished().await == 0).await;
            if let Some(running) = workers.take() {
                running.shutdown().await;
            }
            // A consumer may have written an event of its own (a notification) as it stopped.
            if unpublished().await == 0 {
                return;
            }
            *workers = Some(self.backend.start_workers().await.expect("workers start"));
        }
    }

    /// Stops the server after checking that it left nothing behind: the outbox drained
    /// (waited for while it makes progress, giving up after 30 s without any: a batch of a
    /// large corpus can take over 10 s to index on a loaded machine) and, unless the test
    /// said so, no event parked in dead letters. A test that closed the database itself is
    /// not checked.
    pub async fn stop(self) {
        let db = self.backend.db();
        let checked = !backend::with_pool!(db, |pool| pool.is_closed());
        let (mut last, mut progress_at) = (i64::MAX, std::time::Instant::now());
        if checked {
            // Stopped by the test (`stop_workers`): what it wrote since still gets published.
            let mut workers = self.workers.lock().await;
            if workers.is_none() {
                *workers = Some(self.backend.start_workers().await.expect("workers start"));
            }
            drop(workers);
            loop {
                let unpublished =
                    backend::events::outbox::unpublished_count(db).await.expect("counting unpublished events");
                if unpublished == 0 {
                    break;
                }
                if unpublished < last {
                    (last, progress_at) = (unpublished, std::time::Instant::now());
                }
                assert!(
                    progress_at.elapsed() < std::time::Duration::from_secs(30),
                    "the outbox did not drain before the test server stopped: {unpublished} events still unpublished, none published in 30 s"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        if let Some(workers) = self.workers.lock().await.take() {
            workers.shutdown().await;
        }
        if checked && !self.expects_dead_letters.load(std::sync::atomic::Ordering::Relaxed) {
            let parked = backend::events::consumer::dead_letters(db).await.expect("reading dead letters");
            assert!(
                parked.is_empty(),
                "the test left {} dead letter(s) it did not expect (call `expect_dead_letters()` if it parks events on purpose): {}",
                parked.len(),
                parked
                    .iter()
                    .map(|d| format!("{} parked {} ({}, {} attempts): {}", d.consumer, d.event_type, d.message_id, d.attempts, d.last_error))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        self.task.abort();
        self.backend.shutdown().await;
        self.test_db.cleanup().await;
    }
}

/// Set in the child process [`alone_in_a_process`] starts.
const CHILD: &str = "HEIRLOOM_TEST_CHILD";

/// Runs `body` alone in a process: a child of this test binary that runs only the test
/// `name` (its full path), with `env` set. For tests that need process-wide state to
/// themselves (the global tracing subscriber, environment variables): nextest gives each
/// test a process, but plain `cargo test` runs every test as threads of one.
pub fn alone_in_a_process<Body: std::future::Future<Output = ()>>(
    name: &str,
    env: &[(&str, String)],
    body: impl FnOnce() -> Body,
) {
    if std::env::var_os(CHILD).is_some() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        return runtime.block_on(body());
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .envs(env.iter().map(|(key, value)| (key, value)))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    // "1 passed": the child found this test by name and ran it, rather than nothing.
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child process failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Polls `check` every `interval` until it holds, failing the test after ten seconds:
/// that bounds a hung worker or a stuck indexer (speed is measured in bench/, not here).
pub async fn within_ten_seconds(interval: std::time::Duration, mut check: impl AsyncFnMut() -> bool) {
    // Ten seconds of sleeps (the checks' own time comes on top, as a loaded machine needs).
    let polls = 10_000 / interval.as_millis().max(1);
    for _ in 0..polls {
        if check().await {
            return;
        }
        tokio::time::sleep(interval).await;
    }
    panic!("condition not met within 10 s");
}

/// Waits (a minute at most) until a `heirloom serve` child process logs that it is
/// listening, then keeps draining its output so it never blocks on a full pipe; `exited`
/// says what an exit before that means.
pub fn wait_until_listening(child: &mut std::process::Child, exited: &str) {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        assert!(std::time::Instant::now() < deadline, "server did not start");
        let line = lines.next().unwrap_or_else(|| panic!("{exited}")).unwrap();
        if line.contains("listening on") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
}

/// A real PNG of noise (so it barely compresses: about `width * width * 3` bytes),
/// different for each `seed` (uploads are content-checked, so each must be its own).
pub fn noise_png(width: u32, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let image = image::RgbImage::from_fn(width, width, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        image::Rgb([state as u8, (state >> 8) as u8, (state >> 16) as u8])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

/// The password of every account [`TestServer::signed_up`] creates.
pub const PASSWORD: &str = "a long enough password";

/// `next` values after sign-in that a browser would follow off this site (tabs and line
/// breaks are dropped from URLs, `\\` reads as `/`), raw and percent-encoded, or that
/// cannot be put in a `Location` header at all. Password and OIDC sign-in both use it.
pub const HOSTILE_NEXT: &[&str] = &[
    "/\t/evil.example/",
    "/%09/evil.example/",
    "/\n/evil.example",
    "/%0A/evil.example",
    "/\r\n/evil.example",
    "/%0D%0ASet-Cookie:%20x=1",
    "/\0",
    "/%00",
    "/\u{7f}",
    "/%7F",
    "//evil.example",
    "/\\evil.example",
    "/%5Cevil.example",
    "/%2F/evil.example",
    "https://evil.example/",
    " /evil.example",
    "/ /evil.example",
    "javascript:alert(1)",
];

/// A test against a server on SQLite only, for what does not depend on the engine; the
/// server is stopped (and checked) after the body.
#[macro_export]
macro_rules! sqlite_server_test {
    ($name:ident, |$server:ident| $body:block) => {
        #[tokio::test]
        async fn $name() {
            let $server = $crate::common::TestServer::start(backend::testing::TestDb::sqlite().await).await;
            $body
            $server.stop().await;
        }
    };
}

/// Defines `mod $name { sqlite, postgres }` running the body against a server on each engine.
#[macro_export]
macro_rules! server_test {
    ($name:ident, |$server:ident| $body:block) => {
        $crate::server_test!($name, config = "", |$server| $body);
    };
    ($name:ident, config = $config:expr, |$server:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($server: &$crate::common::TestServer) $body

            #[tokio::test]
            async fn sqlite() {
                let db = backend::testing::TestDb::sqlite().await;
                let server = $crate::common::TestServer::start_with(db, $config).await;
                body(&server).await;
                server.stop().await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = backend::testing::TestDb::postgres().await {
                    let server = $crate::common::TestServer::start_with(db, $config).await;
                    body(&server).await;
                    server.stop().await;
                }
            }
        }
    };
}
