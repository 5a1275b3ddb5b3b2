//! Appending to and reading the outbox. The per-aggregate sequence is computed inside
//! the transaction; the unique (aggregate, seq) key makes two writers that raced on the
//! same aggregate fail rather than interleave silently. Each row carries its correlation
//! and causation ([`crate::events::cause`]).

use serde::Serialize;
use types::events::{Envelope, EventPayload, EventType};

use crate::db::{with_pool, with_tx, Db, Tx};
use crate::error::{Context, Error, Result};
use crate::events::cause;
use crate::time::{new_id, now_millis};

/// An event about to be recorded. Producers make it with [`Event::of`] from a payload
/// struct of `types::events`, which fixes its type and aggregate type.
pub struct Event<'a, P: Serialize> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub event_type: EventType,
    pub actor: Option<&'a str>,
    pub payload: P,
}

impl<'a, P: EventPayload> Event<'a, P> {
    pub fn of(aggregate_id: &'a str, actor: Option<&'a str>, payload: P) -> Event<'a, P> {
        Event { aggregate_type: P::AGGREGATE_TYPE, aggregate_id, event_type: payload.event_type(), actor, payload }
    }
}

/// Appends one event in `tx`; returns its message id. Its correlation and causation are
/// those of the cause in scope, or a correlation of its own.
pub async fn append<P: Serialize>(tx: &mut Tx, event: Event<'_, P>) -> Result<String> {
    // Through a `Value`, whose keys are sorted: the stored text does not depend on the
    // order of a payload struct's fields.
    let payload = serde_json::to_value(&event.payload)
        .and_then(|value| serde_json::to_string(&value))
        .context("encoding an event payload")?;
    let message_id = new_id();
    let (correlation_id, causation_id) = match cause::current() {
        Some(cause) => (cause.correlation_id, cause.causation_id),
        None => (message_id.clone(), None),
    };
    let next_seq =
        "SELECT COALESCE(MAX(aggregate_seq), 0) + 1 FROM outbox WHERE aggregate_type = $1 AND aggregate_id = $2";
    let seq: i64 = with_tx!(tx, |conn| {
        sqlx::query_scalar::<_, i64>(next_seq).bind(event.aggregate_type).bind(event.aggregate_id).fetch_one(conn).await
    })?;
    let insert =
        "INSERT INTO outbox (message_id, aggregate_type, aggregate_id, aggregate_seq, event_type, schema_version, \
                  occurred_at, correlation_id, causation_id, actor, payload, trace_parent) \
                  VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $11)";
    with_tx!(tx, |conn| {
        sqlx::query(insert)
            .bind(&message_id)
            .bind(event.aggregate_type)
            .bind(event.aggregate_id)
            .bind(seq)
            .bind(event.event_type.as_str())
            .bind(now_millis())
            .bind(&correlation_id)
            .bind(&causation_id)
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
        event_type: EventType::parse(&row.event_type),
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
    types: &[EventType],
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
            query = query.bind(t.as_str());
        }
        query.fetch_all(pool).await
    })?;
    Ok(rows.into_iter().map(envelope).collect())
}

/// Events of `types` whose message id sorts after `after`, in id order (a keyset page:
/// pass the last id of one page to get the next). Ids are UUIDv7, so this reads the
/// outbox from a point in time on (see [`id_floor`]).
pub async fn after_of_types(db: &Db, after: &str, types: &[EventType], limit: i64) -> Result<Vec<Envelope>> {
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
            query = query.bind(t.as_str());
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

/// The events of one correlation (at most `limit`), in causal order: each after the
/// event that caused it, siblings and unrelated roots in the order they were written.
pub async fn correlated(db: &Db, correlation_id: &str, limit: i64) -> Result<Vec<Envelope>> {
    let sql = format!(
        "SELECT {ENVELOPE_COLUMNS} FROM outbox WHERE correlation_id = $1 ORDER BY occurred_at, message_id LIMIT $2"
    );
    let rows = with_pool!(db, |pool| {
        sqlx::query_as::<_, OutboxRow>(&sql).bind(correlation_id).bind(limit).fetch_all(pool).await
    })?;
    Ok(causal_order(rows.into_iter().map(envelope).collect()))
}

/// Orders events so that each follows its cause (depth first), keeping the given order
/// among siblings. An event whose cause is not among them counts as a root.
pub fn causal_order(events: Vec<Envelope>) -> Vec<Envelope> {
    use std::collections::{HashMap, HashSet};
    let ids: HashSet<String> = events.iter().map(|e| e.message_id.clone()).collect();
    let mut children: HashMap<String, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (at, event) in events.iter().enumerate() {
        match event.causation_id.as_ref().filter(|cause| ids.contains(*cause) && **cause != event.message_id) {
            Some(cause) => children.entry(cause.clone()).or_default().push(at),
            None => roots.push(at),
        }
    }
    let mut ordered = Vec::with_capacity(events.len());
    let mut seen = HashSet::new();
    let mut stack: Vec<usize> = roots.into_iter().rev().collect();
    while let Some(at) = stack.pop() {
        if !seen.insert(at) {
            continue;
        }
        ordered.push(at);
        if let Some(next) = children.get(&events[at].message_id) {
            stack.extend(next.iter().rev());
        }
    }
    // A cycle (no event causes its own cause, but stored data may be damaged) is shown last.
    ordered.extend((0..events.len()).filter(|at| !seen.contains(at)));
    let mut slots: Vec<Option<Envelope>> = events.into_iter().map(Some).collect();
    ordered.into_iter().filter_map(|at| slots[at].take()).collect()
}

/// The most events a chain shows.
const CHAIN_MAX: i64 = 200;

/// The events of one correlation as the admin shows them: in causal order, each with its
/// depth, and the request that began them when a request did.
pub async fn chain(db: &Db, correlation_id: &str) -> Result<types::EventChain> {
    let events = correlated(db, correlation_id, CHAIN_MAX).await?;
    let mut depths: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let events: Vec<types::ChainEvent> = events
        .into_iter()
        .map(|event| {
            // Causal order puts every cause before what it caused.
            let depth = event.causation_id.as_ref().and_then(|cause| depths.get(cause)).map_or(0, |d| d + 1);
            depths.insert(event.message_id.clone(), depth);
            types::ChainEvent {
                message_id: event.message_id,
                event_type: event.event_type,
                aggregate_type: event.aggregate_type,
                aggregate_id: event.aggregate_id,
                actor: event.actor,
                occurred_at: event.occurred_at,
                causation_id: event.causation_id,
                depth,
            }
        })
        .collect();
    // A chain a timer or worker began is named after its first event; one a request began,
    // after the request.
    let began_with_event = events.iter().any(|e| e.message_id == correlation_id);
    Ok(types::EventChain {
        correlation_id: correlation_id.to_string(),
        request_id: (!began_with_event).then(|| correlation_id.to_string()),
        events,
    })
}

/// The newest event of an aggregate: `(message id, correlation id)`.
pub async fn latest_of(db: &Db, aggregate_type: &str, aggregate_id: &str) -> Result<Option<(String, String)>> {
    let sql = "SELECT message_id, correlation_id FROM outbox WHERE aggregate_type = $1 AND aggregate_id = $2 \
               ORDER BY aggregate_seq DESC LIMIT 1";
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, (String, String)>(sql).bind(aggregate_type).bind(aggregate_id).fetch_optional(pool).await
    })?)
}

/// A value that is different once any transaction that appended an event has committed
/// since it was read, on every replica alike (it is read from the database): what a
/// cache of what events change is checked against. SQLite has one writer at a time and
/// the outbox is never deleted from, so its newest rowid moves with each such commit.
/// PostgreSQL's transactions commit in any order, so there it is the current snapshot
/// (the transactions in flight and the next id): it moves with every commit, of events
/// or not, which costs a cache hits but never lets it miss a change.
pub async fn change_stamp(db: &Db) -> Result<String> {
    let sql = match db.engine() {
        crate::db::Engine::Sqlite => "SELECT CAST(COALESCE(MAX(rowid), 0) AS TEXT) FROM outbox",
        crate::db::Engine::Postgres => "SELECT pg_current_snapshot()::text",
    };
    db.scalar::<String>(sql, crate::args![]).await
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

    fn envelope_caused_by(id: &str, cause: Option<&str>) -> Envelope {
        Envelope {
            message_id: id.into(),
            aggregate_type: "test".into(),
            aggregate_id: id.into(),
            aggregate_seq: 1,
            event_type: EventType::parse("TestHappened"),
            schema_version: 1,
            occurred_at: 0,
            correlation_id: "req".into(),
            causation_id: cause.map(str::to_string),
            actor: None,
            payload: serde_json::Value::Null,
            trace_parent: None,
        }
    }

    #[test]
    fn causal_order_puts_each_event_after_its_cause_whatever_the_clocks_said() {
        // `c` caused by `b` was stamped before `b` (another replica's clock); `x` names a
        // cause outside the chain and stands as a root; `self` names itself.
        let events = vec![
            envelope_caused_by("c", Some("b")),
            envelope_caused_by("a", None),
            envelope_caused_by("b", Some("a")),
            envelope_caused_by("x", Some("elsewhere")),
            envelope_caused_by("d", Some("a")),
            envelope_caused_by("self", Some("self")),
        ];
        let ordered: Vec<String> = causal_order(events).into_iter().map(|e| e.message_id).collect();
        assert_eq!(ordered, ["a", "b", "c", "d", "x", "self"]);
    }
}
