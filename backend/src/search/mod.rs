//! Search: one box over stories and legacies (media captions later), with typeahead,
//! filters, facets and highlights, showing only what the reader may read.
//!
//! It owns an embedded tantivy index under `<data_dir>/search` that is derived data:
//! the database is the truth, the [`Indexer`] (an event consumer) keeps the index in
//! line with it, and the index can always be rebuilt from it ([`Search::rebuild`],
//! and on start by [`Search::open_or_rebuild`] when it is missing, corrupt or behind).
//!
//! - `schema`, `tokenize`: what is indexed and how text becomes terms (words with
//!   English stemming; CJK as bigrams);
//! - `access`: the read policy as terms inside every query;
//! - `index`: generations on disk, atomic switch, writes;
//! - `query`, `highlight`: from typed text to ranked hits, facets and snippets;
//! - `indexer`, `repo`, `service`: the consumer, the SQL, the public handle.

pub mod access;
pub mod highlight;
pub mod index;
pub mod indexer;
pub mod model;
pub mod query;
pub mod repo;
pub mod schema;
pub mod service;
pub mod tokenize;

pub use indexer::Indexer;
pub use model::{FacetCount, Facets, Hit, Kind, Reader, RebuildReport, SearchQuery, SearchResults, Sort, Suggestion};
pub use service::Search;
