//! GEDCOM import and export of a legacy's people. An import (queued by `imports`, after
//! the whole file was read, so a file that does not read writes nothing) commits every
//! [`RECORDS_PER_TRANSACTION`] records, each person or relationship with its revision and
//! event: on SQLite one long transaction would hold the single writer for the whole file
//! and turn everyone else's writes away. An import stopped part-way is run again (its
//! event is redelivered) and, since each person keeps the GEDCOM identifier it came with,
//! finds what it wrote and goes on; a re-import updates instead of duplicating, and an
//! export writes the identifiers back. A record that cannot become a person or a
//! relationship is skipped and reported with its line.

use std::collections::{HashMap, HashSet};

use types::events::{PersonCreated, PersonUpdated, RelationshipAdded, RelationshipFacts};
use types::{ImportId, ImportReport, ImportSkip, LegacyId, ParentKind, PersonId, RelationshipId, Sex};

use crate::db::{Db, Tx};
use crate::error::{Error, Result};
use crate::identity::User;
use crate::people::gedcom::{self, ChildKind, Document, Family, Individual, Version};
use crate::people::model::{self, PersonFields, PersonRow};
use crate::people::repo;
use crate::people::service::append;
use crate::people::People;
use crate::time::{new_id, now_millis};

/// The largest file an import reads.
pub const FILE_MAX_BYTES: usize = 50 * 1024 * 1024;
/// How many records an import writes between two updates of its progress.
const PROGRESS_EVERY: u64 = 50;
/// How many people and relationships one transaction of an import writes: about half a
/// second of SQLite's single writer, well under the 5 s other writers wait for it.
pub const RECORDS_PER_TRANSACTION: usize = 500;

/// A person's fields from a GEDCOM record: names and places cut to what a person form
/// accepts, dates kept as written (an unread date stays a phrase), notes as the bio.
fn fields_of(individual: &Individual) -> PersonFields {
    let cut = |text: &str, max: usize| crate::text::normalize(text.trim()).chars().take(max).collect::<String>();
    let event = |e: &Option<gedcom::Event>| {
        e.as_ref().map_or((String::new(), String::new()), |e| {
            (cut(&e.date, model::DATE_MAX_CHARS), cut(&e.place, model::PLACE_MAX_CHARS))
        })
    };
    let (birth_date, birth_place) = event(&individual.birth);
    let (death_date, death_place) = event(&individual.death);
    let mut nicknames: Vec<String> = Vec::new();
    for nickname in &individual.nicknames {
        let nickname = cut(nickname, model::NAME_MAX_CHARS);
        if !nickname.is_empty() && !nicknames.contains(&nickname) && nicknames.len() < model::NICKNAMES_MAX {
            nicknames.push(nickname);
        }
    }
    PersonFields {
        given_names: cut(&individual.given_names, model::NAME_MAX_CHARS),
        surname: cut(&individual.surname, model::NAME_MAX_CHARS),
        birth_surname: cut(&individual.birth_surname, model::NAME_MAX_CHARS),
        nicknames: nicknames.join("\n"),
        sex: match individual.sex {
            Some('F') => Sex::Female,
            Some('M') => Sex::Male,
            _ => Sex::Unknown,
        },
        birth_date,
        birth_place,
        death_date,
        death_place,
        living: individual.living,
        bio: cut(&individual.notes.join("\n\n"), model::BIO_MAX_CHARS),
        portrait_id: None,
    }
}

/// Commits `tx` and opens the next one once it holds [`RECORDS_PER_TRANSACTION`] records
/// (`in_tx`, counting the one just written); returns the open transaction and how many
/// records it holds. (Committed before the next begins: on SQLite the next would wait
/// for the writer the full one holds.)
async fn commit_every(db: &Db, tx: Tx, in_tx: usize) -> Result<(Tx, usize)> {
    if in_tx < RECORDS_PER_TRANSACTION {
        return Ok((tx, in_tx));
    }
    tx.commit().await?;
    Ok((db.begin().await?, 0))
}

fn parent_kind(kind: ChildKind) -> ParentKind {
    match kind {
        ChildKind::Birth => ParentKind::Birth,
        ChildKind::Adopted => ParentKind::Adoptive,
        ChildKind::Foster => ParentKind::Foster,
        ChildKind::Step => ParentKind::Step,
    }
}

fn child_kind(kind: &str) -> ChildKind {
    match kind {
        "adoptive" => ChildKind::Adopted,
        "foster" => ChildKind::Foster,
        "step" => ChildKind::Step,
        _ => ChildKind::Birth,
    }
}

/// An edge the file asks for, before it is checked.
struct Wanted<'a> {
    kind: &'static str,
    subkind: &'static str,
    a: &'a str,
    b: &'a str,
    /// A partnership's start (the family's marriage date as the file gives it).
    start_date: &'a str,
    line: usize,
}

impl People {
    /// Writes a read GEDCOM file's people and families into a legacy, a transaction every
    /// [`RECORDS_PER_TRANSACTION`] records (the caller has checked the user may edit its
    /// people). With `job`, the records
    /// written so far are counted for its progress bar.
    pub(crate) async fn apply_gedcom(
        &self,
        user: &User,
        legacy_id: &LegacyId,
        document: &Document,
        job: Option<&ImportId>,
    ) -> Result<ImportReport> {
        let mut written = 0u64;
        let count = |written: &mut u64| {
            *written += 1;
            if let Some(job) = job.filter(|_| written.is_multiple_of(PROGRESS_EVERY)) {
                self.progress.set(job, *written);
            }
        };
        let mut report = ImportReport {
            skipped: document.warnings.iter().map(|w| ImportSkip { line: w.line, reason: w.reason.clone() }).collect(),
            ..ImportReport::default()
        };
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        // Records written in the transaction open now.
        let mut in_tx = 0;
        let existing: HashMap<String, PersonRow> = repo::with_gedcom_xref(&mut tx, legacy_id)
            .await?
            .into_iter()
            .filter_map(|p| Some((p.gedcom_xref.clone()?, p)))
            .collect();
        let mut ids: HashMap<&str, PersonId> = HashMap::new();
        for individual in &document.people {
            count(&mut written);
            let fields = fields_of(individual);
            if fields.given_names.is_empty() && fields.surname.is_empty() && fields.birth_surname.is_empty() {
                report.skipped.push(ImportSkip { line: individual.line, reason: "a person without a name".into() });
                continue;
            }
            match existing.get(&individual.xref) {
                Some(current) => {
                    let mut fields = fields;
                    fields.portrait_id = current.fields.portrait_id.clone();
                    if current.fields == fields {
                        report.unchanged += 1;
                    } else {
                        repo::update_tx(&mut tx, &current.id, current.version, &fields, &user.id, now).await?;
                        let version = current.version + 1;
                        repo::insert_revision_tx(&mut tx, &current.id, version, &fields, &user.id, now).await?;
                        let updated = PersonUpdated {
                            person_id: current.id.clone(),
                            legacy_id: legacy_id.clone(),
                            version,
                            living: fields.living,
                        };
                        append(&mut tx, &current.id, user, updated).await?;
                        report.updated += 1;
                    }
                    ids.insert(&individual.xref, current.id.clone());
                }
                None => {
                    let id = PersonId::new(new_id());
                    let person = repo::NewPerson {
                        id: &id,
                        legacy_id,
                        fields: &fields,
                        is_subject: false,
                        gedcom_xref: Some(&individual.xref),
                        by: &user.id,
                        now,
                    };
                    repo::insert_tx(&mut tx, &person).await?;
                    repo::insert_revision_tx(&mut tx, &id, 1, &fields, &user.id, now).await?;
                    let created = PersonCreated {
                        person_id: id.clone(),
                        legacy_id: legacy_id.clone(),
                        version: 1,
                        living: fields.living,
                    };
                    append(&mut tx, &id, user, created).await?;
                    report.created += 1;
                    ids.insert(&individual.xref, id);
                }
            }
            (tx, in_tx) = commit_every(&self.db, tx, in_tx + 1).await?;
        }
        // A family counts as written once for each `per_family` of the edges families ask for.
        let families = document.families.len() as u64;
        let edges = wanted_edges(&document.families, &mut report);
        let per_family = (edges.len() as u64).div_ceil(families.max(1)).max(1);
        for (n, wanted) in edges.into_iter().enumerate() {
            if (n as u64 + 1).is_multiple_of(per_family) {
                count(&mut written);
            }
            let (Some(a), Some(b)) = (ids.get(wanted.a), ids.get(wanted.b)) else {
                report.skipped.push(ImportSkip {
                    line: wanted.line,
                    reason: format!(
                        "a relationship with a person who was not imported ({} and {})",
                        wanted.a, wanted.b
                    ),
                });
                continue;
            };
            if a == b {
                report.skipped.push(ImportSkip { line: wanted.line, reason: "a person related to themselves".into() });
                continue;
            }
            let (a, b) = if wanted.kind == "partner" && b < a { (b, a) } else { (a, b) };
            let relationship_id = RelationshipId::new(new_id());
            let row = repo::NewRelationship {
                id: &relationship_id,
                legacy_id,
                kind: wanted.kind,
                subkind: wanted.subkind,
                person_a: a,
                person_b: b,
                start_date: wanted.start_date,
                end_date: "",
                by: &user.id,
                now,
            };
            if repo::insert_relationship_tx(&mut tx, &row).await? {
                let facts = RelationshipFacts {
                    relationship_id,
                    legacy_id: legacy_id.clone(),
                    kind: wanted.kind.to_string(),
                    subkind: wanted.subkind.to_string(),
                    person_a: a.clone(),
                    person_b: b.clone(),
                };
                append(&mut tx, b, user, RelationshipAdded { relationship: facts }).await?;
                report.relationships_added += 1;
                (tx, in_tx) = commit_every(&self.db, tx, in_tx + 1).await?;
            }
        }
        tx.commit().await?;
        Ok(report)
    }

    /// A legacy's people as a GEDCOM file (7.0, or 5.5.1 for older programs). Living
    /// people are written as "Living" without details for readers who may not edit the
    /// legacy, as everywhere else.
    pub async fn export_gedcom(&self, user: Option<&User>, legacy_id: &LegacyId, version: Version) -> Result<String> {
        let access = self.access(user, legacy_id).await?;
        if !access.can_read() {
            return Err(Error::NotFound { what: "legacy" });
        }
        let people = repo::all_in_legacy(&self.db, legacy_id).await?;
        let ids: Vec<&PersonId> = people.iter().map(|p| &p.id).collect();
        let edges = repo::relationships_of(&self.db, &ids).await?;
        let xref_of: HashMap<&PersonId, String> = people
            .iter()
            .map(|p| {
                (&p.id, p.gedcom_xref.clone().unwrap_or_else(|| format!("H{}", p.id.replace('-', "").to_uppercase())))
            })
            .collect();
        let individuals = people
            .iter()
            .map(|p| {
                let xref = xref_of.get(&p.id).cloned().unwrap_or_default();
                if access.hides(p) {
                    return Individual { xref, given_names: "Living".into(), living: true, ..Individual::default() };
                }
                let f = &p.fields;
                let event = |date: &str, place: &str| {
                    (!date.is_empty() || !place.is_empty())
                        .then(|| gedcom::Event { date: date.to_string(), place: place.to_string() })
                };
                Individual {
                    xref,
                    given_names: f.given_names.clone(),
                    surname: f.surname.clone(),
                    birth_surname: f.birth_surname.clone(),
                    nicknames: f.nickname_list(),
                    sex: match f.sex {
                        Sex::Female => Some('F'),
                        Sex::Male => Some('M'),
                        Sex::Unknown => None,
                    },
                    birth: event(&f.birth_date, &f.birth_place),
                    death: event(&f.death_date, &f.death_place),
                    living: f.living,
                    notes: if f.bio.is_empty() { Vec::new() } else { vec![f.bio.clone()] },
                    media: Vec::new(),
                    line: 0,
                }
            })
            .collect();
        let document = Document {
            version: version.clone(),
            people: individuals,
            families: families(&edges, &xref_of),
            warnings: Vec::new(),
        };
        Ok(gedcom::write(&document, version))
    }
}

/// A family per couple (partners, or the parents a child shares) with its children.
fn families(edges: &[crate::people::model::RelationshipRow], xref_of: &HashMap<&PersonId, String>) -> Vec<Family> {
    let xref = |id: &PersonId| xref_of.get(id).cloned();
    let mut parents_of: HashMap<&PersonId, Vec<(&PersonId, &str)>> = HashMap::new();
    let mut couples: Vec<(Vec<String>, bool, &str)> = Vec::new();
    for edge in edges {
        match edge.kind.as_str() {
            "parent" => parents_of.entry(&edge.person_b).or_default().push((&edge.person_a, &edge.subkind)),
            _ => {
                if let (Some(a), Some(b)) = (xref(&edge.person_a), xref(&edge.person_b)) {
                    // Keyed like the parents of a child below: the xrefs in order.
                    let mut partners = vec![a, b];
                    partners.sort();
                    couples.push((partners, edge.subkind == "divorced", &edge.start_date));
                }
            }
        }
    }
    let mut by_partners: HashMap<Vec<String>, Family> = HashMap::new();
    for (partners, divorced, start_date) in couples {
        let family = by_partners.entry(partners.clone()).or_default();
        family.partners = partners;
        family.divorced = divorced;
        family.married =
            (!start_date.is_empty()).then(|| gedcom::Event { date: start_date.to_string(), place: String::new() });
    }
    let mut children: Vec<(&&PersonId, &Vec<(&PersonId, &str)>)> = parents_of.iter().collect();
    children.sort_by(|a, b| a.0.cmp(b.0));
    for (child, parents) in children {
        let Some(child) = xref(child) else { continue };
        let mut partners: Vec<String> = parents.iter().filter_map(|(p, _)| xref(p)).collect();
        partners.sort();
        partners.dedup();
        let kind = parents.first().map_or(ChildKind::Birth, |(_, k)| child_kind(k));
        let family = by_partners.entry(partners.clone()).or_default();
        family.partners = partners;
        family.children.push((child, kind));
    }
    let mut families: Vec<Family> = by_partners.into_values().collect();
    families.sort_by(|a, b| a.partners.cmp(&b.partners));
    for (n, family) in families.iter_mut().enumerate() {
        family.xref = format!("F{}", n + 1);
    }
    families
}

/// The edges the families ask for: partners, and each partner as a parent of each child.
/// A child given more than two birth parents keeps the first two.
fn wanted_edges<'a>(families: &'a [Family], report: &mut ImportReport) -> Vec<Wanted<'a>> {
    let mut wanted = Vec::new();
    let mut birth_parents: HashMap<&str, HashSet<&str>> = HashMap::new();
    for family in families {
        if let [a, b] = family.partners.as_slice() {
            let subkind = if family.divorced { "divorced" } else { "married" };
            let start_date = family.married.as_ref().map_or("", |married| married.date.as_str());
            wanted.push(Wanted { kind: "partner", subkind, a, b, start_date, line: family.line });
        }
        for (child, kind) in &family.children {
            for parent in &family.partners {
                let subkind = parent_kind(*kind).as_str();
                if *kind == ChildKind::Birth {
                    let parents = birth_parents.entry(child).or_default();
                    if parents.len() >= 2 && !parents.contains(parent.as_str()) {
                        report.skipped.push(ImportSkip {
                            line: family.line,
                            reason: format!("a third birth parent ({parent}) for {child}"),
                        });
                        continue;
                    }
                    parents.insert(parent);
                }
                wanted.push(Wanted { kind: "parent", subkind, a: parent, b: child, start_date: "", line: family.line });
            }
        }
    }
    let cyclic = ancestor_cycles(&wanted);
    wanted.retain(|w| {
        let keep = !(w.kind == "parent" && cyclic.contains(&(w.a, w.b)));
        if !keep {
            report.skipped.push(ImportSkip {
                line: w.line,
                reason: format!("{} as a parent of {} would make someone their own ancestor", w.a, w.b),
            });
        }
        keep
    });
    wanted
}

/// Parent edges that close a cycle of ancestors, found by a depth-first walk.
fn ancestor_cycles<'a>(wanted: &[Wanted<'a>]) -> HashSet<(&'a str, &'a str)> {
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for w in wanted.iter().filter(|w| w.kind == "parent") {
        children.entry(w.a).or_default().push(w.b);
    }
    let mut state: HashMap<&str, u8> = HashMap::new(); // 1: on the current path, 2: done
    let mut cyclic = HashSet::new();
    let mut roots: Vec<&str> = children.keys().copied().collect();
    roots.sort_unstable();
    for root in roots {
        if state.contains_key(root) {
            continue;
        }
        // An explicit stack: a file may hold thousands of generations.
        let mut stack: Vec<(&str, usize)> = vec![(root, 0)];
        state.insert(root, 1);
        while let Some((person, next)) = stack.pop() {
            let kids = children.get(person).map_or(&[][..], Vec::as_slice);
            if let Some(&child) = kids.get(next) {
                stack.push((person, next + 1));
                match state.get(child) {
                    Some(1) => {
                        cyclic.insert((person, child));
                    }
                    Some(_) => {}
                    None => {
                        state.insert(child, 1);
                        stack.push((child, 0));
                    }
                }
            } else {
                state.insert(person, 2);
            }
        }
    }
    cyclic
}
