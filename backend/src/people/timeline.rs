//! A person's timeline: their life events, the family events of their life (partnerships,
//! children born, parents and partners who died), the photos they are tagged in by when
//! each was taken and the stories that mention them by when each was last written, in one
//! order. A relative hidden from the reader (a living person) adds nothing: their dates
//! are theirs to keep.

use std::collections::HashMap;

use types::{MediaView, PersonId, PersonSummary, StorySummary, TimelineEntry, TimelineKind};

use crate::people::dates::{self, DatePart};
use crate::people::model::{Bond, PersonRow, RelationshipRow};

/// What the timeline is drawn from: the person, their relationships (with the rows of the
/// people at the other end), and what the reader may see of their photos and stories.
pub struct Life<'a> {
    pub person: &'a PersonRow,
    pub edges: &'a [RelationshipRow],
    pub relatives: &'a HashMap<PersonId, PersonRow>,
    /// Whether a person's details are hidden from the reader.
    pub hides: &'a dyn Fn(&PersonRow) -> bool,
    pub media: &'a [MediaView],
    pub stories: &'a [StorySummary],
}

/// An entry and the key it sorts by (`None`: no known date, placed last).
struct Dated {
    key: Option<i64>,
    entry: TimelineEntry,
}

fn entry(kind: TimelineKind, text: String) -> TimelineEntry {
    TimelineEntry { kind, when: String::new(), year: None, text, person: None, story_id: None, media_id: None }
}

/// A genealogical date as typed: its sort key, plain English and year (nothing for an
/// empty or unreadable text, which is then shown as typed).
fn dated(date_text: &str, mut entry: TimelineEntry) -> Dated {
    let parsed = (!date_text.is_empty()).then(|| dates::parse(date_text).ok()).flatten();
    let key = parsed.as_ref().and_then(|d| d.sort_key());
    entry.year = parsed.as_ref().and_then(|d| d.year());
    entry.when = match parsed {
        Some(date) => date.display(),
        None => date_text.to_string(),
    };
    Dated { key, entry }
}

/// A day from a calendar date: its sort key, plain English and year.
fn on_day(day: Option<DatePart>, mut entry: TimelineEntry) -> Dated {
    let Some(day) = day else { return Dated { key: None, entry } };
    entry.year = Some(day.year);
    entry.when = day.display();
    Dated { key: Some(day.key()), entry }
}

/// The day of an ISO 8601 date or date-time ("2001-05-03T10:11:12+02:00"), as cameras
/// write it in EXIF and the media pipeline keeps it.
fn iso_day(text: &str) -> Option<DatePart> {
    let mut parts = text.get(..10)?.split('-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(DatePart {
        year,
        month: Some(month),
        day: Some(day),
    })
}

/// The (UTC) day of a moment in milliseconds since 1970.
fn day_of_millis(millis: i64) -> Option<DatePart> {
    let moment = time::OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000)).ok()?;
    Some(DatePart { year: moment.year(), month: Some(u8::from(moment.month())), day: Some(moment.day()) })
}

fn with_place(text: &str, place: &str) -> String {
    if place.is_empty() {
        text.to_string()
    } else {
        format!("{text} in {place}")
    }
}

/// The timeline, oldest first, undated lines last (in the order they were found).
pub fn timeline(life: &Life<'_>) -> Vec<TimelineEntry> {
    let person = life.person;
    if (life.hides)(person) {
        return Vec::new();
    }
    let f = &person.fields;
    let mut lines: Vec<Dated> = Vec::new();
    if !f.birth_date.is_empty() || !f.birth_place.is_empty() {
        lines.push(dated(&f.birth_date, entry(TimelineKind::Born, with_place("Born", &f.birth_place))));
    }
    for edge in life.edges {
        let other_id = edge.other(&person.id);
        let Some(other) = life.relatives.get(other_id).filter(|other| !(life.hides)(other)) else { continue };
        let summary: PersonSummary = other.summary(false);
        let name = summary.name.clone();
        let mut family = |date: &str, kind: TimelineKind, text: String| {
            let mut line = entry(kind, text);
            line.person = Some(summary.clone());
            lines.push(dated(date, line));
        };
        match edge.bond() {
            Some(Bond::Partner(kind)) => {
                let verb = match kind {
                    types::PartnerKind::Partnered => "Became the partner of",
                    _ => "Married",
                };
                family(&edge.start_date, TimelineKind::Partnered, format!("{verb} {name}"));
                if !other.fields.death_date.is_empty() {
                    family(&other.fields.death_date, TimelineKind::PartnerDied, format!("{name} died"));
                }
            }
            Some(Bond::Parent(_)) => {
                // A parent's death, or a child's birth.
                let (date, kind, what) = if &edge.person_a == other_id {
                    (&other.fields.death_date, TimelineKind::ParentDied, "died")
                } else {
                    (&other.fields.birth_date, TimelineKind::ChildBorn, "was born")
                };
                if !date.is_empty() {
                    family(date, kind, format!("{name} {what}"));
                }
            }
            None => {}
        }
    }
    if !f.death_date.is_empty() || !f.death_place.is_empty() {
        lines.push(dated(&f.death_date, entry(TimelineKind::Died, with_place("Died", &f.death_place))));
    }
    for item in life.media {
        let title = if item.caption.trim().is_empty() { item.file_name.clone() } else { item.caption.clone() };
        let mut line = entry(TimelineKind::TaggedIn, title);
        line.media_id = Some(item.id.clone());
        lines.push(on_day(item.meta.taken_at.as_deref().and_then(iso_day), line));
    }
    for story in life.stories {
        let mut line = entry(TimelineKind::Story, story.title.clone());
        line.story_id = Some(story.id.clone());
        lines.push(on_day(day_of_millis(story.updated_at), line));
    }
    // A stable sort: of two lines on one day, the order above (life events, then family,
    // then photos and stories) holds.
    lines.sort_by_key(|line| (line.key.is_none(), line.key));
    lines.into_iter().map(|line| line.entry).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_days_read_as_cameras_write_them() {
        let day = iso_day("2001-05-03T10:11:12+02:00").unwrap();
        assert_eq!((day.year, day.month, day.day), (2001, Some(5), Some(3)));
        assert_eq!(iso_day("2001-05-03").unwrap().key(), 20_010_503);
        assert!(iso_day("2001-13-03").is_none());
        assert!(iso_day("2001:05:03 10:11:12").is_none(), "EXIF's own form is converted by the pipeline");
        assert!(iso_day("").is_none());
    }

    #[test]
    fn moments_become_their_utc_day() {
        let day = day_of_millis(1_700_000_000_000).unwrap();
        assert_eq!((day.year, day.month, day.day), (2023, Some(11), Some(14)));
    }
}
