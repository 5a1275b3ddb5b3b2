//! People and the family graph: persons (one legacy each, whose roles decide who reads
//! and edits them; a living person private to its editors), parent–child and partner
//! relationships (siblings, cousins and the rest derived), revisions, the guard rails
//! of the graph and "how are we related".

pub mod dates;
pub mod exchange;
pub mod gedcom;
pub mod graph;
pub mod kinship;
pub mod model;
pub mod repo;
pub mod service;

pub use service::People;
