//! Listings of a person's relatives a page at a time: the people one relationship away,
//! or every ancestor or descendant the walk reaches within the instance's limit of
//! people visited. Pages are ordered nearest generation first, then by person id, and a
//! cursor names the last person of a page (generation and id), so a relative added or
//! removed between two pages neither repeats nor skips anyone else.

use std::collections::HashMap;

use types::{ListedRelative, ParentKind, PersonId, RelativesKind, RelativesPage, Sex};

use crate::error::Result;
use crate::identity::User;
use crate::people::kinship::{self, Step};
use crate::people::model::{Bond, PersonRow};
use crate::people::{repo, People};
use crate::validate::{self, Problems};

const PAGE_DEFAULT: i64 = 50;
const PAGE_MAX: i64 = 200;
/// Generations an ancestor or descendant walk may go; the people-visited limit ends it
/// long before in a real family.
const GENERATIONS_MAX: u32 = 1_000;

/// The order of a listing: nearest generation first, partners before parents before
/// children at one distance, then person id.
fn order(generation: i32, id: &str) -> (u32, i32, &str) {
    (generation.unsigned_abs(), generation, id)
}

/// `"<generation>.<person id>"`.
fn cursor_of(generation: i32, id: &PersonId) -> String {
    format!("{generation}.{id}")
}

fn read_cursor(cursor: &str) -> Option<(i32, String)> {
    let (generation, id) = cursor.split_once('.')?;
    let generation = generation.parse().ok()?;
    (!id.is_empty()).then(|| (generation, id.to_string()))
}

impl People {
    /// A page of `id`'s relatives of `kind`, as the reader may see them (a living person
    /// hidden from them as "Living person").
    pub async fn relatives(
        &self,
        user: Option<&User>,
        id: &PersonId,
        kind: Option<&str>,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<RelativesPage> {
        let (person, access) = self.readable(user, id).await?;
        let mut problems = Problems::default();
        let kind = validate::choice(
            &mut problems,
            "kind",
            kind,
            RelativesKind::Neighbours,
            RelativesKind::parse,
            "neighbours, ancestors, descendants",
        );
        let limit = validate::limit(&mut problems, limit, PAGE_DEFAULT, PAGE_MAX);
        let after = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(cursor) => {
                let read = read_cursor(cursor);
                if read.is_none() {
                    problems.add("cursor", "is not a cursor from a previous page");
                }
                read
            }
        };
        problems.into_result()?;

        // Everyone the listing holds, with their generation and the kind of bond for a
        // neighbour (which word to use), before the page is cut.
        let (mut everyone, truncated): (Vec<(PersonId, i32, Option<Bond>)>, bool) = match kind {
            RelativesKind::Neighbours => {
                let edges = repo::relationships_of(&self.db, &[id]).await?;
                let listed = edges
                    .iter()
                    .filter_map(|edge| {
                        let bond = edge.bond()?;
                        let generation = match bond {
                            Bond::Partner(_) => 0,
                            Bond::Parent(_) if &edge.person_b == id => -1,
                            Bond::Parent(_) => 1,
                        };
                        Some((edge.other(id).clone(), generation, Some(bond)))
                    })
                    .collect();
                (listed, false)
            }
            RelativesKind::Ancestors | RelativesKind::Descendants => {
                let (up, down) =
                    if kind == RelativesKind::Ancestors { (GENERATIONS_MAX, 0) } else { (0, GENERATIONS_MAX) };
                let max_people = self.limits.max_visited as usize;
                let walked = self.graphs.of(&self.db, &person.legacy_id).await?.generations(id, up, down, max_people);
                let listed =
                    walked.people.into_iter().filter(|(person, _)| person != id).map(|(p, g)| (p, g, None)).collect();
                (listed, walked.truncated)
            }
        };
        everyone.sort_by(|a, b| order(a.1, a.0.as_str()).cmp(&order(b.1, b.0.as_str())));
        // A person reached by two bonds (a parent who is also a step-parent) is listed once.
        everyone.dedup_by(|a, b| a.0 == b.0);
        let start = match &after {
            Some((generation, after_id)) => {
                everyone.partition_point(|(p, g, _)| order(*g, p.as_str()) <= order(*generation, after_id))
            }
            None => 0,
        };
        let page: Vec<_> = everyone.iter().skip(start).take(limit as usize + 1).collect();
        let next_cursor = (page.len() > limit as usize).then(|| {
            let (last, generation, _) = page[limit as usize - 1];
            cursor_of(*generation, last)
        });
        let page = &page[..page.len().min(limit as usize)];
        let ids: Vec<&PersonId> = page.iter().map(|(p, _, _)| p).collect();
        let rows: HashMap<PersonId, PersonRow> =
            repo::find_many(&self.db, &ids).await?.into_iter().map(|p| (p.id.clone(), p)).collect();
        let items = page
            .iter()
            .filter_map(|(person, generation, bond)| {
                let row = rows.get(person)?;
                let hidden = access.hides(row);
                let sex = if hidden { Sex::Unknown } else { row.fields.sex };
                Some(ListedRelative {
                    person: row.summary(hidden),
                    generation: *generation,
                    relation: relation(*generation, *bond, sex),
                })
            })
            .collect();
        Ok(RelativesPage { kind, items, next_cursor, truncated })
    }
}

/// What a relative `generation`s away is called ("great-grandmother", "partner").
fn relation(generation: i32, bond: Option<Bond>, sex: Sex) -> String {
    let birth = ParentKind::Birth;
    let steps: Vec<Step> = match (bond, generation) {
        (Some(Bond::Partner(kind)), _) => vec![Step::Partner { kind }],
        (Some(Bond::Parent(kind)), g) if g < 0 => vec![Step::Parent { kind }],
        (Some(Bond::Parent(kind)), _) => vec![Step::Child { kind }],
        (None, g) if g < 0 => vec![Step::Parent { kind: birth }; g.unsigned_abs() as usize],
        (None, g) => vec![Step::Child { kind: birth }; g.unsigned_abs() as usize],
    };
    kinship::describe(&steps, false, sex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_and_nonsense_does_not() {
        let id = PersonId::new("01ABC");
        assert_eq!(read_cursor(&cursor_of(-3, &id)), Some((-3, "01ABC".to_string())));
        assert_eq!(read_cursor("x.01ABC"), None);
        assert_eq!(read_cursor("2."), None);
        assert_eq!(read_cursor("01ABC"), None);
    }

    #[test]
    fn nearer_generations_come_first_and_partners_before_parents() {
        let mut listed = vec![(2, "a"), (-1, "z"), (0, "m"), (1, "b"), (-2, "c")];
        listed.sort_by(|a, b| order(a.0, a.1).cmp(&order(b.0, b.1)));
        assert_eq!(listed, [(0, "m"), (-1, "z"), (1, "b"), (-2, "c"), (2, "a")]);
    }

    #[test]
    fn relatives_are_named_by_generation() {
        assert_eq!(relation(-3, None, Sex::Female), "great-grandmother");
        assert_eq!(relation(2, None, Sex::Male), "grandson");
        assert_eq!(relation(-1, Some(Bond::Parent(ParentKind::Adoptive)), Sex::Unknown), "adoptive parent");
        assert_eq!(relation(0, Some(Bond::Partner(types::PartnerKind::Married)), Sex::Female), "wife");
    }
}
