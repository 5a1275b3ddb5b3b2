//! GEDCOM import and export: reads the family-tree files genealogy programs write (GEDCOM 5.5,
//! 5.5.1, 5.5.5 and 7.0; UTF-8, UTF-16, ANSEL, Windows-1252 or IBM PC code page 437) into the
//! people and families Heirloom keeps, and writes them back as GEDCOM 7.0 or 5.5.1.
//!
//! Owns the character sets (`charset`), the line grammar and record tree (`lines`), the
//! mapping of records onto [`Individual`] and [`Family`] (`import`) and the writer (`export`).
//! It does no I/O and knows nothing of the database: the caller reads the bytes and stores the
//! [`Document`]. Dates stay the text the file gave (`people::dates` parses them; GEDZIP
//! archives are opened by `people::gedzip`). Not handled: events other than birth, death
//! and marriage, and the detail of sources, repositories and submitters beyond a citation
//! note.

mod charset;
mod export;
mod import;
mod lines;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use export::{media_type, write};

/// The GEDCOM version a file declares in `HEAD.GEDC.VERS`, or the one to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Version {
    V551,
    V7,
    /// Any other declaration as written ("5.5", "5.5.5"), or empty when the header has none.
    Other(String),
}

impl Version {
    fn from_declared(vers: &str) -> Self {
        let vers = vers.trim();
        if vers == "5.5.1" {
            Version::V551
        } else if vers == "7" || vers.starts_with("7.") {
            Version::V7
        } else {
            Version::Other(vers.to_string())
        }
    }
}

/// What a file holds, as Heirloom imports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub version: Version,
    pub people: Vec<Individual>,
    pub families: Vec<Family>,
    /// What was left out on purpose, for the person importing to review.
    pub warnings: Vec<Skipped>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Individual {
    /// The record's cross-reference id without its `@`s ("I1" for `@I1@`).
    pub xref: String,
    pub given_names: String,
    pub surname: String,
    /// The surname of a later `NAME` of type birth or maiden; empty when there is none.
    pub birth_surname: String,
    /// `NICK` values and the other names of type aka (or of no type), in file order.
    pub nicknames: Vec<String>,
    /// `'F'` or `'M'`; `None` for unknown, intersex (`X`) or no `SEX` at all.
    pub sex: Option<char>,
    /// `BIRT`, or the first christening or baptism when there is no `BIRT`.
    pub birth: Option<Event>,
    /// `DEAT`, or a burial or cremation when there is no `DEAT`.
    pub death: Option<Event>,
    /// True when the record has no death, burial or cremation. The writer writes `DEAT Y` for
    /// a person marked not living without a death event, so keep `living == death.is_none()`
    /// for documents that should survive a round trip unchanged.
    pub living: bool,
    /// Notes (inline ones and shared note records, continuation lines joined) and the sources
    /// cited by the person, their birth or their death as `"Source: <title> (<page>)"`.
    pub notes: Vec<String>,
    /// The `FILE` paths or URLs of the person's media objects, as written.
    pub media: Vec<String>,
    /// The line of the `INDI` record (1-based); 0 in documents built in code.
    pub line: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The `DATE` value as written ("ABT 1921", "12 MAR 1921"); empty when not given.
    pub date: String,
    /// The `PLAC` value; empty when not given.
    pub place: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Family {
    pub xref: String,
    /// At most two individuals' xrefs (`HUSB` then `WIFE`, whatever their sex).
    pub partners: Vec<String>,
    pub children: Vec<(String, ChildKind)>,
    pub married: Option<Event>,
    pub divorced: bool,
    pub line: usize,
}

/// How a child belongs to a family: `PEDI` under the child's `FAMC` (or the Family Tree Maker
/// `_FREL`/`_MREL` under the family's `CHIL`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ChildKind {
    #[default]
    Birth,
    Adopted,
    Foster,
    Step,
}

/// A record or structure left out on purpose ("unsupported record SUBM").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub line: usize,
    pub reason: String,
}

/// Why a file could not be read; a file gives all of them at once (up to [`MAX_ERRORS`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// More errors than this say nothing more useful (the file is not GEDCOM, or badly broken),
/// and a multi-megabyte file of garbage would otherwise make a huge report.
pub const MAX_ERRORS: usize = 100;

fn error(line: usize, message: impl Into<String>) -> ParseError {
    ParseError { line, message: message.into() }
}

fn skipped(line: usize, reason: impl Into<String>) -> Skipped {
    Skipped { line, reason: reason.into() }
}

/// Reads a GEDCOM file. A file with any structural error gives every error found (up to
/// [`MAX_ERRORS`]) and no document, so nothing is imported half-read.
pub fn parse(bytes: &[u8]) -> Result<Document, Vec<ParseError>> {
    let decoded = charset::decode(bytes);
    let (tree, mut errors) = lines::read(&decoded.text);
    errors.extend(import::check(&tree.records));
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        if let Some(line) = errors.get(MAX_ERRORS).map(|e| e.line) {
            errors.truncate(MAX_ERRORS);
            errors.push(error(line, format!("more errors follow; stopped after {MAX_ERRORS}")));
        }
        return Err(errors);
    }
    let mut warnings = decoded.warnings;
    warnings.extend(tree.warnings);
    Ok(import::import(&tree.records, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(bytes: &[u8]) -> Document {
        match parse(bytes) {
            Ok(doc) => doc,
            Err(errors) => panic!("parse failed: {errors:?}"),
        }
    }

    /// Parses a document that must hold `people` individuals and `families` families.
    fn parse_counted(bytes: &[u8], people: usize, families: usize) -> Document {
        let doc = parse_ok(bytes);
        assert_eq!((doc.people.len(), doc.families.len()), (people, families));
        doc
    }

    fn errors_of(text: &str) -> Vec<ParseError> {
        match parse(text.as_bytes()) {
            Ok(doc) => panic!("expected errors, parsed {} people", doc.people.len()),
            Err(errors) => errors,
        }
    }

    fn person<'a>(doc: &'a Document, xref: &str) -> &'a Individual {
        doc.people.iter().find(|p| p.xref == xref).unwrap_or_else(|| panic!("no {xref}"))
    }

    fn family<'a>(doc: &'a Document, xref: &str) -> &'a Family {
        doc.families.iter().find(|f| f.xref == xref).unwrap_or_else(|| panic!("no {xref}"))
    }

    fn event(date: &str, place: &str) -> Option<Event> {
        Some(Event { date: date.into(), place: place.into() })
    }

    /// The people and families without line numbers, which a round trip cannot keep.
    fn content(doc: &Document) -> (Vec<Individual>, Vec<Family>) {
        let people = doc.people.iter().map(|p| Individual { line: 0, ..p.clone() }).collect();
        let families = doc.families.iter().map(|f| Family { line: 0, ..f.clone() }).collect();
        (people, families)
    }

    fn assert_round_trip(doc: &Document) {
        for version in [Version::V7, Version::V551] {
            let text = write(doc, version.clone());
            let again = match parse(text.as_bytes()) {
                Ok(again) => again,
                Err(errors) => panic!("{version:?} output does not parse: {errors:?}\n{text}"),
            };
            assert_eq!(again.version, version);
            assert_eq!(content(&again), content(doc), "{version:?} round trip changed the document:\n{text}");
        }
    }

    const MAXIMAL70: &[u8] = include_bytes!("../../../tests/data/gedcom/maximal70.ged");
    const MUSTER: &[u8] = include_bytes!("../../../tests/data/gedcom/Musterstammbaum.ged");
    const SAMPLE_LE: &[u8] = include_bytes!("../../../tests/data/gedcom/555SAMPLE16LE.GED");
    const SAMPLE_BE: &[u8] = include_bytes!("../../../tests/data/gedcom/555SAMPLE16BE.GED");
    const REMARR: &[u8] = include_bytes!("../../../tests/data/gedcom/REMARR.GED");
    const ANSEL: &[u8] = include_bytes!("../../../tests/data/gedcom/ansel-sample.ged");

    #[test]
    fn maximal70_torture_test() {
        let doc = parse_counted(MAXIMAL70, 4, 2);
        assert_eq!(doc.version, Version::V7);

        let i1 = person(&doc, "I1");
        assert_eq!(i1.line, 234);
        // GIVN beats the name text with its title and quoted nickname; the slashes keep "de".
        assert_eq!((i1.given_names.as_str(), i1.surname.as_str()), ("Joseph", "de Allen"));
        assert_eq!(i1.birth_surname, "Doe");
        assert_eq!(i1.nicknames, ["John", "Aka"]);
        assert_eq!(i1.sex, Some('M'));
        assert_eq!(i1.birth, event("1 JAN 2000", ""));
        assert_eq!(i1.death, event("28 MAR 2022", "Somewhere"));
        assert!(!i1.living);
        assert_eq!(
            i1.notes,
            [
                // The death's citations come first, in file order.
                "Source: Title (1)",
                "Source: Source Two (2)",
                "me@example.com is an example email address.\n@me and @I are example social media handles.\n\
                 @@@@ has four @ characters where only the first is escaped.",
                "Shared note 1",
                "Source: Source Two",
            ]
        );
        assert_eq!(
            i1.media,
            [
                // GEDCOM 7 FILE values are URIs; the percent-encoding is undone.
                "media/CharlotteBrontë.jpg",
                "file:///path/to/file1",
                "media/original.mp3",
                "http://host.example.com/path/to/file2"
            ]
        );
        assert!(doc.warnings.iter().any(|w| w.line == 265 && w.reason.contains("IMMIGRANT")));

        let i2 = person(&doc, "I2");
        assert_eq!((i2.given_names.as_str(), i2.sex), ("Maiden Name", Some('F')));
        assert!(i2.living);
        // SEX X and SEX U are both "not known" to Heirloom.
        assert_eq!((person(&doc, "I3").sex, person(&doc, "I4").sex), (None, None));

        let f1 = family(&doc, "F1");
        assert_eq!(f1.partners, ["I1", "I2"]);
        assert_eq!(f1.children, [("I4".to_string(), ChildKind::Birth)]);
        assert_eq!(f1.married, event("27 MAR 2022", "Place"));
        assert!(f1.divorced);
        // I1 claims F2 twice, first as adopted; the first claim wins.
        let f2 = family(&doc, "F2");
        assert_eq!(f2.children, [("I1".to_string(), ChildKind::Adopted)]);
        assert_eq!(f2.married, event("1998", ""));
        assert!(!f2.divorced);

        for record in ["@U1@ SUBM", "@U2@ SUBM", "@R1@ REPO", "@R2@ REPO"] {
            let kind = record.split(' ').nth(1).unwrap_or_default();
            assert!(doc.warnings.iter().any(|w| w.reason == format!("unsupported record {kind}")), "{record}");
        }
        assert_round_trip(&doc);
    }

    #[test]
    fn ahnenblatt_551_file() {
        let doc = parse_counted(MUSTER, 20, 11);
        assert_eq!(doc.version, Version::V551);
        let max = person(&doc, "1");
        assert_eq!((max.given_names.as_str(), max.surname.as_str()), ("Max", "Mustermann"));
        assert_eq!(max.birth, event("1 JAN 1980", "Musterstadt"));
        assert!(max.living);
        assert_eq!(max.notes, ["Source: Stammbaum der Familie Mustermann und Mustertyp, 2018"]);
        let anna = person(&doc, "6");
        assert_eq!(anna.death, event("26 OCT 1960", "Musterdorf"));
        assert!(!anna.living);
        assert_eq!(person(&doc, "19").death, event("1961", "Musterdorf"));

        let f5 = family(&doc, "F5");
        assert_eq!(f5.partners, ["17", "18"]);
        assert_eq!(f5.children, [("15".to_string(), ChildKind::Birth), ("13".to_string(), ChildKind::Birth)]);
        assert_eq!(family(&doc, "F10").married, event("18 DEC 2018", "Musterstadt"));
        assert_eq!(family(&doc, "F9").married, None);
        assert!(doc.warnings.iter().any(|w| w.reason == "unsupported record SUBM" && w.line == 394));
        assert_round_trip(&doc);
    }

    #[test]
    fn utf16_sample_files_both_byte_orders() {
        let le = parse_ok(SAMPLE_LE);
        let be = parse_ok(SAMPLE_BE);
        assert_eq!(le, be);
        assert_eq!(le.version, Version::Other("5.5.5".into()));
        assert_eq!((le.people.len(), le.families.len()), (3, 2));
        let robert = person(&le, "I1");
        assert_eq!((robert.given_names.as_str(), robert.surname.as_str()), ("Robert Eugene", "Williams"));
        assert_eq!(robert.birth, event("2 Oct 1822", "Weston, Madison, Connecticut, United States of America"));
        assert_eq!(robert.death, event("14 Apr 1905", "Stamford, Fairfield, Connecticut, United States of America"));
        // The birth's citation, with the source record's title and the citation's page.
        assert_eq!(robert.notes, ["Source: Madison County Birth, Death, and Marriage Records (Sec. 2, p. 45)"]);
        assert_eq!(person(&le, "I2").birth, event("BEF 1828", "Connecticut, United States of America"));
        let f1 = family(&le, "F1");
        assert_eq!(f1.married, event("Dec 1859", "Rapid City, Pennington, South Dakota, United States of America"));
        assert_eq!(f1.children, [("I3".to_string(), ChildKind::Birth)]);
        assert_eq!(family(&le, "F2").children, [("I3".to_string(), ChildKind::Adopted)]);
        assert_eq!(family(&le, "F2").partners, ["I1"]);
        assert_round_trip(&le);
    }

    #[test]
    fn remarriage_file_with_divorces() {
        let doc = parse_counted(REMARR, 3, 3);
        let [f1, f2, f3] = [family(&doc, "F1"), family(&doc, "F2"), family(&doc, "F3")];
        assert!(f1.divorced && f2.divorced && !f3.divorced);
        assert_eq!(f2.partners, ["I3", "I2"]);
        assert_eq!(f3.married, event("1 Jan 1912", "Amsterdam, Noord-Holland, Netherlands"));
        assert_eq!(person(&doc, "I2").birth, event("4 May 1876", ""));
        assert_round_trip(&doc);
    }

    #[test]
    fn ansel_file() {
        let doc = parse_ok(ANSEL);
        assert_eq!(doc.people.len(), 2);
        let hans = person(&doc, "I1");
        assert_eq!((hans.given_names.as_str(), hans.surname.as_str()), ("Hans", "Müller"));
        let elise = person(&doc, "I2");
        assert_eq!((elise.given_names.as_str(), elise.surname.as_str()), ("Élise", "Béland"));
        assert_round_trip(&doc);
    }

    fn built_document() -> Document {
        let long_note = format!("{} and an address: someone@example.com.", "A very long story. ".repeat(30));
        let anne = Individual {
            xref: "I1".into(),
            given_names: "Anne Marie".into(),
            surname: "O'Brien".into(),
            birth_surname: "Łukasiewicz".into(),
            nicknames: vec!["Nan".into(), "Annie".into()],
            sex: Some('F'),
            birth: event("ABT 1921", "Kraków, Poland"),
            death: event("12 MAR 1999", ""),
            living: false,
            notes: vec![
                "First line\nSecond line\n\nAfter a blank line".into(),
                long_note,
                "@handle".into(),
                "Write to anne@example.org".into(),
            ],
            media: vec!["photos/anne 1950.jpg".into(), "https://example.com/a.png".into()],
            line: 0,
        };
        let bob = Individual {
            xref: "I2".into(),
            given_names: "Robert".into(),
            surname: "O'Brien".into(),
            sex: Some('M'),
            birth: Some(Event::default()),
            death: Some(Event { date: String::new(), place: "At sea".into() }),
            living: false,
            ..Individual::default()
        };
        let child = |xref: &str, name: &str| Individual {
            xref: xref.into(),
            given_names: name.into(),
            surname: "O'Brien".into(),
            living: true,
            ..Individual::default()
        };
        let unnamed = Individual { xref: "I7".into(), living: true, ..Individual::default() };
        let people =
            vec![anne, bob, child("I3", "Cara"), child("I4", "Dan"), child("I5", "Eve"), child("I6", "Finn"), unnamed];
        let families = vec![
            Family {
                xref: "F1".into(),
                partners: vec!["I1".into(), "I2".into()],
                children: vec![
                    ("I3".into(), ChildKind::Birth),
                    ("I4".into(), ChildKind::Adopted),
                    ("I5".into(), ChildKind::Foster),
                    ("I6".into(), ChildKind::Step),
                ],
                married: event("1945", "Dublin"),
                divorced: true,
                line: 0,
            },
            Family {
                xref: "F2".into(),
                partners: vec!["I1".into()],
                children: vec![],
                married: None,
                divorced: false,
                line: 0,
            },
            Family {
                xref: "F3".into(),
                partners: vec![],
                children: vec![("I7".into(), ChildKind::Birth)],
                married: Some(Event::default()),
                divorced: false,
                line: 0,
            },
        ];
        Document { version: Version::V7, people, families, warnings: vec![] }
    }

    #[test]
    fn built_document_round_trips_in_both_versions() {
        assert_round_trip(&built_document());
    }

    #[test]
    fn written_files_follow_each_version() {
        let doc = built_document();
        let v7 = write(&doc, Version::V7);
        assert!(v7.starts_with("0 HEAD\n1 GEDC\n2 VERS 7.0\n1 SOUR HEIRLOOM\n"), "{v7}");
        assert!(v7.ends_with("0 TRLR\n"));
        assert!(!v7.contains("CONC") && !v7.contains("1 CHAR"));
        assert!(v7.contains("1 NAME Anne Marie /Łukasiewicz/\n2 TYPE BIRTH\n"));
        assert!(v7.contains("1 NOTE Write to anne@example.org\n") && v7.contains("1 NOTE @@handle\n"));
        assert!(v7.contains("2 PEDI OTHER\n3 PHRASE step\n"));
        assert!(v7.contains("1 FILE photos/anne%201950.jpg\n2 FORM image/jpeg\n"));
        let v551 = write(&doc, Version::V551);
        assert!(v551.contains("2 VERS 5.5.1\n2 FORM LINEAGE-LINKED\n1 CHAR UTF-8\n"), "{v551}");
        assert!(v551.contains("1 NAME Anne Marie /Łukasiewicz/\n2 TYPE birth\n"));
        assert!(v551.contains("1 NOTE Write to anne@@example.org\n") && v551.contains("1 NOTE @@handle\n"));
        assert!(v551.contains("1 CHIL @I6@\n2 _FREL Step\n2 _MREL Step\n"));
        assert!(v551.lines().any(|l| l.starts_with("2 CONC ")));
        assert!(v551.lines().all(|l| l.chars().count() <= 210), "a line is too long");
        assert!(v551.contains("1 NOTE First line\n2 CONT Second line\n2 CONT\n2 CONT After a blank line\n"));
    }

    fn malformed(body: &str) -> Vec<ParseError> {
        errors_of(&format!("0 HEAD\n1 GEDC\n2 VERS 5.5.1\n1 CHAR UTF-8\n{body}0 TRLR\n"))
    }

    #[track_caller]
    fn assert_error(errors: &[ParseError], line: usize, needle: &str) {
        assert!(
            errors.iter().any(|e| e.line == line && e.message.contains(needle)),
            "no error at line {line} containing {needle:?} in {errors:?}"
        );
    }

    #[test]
    fn malformed_files_give_line_numbered_errors() {
        assert_error(&malformed("0 @I1@ INDI\nX NAME John\n"), 6, "expected a level number, found \"X\"");
        assert_error(&malformed("0 @I1@ INDI\n   NAME John\n"), 6, "expected a level number, found \"NAME\"");
        assert_error(&malformed("0 @I1@ INDI\n1 BIRT\n3 DATE 1900\n"), 7, "level 3 follows level 1");
        assert_error(&malformed("0 @I1@ INDI\n1\n"), 6, "missing tag after level 1");
        assert_error(&malformed("0 @I1@\n"), 5, "missing tag after @I1@");
        assert_error(&malformed("0 @I1 INDI\n"), 5, "malformed cross-reference id \"@I1\"");
        assert_error(&malformed("0 @I1@ INDI\n1 NA#ME John\n"), 6, "invalid tag \"NA#ME\"");
        assert_error(&malformed("0 CONT hello\n"), 5, "CONT at level 0");
        assert_error(&malformed("0 INDI\n1 NAME John\n"), 5, "INDI record has no cross-reference id");
        assert_error(&malformed("0 @I1@ INDI\n0 @I1@ INDI\n"), 6, "@I1@ is defined twice (first on line 5)");
        assert_error(&malformed("0 @I1@ INDI\n99999999999999999999999 NAME X\n"), 6, "is too deep");
        assert_error(&errors_of("0 @I1@ INDI\n1 NAME John\n0 TRLR\n"), 1, "does not start with 0 HEAD");
        assert_error(&errors_of("0 HEAD\n0 @I1@ INDI\n1 NAME John\n"), 3, "does not end with 0 TRLR");
        assert_error(&errors_of("1 HEAD\n0 TRLR\n"), 1, "first line must have level 0");
        assert_error(&errors_of(""), 1, "empty");
        assert_error(&errors_of("\u{feff}\r\n  \r\n"), 1, "empty");
    }

    #[test]
    fn a_malformed_file_reports_every_error_and_no_document() {
        let errors = malformed("0 @I1@ INDI\nX NAME\n1 BIRT\n3 DATE 1900\n0 @I2\n0 @I1@ FAM\n");
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [6, 8, 9, 10]);
        assert_eq!(errors[0].to_string(), "line 6: expected a level number, found \"X\"");
        let garbage = "x\n".repeat(500);
        let errors = errors_of(&garbage);
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        assert_eq!(errors[MAX_ERRORS].to_string(), "line 101: more errors follow; stopped after 100");
    }

    #[test]
    fn tolerates_line_endings_whitespace_and_long_lines() {
        let long = "word ".repeat(20_000);
        let text = format!(
            "0 HEAD\r\n  1 GEDC\r2 VERS 5.5.1  \n\n1 CHAR UTF-8\r\n0 @I1@ INDI \r\n\t1 NAME  Jo /Doe/  \r\n\
             1 NOTE {long}\r\n1 SEX   F\n0 TRLR   \r\n\u{1a}"
        );
        let doc = parse_ok(text.as_bytes());
        let jo = person(&doc, "I1");
        assert_eq!((jo.given_names.as_str(), jo.surname.as_str(), jo.sex), ("Jo", "Doe", Some('F')));
        assert_eq!(jo.notes, [long.trim()]);
        assert_eq!(jo.line, 6);
    }

    #[test]
    fn references_to_missing_records_are_warnings() {
        let text = "0 HEAD\n1 GEDC\n2 VERS 5.5.1\n0 @I1@ INDI\n1 FAMC @F9@\n1 NOTE @N9@\n\
                    0 @F1@ FAM\n1 HUSB @I1@\n1 WIFE @I99@\n1 CHIL @VOID@\n0 @S1@ _CUSTOM\n0 TRLR\n";
        let doc = parse_ok(text.as_bytes());
        assert_eq!(family(&doc, "F1").partners, ["I1"]);
        let reasons: Vec<(usize, &str)> = doc.warnings.iter().map(|w| (w.line, w.reason.as_str())).collect();
        assert!(reasons.contains(&(9, "family F1 names unknown individual I99")), "{reasons:?}");
        assert!(reasons.contains(&(5, "individual I1 names unknown family F9")), "{reasons:?}");
        assert!(reasons.contains(&(6, "individual I1 names unknown note N9")), "{reasons:?}");
        assert!(reasons.contains(&(11, "unsupported record _CUSTOM")), "{reasons:?}");
    }

    #[test]
    fn names_events_and_links_from_both_sides() {
        let text = "0 HEAD\n1 GEDC\n2 VERS 5.5.1\n\
            0 @I1@ INDI\n1 NAME Mary /Smith/\n2 NICK Molly\n1 NAME Mary /Jones/\n2 TYPE maiden\n\
            1 NAME Polly\n1 SEX F\n1 CHR\n2 DATE 3 APR 1900\n1 BAPM\n2 DATE 4 APR 1900\n1 BURI\n2 PLAC Leeds\n\
            1 OBJE\n2 FILE scans/mary.tif\n1 FAMS @F1@\n\
            0 @I2@ INDI\n1 NAME Tom /Smith/\n1 FAMC @F1@\n2 PEDI foster\n\
            0 @I3@ INDI\n1 NAME Sue /Smith/\n1 DEAT Y\n\
            0 @F1@ FAM\n1 CHIL @I3@\n2 _FREL Adopted\n1 DIV N\n0 TRLR\n";
        let doc = parse_ok(text.as_bytes());
        let mary = person(&doc, "I1");
        assert_eq!(mary.birth_surname, "Jones");
        assert_eq!(mary.nicknames, ["Molly", "Polly"]);
        assert_eq!(mary.birth, event("3 APR 1900", ""));
        assert_eq!(mary.death, event("", "Leeds"));
        assert!(!mary.living);
        assert_eq!(mary.media, ["scans/mary.tif"]);
        assert_eq!(person(&doc, "I3").death, Some(Event::default()));
        let f1 = family(&doc, "F1");
        // Links given only by the individuals (FAMS, FAMC) count as much as the family's own.
        assert_eq!(f1.partners, ["I1"]);
        assert_eq!(f1.children, [("I3".to_string(), ChildKind::Adopted), ("I2".to_string(), ChildKind::Foster)]);
        assert!(!f1.divorced);
    }

    #[test]
    fn twelve_thousand_people() {
        let mut text = String::from("0 HEAD\n1 GEDC\n2 VERS 7.0\n");
        for i in 0..12_000 {
            text.push_str(&format!(
                "0 @I{i}@ INDI\n1 NAME Person {i} /Family{}/\n1 SEX {}\n1 BIRT\n2 DATE {} JAN {}\n2 PLAC Town {}\n",
                i / 3,
                if i % 2 == 0 { 'F' } else { 'M' },
                1 + i % 28,
                1800 + i / 60,
                i % 97
            ));
            text.push_str(&format!("1 FAMC @F{}@\n", i / 3));
        }
        for f in 0..4_000 {
            text.push_str(&format!(
                "0 @F{f}@ FAM\n1 CHIL @I{}@\n1 CHIL @I{}@\n1 CHIL @I{}@\n",
                f * 3,
                f * 3 + 1,
                f * 3 + 2
            ));
        }
        text.push_str("0 TRLR\n");
        let doc = parse_counted(text.as_bytes(), 12_000, 4_000);
        assert_eq!(doc.people[11_999].birth, event("16 JAN 1999", "Town 68"));
    }
}
