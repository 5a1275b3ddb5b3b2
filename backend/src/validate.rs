//! Checking what people type: [`Problems`] collects every field's problem so one
//! response can name all of them, and the field checkers normalize as they check
//! (NFC, see [`crate::text::normalize`]). Capabilities use these for their own fields.

use types::FieldError;

/// Accumulates field problems so one response can name all of them.
#[derive(Default)]
pub struct Problems(pub Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn into_result(self) -> crate::Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(crate::Error::Invalid(self.0))
        }
    }
}

pub(crate) fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
}

/// A single-line text field: normalized ([`crate::text::normalize`]), trimmed, required
/// or not, bounded, no control characters.
pub fn line(problems: &mut Problems, field: &str, value: &str, required: bool, max_chars: usize) -> String {
    let value = crate::text::normalize(value);
    let value = value.trim();
    if required && value.is_empty() {
        problems.add(field, "is required");
    } else if value.chars().count() > max_chars {
        problems.add(field, format!("must be at most {max_chars} characters"));
    } else if value.chars().any(char::is_control) {
        problems.add(field, "must not contain control characters");
    }
    value.to_string()
}

/// A text of several lines (a summary, a caption): normalized, trimmed, bounded, no
/// control characters but line breaks and tabs.
pub fn multiline(problems: &mut Problems, field: &str, value: &str, max_chars: usize) -> String {
    let value = crate::text::normalize(value);
    let value = value.trim();
    if value.chars().count() > max_chars {
        problems.add(field, format!("must be at most {max_chars} characters"));
    } else if has_control(value) {
        problems.add(field, "must not contain control characters");
    }
    value.to_string()
}

pub fn choice<T: Copy>(
    problems: &mut Problems,
    field: &str,
    value: Option<&str>,
    default: T,
    parse: fn(&str) -> Option<T>,
    choices: &str,
) -> T {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => default,
        Some(v) => parse(v).unwrap_or_else(|| {
            problems.add(field, format!("must be one of {choices} (got {v:?})"));
            default
        }),
    }
}

/// A page size: `default` when not given, else between 1 and `max`.
pub fn limit(problems: &mut Problems, value: Option<i64>, default: i64, max: i64) -> i64 {
    match value {
        None => default,
        Some(limit) if (1..=max).contains(&limit) => limit,
        Some(_) => {
            problems.add("limit", format!("must be between 1 and {max}"));
            default
        }
    }
}
