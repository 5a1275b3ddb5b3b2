//! The search results page (`/search?q=…`): the query and its filters as a plain GET
//! form, the hits with highlighted passages, facet counts as links that narrow the
//! search, and pages of results. Everything is a link or a form, so it all works
//! without JavaScript; only what the reader may read is ever found or counted.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{routes, ApiError, FacetCount, SearchHit, SearchKind, SearchParams, SearchResults};

use crate::api::search_results;
use crate::components::form::{choices, ChoiceField};
use crate::components::page::{format_time, query, LoadError};
use crate::request;

/// Results per page when the address does not say.
const PAGE_SIZE: usize = 20;

/// The search the address asks for.
fn params_from_address() -> SearchParams {
    let text = |name: &'static str| query(name).unwrap_or_default();
    let number = |name: &'static str| query(name).and_then(|v| v.trim().parse::<usize>().ok());
    SearchParams {
        q: text("q"),
        kind: text("type"),
        legacy: text("legacy"),
        tag: text("tag"),
        author: text("author"),
        from: text("from"),
        to: text("to"),
        sort: text("sort"),
        limit: number("limit"),
        offset: number("offset"),
    }
}

/// A link to this search changed by `change`, from its first page.
fn search_link(params: &SearchParams, change: impl FnOnce(&mut SearchParams)) -> String {
    let mut changed = params.clone();
    changed.offset = None;
    change(&mut changed);
    format!("{}?{}", routes::SEARCH.path, changed.to_query_string())
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let params = params_from_address();
    let title = if params.q.trim().is_empty() { "Search".to_string() } else { format!("Search: {}", params.q.trim()) };
    let results = (!params.q.trim().is_empty()).then(|| {
        let asked = params.clone();
        Resource::new_blocking(move || asked.clone(), search_results)
    });
    let shown = params.clone();
    view! {
        <Title text=title/>
        <h1>"Search"</h1>
        <SearchForm params=params.clone()/>
        {match results {
            None => view! {
                <p class="search-intro">
                    "Type a word, a name or a \"quoted phrase\" to look through the stories and legacies you can read."
                </p>
            }.into_any(),
            Some(results) => view! {
                <Suspense fallback=|| view! { <p>"Searching…"</p> }>
                    {
                        let shown = shown.clone();
                        move || results.get().map(|result| match result {
                            Ok(found) => view! { <Results params=shown.clone() found/> }.into_any(),
                            Err(ApiError::Invalid { message, .. }) => {
                                request::set_status(http::StatusCode::UNPROCESSABLE_ENTITY);
                                view! { <p class="flash flash-error" role="alert">{message}</p> }.into_any()
                            }
                            Err(error) => view! { <LoadError error/> }.into_any(),
                        })
                    }
                </Suspense>
            }.into_any(),
        }}
    }
}

/// The search form's choices: the value sent and what the reader sees.
const KINDS: [(&str, &str); 3] = [("", "Anything"), ("story", "Stories"), ("legacy", "Legacies")];
const SORTS: [(&str, &str); 2] = [("", "Best match"), ("newest", "Newest first")];

/// One labelled date of the search form.
#[component]
fn DateField(id: &'static str, name: &'static str, label: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=name type="date" value=value/>
        </div>
    }
}

#[component]
fn SearchForm(params: SearchParams) -> impl IntoView {
    view! {
        <form method="get" action=routes::SEARCH.path class="search-form" role="search" aria-label="Search and filter">
            <div class="field search-query">
                <label for="search-q">"Search for"</label>
                <input id="search-q" type="search" name="q" value=params.q.clone() maxlength="512"/>
            </div>
            <fieldset class="search-filters">
                <legend>"Filters"</legend>
                <ChoiceField id="search-type" name="type" label="Type" choices=choices(&KINDS) chosen=params.kind.clone()/>
                <div class="field">
                    <label for="search-tag">"Tag"</label>
                    <input id="search-tag" name="tag" value=params.tag.clone()/>
                </div>
                <DateField id="search-from" name="from" label="Changed from" value=params.from.clone()/>
                <DateField id="search-to" name="to" label="Changed until" value=params.to.clone()/>
                <ChoiceField id="search-sort" name="sort" label="Order" choices=choices(&SORTS) chosen=params.sort.clone()/>
                // Set from the facet links (ids, not something to type); kept when searching again.
                {(!params.legacy.is_empty()).then(|| view! { <input type="hidden" name="legacy" value=params.legacy.clone()/> })}
                {(!params.author.is_empty()).then(|| view! { <input type="hidden" name="author" value=params.author.clone()/> })}
            </fieldset>
            <button type="submit" class="primary">"Search"</button>
        </form>
    }
}

#[component]
fn Results(params: SearchParams, found: SearchResults) -> impl IntoView {
    let SearchResults { total, hits, facets } = found;
    let limit = params.limit.unwrap_or(PAGE_SIZE).max(1);
    let offset = params.offset.unwrap_or(0);
    let q = params.q.trim().to_string();
    let summary = match (total, hits.len()) {
        (0, _) => format!("Nothing found for “{q}”."),
        (1, _) => format!("1 result for “{q}”."),
        (_, 0) => format!("{total} results for “{q}”; none on this page."),
        (_, shown) if offset == 0 && shown == total => format!("{total} results for “{q}”."),
        (_, shown) => format!("Results {}–{} of {total} for “{q}”.", offset + 1, offset + shown),
    };
    let previous = (offset > 0).then(|| {
        let mut p = params.clone();
        p.offset = Some(offset.saturating_sub(limit));
        format!("{}?{}", routes::SEARCH.path, p.to_query_string())
    });
    let next = (offset + hits.len() < total && !hits.is_empty()).then(|| {
        let mut p = params.clone();
        p.offset = Some(offset + limit);
        format!("{}?{}", routes::SEARCH.path, p.to_query_string())
    });
    let active = ActiveFilters::new(&params, &facets);
    view! {
        <div class="search-layout">
            <section class="search-main" aria-labelledby="search-results-heading">
                <h2 id="search-results-heading" class="visually-hidden">"Results"</h2>
                <p class="result-count">{summary}</p>
                {active.view()}
                <ol class="search-results" start=(offset + 1).to_string()>
                    {hits.into_iter().map(|hit| view! { <Hit hit params=params.clone()/> }).collect_view()}
                </ol>
                {(previous.is_some() || next.is_some()).then(|| view! {
                    <nav class="pager" aria-label="Result pages">
                        {previous.map(|href| view! { <a href=href rel="prev">"Previous results"</a> })}
                        {next.map(|href| view! { <a href=href rel="next">"More results"</a> })}
                    </nav>
                })}
            </section>
            {(total > 0).then(|| view! {
                <aside class="facets" aria-labelledby="search-facets-heading">
                    <h2 id="search-facets-heading">"Narrow down"</h2>
                    <Facet title="Type" counts=facets.kinds.clone() current=params.kind.clone() params=params.clone()
                        field=FacetField::Kind/>
                    <Facet title="Tags" counts=facets.tags.clone() current=params.tag.clone() params=params.clone()
                        field=FacetField::Tag/>
                    <Facet title="Authors" counts=facets.authors.clone() current=params.author.clone()
                        params=params.clone() field=FacetField::Author/>
                    <Facet title="Legacies" counts=facets.legacies.clone() current=params.legacy.clone()
                        params=params.clone() field=FacetField::Legacy/>
                </aside>
            })}
        </div>
    }
}

#[component]
fn Hit(hit: SearchHit, params: SearchParams) -> impl IntoView {
    let href = hit.href();
    let title = if hit.title.trim().is_empty() { "(untitled)".to_string() } else { hit.title.clone() };
    let mut meta = vec![match hit.kind {
        SearchKind::Story => "Story".to_string(),
        SearchKind::Legacy => "Legacy".to_string(),
        SearchKind::Media => "Media".to_string(),
        SearchKind::Person => "Person".to_string(),
    }];
    if hit.kind != SearchKind::Legacy && !hit.legacy_name.is_empty() {
        meta.push(format!("in {}", hit.legacy_name));
    }
    if !hit.author_name.is_empty() {
        meta.push(format!("by {}", hit.author_name));
    }
    meta.push(format!("changed {}", format_time(hit.updated_at)));
    let tags = hit.tags.clone();
    view! {
        <li class="search-hit">
            <h3><a dir="auto" href=href>{title}</a></h3>
            <p class="meta">{meta.join(" · ")}</p>
            // The snippet is the backend's own escaping of the text with <mark> around the
            // matches (search::highlight), never user HTML.
            {(!hit.snippet_html.is_empty()).then(|| view! { <p dir="auto" class="hit-snippet" inner_html=hit.snippet_html.clone()></p> })}
            {(!tags.is_empty()).then(|| view! {
                <ul class="tags" aria-label="Tags">
                    {tags.into_iter().map(|tag| {
                        let href = search_link(&params, |p| p.tag = tag.clone());
                        view! { <li><a dir="auto" href=href aria-label=format!("Only stories tagged {tag}")>{tag.clone()}</a></li> }
                    }).collect_view()}
                </ul>
            })}
        </li>
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FacetField {
    Kind,
    Tag,
    Author,
    Legacy,
}

impl FacetField {
    fn set(self, params: &mut SearchParams, value: String) {
        match self {
            FacetField::Kind => params.kind = value,
            FacetField::Tag => params.tag = value,
            FacetField::Author => params.author = value,
            FacetField::Legacy => params.legacy = value,
        }
    }
}

fn facet_label(field: FacetField, count: &FacetCount) -> String {
    match field {
        FacetField::Kind => SearchKind::parse(&count.value).map_or(count.label.clone(), |k| k.plural().to_string()),
        _ if count.label.is_empty() => count.value.clone(),
        _ => count.label.clone(),
    }
}

/// One facet: each value with its count, a link that narrows the search to it (or, for
/// the value already chosen, widens it again).
#[component]
fn Facet(
    title: &'static str,
    counts: Vec<FacetCount>,
    current: String,
    params: SearchParams,
    field: FacetField,
) -> impl IntoView {
    if counts.is_empty() {
        return ().into_any();
    }
    let heading_id = format!("facet-{}", title.to_lowercase());
    let labelled_by = heading_id.clone();
    view! {
        <section class="facet" aria-labelledby=labelled_by>
            <h3 dir="auto" id=heading_id>{title}</h3>
            <ul>
                {counts.into_iter().map(|count| {
                    let label = facet_label(field, &count);
                    let chosen = current.eq_ignore_ascii_case(&count.value);
                    let value = if chosen { String::new() } else { count.value.clone() };
                    let href = search_link(&params, |p| field.set(p, value));
                    view! {
                        <li>
                            <a href=href aria-current=chosen.then_some("true")>
                                {label}
                                " "
                                <span class="facet-count">{format!("({})", count.count)}</span>
                                {chosen.then(|| view! { <span class="visually-hidden">" (chosen; select to remove)"</span> })}
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

/// The filters in force, each with a link that removes it (also when nothing matches, so
/// there are no facets to widen the search with).
struct ActiveFilters(Vec<(String, String)>);

impl ActiveFilters {
    fn new(params: &SearchParams, facets: &types::SearchFacets) -> ActiveFilters {
        let name_in = |counts: &[FacetCount], id: &str, fallback: &str| {
            counts.iter().find(|c| c.value == id).map_or(fallback.to_string(), |c| c.label.clone())
        };
        let mut filters = Vec::new();
        let mut add = |label: String, change: &dyn Fn(&mut SearchParams)| {
            filters.push((label, search_link(params, change)));
        };
        if !params.kind.is_empty() {
            let label = SearchKind::parse(&params.kind).map_or(params.kind.clone(), |k| k.plural().to_string());
            add(format!("Type: {label}"), &|p| p.kind.clear());
        }
        if !params.tag.is_empty() {
            add(format!("Tag: {}", params.tag), &|p| p.tag.clear());
        }
        if !params.author.is_empty() {
            add(format!("Author: {}", name_in(&facets.authors, &params.author, "one person")), &|p| p.author.clear());
        }
        if !params.legacy.is_empty() {
            add(format!("Legacy: {}", name_in(&facets.legacies, &params.legacy, "one legacy")), &|p| p.legacy.clear());
        }
        if !params.from.is_empty() {
            add(format!("Changed from {}", params.from), &|p| p.from.clear());
        }
        if !params.to.is_empty() {
            add(format!("Changed until {}", params.to), &|p| p.to.clear());
        }
        ActiveFilters(filters)
    }

    fn view(self) -> impl IntoView {
        (!self.0.is_empty()).then(|| {
            view! {
                <ul class="active-filters" aria-label="Filters in force">
                    {self.0.into_iter().map(|(label, href)| view! {
                        <li>
                            {label.clone()}
                            " "
                            <a href=href aria-label=format!("Remove the filter {label}")>"remove"</a>
                        </li>
                    }).collect_view()}
                </ul>
            }
        })
    }
}
