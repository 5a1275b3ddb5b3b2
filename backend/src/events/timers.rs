//! Timers: a persisted "do this at `due_at`". Firing is at-least-once: a timer is
//! leased before it fires and marked fired after, so a crash in between fires it again
//! once the lease runs out; what a timer triggers must therefore be idempotent. The
//! worker fires anything overdue at start, which is how timers survive a restart.
//! Several replicas may run workers: the lease lets exactly one of them fire a timer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use crate::args;
use crate::db::{Db, Tx};
use crate::error::{Error, Result};
use crate::time::{new_id, now_millis};

/// How long a firing may take before another worker may fire the timer again; also how
/// long a firing cut off by a crash waits before it is retried. An outbound call's own
/// lease (its timeout + 30 s) must end before this one.
const LEASE: Duration = Duration::from_secs(60);

/// What a kind of timer does when it fires.
#[async_trait]
pub trait TimerHandler: Send + Sync {
    fn kind(&self) -> &str;
    async fn fire(&self, payload: &str) -> Result<()>;
}

/// A timer's payload as the type its kind schedules. One that does not read was written
/// by [`schedule`], so the failure is ours, never the user's.
pub fn read_payload<T: serde::de::DeserializeOwned>(kind: &str, payload: &str) -> Result<T> {
    serde_json::from_str(payload).map_err(|e| Error::internal(format!("reading a {kind} timer's payload"), e))
}

/// Schedules a timer in `tx`. A second schedule with the same `key` is ignored, so a
/// retried write does not double a timer. Returns whether a new timer was created.
pub async fn schedule<P: Serialize>(tx: &mut Tx, key: &str, kind: &str, due_at: i64, payload: &P) -> Result<bool> {
    let payload = serde_json::to_string(payload).map_err(|e| Error::internal("encoding a timer payload", e))?;
    let sql = "INSERT INTO timers (id, key, kind, payload, due_at, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
               ON CONFLICT (key) DO NOTHING";
    Ok(tx.execute(sql, args![new_id(), key, kind, payload, due_at, now_millis()]).await? == 1)
}

#[derive(sqlx::FromRow)]
struct DueTimer {
    id: String,
    kind: String,
    payload: String,
    attempts: i64,
}

pub struct TimerWorker {
    db: Db,
    handlers: HashMap<String, Arc<dyn TimerHandler>>,
}

impl TimerWorker {
    pub fn new(db: Db, handlers: Vec<Arc<dyn TimerHandler>>) -> TimerWorker {
        TimerWorker { db, handlers: handlers.into_iter().map(|h| (h.kind().to_string(), h)).collect() }
    }

    /// Fires every timer that is due and not leased; returns how many fired.
    pub async fn fire_due(&self) -> Result<usize> {
        let now = now_millis();
        let sql = "SELECT id, kind, payload, attempts FROM timers WHERE fired_at IS NULL AND due_at <= $1 \
                   AND (lease_until IS NULL OR lease_until < $1) ORDER BY due_at LIMIT 100";
        let due: Vec<DueTimer> = self.db.fetch_all(sql, args![now]).await?;
        let mut fired = 0;
        for timer in due {
            if !self.lease(&timer.id).await? {
                continue; // another worker took it
            }
            let Some(handler) = self.handlers.get(&timer.kind) else {
                tracing::error!(kind = %timer.kind, id = %timer.id, "no handler for timer kind; will retry later");
                self.release(&timer.id, "no handler for this kind", timer.attempts + 1).await?;
                continue;
            };
            match handler.fire(&timer.payload).await {
                Ok(()) => {
                    let sql = "UPDATE timers SET fired_at = $2, last_error = NULL WHERE id = $1";
                    self.db.execute(sql, args![&timer.id, now_millis()]).await?;
                    fired += 1;
                }
                Err(err) => {
                    tracing::warn!(kind = %timer.kind, id = %timer.id, error = %err, "timer failed; will retry");
                    self.release(&timer.id, &err.to_string(), timer.attempts + 1).await?;
                }
            }
        }
        Ok(fired)
    }

    async fn lease(&self, id: &str) -> Result<bool> {
        let now = now_millis();
        let sql = "UPDATE timers SET lease_until = $2, attempts = attempts + 1 WHERE id = $1 AND fired_at IS NULL \
                   AND (lease_until IS NULL OR lease_until < $3)";
        let until = now + LEASE.as_millis() as i64;
        Ok(self.db.execute(sql, args![id, until, now]).await? == 1)
    }

    /// A failed firing is retried after a backoff that grows with its attempts (max 10 min).
    async fn release(&self, id: &str, error: &str, attempts: i64) -> Result<()> {
        let backoff = 1000i64.saturating_mul(1 << attempts.clamp(0, 9)).min(600_000);
        let sql = "UPDATE timers SET lease_until = $2, last_error = $3 WHERE id = $1";
        let error: String = error.chars().take(1000).collect();
        self.db.execute(sql, args![id, now_millis() + backoff, error]).await?;
        Ok(())
    }

    /// When the next unfired timer is due, if any.
    pub async fn next_due(&self) -> Result<Option<i64>> {
        let sql = "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > due_at THEN lease_until \
                   ELSE due_at END) FROM timers WHERE fired_at IS NULL";
        self.db.scalar(sql, args![]).await
    }

    /// Fires due timers now (the boot scan), then sleeps until the next one is due, a
    /// local commit (which may have scheduled one) or `max_sleep`, until `stop`.
    pub async fn run(self: Arc<Self>, max_sleep: Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut commits = crate::db::commits();
        loop {
            commits.mark_unchanged();
            if let Err(err) = self.fire_due().await {
                tracing::error!(error = %err, "firing timers failed; retrying");
            }
            let sleep = match self.next_due().await {
                Ok(Some(due)) => {
                    Duration::from_millis((due - now_millis()).clamp(0, max_sleep.as_millis() as i64) as u64)
                }
                _ => max_sleep,
            };
            tokio::select! {
                _ = &mut stop => return,
                _ = commits.changed() => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
    }
}
