//! The event envelope: every change in Heirloom is recorded as one of these in the
//! transactional outbox, in the same transaction as the change.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub message_id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// 1, 2, 3… per aggregate, so consumers can apply an aggregate's events in order.
    pub aggregate_seq: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema_version: i64,
    pub occurred_at: i64,
    pub correlation_id: String,
    pub causation_id: Option<String>,
    /// The user who caused it, if any.
    pub actor: Option<String>,
    pub payload: serde_json::Value,
    /// W3C `traceparent` of the request that wrote it: consumers continue that trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_parent: Option<String>,
}
