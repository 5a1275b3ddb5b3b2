//! SQL for the `media` table, written once for both engines.

use types::{LegacyId, MediaId, MediaState, StoryId, UserId};

use crate::args;
use crate::db::{Conn, Db, Tx};
use crate::error::Result;
use crate::media::model::MediaRow;
use crate::time::now_millis;

const COLUMNS: &str = "id, legacy_id, story_id, uploader_id, file_name, declared_type, size_bytes, sha256, upload_id, \
                       part_size, state, kind, detected_type, scan, caption, meta, variants, failure, attempts, \
                       created_at, updated_at, version";

pub async fn insert_tx(tx: &mut Tx, row: &MediaRow) -> Result<()> {
    let sql = format!(
        "INSERT INTO media ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $20, $21, $22)"
    );
    let args = args![
        &row.id,
        &row.legacy_id,
        &row.story_id,
        &row.uploader_id,
        &row.file_name,
        &row.declared_type,
        row.size_bytes,
        &row.sha256,
        &row.upload_id,
        row.part_size,
        row.state,
        row.kind.map(|k| k.as_str()),
        &row.detected_type,
        row.scan,
        &row.caption,
        &row.meta,
        &row.variants,
        &row.failure,
        row.attempts,
        row.created_at,
        row.updated_at,
        row.version
    ];
    tx.execute(&sql, args).await?;
    Ok(())
}

/// One item; pass `&mut *tx` to see a transaction's own writes.
pub async fn find<'c>(conn: impl Into<Conn<'c>>, id: &MediaId) -> Result<Option<MediaRow>> {
    conn.into().fetch_optional(&format!("SELECT {COLUMNS} FROM media WHERE id = $1"), args![id]).await
}

/// Items of a legacy (or of one of its stories), oldest first, at most `limit`.
pub async fn list(db: &Db, legacy_id: &LegacyId, story_id: Option<&StoryId>, limit: i64) -> Result<Vec<MediaRow>> {
    let mut args = args![legacy_id];
    let mut sql = format!("SELECT {COLUMNS} FROM media WHERE legacy_id = $1");
    if let Some(story_id) = story_id {
        sql += &format!(" AND story_id = {}", args.placeholder(story_id));
    }
    sql += &format!(" ORDER BY created_at, id LIMIT {}", args.placeholder(limit));
    db.fetch_all(&sql, args).await
}

/// Bytes held (or reserved by unfinished uploads) by one person and by everyone.
pub async fn usage_tx(tx: &mut Tx, uploader_id: &UserId) -> Result<(i64, i64)> {
    // SUM of BIGINT is NUMERIC on PostgreSQL: cast back so both engines return i64.
    let sql = "SELECT CAST(COALESCE(SUM(CASE WHEN uploader_id = $1 THEN size_bytes ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM media WHERE state <> 'rejected'";
    tx.fetch_one(sql, args![uploader_id]).await
}

/// Moves an item from one state to another; false when it was not in `from` (another
/// request or replica got there first).
pub async fn transition_tx(tx: &mut Tx, id: &MediaId, from: &[MediaState], to: MediaState) -> Result<bool> {
    let sql = format!(
        "UPDATE media SET state = $2, updated_at = $3, version = version + 1 WHERE id = $1 AND state IN ({})",
        crate::db::placeholders(4, from.len())
    );
    let mut args = args![id, to, now_millis()];
    for state in from {
        args.push(*state);
    }
    Ok(tx.execute(&sql, args).await? > 0)
}

/// Claims a pending item for processing, counting the attempt.
pub async fn claim_for_processing(db: &Db, id: &MediaId) -> Result<bool> {
    let sql = "UPDATE media SET state = 'processing', attempts = attempts + 1, updated_at = $2, version = version + 1 \
               WHERE id = $1 AND state IN ('pending', 'processing')";
    Ok(db.execute(sql, args![id, now_millis()]).await? > 0)
}

/// What processing found out, written with the outcome in one transaction.
pub struct Outcome<'a> {
    pub state: MediaState,
    pub kind: Option<types::MediaKind>,
    pub detected_type: Option<&'a str>,
    pub scan: types::ScanStatus,
    pub meta: &'a str,
    pub variants: &'a str,
    pub failure: Option<&'a str>,
}

pub async fn record_outcome_tx(tx: &mut Tx, id: &MediaId, outcome: &Outcome<'_>) -> Result<bool> {
    let sql = "UPDATE media SET state = $2, kind = $3, detected_type = $4, scan = $5, meta = $6, variants = $7, \
               failure = $8, updated_at = $9, version = version + 1 WHERE id = $1 AND state = 'processing'";
    let o = outcome;
    let kind = o.kind.map(|k| k.as_str());
    let args = args![id, o.state, kind, o.detected_type, o.scan, o.meta, o.variants, o.failure, now_millis()];
    Ok(tx.execute(sql, args).await? > 0)
}

/// Sets the caption if the item is still at `version`.
pub async fn set_caption_tx(tx: &mut Tx, id: &MediaId, caption: &str, version: i64) -> Result<bool> {
    let sql = "UPDATE media SET caption = $2, updated_at = $3, version = version + 1 WHERE id = $1 AND version = $4";
    Ok(tx.execute(sql, args![id, caption, now_millis(), version]).await? > 0)
}

/// Puts a failed item back in line for processing, or one stuck in processing since
/// before `stuck_before` (its worker died, or gave up on a transient error).
pub async fn requeue_tx(tx: &mut Tx, id: &MediaId, stuck_before: i64) -> Result<bool> {
    let sql = "UPDATE media SET state = 'pending', failure = NULL, updated_at = $2, version = version + 1 \
               WHERE id = $1 AND (state = 'failed' OR (state = 'processing' AND updated_at < $3))";
    Ok(tx.execute(sql, args![id, now_millis(), stuck_before]).await? > 0)
}

pub async fn delete_tx(tx: &mut Tx, id: &MediaId) -> Result<bool> {
    Ok(tx.execute("DELETE FROM media WHERE id = $1", args![id]).await? > 0)
}

/// Deletes every item attached to a story and returns them (their files are removed
/// after the commit, from the `MediaDeleted` events the caller appends).
pub async fn delete_of_story_tx(tx: &mut Tx, story_id: &StoryId) -> Result<Vec<MediaRow>> {
    tx.fetch_all(&format!("DELETE FROM media WHERE story_id = $1 RETURNING {COLUMNS}"), args![story_id]).await
}

/// Deletes one item and returns it as it was at that moment.
pub async fn delete_returning_tx(tx: &mut Tx, id: &MediaId) -> Result<Option<MediaRow>> {
    tx.fetch_optional(&format!("DELETE FROM media WHERE id = $1 RETURNING {COLUMNS}"), args![id]).await
}
