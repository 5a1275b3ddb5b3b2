//! From what a user typed to ranked, permission-filtered hits with facets.
//!
//! The text is never handed to tantivy's query parser: it is split here into words and
//! `"quoted phrases"`, analyzed exactly as documents are, and the query is built from
//! those terms, so `title:(foo AND "` is just the words title, foo and and. Every word
//! must match somewhere (title ×3, tags ×1.5, body, legacy name); a CJK run must match
//! as the phrase of its bigrams; the last word also matches as a prefix (typeahead);
//! words of five or more letters also match with one typo. The reader's grants and the
//! filters are required, zero-scored clauses of the same query, so totals and facets
//! only ever count what the reader may see.

use std::collections::HashMap;
use std::ops::Bound;

use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::StrColumn;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query,
    RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocId, Order, Score, SegmentOrdinal, SegmentReader, TantivyDocument, Term};

use crate::error::Result;
use crate::search::highlight::Highlighter;
use crate::search::index::{index_error, Generation};
use crate::search::model::{
    FacetCount, Facets, Hit, Kind, Reader, SearchQuery, SearchResults, Sort, Suggestion, LIMIT_DEFAULT, LIMIT_MAX,
    OFFSET_MAX, TEXT_MAX_CHARS, WORDS_MAX,
};
use crate::search::schema::{names, Fields, FACET_SEPARATOR};
use crate::search::{access, tokenize};
use crate::validate::Problems;

pub const SUGGEST_MAX: usize = 20;
const SNIPPET_CHARS: usize = 240;
/// Values listed per facet, most frequent first.
const FACET_VALUES_MAX: usize = 50;
/// Typo matching only for words this long: shorter ones have too many neighbours
/// ("bee" is one edit from "be", "bed", "see"…).
const FUZZY_MIN_CHARS: usize = 5;
/// A one-letter prefix matches half the dictionary; wait for a second letter.
const PREFIX_MIN_CHARS: usize = 2;

/// One required part of the query.
#[derive(Debug, Clone, PartialEq)]
enum Group {
    Word {
        stem: String,
        plain: String,
        prefix: bool,
        fuzzy: bool,
    },
    /// Stemmed tokens that must be adjacent: a quoted phrase or a CJK run.
    Phrase(Vec<String>),
}

/// The user's text, analyzed.
#[derive(Debug, Clone)]
pub struct Analyzed {
    groups: Vec<Group>,
    pub highlighter: Highlighter,
}

/// How much each kind of match counts.
struct Weights {
    title: f32,
    body: f32,
    tags: f32,
    legacy_name: f32,
    extra: f32,
    title_fuzzy: f32,
    text_fuzzy: f32,
    title_prefix: f32,
    text_prefix: f32,
    /// Whether the word still being typed also forgives typos in the text, not only in
    /// titles. Typeahead says no: run against the whole text's dictionary, that automaton
    /// was most of a suggestion's time (bench: ~12 ms of a 15 ms p95 on 100k stories),
    /// for matches the word's prefix query mostly finds anyway.
    typed_word_fuzzy_in_text: bool,
}

/// Exact (BM25-scored) matches dominate; prefix and typo matches score a constant
/// below a typical exact match, so they fill in rather than reorder.
const SEARCH: Weights = Weights {
    title: 3.0,
    body: 1.0,
    tags: 1.5,
    legacy_name: 1.0,
    extra: 0.5,
    title_fuzzy: 0.6,
    text_fuzzy: 0.2,
    title_prefix: 0.9,
    text_prefix: 0.3,
    typed_word_fuzzy_in_text: true,
};

/// Typeahead is about titles: a title that starts with what is typed comes first.
const SUGGEST: Weights = Weights {
    title: 3.0,
    body: 0.5,
    tags: 1.0,
    legacy_name: 1.0,
    extra: 0.25,
    title_fuzzy: 1.0,
    text_fuzzy: 0.1,
    title_prefix: 3.0,
    text_prefix: 0.2,
    typed_word_fuzzy_in_text: false,
};

/// Splits the text into words and phrases and analyzes them like documents.
pub fn analyze(text: &str) -> Analyzed {
    let (mut stemmed, mut plain) = (tokenize::stemmed(), tokenize::plain());
    let mut groups = Vec::new();
    // The last bare word is still being typed unless a space or quote follows it.
    let typing = !text.ends_with(|c: char| c.is_whitespace() || c == '"');
    let mut last_is_bare_word = false;
    let quotes = text.matches('"').count();
    for (i, part) in text.split('"').enumerate() {
        // Odd parts are inside quotes, except after a quote that is never closed.
        let quoted = i % 2 == 1 && !(quotes % 2 == 1 && i == quotes);
        if quoted {
            let stems: Vec<String> = tokenize::tokens(&mut stemmed, part).into_iter().map(|t| t.text).collect();
            match stems.len() {
                0 => continue,
                1 => {
                    let plain = tokenize::tokens(&mut plain, part).into_iter().next().map(|t| t.text);
                    let plain = plain.unwrap_or_else(|| stems[0].clone());
                    groups.push(Group::Word { stem: stems[0].clone(), plain, prefix: false, fuzzy: false });
                }
                _ => groups.push(Group::Phrase(stems)),
            }
            last_is_bare_word = false;
            continue;
        }
        for (run, cjk) in script_runs(part) {
            let stems = tokenize::tokens(&mut stemmed, run);
            if stems.is_empty() {
                continue;
            }
            if cjk {
                if stems.len() == 1 {
                    let token = stems[0].text.clone();
                    // A lone character is indexed only inside bigrams: match their start.
                    let prefix = token.chars().count() == 1;
                    groups.push(Group::Word { stem: token.clone(), plain: token, prefix, fuzzy: false });
                } else {
                    groups.push(Group::Phrase(stems.into_iter().map(|t| t.text).collect()));
                }
                last_is_bare_word = false;
            } else {
                let plains = tokenize::tokens(&mut plain, run);
                for (stem, plain) in stems.into_iter().zip(plains) {
                    let fuzzy = plain.text.chars().count() >= FUZZY_MIN_CHARS;
                    groups.push(Group::Word { stem: stem.text, plain: plain.text, prefix: false, fuzzy });
                }
                last_is_bare_word = true;
            }
        }
    }
    if typing && last_is_bare_word {
        if let Some(Group::Word { plain, prefix, .. }) = groups.last_mut() {
            *prefix = plain.chars().count() >= PREFIX_MIN_CHARS;
        }
    }
    let mut highlighter = Highlighter::default();
    for group in &groups {
        match group {
            Group::Word { stem, plain, prefix, fuzzy } => {
                highlighter.stems.insert(stem.clone());
                if *prefix {
                    highlighter.prefixes.push(plain.clone());
                }
                if *fuzzy {
                    highlighter.fuzzy.push(plain.clone());
                }
            }
            Group::Phrase(stems) => highlighter.stems.extend(stems.iter().cloned()),
        }
    }
    Analyzed { groups, highlighter }
}

/// Consecutive stretches of CJK and of everything else, with which they are.
fn script_runs(text: &str) -> Vec<(&str, bool)> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut current: Option<bool> = None;
    for (i, c) in text.char_indices() {
        let cjk = tokenize::is_cjk(c);
        if current.is_some_and(|was| was != cjk) {
            runs.push((&text[start..i], !cjk));
            start = i;
        }
        current = Some(cjk);
    }
    if let Some(cjk) = current {
        runs.push((&text[start..], cjk));
    }
    runs
}

/// A search, checked.
pub struct Plan {
    analyzed: Analyzed,
    kinds: Vec<Kind>,
    legacy_id: Option<String>,
    tag: Option<String>,
    author_id: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    sort: Sort,
    limit: usize,
    offset: usize,
}

/// Checks the text (shared by search and suggest) and analyzes it.
fn checked_text(problems: &mut Problems, text: &str) -> Analyzed {
    if text.trim().is_empty() {
        problems.add("q", "is required: type what to search for");
    } else if text.chars().count() > TEXT_MAX_CHARS {
        problems.add("q", format!("must be at most {TEXT_MAX_CHARS} characters"));
    } else {
        let analyzed = analyze(text);
        if analyzed.groups.len() > WORDS_MAX {
            problems.add("q", format!("must have at most {WORDS_MAX} words"));
        }
        return analyzed;
    }
    Analyzed { groups: Vec::new(), highlighter: Highlighter::default() }
}

pub fn plan(query: &SearchQuery) -> Result<Plan> {
    let mut problems = Problems::default();
    let analyzed = checked_text(&mut problems, &query.text);
    let limit = query.limit.unwrap_or(LIMIT_DEFAULT);
    if !(1..=LIMIT_MAX).contains(&limit) {
        problems.add("limit", format!("must be between 1 and {LIMIT_MAX}"));
    }
    if query.offset > OFFSET_MAX {
        problems.add("offset", format!("must be at most {OFFSET_MAX}"));
    }
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from > to {
            problems.add("to", "must not be before from");
        }
    }
    problems.into_result()?;
    let given = |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(String::from);
    Ok(Plan {
        analyzed,
        kinds: query.kinds.clone(),
        legacy_id: given(&query.legacy_id),
        // Tags are stored lower-cased (stories::model::tags).
        tag: given(&query.tag).map(|t| t.to_lowercase()),
        author_id: given(&query.author_id),
        from: query.from,
        to: query.to,
        sort: query.sort,
        limit,
        offset: query.offset,
    })
}

/// Runs a planned search on one generation (blocking).
pub fn search(generation: &Generation, reader: &Reader, plan: &Plan) -> Result<SearchResults> {
    if plan.analyzed.groups.is_empty() {
        // Only punctuation: nothing to look for, which is not the user's error.
        return Ok(SearchResults { total: 0, hits: Vec::new(), facets: Facets::default() });
    }
    let f = generation.fields;
    let query = full_query(f, reader, plan, &plan.analyzed.groups, &SEARCH);
    let searcher = generation.reader.searcher();
    let top = TopDocs::with_limit(plan.limit).and_offset(plan.offset);
    let (ranked, total, facets) = match plan.sort {
        Sort::Relevance => {
            let (top, total, facets) =
                searcher.search(&query, &(top.order_by_score(), Count, FacetCollector)).map_err(index_error)?;
            (top, total, facets)
        }
        Sort::Newest => {
            let newest = top.order_by_fast_field::<i64>(names::UPDATED_AT, Order::Desc);
            let (top, total, facets) =
                searcher.search(&query, &(newest, Count, FacetCollector)).map_err(index_error)?;
            (top.into_iter().map(|(_, address)| (0.0, address)).collect(), total, facets)
        }
    };
    let mut hits = Vec::with_capacity(ranked.len());
    for (score, address) in ranked {
        let doc: TantivyDocument = searcher.doc(address).map_err(index_error)?;
        hits.push(hit(f, &doc, score, &plan.analyzed.highlighter));
    }
    Ok(SearchResults { total, hits, facets: facets.into_facets() })
}

/// Typeahead entries for `text` (blocking): stories and legacies, title matches first.
pub fn suggest(generation: &Generation, reader: &Reader, text: &str, limit: usize) -> Result<Vec<Suggestion>> {
    let mut problems = Problems::default();
    let analyzed = checked_text(&mut problems, text);
    if !(1..=SUGGEST_MAX).contains(&limit) {
        problems.add("limit", format!("must be between 1 and {SUGGEST_MAX}"));
    }
    problems.into_result()?;
    if analyzed.groups.is_empty() {
        return Ok(Vec::new());
    }
    let f = generation.fields;
    let plan = Plan {
        analyzed: analyzed.clone(),
        kinds: vec![Kind::Story, Kind::Legacy],
        legacy_id: None,
        tag: None,
        author_id: None,
        from: None,
        to: None,
        sort: Sort::Relevance,
        limit,
        offset: 0,
    };
    let query = full_query(f, reader, &plan, &analyzed.groups, &SUGGEST);
    let searcher = generation.reader.searcher();
    let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score()).map_err(index_error)?;
    let mut suggestions = Vec::with_capacity(top.len());
    for (_, address) in top {
        let doc: TantivyDocument = searcher.doc(address).map_err(index_error)?;
        let Some(kind) = Kind::parse(&text_of(&doc, f.kind)) else { continue };
        suggestions.push(Suggestion {
            kind,
            id: text_of(&doc, f.id),
            title: text_of(&doc, f.title),
            legacy_name: text_of(&doc, f.legacy_name),
        });
    }
    Ok(suggestions)
}

/// The text clauses plus the grants and filters, all required.
fn full_query(f: Fields, reader: &Reader, plan: &Plan, groups: &[Group], weights: &Weights) -> BooleanQuery {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
        groups.iter().map(|group| (Occur::Must, group_query(f, group, weights))).collect();
    let grants = access::reader_grants(reader).into_iter().map(|g| Term::from_field_text(f.access, &g));
    clauses.push(filter(TermSetQuery::new(grants)));
    if !plan.kinds.is_empty() {
        let kinds = plan.kinds.iter().map(|k| Term::from_field_text(f.kind, k.as_str()));
        clauses.push(filter(TermSetQuery::new(kinds)));
    }
    for (field, value) in [(f.legacy_id, &plan.legacy_id), (f.tag, &plan.tag), (f.author_id, &plan.author_id)] {
        if let Some(value) = value {
            clauses.push(filter(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic)));
        }
    }
    if plan.from.is_some() || plan.to.is_some() {
        let bound = |value: Option<i64>| match value {
            Some(v) => Bound::Included(Term::from_field_i64(f.updated_at, v)),
            None => Bound::Unbounded,
        };
        clauses.push(filter(RangeQuery::new(bound(plan.from), bound(plan.to))));
    }
    BooleanQuery::new(clauses)
}

/// A required clause that narrows without scoring.
fn filter(query: impl Query) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(Box::new(query), 0.0)))
}

fn boosted(query: impl Query, boost: f32) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(BoostQuery::new(Box::new(query), boost)))
}

/// Any one field matching the group is enough.
fn group_query(f: Fields, group: &Group, w: &Weights) -> Box<dyn Query> {
    let ranked = [(f.title, w.title), (f.tags, w.tags), (f.body, w.body), (f.legacy_name, w.legacy_name)];
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    match group {
        Group::Word { stem, plain, prefix, fuzzy } => {
            for (field, boost) in ranked.into_iter().chain([(f.extra, w.extra)]) {
                let term = Term::from_field_text(field, stem);
                should.push(boosted(TermQuery::new(term, IndexRecordOption::WithFreqs), boost));
            }
            let plain_fields =
                [(f.title_plain, w.title_fuzzy, w.title_prefix), (f.text_plain, w.text_fuzzy, w.text_prefix)];
            for (field, fuzzy_boost, prefix_boost) in plain_fields {
                let term = Term::from_field_text(field, plain);
                if *fuzzy && (!*prefix || w.typed_word_fuzzy_in_text || field == f.title_plain) {
                    should.push(boosted(FuzzyTermQuery::new(term.clone(), 1, true), fuzzy_boost));
                }
                if *prefix {
                    should.push(boosted(PhrasePrefixQuery::new(vec![term]), prefix_boost));
                }
            }
        }
        Group::Phrase(stems) => {
            for (field, boost) in ranked {
                let terms = stems.iter().map(|s| Term::from_field_text(field, s)).collect();
                should.push(boosted(PhraseQuery::new(terms), boost));
            }
        }
    }
    Box::new(BooleanQuery::new(should))
}

fn hit(f: Fields, doc: &TantivyDocument, score: Score, highlighter: &Highlighter) -> Hit {
    Hit {
        kind: Kind::parse(&text_of(doc, f.kind)).unwrap_or(Kind::Story),
        id: text_of(doc, f.id),
        title: text_of(doc, f.title),
        snippet_html: highlighter.snippet(&text_of(doc, f.body), SNIPPET_CHARS),
        legacy_id: text_of(doc, f.legacy_id).into(),
        legacy_name: text_of(doc, f.legacy_name),
        author_name: text_of(doc, f.author_name),
        tags: doc.get_all(f.tags).filter_map(|v| v.as_str().map(String::from)).collect(),
        updated_at: doc.get_first(f.updated_at).and_then(|v| v.as_i64()).unwrap_or_default(),
        score,
    }
}

fn text_of(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string()
}

/// Counts kinds, tags, authors and legacies over every matching document, from the
/// fast columns (no stored document is read).
struct FacetCollector;

const FACET_COLUMNS: [&str; 4] = [names::KIND, names::TAG, names::AUTHOR_FACET, names::LEGACY_FACET];

/// Count per value, one map per column of [`FACET_COLUMNS`].
#[derive(Debug, Default)]
struct FacetTallies([HashMap<String, u64>; 4]);

struct FacetSegmentCollector {
    columns: Vec<Option<StrColumn>>,
    /// Counts per term ordinal (cheap while collecting; resolved to text at the end).
    counts: [HashMap<u64, u64>; 4],
}

impl Collector for FacetCollector {
    type Fruit = FacetTallies;
    type Child = FacetSegmentCollector;

    fn for_segment(&self, _: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<FacetSegmentCollector> {
        let fast = segment.fast_fields();
        let columns = FACET_COLUMNS.iter().map(|name| fast.str(name)).collect::<tantivy::Result<Vec<_>>>()?;
        Ok(FacetSegmentCollector { columns, counts: Default::default() })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetTallies>) -> tantivy::Result<FacetTallies> {
        let mut merged = FacetTallies::default();
        for fruit in fruits {
            for (into, from) in merged.0.iter_mut().zip(fruit.0) {
                for (value, count) in from {
                    *into.entry(value).or_default() += count;
                }
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for FacetSegmentCollector {
    type Fruit = FacetTallies;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (column, counts) in self.columns.iter().zip(self.counts.iter_mut()) {
            if let Some(column) = column {
                for ord in column.term_ords(doc) {
                    *counts.entry(ord).or_default() += 1;
                }
            }
        }
    }

    fn harvest(self) -> FacetTallies {
        let mut tallies = FacetTallies::default();
        for ((column, counts), into) in self.columns.iter().zip(self.counts).zip(tallies.0.iter_mut()) {
            let Some(column) = column else { continue };
            let mut text = String::new();
            for (ord, count) in counts {
                text.clear();
                if column.ord_to_str(ord, &mut text).unwrap_or(false) {
                    *into.entry(text.clone()).or_default() += count;
                }
            }
        }
        tallies
    }
}

impl FacetTallies {
    fn into_facets(self) -> Facets {
        let [kinds, tags, authors, legacies] = self.0;
        let plain = |counts: HashMap<String, u64>| {
            top(counts.into_iter().map(|(value, count)| FacetCount { label: value.clone(), value, count }).collect())
        };
        Facets { kinds: plain(kinds), tags: plain(tags), authors: labelled(authors), legacies: labelled(legacies) }
    }
}

/// `id␟name` values counted by id (a rename not yet reindexed everywhere still counts
/// as one author), labelled with the name most documents carry.
fn labelled(counts: HashMap<String, u64>) -> Vec<FacetCount> {
    let mut by_id: HashMap<String, (u64, String, u64)> = HashMap::new();
    for (value, count) in counts {
        let (id, name) = value.split_once(FACET_SEPARATOR).unwrap_or((value.as_str(), ""));
        let entry = by_id.entry(id.to_string()).or_insert((0, String::new(), 0));
        entry.0 += count;
        if count > entry.2 {
            entry.1 = name.to_string();
            entry.2 = count;
        }
    }
    top(by_id.into_iter().map(|(value, (count, label, _))| FacetCount { value, label, count }).collect())
}

fn top(mut counts: Vec<FacetCount>) -> Vec<FacetCount> {
    counts
        .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)).then_with(|| a.value.cmp(&b.value)));
    counts.truncate(FACET_VALUES_MAX);
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Group> {
        analyze(text).groups
    }

    fn word(stem: &str, plain: &str, prefix: bool, fuzzy: bool) -> Group {
        Group::Word { stem: stem.into(), plain: plain.into(), prefix, fuzzy }
    }

    #[test]
    fn the_last_word_is_a_prefix_while_it_is_being_typed() {
        assert_eq!(
            words("grandma's gar"),
            [word("grandma", "grandma", false, true), word("s", "s", false, false), word("gar", "gar", true, false)]
        );
        assert_eq!(words("garden "), [word("garden", "garden", false, true)]);
        assert_eq!(words("g"), [word("g", "g", false, false)], "one letter is too short a prefix");
    }

    #[test]
    fn quotes_make_phrases_and_an_unclosed_quote_is_text() {
        assert_eq!(
            words("\"kept bees\" honey"),
            [Group::Phrase(vec!["kept".into(), "bee".into()]), word("honey", "honey", true, true)]
        );
        assert_eq!(
            words("title:(foo AND \""),
            [word("titl", "title", false, true), word("foo", "foo", false, false), word("and", "and", false, false)]
        );
        assert_eq!(words("say \"hello"), [word("say", "say", false, false), word("hello", "hello", true, true)]);
    }

    #[test]
    fn cjk_runs_are_phrases_of_bigrams_beside_latin_words() {
        assert_eq!(words("東京tower"), [word("東京", "東京", false, false), word("tower", "tower", true, true)]);
        assert_eq!(words("日本語"), [Group::Phrase(vec!["日本".into(), "本語".into()])]);
        assert_eq!(words("猫"), [word("猫", "猫", true, false)]);
    }

    #[test]
    fn punctuation_alone_makes_no_groups() {
        assert!(words("*** ?! \"\" ()").is_empty());
    }

    #[test]
    fn bad_requests_name_their_field() {
        let field_of = |q: SearchQuery| match plan(&q) {
            Err(crate::Error::Invalid(fields)) => fields[0].field.clone(),
            other => panic!("expected invalid input, got {:?}", other.map(|_| ())),
        };
        assert_eq!(field_of(SearchQuery::text("  ")), "q");
        assert_eq!(field_of(SearchQuery::text("a".repeat(TEXT_MAX_CHARS + 1))), "q");
        assert_eq!(field_of(SearchQuery::text("w ".repeat(WORDS_MAX + 1))), "q");
        assert_eq!(field_of(SearchQuery { limit: Some(0), ..SearchQuery::text("x") }), "limit");
        assert_eq!(field_of(SearchQuery { from: Some(2), to: Some(1), ..SearchQuery::text("x") }), "to");
        assert!(plan(&SearchQuery::text("a".repeat(TEXT_MAX_CHARS))).is_ok());
    }
}
