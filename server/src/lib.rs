//! The composition root: reads configuration, builds the [`backend::Backend`], mounts
//! the Leptos pages, the REST API and operational endpoints, and serves them.

pub mod cli;
pub mod http;
pub mod site;
pub mod telemetry;

pub use http::{router, AppState};
