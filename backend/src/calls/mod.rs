//! Outbound HTTP calls made reliably: webhook deliveries, connector callbacks and calls
//! scheduled for later all go through one executor with idempotency keys, timers,
//! retries for 5xx and timeouts, an SSRF guard, sealed credentials and a delivery log.

pub mod guard;
pub mod model;
pub mod repo;
pub mod service;
pub mod webhooks;

pub use model::CallFilter;
pub use service::{CallPolicy, CallTimer, Calls};
pub use webhooks::{WebhookConsumer, Webhooks};
