//! SQL of the tips tables, written once for both engines.

use types::TipAction;

use crate::db::{with_pool, with_tx, Db, Tx};
use crate::error::Result;
use crate::tips::connector::ConnectorItem;
use crate::tips::model::{ConnectionRow, Counts, ItemRow, TipRow};
use crate::tips::policy::ArmStats;

const CONNECTION_COLUMNS: &str = "user_id, connector, status, sealed_credential, connected_at, last_sync_at, \
    last_sync_status, last_error, item_count, updated_at";

pub async fn connection(db: &Db, user_id: &str, connector: &str) -> Result<Option<ConnectionRow>> {
    let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connector_connections WHERE user_id = $1 AND connector = $2");
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, ConnectionRow>(&sql).bind(user_id).bind(connector).fetch_optional(pool).await
    })?)
}

pub async fn connections_of(db: &Db, user_id: &str) -> Result<Vec<ConnectionRow>> {
    let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connector_connections WHERE user_id = $1 ORDER BY connector");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, ConnectionRow>(&sql).bind(user_id).fetch_all(pool).await)?)
}

pub async fn connect_tx(tx: &mut Tx, user_id: &str, connector: &str, sealed: &str, now: i64) -> Result<()> {
    let sql = "INSERT INTO connector_connections (user_id, connector, status, sealed_credential, connected_at, \
               last_sync_at, last_sync_status, last_error, item_count, updated_at) \
               VALUES ($1, $2, 'connected', $3, $4, NULL, 'never', NULL, 0, $4) \
               ON CONFLICT (user_id, connector) DO UPDATE SET status = 'connected', \
               sealed_credential = excluded.sealed_credential, connected_at = excluded.connected_at, \
               last_sync_at = NULL, last_sync_status = 'never', last_error = NULL, item_count = 0, \
               updated_at = excluded.updated_at";
    with_tx!(tx, |conn| {
        sqlx::query(sql).bind(user_id).bind(connector).bind(sealed).bind(now).execute(conn).await.map(|_| ())
    })?;
    Ok(())
}

/// Forgets the credential and the fetched tasks; `reason` is what the user is told
/// (none when they disconnected themselves). Returns whether a connection was ended.
pub async fn disconnect_tx(
    tx: &mut Tx,
    user_id: &str,
    connector: &str,
    reason: Option<&str>,
    now: i64,
) -> Result<bool> {
    let sql = "UPDATE connector_connections SET status = 'disconnected', sealed_credential = NULL, \
               last_sync_status = CASE WHEN $3 IS NULL THEN last_sync_status ELSE 'failed' END, \
               last_error = $3, item_count = 0, updated_at = $4 \
               WHERE user_id = $1 AND connector = $2 AND status = 'connected'";
    let items = "DELETE FROM connector_items WHERE user_id = $1 AND connector = $2";
    let ended = with_tx!(tx, |conn| {
        let ended = sqlx::query(sql)
            .bind(user_id)
            .bind(connector)
            .bind(reason)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        sqlx::query(items).bind(user_id).bind(connector).execute(&mut *conn).await.map(|_| ended)
    })?;
    Ok(ended == 1)
}

/// The result of a sync that did not end the connection.
pub async fn record_sync_failure(db: &Db, user_id: &str, connector: &str, error: &str, now: i64) -> Result<()> {
    let sql = "UPDATE connector_connections SET last_sync_at = $3, last_sync_status = 'failed', last_error = $4, \
               updated_at = $3 WHERE user_id = $1 AND connector = $2 AND status = 'connected'";
    let error: String = error.chars().take(500).collect();
    with_pool!(db, |pool| {
        sqlx::query(sql).bind(user_id).bind(connector).bind(now).bind(&error).execute(pool).await.map(|_| ())
    })?;
    Ok(())
}

/// Replaces the fetched tasks with `items` (keeping the completion mark of those
/// Heirloom completed that the provider still lists) and records a good sync.
pub async fn replace_items_tx(
    tx: &mut Tx,
    user_id: &str,
    connector: &str,
    items: &[ConnectorItem],
    now: i64,
) -> Result<()> {
    let upsert = "INSERT INTO connector_items (user_id, connector, external_id, title, body, url, due, priority, \
                  revision, fetched_at, completed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL) \
                  ON CONFLICT (user_id, connector, external_id) DO UPDATE SET title = excluded.title, \
                  body = excluded.body, url = excluded.url, due = excluded.due, priority = excluded.priority, \
                  completed_at = CASE WHEN connector_items.revision = excluded.revision \
                  THEN connector_items.completed_at ELSE NULL END, \
                  revision = excluded.revision, fetched_at = excluded.fetched_at";
    let stale = "DELETE FROM connector_items WHERE user_id = $1 AND connector = $2 AND fetched_at < $3";
    let synced = "UPDATE connector_connections SET last_sync_at = $3, last_sync_status = 'ok', last_error = NULL, \
                  item_count = $4, updated_at = $3 WHERE user_id = $1 AND connector = $2";
    with_tx!(tx, |conn| {
        for item in items {
            sqlx::query(upsert)
                .bind(user_id)
                .bind(connector)
                .bind(&item.external_id)
                .bind(&item.title)
                .bind(&item.body)
                .bind(&item.url)
                .bind(&item.due)
                .bind(item.priority)
                .bind(&item.revision)
                .bind(now)
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query(stale).bind(user_id).bind(connector).bind(now).execute(&mut *conn).await?;
        sqlx::query(synced)
            .bind(user_id)
            .bind(connector)
            .bind(now)
            .bind(items.len() as i64)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// Tasks of the user's live connections not yet completed, most urgent first.
pub async fn open_items(db: &Db, user_id: &str, limit: i64) -> Result<Vec<ItemRow>> {
    let sql = "SELECT i.user_id, i.connector, i.external_id, i.title, i.body, i.url, i.due, i.priority, i.revision, \
               i.fetched_at, i.completed_at FROM connector_items i JOIN connector_connections c \
               ON c.user_id = i.user_id AND c.connector = i.connector AND c.status = 'connected' \
               WHERE i.user_id = $1 AND i.completed_at IS NULL ORDER BY i.priority DESC, i.external_id LIMIT $2";
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, ItemRow>(sql).bind(user_id).bind(limit).fetch_all(pool).await)?)
}

pub async fn mark_item_completed(db: &Db, user_id: &str, connector: &str, external_id: &str, now: i64) -> Result<()> {
    let sql = "UPDATE connector_items SET completed_at = $4 WHERE user_id = $1 AND connector = $2 \
               AND external_id = $3 AND completed_at IS NULL";
    with_pool!(db, |pool| {
        sqlx::query(sql).bind(user_id).bind(connector).bind(external_id).bind(now).execute(pool).await.map(|_| ())
    })?;
    Ok(())
}

// ---- OAuth states ----

pub async fn insert_state(
    db: &Db,
    state_hash: &str,
    user_id: &str,
    session_id: &str,
    connector: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    let purge = "DELETE FROM connector_oauth_states WHERE expires_at < $1";
    let sql = "INSERT INTO connector_oauth_states (state_hash, user_id, session_id, connector, created_at, \
               expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
    with_pool!(db, |pool| sqlx::query(purge).bind(now).execute(pool).await.map(|_| ()))?;
    with_pool!(db, |pool| {
        sqlx::query(sql)
            .bind(state_hash)
            .bind(user_id)
            .bind(session_id)
            .bind(connector)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// Unexpired connect attempts of one user.
pub async fn open_states(db: &Db, user_id: &str, now: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM connector_oauth_states WHERE user_id = $1 AND expires_at >= $2";
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(sql).bind(user_id).bind(now).fetch_one(pool).await)?)
}

/// A stored OAuth attempt: whose, from which session, for which connector, until when.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OAuthState {
    pub user_id: String,
    pub session_id: String,
    pub connector: String,
    pub expires_at: i64,
}

/// Removes and returns the attempt with this state (single use, whatever happens next).
pub async fn take_state(db: &Db, state_hash: &str) -> Result<Option<OAuthState>> {
    let sql = "DELETE FROM connector_oauth_states WHERE state_hash = $1 \
               RETURNING user_id, session_id, connector, expires_at";
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, OAuthState>(sql).bind(state_hash).fetch_optional(pool).await)?)
}

// ---- tips and feedback ----

const TIP_COLUMNS: &str = "id, user_id, kind, source, candidate_key, arm, title, body, deep_link, meta, policy, \
    context, created_at, shown_at, outcome, outcome_at";

pub async fn insert_tip_tx(tx: &mut Tx, row: &TipRow) -> Result<()> {
    let sql = format!(
        "INSERT INTO tips ({TIP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, \
         NULL, NULL)"
    );
    with_tx!(tx, |conn| {
        sqlx::query(&sql)
            .bind(&row.id)
            .bind(&row.user_id)
            .bind(&row.kind)
            .bind(&row.source)
            .bind(&row.candidate_key)
            .bind(&row.arm)
            .bind(&row.title)
            .bind(&row.body)
            .bind(&row.deep_link)
            .bind(&row.meta)
            .bind(&row.policy)
            .bind(&row.context)
            .bind(row.created_at)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

pub async fn tip(db: &Db, id: &str) -> Result<Option<TipRow>> {
    let sql = format!("SELECT {TIP_COLUMNS} FROM tips WHERE id = $1");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, TipRow>(&sql).bind(id).fetch_optional(pool).await)?)
}

/// The user's newest tip made since `since` that has no outcome yet.
pub async fn latest_unanswered(db: &Db, user_id: &str, since: i64) -> Result<Option<TipRow>> {
    let sql = format!(
        "SELECT {TIP_COLUMNS} FROM tips WHERE user_id = $1 AND created_at >= $2 AND outcome IS NULL \
         ORDER BY created_at DESC, id DESC LIMIT 1"
    );
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, TipRow>(&sql).bind(user_id).bind(since).fetch_optional(pool).await)?)
}

pub async fn tip_tx(tx: &mut Tx, id: &str) -> Result<Option<TipRow>> {
    let sql = format!("SELECT {TIP_COLUMNS} FROM tips WHERE id = $1");
    Ok(with_tx!(tx, |conn| sqlx::query_as::<_, TipRow>(&sql).bind(id).fetch_optional(conn).await)?)
}

/// What the user did with candidates lately (and ever, for final outcomes), newest first.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PastTip {
    pub candidate_key: String,
    pub outcome: Option<String>,
    pub outcome_at: Option<i64>,
    pub created_at: i64,
}

/// Tips with an outcome, and tips issued after `since` (to avoid repeating the last one).
pub async fn past_tips(db: &Db, user_id: &str, since: i64) -> Result<Vec<PastTip>> {
    let sql = "SELECT candidate_key, outcome, outcome_at, created_at FROM tips WHERE user_id = $1 \
               AND (outcome IS NOT NULL OR created_at >= $2) ORDER BY created_at DESC, id DESC LIMIT 5000";
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, PastTip>(sql).bind(user_id).bind(since).fetch_all(pool).await)?)
}

/// Gives the tip its outcome if it has none yet; returns whether it did.
pub async fn set_outcome_tx(tx: &mut Tx, id: &str, outcome: TipAction, now: i64) -> Result<bool> {
    let sql = "UPDATE tips SET outcome = $2, outcome_at = $3 WHERE id = $1 AND outcome IS NULL";
    let done = with_tx!(tx, |conn| {
        sqlx::query(sql).bind(id).bind(outcome.as_str()).bind(now).execute(conn).await.map(|d| d.rows_affected())
    })?;
    Ok(done == 1)
}

pub async fn set_shown_tx(tx: &mut Tx, id: &str, now: i64) -> Result<()> {
    let sql = "UPDATE tips SET shown_at = $2 WHERE id = $1 AND shown_at IS NULL";
    with_tx!(tx, |conn| sqlx::query(sql).bind(id).bind(now).execute(conn).await.map(|_| ()))?;
    Ok(())
}

/// Records feedback once per (tip, action); returns whether this call recorded it.
pub async fn insert_feedback_tx(
    tx: &mut Tx,
    id: &str,
    tip_id: &str,
    user_id: &str,
    action: TipAction,
    now: i64,
) -> Result<bool> {
    let sql = "INSERT INTO tip_feedback (id, tip_id, user_id, action, created_at, learned_at) \
               VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT (tip_id, action) DO NOTHING";
    let done = with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(id)
            .bind(tip_id)
            .bind(user_id)
            .bind(action.as_str())
            .bind(now)
            .execute(conn)
            .await
            .map(|d| d.rows_affected())
    })?;
    Ok(done == 1)
}

// ---- what was learned ----

#[derive(sqlx::FromRow)]
struct StatRow {
    scope: String,
    arm: String,
    shown: i64,
    done: i64,
    not_done: i64,
}

/// This user's counts and everyone's.
pub async fn arm_stats(db: &Db, user_id: &str) -> Result<ArmStats> {
    let sql = "SELECT scope, arm, shown, done, not_done FROM tip_arm_stats WHERE scope = $1 OR scope = '*'";
    let rows = with_pool!(db, |pool| sqlx::query_as::<_, StatRow>(sql).bind(user_id).fetch_all(pool).await)?;
    let mut stats = ArmStats::default();
    for row in rows {
        let counts = Counts {
            shown: row.shown.max(0) as u64,
            done: row.done.max(0) as u64,
            not_done: row.not_done.max(0) as u64,
        };
        let map = if row.scope == "*" { &mut stats.global } else { &mut stats.user };
        map.insert(row.arm, counts);
    }
    Ok(stats)
}

/// Marks the feedback as learned from; false when it already was (a redelivery).
pub async fn claim_learning_tx(tx: &mut Tx, feedback_id: &str, now: i64) -> Result<bool> {
    let sql = "UPDATE tip_feedback SET learned_at = $2 WHERE id = $1 AND learned_at IS NULL";
    let done = with_tx!(tx, |conn| {
        sqlx::query(sql).bind(feedback_id).bind(now).execute(conn).await.map(|d| d.rows_affected())
    })?;
    Ok(done == 1)
}

/// Adds one piece of feedback to an arm key's counts for `scope` (a user id, or `*`).
pub async fn count_tx(tx: &mut Tx, scope: &str, arm: &str, action: TipAction, now: i64) -> Result<()> {
    let (shown, done, not_done): (i64, i64, i64) = match action {
        TipAction::Shown => (1, 0, 0),
        TipAction::Done => (0, 1, 0),
        TipAction::Skipped | TipAction::Dismissed => (0, 0, 1),
    };
    let sql = "INSERT INTO tip_arm_stats (scope, arm, shown, done, not_done, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (scope, arm) DO UPDATE SET \
               shown = tip_arm_stats.shown + excluded.shown, done = tip_arm_stats.done + excluded.done, \
               not_done = tip_arm_stats.not_done + excluded.not_done, updated_at = excluded.updated_at";
    with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(scope)
            .bind(arm)
            .bind(shown)
            .bind(done)
            .bind(not_done)
            .bind(now)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}
