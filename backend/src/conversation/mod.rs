//! The conversation around stories and media items: comments with one level of replies,
//! reactions to stories, items and comments, and reports of comments into the legacy's
//! moderation queue. Who may read a conversation is who may read what it is on (the
//! stories' and media's own rules); who may take part is a member of the legacy among them.

pub mod model;
pub mod repo;
pub mod service;

pub use model::{Subject, Thread};
pub use service::Conversation;
