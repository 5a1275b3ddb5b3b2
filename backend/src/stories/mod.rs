//! Legacies, stories, revisions, tags, members, invitations and moderation.

pub mod model;
pub mod permissions;
pub mod render;
pub mod repo;
pub mod service;

pub use service::Stories;
