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
    pub id: types::CallId,
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

impl CallFilter {
    /// The same query for a day range, as the deliveries page's form gives it: `from`
    /// and `to` are dates (`YYYY-MM-DD`, UTC, both days included; empty for any),
    /// turned into the unix-millisecond bounds the REST API takes. A date that does not
    /// read as one is a field error naming it.
    pub fn between_days(mut self, from: Option<&str>, to: Option<&str>) -> crate::Result<CallFilter> {
        let mut problems = crate::validate::Problems::default();
        let mut day = |field: &str, text: Option<&str>, end: bool| match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(text) => {
                let millis = day_start_millis(text, end);
                if millis.is_none() {
                    problems.add(field, "must be a date like 2026-11-22");
                }
                millis
            }
        };
        self.from = day("from", from, false);
        self.to = day("to", to, true);
        problems.into_result()?;
        Ok(self)
    }
}

/// The first millisecond (UTC) of the day `YYYY-MM-DD`, or with `next` of the day after.
fn day_start_millis(text: &str, next: bool) -> Option<i64> {
    let mut parts = text.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    let date = time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    let date = if next { date.next_day().unwrap_or(date) } else { date };
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

#[cfg(test)]
mod day_tests {
    use super::*;

    #[test]
    fn a_day_range_includes_both_days() {
        let filter = CallFilter::default().between_days(Some("2026-11-22"), Some(" 2026-11-22 "));
        let filter = filter.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(filter.from, Some(1_795_305_600_000));
        assert_eq!(filter.to, Some(1_795_305_600_000 + 86_400_000));
        let any = CallFilter::default().between_days(Some(""), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((any.from, any.to), (None, None));
    }

    #[test]
    fn what_is_not_a_date_is_a_field_error() {
        for text in ["last tuesday", "2026-02-30", "2026-13-01", "26-11-22", "2026-1-22", "1795305600000"] {
            match CallFilter::default().between_days(Some(text), None) {
                Err(crate::Error::Invalid(fields)) => assert_eq!(fields[0].field, "from", "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
