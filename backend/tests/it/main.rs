//! The backend's integration tests, one binary (`cargo nextest run -p backend --test it`)
//! so the crate is linked once rather than once per file (ADR 0022). Each module is one
//! capability or layer, as its top comment says; `support` holds fakes of outside
//! services (shared with the server's tests by `#[path]`). Databases come from
//! `backend::testing` (`db_test!`: each test on SQLite and, with TEST_DATABASE_URL, on
//! PostgreSQL).

// Integration tests and their helpers: a failed step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support {
    pub mod fake_todoist;
}

mod activity;
mod calls;
mod conversation;
mod db;
mod email;
mod events;
mod media_pipeline;
mod notifications;
mod people;
mod render;
mod replica;
mod search;
mod stories;
mod tips;
