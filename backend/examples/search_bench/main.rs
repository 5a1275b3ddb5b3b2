//! Search at archive scale: `bench/run.py` runs this in release mode (`BENCH_ONLY=search`).
//!
//!     cargo run --release -p backend --example search_bench -- <data-dir> [stories]
//!
//! 1. generate: into a fresh data folder (SQLite), through the same services the server
//!    uses (so every story has its revision, tags and outbox event): 82 accounts, 150
//!    legacies with owners, editors, contributors and viewers, and `stories` (default
//!    100,000) stories of ~800 words (see `corpus`) with tags and a mix of visibilities
//!    and drafts. Stories are then spread over the last eight years (`updated_at`), and
//!    the outbox is marked delivered, as on an instance that has been running a while.
//!    One account, the *reader*, belongs to 12 legacies in every role and writes some of
//!    their stories: the searches are theirs, so permission filtering is real.
//! 2. index: `Search::rebuild_offline` (what `heirloom reindex` runs), then tantivy's
//!    background merges are let finish, as they would in a running server.
//! 3. queries: typeahead texts and full searches, written as request paths to
//!    `<data-dir>/bench/typeahead.txt` and `full.txt` for `bench/wrk/search_paths.lua`.
//! 4. raw: the same queries run in-process on the index (`search::query`, no HTTP, no
//!    session, no JSON): latency p50/p95/p99, so the runner can report the HTTP overhead.
//!
//! Steps 1-3 are skipped when `<data-dir>/bench/manifest.json` exists (a kept folder).
//! Progress goes to stderr; stdout gets one JSON object.

// A benchmark tool: a failed setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus;
mod words;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use backend::config::{defaults_figment, Config};
use backend::db::Db;
use backend::events::{Dispatcher, RetryPolicy};
use backend::identity::{Identity, SignUp};
use backend::search::index::SearchIndex;
use backend::search::service::SUGGEST_DEFAULT;
use backend::search::{query, repo, Reader, Search, SearchQuery};
use backend::stories::Stories;
use corpus::{Rng, Vocabulary, Zipf};
use figment::providers::Serialized;
use serde_json::{json, Value};
use types::search::SearchParams;
use types::{LegacyInput, LegacyRole, StoryInput};

const SEED: u64 = 20_261_122;
const AUTHORS: usize = 80;
const LEGACIES: usize = 150;
const PASSWORD: &str = "a benchmark password";
const READER_EMAIL: &str = "reader@bench.example";
/// The reader's legacies (by size rank, 0 the largest) and their role in each.
const READER_IN: [(usize, LegacyRole); 12] = [
    (0, LegacyRole::Editor),
    (2, LegacyRole::Contributor),
    (5, LegacyRole::Owner),
    (9, LegacyRole::Viewer),
    (14, LegacyRole::Editor),
    (20, LegacyRole::Contributor),
    (27, LegacyRole::Owner),
    (35, LegacyRole::Viewer),
    (50, LegacyRole::Viewer),
    (70, LegacyRole::Editor),
    (100, LegacyRole::Owner),
    (130, LegacyRole::Contributor),
];
const TYPEAHEAD_QUERIES: usize = 400;
const FULL_QUERIES: usize = 300;
/// Stories the runner may edit (the reader wrote them) for edit → searchable.
const EDIT_TARGETS: usize = 300;
/// Story writers in parallel: SQLite takes one write at a time, the text is made meanwhile.
const WRITERS: usize = 3;

struct LegacyPlan {
    id: String,
    family: &'static str,
    /// Indexes into the accounts of the owners, editors and contributors.
    writers: Vec<usize>,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).expect("usage: search_bench <data-dir> [stories]"));
    let stories: usize = args.get(2).map(|s| s.parse().expect("stories: a number")).unwrap_or(100_000);
    let manifest_path = dir.join("bench").join("manifest.json");
    let mut manifest: Value = if manifest_path.exists() {
        eprintln!("search_bench: reusing {}", dir.display());
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap()
    } else {
        let manifest = generate(&dir, stories).await;
        std::fs::write(&manifest_path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
        manifest
    };
    manifest["raw"] = raw(&dir, &manifest).await;
    println!("{manifest}");
}

fn config(dir: &Path) -> Config {
    let figment = defaults_figment().merge(Serialized::default("data_dir", dir.display().to_string()));
    Config::from_figment(figment).expect("configuration")
}

async fn generate(dir: &Path, count: usize) -> Value {
    if dir.join("heirloom.db").exists() {
        panic!("{} already has a database but no bench/manifest.json: use an empty folder", dir.display());
    }
    let config = config(dir);
    let db = backend::open_database(&config, 8).await.expect("database");
    std::fs::create_dir_all(dir.join("bench")).unwrap();
    let identity = Identity::new(db.clone(), Arc::new(config));
    let stories = Arc::new(Stories::new(db.clone()));
    let vocabulary = Arc::new(Vocabulary::new());
    let started = Instant::now();

    // Accounts: the first is the instance's administrator; the reader is the last.
    let mut rng = Rng::new(SEED);
    let mut accounts = Vec::new();
    for i in 0..=AUTHORS + 1 {
        let (email, name) = match i {
            0 => ("admin@bench.example".to_string(), "Administrator".to_string()),
            i if i == AUTHORS + 1 => (READER_EMAIL.to_string(), "Rita Reader".to_string()),
            i => (
                format!("author{i}@bench.example"),
                format!("{} {}", rng.pick(&vocabulary.first_names), rng.pick(&vocabulary.surnames)),
            ),
        };
        let input = SignUp { email, display_name: name, password: PASSWORD.into(), invite: None };
        accounts.push(identity.sign_up(input).await.expect("sign up"));
    }
    let reader = AUTHORS + 1;
    eprintln!("search_bench: {} accounts in {:.1} s", accounts.len(), started.elapsed().as_secs_f64());

    // Legacies and their members.
    let mut legacies = Vec::new();
    let mut memberships = 0;
    for rank in 0..LEGACIES {
        let family = *rng.pick(&vocabulary.surnames);
        let reader_role = READER_IN.iter().find(|(r, _)| *r == rank).map(|(_, role)| *role);
        let owner = if reader_role == Some(LegacyRole::Owner) { reader } else { rng.range(1, AUTHORS) };
        let (name, born, died) = match rng.below(10) {
            0..=6 => {
                let born = rng.range(1880, 1960);
                (
                    format!("{} {family}", rng.pick(&vocabulary.first_names)),
                    born.to_string(),
                    (born + rng.range(40, 60)).to_string(),
                )
            }
            7..=8 => (format!("The {family} family"), String::new(), String::new()),
            _ => (rng.pick(&vocabulary.places).to_string(), String::new(), String::new()),
        };
        let summary = corpus::summary(&vocabulary, &mut rng, family);
        let input = LegacyInput { name, born, died, summary };
        let id = stories.create_legacy(&accounts[owner], &input, None).await.expect("legacy").id;
        let mut writers = vec![owner];
        let mut members: Vec<(usize, LegacyRole)> = (0..rng.range(2, 7))
            .map(|_| {
                let role = match rng.below(10) {
                    0..=1 => LegacyRole::Editor,
                    2..=6 => LegacyRole::Contributor,
                    _ => LegacyRole::Viewer,
                };
                (rng.range(1, AUTHORS), role)
            })
            .collect();
        if let Some(role) = reader_role.filter(|r| *r != LegacyRole::Owner) {
            members.push((reader, role));
        }
        let mut joined = vec![owner];
        for (member, role) in members {
            if joined.contains(&member) {
                continue;
            }
            joined.push(member);
            let token = stories.invite(&accounts[owner], &id, role.as_str(), 7, None).await.expect("invite");
            stories.accept_invitation(&accounts[member], &token).await.expect("accept");
            memberships += 1;
            if matches!(role, LegacyRole::Editor | LegacyRole::Contributor) {
                writers.push(member);
            }
        }
        legacies.push(LegacyPlan { id: id.into_string(), family, writers });
    }
    eprintln!("search_bench: {LEGACIES} legacies, {memberships} memberships");

    // Stories, spread over the legacies by a Zipf law (a few large family archives, many small).
    let legacies = Arc::new(legacies);
    let accounts = Arc::new(accounts);
    let legacy_sizes = Arc::new(Zipf::new(LEGACIES, 0.8));
    let next = Arc::new(AtomicUsize::new(0));
    let words = Arc::new(AtomicUsize::new(0));
    let stories_started = Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (stories, vocabulary, legacies, accounts) =
                (stories.clone(), vocabulary.clone(), legacies.clone(), accounts.clone());
            let (legacy_sizes, next, words) = (legacy_sizes.clone(), next.clone(), words.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return;
                    }
                    let mut rng = Rng::new(SEED ^ (i as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
                    let legacy = &legacies[legacy_sizes.sample(&mut rng)];
                    let author = *rng.pick(&legacy.writers);
                    let cjk = rng.chance(0.02);
                    let story = corpus::story(&vocabulary, &mut rng, legacy.family, cjk);
                    words.fetch_add(story.body.split_whitespace().count(), Ordering::Relaxed);
                    let visibility = match rng.below(20) {
                        0..=5 => "public",
                        6..=16 => "members",
                        _ => "private",
                    };
                    let status = if rng.chance(0.1) { "draft" } else { "published" };
                    let input = StoryInput {
                        legacy_id: legacy.id.as_str().into(),
                        title: story.title,
                        body: story.body,
                        tags: story.tags,
                        visibility: Some(visibility.into()),
                        status: Some(status.into()),
                    };
                    stories.create_story(&accounts[author], &input, None).await.expect("story");
                    if (i + 1) % 10_000 == 0 {
                        eprintln!("search_bench: {} stories", i + 1);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let stories_seconds = stories_started.elapsed().as_secs_f64();
    eprintln!("search_bench: {count} stories in {stories_seconds:.1} s");

    // As on an instance used for years: changes spread over eight years, events delivered.
    let Db::Sqlite(pool) = &db else { panic!("search_bench uses SQLite") };
    sqlx::query("UPDATE stories SET updated_at = updated_at - (abs(random()) % 252288000000)")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE stories SET created_at = updated_at, \
         published_at = CASE WHEN published_at IS NULL THEN NULL ELSE updated_at END",
    )
    .execute(pool)
    .await
    .unwrap();
    let delivered = Dispatcher::new(db.clone(), Vec::new(), RetryPolicy::default()).drain().await.unwrap();
    let generate_seconds = started.elapsed().as_secs_f64();

    // The index, built as `heirloom reindex` builds it, then merged as a server would.
    let index_started = Instant::now();
    let report = Search::rebuild_offline(&backend::disk::Disk::new(dir, 0), db.clone()).await.expect("index");
    let build_seconds = index_started.elapsed().as_secs_f64();
    eprintln!("search_bench: indexed {} stories in {build_seconds:.1} s; merging", report.stories);
    let settle_started = Instant::now();
    let root = dir.join("search");
    let (segments_built, segments_merged) = tokio::task::spawn_blocking({
        let root = root.clone();
        move || settle(&root)
    })
    .await
    .unwrap();
    let settle_seconds = settle_started.elapsed().as_secs_f64();

    // The searches, as request paths for wrk and for the raw measurement alike.
    let reader_id = accounts[reader].id.clone();
    let reader_legacies: Vec<String> = READER_IN.iter().map(|(rank, _)| legacies[*rank].id.clone()).collect();
    let mut rng = Rng::new(SEED + 1);
    let typeahead: Vec<String> = corpus::typeahead(&vocabulary, &mut rng, TYPEAHEAD_QUERIES)
        .into_iter()
        .map(|q| format!("/api/v1/search/suggest?q={}", encode(&q)))
        .collect();
    let full: Vec<String> = corpus::full(&vocabulary, &mut rng, FULL_QUERIES, &reader_legacies)
        .into_iter()
        .map(|pairs| {
            let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
            format!("/api/v1/search?{}", query.join("&"))
        })
        .collect();
    let typeahead_file = dir.join("bench").join("typeahead.txt");
    let full_file = dir.join("bench").join("full.txt");
    std::fs::write(&typeahead_file, typeahead.join("\n") + "\n").unwrap();
    std::fs::write(&full_file, full.join("\n") + "\n").unwrap();
    let edit_targets: Vec<String> =
        sqlx::query_scalar("SELECT id FROM stories WHERE author_id = $1 ORDER BY id LIMIT $2")
            .bind(&reader_id)
            .bind(EDIT_TARGETS as i64)
            .fetch_all(pool)
            .await
            .unwrap();
    let (visible_public, visible_members): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM stories WHERE visibility = 'public' AND status = 'published'), \
                (SELECT COUNT(*) FROM stories WHERE visibility = 'members' AND status = 'published')",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    db.close().await;

    json!({
        "stories": count,
        "legacies": LEGACIES,
        "accounts": accounts.len(),
        "memberships": memberships + LEGACIES,
        "words_per_story": (words.load(Ordering::Relaxed) as f64 / count as f64).round(),
        "published_public_stories": visible_public,
        "published_members_stories": visible_members,
        "reader": { "email": READER_EMAIL, "password": PASSWORD, "user_id": reader_id,
                    "legacies": READER_IN.len() },
        "generate_s": round(generate_seconds, 1),
        "story_creates_per_s": round(count as f64 / stories_seconds, 0),
        "outbox_events_delivered": delivered,
        "index_build_s": round(build_seconds, 1),
        "index_merge_s": round(settle_seconds, 1),
        "index_segments_built": segments_built,
        "index_segments_merged": segments_merged,
        "index_mib": round(folder_bytes(&root) as f64 / 1048576.0, 1),
        "database_mib": round(folder_bytes_matching(dir, "heirloom.db") as f64 / 1048576.0, 1),
        "typeahead_file": typeahead_file,
        "full_file": full_file,
        "typeahead_examples": typeahead.iter().take(6).collect::<Vec<_>>(),
        "full_examples": full.iter().take(6).collect::<Vec<_>>(),
        "edit_targets": edit_targets,
    })
}

/// Lets the merges a running server would do finish: an empty commit (keeping the
/// payload that records the schema and the outbox mark) asks the merge policy, and
/// `wait_merging_threads` waits for the merges, cascading ones included. Returns the
/// segment counts before and after.
fn settle(root: &Path) -> (usize, usize) {
    let name = std::fs::read_to_string(root.join("CURRENT")).unwrap();
    let index = tantivy::Index::open_in_dir(root.join(name.trim())).unwrap();
    backend::search::tokenize::register(index.tokenizers());
    let before = index.searchable_segment_ids().unwrap().len();
    let payload = index.load_metas().unwrap().payload;
    let mut writer: tantivy::IndexWriter<tantivy::TantivyDocument> =
        index.writer_with_num_threads(1, 32 * 1024 * 1024).unwrap();
    let mut prepared = writer.prepare_commit().unwrap();
    if let Some(payload) = &payload {
        prepared.set_payload(payload);
    }
    prepared.commit().unwrap();
    writer.wait_merging_threads().unwrap();
    (before, index.searchable_segment_ids().unwrap().len())
}

/// The queries in the two files, in-process on the index, as the reader.
async fn raw(dir: &Path, manifest: &Value) -> Value {
    let config = config(dir);
    let db = backend::open_database(&config, 2).await.expect("database");
    let user_id = manifest["reader"]["user_id"].as_str().unwrap().to_string();
    let memberships = repo::memberships(&db, &user_id).await.unwrap().into_iter().collect();
    db.close().await;
    let reader = Reader { user_id: Some(user_id.into()), is_admin: false, memberships };
    let index = SearchIndex::open(&dir.join("search"), backend::disk::Disk::new(dir, 0)).await.expect("index");
    let generation = index.current();
    let lines = |key: &str| -> Vec<String> {
        let text = std::fs::read_to_string(manifest[key].as_str().unwrap()).unwrap();
        text.lines().filter(|l| !l.is_empty()).map(String::from).collect()
    };
    let (typeahead, full) = (lines("typeahead_file"), lines("full_file"));
    tokio::task::spawn_blocking(move || {
        // One pass to warm the page cache and the term dictionaries, then three measured.
        let mut suggest_us = Vec::new();
        let mut suggest_empty = 0;
        for pass in 0..4 {
            for path in &typeahead {
                let params = params(path);
                let started = Instant::now();
                let found = query::suggest(&generation, &reader, &params.q, SUGGEST_DEFAULT).unwrap();
                if pass > 0 {
                    suggest_us.push(started.elapsed().as_secs_f64() * 1e6);
                    suggest_empty += usize::from(found.is_empty());
                }
            }
        }
        let mut search_us = Vec::new();
        let (mut search_empty, mut totals) = (0, 0u64);
        for pass in 0..4 {
            for path in &full {
                let started = Instant::now();
                let query = SearchQuery::from_params(&params(path)).unwrap();
                let results = query::search(&generation, &reader, &query::plan(&query).unwrap()).unwrap();
                if pass > 0 {
                    search_us.push(started.elapsed().as_secs_f64() * 1e6);
                    search_empty += usize::from(results.total == 0);
                    totals += results.total as u64;
                }
            }
        }
        let passes = 3.0;
        json!({
            "typeahead": stats(&mut suggest_us),
            "typeahead_queries": typeahead.len(),
            "typeahead_empty_share": round(suggest_empty as f64 / passes / typeahead.len() as f64, 3),
            "full": stats(&mut search_us),
            "full_queries": full.len(),
            "full_empty_share": round(search_empty as f64 / passes / full.len() as f64, 3),
            "full_mean_total_hits": (totals as f64 / passes / full.len() as f64).round(),
            "segments": generation.index.searchable_segment_ids().unwrap().len(),
        })
    })
    .await
    .unwrap()
}

/// p50/p95/p99 and mean, in milliseconds, of latencies in microseconds.
fn stats(us: &mut [f64]) -> Value {
    us.sort_by(f64::total_cmp);
    let at = |p: f64| us[((us.len() as f64 - 1.0) * p).round() as usize] / 1000.0;
    let mean = us.iter().sum::<f64>() / us.len() as f64 / 1000.0;
    json!({ "p50_ms": round(at(0.5), 3), "p95_ms": round(at(0.95), 3), "p99_ms": round(at(0.99), 3),
            "mean_ms": round(mean, 3), "queries_per_s_one_thread": round(1000.0 / mean, 0) })
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

/// The search parameters of a request path.
fn params(path: &str) -> SearchParams {
    let mut params = SearchParams::default();
    let query = path.split_once('?').map_or("", |(_, q)| q);
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(value);
        match key {
            "q" => params.q = value,
            "type" => params.kind = value,
            "legacy" => params.legacy = value,
            "tag" => params.tag = value,
            "author" => params.author = value,
            "from" => params.from = value,
            "to" => params.to = value,
            "sort" => params.sort = value,
            "limit" => params.limit = value.parse().ok(),
            "offset" => params.offset = value.parse().ok(),
            _ => {}
        }
    }
    params
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn folder_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else { return 0 };
    entries
        .flatten()
        .map(|entry| {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                folder_bytes(&entry.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

/// Bytes of the files in `dir` whose names start with `prefix` (a SQLite file and its WAL).
fn folder_bytes_matching(dir: &Path, prefix: &str) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.metadata().unwrap().len())
        .sum()
}
