//! Timestamps are stored as BIGINT unix milliseconds so both engines compare and
//! index them the same way.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// A new time-ordered id (UUIDv7) as text, the id format of every table.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
