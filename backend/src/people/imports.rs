//! GEDCOM imports in the background. Starting one reads the whole file in the request: a
//! file that does not read is refused there with its line-numbered errors, and nothing is
//! queued. A sound file is stored with its job row and a `GedcomImportQueued` event in one
//! transaction; the [`GedcomImporter`] consumer then writes its people (a transaction
//! every few hundred records, see `exchange`), adds a GEDZIP archive's photos, and leaves
//! the report on the job. Progress is counted in the replica that runs the import and
//! read from there while it runs; the job row says where it stands otherwise.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use types::events::{EventType, GedcomImportQueued};
use types::{ImportId, ImportJob, ImportReport, ImportSkip, ImportStatus, LegacyId, MediaId, PersonId, UserId};

use crate::args;
use crate::db::Db;
use crate::error::{Context, Error, Result};
use crate::events::{self, Consumer, Event, OnEvent};
use crate::identity::{repo as users, User};
use crate::media::Media;
use crate::people::exchange::FILE_MAX_BYTES;
use crate::people::gedcom::{self, Document};
use crate::people::gedzip::{self, Gedzip};
use crate::people::{repo, People};
use crate::time::{new_id, now_millis};
use crate::validate::Problems;

/// The longest file name a job keeps.
const FILE_NAME_MAX_CHARS: usize = 200;

/// Records written by imports running in this replica, by job.
#[derive(Default, Clone)]
pub(crate) struct Progress(Arc<Mutex<HashMap<ImportId, u64>>>);

impl Progress {
    pub(crate) fn set(&self, id: &ImportId, processed: u64) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(id.clone(), processed);
        }
    }

    fn get(&self, id: &ImportId) -> Option<u64> {
        self.0.lock().ok()?.get(id).copied()
    }

    fn forget(&self, id: &ImportId) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(id);
        }
    }
}

#[derive(sqlx::FromRow)]
struct ImportRow {
    id: ImportId,
    legacy_id: LegacyId,
    created_by: UserId,
    file_name: String,
    status: ImportStatus,
    total: i64,
    processed: i64,
    report: Option<String>,
    error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl ImportRow {
    fn view(&self, running: Option<u64>) -> ImportJob {
        let stored = u64::try_from(self.processed).unwrap_or_default();
        ImportJob {
            id: self.id.clone(),
            legacy_id: self.legacy_id.clone(),
            file_name: self.file_name.clone(),
            status: self.status,
            processed: running.filter(|_| self.status == ImportStatus::Running).unwrap_or(stored),
            total: u64::try_from(self.total).unwrap_or_default(),
            report: self.report.as_deref().and_then(|r| serde_json::from_str(r).ok()),
            error: self.error.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Everything but the file, which only the import itself reads (a page polling for
/// progress should not fetch megabytes twice a second).
const IMPORT_COLUMNS: &str =
    "id, legacy_id, created_by, file_name, status, total, processed, report, error, created_at, updated_at";

async fn find(db: &Db, id: &ImportId) -> Result<Option<ImportRow>> {
    db.fetch_optional(&format!("SELECT {IMPORT_COLUMNS} FROM gedcom_imports WHERE id = $1"), args![id]).await
}

/// The stored file, base64; empty once the import has ended.
async fn file_of(db: &Db, id: &ImportId) -> Result<String> {
    db.scalar("SELECT file_base64 FROM gedcom_imports WHERE id = $1", args![id]).await
}

/// Records where an import stands; the file is dropped once it has ended.
async fn set_status(db: &Db, id: &ImportId, status: ImportStatus, processed: u64, outcome: Outcome<'_>) -> Result<()> {
    let (report, error) = match outcome {
        Outcome::Pending => (None, None),
        Outcome::Report(report) => (Some(serde_json::to_string(report).context("encoding an import report")?), None),
        Outcome::Failed(reason) => (None, Some(reason.to_string())),
    };
    let sql = "UPDATE gedcom_imports SET status = $2, processed = $3, report = $4, error = $5, updated_at = $6, \
               file_base64 = CASE WHEN $7 THEN '' ELSE file_base64 END WHERE id = $1";
    let processed = i64::try_from(processed).unwrap_or(i64::MAX);
    db.execute(sql, args![id, status.as_str(), processed, report, error, now_millis(), status.is_over()]).await?;
    Ok(())
}

enum Outcome<'a> {
    Pending,
    Report(&'a ImportReport),
    Failed(&'a str),
}

/// The records of a file an import counts its progress in.
fn records(document: &Document) -> u64 {
    (document.people.len() + document.families.len()) as u64
}

/// A file name as a job shows it: the last part of a path, trimmed and cut short.
fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = crate::text::normalize(base.trim()).chars().filter(|c| !c.is_control()).collect();
    let cleaned: String = cleaned.chars().take(FILE_NAME_MAX_CHARS).collect();
    if cleaned.is_empty() {
        "family tree.ged".to_string()
    } else {
        cleaned
    }
}

impl People {
    /// Reads a GEDCOM file for a legacy whose people the user may edit and queues its
    /// import; a file that does not read is refused with every line-numbered problem.
    pub async fn start_import(
        &self,
        user: &User,
        legacy_id: &LegacyId,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<ImportJob> {
        if !self.access(Some(user), legacy_id).await?.can_edit() {
            return Err(Error::NotFound { what: "legacy" });
        }
        let document = read(bytes)?;
        let id = ImportId::new(new_id());
        let now = now_millis();
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        let total = i64::try_from(records(&document)).unwrap_or(i64::MAX);
        let mut tx = self.db.begin().await?;
        let sql = "INSERT INTO gedcom_imports (id, legacy_id, created_by, file_name, file_base64, status, total, \
                   created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $7)";
        tx.execute(sql, args![&id, legacy_id, &user.id, clean_file_name(file_name), encoded, total, now]).await?;
        let queued = GedcomImportQueued { import_id: id.clone(), legacy_id: legacy_id.clone() };
        events::append(&mut tx, Event::of(&id, Some(&user.id), queued)).await?;
        tx.commit().await?;
        self.import_job(user, &id).await
    }

    /// An import the user may see (they can edit its legacy's people).
    pub async fn import_job(&self, user: &User, id: &ImportId) -> Result<ImportJob> {
        let not_found = || Error::NotFound { what: "import" };
        let row = find(&self.db, id).await?.ok_or_else(not_found)?;
        if !self.access(Some(user), &row.legacy_id).await?.can_edit() {
            return Err(not_found());
        }
        Ok(row.view(self.progress.get(id)))
    }

    /// Runs a queued import (the consumer's work). An import that has ended is left as
    /// it is, so a redelivered event does nothing; one found running (a replica stopped
    /// during it) runs again and finds what it wrote: a re-import matches the people by
    /// their GEDCOM identifiers, and a relationship stored already is not stored twice.
    pub async fn run_import(&self, media: &Media, work_dir: &Path, id: &ImportId) -> Result<()> {
        let Some(row) = find(&self.db, id).await? else { return Ok(()) };
        if row.status.is_over() {
            return Ok(());
        }
        set_status(&self.db, id, ImportStatus::Running, 0, Outcome::Pending).await?;
        let user = users::find_by_id(&self.db, &row.created_by).await?;
        let editable = match &user {
            Some(user) if !user.disabled => self.access(Some(user), &row.legacy_id).await?.can_edit(),
            _ => false,
        };
        let (Some(user), true) = (user, editable) else {
            let reason = "The person who started this import can no longer edit this legacy's people.";
            return set_status(&self.db, id, ImportStatus::Failed, 0, Outcome::Failed(reason)).await;
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(file_of(&self.db, id).await?.as_bytes())
            .context("decoding a stored GEDCOM file")?;
        let document = match read(&bytes) {
            Ok(document) => document,
            Err(err) => {
                let reason = format!("The file no longer reads: {err}");
                return set_status(&self.db, id, ImportStatus::Failed, 0, Outcome::Failed(&reason)).await;
            }
        };
        self.progress.set(id, 0);
        let applied = self.apply_gedcom(&user, &row.legacy_id, &document, Some(id)).await;
        self.progress.forget(id);
        // A database failure is retried (the event is redelivered); the job stays running.
        let mut report = applied?;
        if gedzip::is_zip(&bytes) {
            let files = ArchiveFiles { media, work_dir, archive: Gedzip::open(&bytes)? };
            self.add_archive_media(files, &user, &row.legacy_id, &document, &mut report).await?;
        }
        set_status(&self.db, id, ImportStatus::Done, records(&document), Outcome::Report(&report)).await
    }

    /// Adds the files of a GEDZIP archive that its people name as photos and recordings
    /// of the legacy (once: a file added by an earlier import of the archive is found
    /// again by its path) and tags each person in theirs. A file that is not in the
    /// archive or is refused (its type, size, the quota) is reported with the person's
    /// line, and the rest go on.
    async fn add_archive_media(
        &self,
        mut files: ArchiveFiles<'_, '_>,
        user: &User,
        legacy_id: &LegacyId,
        document: &Document,
        report: &mut ImportReport,
    ) -> Result<()> {
        let people: HashMap<String, PersonId> = repo::with_gedcom_xref(&self.db, legacy_id)
            .await?
            .into_iter()
            .filter_map(|p| Some((p.gedcom_xref?, p.id)))
            .collect();
        let mut added: HashMap<&str, Option<MediaId>> = HashMap::new();
        for individual in document.people.iter().filter(|i| !i.media.is_empty()) {
            let Some(person_id) = people.get(&individual.xref) else { continue };
            for path in &individual.media {
                if !added.contains_key(path.as_str()) {
                    let item = match self.archive_item(&mut files, user, legacy_id, path, report).await? {
                        Ok(item) => Some(item),
                        Err(reason) => {
                            report.skipped.push(ImportSkip { line: individual.line, reason });
                            None
                        }
                    };
                    added.insert(path, item);
                }
                if let Some(Some(media_id)) = added.get(path.as_str()) {
                    self.tag(files.media, user, media_id, person_id).await?;
                }
            }
        }
        Ok(())
    }

    /// The legacy's item for an archive's file: the one an earlier import added, or a new
    /// one; `Ok(Err(reason))` when the file is not there or the media rules refuse it.
    /// Any other failure (the database, the storage) is an error, and the import is
    /// retried.
    async fn archive_item(
        &self,
        files: &mut ArchiveFiles<'_, '_>,
        user: &User,
        legacy_id: &LegacyId,
        path: &str,
        report: &mut ImportReport,
    ) -> Result<std::result::Result<MediaId, String>> {
        let sql = "SELECT g.media_id FROM gedcom_media g JOIN media m ON m.id = g.media_id \
                   WHERE g.legacy_id = $1 AND g.path = $2";
        if let Some(known) = self.db.scalar_optional(sql, args![legacy_id, path]).await? {
            return Ok(Ok(known));
        }
        let max = files.media.limits().max_bytes;
        let bytes = match files.archive.file(path, max) {
            Ok(None) => return Ok(Err(format!("the file {path} is not in the archive"))),
            Ok(Some(Err(limit))) => {
                return Ok(Err(format!("the file {path} is larger than {} MB", limit / 1024 / 1024)))
            }
            Ok(Some(Ok(bytes))) => bytes,
            Err(_) => return Ok(Err(format!("the file {path} could not be read from the archive"))),
        };
        let name = path.rsplit('/').next().unwrap_or(path);
        let added = files.media.add_file(user, legacy_id, name, gedcom::media_type(path), &bytes, files.work_dir);
        let item = match added.await {
            Ok(item) => item,
            Err(err @ (Error::Invalid(_) | Error::QuotaExceeded(_) | Error::Forbidden(_))) => {
                return Ok(Err(format!("the file {path} was not added: {}", refusal(&err))))
            }
            Err(other) => return Err(other),
        };
        let sql = "INSERT INTO gedcom_media (legacy_id, path, media_id) VALUES ($1, $2, $3) \
                   ON CONFLICT (legacy_id, path) DO UPDATE SET media_id = excluded.media_id";
        self.db.execute(sql, args![legacy_id, path, &item.id]).await?;
        report.media_added += 1;
        Ok(Ok(item.id))
    }
}

/// What a refusal says, for a line of the import's report.
fn refusal(err: &Error) -> String {
    match err {
        Error::Invalid(fields) => fields.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; "),
        Error::QuotaExceeded(field) => field.message.clone(),
        other => other.to_string(),
    }
}

/// Where an archive's files go: the media capability, and a folder for each on its way.
struct ArchiveFiles<'a, 'b> {
    media: &'a Media,
    work_dir: &'a Path,
    archive: Gedzip<'b>,
}

/// The file (GEDCOM, or a GEDZIP archive's `gedcom.ged`) read as GEDCOM, or every
/// line-numbered problem as the `file` field's.
fn read(bytes: &[u8]) -> Result<Document> {
    if bytes.len() > FILE_MAX_BYTES {
        return Err(Error::invalid("file", &format!("is larger than {} MB", FILE_MAX_BYTES / 1024 / 1024)));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid("file", "is empty: choose a GEDCOM file (.ged) to import"));
    }
    let unpacked;
    let bytes = if gedzip::is_zip(bytes) {
        unpacked = Gedzip::open(bytes)?.gedcom(FILE_MAX_BYTES as u64)?;
        &unpacked[..]
    } else {
        bytes
    };
    gedcom::parse(bytes).map_err(|errors| {
        let mut problems = Problems::default();
        for error in errors {
            problems.add("file", error.to_string());
        }
        problems.into_result().err().unwrap_or_else(|| Error::invalid("file", "is not a GEDCOM file"))
    })
}

/// Runs queued GEDCOM imports, in a lane of its own: an import of a large file takes
/// seconds and must not hold up the other consumers. A GEDZIP archive's files go to
/// `media`, through `work_dir`.
#[derive(Clone)]
pub struct GedcomImporter {
    pub people: Arc<People>,
    pub media: Arc<Media>,
    pub work_dir: PathBuf,
}

impl GedcomImporter {
    pub fn consumer(self) -> impl Consumer {
        let import = |this: GedcomImporter, queued: GedcomImportQueued| async move {
            this.people.run_import(&this.media, &this.work_dir, &queued.import_id).await
        };
        OnEvent::new("gedcom-imports", &[EventType::GedcomImportQueued], self, import).in_own_lane()
    }
}
