//! SQL for the `media` table, written once for both engines.

use crate::db::{with_pool, with_tx, Db, Tx};
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
    with_tx!(tx, |conn| {
        sqlx::query(&sql)
            .bind(&row.id)
            .bind(&row.legacy_id)
            .bind(&row.story_id)
            .bind(&row.uploader_id)
            .bind(&row.file_name)
            .bind(&row.declared_type)
            .bind(row.size_bytes)
            .bind(&row.sha256)
            .bind(&row.upload_id)
            .bind(row.part_size)
            .bind(&row.state)
            .bind(&row.kind)
            .bind(&row.detected_type)
            .bind(&row.scan)
            .bind(&row.caption)
            .bind(&row.meta)
            .bind(&row.variants)
            .bind(&row.failure)
            .bind(row.attempts)
            .bind(row.created_at)
            .bind(row.updated_at)
            .bind(row.version)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

pub async fn find(db: &Db, id: &str) -> Result<Option<MediaRow>> {
    let sql = format!("SELECT {COLUMNS} FROM media WHERE id = $1");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, MediaRow>(&sql).bind(id).fetch_optional(pool).await)?)
}

/// Items of a legacy (or of one of its stories), oldest first, at most `limit`.
pub async fn list(db: &Db, legacy_id: &str, story_id: Option<&str>, limit: i64) -> Result<Vec<MediaRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM media WHERE legacy_id = $1 AND ($2 IS NULL OR story_id = $2) \
         ORDER BY created_at, id LIMIT $3"
    );
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, MediaRow>(&sql).bind(legacy_id).bind(story_id).bind(limit).fetch_all(pool).await
    })?)
}

/// Bytes held (or reserved by unfinished uploads) by one person and by everyone.
pub async fn usage_tx(tx: &mut Tx, uploader_id: &str) -> Result<(i64, i64)> {
    // SUM of BIGINT is NUMERIC on PostgreSQL: cast back so both engines return i64.
    let sql = "SELECT CAST(COALESCE(SUM(CASE WHEN uploader_id = $1 THEN size_bytes ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM media WHERE state <> 'rejected'";
    Ok(with_tx!(tx, |conn| sqlx::query_as::<_, (i64, i64)>(sql).bind(uploader_id).fetch_one(conn).await)?)
}

/// Moves an item from one state to another; false when it was not in `from` (another
/// request or replica got there first).
pub async fn transition_tx(tx: &mut Tx, id: &str, from: &[&str], to: &str) -> Result<bool> {
    let sql = format!(
        "UPDATE media SET state = $2, updated_at = $3, version = version + 1 WHERE id = $1 AND state IN ({})",
        crate::db::placeholders(4, from.len())
    );
    let changed = with_tx!(tx, |conn| {
        let mut query = sqlx::query(&sql).bind(id).bind(to).bind(now_millis());
        for state in from {
            query = query.bind(*state);
        }
        query.execute(conn).await.map(|d| d.rows_affected())
    })?;
    Ok(changed > 0)
}

/// Claims a pending item for processing, counting the attempt.
pub async fn claim_for_processing(db: &Db, id: &str) -> Result<bool> {
    let sql = "UPDATE media SET state = 'processing', attempts = attempts + 1, updated_at = $2, version = version + 1 \
               WHERE id = $1 AND state IN ('pending', 'processing')";
    let changed = with_pool!(db, |pool| {
        sqlx::query(sql).bind(id).bind(now_millis()).execute(pool).await.map(|d| d.rows_affected())
    })?;
    Ok(changed > 0)
}

/// What processing found out, written with the outcome in one transaction.
pub struct Outcome<'a> {
    pub state: &'a str,
    pub kind: Option<&'a str>,
    pub detected_type: Option<&'a str>,
    pub scan: &'a str,
    pub meta: &'a str,
    pub variants: &'a str,
    pub failure: Option<&'a str>,
}

pub async fn record_outcome_tx(tx: &mut Tx, id: &str, outcome: &Outcome<'_>) -> Result<bool> {
    let sql = "UPDATE media SET state = $2, kind = $3, detected_type = $4, scan = $5, meta = $6, variants = $7, \
               failure = $8, updated_at = $9, version = version + 1 WHERE id = $1 AND state = 'processing'";
    let changed = with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(id)
            .bind(outcome.state)
            .bind(outcome.kind)
            .bind(outcome.detected_type)
            .bind(outcome.scan)
            .bind(outcome.meta)
            .bind(outcome.variants)
            .bind(outcome.failure)
            .bind(now_millis())
            .execute(conn)
            .await
            .map(|d| d.rows_affected())
    })?;
    Ok(changed > 0)
}

/// Sets the caption if the item is still at `version`.
pub async fn set_caption_tx(tx: &mut Tx, id: &str, caption: &str, version: i64) -> Result<bool> {
    let sql = "UPDATE media SET caption = $2, updated_at = $3, version = version + 1 WHERE id = $1 AND version = $4";
    let changed = with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(id)
            .bind(caption)
            .bind(now_millis())
            .bind(version)
            .execute(conn)
            .await
            .map(|d| d.rows_affected())
    })?;
    Ok(changed > 0)
}

/// Puts a failed item back in line for processing, or one stuck in processing since
/// before `stuck_before` (its worker died, or gave up on a transient error).
pub async fn requeue_tx(tx: &mut Tx, id: &str, stuck_before: i64) -> Result<bool> {
    let sql = "UPDATE media SET state = 'pending', failure = NULL, updated_at = $2, version = version + 1 \
               WHERE id = $1 AND (state = 'failed' OR (state = 'processing' AND updated_at < $3))";
    let changed = with_tx!(tx, |conn| {
        sqlx::query(sql).bind(id).bind(now_millis()).bind(stuck_before).execute(conn).await.map(|d| d.rows_affected())
    })?;
    Ok(changed > 0)
}

pub async fn delete_tx(tx: &mut Tx, id: &str) -> Result<bool> {
    let deleted = with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM media WHERE id = $1").bind(id).execute(conn).await.map(|d| d.rows_affected())
    })?;
    Ok(deleted > 0)
}

/// Deletes every item attached to a story and returns them (their files are removed
/// after the commit, from the `MediaDeleted` events the caller appends).
pub async fn delete_of_story_tx(tx: &mut Tx, story_id: &str) -> Result<Vec<MediaRow>> {
    let sql = format!("DELETE FROM media WHERE story_id = $1 RETURNING {COLUMNS}");
    Ok(with_tx!(tx, |conn| sqlx::query_as::<_, MediaRow>(&sql).bind(story_id).fetch_all(conn).await)?)
}

/// Deletes one item and returns it as it was at that moment.
pub async fn delete_returning_tx(tx: &mut Tx, id: &str) -> Result<Option<MediaRow>> {
    let sql = format!("DELETE FROM media WHERE id = $1 RETURNING {COLUMNS}");
    Ok(with_tx!(tx, |conn| sqlx::query_as::<_, MediaRow>(&sql).bind(id).fetch_optional(conn).await)?)
}
