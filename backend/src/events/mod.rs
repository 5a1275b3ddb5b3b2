//! Events: every change is appended to the transactional outbox in the writer's own
//! transaction, so an event exists exactly when its change does. A bus then delivers
//! them to the consumers that want them: the embedded dispatcher on one machine, or
//! NATS JetStream when `nats_url` is set. Timers (persisted, at-least-once) live here
//! too; [`runtime`] starts whichever workers the configuration asks for.

pub mod consumer;
pub mod dispatch;
pub mod jetstream;
pub mod lag;
pub mod outbox;
pub mod runtime;
pub mod timers;

pub use consumer::{Consumer, Delivered, RetryPolicy};
pub use dispatch::Dispatcher;
pub use outbox::{append, Event};
pub use timers::{TimerHandler, TimerWorker};
