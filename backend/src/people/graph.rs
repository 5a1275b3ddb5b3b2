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

/// One side of a walk from both ends: who it has reached, and how.
struct Side {
    /// Each person reached, with the person they were reached from and the step taken.
    came_from: HashMap<PersonId, Option<(PersonId, Step)>>,
    frontier: Vec<PersonId>,
    levels: u32,
}

impl Side {
    fn at(person: &PersonId) -> Side {
        Side { came_from: HashMap::from([(person.clone(), None)]), frontier: vec![person.clone()], levels: 0 }
    }

    /// The steps from this side's start to `person`, in walking order.
    fn steps_to(&self, person: &PersonId) -> Vec<(Step, PersonId)> {
        let mut steps = Vec::new();
        let mut at = person.clone();
        while let Some(Some((from, step))) = self.came_from.get(&at) {
            steps.push((*step, at.clone()));
            at = from.clone();
        }
        steps.reverse();
        steps
    }

    /// Walks one more level. Within the level, blood edges go before partner edges, so of
    /// two equally short paths the blood one is kept.
    async fn expand(&mut self, conn: &mut Conn<'_>) -> Result<Vec<PersonId>> {
        let ids: Vec<&PersonId> = self.frontier.iter().collect();
        let edges = repo::relationships_of(conn.reborrow(), &ids).await?;
        let mut by_person: HashMap<&PersonId, Vec<&RelationshipRow>> = HashMap::new();
        for edge in &edges {
            by_person.entry(&edge.person_a).or_default().push(edge);
            by_person.entry(&edge.person_b).or_default().push(edge);
        }
        let mut next = Vec::new();
        for partners in [false, true] {
            for from in &self.frontier {
                for edge in by_person.get(from).into_iter().flatten() {
                    let Some((step, to)) = step(edge, from) else { continue };
                    if matches!(step, Step::Partner { .. }) != partners || self.came_from.contains_key(&to) {
                        continue;
                    }
                    self.came_from.insert(to.clone(), Some((from.clone(), step)));
                    next.push(to);
                }
            }
        }
        self.levels += 1;
        self.frontier = next.clone();
        Ok(next)
    }
}

/// The same edge walked the other way.
fn reversed(step: Step) -> Step {
    match step {
        Step::Parent { kind } => Step::Child { kind },
        Step::Child { kind } => Step::Parent { kind },
        partner @ Step::Partner { .. } => partner,
    }
}

/// The shortest path from `start` to `goal`, walked from both ends at once (always the
/// end with fewer people waiting), so a person with a small family ends the search
/// quickly and a long path costs two half-length walks. Of equally short paths, the one
/// with the fewest partner steps is kept.
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
    let (mut forward, mut backward) = (Side::at(start), Side::at(goal));
    loop {
        if forward.frontier.is_empty() || backward.frontier.is_empty() {
            return Ok(PathSearch::NotFound { capped: false });
        }
        if forward.levels + backward.levels >= limits.max_depth
            || forward.came_from.len() + backward.came_from.len() > limits.max_visited as usize
        {
            return Ok(PathSearch::NotFound { capped: true });
        }
        let forward_turn = forward.frontier.len() <= backward.frontier.len();
        let (walker, other) = if forward_turn { (&mut forward, &backward) } else { (&mut backward, &forward) };
        let reached = walker.expand(&mut conn).await?;
        let meetings: Vec<PersonId> = reached.into_iter().filter(|p| other.came_from.contains_key(p)).collect();
        if meetings.is_empty() {
            continue;
        }
        let joined = meetings.iter().map(|meeting| {
            let mut path = forward.steps_to(meeting);
            // The goal's side walked from the goal: turn its steps around.
            let back = backward.steps_to(meeting);
            let mut people: Vec<PersonId> = back.iter().map(|(_, p)| p.clone()).collect();
            people.insert(0, goal.clone());
            people.pop();
            for ((step, _), person) in back.into_iter().zip(people).rev() {
                path.push((reversed(step), person));
            }
            path
        });
        let partner_steps =
            |path: &Vec<(Step, PersonId)>| path.iter().filter(|(s, _)| matches!(s, Step::Partner { .. })).count();
        let best = joined.min_by_key(|path| (path.len(), partner_steps(path)));
        return Ok(best.map_or(PathSearch::NotFound { capped: false }, PathSearch::Found));
    }
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

/// The people of a family tree around a root: its ancestors and descendants a generation
/// at a time, each with the parent edges the tree draws.
#[derive(Debug, Default)]
pub struct Generations {
    /// Each person reached, with their generation (negative above the root, positive
    /// below), in the order they were reached: the root first.
    pub people: Vec<(PersonId, i32)>,
    /// `(parent, child)` pairs between people of the tree.
    pub edges: Vec<(PersonId, PersonId)>,
    /// True when the walk stopped at `max_people` before the generations asked for.
    pub truncated: bool,
}

/// Walks `up` generations of ancestors and `down` generations of descendants from
/// `root`, one query a generation each way, stopping at `max_people`. A person reached
/// twice (cousins who married) is kept once, at the first generation that reached them.
pub async fn generations<'c>(
    conn: impl Into<Conn<'c>>,
    root: &PersonId,
    up: u32,
    down: u32,
    max_people: usize,
) -> Result<Generations> {
    let mut conn = conn.into();
    let mut tree = Generations { people: vec![(root.clone(), 0)], ..Generations::default() };
    // Nobody is both an ancestor and a descendant (relating refuses cycles), so one set
    // serves both walks.
    let mut kept: HashSet<PersonId> = HashSet::from([root.clone()]);
    for upward in [true, false] {
        let (levels, sign) = if upward { (up, -1) } else { (down, 1) };
        let mut frontier = vec![root.clone()];
        for level in 1..=levels as i32 {
            if frontier.is_empty() {
                break;
            }
            let ids: Vec<&PersonId> = frontier.iter().collect();
            let edges = if upward {
                repo::parents_of(conn.reborrow(), &ids).await?
            } else {
                repo::children_of(conn.reborrow(), &ids).await?
            };
            let mut next = Vec::new();
            for edge in edges {
                let reached = if upward { &edge.person_a } else { &edge.person_b };
                if !kept.contains(reached) {
                    if tree.people.len() >= max_people {
                        tree.truncated = true;
                        continue;
                    }
                    kept.insert(reached.clone());
                    tree.people.push((reached.clone(), sign * level));
                    next.push(reached.clone());
                }
                tree.edges.push((edge.person_a, edge.person_b));
            }
            frontier = next;
        }
    }
    Ok(tree)
}
