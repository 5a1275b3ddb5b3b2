//! `Search`: the handle the rest of the app uses — open (or rebuild) the index at start,
//! search and suggest for a reader, rebuild on demand, and the indexer to register as
//! an event consumer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use types::search::SearchParams;

use crate::db::Db;
use crate::disk::Disk;
use crate::error::{Error, Result};
use crate::identity::{Role, User};
use crate::search::index::{SearchIndex, Target};
use crate::search::indexer::{Indexer, CONSUMER};
use crate::search::model::{Kind, Reader, RebuildReport, SearchQuery, SearchResults, Suggestion};
use crate::search::{query, repo, tail};

/// Typeahead entries a search box asks for.
pub const SUGGEST_DEFAULT: usize = 8;
/// The file under `<data_dir>/search` a process holds locked while it uses the index.
const FOLDER_LOCK: &str = "LOCK";

pub struct Search {
    db: Db,
    index: Arc<SearchIndex>,
    /// Held (an exclusive `flock`) for as long as this handle lives, so a second process
    /// on the same data folder (another server, `heirloom reindex`) is refused before it
    /// touches a generation, whatever its version or the state of the index. The OS
    /// releases it if the process dies.
    _lock: std::fs::File,
    /// The replica whose progress records (`search-<replica>`) this index follows on
    /// JetStream; `None` when the index is fed only by the embedded dispatcher.
    replica: Option<String>,
}

impl Search {
    /// Opens the index under `<data_dir>/search`, rebuilding it from the database when
    /// it is missing, unreadable, built by another schema, or behind: it has not seen
    /// the newest event the search consumer recorded as handled (a restored backup, a
    /// lost commit, a dead-lettered event), or its document counts differ from the
    /// database's. An index locked by another process is an error, not a rebuild.
    pub async fn open_or_rebuild(disk: &Disk, db: Db) -> Result<Search> {
        Search::open_or_rebuild_as(disk, db, None).await
    }

    /// [`Search::open_or_rebuild`] for `replica` (`backend::replica`), whose JetStream
    /// consumer records its progress as `search-<replica>`. An index opened as it is
    /// first refreshes what the outbox's newest events name ([`tail::catch_up`]), so a
    /// replica restarted after a crash serves no change older than its start.
    pub async fn open_or_rebuild_as(disk: &Disk, db: Db, replica: Option<&str>) -> Result<Search> {
        let (root, lock) = lock_folder(disk.dir())?;
        let replica = replica.map(str::to_string);
        let reason = match SearchIndex::open(&root, disk.clone()).await {
            Ok(index) => match behind(&index, &db, replica.as_deref()).await? {
                None => {
                    let caught_up = tail::catch_up(&index, &db).await?;
                    tracing::info!(
                        events = caught_up.events,
                        documents = caught_up.documents,
                        "search index caught up with the outbox's tail"
                    );
                    return Ok(Search { db, index: Arc::new(index), _lock: lock, replica });
                }
                Some(reason) => format!("behind: {reason}"),
            },
            // Another process holds it: rebuilding would pull it from under that process.
            Err(err @ Error::Conflict(_)) => return Err(err),
            Err(err) => format!("unusable: {err}"),
        };
        tracing::warn!(%reason, "rebuilding the search index");
        let (index, _) = SearchIndex::build(&root, &db, disk.clone()).await?;
        Ok(Search { db, index: Arc::new(index), _lock: lock, replica })
    }

    /// Rebuilds the index under `<data_dir>/search` from the database into a new
    /// generation and switches to it, without serving searches (`heirloom reindex`).
    /// A conflict when another process (a running server) uses the index.
    pub async fn rebuild_offline(disk: &Disk, db: Db) -> Result<RebuildReport> {
        let (root, _lock) = lock_folder(disk.dir())?;
        match SearchIndex::open(&root, disk.clone()).await {
            Ok(index) => index.rebuild(&db).await,
            Err(err @ Error::Conflict(_)) => Err(err),
            Err(err) => {
                tracing::warn!(reason = %err, "the search index is unusable; building a new one");
                Ok(SearchIndex::build(&root, &db, disk.clone()).await?.1)
            }
        }
    }

    /// The event consumer that keeps this index current.
    pub fn indexer(&self) -> Arc<Indexer> {
        Arc::new(Indexer::new(self.db.clone(), self.index.clone()))
    }

    /// Rebuilds the whole index from the database into a new generation and switches
    /// to it; searches keep answering from the old one meanwhile.
    pub async fn rebuild(&self) -> Result<RebuildReport> {
        self.index.rebuild(&self.db).await
    }

    /// Brings the index back in line with the database after a write to it failed (a
    /// full disk, a database error), while the server runs: the events the indexer
    /// parked are handed to it again, then, if the index still has other counts than
    /// the database or has not seen the newest event recorded as handled, it is
    /// rebuilt. Nothing happens while no write has failed. Run every few seconds by the
    /// server; a reconciliation that fails leaves the mark for the next one.
    pub async fn reconcile(&self) -> Result<()> {
        if !self.index.take_failed_writes() {
            return Ok(());
        }
        let reconciled = async {
            // Still short of space: replaying would only park every event again, each
            // after its retries.
            self.index.has_room()?;
            let indexer = self.indexer();
            for consumer in consumer_names(self.replica.as_deref()) {
                let named = crate::events::consumer::Named::new(consumer.clone(), indexer.clone());
                for message_id in crate::events::consumer::dead_letters_of(&self.db, &consumer).await? {
                    let event = crate::events::consumer::take_dead_letter(&self.db, &consumer, &message_id).await?;
                    let delivered = crate::events::consumer::deliver(&self.db, &named, &event, Default::default());
                    if delivered.await? == crate::events::Delivered::Parked {
                        return Err(Error::Unavailable("search index: writes still fail".into()));
                    }
                }
            }
            if self.index.take_failed_writes() {
                return Err(Error::Unavailable("search index: writes still fail".into()));
            }
            if let Some(reason) = behind(&self.index, &self.db, self.replica.as_deref()).await? {
                tracing::warn!(%reason, "rebuilding the search index");
                self.index.rebuild(&self.db).await?;
            }
            tracing::info!("search index reconciled with the database");
            Ok(())
        }
        .await;
        if reconciled.is_err() {
            self.index.mark_failed_write();
        }
        reconciled
    }

    /// Reindexes one story or legacy from the database now (outside the event flow).
    pub async fn reindex(&self, kind: Kind, id: &str) -> Result<()> {
        let target = match kind {
            Kind::Story => Target::Story(id.to_string()),
            Kind::Legacy => Target::LegacyWithStories(id.to_string()),
            Kind::Media => Target::Media(id.to_string()),
            Kind::Person => Target::Person(id.to_string()),
        };
        self.index.refresh(&self.db, &[target], "").await
    }

    /// The reader as search sees them: their memberships and instance role.
    pub async fn reader(&self, user: Option<&User>) -> Result<Reader> {
        let Some(user) = user else { return Ok(Reader::anonymous()) };
        let memberships: HashMap<_, _> = repo::memberships(&self.db, &user.id).await?.into_iter().collect();
        Ok(Reader { user_id: Some(user.id.clone()), is_admin: user.role() == Role::Admin, memberships })
    }

    /// Full-text search over what `reader` may read.
    #[tracing::instrument(name = "search.query", skip_all, fields(sort = ?query.sort, limit = ?query.limit))]
    pub async fn search(&self, reader: &Reader, query: &SearchQuery) -> Result<SearchResults> {
        let plan = query::plan(query)?;
        let generation = self.index.current();
        let reader = reader.clone();
        blocking(move || query::search(&generation, &reader, &plan)).await
    }

    /// Searches as `user` (signed out: public only) with the parameters a page or an API
    /// client sent; every bad parameter is named.
    pub async fn find(&self, user: Option<&User>, params: &SearchParams) -> Result<SearchResults> {
        let query = SearchQuery::from_params(params)?;
        query::plan(&query)?;
        let reader = self.reader(user).await?;
        self.search(&reader, &query).await
    }

    /// Typeahead for `user`: up to [`SUGGEST_DEFAULT`] stories and legacies they may read.
    pub async fn suggest_for(&self, user: Option<&User>, text: &str) -> Result<Vec<Suggestion>> {
        let reader = self.reader(user).await?;
        self.suggest(text, &reader, SUGGEST_DEFAULT).await
    }

    /// A few stories and legacies for a search box's typeahead, title matches first.
    #[tracing::instrument(name = "search.suggest", skip_all, fields(limit))]
    pub async fn suggest(&self, text: &str, reader: &Reader, limit: usize) -> Result<Vec<Suggestion>> {
        let generation = self.index.current();
        let (reader, text) = (reader.clone(), text.to_string());
        blocking(move || query::suggest(&generation, &reader, &text, limit)).await
    }

    /// Test hook: holds the next rebuild between filling and switching.
    #[cfg(any(test, feature = "testing"))]
    pub fn hold_next_rebuild(&self) -> crate::search::index::RebuildHold {
        self.index.hold_next_rebuild()
    }

    /// The name of the generation being searched (changes with each rebuild).
    pub fn generation(&self) -> String {
        self.index.current().name.clone()
    }

    /// `<data_dir>/search`.
    pub fn root(&self) -> PathBuf {
        self.index.root().to_path_buf()
    }
}

/// Creates `<data_dir>/search` and locks it for this process.
fn lock_folder(data_dir: &Path) -> Result<(PathBuf, std::fs::File)> {
    let root = data_dir.join("search");
    let io = |e: std::io::Error| Error::DataDir { path: root.clone(), message: e.to_string() };
    std::fs::create_dir_all(&root).map_err(io)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join(FOLDER_LOCK))
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok((root, file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Conflict(
            format!(
                "The search index in {} is in use by another process: two Heirloom servers cannot share a data folder.",
                root.display()
            )
            .into(),
        )),
        Err(std::fs::TryLockError::Error(err)) => Err(io(err)),
    }
}

/// The names this replica's indexer records its progress under: `search` with the
/// embedded dispatcher, `search-<replica>` with JetStream (see `events::jetstream`).
fn consumer_names(replica: Option<&str>) -> Vec<String> {
    let on_jetstream = replica.map(|replica| crate::events::jetstream::replica_consumer_name(CONSUMER, replica));
    std::iter::once(CONSUMER.to_string()).chain(on_jetstream).collect()
}

/// `Some(reason)` when the index misses changes the database has.
async fn behind(index: &SearchIndex, db: &Db, replica: Option<&str>) -> Result<Option<String>> {
    let generation = index.current();
    let seen = generation.last_message_id();
    // The embedded dispatcher records progress as `search`; with JetStream each replica
    // records its own (`search-<replica>`, see `events::jetstream`).
    let mut processed = String::new();
    for consumer in consumer_names(replica) {
        processed = processed.max(repo::latest_processed(db, &consumer).await?);
    }
    if processed > seen {
        return Ok(Some(format!("the index has seen events up to {seen:?}, the consumer up to {processed:?}")));
    }
    let (stories, legacies) = repo::counts(db).await?;
    let counted = generation.clone();
    let (indexed_stories, indexed_legacies) =
        blocking(move || Ok((counted.count(Kind::Story)?, counted.count(Kind::Legacy)?))).await?;
    if (indexed_stories, indexed_legacies) != (stories, legacies) {
        return Ok(Some(format!(
            "the index has {indexed_stories} stories and {indexed_legacies} legacies, \
             the database {stories} and {legacies}"
        )));
    }
    Ok(None)
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| Error::internal("search task", e))?
}
