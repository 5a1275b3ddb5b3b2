//! SQL of the calls read model.

use types::{CallAttemptView, CallId};

use crate::args;
use crate::calls::model::CallRow;
use crate::db::{Db, Tx};
use crate::error::Result;

const CALL_COLUMNS: &str = "id, idempotency_key, request_hash, source, method, url, target, headers, sealed_headers, \
    body, status, due_at, attempts, last_status_code, last_latency_ms, last_error, created_at, updated_at, completed_at, \
    correlation_id, causation_id";

pub async fn insert(tx: &mut Tx, row: &CallRow, created_by: Option<&str>) -> Result<()> {
    let sql = "INSERT INTO calls (id, idempotency_key, request_hash, source, method, url, target, headers, \
               sealed_headers, body, status, due_at, attempts, created_by, created_at, updated_at, correlation_id, \
               causation_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $14, $15, $16)";
    let (r, c) = (row, &row.call);
    let mut args = args![&c.id, &r.idempotency_key, &r.request_hash, &c.source, &c.method, &c.url, &c.target];
    args.push(&r.headers).push(&r.sealed_headers).push(&r.body).push(c.status).push(c.due_at).push(created_by);
    args.push(c.created_at).push(&c.correlation_id).push(&c.causation_id);
    tx.execute(sql, args).await?;
    Ok(())
}

pub async fn by_id(db: &Db, id: &CallId) -> Result<Option<CallRow>> {
    db.fetch_optional(&format!("SELECT {CALL_COLUMNS} FROM calls WHERE id = $1"), args![id]).await
}

pub async fn by_key(db: &Db, key: &str) -> Result<Option<CallRow>> {
    db.fetch_optional(&format!("SELECT {CALL_COLUMNS} FROM calls WHERE idempotency_key = $1"), args![key]).await
}

/// Takes the call for one attempt: it must be due and scheduled, or running under a
/// lease that ran out (the worker attempting it died). Returns the attempt number, or
/// `None` when someone else has it or it is finished.
pub async fn claim(db: &Db, id: &CallId, now: i64, lease_until: i64) -> Result<Option<i64>> {
    let sql = "UPDATE calls SET status = 'running', attempts = attempts + 1, lease_until = $3, updated_at = $2 \
               WHERE id = $1 AND ((status = 'scheduled' AND due_at <= $2) \
               OR (status = 'running' AND lease_until < $2)) RETURNING attempts";
    db.scalar_optional(sql, args![id, now, lease_until]).await
}

pub async fn record_attempt(tx: &mut Tx, call_id: &CallId, attempt: &CallAttemptView) -> Result<()> {
    let sql = "INSERT INTO call_attempts (call_id, attempt, started_at, latency_ms, status_code, error, \
               response_snippet) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (call_id, attempt) DO NOTHING";
    let a = attempt;
    tx.execute(
        sql,
        args![call_id, a.attempt, a.started_at, a.latency_ms, a.status_code, &a.error, &a.response_snippet],
    )
    .await?;
    Ok(())
}

/// Moves the call to `status` after an attempt; `due_at` is the next attempt's time when
/// it is scheduled again, `completed_at` set when it is finished.
pub async fn finish_attempt(
    tx: &mut Tx,
    call_id: &CallId,
    status: &str,
    attempt: &CallAttemptView,
    due_at: Option<i64>,
    now: i64,
) -> Result<()> {
    let sql = "UPDATE calls SET status = $2, last_status_code = $3, last_latency_ms = $4, last_error = $5, \
               due_at = COALESCE($6, due_at), lease_until = NULL, updated_at = $7, \
               completed_at = CASE WHEN $2 IN ('succeeded', 'failed') THEN $7 ELSE NULL END WHERE id = $1";
    let a = attempt;
    tx.execute(sql, args![call_id, status, a.status_code, a.latency_ms, &a.error, due_at, now]).await?;
    Ok(())
}

pub async fn attempts(db: &Db, call_id: &CallId) -> Result<Vec<CallAttemptView>> {
    let sql = "SELECT attempt, started_at, latency_ms, status_code, error, response_snippet FROM call_attempts \
               WHERE call_id = $1 ORDER BY attempt";
    db.fetch_all(sql, args![call_id]).await
}

/// Arguments of [`list`], already validated; `None` means "any".
pub struct ListQuery<'a> {
    pub status: Option<&'a str>,
    pub target: Option<&'a str>,
    pub source: Option<&'a str>,
    /// Created at or after (unix ms).
    pub from: Option<i64>,
    /// Created before (unix ms).
    pub to: Option<i64>,
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// Newest first, after the keyset cursor `(created_at, id)`. Only the filters given become
/// conditions, so the database plans the query it is actually asked.
pub async fn list(db: &Db, q: &ListQuery<'_>) -> Result<Vec<CallRow>> {
    let mut args = args![];
    let mut conditions: Vec<String> = Vec::new();
    for (column, value) in [("status", q.status), ("target", q.target), ("source", q.source)] {
        if let Some(value) = value {
            conditions.push(format!("{column} = {}", args.placeholder(value)));
        }
    }
    if let Some(from) = q.from {
        conditions.push(format!("created_at >= {}", args.placeholder(from)));
    }
    if let Some(to) = q.to {
        conditions.push(format!("created_at < {}", args.placeholder(to)));
    }
    if let Some((time, id)) = &q.after {
        let (time, id) = (args.placeholder(*time), args.placeholder(id));
        conditions.push(format!("(created_at < {time} OR (created_at = {time} AND id < {id}))"));
    }
    let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let limit = args.placeholder(q.limit);
    db.fetch_all(
        &format!("SELECT {CALL_COLUMNS} FROM calls {filter} ORDER BY created_at DESC, id DESC LIMIT {limit}"),
        args,
    )
    .await
}
