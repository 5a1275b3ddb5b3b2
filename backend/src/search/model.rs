//! What callers hand to search and get back, and who is asking.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use types::search::SearchParams;
use types::LegacyRole;

use crate::error::Result;
use crate::validate::Problems;

/// What a search returns; the same types the pages and the REST API send.
pub use types::search::{
    FacetCount, SearchFacets as Facets, SearchHit as Hit, SearchResults, SearchSuggestion as Suggestion,
};
/// What a result is, and the two orders; shared with pages and API clients.
pub use types::search::{SearchKind as Kind, SearchSort as Sort};

/// A search as the user asked for it. Empty filters mean "any".
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    /// What the user typed. Words must all match (in any searched field); `"quoted
    /// words"` must match as a phrase; the last word also matches as a prefix; words of
    /// five or more letters also match with one typo. Nothing in it is query syntax.
    pub text: String,
    pub kinds: Vec<Kind>,
    pub legacy_id: Option<String>,
    pub tag: Option<String>,
    pub author_id: Option<String>,
    /// Inclusive bounds on the last change, in unix milliseconds.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub sort: Sort,
    /// Page size, 1 to [`LIMIT_MAX`]; `None` means [`LIMIT_DEFAULT`].
    pub limit: Option<usize>,
    pub offset: usize,
}

pub const LIMIT_DEFAULT: usize = 20;
pub const LIMIT_MAX: usize = 100;
/// Deep pages cost a full ranking each; nobody reads page 500 of a family archive.
pub const OFFSET_MAX: usize = 10_000;
/// Longer than any real question; bounds the work one query can ask for.
pub const TEXT_MAX_CHARS: usize = 512;
pub const WORDS_MAX: usize = 32;

impl SearchQuery {
    pub fn text(text: impl Into<String>) -> SearchQuery {
        SearchQuery { text: text.into(), ..Default::default() }
    }

    /// The query a page or API client asked for, with every bad parameter named (the
    /// text itself is checked when the search is planned).
    pub fn from_params(params: &SearchParams) -> Result<SearchQuery> {
        let mut problems = Problems::default();
        let mut kinds = Vec::new();
        for name in params.kind.split(',').map(str::trim).filter(|k| !k.is_empty()) {
            match Kind::parse(name) {
                Some(kind) if !kinds.contains(&kind) => kinds.push(kind),
                Some(_) => {}
                None => {
                    problems.add("type", "must be story, legacy, media or person (several separated by commas)");
                    break;
                }
            }
        }
        let sort = match params.sort.trim() {
            "" => Sort::Relevance,
            text => Sort::parse(text).unwrap_or_else(|| {
                problems.add("sort", "must be relevance or newest");
                Sort::Relevance
            }),
        };
        let from = moment(&mut problems, "from", &params.from, false);
        let to = moment(&mut problems, "to", &params.to, true);
        problems.into_result()?;
        let given = |value: &str| Some(value.trim()).filter(|v| !v.is_empty()).map(String::from);
        Ok(SearchQuery {
            text: params.q.clone(),
            kinds,
            legacy_id: given(&params.legacy),
            tag: given(&params.tag),
            author_id: given(&params.author),
            from,
            to,
            sort,
            limit: params.limit,
            offset: params.offset.unwrap_or(0),
        })
    }
}

/// A date (`YYYY-MM-DD`, UTC; its last millisecond when `end_of_day`) or unix
/// milliseconds, as unix milliseconds; `None` when empty.
fn moment(problems: &mut Problems, field: &str, value: &str, end_of_day: bool) -> Option<i64> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Ok(millis) = value.parse::<i64>() {
        return Some(millis);
    }
    match date(value) {
        Some(date) => {
            let start = date.midnight().assume_utc().unix_timestamp() * 1000;
            Some(if end_of_day { start + 24 * 3600 * 1000 - 1 } else { start })
        }
        None => {
            problems.add(field, "must be a date like 2024-05-31 or unix milliseconds");
            None
        }
    }
}

/// `YYYY-MM-DD`, a real calendar date.
fn date(text: &str) -> Option<time::Date> {
    let mut parts = text.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()
}

/// Who is searching: the facts `stories::permissions` decides on, for every legacy at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reader {
    /// `None` for someone signed out.
    pub user_id: Option<types::UserId>,
    pub is_admin: bool,
    /// Their role in each legacy they belong to.
    pub memberships: HashMap<String, LegacyRole>,
}

impl Reader {
    pub fn anonymous() -> Reader {
        Reader::default()
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    pub generation: String,
    pub stories: u64,
    pub legacies: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn fields_of(params: SearchParams) -> Vec<String> {
        match SearchQuery::from_params(&params) {
            Err(Error::Invalid(fields)) => fields.into_iter().map(|f| f.field).collect(),
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn parameters_become_a_query() {
        let params = SearchParams {
            q: "bees".into(),
            kind: "story, legacy,story".into(),
            legacy: " l1 ".into(),
            tag: "".into(),
            from: "2024-05-31".into(),
            to: "2024-05-31".into(),
            sort: "newest".into(),
            limit: Some(5),
            offset: Some(10),
            ..Default::default()
        };
        let query = SearchQuery::from_params(&params).unwrap();
        assert_eq!(query.kinds, [Kind::Story, Kind::Legacy]);
        assert_eq!((query.legacy_id.as_deref(), query.tag.as_deref()), (Some("l1"), None));
        assert_eq!(query.from, Some(1_717_113_600_000));
        assert_eq!(query.to, Some(1_717_113_600_000 + 86_400_000 - 1));
        assert_eq!((query.sort, query.limit, query.offset), (Sort::Newest, Some(5), 10));
        let millis = SearchParams { from: "1700000000000".into(), ..SearchParams::text("x") };
        assert_eq!(SearchQuery::from_params(&millis).unwrap().from, Some(1_700_000_000_000));
    }

    #[test]
    fn bad_parameters_are_named() {
        let bad = SearchParams {
            kind: "stories".into(),
            sort: "oldest".into(),
            from: "yesterday".into(),
            to: "2024-13-01".into(),
            ..SearchParams::text("x")
        };
        assert_eq!(fields_of(bad), ["type", "sort", "from", "to"]);
    }
}
