//! Heirloom's server-side logic. [`Backend`] is the handle that holds every service;
//! the server builds it once at start and hands it to handlers. Nothing here knows of
//! HTTP or Leptos.

pub mod calls;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod identity;
pub mod stories;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod vault;

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
    pub vault: Arc<vault::Vault>,
    pub calls: Arc<calls::Calls>,
    pub webhooks: Arc<calls::Webhooks>,
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
        let vault = Arc::new(vault::Vault::from_config(&config)?);
        let calls = Arc::new(calls::Calls::new(db.clone(), vault.clone(), calls::CallPolicy::from_config(&config)));
        let webhooks = Arc::new(calls::Webhooks::new(db.clone(), vault.clone(), calls.clone()));
        Ok(Backend { config, db, identity, sessions, stories, vault, calls, webhooks })
    }

    /// Every event consumer of this instance.
    pub fn consumers(&self) -> Vec<Arc<dyn events::Consumer>> {
        vec![Arc::new(calls::WebhookConsumer(self.webhooks.clone()))]
    }

    /// Every kind of timer this instance fires.
    pub fn timer_handlers(&self) -> Vec<Arc<dyn events::TimerHandler>> {
        vec![Arc::new(calls::CallTimer(self.calls.clone()))]
    }

    /// Starts the event bus and the timer worker (see `events::runtime`).
    pub async fn start_workers(&self) -> Result<events::runtime::Workers> {
        events::runtime::Workers::start(
            self.db.clone(),
            &self.config,
            self.consumers(),
            self.timer_handlers(),
            events::RetryPolicy::default(),
        )
        .await
    }

    /// The outbound-call executor, for an administrator (the delivery log, ad-hoc calls).
    pub fn calls_for(&self, user: &identity::User) -> Result<&calls::Calls> {
        user.require_admin("see or submit outbound calls")?;
        Ok(&self.calls)
    }

    /// Webhook endpoints, for an administrator.
    pub fn webhooks_for(&self, user: &identity::User) -> Result<&calls::Webhooks> {
        user.require_admin("manage webhooks")?;
        Ok(&self.webhooks)
    }

    /// Events a consumer gave up on, newest first, for an administrator.
    pub async fn dead_letters(&self, user: &identity::User) -> Result<Vec<types::DeadLetterView>> {
        user.require_admin("see failed events")?;
        let parked = events::consumer::dead_letters(&self.db).await?;
        Ok(parked
            .into_iter()
            .map(|d| types::DeadLetterView {
                consumer: d.consumer,
                message_id: d.message_id,
                event_type: d.event_type,
                aggregate_type: d.aggregate_type,
                aggregate_id: d.aggregate_id,
                attempts: d.attempts,
                last_error: d.last_error,
                failed_at: d.failed_at,
            })
            .collect())
    }

    /// Drops a parked event for good (an administrator decided it does not matter).
    pub async fn discard_dead_letter(&self, user: &identity::User, consumer: &str, message_id: &str) -> Result<()> {
        user.require_admin("discard failed events")?;
        events::consumer::remove_dead_letter(&self.db, consumer, message_id).await
    }

    /// Hands a parked event to its consumer again, now.
    pub async fn retry_dead_letter(
        &self,
        user: &identity::User,
        consumer: &str,
        message_id: &str,
    ) -> Result<events::Delivered> {
        user.require_admin("retry failed events")?;
        let handler = self
            .consumers()
            .into_iter()
            .find(|c| c.name() == consumer)
            .ok_or(Error::NotFound { what: "consumer" })?;
        let event = events::consumer::take_dead_letter(&self.db, consumer, message_id).await?;
        events::consumer::deliver(&self.db, handler.as_ref(), &event, events::RetryPolicy::default()).await
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
