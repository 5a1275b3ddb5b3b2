//! Several replicas on one database and one JetStream, as real processes (ADR 0017):
//! two on one host each index every change, a second live process with a replica's id is
//! refused (and a dead one's id is taken over), and a replica killed while it held search
//! events serves their changes as soon as it is back, not after JetStream's ack wait; a
//! signed-out page one replica keeps shows a change made on the other on the next request.
//! PostgreSQL and NATS only (`TEST_DATABASE_URL`, `TEST_NATS_URL`; never skipped in CI).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backend::db::{with_pool, Db};
use backend::testing::TestDb;
use serde_json::{json, Value};

const PASSWORD: &str = "a long enough password";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// What every replica of one test shares: the database and the event stream.
struct Cluster {
    database_url: String,
    nats_url: String,
    stream: String,
}

impl Cluster {
    /// `None` (after saying why) when PostgreSQL or NATS is not configured off CI.
    async fn new() -> Option<(Cluster, TestDb)> {
        let nats_url = backend::testing::nats_url()?;
        let test_db = TestDb::postgres().await?;
        let stream = format!("T{}", uuid::Uuid::new_v4().simple());
        Some((Cluster { database_url: test_db.url.clone(), nats_url, stream }, test_db))
    }

    fn command(&self, data: &Path, port: u16, env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_heirloom"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .arg("serve")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", data)
            .env("LEPTOS_OUTPUT_NAME", "heirloom")
            .env("HEIRLOOM_DATA_DIR", data)
            .env("HEIRLOOM_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env("HEIRLOOM_WRITES_PER_MINUTE_PER_IP", "100000")
            .env("HEIRLOOM_SEARCHES_PER_MINUTE_PER_IP", "100000")
            .env("HEIRLOOM_FFMPEG", "off")
            .env("DATABASE_URL", &self.database_url)
            .env("HEIRLOOM_NATS_URL", &self.nats_url)
            .env("HEIRLOOM_NATS_STREAM", &self.stream);
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd
    }

    /// Starts a replica on `data` and waits until it listens; panics if it exits first.
    fn start(&self, data: &Path, env: &[(&str, &str)]) -> Replica {
        match self.try_start(data, env) {
            Ok(replica) => replica,
            Err((code, stderr)) => panic!("replica exited with {code:?} before listening: {stderr}"),
        }
    }

    /// Starts a replica on `data`: listening, or its exit code and what it printed on stderr.
    fn try_start(&self, data: &Path, env: &[(&str, &str)]) -> Result<Replica, (Option<i32>, String)> {
        std::fs::create_dir_all(data).unwrap();
        let port = free_port();
        let stderr_path = data.join(format!("stderr-{port}.log"));
        let mut child = self
            .command(data, port, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(File::create(&stderr_path).unwrap()))
            .spawn()
            .unwrap();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let kept = log.clone();
        // Keeps the log (and drains the pipe so the server never blocks on it).
        std::thread::spawn(move || {
            for line in lines.by_ref().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = ready_tx.send(());
                }
                kept.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if ready_rx.recv_timeout(Duration::from_millis(50)).is_ok() {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                return Err((status.code(), std::fs::read_to_string(&stderr_path).unwrap_or_default()));
            }
            assert!(Instant::now() < deadline, "replica did not start within 90 s");
        }
        Ok(Replica { child, base: format!("http://127.0.0.1:{port}"), data: data.to_path_buf(), log })
    }
}

struct Replica {
    child: Child,
    base: String,
    data: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

impl Replica {
    /// SIGKILL: no shutdown, nothing released or acknowledged.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM and a clean exit (once it serves: before that SIGTERM's handler may not be
    /// installed yet).
    async fn stop(&mut self) {
        let ready = format!("{}/readyz", self.base);
        while !reqwest::get(&ready).await.is_ok_and(|r| r.status() == 200) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(self.child.wait().unwrap().success(), "clean shutdown");
    }

    /// The id the replica generated and keeps in its data folder.
    fn stored_id(&self) -> String {
        std::fs::read_to_string(self.data.join("replica-id")).unwrap().trim().to_string()
    }

    fn logged(&self, text: &str) -> bool {
        self.log.lock().unwrap().iter().any(|line| line.contains(text))
    }

    async fn client(&self, email: &str, sign_up: bool) -> reqwest::Client {
        let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let (path, body) = if sign_up {
            ("/api/v1/auth/signup", json!({ "email": email, "display_name": "Ana", "password": PASSWORD }))
        } else {
            ("/api/v1/auth/signin", json!({ "email": email, "password": PASSWORD }))
        };
        let response = self.post(&client, path, body).await;
        assert!(response.status().is_success(), "{path}: {}", response.status());
        client
    }

    async fn post(&self, client: &reqwest::Client, path: &str, body: Value) -> reqwest::Response {
        client.post(format!("{}{path}", self.base)).header("origin", &self.base).json(&body).send().await.unwrap()
    }

    async fn create(&self, client: &reqwest::Client, path: &str, body: Value) -> Value {
        let response = self.post(client, path, body).await;
        assert_eq!(response.status(), 201, "{path}");
        response.json().await.unwrap()
    }

    /// How many documents `q` finds for `client` on this replica (-1 for an error).
    async fn found(&self, client: &reqwest::Client, q: &str) -> i64 {
        let response = client.get(format!("{}/api/v1/search?q={q}&limit=1", self.base)).send().await;
        match response {
            Ok(response) if response.status() == 200 => {
                response.json::<Value>().await.unwrap()["total"].as_i64().unwrap_or(-1)
            }
            _ => -1,
        }
    }

    /// Waits until `q` finds `expected` documents, for at most `within`; the time it took,
    /// or what it found last.
    async fn until_found(
        &self,
        client: &reqwest::Client,
        q: &str,
        expected: i64,
        within: Duration,
    ) -> Result<Duration, i64> {
        let started = Instant::now();
        loop {
            let found = self.found(client, q).await;
            if found == expected {
                return Ok(started.elapsed());
            }
            if started.elapsed() > within {
                return Err(found);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn story(legacy: &str, title: &str, body: &str) -> Value {
    json!({ "legacy_id": legacy, "title": title, "body": body, "visibility": "members", "status": "published" })
}

async fn replica_rows(db: &Db, id: &str) -> i64 {
    with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM replicas WHERE id = $1").bind(id).fetch_one(pool).await
    })
    .unwrap()
}

// Two processes on one machine (the same HOSTNAME) with data folders of their own: each
// has its own replica id, so its own durable consumer, and finds every new story. Before,
// both were `search-<host name>`, shared one consumer, and each found half, for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_host_each_find_every_story() {
    let Some((cluster, test_db)) = Cluster::new().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let same_host = [("HOSTNAME", "one-host")];
    let a = cluster.start(&dir.path().join("a"), &same_host);
    let b = cluster.start(&dir.path().join("b"), &same_host);
    assert_ne!(a.stored_id(), b.stored_id(), "each data folder has an id of its own");
    assert!(a.stored_id().starts_with("one-host-"), "{}", a.stored_id());

    let on_a = a.client("ana@example.org", true).await;
    let on_b = b.client("ana@example.org", false).await;
    let legacy =
        a.create(&on_a, "/api/v1/legacies", json!({ "name": "Rosa" })).await["id"].as_str().unwrap().to_string();
    const N: i64 = 20;
    for i in 0..N {
        let (replica, client) = if i % 2 == 0 { (&a, &on_a) } else { (&b, &on_b) };
        replica.create(client, "/api/v1/stories", story(&legacy, &format!("Story {i}"), "hostmarker")).await;
    }
    for (name, replica, client) in [("a", &a, &on_a), ("b", &b, &on_b)] {
        let found = replica.until_found(client, "hostmarker", N, Duration::from_secs(30)).await;
        assert!(found.is_ok(), "replica {name} found {found:?} of {N} stories");
    }
    drop((a, b));
    test_db.cleanup().await;
}

// A second live process with the same configured replica id is refused with a message
// that says what to change; once the first is killed (its claim left behind, no longer
// renewed) the id is taken over; a clean shutdown frees it at once; and a replica
// restarted on its own data folder after a kill takes its claim back without waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_live_process_with_a_replica_id_is_refused_and_a_dead_ones_taken_over() {
    let Some((cluster, test_db)) = Cluster::new().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let twin = [("HEIRLOOM_REPLICA_ID", "twin")];
    let mut first = cluster.start(&dir.path().join("first"), &twin);
    let refused = cluster.try_start(&dir.path().join("second"), &twin);
    let Err((code, stderr)) = refused else { panic!("a second live replica `twin` was allowed to start") };
    assert_eq!(replica_rows(&test_db.db, "twin").await, 1, "the id is claimed once");
    assert_eq!(code, Some(2), "a configuration error: {stderr}");
    assert!(
        stderr.contains("`replica_id`") && stderr.contains("`twin` is held by a running Heirloom replica"),
        "{stderr}"
    );
    assert!(stderr.contains("give it another replica_id (HEIRLOOM_REPLICA_ID)"), "{stderr}");
    assert_eq!(stderr.lines().filter(|line| line.starts_with("heirloom: error")).count(), 1, "one line: {stderr}");

    // Killed: the claim stays in the table, but its heartbeat stops.
    first.kill();
    assert_eq!(replica_rows(&test_db.db, "twin").await, 1);
    let started = Instant::now();
    let mut third = cluster.start(&dir.path().join("third"), &twin);
    eprintln!("took over a dead replica's id in {:?}", started.elapsed());
    assert!(third.logged("taking over the replica id from a process whose heartbeat stopped"));

    // Killed and restarted on its own data folder: its own claim, taken back at once.
    third.kill();
    let mut third = cluster.start(&dir.path().join("third"), &twin);
    assert!(!third.logged("taking over"), "no waiting for its own claim to go stale");

    // A clean shutdown deletes the claim, so the next process needs no waiting either.
    third.stop().await;
    assert_eq!(replica_rows(&test_db.db, "twin").await, 0, "released at shutdown");
    let fourth = cluster.start(&dir.path().join("fourth"), &twin);
    assert!(!fourth.logged("taking over"));
    drop(fourth);
    test_db.cleanup().await;
}

// A replica killed while it held search events (pulled from its durable consumer, not yet
// acknowledged) serves their changes as soon as it is back: its index re-reads the
// outbox's tail at start. Before, JetStream handed them back only after the 60 s ack wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_event_serves_the_edits_at_once_after_a_restart() {
    let Some((cluster, test_db)) = Cluster::new().await else { return };
    let dir = tempfile::tempdir().unwrap();
    // Different host names: before the fix, a shared host name was a bug of its own.
    let mut a = cluster.start(&dir.path().join("a"), &[("HOSTNAME", "host-a")]);
    let b = cluster.start(&dir.path().join("b"), &[("HOSTNAME", "host-b")]);
    let on_b = b.client("ana@example.org", true).await;
    let on_a = a.client("ana@example.org", false).await;
    let legacy =
        b.create(&on_b, "/api/v1/legacies", json!({ "name": "Rosa" })).await["id"].as_str().unwrap().to_string();
    const N: usize = 60;
    let mut stories = Vec::new();
    for i in 0..N {
        let created = b.create(&on_b, "/api/v1/stories", story(&legacy, &format!("Story {i}"), "original")).await;
        stories.push(created["id"].as_str().unwrap().to_string());
    }
    // Generous: a debug build indexing on a loaded 2-core machine; what is measured is
    // the restart below.
    assert!(a.until_found(&on_a, "original", N as i64, Duration::from_secs(90)).await.is_ok());

    // Edits through b while a indexes them; a is killed half-way.
    let queue = Arc::new(Mutex::new(stories));
    let edited = Arc::new(Mutex::new(0usize));
    let mut writers = Vec::new();
    for _ in 0..6 {
        let (queue, edited, client, base) = (queue.clone(), edited.clone(), on_b.clone(), b.base.clone());
        writers.push(tokio::spawn(async move {
            loop {
                let Some(id) = queue.lock().unwrap().pop() else { return };
                let edit = json!({ "version": 1, "title": "Edited", "body": "rewritten", "visibility": "members",
                    "status": "published" });
                let url = format!("{base}/api/v1/stories/{id}");
                let response = client.put(url).header("origin", &base).json(&edit).send().await.unwrap();
                assert_eq!(response.status(), 200);
                *edited.lock().unwrap() += 1;
            }
        }));
    }
    while *edited.lock().unwrap() < N / 2 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    a.kill();
    for writer in writers {
        writer.await.unwrap();
    }
    // b has them all; a comes back and must serve them at once.
    assert!(b.until_found(&on_b, "rewritten", N as i64, Duration::from_secs(90)).await.is_ok());
    let a = cluster.start(&dir.path().join("a"), &[("HOSTNAME", "host-a")]);
    let caught_up = a.until_found(&on_a, "rewritten", N as i64, Duration::from_secs(10)).await;
    eprintln!("the restarted replica found all {N} edits: {caught_up:?} after it was ready");
    let took =
        caught_up.unwrap_or_else(|found| panic!("10 s after its restart the replica found {found} of {N} edits"));
    assert!(took < Duration::from_secs(5), "the edits were served {took:?} after the restart");
    assert!(a.logged("search index caught up with the outbox"), "the tail was re-read at start");
    drop((a, b));
    test_db.cleanup().await;
}

// A tab on replica b hears of a comment written through replica a: each replica's live
// consumer gets every event from JetStream and hands it to its own streams.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_replica_reaches_a_live_stream_on_the_other() {
    let Some((cluster, test_db)) = Cluster::new().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let a = cluster.start(&dir.path().join("a"), &[]);
    let b = cluster.start(&dir.path().join("b"), &[]);
    let on_a = a.client("ana@example.org", true).await;
    let on_b = b.client("ana@example.org", false).await;
    let legacy =
        a.create(&on_a, "/api/v1/legacies", json!({ "name": "Rosa" })).await["id"].as_str().unwrap().to_string();
    let story =
        a.create(&on_a, "/api/v1/stories", story(&legacy, "Bees", "b")).await["id"].as_str().unwrap().to_string();

    let mut stream = on_b.get(format!("{}/api/v1/stream", b.base)).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let said = a.create(&on_a, &format!("/api/v1/stories/{story}/comments"), json!({ "body": "Hello" })).await;
    let comment_id = said["id"].as_str().unwrap().to_string();
    let mut heard = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !heard.contains(&comment_id) {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk()).await;
        let chunk = chunk.expect("replica b's stream tells of the comment within 30 s").unwrap().expect("open");
        heard.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(heard.contains("CommentAdded"), "{heard}");
    drop((a, b));
    test_db.cleanup().await;
}

/// A signed-out reader's page kept by one replica is not served once the story changed
/// on the other: the very next request on it shows the change.
#[tokio::test]
async fn a_page_kept_by_one_replica_shows_a_change_made_on_the_other_at_once() {
    let Some((cluster, test_db)) = Cluster::new().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let a = cluster.start(&dir.path().join("a"), &[]);
    let b = cluster.start(&dir.path().join("b"), &[]);
    let on_a = a.client("ana@example.org", true).await;
    let legacy =
        a.create(&on_a, "/api/v1/legacies", json!({ "name": "Rosa" })).await["id"].as_str().unwrap().to_string();
    let mut input = story(&legacy, "Bees", "b");
    input["visibility"] = json!("public");
    let story = a.create(&on_a, "/api/v1/stories", input).await["id"].as_str().unwrap().to_string();
    let anyone = reqwest::Client::new();
    let page_on_b = async || {
        let response = anyone.get(format!("{}/stories/{story}", b.base)).header("accept", "text/html").send().await;
        response.unwrap().text().await.unwrap()
    };
    for _ in 0..3 {
        assert!(page_on_b().await.contains("Bees"));
    }
    let edit =
        json!({ "version": 1, "title": "Bees in June", "body": "b", "visibility": "public", "status": "published" });
    let edited = on_a.put(format!("{}/api/v1/stories/{story}", a.base)).header("origin", &a.base).json(&edit).send();
    assert!(edited.await.unwrap().status().is_success());
    assert!(page_on_b().await.contains("Bees in June"), "the next request on b shows the edit");
    drop((a, b));
    test_db.cleanup().await;
}
