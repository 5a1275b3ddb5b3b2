//! Consumer lag as a Prometheus gauge: how many events a consumer has still to see.
//! The embedded dispatcher reports the unpublished outbox; JetStream reports its
//! consumer's pending count plus what is not yet published.

pub const CONSUMER_LAG: &str = "heirloom_event_consumer_lag";
/// Events a consumer gave up on (parked in dead letters), counted as they are parked.
pub const PARKED: &str = "heirloom_events_parked_total";

pub fn record(consumer: &str, pending: f64) {
    metrics::gauge!(CONSUMER_LAG, "consumer" => consumer.to_string()).set(pending);
}
