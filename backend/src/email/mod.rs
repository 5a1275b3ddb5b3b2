//! Email: the words of Heirloom's messages (`compose`), a durable queue of them
//! (`repo`: an `emails` row and an `EmailQueued` event, written in the transaction of
//! what caused the message) and the mailer that sends each one once over SMTP
//! (`service`). Without `smtp_url` nothing is queued and callers say where email would
//! have helped.

pub mod compose;
pub mod repo;
pub mod service;

pub use compose::Composed;
pub use service::{consumer, Mailer};
