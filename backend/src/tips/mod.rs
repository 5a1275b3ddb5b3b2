//! Tips: one suggestion at a time — a story prompt, a draft to finish, a photo to
//! caption, a task from a connected app — chosen by a recommender that learns from what
//! the user does and skips (docs/adr/0012).
//!
//! `sources` gather candidates, `policy` picks one (random or Thompson sampling, by
//! configuration), `service` issues tips and takes feedback, `consumer` learns from the
//! feedback events, `connector`/`todoist` link other apps, `simulate` replays simulated
//! users offline for the bench.

pub mod connector;
pub mod consumer;
pub mod model;
pub mod policy;
pub mod prompts;
pub mod repo;
pub mod service;
pub mod simulate;
pub mod sources;
pub mod todoist;

pub use connector::{Connector, ConnectorItem, Credential, FetchError};
pub use consumer::consumer;
pub use policy::{ArmStats, Policy, PolicyFactory};
pub use service::{Tips, TipsSettings};
