//! Walking the family graph: the shortest path between two people over parent, child and
//! partner edges and the generations of a family tree, both in a legacy's graph kept in
//! memory ([`Graphs`]), and the ancestor check that keeps anyone from becoming their own
//! ancestor (one query a level, inside the writer's transaction). Every walk stops at
//! the configured depth and visited-people limits instead of running on.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use types::{LegacyId, ParentKind, PartnerKind, PersonId};

use crate::db::{Conn, Db};
use crate::error::Result;
use crate::people::kinship::Step;
use crate::people::repo::{self, GraphEdge};

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

/// The family graphs of the legacies asked about lately, each kept in memory until its
/// stored version moves on (every write of relationships bumps it, see
/// `repo::graph_version`): the relationship finder then walks a 100,000-person graph in
/// microseconds instead of a query a level.
#[derive(Default)]
pub struct Graphs {
    /// Most recently used last; at most [`GRAPHS_KEPT`].
    kept: Mutex<Vec<(LegacyId, Arc<LegacyGraph>)>>,
}

/// How many legacies' graphs are kept.
const GRAPHS_KEPT: usize = 8;

impl Graphs {
    /// The legacy's graph as stored now: the copy kept, or loaded again when its version
    /// is not the stored one. (The version is read before the edges, so a copy is never
    /// newer than it says and a write between the two only costs one more load.)
    pub async fn of(&self, db: &Db, legacy_id: &LegacyId) -> Result<Arc<LegacyGraph>> {
        let version = repo::graph_version(db, legacy_id).await?.unwrap_or_default();
        let kept = {
            let mut kept = lock(&self.kept);
            let at = kept.iter().position(|(id, graph)| id == legacy_id && graph.version == version);
            at.map(|at| {
                let entry = kept.remove(at);
                let graph = entry.1.clone();
                kept.push(entry);
                graph
            })
        };
        if let Some(graph) = kept {
            return Ok(graph);
        }
        let graph = Arc::new(LegacyGraph::new(version, repo::graph_edges(db, legacy_id).await?));
        let mut kept = lock(&self.kept);
        kept.retain(|(id, _)| id != legacy_id);
        kept.push((legacy_id.clone(), graph.clone()));
        if kept.len() > GRAPHS_KEPT {
            kept.remove(0);
        }
        Ok(graph)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One legacy's people (those with a relationship) and their edges, by number.
pub struct LegacyGraph {
    version: i64,
    numbers: HashMap<PersonId, u32>,
    people: Vec<PersonId>,
    /// Each person's steps: the edge walked and the person reached.
    steps: Vec<Vec<(Step, u32)>>,
}

impl LegacyGraph {
    pub fn new(version: i64, edges: Vec<GraphEdge>) -> LegacyGraph {
        let mut graph = LegacyGraph { version, numbers: HashMap::new(), people: Vec::new(), steps: Vec::new() };
        for edge in edges {
            let (forward, backward) = match edge.kind.as_str() {
                // `person_a` is the parent: from the child it is a parent step.
                "parent" => match ParentKind::parse(&edge.subkind) {
                    Some(kind) => (Step::Child { kind }, Step::Parent { kind }),
                    None => continue,
                },
                "partner" => match PartnerKind::parse(&edge.subkind) {
                    Some(kind) => (Step::Partner { kind }, Step::Partner { kind }),
                    None => continue,
                },
                _ => continue,
            };
            let (a, b) = (graph.number(edge.person_a), graph.number(edge.person_b));
            graph.steps[a as usize].push((forward, b));
            graph.steps[b as usize].push((backward, a));
        }
        graph
    }

    /// Walks `up` generations of ancestors and `down` generations of descendants from
    /// `root`, stopping at `max_people`. A person reached twice (cousins who married) is
    /// kept once, at the first generation that reached them.
    pub fn generations(&self, root: &PersonId, up: u32, down: u32, max_people: usize) -> Generations {
        let mut tree = Generations { people: vec![(root.clone(), 0)], ..Generations::default() };
        // Someone with no relationship has no family to walk to.
        let Some(&start) = self.numbers.get(root) else { return tree };
        // Nobody is both an ancestor and a descendant (relating refuses cycles), so one
        // set serves both walks.
        let mut kept: HashSet<u32> = HashSet::from([start]);
        for upward in [true, false] {
            let (levels, sign) = if upward { (up, -1) } else { (down, 1) };
            let mut frontier = vec![start];
            for level in 1..=i32::try_from(levels).unwrap_or(i32::MAX) {
                if frontier.is_empty() {
                    break;
                }
                let mut next = Vec::new();
                for &from in &frontier {
                    for &(step, to) in &self.steps[from as usize] {
                        let wanted = if upward {
                            matches!(step, Step::Parent { .. })
                        } else {
                            matches!(step, Step::Child { .. })
                        };
                        if !wanted {
                            continue;
                        }
                        if !kept.contains(&to) {
                            if tree.people.len() >= max_people {
                                tree.truncated = true;
                                continue;
                            }
                            kept.insert(to);
                            tree.people.push((self.people[to as usize].clone(), sign * level));
                            next.push(to);
                        }
                        let (parent, child) = if upward { (to, from) } else { (from, to) };
                        tree.edges.push((self.people[parent as usize].clone(), self.people[child as usize].clone()));
                    }
                }
                frontier = next;
            }
        }
        tree
    }

    fn number(&mut self, person: PersonId) -> u32 {
        if let Some(n) = self.numbers.get(&person) {
            return *n;
        }
        let n = self.people.len() as u32;
        self.numbers.insert(person.clone(), n);
        self.people.push(person);
        self.steps.push(Vec::new());
        n
    }
}

/// One side of a walk from both ends: who it has reached, and how.
struct Side {
    /// Each person reached, with the person they were reached from and the step taken.
    came_from: HashMap<u32, Option<(u32, Step)>>,
    frontier: Vec<u32>,
    levels: u32,
}

impl Side {
    fn at(person: u32) -> Side {
        Side { came_from: HashMap::from([(person, None)]), frontier: vec![person], levels: 0 }
    }

    /// The steps from this side's start to `person`, in walking order.
    fn steps_to(&self, person: u32) -> Vec<(Step, u32)> {
        let mut steps = Vec::new();
        let mut at = person;
        while let Some(Some((from, step))) = self.came_from.get(&at) {
            steps.push((*step, at));
            at = *from;
        }
        steps.reverse();
        steps
    }

    /// Walks one more level. Within the level, blood edges go before partner edges, so of
    /// two equally short paths the blood one is kept.
    fn expand(&mut self, graph: &LegacyGraph) -> Vec<u32> {
        let mut next = Vec::new();
        for partners in [false, true] {
            for &from in &self.frontier {
                for &(step, to) in &graph.steps[from as usize] {
                    if matches!(step, Step::Partner { .. }) != partners || self.came_from.contains_key(&to) {
                        continue;
                    }
                    self.came_from.insert(to, Some((from, step)));
                    next.push(to);
                }
            }
        }
        self.levels += 1;
        self.frontier = next.clone();
        next
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

/// The shortest path from `start` to `goal` in `graph`, walked from both ends at once
/// (always the end with fewer people waiting), so a person with a small family ends the
/// search quickly and a long path costs two half-length walks. Of equally short paths,
/// the one with the fewest partner steps is kept.
pub fn shortest_path(graph: &LegacyGraph, start: &PersonId, goal: &PersonId, limits: Limits) -> PathSearch {
    if start == goal {
        return PathSearch::Found(Vec::new());
    }
    // Someone with no relationship is in no path.
    let (Some(&start), Some(&goal)) = (graph.numbers.get(start), graph.numbers.get(goal)) else {
        return PathSearch::NotFound { capped: false };
    };
    let (mut forward, mut backward) = (Side::at(start), Side::at(goal));
    loop {
        if forward.frontier.is_empty() || backward.frontier.is_empty() {
            return PathSearch::NotFound { capped: false };
        }
        if forward.levels + backward.levels >= limits.max_depth
            || forward.came_from.len() + backward.came_from.len() > limits.max_visited as usize
        {
            return PathSearch::NotFound { capped: true };
        }
        let forward_turn = forward.frontier.len() <= backward.frontier.len();
        let (walker, other) = if forward_turn { (&mut forward, &backward) } else { (&mut backward, &forward) };
        let reached = walker.expand(graph);
        let meetings: Vec<u32> = reached.into_iter().filter(|p| other.came_from.contains_key(p)).collect();
        if meetings.is_empty() {
            continue;
        }
        let joined = meetings.iter().map(|&meeting| {
            let mut path = forward.steps_to(meeting);
            // The goal's side walked from the goal: turn its steps around.
            let back = backward.steps_to(meeting);
            let mut people: Vec<u32> = back.iter().map(|(_, p)| *p).collect();
            people.insert(0, goal);
            people.pop();
            for ((step, _), person) in back.into_iter().zip(people).rev() {
                path.push((reversed(step), person));
            }
            path
        });
        let partner_steps =
            |path: &Vec<(Step, u32)>| path.iter().filter(|(s, _)| matches!(s, Step::Partner { .. })).count();
        let best = joined.min_by_key(|path| (path.len(), partner_steps(path)));
        return match best {
            Some(path) => PathSearch::Found(
                path.into_iter().map(|(step, person)| (step, graph.people[person as usize].clone())).collect(),
            ),
            None => PathSearch::NotFound { capped: false },
        };
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
