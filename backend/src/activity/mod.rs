//! The activity feed: a projection of the outbox's events into grouped rows (an event
//! consumer, idempotent by event id, rebuildable by replaying the outbox), and the feed a
//! member reads, filtered at read time by the rules of what each row names.

pub mod model;
pub mod repo;
pub mod service;

pub use service::{consumer, Activity, FeedRequest, CONSUMER};
