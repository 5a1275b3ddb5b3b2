//! Walking the family graph: the shortest path between two people over parent, child and
//! partner edges, and the ancestor check that keeps anyone from becoming their own
//! ancestor. Each walk goes level by level with one query a level, and stops at the
//! configured depth and visited-people limits instead of running on.

use std::collections::{HashMap, HashSet};

use types::PersonId;

use crate::db::Conn;
use crate::error::Result;
use crate::people::kinship::Step;
use crate::people::model::{Bond, RelationshipRow};
use crate::people::repo;

/// How far a walk may go.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: u32,
    pub max_visited: u32,
}

/// What a path search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSearch {
    /// The steps from the start to the goal: each the edge walked and the person reached.
    Found(Vec<(Step, PersonId)>),
    /// No path; `capped` when the walk stopped at a limit before it ran out of people.
    NotFound { capped: bool },
}

/// The step from `from` along `edge`, and the person it reaches.
fn step(edge: &RelationshipRow, from: &PersonId) -> Option<(Step, PersonId)> {
    let to = edge.other(from).clone();
    let step = match edge.bond()? {
        Bond::Parent(kind) if &edge.person_b == from => Step::Parent { kind },
        Bond::Parent(kind) => Step::Child { kind },
        Bond::Partner(kind) => Step::Partner { kind },
    };
    Some((step, to))
}

/// The shortest path from `start` to `goal`. Within a level, blood edges are walked
/// before partner edges, so of two equally short paths the one by blood is named.
pub async fn shortest_path<'c>(
    conn: impl Into<Conn<'c>>,
    start: &PersonId,
    goal: &PersonId,
    limits: Limits,
) -> Result<PathSearch> {
    let mut conn = conn.into();
    if start == goal {
        return Ok(PathSearch::Found(Vec::new()));
    }
    let mut came_from: HashMap<PersonId, (PersonId, Step)> = HashMap::new();
    let mut seen: HashSet<PersonId> = HashSet::from([start.clone()]);
    let mut frontier = vec![start.clone()];
    for _depth in 0..limits.max_depth {
        if frontier.is_empty() {
            return Ok(PathSearch::NotFound { capped: false });
        }
        let ids: Vec<&PersonId> = frontier.iter().collect();
        let edges = repo::relationships_of(conn.reborrow(), &ids).await?;
        let mut by_person: HashMap<&PersonId, Vec<&RelationshipRow>> = HashMap::new();
        for edge in &edges {
            by_person.entry(&edge.person_a).or_default().push(edge);
            by_person.entry(&edge.person_b).or_default().push(edge);
        }
        let mut next = Vec::new();
        for partners in [false, true] {
            for from in &frontier {
                for edge in by_person.get(from).into_iter().flatten() {
                    let Some((step, to)) = step(edge, from) else { continue };
                    if matches!(step, Step::Partner { .. }) != partners || seen.contains(&to) {
                        continue;
                    }
                    seen.insert(to.clone());
                    came_from.insert(to.clone(), (from.clone(), step));
                    if &to == goal {
                        return Ok(PathSearch::Found(walk_back(&came_from, start, goal)));
                    }
                    next.push(to);
                }
            }
        }
        if seen.len() > limits.max_visited as usize {
            return Ok(PathSearch::NotFound { capped: true });
        }
        frontier = next;
    }
    Ok(PathSearch::NotFound { capped: !frontier.is_empty() })
}

fn walk_back(
    came_from: &HashMap<PersonId, (PersonId, Step)>,
    start: &PersonId,
    goal: &PersonId,
) -> Vec<(Step, PersonId)> {
    let mut path = Vec::new();
    let mut at = goal.clone();
    while &at != start {
        let Some((from, step)) = came_from.get(&at) else { break };
        path.push((*step, at.clone()));
        at = from.clone();
    }
    path.reverse();
    path
}

/// Whether `ancestor` is an ancestor of `person` (by any kind of parent), walking up at
/// most `limits`; `None` when the walk stopped at a limit before it could tell.
pub async fn is_ancestor<'c>(
    conn: impl Into<Conn<'c>>,
    ancestor: &PersonId,
    person: &PersonId,
    limits: Limits,
) -> Result<Option<bool>> {
    let mut conn = conn.into();
    let mut seen: HashSet<PersonId> = HashSet::from([person.clone()]);
    let mut frontier = vec![person.clone()];
    // Generations are far fewer than the steps a relationship path may take, but a walk
    // up is still bounded by the visited limit; the depth bound is generous on purpose.
    for _generation in 0..limits.max_depth.saturating_mul(8) {
        if frontier.is_empty() {
            return Ok(Some(false));
        }
        let ids: Vec<&PersonId> = frontier.iter().collect();
        let mut next = Vec::new();
        for edge in repo::parents_of(conn.reborrow(), &ids).await? {
            if &edge.person_a == ancestor {
                return Ok(Some(true));
            }
            if seen.insert(edge.person_a.clone()) {
                next.push(edge.person_a);
            }
        }
        if seen.len() > limits.max_visited as usize {
            return Ok(None);
        }
        frontier = next;
    }
    Ok(if frontier.is_empty() { Some(false) } else { None })
}
