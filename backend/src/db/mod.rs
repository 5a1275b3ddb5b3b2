//! The database handle for SQLite or PostgreSQL. Both engines run the same SQL (see
//! docs/adr/0002); repositories are written once and reach the native pool through
//! [`with_pool!`] / [`with_tx!`], the one place that chooses the engine.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Connection;

use crate::error::Result;

pub mod data;
mod query;

pub use query::{Arg, Args, Conn, Row, Scalar};

/// Every migration in `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// An open transaction on either engine; commit it or it rolls back on drop.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$pool` bound to the native pool of whichever engine `$db` is.
/// The body is compiled once per engine, so the SQL in it must suit both.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Like [`with_pool!`], binding `$conn` to the transaction's connection.
#[macro_export]
macro_rules! with_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::db::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

pub use crate::{args, with_pool, with_tx};

/// `count` numbered placeholders from `$first` on, comma-separated, for an `IN (…)` list
/// whose values are bound after the statement's other parameters.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Db {
    /// Connects with every commit durable (`synchronous = FULL` on SQLite).
    pub async fn connect(url: &SecretString, max_connections: u32) -> Result<Db> {
        Self::connect_with(url, max_connections, Synchronous::Full).await
    }

    /// Connects; `synchronous` says when a SQLite commit reaches the disk (ignored on
    /// PostgreSQL, whose `synchronous_commit` is the server's to set).
    pub async fn connect_with(url: &SecretString, max_connections: u32, synchronous: Synchronous) -> Result<Db> {
        let url = url.expose_secret();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(match synchronous {
                    Synchronous::Full => SqliteSynchronous::Full,
                    Synchronous::Normal => SqliteSynchronous::Normal,
                })
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            let file = options.get_filename().to_path_buf();
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(5))
                .after_release(|conn, _| Box::pin(async move { Ok(sqlite_connection_is_clean(conn).await) }))
                .connect_with(options)
                .await
                .map_err(|err| damaged(&err).map_or(crate::Error::from(err), crate::Error::Damaged))?;
            sync_parent_folder(&file);
            Ok(Db::Sqlite(pool))
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies the SQL migrations, then the data migrations not applied yet ([`data`]).
    pub async fn migrate(&self) -> Result<()> {
        with_pool!(self, |pool| MIGRATOR.run(pool).await)?;
        data::run_pending(self).await
    }

    /// Refuses a damaged SQLite file: `PRAGMA quick_check` (at every start; it reads every
    /// page but skips the index-to-table cross-checks) or, when `thorough`,
    /// `PRAGMA integrity_check` (`heirloom check`). PostgreSQL checks its own pages.
    pub async fn check_integrity(&self, thorough: bool) -> Result<()> {
        let Db::Sqlite(pool) = self else { return Ok(()) };
        let pragma = if thorough { "PRAGMA integrity_check(20)" } else { "PRAGMA quick_check(20)" };
        let problems: Vec<String> = match sqlx::query_scalar::<_, String>(pragma).fetch_all(pool).await {
            Ok(rows) => rows,
            Err(err) => return Err(damaged(&err).map_or(crate::Error::from(err), crate::Error::Damaged)),
        };
        if problems.len() == 1 && problems[0] == "ok" {
            return Ok(());
        }
        Err(crate::Error::Damaged(problems.join("; ")))
    }

    pub async fn ping(&self) -> Result<()> {
        with_pool!(self, |pool| sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Versions of the migrations this binary carries that the database has not applied.
    pub async fn pending_migrations(&self) -> Result<Vec<i64>> {
        let applied: Vec<i64> = with_pool!(self, |pool| {
            sqlx::query_scalar::<_, i64>("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_all(pool)
                .await
        })?;
        Ok(MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect())
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`: it takes the write
    /// lock up front (waiting up to the busy timeout), because a deferred transaction that
    /// reads and then writes fails at once with "database is locked" when another
    /// connection wrote in between (SQLITE_BUSY_SNAPSHOT), which the busy timeout cannot
    /// help with (sign-ups did, under concurrent writes).
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }
}

/// When SQLite commits reach the disk (`sqlite_synchronous`, docs/adr/0016).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// The write-ahead log is fsynced at every commit, before the write is acknowledged:
    /// nothing acknowledged is lost to a power cut or an OS crash.
    #[default]
    Full,
    /// The log is fsynced only at checkpoints (about every 1000 pages written): a power
    /// cut or OS crash loses the commits since the last one. A crash of the process alone
    /// loses nothing. For disks whose cache survives a power cut, or data one can lose.
    Normal,
}

/// Makes the database file's name durable: SQLite fsyncs the folder when it creates the
/// write-ahead log, but not when it creates the database file itself, so on a first start
/// a power cut could take away the whole new database (names reach the disk with an fsync
/// of their folder, fsync(2)). Once per start, so done every time.
fn sync_parent_folder(file: &std::path::Path) {
    if file.as_os_str().is_empty() || file.as_os_str() == ":memory:" {
        return;
    }
    let folder = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => std::path::Path::new("."),
    };
    if let Err(err) = std::fs::File::open(folder).and_then(|f| f.sync_all()) {
        tracing::warn!(folder = %folder.display(), "could not sync the database's folder: {err}");
    }
}

/// SQLite's word that the file is damaged (SQLITE_CORRUPT, SQLITE_NOTADB): a damaged
/// header or schema page fails even opening the file or running the check.
fn damaged(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("11" | "26")) => {
            Some(db.message().to_string())
        }
        _ => None,
    }
}

/// Whether a SQLite connection may go back to the pool: it is inside no transaction, by
/// sqlx's count or by SQLite's own. A statement that failed inside a transaction can leave
/// either behind (on a full disk COMMIT fails, and so may the ROLLBACK sqlx queues on drop);
/// every later `BEGIN` on that connection then failed with "attempted to call begin_with at
/// non-zero transaction depth" until a restart. Such a connection is closed instead, and
/// the pool opens a fresh one when it needs one.
async fn sqlite_connection_is_clean(conn: &mut SqliteConnection) -> bool {
    // Locking the handle waits for the connection's worker to finish what was queued on it
    // (the rollback of a dropped transaction), so the state read below is the final one.
    let autocommit = match conn.lock_handle().await {
        // SAFETY: the handle stays locked (no other statement runs on it) for the call, and
        // sqlite3_get_autocommit only reads a flag of the open connection.
        Ok(mut handle) => unsafe { libsqlite3_sys::sqlite3_get_autocommit(handle.as_raw_handle().as_ptr()) != 0 },
        Err(_) => false,
    };
    let clean = autocommit && !conn.is_in_transaction();
    if !clean {
        tracing::warn!("closing a database connection left inside a transaction by a failed statement");
        metrics::counter!("heirloom_database_connections_discarded_total").increment(1);
    }
    clean
}

/// Counts commits made through [`Tx::commit`] in this process, so background workers
/// (the event dispatcher, timers) wake as soon as a write lands instead of polling fast.
/// A watch channel because every subscriber must see a change, including one that
/// happened while it was busy.
static COMMITS: std::sync::LazyLock<tokio::sync::watch::Sender<u64>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::Sender::new(0));

/// A receiver that changes after every commit.
pub fn commits() -> tokio::sync::watch::Receiver<u64> {
    COMMITS.subscribe()
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        COMMITS.send_modify(|n| *n = n.wrapping_add(1));
        Ok(())
    }
}
