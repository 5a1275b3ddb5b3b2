//! Media DTOs: asking for an upload, resuming it, and what a reader sees of a file.

use serde::{Deserialize, Serialize};

use crate::ids::{LegacyId, MediaId, StoryId, UserId};

string_enum!(
    /// Where a file is: being uploaded, waiting for or in processing, done, or given up on.
    /// `rejected` is final (the content is not allowed); `failed` can be retried.
    MediaState {
        Uploading => "uploading",
        Pending => "pending",
        Processing => "processing",
        Ready => "ready",
        Failed => "failed",
        Rejected => "rejected",
    }
);

string_enum!(
    /// What a file turned out to be, by its content (not its name or declared type).
    MediaKind { Image => "image", Audio => "audio", Video => "video" }
);

string_enum!(
    /// The virus scan's verdict; `not_scanned` when no scanner is configured.
    ScanStatus { Pending => "pending", Clean => "clean", NotScanned => "not_scanned", Infected => "infected" }
);

/// A request to upload one file into a legacy (and, optionally, onto one of its stories).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadRequest {
    pub legacy_id: LegacyId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story_id: Option<StoryId>,
    pub file_name: String,
    /// Bytes.
    pub size: u64,
    /// The browser's idea of the type (`image/jpeg`); checked against the content later.
    pub content_type: String,
    /// Lowercase hex SHA-256 of the whole file, checked when the upload completes.
    pub sha256: String,
}

/// Where to send one part: `PUT` the bytes of `[offset, offset + size)` to `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartTarget {
    pub number: u32,
    pub offset: u64,
    pub size: u64,
    pub url: String,
}

/// An upload in progress: the parts still to send (with fresh signed URLs) and those done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadTicket {
    pub media_id: MediaId,
    pub state: MediaState,
    pub size: u64,
    pub part_size: u64,
    /// Part numbers already stored; a resumed upload skips them.
    pub parts_done: Vec<u32>,
    pub parts: Vec<PartTarget>,
    /// Unix ms after which the part URLs stop working (ask again for fresh ones).
    pub urls_expire_at: i64,
}

/// One derived file of a media item (a thumbnail size, a poster frame, a transcode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VariantView {
    pub name: String,
    pub content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    pub bytes: u64,
    /// A signed, expiring URL for this reader.
    pub url: String,
}

/// What is known about a file's content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// When the photo was taken, as the camera wrote it (EXIF DateTimeOriginal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<f64>,
    /// The original carried a location; served copies do not.
    #[serde(default)]
    pub had_gps: bool,
    /// False when no transcoder (ffmpeg) was available: the original is served as is.
    #[serde(default)]
    pub transcoded: bool,
    /// A note for people about how the file was handled ("ffmpeg is not installed…").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A media item as a reader with permission sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaView {
    pub id: MediaId,
    pub legacy_id: LegacyId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story_id: Option<StoryId>,
    pub uploader_id: UserId,
    pub file_name: String,
    pub size: u64,
    pub state: MediaState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<MediaKind>,
    /// The type found by content sniffing, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    pub scan: ScanStatus,
    pub caption: String,
    pub meta: MediaMeta,
    pub variants: Vec<VariantView>,
    /// Signed URL of the file as served (GPS removed).
    pub original_url: String,
    /// Why processing failed or the file was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The reader may edit the caption, retry processing or delete.
    pub can_edit: bool,
    pub created_at: i64,
    pub version: i64,
}

/// A caption change; `version` (from the item) refuses to overwrite someone else's edit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaptionInput {
    pub caption: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}
