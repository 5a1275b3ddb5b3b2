//! The index on disk, in generations:
//!
//! ```text
//! <data_dir>/search/CURRENT          the name of the generation in use
//! <data_dir>/search/gen-<uuidv7>/    one complete tantivy index
//! ```
//!
//! A rebuild writes a whole new generation beside the one being searched, then
//! switches by rewriting `CURRENT` (write a temporary file, fsync, rename: readers see
//! the old name or the new one, never half of either) and removes the old directory.
//! Searches in flight keep the old generation's reader until they finish.
//!
//! Every commit records in tantivy's commit payload the schema version and the newest
//! outbox message reflected, which is how a start tells an index that is behind.
//!
//! All writes go through [`SearchIndex::refresh`], which reloads the affected rows from
//! the database under one lock, so applying an event twice or out of order converges
//! on the database's current state.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use serde::{Deserialize, Serialize};
use tantivy::collector::Count;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use types::{StoryStatus, Visibility};

use crate::db::Db;
use crate::disk::Disk;
use crate::error::{Error, Result};
use crate::people;
use crate::people::model::PersonRow;
use crate::search::model::{Kind, RebuildReport};
use crate::search::repo::{self, LegacyDocRow, MediaDocRow, StoryDocRow};
use crate::search::schema::{self, Fields, FACET_SEPARATOR, SCHEMA_VERSION};
use crate::search::{access, tokenize};
use crate::stories::render;
use crate::time::new_id;

const POINTER: &str = "CURRENT";
const GENERATION_PREFIX: &str = "gen-";
/// One indexing thread: the machine has few cores and the web server needs them.
const WRITER_THREADS: usize = 1;
const WRITER_MEMORY: usize = 32 * 1024 * 1024;
/// Rows per database round trip during a rebuild (a story body can be 1 MB).
const REBUILD_PAGE: i64 = 100;
/// Room asked of the disk before each commit or rebuild page: a generous guess at what
/// the new segment and its merge take, so the database's reserve is never touched.
const ROOM_PER_WRITE: u64 = 4 * 1024 * 1024;

/// A document to bring in line with the database.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Story(String),
    /// The legacy's own document (name, summary, whether it has a public story).
    Legacy(String),
    /// The legacy and every story and media item in it (after a rename, or when it is deleted).
    LegacyWithStories(String),
    /// A media item (its caption, or whether it is ready).
    Media(String),
    /// A person (names, dates, places, bio, whether living).
    Person(String),
}

/// What a commit carries beside the documents.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Payload {
    schema_version: u32,
    /// The newest outbox message this generation reflects ("" for none).
    last_message_id: String,
}

/// One complete index directory and its open handles.
pub struct Generation {
    pub name: String,
    pub dir: PathBuf,
    pub fields: Fields,
    pub index: Index,
    pub reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    last_message_id: Mutex<String>,
}

/// A change ready for the writer.
enum Change {
    Put(String, TantivyDocument),
    Delete(String),
    DeleteLegacyTree(String),
}

impl Generation {
    /// A new, empty generation under `root`.
    fn create(root: &Path) -> Result<Generation> {
        let name = format!("{GENERATION_PREFIX}{}", new_id());
        let dir = root.join(&name);
        fs::create_dir_all(&dir).map_err(|e| data_dir_error(&dir, e))?;
        let (schema, fields) = schema::build();
        let index = Index::create_in_dir(&dir, schema).map_err(index_error)?;
        Generation::with_index(name, dir, fields, index, String::new())
    }

    /// The generation `name` under `root`, if it is whole and was built by this schema.
    fn open(root: &Path, name: &str) -> Result<Generation> {
        let dir = root.join(name);
        let index = Index::open_in_dir(&dir).map_err(index_error)?;
        let (schema, fields) = schema::build();
        if index.schema() != schema {
            return Err(Error::internal("search index", "built with another schema"));
        }
        let payload: Payload = index
            .load_metas()
            .map_err(index_error)?
            .payload
            .and_then(|p| serde_json::from_str(&p).ok())
            .ok_or_else(|| Error::internal("search index", "no commit payload"))?;
        if payload.schema_version != SCHEMA_VERSION {
            return Err(Error::internal(
                "search index",
                format!("schema version {} (this binary uses {SCHEMA_VERSION})", payload.schema_version),
            ));
        }
        Generation::with_index(name.to_string(), dir, fields, index, payload.last_message_id)
    }

    fn with_index(name: String, dir: PathBuf, fields: Fields, index: Index, last: String) -> Result<Generation> {
        tokenize::register(index.tokenizers());
        let writer = index.writer_with_num_threads(WRITER_THREADS, WRITER_MEMORY).map_err(|err| match err {
            // Rebuilding would delete the other process's index: refuse instead.
            tantivy::TantivyError::LockFailure(..) => Error::Conflict(
                format!(
                    "The search index in {} is in use by another process: two Heirloom servers cannot share a \
                     data folder.",
                    dir.display()
                )
                .into(),
            ),
            other => index_error(other),
        })?;
        // Manual: each commit reloads the reader itself, so a write is searchable as soon
        // as it returns instead of after a polling delay.
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(index_error)?;
        Ok(Generation {
            name,
            dir,
            fields,
            index,
            reader,
            writer: Mutex::new(Some(writer)),
            last_message_id: Mutex::new(last),
        })
    }

    pub fn last_message_id(&self) -> String {
        lock(&self.last_message_id).clone()
    }

    /// Applies `changes` and commits (blocking). `message_id` is the event that caused
    /// them; the recorded mark only ever moves forward.
    fn commit(&self, changes: Vec<Change>, message_id: &str) -> Result<()> {
        let mut writer = lock(&self.writer);
        let open = writer.as_mut().ok_or_else(|| Error::Unavailable("search index: generation closed".into()))?;
        let committed = self.apply_and_commit(open, changes, message_id);
        if committed.is_err() {
            // A failed commit (a full disk) can leave tantivy's writer without indexing
            // threads; it then takes documents and silently drops them. Start again from
            // the last commit, so the caller's retry indexes everything again.
            if let Err(err) = open.rollback() {
                tracing::error!(generation = %self.name, error = %err,
                    "cannot roll the search index back; closing it until it is rebuilt");
                *writer = None;
            }
        }
        committed
    }

    fn apply_and_commit(&self, writer: &mut IndexWriter, changes: Vec<Change>, message_id: &str) -> Result<()> {
        let fields = self.fields;
        for change in changes {
            match change {
                Change::Put(key, doc) => {
                    writer.delete_term(Term::from_field_text(fields.key, &key));
                    writer.add_document(doc).map_err(index_error)?;
                }
                Change::Delete(key) => {
                    writer.delete_term(Term::from_field_text(fields.key, &key));
                }
                Change::DeleteLegacyTree(legacy_id) => {
                    writer.delete_term(Term::from_field_text(fields.legacy_id, &legacy_id));
                }
            }
        }
        let mut last = lock(&self.last_message_id);
        let newest = if message_id > last.as_str() { message_id.to_string() } else { last.clone() };
        let payload =
            serde_json::to_string(&Payload { schema_version: SCHEMA_VERSION, last_message_id: newest.clone() })
                .map_err(|e| Error::internal("search index payload", e))?;
        let mut prepared = writer.prepare_commit().map_err(index_error)?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(index_error)?;
        *last = newest;
        self.reader.reload().map_err(index_error)
    }

    /// Adds documents without committing (the bulk path of a rebuild).
    fn add(&self, docs: Vec<TantivyDocument>) -> Result<()> {
        let writer = lock(&self.writer);
        let writer = writer.as_ref().ok_or_else(|| Error::Unavailable("search index: generation closed".into()))?;
        for doc in docs {
            writer.add_document(doc).map_err(index_error)?;
        }
        Ok(())
    }

    /// Documents of one kind (blocking).
    pub fn count(&self, kind: Kind) -> Result<u64> {
        let query = TermQuery::new(Term::from_field_text(self.fields.kind, kind.as_str()), IndexRecordOption::Basic);
        let count = self.reader.searcher().search(&query, &Count).map_err(index_error)?;
        Ok(count as u64)
    }

    /// Stops the writer (waiting for merges) so the directory can go (blocking).
    fn close(&self) {
        if let Some(writer) = lock(&self.writer).take() {
            if let Err(err) = writer.wait_merging_threads() {
                tracing::warn!(generation = %self.name, error = %err, "search index merge did not finish");
            }
        }
    }
}

/// The search index: the generation in use and the lock every write takes.
pub struct SearchIndex {
    root: PathBuf,
    /// The data folder's disk: writes leave its reserve to the database.
    disk: Disk,
    /// Set when a write failed: the index may miss changes until it is reconciled
    /// with the database ([`SearchIndex::take_failed_writes`]).
    failed_writes: std::sync::atomic::AtomicBool,
    current: RwLock<Arc<Generation>>,
    /// Serializes writes: event refreshes and the switch at the end of a rebuild.
    write: tokio::sync::Mutex<()>,
    /// While a rebuild runs: what changed meanwhile, to replay into the new generation.
    rebuilding: Mutex<Option<HashSet<Target>>>,
    #[cfg(any(test, feature = "testing"))]
    hold: Mutex<Option<(tokio::sync::oneshot::Sender<()>, tokio::sync::oneshot::Receiver<()>)>>,
}

/// Test hook: a rebuild held between filling its new generation and switching to it.
#[cfg(any(test, feature = "testing"))]
pub struct RebuildHold {
    /// Resolves once the new generation is filled (and not yet current).
    pub filled: tokio::sync::oneshot::Receiver<()>,
    /// Send (or drop) to let the rebuild switch.
    pub release: tokio::sync::oneshot::Sender<()>,
}

impl SearchIndex {
    /// Opens the generation `CURRENT` names under `root`; `Err` says why it cannot be
    /// used (missing, corrupt, another schema).
    pub async fn open(root: &Path, disk: Disk) -> Result<SearchIndex> {
        let root = root.to_path_buf();
        let generation = blocking(move || {
            let name = read_pointer(&root)?.ok_or_else(|| Error::Unavailable("search index: none yet".into()))?;
            let generation = Generation::open(&root, &name)?;
            Ok((root, generation))
        })
        .await?;
        let (root, generation) = generation;
        Ok(SearchIndex::with_generation(root, disk, Arc::new(generation)))
    }

    /// Builds a fresh index from the database under `root` and makes it current.
    pub async fn build(root: &Path, db: &Db, disk: Disk) -> Result<(SearchIndex, RebuildReport)> {
        let (generation, report) = build_generation(root, db, &disk).await?;
        let dir = root.to_path_buf();
        let name = generation.name.clone();
        if let Err(err) = blocking(move || write_pointer(&dir, &name)).await {
            discard(generation).await;
            return Err(err);
        }
        Ok((SearchIndex::with_generation(root.to_path_buf(), disk, generation), report))
    }

    fn with_generation(root: PathBuf, disk: Disk, generation: Arc<Generation>) -> SearchIndex {
        let index = SearchIndex {
            root,
            disk,
            failed_writes: Default::default(),
            current: RwLock::new(generation),
            write: tokio::sync::Mutex::new(()),
            rebuilding: Mutex::new(None),
            #[cfg(any(test, feature = "testing"))]
            hold: Mutex::new(None),
        };
        index.remove_stray_generations();
        index
    }

    /// The generation to search; it stays usable while held, even across a switch.
    pub fn current(&self) -> Arc<Generation> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Brings `targets` in line with the database and commits, recording `message_id`.
    /// A failure marks the index for reconciliation.
    pub async fn refresh(&self, db: &Db, targets: &[Target], message_id: &str) -> Result<()> {
        let _write = self.write.lock().await;
        if let Some(changed) = lock(&self.rebuilding).as_mut() {
            changed.extend(targets.iter().cloned());
        }
        let generation = self.current();
        let refreshed = async {
            let changes = load_changes(db, generation.fields, targets).await?;
            self.disk.make_room("search index", ROOM_PER_WRITE)?;
            let message_id = message_id.to_string();
            blocking(move || generation.commit(changes, &message_id)).await
        }
        .await;
        if refreshed.is_err() {
            self.failed_writes.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        refreshed
    }

    /// `Ok` when the disk has room for a write beside the database's reserve.
    pub fn has_room(&self) -> Result<()> {
        self.disk.make_room("search index", ROOM_PER_WRITE)
    }

    /// Whether a write failed since the last call (which clears the mark): the index
    /// may then miss changes the database has.
    pub fn take_failed_writes(&self) -> bool {
        self.failed_writes.swap(false, std::sync::atomic::Ordering::SeqCst)
    }

    /// Marks the index as possibly missing changes (a reconciliation that failed).
    pub fn mark_failed_write(&self) {
        self.failed_writes.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Builds a new generation from the database beside the current one, then switches
    /// to it and removes the old one. Searches keep working throughout.
    pub async fn rebuild(&self, db: &Db) -> Result<RebuildReport> {
        {
            let mut rebuilding = lock(&self.rebuilding);
            if rebuilding.is_some() {
                return Err(Error::Conflict("The search index is already being rebuilt.".into()));
            }
            *rebuilding = Some(HashSet::new());
        }
        // Stops the tracking however the rebuild ends, even if its future is dropped.
        struct Tracking<'a>(&'a Mutex<Option<HashSet<Target>>>);
        impl Drop for Tracking<'_> {
            fn drop(&mut self) {
                *lock(self.0) = None;
            }
        }
        let _tracking = Tracking(&self.rebuilding);
        self.rebuild_and_switch(db).await
    }

    async fn rebuild_and_switch(&self, db: &Db) -> Result<RebuildReport> {
        let (generation, report) = build_generation(&self.root, db, &self.disk).await?;
        #[cfg(any(test, feature = "testing"))]
        {
            let hold = lock(&self.hold).take();
            if let Some((filled, release)) = hold {
                let _ = filled.send(());
                let _ = release.await;
            }
        }
        let write = self.write.lock().await;
        // Rows that changed while the new generation was being filled may have been read
        // before the change: read them again, now that no other write can interleave.
        let changed: Vec<Target> = lock(&self.rebuilding).take().unwrap_or_default().into_iter().collect();
        let switched = async {
            if !changed.is_empty() {
                let changes = load_changes(db, generation.fields, &changed).await?;
                let target = generation.clone();
                // Those events were recorded by the old generation; the new one reflects
                // them now too.
                let mark = self.current().last_message_id();
                blocking(move || target.commit(changes, &mark)).await?;
            }
            let (root, name) = (self.root.clone(), generation.name.clone());
            blocking(move || write_pointer(&root, &name)).await
        }
        .await;
        if let Err(err) = switched {
            discard(generation).await;
            return Err(err);
        }
        let old = std::mem::replace(&mut *self.current.write().unwrap_or_else(PoisonError::into_inner), generation);
        drop(write);
        discard(old).await;
        Ok(report)
    }

    /// Holds the next rebuild after it has filled its new generation, until released.
    #[cfg(any(test, feature = "testing"))]
    pub fn hold_next_rebuild(&self) -> RebuildHold {
        let (filled_tx, filled) = tokio::sync::oneshot::channel();
        let (release, release_rx) = tokio::sync::oneshot::channel();
        *lock(&self.hold) = Some((filled_tx, release_rx));
        RebuildHold { filled, release }
    }

    /// Removes generation directories other than the current one (left by a rebuild
    /// that crashed, or an old one that could not be removed at the switch).
    fn remove_stray_generations(&self) {
        let current = self.current().name.clone();
        let Ok(entries) = fs::read_dir(&self.root) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with(GENERATION_PREFIX) && name != current {
                if let Err(err) = fs::remove_dir_all(entry.path()) {
                    tracing::warn!(generation = %name, error = %err, "could not remove an old search index");
                }
            }
        }
    }
}

/// Closes a generation that is no longer current and deletes its directory. Readers
/// still holding it keep their open (memory-mapped) files until they drop them.
async fn discard(generation: Arc<Generation>) {
    let result = tokio::task::spawn_blocking(move || {
        generation.close();
        fs::remove_dir_all(&generation.dir).map_err(|e| (generation.name.clone(), e))
    })
    .await;
    match result {
        Ok(Ok(())) => {}
        Ok(Err((name, err))) => tracing::warn!(generation = %name, error = %err, "could not remove a search index"),
        Err(err) => tracing::warn!(error = %err, "removing a search index panicked"),
    }
}

/// Streams every legacy and story into a new generation and commits it with the outbox
/// mark taken before reading, so every event up to the mark is reflected.
async fn build_generation(root: &Path, db: &Db, disk: &Disk) -> Result<(Arc<Generation>, RebuildReport)> {
    let mark = repo::latest_outbox_message(db).await?;
    disk.make_room("search index rebuild", ROOM_PER_WRITE)?;
    let dir = root.to_path_buf();
    let generation = Arc::new(blocking(move || Generation::create(&dir)).await?);
    match fill(&generation, db, &mark, disk).await {
        Ok((stories, legacies)) => {
            let report = RebuildReport { generation: generation.name.clone(), stories, legacies };
            tracing::info!(generation = %report.generation, stories, legacies, "search index built");
            Ok((generation, report))
        }
        Err(err) => {
            discard(generation).await;
            Err(err)
        }
    }
}

async fn fill(generation: &Arc<Generation>, db: &Db, mark: &str, disk: &Disk) -> Result<(u64, u64)> {
    let fields = generation.fields;
    let (mut stories, mut legacies) = (0u64, 0u64);
    let mut after = String::new();
    loop {
        let rows = repo::legacies_after(db, &after, REBUILD_PAGE).await?;
        let Some(last) = rows.last() else { break };
        after = last.id.clone();
        legacies += rows.len() as u64;
        let docs = rows.iter().map(|row| legacy_doc(fields, row)).collect();
        add_page(generation, disk, docs).await?;
    }
    after.clear();
    loop {
        let rows = repo::stories_after(db, &after, REBUILD_PAGE).await?;
        let Some(last) = rows.last() else { break };
        let mut tags: HashMap<String, Vec<String>> = HashMap::new();
        for (story_id, tag) in repo::tags_in_range(db, &after, &last.id).await? {
            tags.entry(story_id).or_default().push(tag);
        }
        after = last.id.clone();
        stories += rows.len() as u64;
        let docs =
            rows.iter().map(|row| story_doc(fields, row, tags.get(&row.id).map_or(&[][..], Vec::as_slice))).collect();
        add_page(generation, disk, docs).await?;
    }
    after.clear();
    loop {
        let rows = people::repo::after(db, &after, REBUILD_PAGE).await?;
        let Some(last) = rows.last() else { break };
        after = last.id.to_string();
        let docs = rows.iter().map(|row| person_doc(fields, row)).collect();
        add_page(generation, disk, docs).await?;
    }
    after.clear();
    loop {
        let mut rows = repo::media_after(db, &after, REBUILD_PAGE).await?;
        repo::add_tagged_people(db, &mut rows).await?;
        let Some(last) = rows.last() else { break };
        after = last.id.clone();
        let docs = rows.iter().map(|row| media_doc(fields, row)).collect();
        add_page(generation, disk, docs).await?;
    }
    let target = generation.clone();
    let mark = mark.to_string();
    blocking(move || target.commit(Vec::new(), &mark)).await?;
    Ok((stories, legacies))
}

/// Adds one page of documents to the generation being built, first making sure the
/// database keeps its room on the disk.
async fn add_page(generation: &Arc<Generation>, disk: &Disk, docs: Vec<TantivyDocument>) -> Result<()> {
    disk.make_room("search index rebuild", ROOM_PER_WRITE)?;
    let target = generation.clone();
    blocking(move || target.add(docs)).await
}

/// Reads the current rows behind `targets` and turns them into changes.
async fn load_changes(db: &Db, fields: Fields, targets: &[Target]) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    for target in targets {
        match target {
            Target::Story(id) => {
                changes.push(story_change(db, fields, id).await?);
                // Media of a story are seen by the story's readers: its visibility moves them.
                for media_id in repo::media_ids(db, None, Some(id)).await? {
                    changes.push(media_change(db, fields, &media_id).await?);
                }
            }
            Target::Media(id) => changes.push(media_change(db, fields, id).await?),
            Target::Person(id) => {
                changes.push(person_change(db, fields, id).await?);
                // Items the person is tagged in carry their name.
                for media_id in repo::media_of_person(db, id).await? {
                    changes.push(media_change(db, fields, &media_id).await?);
                }
            }
            Target::Legacy(id) => changes.push(legacy_change(db, fields, id).await?),
            Target::LegacyWithStories(id) => {
                // Deleting the whole tree first also drops stories the database no longer
                // has under this legacy.
                changes.push(Change::DeleteLegacyTree(id.clone()));
                if let Some(row) = repo::find_legacy(db, id).await? {
                    changes.push(Change::Put(key(Kind::Legacy, id), legacy_doc(fields, &row)));
                    for story_id in repo::story_ids_of_legacy(db, id).await? {
                        changes.push(story_change(db, fields, &story_id).await?);
                    }
                    for media_id in repo::media_ids(db, Some(id), None).await? {
                        changes.push(media_change(db, fields, &media_id).await?);
                    }
                    for person_id in repo::person_ids_of_legacy(db, id).await? {
                        changes.push(person_change(db, fields, &person_id).await?);
                    }
                }
            }
        }
    }
    Ok(changes)
}

async fn story_change(db: &Db, fields: Fields, id: &str) -> Result<Change> {
    Ok(match repo::find_story(db, id).await? {
        Some(row) => {
            let tags = repo::story_tags(db, id).await?;
            Change::Put(key(Kind::Story, id), story_doc(fields, &row, &tags))
        }
        None => Change::Delete(key(Kind::Story, id)),
    })
}

async fn legacy_change(db: &Db, fields: Fields, id: &str) -> Result<Change> {
    Ok(match repo::find_legacy(db, id).await? {
        Some(row) => Change::Put(key(Kind::Legacy, id), legacy_doc(fields, &row)),
        None => Change::Delete(key(Kind::Legacy, id)),
    })
}

async fn media_change(db: &Db, fields: Fields, id: &str) -> Result<Change> {
    Ok(match repo::find_media(db, id).await? {
        Some(mut row) => {
            repo::add_tagged_people(db, std::slice::from_mut(&mut row)).await?;
            Change::Put(key(Kind::Media, id), media_doc(fields, &row))
        }
        None => Change::Delete(key(Kind::Media, id)),
    })
}

async fn person_change(db: &Db, fields: Fields, id: &str) -> Result<Change> {
    Ok(match people::repo::find(db, &types::PersonId::from(id)).await? {
        Some(row) => Change::Put(key(Kind::Person, id), person_doc(fields, &row)),
        None => Change::Delete(key(Kind::Person, id)),
    })
}

fn key(kind: Kind, id: &str) -> String {
    format!("{}:{id}", kind.as_str())
}

/// The start of every document: its key, kind and id, its legacy (`(id, name)`, with its
/// facet) and who may read it.
fn base_doc(
    f: Fields,
    kind: Kind,
    id: &str,
    (legacy_id, legacy_name): (&str, &str),
    grants: Vec<String>,
) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    doc.add_text(f.key, key(kind, id));
    doc.add_text(f.kind, kind.as_str());
    doc.add_text(f.id, id);
    doc.add_text(f.legacy_id, legacy_id);
    doc.add_text(f.legacy_facet, format!("{legacy_id}{FACET_SEPARATOR}{legacy_name}"));
    for grant in grants {
        doc.add_text(f.access, grant);
    }
    doc
}

/// The start of a document for something a person wrote or uploaded: [`base_doc`] and
/// its author (`(id, name)`, with their facet).
fn written_doc(
    f: Fields,
    kind: Kind,
    id: &str,
    legacy: (&str, &str),
    (author_id, author_name): (&str, &str),
    grants: Vec<String>,
) -> TantivyDocument {
    let mut doc = base_doc(f, kind, id, legacy, grants);
    doc.add_text(f.author_id, author_id);
    doc.add_text(f.author_facet, format!("{author_id}{FACET_SEPARATOR}{author_name}"));
    doc
}

/// The title (whole and as plain words) and the body text (searched and as plain words).
fn add_title_and_body(doc: &mut TantivyDocument, f: Fields, title: &str, body: &str) {
    doc.add_text(f.title, title);
    doc.add_text(f.title_plain, title);
    doc.add_text(f.body, body);
    doc.add_text(f.text_plain, body);
}

fn story_doc(f: Fields, row: &StoryDocRow, tags: &[String]) -> TantivyDocument {
    let visibility = Visibility::parse(&row.visibility).unwrap_or(Visibility::Private);
    let status = StoryStatus::parse(&row.status).unwrap_or(StoryStatus::Draft);
    let body = render::markdown_to_text(&row.body);
    let grants = access::story_grants(&row.author_id, &row.legacy_id, visibility, status);
    let legacy = (row.legacy_id.as_str(), row.legacy_name.as_str());
    let mut doc = written_doc(f, Kind::Story, &row.id, legacy, (&row.author_id, &row.author_name), grants);
    doc.add_text(f.visibility, visibility.as_str());
    doc.add_text(f.status, status.as_str());
    add_title_and_body(&mut doc, f, &row.title, &body);
    doc.add_text(f.legacy_name, &row.legacy_name);
    doc.add_text(f.text_plain, &row.legacy_name);
    doc.add_text(f.author_name, &row.author_name);
    for tag in tags {
        doc.add_text(f.tag, tag);
        doc.add_text(f.tags, tag);
        doc.add_text(f.text_plain, tag);
    }
    doc.add_i64(f.created_at, row.created_at);
    doc.add_i64(f.updated_at, row.updated_at);
    if let Some(published_at) = row.published_at {
        doc.add_i64(f.published_at, published_at);
    }
    doc
}

fn legacy_doc(f: Fields, row: &LegacyDocRow) -> TantivyDocument {
    let grants = access::legacy_grants(&row.id, row.has_public_story);
    let mut doc = base_doc(f, Kind::Legacy, &row.id, (&row.id, &row.name), grants);
    add_title_and_body(&mut doc, f, &row.name, &row.summary);
    doc.add_text(f.legacy_name, &row.name);
    for date in [&row.born, &row.died] {
        doc.add_text(f.extra, date);
    }
    doc.add_text(f.born, &row.born);
    doc.add_text(f.died, &row.died);
    doc.add_i64(f.created_at, row.created_at);
    doc.add_i64(f.updated_at, row.updated_at);
    doc
}

/// A photo or recording is found by its caption (or, without one, its file name).
fn media_doc(f: Fields, row: &MediaDocRow) -> TantivyDocument {
    let story = match (&row.story_author_id, &row.story_visibility, &row.story_status) {
        (Some(author), Some(visibility), Some(status)) => access::MediaStory::Story(
            author.as_str(),
            Visibility::parse(visibility).unwrap_or(Visibility::Private),
            StoryStatus::parse(status).unwrap_or(StoryStatus::Draft),
        ),
        // It names a story the join did not find: never the legacy's members' then.
        _ if row.story_id.is_some() => access::MediaStory::Gone,
        _ => access::MediaStory::None,
    };
    let title = match row.caption.lines().map(str::trim).find(|l| !l.is_empty()) {
        Some(line) if line.chars().count() > 80 => format!("{}…", line.chars().take(80).collect::<String>()),
        Some(line) => line.to_string(),
        None => row.file_name.clone(),
    };
    let grants = access::media_grants(&row.uploader_id, &row.legacy_id, story);
    let legacy = (row.legacy_id.as_str(), row.legacy_name.as_str());
    let mut doc = written_doc(f, Kind::Media, &row.id, legacy, (&row.uploader_id, &row.uploader_name), grants);
    add_title_and_body(&mut doc, f, &title, &row.caption);
    doc.add_text(f.extra, &row.file_name);
    for name in &row.people {
        doc.add_text(f.extra, name);
    }
    doc.add_text(f.legacy_name, &row.legacy_name);
    doc.add_text(f.author_name, &row.uploader_name);
    doc.add_i64(f.created_at, row.created_at);
    doc.add_i64(f.updated_at, row.updated_at);
    doc
}

/// A person is found by every form of their name (in any order: "Rose Howard" and
/// "Howard, Rose" are the same words), their life years, places and bio; the title
/// carries the years so typeahead can show them.
fn person_doc(f: Fields, row: &PersonRow) -> TantivyDocument {
    let p = &row.fields;
    let title = match p.life_years() {
        years if years.is_empty() => p.full_name(),
        years => format!("{} ({years})", p.full_name()),
    };
    let grants = access::person_grants(&row.legacy_id, p.living);
    let mut doc = base_doc(f, Kind::Person, &row.id, (&row.legacy_id, &row.legacy_name), grants);
    add_title_and_body(&mut doc, f, &title, &render::markdown_to_text(&p.bio));
    for extra in [&p.birth_surname, &p.nicknames, &p.birth_place, &p.death_place, &p.birth_date, &p.death_date] {
        doc.add_text(f.extra, extra);
    }
    doc.add_text(f.legacy_name, &row.legacy_name);
    doc.add_text(f.born, &p.birth_date);
    doc.add_text(f.died, &p.death_date);
    doc.add_i64(f.updated_at, row.updated_at);
    doc
}

/// The generation name `CURRENT` holds, `None` when there is no pointer yet.
fn read_pointer(root: &Path) -> Result<Option<String>> {
    let path = root.join(POINTER);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let name = text.trim();
            // Only a plain generation name, never a path that leads elsewhere.
            if name.starts_with(GENERATION_PREFIX) && !name.contains(['/', '\\', '.']) {
                Ok(Some(name.to_string()))
            } else {
                Err(Error::internal("search index", format!("{POINTER} does not name a generation")))
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(data_dir_error(&path, err)),
    }
}

/// Points `CURRENT` at `name` atomically: a crash leaves the old pointer or the new one.
fn write_pointer(root: &Path, name: &str) -> Result<()> {
    let temporary = root.join(format!("{POINTER}.tmp"));
    let pointer = root.join(POINTER);
    let write = || -> std::io::Result<()> {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(name.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temporary, &pointer)?;
        // The rename is durable only once the directory entry is.
        fs::File::open(root)?.sync_all()
    };
    write().map_err(|e| data_dir_error(&pointer, e))
}

/// Runs blocking index work off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| Error::internal("search index task", e))?
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain data (no invariant spans the lock),
    // so carrying on is safe.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub fn index_error(err: tantivy::TantivyError) -> Error {
    if crate::disk::caused_by_full_disk(&err) {
        return Error::StorageFull(format!("search index: {err}"));
    }
    Error::internal("search index", err)
}

fn data_dir_error(path: &Path, err: std::io::Error) -> Error {
    Error::DataDir { path: path.to_path_buf(), message: err.to_string() }
}
