//! This process's identity among the replicas that share a database and an event bus
//! (ADR 0017).
//!
//! A replica's id names what is its own on the shared bus: the JetStream durable consumer
//! and the processed-event records of each replica-local consumer (`search-<id>`, which
//! feeds its own search index). Two live processes with one id would share that durable
//! consumer, and JetStream would hand each of them half the events, for good. So:
//!
//! - the id is the `replica_id` setting when set, otherwise one generated on the first
//!   start (the host name and a random suffix) and kept in `<data_dir>/replica-id`;
//! - with the event bus on (`nats_url`), a server *claims* its id in the `replicas` table
//!   at start and renews the claim every [`HEARTBEAT`]. A claim held by another process is
//!   taken over when its heartbeat is older than [`STALE`], or when it does not move
//!   while watched for [`WATCH`] (a crashed replica); one that moves belongs to a live
//!   replica, and the start is refused with a configuration error naming `replica_id`;
//! - while it runs, a process keeps `<data_dir>/replica.lock` locked and its claim's nonce
//!   written in it, so a replica restarting on its data folder after a crash knows the
//!   claim it finds is its own dead predecessor's and takes it back at once;
//! - a clean shutdown deletes the row.

use std::fs;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::args;
use crate::config::Config;
use crate::db::{Args, Db};
use crate::error::{Error, Result};
use crate::time::now_millis;

/// How often a running replica renews its claim.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A claim not renewed for this long is taken over without watching it (generous, so a
/// paused process or clocks a little apart do not lose a live claim).
pub const STALE: Duration = Duration::from_secs(30);
/// How long a fresh claim held by another process is watched before it is judged: a
/// renewal meanwhile means a live replica; none (over two heartbeats) a dead one.
pub const WATCH: Duration = Duration::from_millis(5_500);
/// The longest id, so that `<consumer>-<id>` stays a short JetStream consumer name.
pub const MAX_ID_LEN: usize = 64;
const ID_FILE: &str = "replica-id";
const LOCK_FILE: &str = "replica.lock";

/// Whether `id` can be a replica id: 1-64 of A-Z, a-z, 0-9, `_` and `-` (what JetStream
/// allows in a consumer name).
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Where the id came from, for the message that tells an operator what to change.
enum Source {
    Configured,
    DataFolder(PathBuf),
}

/// Who holds a claim.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Holder {
    nonce: String,
    host: String,
    pid: i64,
    heartbeat_at: i64,
}

type Heartbeat = (watch::Sender<bool>, JoinHandle<()>, Db);

/// This process as a replica: its id and, once [`Replica::claim`]ed, the heartbeat that
/// keeps the claim alive.
pub struct Replica {
    id: String,
    source: Source,
    /// New in every process: tells this process's claim from any other's.
    nonce: String,
    /// The nonce the last process on this data folder wrote (now dead: we hold the lock).
    previous_nonce: String,
    host: String,
    pid: i64,
    started_at: i64,
    _lock: fs::File,
    heartbeat: Mutex<Option<Heartbeat>>,
}

impl Replica {
    /// Locks `<data_dir>/replica.lock` for this process and settles the id: `replica_id`
    /// when set, else the one kept in the data folder (generated and stored if none yet).
    /// Another process on the same data folder is a conflict.
    pub fn identify(config: &Config) -> Result<Replica> {
        let dir = config.data_dir.as_path();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let (lock, previous_nonce) = lock_data_folder(dir, &nonce)?;
        let host = host_name();
        let (id, source) = match &config.replica_id {
            Some(id) => (id.clone(), Source::Configured),
            None => (stored_or_new_id(dir, &host)?, Source::DataFolder(dir.join(ID_FILE))),
        };
        Ok(Replica {
            id,
            source,
            nonce,
            previous_nonce,
            host,
            pid: i64::from(std::process::id()),
            started_at: now_millis(),
            _lock: lock,
            heartbeat: Mutex::new(None),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Claims the id in the `replicas` table and starts renewing the claim every
    /// [`HEARTBEAT`]. Refused (a configuration error naming `replica_id`) while another
    /// live process holds it; a dead one's claim is taken over (at once when it is this
    /// data folder's previous process or stale, else after watching it for [`WATCH`]).
    pub async fn claim(self: &Arc<Self>, db: &Db) -> Result<()> {
        let mut watched: Option<(Holder, tokio::time::Instant)> = None;
        loop {
            if self.upsert(db, &self.previous_nonce).await? {
                break;
            }
            let Some(holder) = self.holder(db).await? else { continue };
            match &watched {
                Some((seen, since)) if *seen == holder => {
                    if since.elapsed() >= WATCH {
                        tracing::warn!(replica = %self.id, host = %holder.host, pid = holder.pid,
                            "taking over the replica id from a process whose heartbeat stopped");
                        if self.take_over(db, &holder).await? {
                            break;
                        }
                        watched = None;
                        continue;
                    }
                }
                Some((seen, _)) if seen.nonce == holder.nonce => return Err(self.held_by(&holder)),
                _ => watched = Some((holder, tokio::time::Instant::now())),
            }
            tokio::time::sleep(HEARTBEAT / 4).await;
        }
        tracing::info!(replica = %self.id, "replica id claimed");
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(self.clone().keep_alive(db.clone(), stopped));
        *self.heartbeat.lock().unwrap_or_else(PoisonError::into_inner) = Some((stop, task, db.clone()));
        Ok(())
    }

    /// Stops the heartbeat and deletes the claim (a clean shutdown), so the id is free at
    /// once. Nothing to do when it was never claimed.
    pub async fn release(&self) {
        let heartbeat = self.heartbeat.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some((stop, task, db)) = heartbeat else { return };
        let _ = stop.send(true);
        let _ = task.await;
        let sql = "DELETE FROM replicas WHERE id = $1 AND nonce = $2";
        match db.execute(sql, args![&self.id, &self.nonce]).await {
            Ok(_) => tracing::info!(replica = %self.id, "replica id released"),
            Err(err) => tracing::warn!(replica = %self.id, error = %err, "could not release the replica id"),
        }
    }

    /// Renews the claim every [`HEARTBEAT`] until `stop`. A claim found taken by another
    /// live process (this one was paused past [`WATCH`], or a copy of its data folder
    /// started elsewhere) is reported and taken back once that one stops renewing it.
    async fn keep_alive(self: Arc<Self>, db: Db, mut stop: watch::Receiver<bool>) {
        let (mut displaced, mut failing) = (false, false);
        loop {
            tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => return,
                _ = tokio::time::sleep(HEARTBEAT) => {}
            }
            let renewed = self.upsert(&db, &self.nonce).await;
            if renewed.is_ok() && failing {
                tracing::info!(replica = %self.id, "replica claim renewed again");
                failing = false;
            }
            match renewed {
                Ok(true) if displaced => {
                    tracing::warn!(replica = %self.id, "replica id claimed again");
                    displaced = false;
                }
                Ok(true) => {}
                Ok(false) => {
                    if !displaced {
                        let holder = self.holder(&db).await.ok().flatten();
                        tracing::error!(replica = %self.id, holder = ?holder,
                            "another live process holds this replica's id: the two split this replica's events \
                             until one stops; give each replica its own replica_id");
                    }
                    displaced = true;
                }
                // Once per outage, not every heartbeat (the database gate reports the outage).
                Err(err) if !failing => {
                    tracing::warn!(replica = %self.id, error = %err, "could not renew the replica claim");
                    failing = true;
                }
                Err(_) => {}
            }
        }
    }

    /// Inserts or renews this process's claim, or takes over one held by `also` (this
    /// process's own, or the dead previous process on this data folder) or gone stale.
    /// `false`: another process holds it and renewed it within [`STALE`].
    async fn upsert(&self, db: &Db, also: &str) -> Result<bool> {
        let sql = "INSERT INTO replicas (id, nonce, host, pid, started_at, heartbeat_at) \
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET nonce = excluded.nonce, \
                   host = excluded.host, pid = excluded.pid, started_at = excluded.started_at, \
                   heartbeat_at = excluded.heartbeat_at \
                   WHERE replicas.nonce = $2 OR replicas.nonce = $7 OR replicas.heartbeat_at < $8";
        let now = now_millis();
        let stale_before = now - STALE.as_millis() as i64;
        let mut args = self.claim_args(now);
        args.push(also).push(stale_before);
        Ok(db.execute(sql, args).await? > 0)
    }

    async fn holder(&self, db: &Db) -> Result<Option<Holder>> {
        let sql = "SELECT nonce, host, pid, heartbeat_at FROM replicas WHERE id = $1";
        db.fetch_optional(sql, args![&self.id]).await
    }

    /// Takes the claim from `holder` if it is still exactly as seen (nobody renewed or
    /// took it meanwhile).
    async fn take_over(&self, db: &Db, holder: &Holder) -> Result<bool> {
        let sql = "UPDATE replicas SET nonce = $2, host = $3, pid = $4, started_at = $5, heartbeat_at = $6 \
                   WHERE id = $1 AND nonce = $7 AND heartbeat_at = $8";
        let mut args = self.claim_args(now_millis());
        args.push(&holder.nonce).push(holder.heartbeat_at);
        Ok(db.execute(sql, args).await? > 0)
    }

    /// `$1`–`$6` of a claim: this process's id, nonce, host, pid, start and heartbeat time.
    fn claim_args(&self, heartbeat_at: i64) -> Args {
        args![&self.id, &self.nonce, &self.host, self.pid, self.started_at, heartbeat_at]
    }

    /// The refusal: which id, who holds it, and what to change.
    fn held_by(&self, holder: &Holder) -> Error {
        let ago = (now_millis() - holder.heartbeat_at).max(0) as f64 / 1000.0;
        let held = format!(
            "replica id `{}` is held by a running Heirloom replica (host {}, pid {}, last heartbeat {ago:.1} s \
             ago); two replicas with one id would each index only half of the changes",
            self.id, holder.host, holder.pid
        );
        let change = match &self.source {
            Source::Configured => "give it another replica_id (HEIRLOOM_REPLICA_ID), or leave replica_id unset \
                                   to use an id generated in its data folder"
                .to_string(),
            Source::DataFolder(file) => format!(
                "this data folder's id ({}) is that replica's, so the folder was probably copied from it: delete \
                 that file to have a new id generated, or set replica_id (HEIRLOOM_REPLICA_ID)",
                file.display()
            ),
        };
        Error::Config { key: "replica_id".into(), message: format!("{held}. To start this replica, {change}") }
    }
}

/// Locks `<dir>/replica.lock` for as long as the returned file lives, and swaps the
/// previous process's nonce in it for `nonce`. Returns the file and the previous nonce.
fn lock_data_folder(dir: &Path, nonce: &str) -> Result<(fs::File, String)> {
    let path = dir.join(LOCK_FILE);
    let io = |e: std::io::Error| Error::DataDir { path: path.clone(), message: e.to_string() };
    let mut file =
        fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            return Err(Error::Conflict(
                format!(
                    "The data folder {} is in use by another Heirloom process: two Heirloom servers cannot share a \
                     data folder.",
                    dir.display()
                )
                .into(),
            ))
        }
        Err(fs::TryLockError::Error(err)) => return Err(io(err)),
    }
    let mut previous = String::new();
    file.read_to_string(&mut previous).map_err(io)?;
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    // Not synced: after a power cut a missing nonce only means the claim is watched
    // for a few seconds before it is taken back.
    file.write_all(nonce.as_bytes()).map_err(io)?;
    Ok((file, previous.trim().to_string()))
}

/// The id kept in `<dir>/replica-id`, or a new one stored there (host name and a random
/// suffix: readable in consumer names, unique however many replicas share a host name).
fn stored_or_new_id(dir: &Path, host: &str) -> Result<String> {
    let path = dir.join(ID_FILE);
    let io = |e: std::io::Error| Error::DataDir { path: path.clone(), message: e.to_string() };
    match fs::read_to_string(&path) {
        Ok(text) => {
            let id = text.trim();
            if is_valid_id(id) {
                return Ok(id.to_string());
            }
            return Err(Error::DataDir {
                path,
                message: "does not hold a replica id (1-64 of A-Z, a-z, 0-9, _ and -); delete it to have a new one \
                          generated"
                    .into(),
            });
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(io(err)),
    }
    let prefix: String = host
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' })
        .take(MAX_ID_LEN - 13)
        .collect();
    let prefix = if prefix.is_empty() { "replica".to_string() } else { prefix };
    let id = format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    // Written whole or not at all: a temporary file renamed into place.
    let temporary = dir.join(format!("{ID_FILE}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(format!("{id}\n").as_bytes())?;
        file.sync_all()?;
        fs::rename(&temporary, &path)?;
        fs::File::open(dir)?.sync_all()
    };
    write().map_err(io)?;
    tracing::info!(replica = %id, file = %path.display(), "generated this replica's id");
    Ok(id)
}

/// The host name (a pod's name on Kubernetes), for ids and for telling operators where
/// a claim is held.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_what_jetstream_allows_in_a_consumer_name() {
        assert!(is_valid_id("web-1_a"));
        for bad in ["", "a.b", "a b", "a*", "a>", "ä", &"x".repeat(MAX_ID_LEN + 1)] {
            assert!(!is_valid_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_generated_id_is_kept_and_reused_and_starts_with_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let id = stored_or_new_id(dir.path(), "web.example org").unwrap();
        assert!(id.starts_with("web-example-org-") && is_valid_id(&id), "{id}");
        assert_eq!(stored_or_new_id(dir.path(), "other").unwrap(), id);
        let long = tempfile::tempdir().unwrap();
        assert!(is_valid_id(&stored_or_new_id(long.path(), &"h".repeat(300)).unwrap()));
        fs::write(dir.path().join(ID_FILE), "not an id!").unwrap();
        assert!(matches!(stored_or_new_id(dir.path(), "h"), Err(Error::DataDir { .. })));
    }

    #[test]
    fn the_data_folder_lock_hands_over_the_previous_nonce_and_refuses_a_second_holder() {
        let dir = tempfile::tempdir().unwrap();
        let (first, previous) = lock_data_folder(dir.path(), "one").unwrap();
        assert_eq!(previous, "");
        assert!(matches!(lock_data_folder(dir.path(), "two"), Err(Error::Conflict(_))));
        drop(first);
        let (_second, previous) = lock_data_folder(dir.path(), "two").unwrap();
        assert_eq!(previous, "one");
    }
}
