//! Outbound calls, webhooks and parked events as the admin pages and the API see them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{CallId, WebhookId};

use crate::events::EventType;

string_enum!(
    /// Where a call is: waiting for its due time or a retry, being attempted, or done.
    CallStatus { Scheduled => "scheduled", Running => "running", Succeeded => "succeeded", Failed => "failed" }
);

/// A call to submit. `due_at` (unix ms) in the future schedules it; absent or past runs it now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallInput {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub due_at: Option<i64>,
    /// Submitting again with the same key returns the first call instead of making another.
    /// Required; the API also takes it from an `Idempotency-Key` header.
    #[serde(default)]
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct CallView {
    pub id: CallId,
    pub source: String,
    pub method: String,
    pub url: String,
    /// Host (and port) the call goes to.
    pub target: String,
    /// The headers kept, credential values shown as `[redacted]`.
    // Stored as JSON, so not read with the row: the backend's `CallRow::view` fills them in.
    #[cfg_attr(feature = "sqlx", sqlx(skip))]
    pub headers: BTreeMap<String, String>,
    pub status: CallStatus,
    pub due_at: i64,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_latency_ms: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
    /// The correlation of what submitted it: the `x-request-id` of the request that began
    /// the chain, or the id of its first event. Absent on calls made before it was recorded.
    pub correlation_id: Option<String>,
    /// The event whose handling submitted it (the event a webhook sends); absent when a
    /// request submitted it.
    pub causation_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct CallAttemptView {
    pub attempt: i64,
    pub started_at: i64,
    pub latency_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    /// At most 8 KB of the response body.
    pub response_snippet: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallDetail {
    pub call: CallView,
    pub body: String,
    pub attempts: Vec<CallAttemptView>,
    /// The events of the call's correlation, in causal order; absent when the call has no
    /// recorded correlation.
    pub chain: Option<EventChain>,
}

/// Every event one cause set off, from the request (or first event) that began it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventChain {
    pub correlation_id: String,
    /// The request that began the chain (its `x-request-id`); absent when a timer or a
    /// worker began it.
    pub request_id: Option<String>,
    /// Each event after the one that caused it; at most 200.
    pub events: Vec<ChainEvent>,
}

/// One event of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainEvent {
    pub message_id: String,
    pub event_type: EventType,
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The user who caused it, if any.
    pub actor: Option<String>,
    pub occurred_at: i64,
    /// The event whose handling wrote it; absent for the chain's first events.
    pub causation_id: Option<String>,
    /// How many causes stand between it and the start of the chain (0: the request's own).
    pub depth: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallPage {
    pub items: Vec<CallView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A submit's answer: the call, and whether this submit created it (false for a replay).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallSubmitted {
    pub call: CallView,
    pub created: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookInput {
    pub url: String,
    /// Event types to send (e.g. `StoryCreated`), or `*` for all.
    #[serde(deserialize_with = "crate::text::list_or_commas")]
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookView {
    pub id: WebhookId,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: String,
    pub active: bool,
    pub created_at: i64,
}

/// A new webhook with its signing secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookCreated {
    pub webhook: WebhookView,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadLetterView {
    pub consumer: String,
    pub message_id: String,
    pub event_type: EventType,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub attempts: i64,
    pub last_error: String,
    pub failed_at: i64,
}
