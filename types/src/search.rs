//! Search as the results page, the search box and API clients see it: what to ask for
//! (the query parameters), and what comes back (hits with highlighted snippets, facet
//! counts, typeahead suggestions).

use serde::{Deserialize, Serialize};

use crate::ids::LegacyId;

string_enum!(
    /// What a search result is.
    SearchKind { Story => "story", Legacy => "legacy", Media => "media", Person => "person" }
);

string_enum!(
    /// Result order: best match first, or most recently changed first.
    SearchSort { Relevance => "relevance", Newest => "newest" }
);

// `string_enum!` writes the derives, so the default is written out here.
#[allow(clippy::derivable_impls)]
impl Default for SearchSort {
    fn default() -> Self {
        SearchSort::Relevance
    }
}

impl SearchKind {
    /// The page a result of this kind opens.
    pub fn href(self, id: &str) -> String {
        match self {
            SearchKind::Story => format!("/stories/{id}"),
            SearchKind::Legacy => format!("/legacies/{id}"),
            SearchKind::Media => format!("/media/{id}"),
            SearchKind::Person => format!("/people/{id}"),
        }
    }

    /// A plural label for headings and facets ("Stories").
    pub fn plural(self) -> &'static str {
        match self {
            SearchKind::Story => "Stories",
            SearchKind::Legacy => "Legacies",
            SearchKind::Media => "Photos and recordings",
            SearchKind::Person => "People",
        }
    }
}

/// A search as a page or client asks for it (`GET /api/v1/search?q=…`). Every field
/// but `q` is optional; empty values mean "any", so a plain HTML form can send them all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(default)]
pub struct SearchParams {
    /// What to look for (required, at most 512 characters). All words must match; `"quoted
    /// words"` match as a phrase; the last word also matches as a prefix; longer words
    /// also match with one typo. Nothing in it is query syntax.
    pub q: String,
    /// `story`, `legacy` or `media`, or several separated by commas; empty for any.
    #[serde(rename = "type")]
    pub kind: String,
    /// Only this legacy (its id) and its stories.
    pub legacy: String,
    /// Only stories with this tag.
    pub tag: String,
    /// Only stories by this author (a user id).
    pub author: String,
    /// Changed on or after: a date `YYYY-MM-DD` (UTC) or unix milliseconds.
    pub from: String,
    /// Changed on or before: a date `YYYY-MM-DD` (UTC, the whole day) or unix milliseconds.
    pub to: String,
    /// `relevance` (the default) or `newest`.
    pub sort: String,
    /// Results per page, 1 to 100 (default 20).
    pub limit: Option<usize>,
    /// Results to skip, at most 10000.
    pub offset: Option<usize>,
}

impl SearchParams {
    pub fn text(q: impl Into<String>) -> SearchParams {
        SearchParams { q: q.into(), ..Default::default() }
    }

    /// The query string of these parameters (empty ones left out), for links.
    pub fn to_query_string(&self) -> String {
        let limit = self.limit.map(|n| n.to_string()).unwrap_or_default();
        let offset = self.offset.filter(|&n| n > 0).map(|n| n.to_string()).unwrap_or_default();
        let pairs = [
            ("q", self.q.as_str()),
            ("type", self.kind.as_str()),
            ("legacy", self.legacy.as_str()),
            ("tag", self.tag.as_str()),
            ("author", self.author.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("sort", self.sort.as_str()),
            ("limit", limit.as_str()),
            ("offset", offset.as_str()),
        ];
        pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| format!("{name}={}", encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes a query-string value (form style: space as `+`).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(byte as char),
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResults {
    /// How many results the reader may see match, across all pages.
    pub total: usize,
    pub hits: Vec<SearchHit>,
    /// Counts over every match the reader may see (not only this page).
    pub facets: SearchFacets,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    pub kind: SearchKind,
    pub id: String,
    /// A story's title or a legacy's name.
    pub title: String,
    /// A passage of the text around the matches: HTML-escaped, matches wrapped in `<mark>`.
    pub snippet_html: String,
    /// The story's legacy (a legacy's own id).
    pub legacy_id: LegacyId,
    pub legacy_name: String,
    /// Empty for legacies.
    pub author_name: String,
    pub tags: Vec<String>,
    /// Last change, unix milliseconds.
    pub updated_at: i64,
    /// Relevance (higher is better); 0 when sorted by date.
    pub score: f32,
}

impl SearchHit {
    pub fn href(&self) -> String {
        self.kind.href(&self.id)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchFacets {
    pub kinds: Vec<FacetCount>,
    pub tags: Vec<FacetCount>,
    pub authors: Vec<FacetCount>,
    pub legacies: Vec<FacetCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacetCount {
    /// What to filter by: a kind, a tag, an author or legacy id.
    pub value: String,
    /// What to show: the kind or tag itself, a name.
    pub label: String,
    pub count: u64,
}

/// A typeahead entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchSuggestion {
    pub kind: SearchKind,
    pub id: String,
    pub title: String,
    pub legacy_name: String,
}

impl SearchSuggestion {
    pub fn href(&self) -> String {
        self.kind.href(&self.id)
    }
}

/// What rebuilding the search index did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReindexReport {
    /// The new index generation, now searched.
    pub generation: String,
    pub stories: u64,
    pub legacies: u64,
    pub took_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_only_the_given_parameters_encoded() {
        let params =
            SearchParams { q: "rosa & \"bees\"".into(), tag: "garden".into(), offset: Some(20), ..Default::default() };
        assert_eq!(params.to_query_string(), "q=rosa+%26+%22bees%22&tag=garden&offset=20");
        assert_eq!(SearchParams { offset: Some(0), ..SearchParams::text("é") }.to_query_string(), "q=%C3%A9");
    }

    #[test]
    fn kinds_link_to_their_pages() {
        assert_eq!(SearchKind::Story.href("s1"), "/stories/s1");
        assert_eq!(SearchKind::Legacy.href("l1"), "/legacies/l1");
        assert_eq!(SearchKind::parse("legacy"), Some(SearchKind::Legacy));
    }
}
