//! SQL of the tips tables, written once for both engines.

use types::{SessionId, TipAction, TipId, UserId};

use crate::args;
use crate::db::{Conn, Db, Tx};
use crate::error::Result;
use crate::tips::connector::ConnectorItem;
use crate::tips::model::{ConnectionRow, Counts, OpenItem, TipRow};
use crate::tips::policy::ArmStats;

const CONNECTION_COLUMNS: &str = "user_id, connector, status, sealed_credential, connected_at, last_sync_at, \
    last_sync_status, last_error, item_count, updated_at";

pub async fn connection(db: &Db, user_id: &UserId, connector: &str) -> Result<Option<ConnectionRow>> {
    let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connector_connections WHERE user_id = $1 AND connector = $2");
    db.fetch_optional(&sql, args![user_id, connector]).await
}

pub async fn connections_of(db: &Db, user_id: &UserId) -> Result<Vec<ConnectionRow>> {
    let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connector_connections WHERE user_id = $1 ORDER BY connector");
    db.fetch_all(&sql, args![user_id]).await
}

pub async fn connect_tx(tx: &mut Tx, user_id: &UserId, connector: &str, sealed: &str, now: i64) -> Result<()> {
    let sql = "INSERT INTO connector_connections (user_id, connector, status, sealed_credential, connected_at, \
               last_sync_at, last_sync_status, last_error, item_count, updated_at) \
               VALUES ($1, $2, 'connected', $3, $4, NULL, 'never', NULL, 0, $4) \
               ON CONFLICT (user_id, connector) DO UPDATE SET status = 'connected', \
               sealed_credential = excluded.sealed_credential, connected_at = excluded.connected_at, \
               last_sync_at = NULL, last_sync_status = 'never', last_error = NULL, item_count = 0, \
               updated_at = excluded.updated_at";
    tx.execute(sql, args![user_id, connector, sealed, now]).await?;
    Ok(())
}

/// Forgets the credential and the fetched tasks; `reason` is what the user is told
/// (none when they disconnected themselves). Returns whether a connection was ended.
pub async fn disconnect_tx(
    tx: &mut Tx,
    user_id: &UserId,
    connector: &str,
    reason: Option<&str>,
    now: i64,
) -> Result<bool> {
    let sql = "UPDATE connector_connections SET status = 'disconnected', sealed_credential = NULL, \
               last_sync_status = CASE WHEN $3 IS NULL THEN last_sync_status ELSE 'failed' END, \
               last_error = $3, item_count = 0, updated_at = $4 \
               WHERE user_id = $1 AND connector = $2 AND status = 'connected'";
    let ended = tx.execute(sql, args![user_id, connector, reason, now]).await?;
    let items = "DELETE FROM connector_items WHERE user_id = $1 AND connector = $2";
    tx.execute(items, args![user_id, connector]).await?;
    Ok(ended == 1)
}

/// The result of a sync that did not end the connection.
pub async fn record_sync_failure(db: &Db, user_id: &UserId, connector: &str, error: &str, now: i64) -> Result<()> {
    let sql = "UPDATE connector_connections SET last_sync_at = $3, last_sync_status = 'failed', last_error = $4, \
               updated_at = $3 WHERE user_id = $1 AND connector = $2 AND status = 'connected'";
    let error: String = error.chars().take(500).collect();
    db.execute(sql, args![user_id, connector, now, error]).await?;
    Ok(())
}

/// Replaces the fetched tasks with `items` (keeping the completion mark of those
/// Heirloom completed that the provider still lists) and records a good sync.
pub async fn replace_items_tx(
    tx: &mut Tx,
    user_id: &UserId,
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
    for i in items {
        let mut args = args![user_id, connector, &i.external_id, &i.title, &i.body, &i.url, &i.due, i.priority];
        args.push(&i.revision).push(now);
        tx.execute(upsert, args).await?;
    }
    let stale = "DELETE FROM connector_items WHERE user_id = $1 AND connector = $2 AND fetched_at < $3";
    tx.execute(stale, args![user_id, connector, now]).await?;
    let synced = "UPDATE connector_connections SET last_sync_at = $3, last_sync_status = 'ok', last_error = NULL, \
                  item_count = $4, updated_at = $3 WHERE user_id = $1 AND connector = $2";
    tx.execute(synced, args![user_id, connector, now, items.len() as i64]).await?;
    Ok(())
}

/// Tasks of the user's live connections not yet completed, most urgent first.
pub async fn open_items(db: &Db, user_id: &UserId, limit: i64) -> Result<Vec<OpenItem>> {
    let sql = "SELECT i.connector, i.external_id, i.title, i.body, i.url, i.due, i.priority, i.revision \
               FROM connector_items i JOIN connector_connections c \
               ON c.user_id = i.user_id AND c.connector = i.connector AND c.status = 'connected' \
               WHERE i.user_id = $1 AND i.completed_at IS NULL ORDER BY i.priority DESC, i.external_id LIMIT $2";
    db.fetch_all(sql, args![user_id, limit]).await
}

pub async fn mark_item_completed(
    db: &Db,
    user_id: &UserId,
    connector: &str,
    external_id: &str,
    now: i64,
) -> Result<()> {
    let sql = "UPDATE connector_items SET completed_at = $4 WHERE user_id = $1 AND connector = $2 \
               AND external_id = $3 AND completed_at IS NULL";
    db.execute(sql, args![user_id, connector, external_id, now]).await?;
    Ok(())
}

// ---- OAuth states ----

/// A connect attempt about to start: whose, from which session, for which connector.
pub struct NewOAuthState<'a> {
    pub state_hash: &'a str,
    pub user_id: &'a UserId,
    pub session_id: &'a SessionId,
    pub connector: &'a str,
    pub expires_at: i64,
}

pub async fn insert_state(db: &Db, state: &NewOAuthState<'_>, now: i64) -> Result<()> {
    db.execute("DELETE FROM connector_oauth_states WHERE expires_at < $1", args![now]).await?;
    let sql = "INSERT INTO connector_oauth_states (state_hash, user_id, session_id, connector, created_at, \
               expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
    let s = state;
    db.execute(sql, args![s.state_hash, s.user_id, s.session_id, s.connector, now, s.expires_at]).await?;
    Ok(())
}

/// Unexpired connect attempts of one user.
pub async fn open_states(db: &Db, user_id: &UserId, now: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM connector_oauth_states WHERE user_id = $1 AND expires_at >= $2";
    db.scalar(sql, args![user_id, now]).await
}

/// A stored OAuth attempt: whose, from which session, for which connector, until when.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OAuthState {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub connector: String,
    pub expires_at: i64,
}

/// Removes and returns the attempt with this state (single use, whatever happens next).
pub async fn take_state(db: &Db, state_hash: &str) -> Result<Option<OAuthState>> {
    let sql = "DELETE FROM connector_oauth_states WHERE state_hash = $1 \
               RETURNING user_id, session_id, connector, expires_at";
    db.fetch_optional(sql, args![state_hash]).await
}

// ---- tips and feedback ----

const TIP_COLUMNS: &str = "id, user_id, kind, source, candidate_key, arm, title, body, deep_link, meta, policy, \
    context, created_at, shown_at, outcome, outcome_at";

pub async fn insert_tip_tx(tx: &mut Tx, row: &TipRow) -> Result<()> {
    let sql = format!(
        "INSERT INTO tips ({TIP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, \
         NULL, NULL)"
    );
    let r = row;
    let mut args = args![&r.id, &r.user_id, &r.kind, &r.source, &r.candidate_key, &r.arm, &r.title, &r.body];
    args.push(&r.deep_link).push(&r.meta).push(&r.policy).push(&r.context).push(r.created_at);
    tx.execute(&sql, args).await?;
    Ok(())
}

/// One tip; pass `&mut *tx` to read it inside a transaction.
pub async fn tip<'c>(conn: impl Into<Conn<'c>>, id: &TipId) -> Result<Option<TipRow>> {
    conn.into().fetch_optional(&format!("SELECT {TIP_COLUMNS} FROM tips WHERE id = $1"), args![id]).await
}

/// The user's newest tip made since `since` that has no outcome yet.
pub async fn latest_unanswered(db: &Db, user_id: &UserId, since: i64) -> Result<Option<TipRow>> {
    let sql = format!(
        "SELECT {TIP_COLUMNS} FROM tips WHERE user_id = $1 AND created_at >= $2 AND outcome IS NULL \
         ORDER BY created_at DESC, id DESC LIMIT 1"
    );
    db.fetch_optional(&sql, args![user_id, since]).await
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
pub async fn past_tips(db: &Db, user_id: &UserId, since: i64) -> Result<Vec<PastTip>> {
    let sql = "SELECT candidate_key, outcome, outcome_at, created_at FROM tips WHERE user_id = $1 \
               AND (outcome IS NOT NULL OR created_at >= $2) ORDER BY created_at DESC, id DESC LIMIT 5000";
    db.fetch_all(sql, args![user_id, since]).await
}

/// Gives the tip its outcome if it has none yet; returns whether it did.
pub async fn set_outcome_tx(tx: &mut Tx, id: &TipId, outcome: TipAction, now: i64) -> Result<bool> {
    let sql = "UPDATE tips SET outcome = $2, outcome_at = $3 WHERE id = $1 AND outcome IS NULL";
    Ok(tx.execute(sql, args![id, outcome.as_str(), now]).await? == 1)
}

pub async fn set_shown_tx(tx: &mut Tx, id: &TipId, now: i64) -> Result<()> {
    tx.execute("UPDATE tips SET shown_at = $2 WHERE id = $1 AND shown_at IS NULL", args![id, now]).await?;
    Ok(())
}

/// Records feedback once per (tip, action); returns whether this call recorded it.
pub async fn insert_feedback_tx(
    tx: &mut Tx,
    id: &str,
    tip_id: &TipId,
    user_id: &UserId,
    action: TipAction,
    now: i64,
) -> Result<bool> {
    let sql = "INSERT INTO tip_feedback (id, tip_id, user_id, action, created_at, learned_at) \
               VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT (tip_id, action) DO NOTHING";
    Ok(tx.execute(sql, args![id, tip_id, user_id, action.as_str(), now]).await? == 1)
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
pub async fn arm_stats(db: &Db, user_id: &UserId) -> Result<ArmStats> {
    let sql = "SELECT scope, arm, shown, done, not_done FROM tip_arm_stats WHERE scope = $1 OR scope = '*'";
    let rows: Vec<StatRow> = db.fetch_all(sql, args![user_id]).await?;
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
    Ok(tx.execute(sql, args![feedback_id, now]).await? == 1)
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
    tx.execute(sql, args![scope, arm, shown, done, not_done, now]).await?;
    Ok(())
}
