//! Heirloom's server-side logic. [`Backend`] is the handle that holds every service;
//! the server builds it once at start and hands it to handlers. Nothing here knows of
//! HTTP or Leptos.
// The configuration defaults (`config::defaults`, one `json!`) nest past the default 128.
#![recursion_limit = "256"]

pub mod activity;
pub mod admin;
pub mod backup;
pub mod calls;
pub mod config;
pub mod conversation;
pub mod db;
pub mod disk;
pub mod email;
pub mod error;
pub mod events;
pub mod identity;
pub mod live;
pub mod media;
pub mod notifications;
pub mod paging;
pub mod people;
pub mod replica;
pub mod search;
pub mod stories;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;
pub mod time;
pub mod tips;
pub mod validate;
pub mod vault;

use std::sync::Arc;

pub use config::Config;
pub use db::Db;
pub use error::{Context, Error, Refusal, Result};
pub use types::ErrorCode;

/// Everything the server needs from the backend, cheap to clone.
#[derive(Clone)]
pub struct Backend {
    pub config: Arc<Config>,
    db: Db,
    pub identity: Arc<identity::Identity>,
    sessions: identity::DbSessionStore,
    pub stories: Arc<stories::Stories>,
    vault: Arc<vault::Vault>,
    pub calls: Arc<calls::Calls>,
    pub webhooks: Arc<calls::Webhooks>,
    /// This process's search index (it holds the index's lock: one process per data folder).
    pub search: Arc<search::Search>,
    pub media: Arc<media::Media>,
    /// The activity feed and the consumer that keeps it.
    pub activity: Arc<activity::Activity>,
    /// This replica's live streams.
    pub live: Arc<live::Live>,
    /// Comments and reactions on stories and media items.
    pub conversation: Arc<conversation::Conversation>,
    /// Sends email when `smtp_url` is set.
    pub email: Arc<email::Mailer>,
    /// The bell, its notifications, preferences and digests.
    pub notifications: Arc<notifications::Notifications>,
    pub people: Arc<people::People>,
    pub tips: Arc<tips::Tips>,
    /// This process as a replica: its id, and with the event bus on, its claim on it
    /// (released by [`replica::Replica::release`] at a clean shutdown).
    replica: Arc<replica::Replica>,
    /// What only an instance administrator may do.
    pub admin: Arc<admin::Admin>,
}

impl Backend {
    /// Prepares the data folder, connects to the database, applies pending migrations and
    /// opens the search index (rebuilding it when it is missing or behind). The index is
    /// refused with a conflict while another process uses it: commands that need only
    /// the database use [`open_database`] instead.
    pub async fn start(config: Config) -> Result<Backend> {
        let db = open_database(&config, config.db_max_connections).await?;
        // The replica's id names its own consumers on the event bus: settled and claimed
        // before anything reads progress recorded under it (the search index's check).
        let replica = Arc::new(replica::Replica::identify(&config)?);
        if config.nats_url.is_some() {
            replica.claim(&db).await?;
        }
        let mut config = config;
        // From here on the id in use, configured or generated.
        config.replica_id = Some(replica.id().to_string());
        let search = Arc::new(
            search::Search::open_or_rebuild_as(&disk::Disk::from_config(&config), db.clone(), Some(replica.id()))
                .await?,
        );
        let sessions = identity::DbSessionStore::new(&db);
        sessions.migrate().await?;
        let config = Arc::new(config);
        let vault = Arc::new(vault::Vault::from_config(&config)?);
        let email = Arc::new(email::Mailer::from_config(&config, db.clone(), vault.clone())?);
        let identity = Arc::new(identity::Identity::new(db.clone(), config.clone()).with_mailer(email.clone()));
        let stories = Arc::new(stories::Stories::new(db.clone()).with_mail(email.clone(), config.public_url.as_str()));
        let calls = Arc::new(calls::Calls::new(db.clone(), vault.clone(), calls::CallPolicy::from_config(&config)));
        let webhooks = Arc::new(calls::Webhooks::new(db.clone(), vault.clone(), calls.clone()));
        let media = Arc::new(media::Media::new(
            db.clone(),
            media::storage_from_config(&config)?,
            media::signing::UrlSigner::new(vault.derive_key("media-urls"), config.media_url_ttl_secs),
            media::MediaLimits::from_config(&config),
        ));
        let activity = Arc::new(activity::Activity::new(db.clone()));
        let live = Arc::new(live::Live::new(db.clone(), stories.clone()));
        let conversation = Arc::new(conversation::Conversation::new(db.clone(), stories.clone(), media.clone()));
        let notifications = Arc::new(notifications::Notifications::new(
            db.clone(),
            stories.clone(),
            media.clone(),
            email.clone(),
            config.public_url.as_str(),
            vault.derive_key("unsubscribe-links"),
        ));
        let limits =
            people::graph::Limits { max_depth: config.people_max_depth, max_visited: config.people_max_visited };
        let people = Arc::new(people::People::new(db.clone(), stories.clone(), limits));
        let tips = Arc::new(tips::Tips::from_config(&config, db.clone(), vault.clone(), calls.clone(), media.clone())?);
        let pipeline = media::pipeline::Settings::from_config(&config);
        // An archive's files pass through the pipeline's work folder, cleaned at start.
        let importer = people::GedcomImporter {
            people: people.clone(),
            media: media.clone(),
            work_dir: pipeline.work_dir.clone(),
        };
        // The shared lane hands each batch to these in this order, each after the one
        // before has finished. `live` comes early because open pages wait on it (it only
        // reads and hands the event to memory), after `activity` alone (one quick write),
        // so a feed item a page counts as new is in the feed when it is opened; the
        // others (a search commit, notifications' writes) are not watched as they happen.
        let consumers = vec![
            Arc::new(activity::consumer(activity.clone())) as Arc<dyn events::Consumer>,
            Arc::new(live::consumer(live.clone())),
            Arc::new(calls::WebhookConsumer(webhooks.clone())),
            search.indexer(),
            Arc::new(media::MediaPipeline::new(media.clone(), pipeline)),
            Arc::new(tips::consumer(tips.clone())),
            Arc::new(media::files_consumer(media.clone())),
            Arc::new(importer.consumer()),
            Arc::new(email::consumer(email.clone())),
            Arc::new(notifications::consumer(notifications.clone())),
        ];
        let admin = Arc::new(admin::Admin::new(db.clone(), calls.clone(), webhooks.clone(), search.clone(), consumers));
        Ok(Backend {
            config,
            db,
            identity,
            sessions,
            stories,
            vault,
            calls,
            webhooks,
            search,
            media,
            activity,
            live,
            conversation,
            email,
            notifications,
            people,
            tips,
            replica,
            admin,
        })
    }

    /// The database, for what works below the services: backup and restore, the
    /// database gate's probe, the readiness endpoint, tests.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Where the cookie layer keeps sessions (rows of `user_sessions`).
    pub fn session_store(&self) -> identity::DbSessionStore {
        self.sessions.clone()
    }

    /// Seals and opens stored credentials (connector tokens, webhook secrets).
    pub fn vault(&self) -> &vault::Vault {
        &self.vault
    }

    /// Ends this process's part after its server and workers stopped: the replica's id is
    /// free for its next start (or another process) at once, and the pool is closed.
    pub async fn shutdown(&self) {
        self.replica.release().await;
        self.db.close().await;
    }

    /// Every event consumer of this process (the same instances the admin retries with).
    pub fn consumers(&self) -> Vec<Arc<dyn events::Consumer>> {
        self.admin.consumers().to_vec()
    }

    /// Every kind of timer this instance fires.
    pub fn timer_handlers(&self) -> Vec<Arc<dyn events::TimerHandler>> {
        vec![Arc::new(calls::CallTimer(self.calls.clone())), Arc::new(media::UploadExpiryTimer(self.media.clone()))]
    }

    /// Starts the event bus and the timer worker (see `events::runtime`), and the
    /// upkeep of this replica: the free-space gauge and the search index's
    /// reconciliation after a failed write.
    pub async fn start_workers(&self) -> Result<events::runtime::Workers> {
        let mut workers = events::runtime::Workers::start(
            self.db.clone(),
            &self.config,
            self.consumers(),
            self.timer_handlers(),
            events::RetryPolicy::default(),
        )
        .await?;
        let disk = disk::Disk::from_config(&self.config);
        workers.every("disk.free", std::time::Duration::from_secs(15), move || {
            let disk = disk.clone();
            async move {
                tokio::task::spawn_blocking(move || disk.record()).await.ok();
                Ok(())
            }
        });
        let notifications = self.notifications.clone();
        workers.every("notifications.digests", notifications::DIGEST_EVERY, move || {
            let notifications = notifications.clone();
            async move { notifications.send_digests(time::now_millis()).await.map(|_| ()) }
        });
        let search = self.search.clone();
        workers.every("search.reconcile", search::RECONCILE_EVERY, move || {
            let search = search.clone();
            async move { search.reconcile().await }
        });
        Ok(workers)
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

/// Prepares the data folder, connects to the database (at most `max_connections`) and
/// applies pending migrations: all a command needs that does not serve (`heirloom
/// invite`), and that must work while a server holds the search index.
pub async fn open_database(config: &Config, max_connections: u32) -> Result<Db> {
    config::prepare_data_dir(&config.data_dir)?;
    let db = Db::connect_with(&config.database_url(), max_connections, config.sqlite_synchronous).await?;
    // Before anything writes (migrations included): a damaged file is never written to.
    db.check_integrity(false).await?;
    db.migrate().await?;
    Ok(db)
}
