//! The server's integration tests, one binary (`cargo nextest run -p server --test it`)
//! so the whole stack is linked once rather than once per file (ADR 0022). Each module
//! is one area, as its top comment says; `common` starts a real router on a throwaway
//! database. nextest runs every test in a process of its own; under plain `cargo test`
//! they share one process, so a test that needs process-wide state to itself (the
//! global tracing subscriber, environment variables) runs its body in a child process
//! (see `telemetry`).

// Integration tests and their helpers: a failed step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// First, so that `server_test!` is in scope in every module below.
#[macro_use]
mod common;

mod api_snapshots;
mod backup;
mod budgets;
mod calls_api;
mod cli;
mod conversation_api;
mod crash;
mod full_disk;
mod hostile_requests;
mod http;
mod identity;
mod injection;
mod media_api;
mod oidc;
mod outage;
mod page_cache;
mod people_api;
mod power_loss;
mod replicas;
mod search_api;
mod secrets;
mod stories_api;
mod telemetry;
mod tips_api;
