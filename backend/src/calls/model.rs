//! Rows of the calls read model and the rules for what a call may carry.

use std::collections::BTreeMap;

use types::{CallAttemptView, CallStatus, CallView};

/// Headers a call may set. Anything else (cookies, hop-by-hop headers, Host) is refused.
pub const ALLOWED_HEADERS: &[&str] =
    &["accept", "accept-language", "authorization", "content-type", "idempotency-key", "user-agent", "x-api-key"];
/// Header-name prefixes that are also allowed (the webhook signature headers).
pub const ALLOWED_HEADER_PREFIXES: &[&str] = &["x-heirloom-"];
/// What a response snippet keeps.
pub const SNIPPET_BYTES: usize = 8 * 1024;
pub const REDACTED: &str = "[redacted]";

pub fn header_allowed(name: &str) -> bool {
    ALLOWED_HEADERS.contains(&name) || ALLOWED_HEADER_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Headers whose values are credentials: sealed in storage, redacted everywhere else.
pub fn header_is_secret(name: &str) -> bool {
    matches!(name, "authorization" | "x-api-key") || name.contains("token") || name.contains("secret")
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CallRow {
    pub id: String,
    pub idempotency_key: String,
    pub request_hash: String,
    pub source: String,
    pub method: String,
    pub url: String,
    pub target: String,
    pub headers: String,
    pub sealed_headers: Option<String>,
    pub body: String,
    pub status: String,
    pub due_at: i64,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_latency_ms: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
    /// The correlation of the request or event that submitted it (none before ADR 0020).
    pub correlation_id: Option<String>,
    /// The event whose handling submitted it (a webhook's event); none from a request.
    pub causation_id: Option<String>,
}

impl CallRow {
    pub fn view(&self) -> CallView {
        CallView {
            id: self.id.clone(),
            source: self.source.clone(),
            method: self.method.clone(),
            url: self.url.clone(),
            target: self.target.clone(),
            headers: serde_json::from_str::<BTreeMap<String, String>>(&self.headers).unwrap_or_default(),
            status: CallStatus::parse(&self.status).unwrap_or(CallStatus::Failed),
            due_at: self.due_at,
            attempts: self.attempts,
            last_status_code: self.last_status_code,
            last_latency_ms: self.last_latency_ms,
            last_error: self.last_error.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            completed_at: self.completed_at,
            correlation_id: self.correlation_id.clone(),
            causation_id: self.causation_id.clone(),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub attempt: i64,
    pub started_at: i64,
    pub latency_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub response_snippet: String,
}

impl From<AttemptRow> for CallAttemptView {
    fn from(row: AttemptRow) -> CallAttemptView {
        CallAttemptView {
            attempt: row.attempt,
            started_at: row.started_at,
            latency_ms: row.latency_ms,
            status_code: row.status_code,
            error: row.error,
            response_snippet: row.response_snippet,
        }
    }
}

/// How one attempt ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub started_at: i64,
    pub latency_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub snippet: String,
    /// A 5xx, a timeout or a dropped connection: worth another attempt.
    pub retryable: bool,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        matches!(self.status_code, Some(200..=299))
    }
}

/// Filters of the deliveries list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    pub status: Option<String>,
    pub target: Option<String>,
    pub source: Option<String>,
    /// Created at or after (unix ms).
    pub from: Option<i64>,
    /// Created before (unix ms).
    pub to: Option<i64>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}
