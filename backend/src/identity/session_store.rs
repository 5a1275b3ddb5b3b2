//! Cookie sessions (tower-sessions) kept in the same database as everything else, so
//! every replica sees every session. The store crate has one type per engine; this enum
//! picks the one matching [`Db`].

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::db::Db;
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub enum DbSessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Runs `$body` with `$store` bound to whichever engine's store this is.
macro_rules! on_store {
    ($value:expr, |$store:ident| $body:expr) => {
        match $value {
            DbSessionStore::Sqlite($store) => $body,
            DbSessionStore::Postgres($store) => $body,
        }
    };
}

impl DbSessionStore {
    pub fn new(db: &Db) -> DbSessionStore {
        match db {
            Db::Sqlite(pool) => DbSessionStore::Sqlite(SqliteStore::new(pool.clone())),
            Db::Postgres(pool) => DbSessionStore::Postgres(PostgresStore::new(pool.clone())),
        }
    }

    /// Creates the store's table (the store owns its schema; it is idempotent).
    pub async fn migrate(&self) -> Result<()> {
        on_store!(self, |store| store.migrate().await).map_err(Error::Database)
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        on_store!(self, |store| store.create(record).await)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        on_store!(self, |store| store.save(record).await)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        on_store!(self, |store| store.load(id).await)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        on_store!(self, |store| store.delete(id).await)
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        on_store!(self, |store| store.delete_expired().await)
    }
}
