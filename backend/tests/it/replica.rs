//! Replica ids and their claims (ADR 0017) on both engines: one live holder per id, a
//! dead holder's claim taken over (at once when stale or left by this data folder's
//! previous process, after watching it otherwise), a clean release, generated ids.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::db::{with_pool, Db};
use backend::db_test;
use backend::replica::{Replica, WATCH};
use backend::Error;

fn replica(dir: &Path, id: Option<&str>) -> Arc<Replica> {
    std::fs::create_dir_all(dir).unwrap();
    let extra = id.map(|id| format!("replica_id = \"{id}\"")).unwrap_or_default();
    let config = backend::testing::config(dir, "sqlite::memory:", "http://127.0.0.1:1", &extra);
    Arc::new(Replica::identify(&config).unwrap())
}

/// A claim row as a process that died would have left it.
async fn left_behind(db: &Db, id: &str, nonce: &str, heartbeat_ago: Duration) {
    let at = backend::time::now_millis() - heartbeat_ago.as_millis() as i64;
    let sql =
        "INSERT INTO replicas (id, nonce, host, pid, started_at, heartbeat_at) VALUES ($1, $2, 'gone', 1, $3, $3)";
    with_pool!(db, |pool| sqlx::query(sql).bind(id).bind(nonce).bind(at).execute(pool).await.map(|_| ())).unwrap();
}

async fn holder_nonce(db: &Db, id: &str) -> Option<String> {
    let sql = "SELECT nonce FROM replicas WHERE id = $1";
    with_pool!(db, |pool| sqlx::query_scalar::<_, String>(sql).bind(id).fetch_optional(pool).await).unwrap()
}

db_test!(a_replica_id_has_one_live_holder_and_a_dead_ones_claim_is_taken_over, |db| {
    let dir = tempfile::tempdir().unwrap();

    // Live: refused with the id, the holder and what to change.
    let first = replica(&dir.path().join("first"), Some("twin"));
    first.claim(db).await.unwrap();
    let second = replica(&dir.path().join("second"), Some("twin"));
    let started = Instant::now();
    match second.claim(db).await {
        Err(Error::Config { key, message }) => {
            assert_eq!(key, "replica_id");
            assert!(message.contains("`twin` is held by a running Heirloom replica"), "{message}");
        }
        other => panic!("a second live holder was not refused: {other:?}"),
    }
    assert!(started.elapsed() < WATCH, "refused as soon as the holder renewed its claim");

    // Released at a clean shutdown: free at once.
    first.release().await;
    assert_eq!(holder_nonce(db, "twin").await, None);
    let started = Instant::now();
    second.claim(db).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    second.release().await;

    // Stale (no heartbeat for a minute): taken at once.
    left_behind(db, "stale", "old", Duration::from_secs(60)).await;
    let started = Instant::now();
    let taker = replica(&dir.path().join("stale"), Some("stale"));
    taker.claim(db).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_ne!(holder_nonce(db, "stale").await.as_deref(), Some("old"));
    taker.release().await;

    // Fresh but dead (never renewed): taken after the watch.
    left_behind(db, "ghost", "dead", Duration::ZERO).await;
    let started = Instant::now();
    let taker = replica(&dir.path().join("ghost"), Some("ghost"));
    taker.claim(db).await.unwrap();
    assert!(started.elapsed() >= WATCH, "watched before taking it over");
    taker.release().await;

    // Fresh, left by the process that last ran on this data folder (its nonce is in the
    // folder's lock file): that process is dead, so the claim is taken back at once.
    let own = dir.path().join("own");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(own.join("replica.lock"), "crashed-nonce").unwrap();
    left_behind(db, "own", "crashed-nonce", Duration::ZERO).await;
    let started = Instant::now();
    let restarted = replica(&own, Some("own"));
    restarted.claim(db).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1), "no watching its own predecessor's claim");
    restarted.release().await;
});

#[test]
fn an_unset_replica_id_is_generated_once_per_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let first = replica(&dir.path().join("a"), None).id().to_string();
    let again = replica(&dir.path().join("a"), None).id().to_string();
    let other = replica(&dir.path().join("b"), None).id().to_string();
    assert_eq!(first, again, "kept in the data folder");
    assert_ne!(first, other, "each data folder its own");
    assert!(backend::replica::is_valid_id(&first), "{first}");
    assert_eq!(std::fs::read_to_string(dir.path().join("a/replica-id")).unwrap().trim(), first);
    // A configured id wins over the stored one.
    assert_eq!(replica(&dir.path().join("a"), Some("web-1")).id(), "web-1");
}
