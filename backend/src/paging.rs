//! Keyset paging: lists are ordered by `(time, id)` and a page's cursor is the position
//! of its last row, `"<time>:<id>"`, so a page stays right while rows are added.

use crate::validate::Problems;

/// The `(time, id)` position a keyset cursor (`"<time>:<id>"`, from [`keyset_page`])
/// names; a cursor that is not one is a problem on field `cursor`.
pub fn parse_cursor(problems: &mut Problems, cursor: Option<&str>) -> Option<(i64, String)> {
    let cursor = cursor.filter(|c| !c.is_empty())?;
    let parsed = cursor.split_once(':').and_then(|(t, id)| Some((t.parse::<i64>().ok()?, id.to_string())));
    if parsed.is_none() {
        problems.add("cursor", "is not a cursor from a previous page");
    }
    parsed
}

/// Trims `rows` (fetched with `limit + 1`) to `limit` and returns the cursor of the next
/// page, if there is one; `key` gives a row's `(time, id)`.
pub fn keyset_page<T>(rows: &mut Vec<T>, limit: i64, key: impl Fn(&T) -> (i64, &str)) -> Option<String> {
    if rows.len() as i64 <= limit {
        return None;
    }
    rows.truncate(limit as usize);
    rows.last().map(|row| {
        let (time, id) = key(row);
        format!("{time}:{id}")
    })
}
