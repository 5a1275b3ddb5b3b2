//! Rows of the calls read model and the rules for what a call may carry.

use std::collections::BTreeMap;

use types::{CallAttemptView, CallView};

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

/// A stored call: what the admin sees of it ([`CallView`]) and what only sending it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CallRow {
    /// Its headers are left empty when read from the database (they are stored as JSON in
    /// `headers`): [`CallRow::view`] gives the whole view.
    #[sqlx(flatten)]
    pub call: CallView,
    pub idempotency_key: String,
    pub request_hash: String,
    /// The headers kept, as JSON, credential values redacted (they are in `sealed_headers`).
    pub headers: String,
    pub sealed_headers: Option<String>,
    pub body: String,
}

impl CallRow {
    pub fn view(&self) -> CallView {
        let headers = serde_json::from_str::<BTreeMap<String, String>>(&self.headers).unwrap_or_default();
        CallView { headers, ..self.call.clone() }
    }
}

/// How one attempt ended: the attempt as it is recorded, and whether another is worth making.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub attempt: CallAttemptView,
    /// A 5xx, a timeout or a dropped connection: worth another attempt.
    pub retryable: bool,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        matches!(self.attempt.status_code, Some(200..=299))
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
