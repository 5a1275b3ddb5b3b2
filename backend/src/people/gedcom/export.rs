//! A [`Document`] as GEDCOM 7.0 or 5.5.1 text in UTF-8: `HEAD`, the individuals, families and
//! media objects, `TRLR`. What the reader understands, the writer writes, so a document read
//! and written comes back the same (see `living` on [`super::Individual`] for the one catch).

use std::collections::{HashMap, HashSet};

use super::{ChildKind, Document, Event, Individual, Version};

/// 5.5.1 limits a line to 255 characters; 200 leaves room for the level, tag and `@@`s.
const CONC_AT: usize = 200;

struct Writer {
    out: String,
    v7: bool,
}

impl Writer {
    /// One structure whose value fits on a line; newlines in it become spaces.
    fn line(&mut self, level: usize, tag: &str, value: &str) {
        let value = value.replace(['\r', '\n'], " ");
        self.physical(level, tag, &value, true, level + 1);
    }

    /// Dates are written as they are: 5.5.1 calendar escapes (`@#DJULIAN@`) must keep their `@`.
    fn date(&mut self, level: usize, value: &str) {
        let value = value.replace(['\r', '\n'], " ");
        self.physical(level, "DATE", &value, false, level + 1);
    }

    fn pointer(&mut self, level: usize, tag: &str, xref: &str) {
        self.out.push_str(&format!("{level} {tag} @{xref}@\n"));
    }

    fn record(&mut self, xref: &str, tag: &str) {
        self.out.push_str(&format!("0 @{xref}@ {tag}\n"));
    }

    /// Text of several lines: the first on the tag's line, each next one a `CONT`.
    fn text(&mut self, level: usize, tag: &str, text: &str) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        for (index, line) in text.split('\n').enumerate() {
            // A CONT line's own CONCs are its siblings, one level below the text's tag.
            match index {
                0 => self.physical(level, tag, line, true, level + 1),
                _ => self.physical(level + 1, "CONT", line, true, level + 1),
            }
        }
    }

    /// Writes a value, split with `CONC` in 5.5.1 when long (GEDCOM 7 has no line limit and
    /// no `CONC`), each piece escaped for the version; the `CONC`s go at `conc_level`.
    fn physical(&mut self, level: usize, tag: &str, value: &str, escape: bool, conc_level: usize) {
        let pieces = if self.v7 { vec![value] } else { split_conc(value, CONC_AT) };
        for (index, piece) in pieces.into_iter().enumerate() {
            let (level, tag) = if index == 0 { (level, tag) } else { (conc_level, "CONC") };
            self.out.push_str(&level.to_string());
            self.out.push(' ');
            self.out.push_str(tag);
            if !piece.is_empty() {
                self.out.push(' ');
                match (escape, self.v7) {
                    (false, _) => self.out.push_str(piece),
                    // GEDCOM 7 escapes only a leading @; 5.5.1 doubles every one.
                    (true, true) if piece.starts_with('@') => {
                        self.out.push('@');
                        self.out.push_str(piece);
                    }
                    (true, true) => self.out.push_str(piece),
                    (true, false) => self.out.push_str(&piece.replace('@', "@@")),
                }
            }
            self.out.push('\n');
        }
    }

    fn event(&mut self, tag: &str, event: &Event) {
        // "Y" says the event happened when nothing more is known (both versions allow it).
        if event.date.is_empty() && event.place.is_empty() {
            self.line(1, tag, "Y");
            return;
        }
        self.line(1, tag, "");
        if !event.date.is_empty() {
            self.date(2, &event.date);
        }
        if !event.place.is_empty() {
            self.line(2, "PLAC", &event.place);
        }
    }
}

/// Splits a value into pieces of at most `max` characters once `@`s are doubled, preferring
/// cuts between two non-spaces because some readers trim the ends of lines.
fn split_conc(value: &str, max: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = value;
    loop {
        let mut cost = 0;
        let overflow = rest.char_indices().find(|&(_, c)| {
            cost += if c == '@' { 2 } else { 1 };
            cost > max
        });
        let Some((mut cut, _)) = overflow else {
            pieces.push(rest);
            return pieces;
        };
        let safe = |at: usize| {
            let before = rest[..at].chars().next_back().is_some_and(|c| !c.is_whitespace());
            let after = rest[at..].chars().next().is_some_and(|c| !c.is_whitespace());
            before && after
        };
        if !safe(cut) {
            if let Some((at, _)) = rest[..cut].char_indices().rev().take(40).find(|&(at, _)| at > 0 && safe(at)) {
                cut = at;
            }
        }
        pieces.push(&rest[..cut]);
        rest = &rest[cut..];
    }
}

/// GEDCOM 7's `FILE` is a URI: everything but URI characters is percent-encoded (a `%` too,
/// so that the reader's decoding gives back exactly this path).
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn extension(path: &str) -> String {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let name = name.split(['?', '#']).next().unwrap_or(name);
    name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default()
}

/// The media type GEDCOM 7 requires in `FORM`, guessed from the file name.
pub fn media_type(path: &str) -> &'static str {
    match extension(path).as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "tif" | "tiff" => "image/tiff",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "htm" | "html" => "text/html",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" | "oga" => "audio/ogg",
        "m4a" => "audio/mp4",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        _ => "application/octet-stream",
    }
}

/// Writes `doc` as GEDCOM 7.0 (`Version::V7`) or 5.5.1 (any other version). Xrefs are kept;
/// empty ones get a fresh id. Links to individuals not in the document are left out, as is a
/// third partner of a family (GEDCOM has room for two).
pub fn write(doc: &Document, version: Version) -> String {
    let v7 = version == Version::V7;
    let mut used: HashSet<String> = doc.people.iter().map(|p| p.xref.clone()).collect();
    used.extend(doc.families.iter().map(|f| f.xref.clone()));
    let mut fresh = |prefix: &str, xref: &str| -> String {
        if !xref.is_empty() {
            return xref.to_string();
        }
        let id = (1..).map(|n| format!("{prefix}{n}")).find(|id| !used.contains(id)).unwrap_or_default();
        used.insert(id.clone());
        id
    };
    let person_ids: Vec<String> = doc.people.iter().map(|p| fresh("I", &p.xref)).collect();
    let family_ids: Vec<String> = doc.families.iter().map(|f| fresh("F", &f.xref)).collect();
    let mut media_ids: HashMap<&str, String> = HashMap::new();
    let mut media_order = Vec::new();
    for path in doc.people.iter().flat_map(|p| &p.media) {
        if !media_ids.contains_key(path.as_str()) {
            media_ids.insert(path, fresh("M", ""));
            media_order.push(path.as_str());
        }
    }
    let submitter = fresh("U", "");

    // Each person's families, in the order the families come, for FAMC and FAMS.
    let known: HashSet<&str> = doc.people.iter().map(|p| p.xref.as_str()).filter(|x| !x.is_empty()).collect();
    let mut as_child: HashMap<&str, Vec<(&str, ChildKind)>> = HashMap::new();
    let mut as_partner: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut step_children: HashSet<(&str, &str)> = HashSet::new();
    for (family, id) in doc.families.iter().zip(&family_ids) {
        for partner in family.partners.iter().filter(|p| known.contains(p.as_str())).take(2) {
            as_partner.entry(partner).or_default().push(id);
        }
        for (child, kind) in family.children.iter().filter(|(c, _)| known.contains(c.as_str())) {
            as_child.entry(child).or_default().push((id, *kind));
            if *kind == ChildKind::Step {
                step_children.insert((id, child));
            }
        }
    }

    let mut w = Writer { out: String::new(), v7 };
    w.out.push_str("0 HEAD\n");
    if v7 {
        w.out.push_str("1 GEDC\n2 VERS 7.0\n1 SOUR HEIRLOOM\n2 NAME Heirloom\n");
    } else {
        w.out.push_str("1 SOUR HEIRLOOM\n2 NAME Heirloom\n");
        w.pointer(1, "SUBM", &submitter);
        w.out.push_str("1 GEDC\n2 VERS 5.5.1\n2 FORM LINEAGE-LINKED\n1 CHAR UTF-8\n");
        // 5.5.1 requires a submitter.
        w.record(&submitter, "SUBM");
        w.out.push_str("1 NAME Heirloom\n");
    }
    for (person, id) in doc.people.iter().zip(&person_ids) {
        let families = Families {
            as_child: as_child.get(person.xref.as_str()).map_or(&[], Vec::as_slice),
            as_partner: as_partner.get(person.xref.as_str()).map_or(&[], Vec::as_slice),
        };
        individual(&mut w, person, id, &families, &media_ids);
    }
    for (family, id) in doc.families.iter().zip(&family_ids) {
        w.record(id, "FAM");
        let partners = family.partners.iter().filter(|p| known.contains(p.as_str())).take(2);
        for (partner, tag) in partners.zip(["HUSB", "WIFE"]) {
            w.pointer(1, tag, partner);
        }
        for (child, _) in family.children.iter().filter(|(c, _)| known.contains(c.as_str())) {
            w.pointer(1, "CHIL", child);
            // 5.5.1's PEDI has no step-children; Family Tree Maker's extension does.
            if !v7 && step_children.contains(&(id.as_str(), child.as_str())) {
                w.out.push_str("2 _FREL Step\n2 _MREL Step\n");
            }
        }
        if let Some(married) = &family.married {
            w.event("MARR", married);
        }
        if family.divorced {
            w.line(1, "DIV", "Y");
        }
    }
    for path in media_order {
        let Some(id) = media_ids.get(path) else { continue };
        w.record(id, "OBJE");
        if v7 {
            w.line(1, "FILE", &percent_encode(path));
            w.line(2, "FORM", media_type(path));
        } else {
            w.line(1, "FILE", path);
            let ext = extension(path);
            w.line(2, "FORM", if ext.is_empty() { "unknown" } else { &ext });
        }
    }
    w.out.push_str("0 TRLR\n");
    w.out
}

struct Families<'a> {
    as_child: &'a [(&'a str, ChildKind)],
    as_partner: &'a [&'a str],
}

fn individual(w: &mut Writer, person: &Individual, id: &str, families: &Families<'_>, media: &HashMap<&str, String>) {
    w.record(id, "INDI");
    let given = person.given_names.as_str();
    // A slash in a name part would move the surname's slashes.
    let name_text =
        |surname: &str| format!("{} /{}/", given.replace('/', " "), surname.replace('/', " ")).trim().to_string();
    let has_names = !given.is_empty() || !person.surname.is_empty() || !person.nicknames.is_empty();
    if has_names || !person.birth_surname.is_empty() {
        w.line(1, "NAME", &name_text(&person.surname));
        if !given.is_empty() {
            w.line(2, "GIVN", given);
        }
        if !person.surname.is_empty() {
            w.line(2, "SURN", &person.surname);
        }
        for nick in &person.nicknames {
            w.line(2, "NICK", nick);
        }
    }
    if !person.birth_surname.is_empty() {
        w.line(1, "NAME", &name_text(&person.birth_surname));
        w.line(2, "TYPE", if w.v7 { "BIRTH" } else { "birth" });
        if !given.is_empty() {
            w.line(2, "GIVN", given);
        }
        w.line(2, "SURN", &person.birth_surname);
    }
    if let Some(sex) = person.sex.filter(|s| matches!(s, 'F' | 'M')) {
        w.line(1, "SEX", &sex.to_string());
    }
    if let Some(birth) = &person.birth {
        w.event("BIRT", birth);
    }
    match &person.death {
        Some(death) => w.event("DEAT", death),
        None if !person.living => w.line(1, "DEAT", "Y"),
        None => {}
    }
    for (family, kind) in families.as_child {
        w.pointer(1, "FAMC", family);
        let pedigree = match kind {
            ChildKind::Birth => None,
            ChildKind::Adopted => Some("adopted"),
            ChildKind::Foster => Some("foster"),
            ChildKind::Step => None,
        };
        if let Some(pedigree) = pedigree {
            let value = if w.v7 { pedigree.to_ascii_uppercase() } else { pedigree.to_string() };
            w.line(2, "PEDI", &value);
        } else if *kind == ChildKind::Step && w.v7 {
            w.line(2, "PEDI", "OTHER");
            w.line(3, "PHRASE", "step");
        }
    }
    for family in families.as_partner {
        w.pointer(1, "FAMS", family);
    }
    for note in person.notes.iter().filter(|n| !n.trim().is_empty()) {
        w.text(1, "NOTE", note);
    }
    for path in &person.media {
        if let Some(object) = media.get(path.as_str()) {
            w.pointer(1, "OBJE", object);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conc_pieces_avoid_spaces_and_count_at_signs_twice() {
        let text = "word ".repeat(100);
        let pieces = split_conc(&text, 20);
        assert_eq!(pieces.concat(), text);
        for piece in &pieces[..pieces.len() - 1] {
            assert!(piece.chars().count() <= 20);
            assert!(!piece.ends_with(' ') || piece.trim().is_empty(), "{piece:?}");
        }
        let ats = "@".repeat(25);
        let pieces = split_conc(&ats, 20);
        assert_eq!(pieces, ["@".repeat(10), "@".repeat(10), "@".repeat(5)]);
        assert_eq!(split_conc("", 20), [""]);
        // No safe cut within reach: cut where the limit falls.
        assert_eq!(split_conc(&" ".repeat(45), 20).len(), 3);
        assert_eq!(split_conc("ééééé", 2), ["éé", "éé", "é"]);
    }

    #[test]
    fn media_types_and_uris() {
        assert_eq!(media_type("a/B.JPG"), "image/jpeg");
        assert_eq!(media_type("https://x.org/scan.pdf?v=2"), "application/pdf");
        assert_eq!(media_type("no-extension"), "application/octet-stream");
        assert_eq!(percent_encode("media/Brontë 1.jpg"), "media/Bront%C3%AB%201.jpg");
        assert_eq!(percent_encode("100%.png"), "100%25.png");
        assert_eq!(percent_encode("https://x.org/a?b=c#d"), "https://x.org/a?b=c#d");
    }
}
