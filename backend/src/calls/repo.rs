//! SQL of the calls read model.

use crate::calls::model::{AttemptRow, CallRow, Outcome};
use crate::db::{with_pool, with_tx, Db, Tx};
use crate::error::Result;

const CALL_COLUMNS: &str = "id, idempotency_key, request_hash, source, method, url, target, headers, sealed_headers, \
    body, status, due_at, attempts, last_status_code, last_latency_ms, last_error, created_at, updated_at, completed_at, \
    correlation_id, causation_id";

pub async fn insert(tx: &mut Tx, row: &CallRow, created_by: Option<&str>) -> Result<()> {
    let sql = "INSERT INTO calls (id, idempotency_key, request_hash, source, method, url, target, headers, \
               sealed_headers, body, status, due_at, attempts, created_by, created_at, updated_at, correlation_id, \
               causation_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $14, $15, $16)";
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
            .bind(&row.correlation_id)
            .bind(&row.causation_id)
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

/// A value bound to a built query.
enum Arg<'a> {
    Text(&'a str),
    Int(i64),
}

/// Adds a condition whose values `?1`, `?2`… are numbered after those already bound.
fn condition<'a>(conditions: &mut Vec<String>, args: &mut Vec<Arg<'a>>, sql: &str, values: Vec<Arg<'a>>) {
    let first = args.len() + 1;
    let numbered = (0..values.len())
        .fold(sql.to_string(), |sql, n| sql.replace(&format!("?{}", n + 1), &format!("${}", first + n)));
    conditions.push(numbered);
    args.extend(values);
}

/// Newest first, after the keyset cursor `(created_at, id)`. Only the filters given become
/// conditions, so the database plans the query it is actually asked.
pub async fn list(db: &Db, q: &ListQuery<'_>) -> Result<Vec<CallRow>> {
    let mut conditions: Vec<String> = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    let filters = [("status = ?1", q.status), ("target = ?1", q.target), ("source = ?1", q.source)];
    for (sql, value) in filters {
        if let Some(value) = value {
            condition(&mut conditions, &mut args, sql, vec![Arg::Text(value)]);
        }
    }
    if let Some(from) = q.from {
        condition(&mut conditions, &mut args, "created_at >= ?1", vec![Arg::Int(from)]);
    }
    if let Some(to) = q.to {
        condition(&mut conditions, &mut args, "created_at < ?1", vec![Arg::Int(to)]);
    }
    if let Some((time, id)) = &q.after {
        let after = "(created_at < ?1 OR (created_at = ?1 AND id < ?2))";
        condition(&mut conditions, &mut args, after, vec![Arg::Int(*time), Arg::Text(id)]);
    }
    let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let sql = format!(
        "SELECT {CALL_COLUMNS} FROM calls {filter} ORDER BY created_at DESC, id DESC LIMIT ${}",
        args.len() + 1
    );
    Ok(with_pool!(db, |pool| {
        let mut query = sqlx::query_as::<_, CallRow>(&sql);
        for arg in &args {
            query = match arg {
                Arg::Text(text) => query.bind(*text),
                Arg::Int(number) => query.bind(*number),
            };
        }
        query.bind(q.limit).fetch_all(pool).await
    })?)
}
