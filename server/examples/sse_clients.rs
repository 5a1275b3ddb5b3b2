//! The SSE fan-out bench's clients, for `bench/live.py`: `clients` streams open on
//! `GET /api/v1/stream` as one reader, and a writer posting comments on a story at
//! `rate` a second for `seconds`; prints the delivery times (comment POST answered →
//! its message read on a stream) as JSON on its last line.
//!
//!     cargo build --release -p server --example sse_clients
//!     BENCH_READER_COOKIE=… BENCH_WRITER_COOKIE=… BENCH_STORY=… \
//!         sse_clients <base url> <clients> <rate> <seconds>
//!
//! Why Rust and not the Python of the rest of the bench: 2,000 streams at 50 comments a
//! second are 100,000 messages a second to read, more than a Python event loop reads on
//! one core; its backlog, not the server's, was what the first runs measured. Here every
//! stream is a task on one thread (the server has the machine's other core), and the
//! writer has a thread of its own, so a busy reader never delays the moment a POST is
//! marked answered. Both stamp with the same monotonic clock. It prints "streams open"
//! once every stream has its response head, then waits a second (the bench reads the
//! server's memory then) before the writer starts; the streams read on until `DRAIN`
//! after the writer's last comment was answered.

// A benchmark tool: a failed setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long the streams keep reading after the last comment was answered.
const DRAIN: Duration = Duration::from_secs(3);

/// How many streams the server ended before the run did (a stream that falls behind is
/// closed: the browser would reconnect, this client does not).
static CLOSED_BY_SERVER: AtomicUsize = AtomicUsize::new(0);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, clients, rate, seconds] = args.as_slice() else {
        panic!("usage: sse_clients <base url> <clients> <rate> <seconds>");
    };
    let base = url::Url::parse(base).expect("a base url");
    let clients: usize = clients.parse().expect("clients: a number");
    let rate: u32 = rate.parse().expect("rate: a number");
    let seconds: u32 = seconds.parse().expect("seconds: a number");
    let env = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let reader_cookie = env("BENCH_READER_COOKIE");
    let writer_cookie = env("BENCH_WRITER_COOKIE");
    let story = env("BENCH_STORY");
    let address = format!("{}:{}", base.host_str().expect("a host"), base.port().expect("a port"));

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let started = Instant::now();
    let streams = runtime.block_on(open_streams(&address, &reader_cookie, clients));
    println!("streams open");
    eprintln!("sse_clients: {clients} streams open in {:.1} s", started.elapsed().as_secs_f64());
    let (written, writer_done) = tokio::sync::oneshot::channel();
    let writer = std::thread::spawn(move || {
        let posted = write_comments(base, &writer_cookie, &story, rate, seconds);
        let _ = written.send(());
        posted
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let arrivals = runtime.block_on(async {
        tokio::spawn(async move {
            let _ = writer_done.await;
            tokio::time::sleep(DRAIN).await;
            let _ = stop.send(true);
        });
        read_streams(streams, stopped).await
    });
    let (posted, writing) = writer.join().expect("the writer");

    let mut delays: Vec<f64> = arrivals
        .iter()
        .filter_map(|(comment, at)| {
            posted.get(comment).map(|sent| at.saturating_duration_since(*sent).as_secs_f64() * 1000.0)
        })
        .collect();
    delays.sort_by(f64::total_cmp);
    let percentile =
        |q: f64| delays.get(((delays.len() as f64 * q) as usize).min(delays.len().saturating_sub(1))).copied();
    let round = |v: Option<f64>| v.map(|v| (v * 10.0).round() / 10.0);
    let result = serde_json::json!({
        "deliveries": delays.len(),
        "expected_deliveries": posted.len() * clients,
        "streams_closed_by_server": CLOSED_BY_SERVER.load(Ordering::Relaxed),
        "writer_seconds": (writing.as_secs_f64() * 10.0).round() / 10.0,
        "delivery_ms": {"p50": round(percentile(0.5)), "p95": round(percentile(0.95)), "p99": round(percentile(0.99))},
    });
    println!("{result}");
}

/// Opens every stream and reads each one's response head.
async fn open_streams(address: &str, cookie: &str, clients: usize) -> Vec<TcpStream> {
    let request = format!(
        "GET /api/v1/stream HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n"
    );
    let mut opening = tokio::task::JoinSet::new();
    let mut streams = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (address, request) = (address.to_string(), request.clone());
        opening.spawn(async move {
            let mut stream = TcpStream::connect(&address).await.expect("connecting a stream");
            stream.write_all(request.as_bytes()).await.expect("asking for a stream");
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                assert_eq!(stream.read(&mut byte).await.expect("reading a stream's head"), 1, "stream closed");
                head.push(byte[0]);
            }
            assert!(head.starts_with(b"HTTP/1.1 200 "), "stream refused: {}", String::from_utf8_lossy(&head));
            stream
        });
        // Not all at once: the listen backlog is finite.
        if opening.len() >= 200 {
            streams.push(opening.join_next().await.expect("a task").expect("a stream"));
        }
    }
    streams.extend(opening.join_all().await);
    streams
}

/// Reads every stream until `stop`; returns each comment message's (comment id, arrival).
async fn read_streams(streams: Vec<TcpStream>, stop: tokio::sync::watch::Receiver<bool>) -> Vec<(String, Instant)> {
    let mut reading = tokio::task::JoinSet::new();
    for stream in streams {
        reading.spawn(read_stream(stream, stop.clone()));
    }
    reading.join_all().await.into_iter().flatten().collect()
}

async fn read_stream(mut stream: TcpStream, mut stop: tokio::sync::watch::Receiver<bool>) -> Vec<(String, Instant)> {
    let mut arrivals = Vec::new();
    let mut buffer = Vec::with_capacity(8192);
    let mut chunk = [0u8; 16384];
    loop {
        let read = tokio::select! {
            read = stream.read(&mut chunk) => read.expect("reading a stream"),
            _ = stop.wait_for(|stopped| *stopped) => return arrivals,
        };
        if read == 0 {
            CLOSED_BY_SERVER.fetch_add(1, Ordering::Relaxed);
            return arrivals;
        }
        let now = Instant::now();
        buffer.extend_from_slice(&chunk[..read]);
        let complete = buffer.iter().rposition(|b| *b == b'\n').map_or(0, |at| at + 1);
        for line in buffer[..complete].split(|b| *b == b'\n') {
            if let Some(comment) = comment_added(line) {
                arrivals.push((comment, now));
            }
        }
        buffer.drain(..complete);
    }
}

/// The comment id of a `data:` line that tells of a `CommentAdded`. Found by its text,
/// not by parsing the JSON: this runs 100,000 times a second on the machine it measures.
fn comment_added(line: &[u8]) -> Option<String> {
    let data = std::str::from_utf8(line.strip_prefix(b"data:")?).ok()?;
    if !data.contains(r#""event_type":"CommentAdded""#) {
        return None;
    }
    let key = r#""comment_id":""#;
    let id = &data[data.find(key)? + key.len()..];
    Some(id[..id.find('"')?].to_string())
}

/// Posts `rate × seconds` comments at `rate` a second; returns when each was answered,
/// and how long posting them all took.
fn write_comments(
    base: url::Url,
    cookie: &str,
    story: &str,
    rate: u32,
    seconds: u32,
) -> (HashMap<String, Instant>, Duration) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let client = reqwest::Client::new();
    let origin = base.as_str().trim_end_matches('/').to_string();
    let url = base.join(&format!("api/v1/stories/{story}/comments")).expect("the comments url");
    runtime.block_on(async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let started = Instant::now();
        let mut posted = HashMap::new();
        let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate);
        for i in 0..rate * seconds {
            ticks.tick().await;
            let response = client
                .post(url.clone())
                .header("Cookie", cookie)
                .header("Origin", &origin)
                .json(&serde_json::json!({"body": format!("Comment {i}")}))
                .send()
                .await
                .expect("posting a comment");
            let answered = Instant::now();
            assert!(response.status().is_success(), "comment refused: {}", response.status());
            let comment: serde_json::Value = response.json().await.expect("the comment");
            posted.insert(comment["id"].as_str().expect("its id").to_string(), answered);
        }
        (posted, started.elapsed())
    })
}
