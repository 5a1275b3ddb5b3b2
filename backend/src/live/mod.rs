//! Live updates: every replica hears the events that change what a page shows (a
//! per-replica consumer, so with JetStream each replica gets each event) and hands them
//! to its open streams through one bounded broadcast; each stream asks, per event and at
//! send time, whether its reader may see it, so a member removed from a legacy hears
//! nothing more of it at once. A stream that falls [`BUFFER`] events behind is dropped;
//! the browser reconnects with `Last-Event-ID` and [`Live::missed`] replays from the
//! outbox.

pub mod service;

pub use service::{consumer, Live, BUFFER, CONSUMER};
