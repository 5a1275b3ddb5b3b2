//! Notifications: the `notifications` consumer turns events into rows for the members
//! they concern (a comment or reaction on what they wrote, a reply to their comment, a
//! mention, a new story they may read), each member's preferences say how they hear of
//! each kind (the bell only, an email at once, a daily or weekly digest, or not at all),
//! and signed links in the emails let a reader stop them without signing in.

pub mod model;
pub mod repo;
pub mod service;

pub use service::{consumer, Notifications, DIGEST_EVERY};
