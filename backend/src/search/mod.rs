//! Search: one box over stories and legacies (media captions later), with typeahead,
//! filters, facets and highlights, showing only what the reader may read.
//!
//! It owns an embedded tantivy index under `<data_dir>/search` that is derived data:
//! the database is the truth, the [`Indexer`] (an event consumer) keeps the index in
//! line with it, and the index can always be rebuilt from it ([`Search::rebuild`],
//! and on start by [`Search::open_or_rebuild`] when it is missing, corrupt or behind).
//! A write to the index that fails (a full disk) is retried by the event machinery and
//! reconciled with the database while the server runs ([`Search::reconcile`]).
//!
//! - `schema`, `tokenize`: what is indexed and how text becomes terms (words with
//!   English stemming; CJK as bigrams);
//! - `access`: the read policy as terms inside every query;
//! - `index`: generations on disk, atomic switch, writes;
//! - `query`, `highlight`: from typed text to ranked hits, facets and snippets;
//! - `indexer`, `repo`, `service`: the consumer, the SQL, the public handle.
//! - `tail`: at start, the documents the outbox's newest events name are refreshed
//!   (what a killed replica held is not waited for).

pub mod access;
pub mod highlight;
pub mod index;
pub mod indexer;
pub mod model;
pub mod query;
pub mod repo;
pub mod schema;
pub mod service;
pub mod tail;
pub mod tokenize;

pub use indexer::Indexer;
pub use model::{FacetCount, Facets, Hit, Kind, Reader, RebuildReport, SearchQuery, SearchResults, Sort, Suggestion};
pub use service::Search;

/// How often the server checks whether the index needs reconciling
/// ([`Search::reconcile`]; nothing is done while no write has failed).
pub const RECONCILE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
