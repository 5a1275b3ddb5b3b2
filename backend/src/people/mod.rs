//! People and the family graph: persons (one legacy each, whose roles decide who reads
//! and edits them; a living person private to its editors), parent–child and partner
//! relationships (siblings, cousins and the rest derived), revisions, the guard rails
//! of the graph, "how are we related", family trees and GEDCOM import (in the
//! background) and export.

pub mod dates;
pub mod exchange;
pub mod gedcom;
pub mod gedzip;
pub mod graph;
pub mod imports;
pub mod kinship;
pub mod model;
pub mod relatives;
pub mod repo;
pub mod service;
pub mod tags;
pub mod timeline;

pub use imports::GedcomImporter;
pub use service::People;
