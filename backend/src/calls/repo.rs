//! SQL of the calls read model.

use crate::calls::model::{AttemptRow, CallRow, Outcome};
use crate::db::{with_pool, with_tx, Db, Tx};
use crate::error::Result;

const CALL_COLUMNS: &str = "id, idempotency_key, request_hash, source, method, url, target, headers, sealed_headers, \
    body, status, due_at, attempts, last_status_code, last_latency_ms, last_error, created_at, updated_at, completed_at";

pub async fn insert(tx: &mut Tx, row: &CallRow, created_by: Option<&str>) -> Result<()> {
    let sql = "INSERT INTO calls (id, idempotency_key, request_hash, source, method, url, target, headers, \
               sealed_headers, body, status, due_at, attempts, created_by, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $14)";
    with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(&row.id)
            .bind(&row.idempotency_key)
            .bind(&row.request_hash)
            .bind(&row.source)
            .bind(&row.method)
            .bind(&row.url)
            .bind(&row.target)
            .bind(&row.headers)
            .bind(&row.sealed_headers)
            .bind(&row.body)
            .bind(&row.status)
            .bind(row.due_at)
            .bind(created_by)
            .bind(row.created_at)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<CallRow>> {
    let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE id = $1");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, CallRow>(&sql).bind(id).fetch_optional(pool).await)?)
}

pub async fn by_key(db: &Db, key: &str) -> Result<Option<CallRow>> {
    let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE idempotency_key = $1");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, CallRow>(&sql).bind(key).fetch_optional(pool).await)?)
}

/// Takes the call for one attempt: it must be due and scheduled, or running under a
/// lease that ran out (the worker attempting it died). Returns the attempt number, or
/// `None` when someone else has it or it is finished.
pub async fn claim(db: &Db, id: &str, now: i64, lease_until: i64) -> Result<Option<i64>> {
    let sql = "UPDATE calls SET status = 'running', attempts = attempts + 1, lease_until = $3, updated_at = $2 \
               WHERE id = $1 AND ((status = 'scheduled' AND due_at <= $2) \
               OR (status = 'running' AND lease_until < $2)) RETURNING attempts";
    Ok(with_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(sql).bind(id).bind(now).bind(lease_until).fetch_optional(pool).await
    })?)
}

pub async fn record_attempt(tx: &mut Tx, call_id: &str, attempt: i64, outcome: &Outcome) -> Result<()> {
    let sql = "INSERT INTO call_attempts (call_id, attempt, started_at, latency_ms, status_code, error, \
               response_snippet) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (call_id, attempt) DO NOTHING";
    with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(call_id)
            .bind(attempt)
            .bind(outcome.started_at)
            .bind(outcome.latency_ms)
            .bind(outcome.status_code)
            .bind(&outcome.error)
            .bind(&outcome.snippet)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// Moves the call to `status` after an attempt; `due_at` is the next attempt's time when
/// it is scheduled again, `completed_at` set when it is finished.
pub async fn finish_attempt(
    tx: &mut Tx,
    call_id: &str,
    status: &str,
    outcome: &Outcome,
    due_at: Option<i64>,
    now: i64,
) -> Result<()> {
    let sql = "UPDATE calls SET status = $2, last_status_code = $3, last_latency_ms = $4, last_error = $5, \
               due_at = COALESCE($6, due_at), lease_until = NULL, updated_at = $7, \
               completed_at = CASE WHEN $2 IN ('succeeded', 'failed') THEN $7 ELSE NULL END WHERE id = $1";
    with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(call_id)
            .bind(status)
            .bind(outcome.status_code)
            .bind(outcome.latency_ms)
            .bind(&outcome.error)
            .bind(due_at)
            .bind(now)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

pub async fn attempts(db: &Db, call_id: &str) -> Result<Vec<AttemptRow>> {
    let sql = "SELECT attempt, started_at, latency_ms, status_code, error, response_snippet FROM call_attempts \
               WHERE call_id = $1 ORDER BY attempt";
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, AttemptRow>(sql).bind(call_id).fetch_all(pool).await)?)
}

/// Arguments of [`list`], already validated; empty strings and 0 mean "any".
pub struct ListQuery<'a> {
    pub status: &'a str,
    pub target: &'a str,
    pub source: &'a str,
    pub from: i64,
    pub to: i64,
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// Newest first, after the keyset cursor `(created_at, id)`.
pub async fn list(db: &Db, q: &ListQuery<'_>) -> Result<Vec<CallRow>> {
    let sql = format!(
        "SELECT {CALL_COLUMNS} FROM calls WHERE ($1 = '' OR status = $1) AND ($2 = '' OR target = $2) \
         AND ($3 = '' OR source = $3) AND ($4 = 0 OR created_at >= $4) AND ($5 = 0 OR created_at < $5) \
         AND ($6 = 0 OR created_at < $6 OR (created_at = $6 AND id < $7)) \
         ORDER BY created_at DESC, id DESC LIMIT $8"
    );
    let (after_time, after_id) = q.after.clone().unwrap_or((0, String::new()));
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, CallRow>(&sql)
            .bind(q.status)
            .bind(q.target)
            .bind(q.source)
            .bind(q.from)
            .bind(q.to)
            .bind(after_time)
            .bind(&after_id)
            .bind(q.limit)
            .fetch_all(pool)
            .await
    })?)
}
