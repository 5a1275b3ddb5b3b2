//! Events: every change is appended to the transactional outbox in the writer's own
//! transaction, so an event exists exactly when its change does. A bus then delivers
//! them to the consumers that want them: the embedded dispatcher on one machine, or
//! NATS JetStream when `nats_url` is set. Timers (persisted, at-least-once) live here
//! too; [`runtime`] starts whichever workers the configuration asks for.

use crate::error;

pub mod cause;
pub mod consumer;
pub mod dispatch;
pub mod jetstream;
pub mod lag;
pub mod outbox;
pub mod runtime;
pub mod timers;

pub use cause::Cause;
pub use consumer::{Consumer, Delivered, OnEvent, RetryPolicy};
pub use dispatch::Dispatcher;
pub use outbox::{append, chain, Event};
pub use timers::{TimerHandler, TimerWorker};

use std::future::Future;
use std::time::Duration;

/// Runs `batch` until it reports an empty batch; returns how many items it handled in all.
pub(crate) async fn until_empty<Batch, Handled>(mut batch: Batch) -> error::Result<usize>
where
    Batch: FnMut() -> Handled,
    Handled: Future<Output = error::Result<usize>>,
{
    let mut total = 0;
    loop {
        match batch().await? {
            0 => return Ok(total),
            n => total += n,
        }
    }
}

/// The loop every outbox worker runs. `batch` handles one batch and returns how many
/// items it handled; after a batch with work the next follows at once, after an empty
/// one the worker waits for a commit in this process or for `every` (writes by other
/// processes). `stop` is looked at between batches, so shutdown waits for the batch in
/// hand, never for a whole backlog: the outbox keeps the rest for the next start.
pub(crate) async fn run_batches<Batch, Handled>(
    what: &'static str,
    every: Duration,
    stop: impl Future<Output = ()>,
    mut batch: Batch,
) where
    Batch: FnMut() -> Handled,
    Handled: Future<Output = error::Result<usize>>,
{
    tokio::pin!(stop);
    let mut commits = crate::db::commits();
    loop {
        commits.mark_unchanged();
        let handled = batch().await.unwrap_or_else(|err| {
            tracing::error!(worker = what, error = %err, "event worker failed; retrying");
            0
        });
        if handled > 0 {
            tokio::select! {
                biased;
                _ = &mut stop => return,
                _ = std::future::ready(()) => continue,
            }
        }
        tokio::select! {
            _ = &mut stop => return,
            _ = commits.changed() => {}
            _ = tokio::time::sleep(every) => {}
        }
    }
}
