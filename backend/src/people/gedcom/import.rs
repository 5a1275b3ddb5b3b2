//! The record tree to Heirloom's [`Document`]: individuals with their names, birth, death,
//! notes, citations and media; families with partners, children and how each child belongs.
//! Links are taken from both sides (a family's `CHIL` and a child's `FAMC`) because programs
//! often write only one of them; links to records that do not exist become warnings.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use super::lines::Node;
use super::{error, skipped, ChildKind, Document, Event, Family, Individual, ParseError, Skipped, Version};

/// GEDCOM 7's null pointer: "someone is here, but not in this file".
const VOID: &str = "VOID";

/// Texts that records point at, by xref.
#[derive(Default)]
struct Shared<'a> {
    notes: HashMap<&'a str, String>,
    /// A source's title (or abbreviation) for citations.
    sources: HashMap<&'a str, String>,
    media: HashMap<&'a str, Vec<String>>,
}

/// An individual's own claims on families, checked once all families are read.
#[derive(Default)]
struct Links {
    as_child: Vec<(String, usize, Option<ChildKind>)>,
    as_partner: Vec<(String, usize)>,
}

/// A family as written, before its references are checked.
struct FamilyDraft {
    family: Family,
    partners: Vec<(String, usize)>,
    children: Vec<(String, usize, Option<ChildKind>)>,
}

/// The errors that make a tree unusable as a whole: records that cannot be linked to
/// (no xref) or that could be confused (the same xref twice).
pub(super) fn check(records: &[Node]) -> Vec<ParseError> {
    let mut errors = Vec::new();
    let mut defined: HashMap<&str, usize> = HashMap::new();
    for record in records {
        let Some(xref) = record.xref.as_deref() else {
            if record.tag == "INDI" || record.tag == "FAM" {
                let example = if record.tag == "INDI" { "@I1@" } else { "@F1@" };
                errors.push(error(record.line, format!("{} record has no cross-reference id ({example})", record.tag)));
            }
            continue;
        };
        match defined.entry(xref) {
            Entry::Occupied(first) => {
                errors.push(error(record.line, format!("@{xref}@ is defined twice (first on line {})", first.get())));
            }
            Entry::Vacant(slot) => {
                slot.insert(record.line);
            }
        }
    }
    errors
}

/// Builds the document from a tree that passed [`check`].
pub(super) fn import(records: &[Node], mut warnings: Vec<Skipped>) -> Document {
    let mut version = Version::Other(String::new());
    let mut shared = Shared::default();
    for record in records {
        if record.tag == "HEAD" {
            if let Some(gedc) = record.child("GEDC") {
                version = Version::from_declared(gedc.child_value("VERS"));
            }
        }
        let Some(xref) = record.xref.as_deref() else { continue };
        match record.tag.as_str() {
            "NOTE" | "SNOTE" => {
                shared.notes.insert(xref, record.value.trim().to_string());
            }
            "SOUR" => {
                let title = [record.child_value("TITL"), record.child_value("ABBR"), record.value.trim()]
                    .into_iter()
                    .find(|t| !t.is_empty())
                    .unwrap_or_default();
                shared.sources.insert(xref, collapse(title));
            }
            "OBJE" => {
                shared.media.insert(xref, files(record, &version));
            }
            _ => {}
        }
    }

    let mut people = Vec::new();
    let mut links = Vec::new();
    let mut drafts = Vec::new();
    for record in records {
        match record.tag.as_str() {
            "INDI" => {
                let (person, person_links) = individual(record, &shared, &version, &mut warnings);
                people.push(person);
                links.push(person_links);
            }
            "FAM" => drafts.push(family(record, &mut warnings)),
            // Read above, for what points at them; a record without an xref means nothing.
            "HEAD" | "TRLR" | "NOTE" | "SNOTE" | "SOUR" | "OBJE" => {}
            other => warnings.push(skipped(record.line, format!("unsupported record {other}"))),
        }
    }
    let families = reconcile(&people, &links, drafts, &mut warnings);
    warnings.sort_by_key(|w| w.line);
    Document { version, people, families, warnings }
}

/// Checks every family's references and adds the links only the individuals make.
fn reconcile(
    people: &[Individual],
    links: &[Links],
    drafts: Vec<FamilyDraft>,
    warnings: &mut Vec<Skipped>,
) -> Vec<Family> {
    let known: HashMap<&str, usize> = people.iter().enumerate().map(|(i, p)| (p.xref.as_str(), i)).collect();
    // A child's own FAMC pedigree beats the family's _FREL/_MREL; the first FAMC wins.
    let mut pedigree: HashMap<(&str, &str), ChildKind> = HashMap::new();
    for (person, person_links) in people.iter().zip(links) {
        for (family, _, kind) in &person_links.as_child {
            if let Some(kind) = kind {
                pedigree.entry((family.as_str(), person.xref.as_str())).or_insert(*kind);
            }
        }
    }
    let mut families: Vec<Family> = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let mut family = draft.family;
        let family_xref = family.xref.clone();
        let exists = |xref: &str, line: usize, warnings: &mut Vec<Skipped>| {
            let found = known.contains_key(xref);
            if !found {
                warnings.push(skipped(line, format!("family {family_xref} names unknown individual {xref}")));
            }
            found
        };
        for (partner, line) in draft.partners {
            if !exists(&partner, line, warnings) || family.partners.contains(&partner) {
                continue;
            }
            if family.partners.len() == 2 {
                warnings.push(skipped(line, format!("family {}: third partner {partner} left out", family.xref)));
                continue;
            }
            family.partners.push(partner);
        }
        for (child, line, kind) in draft.children {
            if !exists(&child, line, warnings) || family.children.iter().any(|(c, _)| *c == child) {
                continue;
            }
            let kind = pedigree.get(&(family.xref.as_str(), child.as_str())).copied().or(kind).unwrap_or_default();
            family.children.push((child, kind));
        }
        families.push(family);
    }
    let index: HashMap<String, usize> = families.iter().enumerate().map(|(i, f)| (f.xref.clone(), i)).collect();
    for (person, person_links) in people.iter().zip(links) {
        let claims = person_links.as_child.iter().map(|(f, line, kind)| (f, *line, Some(*kind)));
        let claims = claims.chain(person_links.as_partner.iter().map(|(f, line)| (f, *line, None)));
        for (family_xref, line, as_child) in claims {
            let Some(&at) = index.get(family_xref) else {
                warnings.push(skipped(line, format!("individual {} names unknown family {family_xref}", person.xref)));
                continue;
            };
            let family = &mut families[at];
            match as_child {
                Some(kind) => {
                    if !family.children.iter().any(|(c, _)| *c == person.xref) {
                        family.children.push((person.xref.clone(), kind.unwrap_or_default()));
                    }
                }
                None if family.partners.contains(&person.xref) => {}
                None if family.partners.len() == 2 => {
                    let reason = format!("family {}: third partner {} left out", family.xref, person.xref);
                    warnings.push(skipped(line, reason));
                }
                None => family.partners.push(person.xref.clone()),
            }
        }
    }
    families
}

fn individual(
    record: &Node,
    shared: &Shared<'_>,
    version: &Version,
    warnings: &mut Vec<Skipped>,
) -> (Individual, Links) {
    let xref = record.xref.clone().unwrap_or_default();
    let mut person = Individual { xref, line: record.line, living: true, ..Individual::default() };
    for (index, name) in record.tagged("NAME").enumerate() {
        if index == 0 {
            (person.given_names, person.surname) = name_parts(name);
        } else {
            let kind = name.child_value("TYPE");
            match kind.to_ascii_lowercase().as_str() {
                "birth" | "maiden" if person.birth_surname.is_empty() => person.birth_surname = name_parts(name).1,
                // A second name without a type is an alternative spelling or alias.
                "aka" | "" => push_unique(&mut person.nicknames, whole_name(name)),
                _ => warnings.push(skipped(
                    name.line,
                    format!("individual {}: name \"{}\" of type {kind} not imported", person.xref, whole_name(name)),
                )),
            }
        }
        for nick in name.tagged("NICK") {
            push_unique(&mut person.nicknames, collapse(&nick.value));
        }
    }
    person.sex =
        record.child_value("SEX").chars().next().map(|c| c.to_ascii_uppercase()).filter(|c| matches!(c, 'F' | 'M'));

    let (mut birth, mut christening, mut death, mut burial) = (None, None, None, None);
    for child in &record.children {
        let slot = match child.tag.as_str() {
            "BIRT" => &mut birth,
            "CHR" | "BAPM" => &mut christening,
            "DEAT" => &mut death,
            "BURI" | "CREM" => &mut burial,
            _ => continue,
        };
        slot.get_or_insert(child);
    }
    let birth: Option<&Node> = birth.or(christening);
    let death: Option<&Node> = death.or(burial);
    person.birth = birth.map(event);
    person.death = death.map(event);
    person.living = death.is_none();

    let mut links = Links::default();
    let is = |node: &Node, chosen: Option<&Node>| chosen.is_some_and(|c| std::ptr::eq(c, node));
    for child in &record.children {
        let who = &person.xref;
        match child.tag.as_str() {
            "NOTE" | "SNOTE" => {
                if let Some(text) = note(child, shared, who, warnings) {
                    push_unique(&mut person.notes, text);
                }
            }
            "SOUR" => {
                if let Some(text) = citation(child, shared, who, warnings) {
                    push_unique(&mut person.notes, text);
                }
            }
            _ if is(child, birth) || is(child, death) => {
                for source in child.tagged("SOUR") {
                    if let Some(text) = citation(source, shared, who, warnings) {
                        push_unique(&mut person.notes, text);
                    }
                }
            }
            "OBJE" => match child.pointer.as_deref() {
                Some(VOID) => {}
                Some(object) => match shared.media.get(object) {
                    Some(paths) => paths.iter().for_each(|p| push_unique(&mut person.media, p.clone())),
                    None => {
                        warnings.push(skipped(child.line, format!("individual {who} names unknown object {object}")))
                    }
                },
                // 5.5.1 allows the object inline.
                None => files(child, version).into_iter().for_each(|p| push_unique(&mut person.media, p)),
            },
            "FAMC" => {
                if let Some(family) = child.pointer.as_deref().filter(|p| *p != VOID) {
                    let kind = child.child("PEDI").map(|pedi| pedigree(pedi, who, family, warnings));
                    links.as_child.push((family.to_string(), child.line, kind));
                }
            }
            "FAMS" => {
                if let Some(family) = child.pointer.as_deref().filter(|p| *p != VOID) {
                    links.as_partner.push((family.to_string(), child.line));
                }
            }
            _ => {}
        }
    }
    (person, links)
}

fn family(record: &Node, warnings: &mut Vec<Skipped>) -> FamilyDraft {
    let xref = record.xref.clone().unwrap_or_default();
    let mut family = Family { xref, line: record.line, ..Family::default() };
    let (mut partners, mut children) = (Vec::new(), Vec::new());
    for child in &record.children {
        let tag = child.tag.as_str();
        match (tag, child.pointer.as_deref()) {
            ("HUSB" | "WIFE" | "CHIL", Some(VOID)) => {}
            ("HUSB" | "WIFE", Some(partner)) => partners.push((partner.to_string(), child.line)),
            ("CHIL", Some(xref)) => {
                // Family Tree Maker and Ancestry put the relationship on the family's side.
                let kind = ["_FREL", "_MREL"]
                    .iter()
                    .filter_map(|t| child.child(t))
                    .filter_map(|rel| kind_from_words(&rel.value.to_ascii_lowercase()))
                    .find(|kind| *kind != ChildKind::Birth);
                children.push((xref.to_string(), child.line, kind));
            }
            ("HUSB" | "WIFE" | "CHIL", None) => {
                let reason = format!("family {}: {tag} \"{}\" is not a pointer", family.xref, child.value.trim());
                warnings.push(skipped(child.line, reason));
            }
            ("MARR", _) if family.married.is_none() => family.married = Some(event(child)),
            // "DIV N" is not standard, but says what it means.
            ("DIV", _) => family.divorced |= !child.value.trim().eq_ignore_ascii_case("N"),
            _ => {}
        }
    }
    FamilyDraft { family, partners, children }
}

/// Given names and surname of a `NAME`: the `GIVN` part when there is one (the name text may
/// carry titles and a quoted nickname), the surname between the slashes (which keeps a prefix
/// such as "de" that `SURN` leaves out) or else `SURN`.
fn name_parts(name: &Node) -> (String, String) {
    let (before, slashed) = match name.value.split_once('/') {
        Some((before, rest)) => (before, rest.split_once('/').map_or(rest, |(surname, _)| surname)),
        None => (name.value.as_str(), ""),
    };
    let given = match collapse(name.child_value("GIVN")) {
        given if given.is_empty() => collapse(before),
        given => given,
    };
    let surname = match collapse(slashed) {
        surname if surname.is_empty() => collapse(name.child_value("SURN")),
        surname => surname,
    };
    (given, surname)
}

/// A name as one would say it: the text without slashes, or its parts.
fn whole_name(name: &Node) -> String {
    match collapse(&name.value.replace('/', " ")) {
        text if text.is_empty() => {
            let (given, surname) = name_parts(name);
            collapse(&format!("{given} {surname}"))
        }
        text => text,
    }
}

fn event(node: &Node) -> Event {
    Event { date: node.child_value("DATE").to_string(), place: node.child_value("PLAC").to_string() }
}

fn note(node: &Node, shared: &Shared<'_>, who: &str, warnings: &mut Vec<Skipped>) -> Option<String> {
    let text = match node.pointer.as_deref() {
        Some(VOID) => return None,
        Some(xref) => match shared.notes.get(xref) {
            Some(text) => text.as_str(),
            None => {
                warnings.push(skipped(node.line, format!("individual {who} names unknown note {xref}")));
                return None;
            }
        },
        None => node.value.trim(),
    };
    (!text.is_empty()).then(|| text.to_string())
}

/// A citation as a note: `"Source: <title> (<page>)"`.
fn citation(node: &Node, shared: &Shared<'_>, who: &str, warnings: &mut Vec<Skipped>) -> Option<String> {
    let title = match node.pointer.as_deref() {
        Some(VOID) => String::new(),
        Some(xref) => match shared.sources.get(xref) {
            Some(title) => title.clone(),
            None => {
                warnings.push(skipped(node.line, format!("individual {who} names unknown source {xref}")));
                return None;
            }
        },
        // 5.5.1's source without a record: the value is the description.
        None => collapse(&node.value),
    };
    let page = collapse(node.child_value("PAGE"));
    match (title.is_empty(), page.is_empty()) {
        (false, false) => Some(format!("Source: {title} ({page})")),
        (false, true) => Some(format!("Source: {title}")),
        (true, false) => Some(format!("Source: {page}")),
        (true, true) => None,
    }
}

/// The `FILE`s of a media object. GEDCOM 7 writes them as URIs, percent-encoded; Heirloom
/// wants the path.
fn files(object: &Node, version: &Version) -> Vec<String> {
    let paths = object.tagged("FILE").map(|file| file.value.trim()).filter(|path| !path.is_empty());
    paths.map(|path| if *version == Version::V7 { percent_decode(path) } else { path.to_string() }).collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    // Encoded bytes that are not UTF-8 are not a path Heirloom could use either: keep the URI.
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// The `PEDI` of a child's `FAMC`: 5.5.1 lower-case words, GEDCOM 7 upper-case ones with
/// `OTHER` and a free-text `PHRASE`, and whatever else programs wrote.
fn pedigree(pedi: &Node, who: &str, family: &str, warnings: &mut Vec<Skipped>) -> ChildKind {
    let value = pedi.value.trim().to_ascii_lowercase();
    let words = if value == "other" { pedi.child_value("PHRASE").to_ascii_lowercase() } else { value.clone() };
    kind_from_words(&words).unwrap_or_else(|| {
        let reason = format!("pedigree \"{}\" of {who} in family {family} read as birth", pedi.value.trim());
        warnings.push(skipped(pedi.line, reason));
        ChildKind::Birth
    })
}

fn kind_from_words(words: &str) -> Option<ChildKind> {
    if words.contains("step") {
        Some(ChildKind::Step)
    } else if words.contains("adopt") {
        Some(ChildKind::Adopted)
    } else if words.contains("foster") {
        Some(ChildKind::Foster)
    } else if ["birth", "natural", "biolog"].iter().any(|w| words.contains(w)) {
        Some(ChildKind::Birth)
    } else {
        None
    }
}

/// Trims and turns every run of whitespace (including continuation newlines) into one space.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !item.is_empty() && !list.contains(&item) {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_what_it_cannot_decode() {
        assert_eq!(percent_decode("media/Bront%C3%AB%20x.jpg"), "media/Brontë x.jpg");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("bad%FF"), "bad%FF");
    }

    #[test]
    fn relationship_words() {
        assert_eq!(kind_from_words("stepchild"), Some(ChildKind::Step));
        assert_eq!(kind_from_words("adopted"), Some(ChildKind::Adopted));
        assert_eq!(kind_from_words("foster"), Some(ChildKind::Foster));
        assert_eq!(kind_from_words("natural"), Some(ChildKind::Birth));
        assert_eq!(kind_from_words("sealing"), None);
    }
}
