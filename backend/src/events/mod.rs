//! Events: every change is appended to the transactional outbox in the writer's own
//! transaction, so an event exists exactly when its change does. Publishing and
//! consumers build on the rows written here.

pub mod outbox;

pub use outbox::{append, Event};
