//! Live updates: every replica hears the events that change what a page shows (a
//! per-replica consumer, so with JetStream each replica gets each event) and hands them
//! to its open streams through one bounded broadcast, each event prepared once for all
//! of them (the rows that decide who may read it); each stream asks, per event and at
//! send time, whether its reader may see it, with their role kept until a membership
//! event of that legacy passes, so a member removed from a legacy hears nothing more of
//! it from that event on. A stream that falls [`BUFFER`] events behind is dropped;
//! the browser reconnects with `Last-Event-ID` and [`Live::missed`] replays from the
//! outbox.

pub mod service;

pub use service::{consumer, Live, Message, Prepared, Watcher, BUFFER, CONSUMER};
