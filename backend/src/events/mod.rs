//! Events: every change is appended to the transactional outbox in the writer's own
//! transaction, so an event exists exactly when its change does; the embedded
//! dispatcher then delivers them, in order, to the consumers that want them.

pub mod dispatch;
pub mod outbox;

pub use dispatch::{Consumer, Dispatcher, RetryPolicy};
pub use outbox::{append, Event};
