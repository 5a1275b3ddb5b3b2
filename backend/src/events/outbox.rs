//! Appending to the outbox. The per-aggregate sequence is computed inside the
//! transaction; the unique (aggregate, seq) key makes two writers that raced on the
//! same aggregate fail rather than interleave silently.

use serde::Serialize;
use types::events::Envelope;

use crate::db::{with_pool, with_tx, Db, Tx};
use crate::error::{Error, Result};
use crate::time::{new_id, now_millis};

/// An event about to be recorded.
pub struct Event<'a, P: Serialize> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub event_type: &'a str,
    pub actor: Option<&'a str>,
    pub payload: P,
}

/// Appends one event in `tx`; returns its message id.
pub async fn append<P: Serialize>(tx: &mut Tx, event: Event<'_, P>) -> Result<String> {
    let payload = serde_json::to_string(&event.payload).map_err(|e| Error::internal("encoding an event payload", e))?;
    let message_id = new_id();
    let next_seq =
        "SELECT COALESCE(MAX(aggregate_seq), 0) + 1 FROM outbox WHERE aggregate_type = $1 AND aggregate_id = $2";
    let seq: i64 = with_tx!(tx, |conn| {
        sqlx::query_scalar::<_, i64>(next_seq).bind(event.aggregate_type).bind(event.aggregate_id).fetch_one(conn).await
    })?;
    let insert =
        "INSERT INTO outbox (message_id, aggregate_type, aggregate_id, aggregate_seq, event_type, schema_version, \
                  occurred_at, correlation_id, causation_id, actor, payload, trace_parent) \
                  VALUES ($1, $2, $3, $4, $5, 1, $6, $1, NULL, $7, $8, $9)";
    with_tx!(tx, |conn| {
        sqlx::query(insert)
            .bind(&message_id)
            .bind(event.aggregate_type)
            .bind(event.aggregate_id)
            .bind(seq)
            .bind(event.event_type)
            .bind(now_millis())
            .bind(event.actor)
            .bind(&payload)
            .bind(crate::telemetry::current_trace_parent())
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(message_id)
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    message_id: String,
    aggregate_type: String,
    aggregate_id: String,
    aggregate_seq: i64,
    event_type: String,
    schema_version: i64,
    occurred_at: i64,
    correlation_id: String,
    causation_id: Option<String>,
    actor: Option<String>,
    payload: String,
    trace_parent: Option<String>,
}

const ENVELOPE_COLUMNS: &str = "message_id, aggregate_type, aggregate_id, aggregate_seq, event_type, schema_version, \
    occurred_at, correlation_id, causation_id, actor, payload, trace_parent";

/// Events of one aggregate in order.
pub async fn events_for(db: &Db, aggregate_type: &str, aggregate_id: &str) -> Result<Vec<Envelope>> {
    let sql = format!(
        "SELECT {ENVELOPE_COLUMNS} FROM outbox WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY aggregate_seq"
    );
    let rows = with_pool!(db, |pool| {
        sqlx::query_as::<_, OutboxRow>(&sql).bind(aggregate_type).bind(aggregate_id).fetch_all(pool).await
    })?;
    Ok(rows.into_iter().map(envelope).collect())
}

/// One event by its message id.
pub async fn event(db: &Db, message_id: &str) -> Result<Envelope> {
    let sql = format!("SELECT {ENVELOPE_COLUMNS} FROM outbox WHERE message_id = $1");
    let row = with_pool!(db, |pool| sqlx::query_as::<_, OutboxRow>(&sql).bind(message_id).fetch_optional(pool).await)?;
    row.map(envelope).ok_or(Error::NotFound { what: "event" })
}

/// How many events are waiting to be published.
pub async fn unpublished_count(db: &Db) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL";
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await)?)
}

/// The oldest events not yet published, in the order they were written.
pub async fn unpublished(db: &Db, limit: i64) -> Result<Vec<Envelope>> {
    let sql = format!("SELECT {ENVELOPE_COLUMNS} FROM outbox WHERE published_at IS NULL ORDER BY message_id LIMIT $1");
    let rows = with_pool!(db, |pool| sqlx::query_as::<_, OutboxRow>(&sql).bind(limit).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(envelope).collect())
}

/// Marks a batch published inside the caller's transaction.
pub async fn mark_batch_published(tx: &mut Tx, message_ids: &[&str]) -> Result<()> {
    if message_ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE outbox SET published_at = $1 WHERE message_id IN ({})",
        crate::db::placeholders(2, message_ids.len())
    );
    let now = now_millis();
    with_tx!(tx, |conn| {
        let mut query = sqlx::query(&sql).bind(now);
        for id in message_ids {
            query = query.bind(*id);
        }
        query.execute(conn).await.map(|_| ())
    })?;
    Ok(())
}

pub async fn mark_published(db: &Db, message_id: &str) -> Result<()> {
    let sql = "UPDATE outbox SET published_at = $2 WHERE message_id = $1";
    with_pool!(db, |pool| sqlx::query(sql).bind(message_id).bind(now_millis()).execute(pool).await.map(|_| ()))?;
    Ok(())
}

fn envelope(row: OutboxRow) -> Envelope {
    Envelope {
        message_id: row.message_id,
        aggregate_type: row.aggregate_type,
        aggregate_id: row.aggregate_id,
        aggregate_seq: row.aggregate_seq,
        event_type: row.event_type,
        schema_version: row.schema_version,
        occurred_at: row.occurred_at,
        correlation_id: row.correlation_id,
        causation_id: row.causation_id,
        actor: row.actor,
        payload: serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null),
        trace_parent: row.trace_parent,
    }
}

/// Events of `types` that `consumer` has not processed, oldest first: those after its
/// newest processed event of these types, less `window_ms` for late commits.
pub async fn unprocessed_of_types(
    db: &Db,
    consumer: &str,
    types: &[&str],
    window_ms: i64,
    limit: i64,
) -> Result<Vec<Envelope>> {
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let in_types = crate::db::placeholders(4, types.len());
    let sql = format!(
        "SELECT {ENVELOPE_COLUMNS} FROM outbox o WHERE o.event_type IN ({in_types}) \
         AND o.occurred_at >= COALESCE((SELECT MAX(x.occurred_at) FROM outbox x JOIN processed_events p \
             ON p.message_id = x.message_id AND p.consumer = $1 WHERE x.event_type IN ({in_types})), 0) - $2 \
         AND NOT EXISTS (SELECT 1 FROM processed_events p WHERE p.consumer = $1 AND p.message_id = o.message_id) \
         ORDER BY o.occurred_at, o.message_id LIMIT $3"
    );
    let rows = with_pool!(db, |pool| {
        let mut query = sqlx::query_as::<_, OutboxRow>(&sql).bind(consumer).bind(window_ms).bind(limit);
        for t in types {
            query = query.bind(*t);
        }
        query.fetch_all(pool).await
    })?;
    Ok(rows.into_iter().map(envelope).collect())
}

/// Events of `types` whose message id sorts after `after`, in id order (a keyset page:
/// pass the last id of one page to get the next). Ids are UUIDv7, so this reads the
/// outbox from a point in time on (see [`id_floor`]).
pub async fn after_of_types(db: &Db, after: &str, types: &[&str], limit: i64) -> Result<Vec<Envelope>> {
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {ENVELOPE_COLUMNS} FROM outbox WHERE message_id > $1 AND event_type IN ({}) \
         ORDER BY message_id LIMIT $2",
        crate::db::placeholders(3, types.len())
    );
    let rows = with_pool!(db, |pool| {
        let mut query = sqlx::query_as::<_, OutboxRow>(&sql).bind(after).bind(limit);
        for t in types {
            query = query.bind(*t);
        }
        query.fetch_all(pool).await
    })?;
    Ok(rows.into_iter().map(envelope).collect())
}

/// The smallest message id written at `unix_ms` or later: every UUIDv7 made from that
/// millisecond on sorts after it.
pub fn id_floor(unix_ms: i64) -> String {
    let ms = unix_ms.max(0) as u64;
    format!("{:08x}-{:04x}-0000-0000-000000000000", (ms >> 16) & 0xffff_ffff, ms & 0xffff)
}

/// The millisecond a message id (UUIDv7) was made in; `None` for anything else.
pub fn id_millis(message_id: &str) -> Option<i64> {
    let id = uuid::Uuid::parse_str(message_id).ok()?;
    let (seconds, nanos) = id.get_timestamp()?.to_unix();
    Some(seconds as i64 * 1000 + i64::from(nanos / 1_000_000))
}

/// How many outbox rows exist (for tests that check a rollback took the event too).
pub async fn count(db: &Db) -> Result<i64> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM outbox").fetch_one(pool).await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_floors_order_with_uuidv7_ids_by_millisecond() {
        let before = now_millis();
        let id = new_id();
        let after = now_millis();
        assert!(id_floor(before).as_str() < id.as_str(), "{id}");
        assert!(id.as_str() < id_floor(after + 1).as_str(), "{id}");
        let made = id_millis(&id).unwrap();
        assert!((before..=after).contains(&made), "{made}");
        assert_eq!(id_millis(&id_floor(made)), None, "a floor is no UUIDv7 (its version nibble is 0)");
        assert_eq!(id_millis("not an id"), None);
    }
}
