//! The rules for media: who may upload where and how much, the upload's life (asked
//! for, parts received, completed and verified, or abandoned), who may see a file, and
//! the signed URLs that carry that permission to a browser.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncRead;
use types::events::{EventType, MediaCaptioned, MediaDeleted, MediaRetryRequested, MediaUploaded, StoredFiles};
use types::{
    ErrorCode, FieldError, LegacyId, LegacyRole, MediaId, MediaState, MediaView, PartTarget, StoryId, UploadRequest,
    UploadTicket, UserId, VariantView,
};

use crate::config::Config;
use crate::db::{Db, Tx};
use crate::error::{Context, Error, Result};
use crate::events::{self, timers, Event};
use crate::identity::{Role, User};
use crate::media::model::{self, MediaRow, Variant, ORIGINAL};
use crate::media::repo;
use crate::media::signing::{Grant, UrlSigner};
use crate::media::storage::{ByteRange, Object, Storage};
use crate::stories::model::StoryRow;
use crate::stories::permissions::{self, Reader};
use crate::stories::service::story_facts;
use crate::stories::Stories;
use crate::time::{new_id, now_millis};
use crate::validate::{self, Problems};

/// The timer that abandons an upload nobody completed.
pub const UPLOAD_EXPIRY_TIMER: &str = "media.upload_expiry";
const FILE_NAME_MAX_CHARS: usize = 255;
const CAPTION_MAX_CHARS: usize = 2000;
const LIST_MAX: i64 = 500;
/// An item in processing for longer than this may be sent through again.
const STUCK_AFTER_MS: i64 = 60 * 60 * 1000;

/// The limits an upload is checked against, from config.
#[derive(Debug, Clone)]
pub struct MediaLimits {
    pub max_bytes: u64,
    pub allowed_types: Vec<String>,
    pub user_quota_bytes: u64,
    pub instance_quota_bytes: Option<u64>,
    pub part_size_bytes: u64,
    pub url_ttl: Duration,
    pub upload_expiry: Duration,
}

impl MediaLimits {
    pub fn from_config(config: &Config) -> MediaLimits {
        MediaLimits {
            max_bytes: config.media_max_bytes,
            allowed_types: config.media_allowed_types.iter().map(|t| t.to_ascii_lowercase()).collect(),
            user_quota_bytes: config.media_user_quota_bytes,
            instance_quota_bytes: config.media_instance_quota_bytes,
            part_size_bytes: config.media_part_size_bytes,
            url_ttl: Duration::from_secs(config.media_url_ttl_secs),
            upload_expiry: Duration::from_secs(config.media_upload_expiry_hours * 3600),
        }
    }

    pub fn allows(&self, content_type: &str) -> bool {
        self.allowed_types.iter().any(|t| t == content_type)
    }
}

/// A file a reader may have, with what the response must say about it; read it (or a
/// range of it, `total` tells which ranges exist) with [`Media::read`].
pub struct Served {
    key: String,
    pub content_type: String,
    /// The name to offer when saving it.
    pub file_name: String,
    /// Shown in the page (a photo, a recording) rather than downloaded.
    pub inline: bool,
    /// The file's size in bytes.
    pub total: u64,
}

/// A presented `?exp=&sig=` pair.
#[derive(Debug, Clone, Copy)]
pub struct Signature<'a> {
    pub expires: i64,
    pub sig: &'a str,
}

pub struct Media {
    db: Db,
    storage: Arc<dyn Storage>,
    signer: UrlSigner,
    limits: MediaLimits,
}

struct Access {
    read: bool,
    edit: bool,
}

/// A legacy and the media of it a reader may see.
pub type LegacyMedia = (types::LegacyView, Vec<MediaView>);
/// A story and the media of it a reader may see.
pub type StoryMedia = (types::StoryView, Vec<MediaView>);

fn now_secs() -> i64 {
    now_millis() / 1000
}

impl Media {
    pub fn new(db: Db, storage: Arc<dyn Storage>, signer: UrlSigner, limits: MediaLimits) -> Media {
        Media { db, storage, signer, limits }
    }

    /// The stories capability, whose legacies and stories media belong to and whose
    /// permissions decide who sees them.
    fn stories(&self) -> Stories {
        Stories::new(self.db.clone())
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    pub fn limits(&self) -> &MediaLimits {
        &self.limits
    }

    // ---- permissions ----

    async fn access(&self, user: Option<&User>, row: &MediaRow) -> Result<Access> {
        let role = match user {
            Some(user) => self.stories().role_in(&row.legacy_id, user).await?,
            None => None,
        };
        let story = match &row.story_id {
            Some(story_id) => self.stories().story_row(story_id).await?,
            None => None,
        };
        Ok(access_of(user, row, role, story.as_ref()))
    }

    /// The row, if this reader may see it; "not found" either way otherwise.
    async fn readable(&self, user: Option<&User>, id: &MediaId) -> Result<(MediaRow, Access)> {
        let row = repo::find(&self.db, id).await?.ok_or(Error::NotFound { what: "media item" })?;
        let access = self.access(user, &row).await?;
        if !access.read {
            return Err(Error::NotFound { what: "media item" });
        }
        Ok((row, access))
    }

    async fn editable(&self, user: &User, id: &MediaId) -> Result<MediaRow> {
        let (row, access) = self.readable(Some(user), id).await?;
        if !access.edit {
            return Err(Error::Forbidden(
                "Only the uploader and the legacy's owners and editors may change this.".into(),
            ));
        }
        Ok(row)
    }

    // ---- uploads ----

    /// Checks the request against the limits and the quotas, then opens a multipart
    /// upload. Nothing is stored when a limit is exceeded.
    pub async fn request_upload(&self, user: &User, request: &UploadRequest) -> Result<UploadTicket> {
        let mut problems = Problems::default();
        let file_name = clean_file_name(&mut problems, &request.file_name);
        let content_type = request.content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if content_type.is_empty() {
            problems.add("content_type", "is required");
        } else if !self.limits.allows(&content_type) {
            problems.add(
                "content_type",
                format!(
                    "{content_type} files are not accepted here (accepted: {})",
                    self.limits.allowed_types.join(", ")
                ),
            );
        }
        if request.size == 0 {
            problems.add("size", "the file is empty");
        } else if request.size > self.limits.max_bytes {
            problems.add(
                "size",
                format!(
                    "the file is {} but the largest allowed is {}",
                    human_bytes(request.size),
                    human_bytes(self.limits.max_bytes)
                ),
            );
        }
        let sha256 = request.sha256.trim().to_ascii_lowercase();
        if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            problems.add("sha256", "must be the file's SHA-256 as 64 hexadecimal characters");
        }
        let (legacy_id, role) = self
            .stories()
            .legacy_to_add_to(&mut problems, user, &request.legacy_id, "a legacy you can add media to")
            .await?;
        let story_id = request.story_id.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(StoryId::from);
        if let (Some(story_id), true) = (&story_id, permissions::can_create_story(role)) {
            let may_attach = match self.stories().story_row(story_id).await? {
                Some(story) => {
                    story.legacy_id == legacy_id
                        && permissions::can_edit(
                            Reader { user_id: Some(&user.id), is_admin: false, role },
                            story_facts(&story),
                        )
                }
                None => false,
            };
            if !may_attach {
                problems.add("story_id", "is not a story of this legacy that you can edit");
            }
        }
        problems.into_result()?;

        let size = i64::try_from(request.size).map_err(|_| Error::invalid("size", "is too large"))?;
        // Checked before the storage is touched, and again in the transaction that reserves.
        let mut tx = self.db.begin().await?;
        self.check_quota(&mut tx, user, request.size).await?;
        drop(tx);

        let id = MediaId::new(new_id());
        let key = model::original_key(&id);
        let upload = self.storage.begin_upload(&key, &content_type).await?;
        let now = now_millis();
        let file = model::NewFile { file_name, declared_type: content_type, size_bytes: size, sha256 };
        let row = MediaRow {
            story_id,
            upload_id: upload.clone(),
            part_size: i64::try_from(self.limits.part_size_bytes).unwrap_or(i64::MAX),
            ..MediaRow::uploading(id.clone(), legacy_id, user.id.clone(), file, now)
        };
        let reserved = async {
            let mut tx = self.db.begin().await?;
            self.check_quota(&mut tx, user, request.size).await?;
            repo::insert_tx(&mut tx, &row).await?;
            let due = now + i64::try_from(self.limits.upload_expiry.as_millis()).unwrap_or(i64::MAX / 2);
            timers::schedule(
                &mut tx,
                &format!("{UPLOAD_EXPIRY_TIMER}:{id}"),
                UPLOAD_EXPIRY_TIMER,
                due,
                &UploadExpiry { media_id: id.clone() },
            )
            .await?;
            tx.commit().await
        }
        .await;
        if let Err(err) = reserved {
            let _ = self.storage.abort_upload(&key, &upload).await;
            return Err(err);
        }
        self.ticket(&row).await
    }

    async fn check_quota(&self, tx: &mut Tx, user: &User, size: u64) -> Result<()> {
        let (mine, everyone) = repo::usage_tx(tx, &user.id).await?;
        let (mine, everyone) = (mine.max(0) as u64, everyone.max(0) as u64);
        if mine + size > self.limits.user_quota_bytes {
            return Err(Error::QuotaExceeded(FieldError::new(
                "size",
                format!(
                    "this file ({}) would take you past your storage quota: {} of {} used",
                    human_bytes(size),
                    human_bytes(mine),
                    human_bytes(self.limits.user_quota_bytes)
                ),
            )));
        }
        if let Some(limit) = self.limits.instance_quota_bytes {
            if everyone + size > limit {
                return Err(Error::QuotaExceeded(FieldError::new(
                    "size",
                    format!(
                        "this file ({}) would exceed this server's storage limit; ask its administrator",
                        human_bytes(size)
                    ),
                )));
            }
        }
        Ok(())
    }

    /// Which parts are stored and where to send the others (fresh signed URLs).
    async fn ticket(&self, row: &MediaRow) -> Result<UploadTicket> {
        let key = model::original_key(&row.id);
        let done: Vec<u32> = if row.state == MediaState::Uploading {
            let stored = self.storage.parts(&key, &row.upload_id).await?;
            stored.iter().filter(|p| row.part_len(p.number) == Some(p.size)).map(|p| p.number).collect()
        } else {
            (1..=row.part_count()).collect()
        };
        let expires = self.signer.expiry(now_secs());
        let mut parts = Vec::new();
        if row.state == MediaState::Uploading {
            for number in (1..=row.part_count()).filter(|n| !done.contains(n)) {
                let size = row.part_len(number).unwrap_or_default();
                let url = match self.storage.presign_part(&key, &row.upload_id, number, self.limits.url_ttl).await? {
                    Some(url) => url,
                    None => format!(
                        "/uploads/{}/parts/{number}?{}",
                        row.id,
                        self.signer.query(&Grant::Part { media_id: &row.id, number }, expires)
                    ),
                };
                let offset = (u64::from(number) - 1) * row.part_size.max(1) as u64;
                parts.push(PartTarget { number, offset, size, url });
            }
        }
        Ok(UploadTicket {
            media_id: row.id.clone(),
            state: row.state,
            size: row.size(),
            part_size: row.part_size.max(1) as u64,
            parts_done: done,
            parts,
            urls_expire_at: expires * 1000,
        })
    }

    /// Where an upload stands, for the uploader resuming it.
    pub async fn upload_status(&self, user: &User, id: &MediaId) -> Result<UploadTicket> {
        let row = self.own_upload(user, id).await?;
        self.ticket(&row).await
    }

    async fn own_upload(&self, user: &User, id: &MediaId) -> Result<MediaRow> {
        match repo::find(&self.db, id).await? {
            Some(row) if row.uploader_id == user.id => Ok(row),
            _ => Err(Error::NotFound { what: "upload" }),
        }
    }

    /// Stores one part sent to Heirloom's own endpoint. The signed URL is the
    /// permission (it was handed to the uploader), so no session is needed.
    pub async fn receive_part(
        &self,
        id: &MediaId,
        number: u32,
        signature: Signature<'_>,
        body: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<()> {
        self.signer.verify(&Grant::Part { media_id: id, number }, signature.expires, signature.sig, now_secs())?;
        let row = repo::find(&self.db, id).await?.ok_or(Error::NotFound { what: "upload" })?;
        if row.state != MediaState::Uploading {
            return Err(Error::conflict(ErrorCode::UploadComplete, "This upload is already complete."));
        }
        let size = row
            .part_len(number)
            .ok_or_else(|| Error::invalid("part", &format!("this upload has {} parts", row.part_count())))?;
        self.storage.write_part(&row.upload_id, number, size, body).await?;
        Ok(())
    }

    /// Joins the parts, checks the size and checksum the uploader declared, and hands
    /// the file to processing (`MediaUploaded`).
    #[tracing::instrument(name = "media.upload", skip_all, fields(media_id = %id))]
    pub async fn complete_upload(&self, user: &User, id: &MediaId) -> Result<MediaView> {
        let row = self.own_upload(user, id).await?;
        if row.state != MediaState::Uploading {
            // Completing twice (a retried request) answers with the item as it is.
            return self.media(Some(user), id).await;
        }
        let key = model::original_key(id);
        let stored = self.storage.parts(&key, &row.upload_id).await?;
        let missing: Vec<u32> = (1..=row.part_count())
            .filter(|n| !stored.iter().any(|p| p.number == *n && row.part_len(*n) == Some(p.size)))
            .collect();
        if !missing.is_empty() {
            let list = missing.iter().take(10).map(u32::to_string).collect::<Vec<_>>().join(", ");
            return Err(Error::invalid(
                "parts",
                &format!("{} of {} parts are not uploaded yet (part {list})", missing.len(), row.part_count()),
            ));
        }
        let parts: Vec<_> = stored.into_iter().filter(|p| p.number <= row.part_count()).collect();
        self.storage.finish_upload(&key, &row.upload_id, &parts).await?;

        let (size, digest) = self.digest(&key).await?;
        if size != row.size() || digest != row.sha256 {
            // The bytes are not what was announced: drop them and the reservation.
            let _ = self.storage.delete(&key).await;
            let mut tx = self.db.begin().await?;
            repo::delete_tx(&mut tx, id).await?;
            tx.commit().await?;
            let what = if size != row.size() {
                format!("the server received {} bytes but the file has {}", size, row.size())
            } else {
                "the received bytes do not match the file's SHA-256".to_string()
            };
            return Err(Error::invalid("sha256", &format!("{what}; upload the file again")));
        }

        self.hand_to_processing(user, &row).await
    }

    /// An upload whose bytes are all stored goes to processing (`MediaUploaded`), once.
    async fn hand_to_processing(&self, user: &User, row: &MediaRow) -> Result<MediaView> {
        let id = &row.id;
        let mut tx = self.db.begin().await?;
        if repo::transition_tx(&mut tx, id, &[MediaState::Uploading], MediaState::Pending).await? {
            let uploaded = MediaUploaded {
                media_id: id.clone(),
                legacy_id: row.legacy_id.clone(),
                story_id: row.story_id.clone(),
                declared_type: row.declared_type.clone(),
                size: row.size_bytes,
                file_name: row.file_name.clone(),
            };
            events::append(&mut tx, Event::of(id, Some(&user.id), uploaded)).await?;
            tx.commit().await?;
        }
        self.media(Some(user), id).await
    }

    /// Adds a file the server already holds (a photo from a GEDCOM archive) to a legacy
    /// as an upload of it would: the same checks of name, type, size, quota and legacy,
    /// the original stored whole, then processing. `work_dir` holds the file on its way.
    pub async fn add_file(
        &self,
        user: &User,
        legacy_id: &LegacyId,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
        work_dir: &std::path::Path,
    ) -> Result<MediaView> {
        let request = UploadRequest {
            legacy_id: legacy_id.clone(),
            story_id: None,
            file_name: file_name.to_string(),
            size: bytes.len() as u64,
            content_type: content_type.to_string(),
            sha256: hex::encode(Sha256::digest(bytes)),
        };
        let ticket = self.request_upload(user, &request).await?;
        let row = repo::find(&self.db, &ticket.media_id).await?.ok_or(Error::NotFound { what: "upload" })?;
        let key = model::original_key(&row.id);
        let stored = async {
            tokio::fs::create_dir_all(work_dir).await.context("creating the work folder for an added file")?;
            // Named as the pipeline names its folders, so one left by a crash is cleaned.
            let folder = tempfile::Builder::new()
                .prefix("media-")
                .tempdir_in(work_dir)
                .context("creating a folder for an added file")?;
            let path = folder.path().join("original");
            tokio::fs::write(&path, bytes).await.context("writing an added file")?;
            self.storage.put_file(&key, &path, &row.declared_type).await?;
            self.storage.abort_upload(&key, &row.upload_id).await
        }
        .await;
        if let Err(err) = stored {
            // Nothing to keep: the reservation goes with the bytes.
            let _ = self.storage.delete(&key).await;
            let mut tx = self.db.begin().await?;
            repo::delete_tx(&mut tx, &row.id).await?;
            tx.commit().await?;
            return Err(err);
        }
        self.hand_to_processing(user, &row).await
    }

    async fn digest(&self, key: &str) -> Result<(u64, String)> {
        let mut body = self.storage.read(key, None).await?.body;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk =
                chunk.map_err(|e| Error::Unavailable(format!("media storage: cannot read back an upload: {e}")))?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok((size, hex::encode(hasher.finalize())))
    }

    /// Abandons an unfinished upload (the uploader cancelled it).
    pub async fn cancel_upload(&self, user: &User, id: &MediaId) -> Result<()> {
        let row = self.own_upload(user, id).await?;
        if row.state != MediaState::Uploading {
            return Err(Error::conflict(
                ErrorCode::UploadComplete,
                "This upload is complete; delete the file instead.",
            ));
        }
        self.abandon(&row).await
    }

    async fn abandon(&self, row: &MediaRow) -> Result<()> {
        self.storage.abort_upload(&model::original_key(&row.id), &row.upload_id).await?;
        let mut tx = self.db.begin().await?;
        repo::delete_tx(&mut tx, &row.id).await?;
        tx.commit().await
    }

    /// The expiry timer: an upload still unfinished is abandoned and its quota freed.
    pub async fn expire_upload(&self, id: &MediaId) -> Result<()> {
        match repo::find(&self.db, id).await? {
            Some(row) if row.state == MediaState::Uploading => self.abandon(&row).await,
            _ => Ok(()),
        }
    }

    // ---- reading ----

    pub async fn media(&self, user: Option<&User>, id: &MediaId) -> Result<MediaView> {
        let (row, access) = self.readable(user, id).await?;
        Ok(self.view(row, &access))
    }

    /// A legacy's media (its own and its stories') that the reader may see, oldest first;
    /// "not found" for a legacy the reader cannot see, as the legacy itself answers. The
    /// legacy's visibility is the stories capability's rule, asked through its service.
    pub async fn legacy_media(&self, stories: &Stories, user: Option<&User>, id: &LegacyId) -> Result<LegacyMedia> {
        let legacy = stories.legacy(user, id).await?;
        Ok((legacy, self.list(user, id, None).await?))
    }

    /// A story and its media that the reader may see, oldest first; "not found" for a
    /// story the reader cannot read.
    pub async fn story_media(&self, stories: &Stories, user: Option<&User>, id: &StoryId) -> Result<StoryMedia> {
        let story = stories.story(user, id).await?;
        let media = self.list(user, &story.legacy_id, Some(id)).await?;
        Ok((story, media))
    }

    /// What a legacy (or one of its stories) holds that this reader may see, oldest first.
    pub async fn list(
        &self,
        user: Option<&User>,
        legacy_id: &LegacyId,
        story_id: Option<&StoryId>,
    ) -> Result<Vec<MediaView>> {
        let rows = repo::list(&self.db, legacy_id, story_id, LIST_MAX).await?;
        // Every row is of this legacy: the reader's role and each story are read once.
        let role = match user {
            Some(user) => self.stories().role_in(legacy_id, user).await?,
            None => None,
        };
        let mut stories: HashMap<StoryId, Option<StoryRow>> = HashMap::new();
        let mut views = Vec::new();
        for row in rows {
            if row.state == MediaState::Uploading {
                continue;
            }
            if let Some(id) = &row.story_id {
                if !stories.contains_key(id) {
                    stories.insert(id.clone(), self.stories().story_row(id).await?);
                }
            }
            let story = row.story_id.as_ref().and_then(|id| stories.get(id)).and_then(Option::as_ref);
            let access = access_of(user, &row, role, story);
            if access.read {
                views.push(self.view(row, &access));
            }
        }
        Ok(views)
    }

    fn signed_url(&self, id: &MediaId, variant: &str, expires: i64) -> String {
        format!("/media/{id}/{variant}?{}", self.signer.query(&Grant::Media { id, variant }, expires))
    }

    fn view(&self, row: MediaRow, access: &Access) -> MediaView {
        let expires = self.signer.expiry(now_secs());
        let variants = row
            .variants()
            .into_iter()
            .filter(|v| v.name != ORIGINAL)
            .map(|v| VariantView {
                url: self.signed_url(&row.id, &v.name, expires),
                name: v.name,
                content_type: v.content_type,
                width: v.width,
                height: v.height,
                bytes: v.bytes,
            })
            .collect();
        MediaView {
            original_url: self.signed_url(&row.id, ORIGINAL, expires),
            id: row.id.clone(),
            legacy_id: row.legacy_id.clone(),
            story_id: row.story_id.clone(),
            uploader_id: row.uploader_id.clone(),
            file_name: row.file_name.clone(),
            size: row.size(),
            state: row.state,
            kind: row.kind,
            content_type: row.detected_type.clone(),
            scan: row.scan,
            caption: row.caption.clone(),
            meta: row.meta(),
            variants,
            failure: row.failure.clone(),
            can_edit: access.edit,
            created_at: row.created_at,
            version: row.version,
        }
    }

    /// Opens a file for sending: with a valid signature, or for a reader with
    /// permission. Anything else is "not found", whether or not the item exists.
    pub async fn open(
        &self,
        user: Option<&User>,
        id: &MediaId,
        variant: &str,
        signature: Option<Signature<'_>>,
    ) -> Result<Served> {
        let valid_name = !variant.is_empty()
            && variant.len() <= 32
            && variant.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_name {
            return Err(Error::NotFound { what: "media file" });
        }
        let row = match signature {
            Some(signature) => {
                self.signer.verify(&Grant::Media { id, variant }, signature.expires, signature.sig, now_secs())?;
                repo::find(&self.db, id).await?.ok_or(Error::NotFound { what: "media file" })?
            }
            None => self.readable(user, id).await.map_err(|_| Error::NotFound { what: "media file" })?.0,
        };
        let state = row.state;
        if matches!(state, MediaState::Uploading | MediaState::Rejected) {
            return Err(Error::NotFound { what: "media file" });
        }
        let variants = row.variants();
        let (key, content_type, total) = if variant == ORIGINAL {
            match variants.iter().find(|v| v.name == ORIGINAL) {
                // A copy without location data.
                Some(v) => (model::variant_key(id, ORIGINAL), v.content_type.clone(), v.bytes),
                None if state == MediaState::Ready => (
                    model::original_key(id),
                    row.detected_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
                    row.size(),
                ),
                // Not yet looked at: the declared type is not trusted, and the file may
                // still carry a location, so only its uploader gets it, as a download.
                None if user.is_some_and(|u| u.id == row.uploader_id) => {
                    (model::original_key(id), "application/octet-stream".to_string(), row.size())
                }
                None => return Err(Error::NotFound { what: "media file" }),
            }
        } else {
            let v: &Variant =
                variants.iter().find(|v| v.name == variant).ok_or(Error::NotFound { what: "media file" })?;
            (model::variant_key(id, variant), v.content_type.clone(), v.bytes)
        };
        Ok(Served {
            key,
            inline: is_inline_type(&content_type),
            content_type,
            file_name: served_file_name(&row.file_name, variant),
            total,
        })
    }

    /// The bytes of an opened file, or of `range` of them.
    pub async fn read(&self, served: &Served, range: Option<ByteRange>) -> Result<Object> {
        self.storage.read(&served.key, range).await
    }

    // ---- changes ----

    pub async fn set_caption(
        &self,
        user: &User,
        id: &MediaId,
        caption: &str,
        version: Option<i64>,
    ) -> Result<MediaView> {
        let row = self.editable(user, id).await?;
        let mut problems = Problems::default();
        let caption = validate::multiline(&mut problems, "caption", caption, CAPTION_MAX_CHARS);
        problems.into_result()?;
        let caption = caption.as_str();
        let mut tx = self.db.begin().await?;
        if !repo::set_caption_tx(&mut tx, id, caption, version.unwrap_or(row.version)).await? {
            return Err(Error::conflict(
                ErrorCode::MediaVersionConflict,
                "This item was changed meanwhile; reload and try again.",
            ));
        }
        let captioned = MediaCaptioned {
            media_id: id.clone(),
            legacy_id: row.legacy_id.clone(),
            story_id: row.story_id.clone(),
            caption: caption.to_string(),
        };
        events::append(&mut tx, Event::of(id, Some(&user.id), captioned)).await?;
        tx.commit().await?;
        self.media(Some(user), id).await
    }

    /// Sends a failed item through processing again.
    pub async fn retry(&self, user: &User, id: &MediaId) -> Result<MediaView> {
        let row = self.editable(user, id).await?;
        let mut tx = self.db.begin().await?;
        // Processing that has not finished in an hour has stopped (a transcode's own
        // limit is separate and reported as a failure).
        let stuck_before = now_millis() - STUCK_AFTER_MS;
        if !repo::requeue_tx(&mut tx, id, stuck_before).await? {
            return Err(Error::Conflict(
                format!(
                    "Only a failed item, or one stuck in processing for an hour, can be retried; this one is {}.",
                    row.state
                )
                .into(),
            ));
        }
        let retry = MediaRetryRequested { media_id: id.clone(), legacy_id: row.legacy_id.clone() };
        events::append(&mut tx, Event::of(id, Some(&user.id), retry)).await?;
        tx.commit().await?;
        self.media(Some(user), id).await
    }

    /// Deletes the item. Its stored files are removed after the commit by the
    /// `media-files` consumer of the `MediaDeleted` event ([`MediaFiles`]), the one path
    /// that removes a deleted item's files, whichever way it was deleted.
    pub async fn delete(&self, user: &User, id: &MediaId) -> Result<()> {
        self.editable(user, id).await?;
        let mut tx = self.db.begin().await?;
        delete_tx(&mut tx, id, &user.id).await?;
        tx.commit().await
    }

    /// Removes every stored file of a deleted item: an unfinished upload's parts, the
    /// variants and the original. Files already gone are fine (a redelivered event).
    pub async fn remove_files(&self, id: &MediaId, files: &StoredFiles) -> Result<()> {
        if let Some(upload_id) = &files.upload_id {
            self.storage.abort_upload(&model::original_key(id), upload_id).await?;
        }
        for name in &files.variants {
            self.storage.delete(&model::variant_key(id, name)).await?;
        }
        self.storage.delete(&model::original_key(id)).await
    }

    /// The processing pipeline's view of an item (no permission check: it works for all).
    pub async fn row(&self, id: &MediaId) -> Result<Option<MediaRow>> {
        repo::find(&self.db, id).await
    }

    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// Deletes the media of a story in the transaction that deletes the story, with a
/// `MediaDeleted` event each (which removes their files after the commit). A story's
/// photos and recordings go with it: left behind, they would become the legacy's and
/// every member could see what only the story's readers could. Returns how many.
pub async fn delete_story_media_tx(tx: &mut Tx, story_id: &StoryId, actor_id: &UserId) -> Result<usize> {
    let rows = repo::delete_of_story_tx(tx, story_id).await?;
    for row in &rows {
        append_deleted(tx, row, actor_id).await?;
    }
    Ok(rows.len())
}

/// The stored files of a deleted item, for its `MediaDeleted` event: the row is gone by
/// the time they are removed.
fn stored_files(row: &MediaRow) -> StoredFiles {
    StoredFiles {
        variants: row.variants().into_iter().map(|v| v.name).collect(),
        upload_id: (row.state == MediaState::Uploading).then(|| row.upload_id.clone()),
    }
}

async fn append_deleted(tx: &mut Tx, row: &MediaRow, actor_id: &str) -> Result<String> {
    let deleted = MediaDeleted {
        media_id: row.id.clone(),
        legacy_id: row.legacy_id.clone(),
        story_id: row.story_id.clone(),
        files: stored_files(row),
    };
    events::append(tx, Event::of(&row.id, Some(actor_id), deleted)).await
}

/// The consumer that removes a deleted item's files (`MediaDeleted`): after the commit,
/// so a failed delete never leaves a row without its file, and retried by the event bus
/// when the storage cannot be reached, so the bytes of a deleted photo do not linger.
pub fn files_consumer(media: Arc<Media>) -> impl events::Consumer {
    // Events from before the files were listed name none: the original still goes.
    let remove = |media: Arc<Media>, deleted: MediaDeleted| async move {
        media.remove_files(&deleted.media_id, &deleted.files).await
    };
    events::OnEvent::new(FILES_CONSUMER, &[EventType::MediaDeleted], media, remove)
}

/// Its name: the key of its progress records.
pub const FILES_CONSUMER: &str = "media-files";

/// What the reader may do with an item, given their role in its legacy and its story
/// (`None` when it has none, or the story no longer exists). An item without a story is
/// the legacy's: its members read it. One whose story is gone (a row left behind by a
/// path that forgot it) never falls back to that: only its uploader and the legacy's
/// owners and editors read it, so a photo of a private story never widens to every
/// member by accident. Signed out, only media of a public, published story can be read.
fn access_of(user: Option<&User>, row: &MediaRow, role: Option<LegacyRole>, story: Option<&StoryRow>) -> Access {
    let uploader = user.is_some_and(|u| u.id == row.uploader_id);
    let reader =
        Reader { user_id: user.map(|u| u.id.as_str()), is_admin: user.is_some_and(|u| u.role() == Role::Admin), role };
    let manages = matches!(role, Some(LegacyRole::Owner | LegacyRole::Editor));
    let read = uploader
        || match (&row.story_id, story) {
            (None, _) => role.is_some(),
            (Some(_), Some(story)) => permissions::can_read(reader, story_facts(story)),
            (Some(_), None) => manages,
        };
    Access { read, edit: read && (uploader || manages) }
}

/// Deletes the item with its `MediaDeleted` event (its files go when the event is
/// handled), in the caller's transaction (a moderator's resolution deletes it with the
/// report). False when it was gone already.
pub(crate) async fn delete_tx(tx: &mut Tx, id: &MediaId, actor: &UserId) -> Result<bool> {
    // The row as deleted (not as read before): processing may have added variants since.
    match repo::delete_returning_tx(tx, id).await? {
        Some(row) => {
            append_deleted(tx, &row, actor).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Whether the reader may see the item (the live streams' check, with the rows they
/// read once for every stream).
pub(crate) fn can_read_media(user: &User, row: &MediaRow, role: Option<LegacyRole>, story: Option<&StoryRow>) -> bool {
    access_of(Some(user), row, role, story).read
}

/// The name without any folder part a browser may have sent, checked for length.
fn clean_file_name(problems: &mut Problems, raw: &str) -> String {
    let raw = crate::text::normalize(raw);
    let name = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if name.is_empty() {
        problems.add("file_name", "is required");
    } else if name.chars().count() > FILE_NAME_MAX_CHARS {
        problems.add("file_name", format!("must be at most {FILE_NAME_MAX_CHARS} characters"));
    } else if name.chars().any(char::is_control) {
        problems.add("file_name", "must not contain control characters");
    } else if name.chars().any(types::text::is_bidi_control_or_invisible) {
        // `\u{202E}gnp.exe` would be offered for download as `exe.png`. Refused rather
        // than silently stripped, so the uploader is told which name was not taken.
        problems.add(
            "file_name",
            "must not contain invisible characters (text-direction controls or zero-width characters); \
             rename the file and try again",
        );
    }
    name.to_string()
}

/// Types a browser may show in the page. Anything else is sent as a download.
fn is_inline_type(content_type: &str) -> bool {
    let (top, sub) = content_type.split_once('/').unwrap_or_default();
    matches!(top, "image" | "audio" | "video") && !sub.contains("svg")
}

/// `photo.jpg` for the original, `photo-thumb-320.webp`-like names for variants.
fn served_file_name(file_name: &str, variant: &str) -> String {
    if variant == ORIGINAL {
        return file_name.to_string();
    }
    let stem = file_name.rsplit_once('.').map(|(s, _)| s).unwrap_or(file_name);
    format!("{stem}-{variant}")
}

/// Sizes as people read them: 1.5 MB, 20 GB.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The payload of an [`UPLOAD_EXPIRY_TIMER`]: the upload to drop if still unfinished.
#[derive(serde::Serialize, serde::Deserialize)]
struct UploadExpiry {
    media_id: MediaId,
}

/// Fires [`UPLOAD_EXPIRY_TIMER`].
pub struct UploadExpiryTimer(pub Arc<Media>);

#[async_trait::async_trait]
impl events::TimerHandler for UploadExpiryTimer {
    fn kind(&self) -> &str {
        UPLOAD_EXPIRY_TIMER
    }

    async fn fire(&self, payload: &str) -> Result<()> {
        let expiry: UploadExpiry = events::timers::read_payload(UPLOAD_EXPIRY_TIMER, payload)?;
        self.0.expire_upload(&expiry.media_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use types::ScanStatus;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(1_500_000), "1.5 MB");
        assert_eq!(human_bytes(4 * 1024 * 1024 * 1024), "4.3 GB");
    }

    #[test]
    fn only_media_types_are_shown_inline() {
        assert!(is_inline_type("image/jpeg") && is_inline_type("video/mp4") && is_inline_type("audio/mpeg"));
        assert!(
            !is_inline_type("image/svg+xml")
                && !is_inline_type("text/html")
                && !is_inline_type("application/octet-stream")
        );
    }

    fn user(id: &str) -> User {
        User {
            id: id.into(),
            email: format!("{id}@example.org"),
            display_name: id.into(),
            role: crate::identity::model::RoleColumn(Role::Member),
            disabled: false,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn item(story_id: Option<&str>) -> MediaRow {
        let file = model::NewFile {
            file_name: "a.png".into(),
            declared_type: "image/png".into(),
            size_bytes: 1,
            sha256: String::new(),
        };
        MediaRow {
            story_id: story_id.map(StoryId::from),
            state: MediaState::Ready,
            scan: ScanStatus::Clean,
            ..MediaRow::uploading("m".into(), "L".into(), "uploader".into(), file, 0)
        }
    }

    #[test]
    fn an_item_whose_story_is_gone_is_not_widened_to_every_member() {
        let (reader, uploader) = (user("reader"), user("uploader"));
        let gone = item(Some("deleted-story"));
        for role in [LegacyRole::Viewer, LegacyRole::Contributor] {
            assert!(!access_of(Some(&reader), &gone, Some(role), None).read, "{role}");
        }
        for role in [LegacyRole::Editor, LegacyRole::Owner] {
            assert!(access_of(Some(&reader), &gone, Some(role), None).read, "{role}");
        }
        assert!(access_of(Some(&uploader), &gone, None, None).read);
        assert!(!access_of(None, &gone, None, None).read);
        // The legacy's own items (no story) are every member's.
        assert!(access_of(Some(&reader), &item(None), Some(LegacyRole::Viewer), None).read);
    }

    #[test]
    fn file_names_lose_their_folders() {
        let mut problems = Problems::default();
        assert_eq!(clean_file_name(&mut problems, "C:\\Users\\me\\photo.jpg"), "photo.jpg");
        assert_eq!(clean_file_name(&mut problems, "../../etc/passwd"), "passwd");
        assert!(problems.0.is_empty());
        clean_file_name(&mut problems, "  ");
        clean_file_name(&mut problems, "a\u{0}b");
        assert_eq!(problems.0.len(), 2);
    }
}
