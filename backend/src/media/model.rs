//! The `media` row and the names of its stored files.

use serde::{Deserialize, Serialize};
use types::{LegacyId, MediaId, MediaKind, MediaMeta, MediaState, ScanStatus, StoryId, UserId};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MediaRow {
    pub id: MediaId,
    pub legacy_id: LegacyId,
    pub story_id: Option<StoryId>,
    pub uploader_id: UserId,
    pub file_name: String,
    pub declared_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub upload_id: String,
    pub part_size: i64,
    pub state: MediaState,
    pub kind: Option<MediaKind>,
    pub detected_type: Option<String>,
    pub scan: ScanStatus,
    pub caption: String,
    pub meta: String,
    pub variants: String,
    pub failure: Option<String>,
    pub attempts: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// One derived file, as recorded in `media.variants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub name: String,
    pub content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    pub bytes: u64,
}

/// The variant every item has: the file as served (for photos with a location, a copy
/// without it, once processing made one).
pub const ORIGINAL: &str = "original";

/// The file a new upload is for, as the uploader described it.
pub struct NewFile {
    pub file_name: String,
    pub declared_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

impl MediaRow {
    /// A new item whose upload is starting: nothing processed yet, no caption.
    pub fn uploading(id: MediaId, legacy_id: LegacyId, uploader_id: UserId, file: NewFile, now: i64) -> MediaRow {
        MediaRow {
            id,
            legacy_id,
            story_id: None,
            uploader_id,
            file_name: file.file_name,
            declared_type: file.declared_type,
            size_bytes: file.size_bytes,
            sha256: file.sha256,
            upload_id: String::new(),
            part_size: 1,
            state: MediaState::Uploading,
            kind: None,
            detected_type: None,
            scan: ScanStatus::Pending,
            caption: String::new(),
            meta: "{}".into(),
            variants: "[]".into(),
            failure: None,
            attempts: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    pub fn meta(&self) -> MediaMeta {
        serde_json::from_str(&self.meta).unwrap_or_default()
    }

    pub fn variants(&self) -> Vec<Variant> {
        serde_json::from_str(&self.variants).unwrap_or_default()
    }

    pub fn size(&self) -> u64 {
        self.size_bytes.max(0) as u64
    }

    /// Number of parts the upload is cut into (at least one, even for an empty file).
    pub fn part_count(&self) -> u32 {
        part_count(self.size(), self.part_size.max(1) as u64)
    }

    /// The exact size of part `number` (1-based), or None past the last part.
    pub fn part_len(&self, number: u32) -> Option<u64> {
        part_len(self.size(), self.part_size.max(1) as u64, number)
    }
}

pub fn part_count(size: u64, part_size: u64) -> u32 {
    u32::try_from(size.div_ceil(part_size).max(1)).unwrap_or(u32::MAX)
}

pub fn part_len(size: u64, part_size: u64, number: u32) -> Option<u64> {
    if number == 0 || number > part_count(size, part_size) {
        return None;
    }
    let start = (u64::from(number) - 1) * part_size;
    Some(part_size.min(size - start))
}

/// The uploaded bytes, exactly as received.
pub fn original_key(id: &str) -> String {
    format!("originals/{id}")
}

pub fn variant_key(id: &str, variant: &str) -> String {
    format!("variants/{id}/{variant}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_file_exactly() {
        assert_eq!(part_count(0, 8), 1);
        assert_eq!(part_len(0, 8, 1), Some(0));
        assert_eq!(part_count(16, 8), 2);
        assert_eq!(part_count(17, 8), 3);
        assert_eq!(part_len(17, 8, 3), Some(1));
        assert_eq!(part_len(17, 8, 2), Some(8));
        assert_eq!(part_len(17, 8, 4), None);
        assert_eq!(part_len(17, 8, 0), None);
    }
}
