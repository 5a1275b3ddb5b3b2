//! The processing pipeline: an event consumer that turns an uploaded file into something
//! safe to show. For each `MediaUploaded` (or `MediaRetryRequested`) it claims the item,
//! copies the original into a work folder, and runs the steps:
//!
//! 1. virus scan through clamd when `clamd_address` is set (else "not scanned"); first,
//!    because a refused file's content must not matter to what comes after;
//! 2. content sniffing: the type by magic bytes must be allowed and of the declared
//!    family (a program renamed `.jpg` is refused; HEIC and camera RAW are refused with
//!    advice);
//! 3. photos: EXIF date and camera, dimensions, a served copy without location data,
//!    WebP thumbnails; recordings and videos: ffprobe, a poster frame with thumbnails
//!    and a web transcode through ffmpeg, or, without ffmpeg, the original as uploaded
//!    with a note saying so;
//!
//! then stores the derived files and records the outcome together with a
//! `MediaProcessed` or `MediaFailed` event in one transaction.
//!
//! Problems with the file itself end the item, and the event, at once: `rejected` for
//! content that is not allowed (the original is deleted, it must never be served),
//! `failed` for files that could not be processed (retryable from the UI). Problems of
//! this server (storage or clamd unreachable) return an error so the event bus retries
//! with backoff; the item stays `processing`, which a retry claims again.

pub mod ffmpeg;
pub mod photo;
pub mod scan;
pub mod sniff;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tracing::Instrument;
use types::events::{Envelope, EventType, MediaProcessingEnded};
use types::{MediaKind, MediaMeta, MediaState, ScanStatus};

use crate::config::Config;
use crate::error::Context;
use crate::events::{self, Consumer, Event};
use crate::media::model::{self, MediaRow, Variant, ORIGINAL};
use crate::media::service::human_bytes;
use crate::media::{repo, Media};

pub use ffmpeg::{FfError, Ffmpeg};
pub use photo::{thumbnails_for_file, PhotoError, Rendered};
pub use scan::ClamdAddress;

/// The consumer's name: the key of its progress records.
pub const CONSUMER_NAME: &str = "media-pipeline";
/// Time limit of a virus scan (the whole file streamed to clamd and its verdict).
pub const SCAN_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Time limit of a photo's decoding, location stripping and thumbnails.
pub const PHOTO_TIMEOUT: Duration = Duration::from_secs(120);
/// Widest poster frame.
const POSTER_MAX_WIDTH: u32 = 1280;

/// How the pipeline runs, from config.
#[derive(Debug, Clone)]
pub struct Settings {
    /// clamd to scan with; `None`: files are marked "not scanned".
    pub clamd: Option<ClamdAddress>,
    /// The ffmpeg program; `None` when turned off (`ffmpeg = "off"`).
    pub ffmpeg: Option<String>,
    /// Serve photos without their location.
    pub strip_gps: bool,
    /// Where originals are copied for processing (a temporary folder per item).
    pub work_dir: PathBuf,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        let ffmpeg = config.ffmpeg.trim();
        Settings {
            clamd: config.clamd_address.as_deref().and_then(ClamdAddress::parse),
            ffmpeg: (!ffmpeg.eq_ignore_ascii_case("off")).then(|| ffmpeg.to_string()),
            strip_gps: config.media_strip_gps,
            // In the data folder rather than /tmp: videos can be large, and /tmp is
            // often small (a RAM disk, or a size-limited volume on Kubernetes).
            work_dir: config.data_dir.join("work").join("media"),
        }
    }
}

/// The pipeline, as an event consumer.
pub struct MediaPipeline {
    media: Arc<Media>,
    settings: Settings,
}

/// What the steps found out so far (recorded whatever the outcome).
#[derive(Debug, Default)]
struct Findings {
    kind: Option<MediaKind>,
    detected: Option<&'static str>,
    scan: Option<ScanStatus>,
    meta: MediaMeta,
    notes: Vec<String>,
    /// Derived files in the work folder, with what to record of each.
    files: Vec<(Variant, PathBuf)>,
}

/// Why processing stopped.
#[derive(Debug)]
enum Stop {
    /// The content is not allowed: `rejected`, original deleted.
    Reject(String),
    /// The file could not be processed: `failed`, retryable.
    Fail(String),
    /// A problem of this server: the event is retried.
    Transient(String),
}

impl MediaPipeline {
    pub fn new(media: Arc<Media>, settings: Settings) -> MediaPipeline {
        remove_stale_work(&settings.work_dir);
        MediaPipeline { media, settings }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Processes one item. `Ok` when the item is done with (processed now, earlier, or
    /// gone); `Err` when it should be tried again later.
    pub async fn process(&self, id: &str) -> crate::Result<()> {
        let id = &types::MediaId::from(id);
        let db = self.media.db();
        let Some(row) = repo::find(db, id).await? else { return Ok(()) };
        if !matches!(row.state, MediaState::Pending | MediaState::Processing) {
            return Ok(());
        }
        if !repo::claim_for_processing(db, id).await? {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let mut found = Findings::default();
        let result = async {
            std::fs::create_dir_all(&self.settings.work_dir)
                .map_err(|e| Stop::Transient(format!("cannot create {}: {e}", self.settings.work_dir.display())))?;
            let work = tempfile::Builder::new()
                .prefix("media-")
                .tempdir_in(&self.settings.work_dir)
                .map_err(|e| Stop::Transient(format!("cannot create a work folder: {e}")))?;
            self.steps(&row, work.path(), &mut found).await?;
            self.store(&row, &found).await
        }
        .await;
        let (state, failure) = match result {
            Ok(()) => (MediaState::Ready, None),
            Err(Stop::Reject(why)) => (MediaState::Rejected, Some(sentence(&why))),
            Err(Stop::Fail(why)) => (MediaState::Failed, Some(sentence(&why))),
            Err(Stop::Transient(why)) => {
                tracing::warn!(media_id = %id, error = %why, "media processing will be retried");
                // A problem of this server (storage or clamd unreachable, the work folder):
                // the bus tries again with backoff.
                return Err(crate::Error::Unavailable(why));
            }
        };
        self.finish(&row, state, failure.as_deref(), &found).await?;
        if state == MediaState::Rejected {
            // It must never be served; the row stays to tell the uploader why.
            if let Err(err) = self.media.storage().delete(&model::original_key(id)).await {
                tracing::warn!(media_id = %id, error = %err, "cannot delete a rejected original");
            }
        }
        metrics::counter!("heirloom_media_processed_total", "state" => state.as_str()).increment(1);
        tracing::info!(
            media_id = %id,
            state = state.as_str(),
            failure = failure.as_deref().unwrap_or(""),
            took_ms = started.elapsed().as_millis() as u64,
            "media processed"
        );
        Ok(())
    }

    async fn steps(&self, row: &MediaRow, work: &Path, found: &mut Findings) -> Result<(), Stop> {
        let original = work.join("original");
        self.media
            .storage()
            .fetch_to_file(&model::original_key(&row.id), &original)
            .await
            .map_err(|e| Stop::Transient(e.to_string()))?;

        // 1. Virus scan.
        found.scan = Some(ScanStatus::NotScanned);
        if let Some(address) = &self.settings.clamd {
            match scan::scan_file(address, &original, SCAN_TIMEOUT).await.map_err(Stop::Transient)? {
                scan::Verdict::Clean => found.scan = Some(ScanStatus::Clean),
                scan::Verdict::Infected(name) => {
                    found.scan = Some(ScanStatus::Infected);
                    return Err(Stop::Reject(format!(
                        "the virus scanner found {name} in this file, so it was removed"
                    )));
                }
                scan::Verdict::TooLarge => found.notes.push(
                    "This file is larger than the virus scanner accepts (clamd's StreamMaxLength), so it was not \
                     scanned."
                        .into(),
                ),
            }
        }

        // 2. What it is, by content.
        let head = read_head(&original).await.map_err(Stop::Transient)?;
        let sniffed = sniff::check(&head, &row.declared_type, &self.media.limits().allowed_types)
            .map_err(|refusal| Stop::Reject(refusal.0))?;
        found.detected = Some(sniffed.content_type);
        found.kind = Some(match sniffed.family {
            sniff::Family::Image => MediaKind::Image,
            sniff::Family::Audio => MediaKind::Audio,
            sniff::Family::Video => MediaKind::Video,
        });

        // 3. Metadata and derived files.
        match found.kind {
            Some(MediaKind::Image) => self.photo(row, &original, work, sniffed.content_type, found).await,
            _ => self.recording_or_video(&original, work, sniffed.content_type, found).await,
        }
    }

    async fn photo(
        &self,
        row: &MediaRow,
        original: &Path,
        work: &Path,
        content_type: &'static str,
        found: &mut Findings,
    ) -> Result<(), Stop> {
        if row.size() > photo::MAX_PHOTO_BYTES {
            return Err(Stop::Fail(format!(
                "this photo is {}; the largest photo this server processes is {}",
                human_bytes(row.size()),
                human_bytes(photo::MAX_PHOTO_BYTES)
            )));
        }
        let bytes =
            tokio::fs::read(original).await.map_err(|e| Stop::Transient(format!("cannot read the work copy: {e}")))?;
        let (strip, out_dir) = (self.settings.strip_gps, work.to_path_buf());
        let processed = blocking(PHOTO_TIMEOUT, "photo", move || photo::process(&bytes, content_type, strip, &out_dir))
            .await?
            .map_err(photo_stop)?;
        found.meta.width = Some(processed.width);
        found.meta.height = Some(processed.height);
        found.meta.taken_at = processed.exif.taken_at;
        found.meta.camera = processed.exif.camera;
        found.meta.had_gps = processed.exif.had_gps;
        if let Some(stripped) = processed.stripped {
            let path = work.join("original-without-location");
            tokio::fs::write(&path, &stripped).await.map_err(|e| Stop::Transient(format!("cannot write: {e}")))?;
            found.files.push((
                Variant {
                    name: ORIGINAL.into(),
                    content_type: content_type.into(),
                    width: Some(processed.width),
                    height: Some(processed.height),
                    bytes: stripped.len() as u64,
                },
                path,
            ));
        }
        found.files.extend(processed.renders.into_iter().map(webp_variant));
        Ok(())
    }

    async fn recording_or_video(
        &self,
        original: &Path,
        work: &Path,
        content_type: &'static str,
        found: &mut Findings,
    ) -> Result<(), Stop> {
        let what = if found.kind == Some(MediaKind::Video) { "video" } else { "recording" };
        let Some(program) = &self.settings.ffmpeg else {
            found.notes.push(format!(
                "ffmpeg is turned off on this server, so this {what} is served as uploaded and may not play in every \
                 browser."
            ));
            return Ok(());
        };
        let ff = Ffmpeg::new(program);
        let missing = || {
            format!(
                "ffmpeg is not installed on this server, so this {what} is served as uploaded and may not play in every \
                 browser."
            )
        };
        if !ff.available().await {
            found.notes.push(missing());
            return Ok(());
        }
        // `step`: what ffmpeg was doing, as in "could not be read" and "took too long to read".
        let ff_stop = |(verb, done): (&str, &str), err: FfError| match err {
            FfError::Missing => Stop::Transient(format!("ffmpeg disappeared while it was to {verb} a {what}")),
            FfError::Failed(why) => Stop::Fail(format!("this {what} could not be {done}: {why}")),
            FfError::TimedOut(limit) => Stop::Fail(format!(
                "this {what} took longer than {} minutes to {verb}, so it was stopped",
                limit.as_secs().div_ceil(60)
            )),
        };
        const READ: (&str, &str) = ("read", "read");
        const CONVERT: (&str, &str) = ("convert", "converted");
        let probe = ff.probe(original, content_type).await.map_err(|e| ff_stop(READ, e))?;
        found.meta.duration_secs = probe.duration_secs.map(|d| (d * 1000.0).round() / 1000.0);
        // A container declared as a video may hold only sound, and the other way round.
        if found.kind == Some(MediaKind::Video) && probe.video.is_none() && probe.has_audio {
            found.kind = Some(MediaKind::Audio);
        }
        match found.kind {
            Some(MediaKind::Video) => {
                let Some((width, height)) = probe.video else {
                    return Err(Stop::Fail("this video holds no picture that can be played".into()));
                };
                found.meta.width = Some(width);
                found.meta.height = Some(height);
                // The poster: a frame a second in (the first is often black), or the first.
                let frame = work.join("poster.png");
                let at = if probe.duration_secs.unwrap_or(0.0) >= 2.0 { 1.0 } else { 0.0 };
                ff.poster(original, content_type, at, &frame).await.map_err(|e| ff_stop(READ, e))?;
                if at > 0.0 && std::fs::metadata(&frame).map_or(true, |m| m.len() == 0) {
                    ff.poster(original, content_type, 0.0, &frame).await.map_err(|e| ff_stop(READ, e))?;
                }
                let out_dir = work.to_path_buf();
                let renders = blocking(PHOTO_TIMEOUT, "poster", move || {
                    let bytes = std::fs::read(&frame)
                        .map_err(|e| PhotoError::Undecodable(format!("ffmpeg wrote no poster frame ({e})")))?;
                    let image = photo::decode(&bytes, Some(image::ImageFormat::Png))?;
                    let mut targets = photo::thumbnail_targets(image.width());
                    targets.push(photo::Target { name: "poster".into(), width: POSTER_MAX_WIDTH });
                    photo::render(&image, &targets, &out_dir)
                })
                .await?
                .map_err(photo_stop)?;
                found.files.extend(renders.into_iter().map(webp_variant));
                let web = work.join("web.mp4");
                let limit = ffmpeg::transcode_timeout(probe.duration_secs);
                ff.web_video(original, content_type, probe.has_audio, &web, limit)
                    .await
                    .map_err(|e| ff_stop(CONVERT, e))?;
                let size = ff.probe(&web, "video/mp4").await.ok().and_then(|p| p.video);
                found.files.push(file_variant("web", "video/mp4", &web, size)?);
            }
            _ => {
                if !probe.has_audio {
                    return Err(Stop::Fail("this recording holds no sound that can be played".into()));
                }
                let web = work.join("web.m4a");
                let limit = ffmpeg::transcode_timeout(probe.duration_secs);
                ff.web_audio(original, content_type, &web, limit).await.map_err(|e| ff_stop(CONVERT, e))?;
                found.files.push(file_variant("web", "audio/mp4", &web, None)?);
            }
        }
        found.meta.transcoded = true;
        Ok(())
    }

    /// Stores the derived files (before the outcome is recorded, so a recorded variant
    /// always exists).
    async fn store(&self, row: &MediaRow, found: &Findings) -> Result<(), Stop> {
        for (variant, path) in &found.files {
            self.media
                .storage()
                .put_file(&model::variant_key(&row.id, &variant.name), path, &variant.content_type)
                .await
                .map_err(|e| Stop::Transient(e.to_string()))?;
        }
        Ok(())
    }

    /// Records the outcome and its event in one transaction.
    async fn finish(
        &self,
        row: &MediaRow,
        state: MediaState,
        failure: Option<&str>,
        found: &Findings,
    ) -> crate::Result<()> {
        let mut meta = found.meta.clone();
        if !found.notes.is_empty() {
            meta.note = Some(found.notes.join(" "));
        }
        let meta = serde_json::to_string(&meta).context("encoding media metadata")?;
        let variants: Vec<&Variant> =
            if state == MediaState::Ready { found.files.iter().map(|(v, _)| v).collect() } else { Vec::new() };
        let variants = serde_json::to_string(&variants).context("encoding media variants")?;
        let scan = found.scan.unwrap_or(ScanStatus::Pending);
        let kind = found.kind;
        let outcome = repo::Outcome {
            state,
            kind,
            detected_type: found.detected,
            scan,
            meta: &meta,
            variants: &variants,
            failure,
        };
        let db = self.media.db();
        let recorded = async {
            let mut tx = db.begin().await?;
            if !repo::record_outcome_tx(&mut tx, &row.id, &outcome).await? {
                // Finished meanwhile by another delivery, or deleted: nothing to record.
                return Ok(false);
            }
            let ended = MediaProcessingEnded {
                media_id: row.id.clone(),
                legacy_id: row.legacy_id.clone(),
                story_id: row.story_id.clone(),
                state,
                kind: found.kind,
                scan,
                failure: failure.map(str::to_string),
            };
            events::append(&mut tx, Event::of(&row.id, None, ended)).await?;
            tx.commit().await?;
            Ok::<_, crate::Error>(true)
        }
        .await?;
        if !recorded {
            tracing::info!(media_id = %row.id, "media outcome not recorded: the item changed meanwhile");
            if matches!(repo::find(db, &row.id).await, Ok(None)) {
                // Deleted while it was processed: the files just stored belong to no one.
                for (variant, _) in &found.files {
                    let _ = self.media.storage().delete(&model::variant_key(&row.id, &variant.name)).await;
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Consumer for MediaPipeline {
    fn name(&self) -> &str {
        CONSUMER_NAME
    }

    fn wants(&self, event_type: &EventType) -> bool {
        matches!(event_type, EventType::MediaUploaded | EventType::MediaRetryRequested)
    }

    /// A transcode may take minutes: its own lane keeps search and webhooks flowing.
    fn own_lane(&self) -> Option<&'static [EventType]> {
        Some(&[EventType::MediaUploaded, EventType::MediaRetryRequested])
    }

    async fn handle(&self, event: &Envelope) -> crate::Result<()> {
        if event.aggregate_type != "media" {
            return Ok(());
        }
        let id = event.payload["media_id"].as_str().unwrap_or(&event.aggregate_id).to_string();
        self.process(&id).instrument(tracing::info_span!("media.process", media_id = %id)).await
    }
}

/// Runs CPU-heavy work on the blocking pool, giving up on it after `limit` (the thread
/// finishes on its own; the decoding limits keep that bounded).
async fn blocking<T: Send + 'static>(
    limit: Duration,
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Stop> {
    match tokio::time::timeout(limit, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(join)) => {
            tracing::error!(error = %join, what, "media processing panicked");
            Err(Stop::Fail(format!("this {what} could not be processed (the decoder stopped unexpectedly)")))
        }
        Err(_) => Err(Stop::Fail(format!("processing this {what} took longer than {} seconds", limit.as_secs()))),
    }
}

fn photo_stop(err: PhotoError) -> Stop {
    match err {
        PhotoError::TooLarge(why) | PhotoError::Undecodable(why) => Stop::Fail(why),
        PhotoError::Io(why) => Stop::Transient(why),
    }
}

fn webp_variant(r: Rendered) -> (Variant, PathBuf) {
    let variant = Variant {
        name: r.name,
        content_type: "image/webp".into(),
        width: Some(r.width),
        height: Some(r.height),
        bytes: r.bytes,
    };
    (variant, r.path)
}

fn file_variant(
    name: &str,
    content_type: &str,
    path: &Path,
    size: Option<(u32, u32)>,
) -> Result<(Variant, PathBuf), Stop> {
    let bytes = std::fs::metadata(path).map_err(|e| Stop::Fail(format!("ffmpeg wrote no {name} file ({e})")))?.len();
    if bytes == 0 {
        return Err(Stop::Fail(format!("ffmpeg wrote an empty {name} file")));
    }
    let variant = Variant {
        name: name.into(),
        content_type: content_type.into(),
        width: size.map(|s| s.0),
        height: size.map(|s| s.1),
        bytes,
    };
    Ok((variant, path.to_path_buf()))
}

async fn read_head(path: &Path) -> Result<Vec<u8>, String> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path).await.map_err(|e| format!("cannot open the work copy: {e}"))?;
    let mut head = Vec::with_capacity(sniff::HEAD_LEN);
    file.take(sniff::HEAD_LEN as u64)
        .read_to_end(&mut head)
        .await
        .map_err(|e| format!("cannot read the work copy: {e}"))?;
    Ok(head)
}

/// "this file is …" → "This file is ….".
fn sentence(text: &str) -> String {
    let mut chars = text.trim().chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Work folders left by a process that stopped mid-way (older than a day).
fn remove_stale_work(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let day = Duration::from_secs(24 * 3600);
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > day);
        if old && entry.file_name().to_string_lossy().starts_with("media-") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_read_as_sentences() {
        assert_eq!(sentence("this file is a text file, not a photo"), "This file is a text file, not a photo.");
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence(""), "");
    }
}
