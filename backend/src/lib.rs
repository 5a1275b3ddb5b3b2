//! Heirloom's server-side logic. [`Backend`] is the handle that holds every service;
//! the server builds it once at start and hands it to handlers. Nothing here knows of
//! HTTP or Leptos.

pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod identity;
pub mod stories;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;

use std::sync::Arc;

pub use config::Config;
pub use db::Db;
pub use error::{Error, Result};

/// Everything the server needs from the backend, cheap to clone.
#[derive(Clone)]
pub struct Backend {
    pub config: Arc<Config>,
    pub db: Db,
    pub identity: Arc<identity::Identity>,
    pub sessions: identity::DbSessionStore,
    pub stories: Arc<stories::Stories>,
}

impl Backend {
    /// Prepares the data folder, connects to the database and applies pending migrations.
    pub async fn start(config: Config) -> Result<Backend> {
        config::prepare_data_dir(&config.data_dir)?;
        let db = Db::connect(&config.database_url(), config.db_max_connections).await?;
        db.migrate().await?;
        let sessions = identity::DbSessionStore::new(&db);
        sessions.migrate().await?;
        let config = Arc::new(config);
        let identity = Arc::new(identity::Identity::new(db.clone(), config.clone()));
        let stories = Arc::new(stories::Stories::new(db.clone()));
        Ok(Backend { config, db, identity, sessions, stories })
    }

    /// Whether this instance can serve requests: the database answers and every
    /// migration this binary knows of has been applied.
    pub async fn readiness(&self) -> Result<()> {
        let unreachable = |err: Error| Error::Unavailable(format!("database unreachable: {err}"));
        self.db.ping().await.map_err(unreachable)?;
        let pending = self.db.pending_migrations().await.map_err(unreachable)?;
        if pending.is_empty() {
            Ok(())
        } else {
            Err(Error::Unavailable(format!("{} database migration(s) not applied", pending.len())))
        }
    }
}
