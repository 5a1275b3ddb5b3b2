//! The index schema: one document per story, legacy (and, later, media item), told
//! apart by `kind`. Text is indexed twice: stemmed with positions for ranking and
//! phrases, and plain without positions for prefix and typo matching. Identifiers are
//! raw terms (filters) and fast columns (facets, sorting).

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};

use crate::search::tokenize::{PLAIN, STEMMED};

/// Bumped whenever the schema or the analyzers change, so an index built by an older
/// binary is rebuilt rather than searched with mismatched terms.
pub const SCHEMA_VERSION: u32 = 2;

/// Separates an id from its label in the `*_facet` columns (a control character,
/// which no id or validated name contains).
pub const FACET_SEPARATOR: char = '\u{1f}';

#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// `story:<id>` / `legacy:<id>`: the unit of upsert and delete.
    pub key: Field,
    pub kind: Field,
    pub id: Field,
    pub legacy_id: Field,
    pub author_id: Field,
    /// `<legacy id>␟<legacy name>` and `<author id>␟<author name>`, for facet labels.
    pub legacy_facet: Field,
    pub author_facet: Field,
    /// Who may see the document, as terms a reader's grants are matched against
    /// (see `search::access`).
    pub access: Field,
    /// Exact tags, for the tag filter and facet.
    pub tag: Field,
    pub visibility: Field,
    pub status: Field,
    pub title: Field,
    pub title_plain: Field,
    /// Plain text of the story's Markdown, or the legacy's summary.
    pub body: Field,
    pub legacy_name: Field,
    pub author_name: Field,
    /// Tags as searchable words.
    pub tags: Field,
    /// Body, tags and legacy name without stemming, for prefix and fuzzy matching.
    pub text_plain: Field,
    /// Low-weight extra words: a legacy's born and died dates.
    pub extra: Field,
    pub born: Field,
    pub died: Field,
    pub created_at: Field,
    pub updated_at: Field,
    pub published_at: Field,
}

/// Column names that code reads by name (fast fields).
pub mod names {
    pub const KIND: &str = "kind";
    pub const TAG: &str = "tag";
    pub const LEGACY_FACET: &str = "legacy_facet";
    pub const AUTHOR_FACET: &str = "author_facet";
    pub const UPDATED_AT: &str = "updated_at";
}

pub fn build() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let raw_fast = STRING | FAST | STORED;
    let ranked = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(STEMMED)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let plain = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(PLAIN).set_index_option(IndexRecordOption::Basic),
    );
    let date = NumericOptions::default().set_indexed().set_fast().set_stored();
    let fields = Fields {
        key: builder.add_text_field("key", STRING),
        kind: builder.add_text_field(names::KIND, raw_fast.clone()),
        id: builder.add_text_field("id", STRING | STORED),
        legacy_id: builder.add_text_field("legacy_id", raw_fast.clone()),
        author_id: builder.add_text_field("author_id", raw_fast.clone()),
        legacy_facet: builder.add_text_field(names::LEGACY_FACET, STRING | FAST),
        author_facet: builder.add_text_field(names::AUTHOR_FACET, STRING | FAST),
        access: builder.add_text_field("access", STRING),
        tag: builder.add_text_field(names::TAG, STRING | FAST),
        visibility: builder.add_text_field("visibility", STRING | STORED),
        status: builder.add_text_field("status", STRING | STORED),
        title: builder.add_text_field("title", ranked(true)),
        title_plain: builder.add_text_field("title_plain", plain.clone()),
        body: builder.add_text_field("body", ranked(true)),
        legacy_name: builder.add_text_field("legacy_name", ranked(true)),
        author_name: builder.add_text_field("author_name", STORED),
        tags: builder.add_text_field("tags", ranked(true)),
        text_plain: builder.add_text_field("text_plain", plain),
        extra: builder.add_text_field("extra", ranked(false)),
        born: builder.add_text_field("born", STORED),
        died: builder.add_text_field("died", STORED),
        created_at: builder.add_i64_field("created_at", date.clone()),
        updated_at: builder.add_i64_field(names::UPDATED_AT, date),
        published_at: builder.add_i64_field("published_at", NumericOptions::default().set_indexed().set_stored()),
    };
    (builder.build(), fields)
}
