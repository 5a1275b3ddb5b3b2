//! Recommendation policies: given what has been learned (per user and across everyone),
//! the candidates and the context, pick one. Pure and synchronous, with the randomness
//! passed in, so the same code runs in requests, in tests with a seeded RNG and offline
//! in [`super::simulate`]. Swapped by configuration (`tips_policy`) through
//! [`PolicyFactory`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rand::{Rng, RngCore};
use types::{TipAction, TipKind};

use crate::tips::model::{Arm, Bucket, Candidate, Context, Counts};

/// What has been learned: feedback counts per arm key for this user, and for everyone
/// (the global prior; it includes this user's own counts, which are subtracted).
#[derive(Debug, Clone, Default)]
pub struct ArmStats {
    pub user: HashMap<String, Counts>,
    pub global: HashMap<String, Counts>,
}

impl ArmStats {
    pub fn user(&self, key: &str) -> Counts {
        self.user.get(key).copied().unwrap_or_default()
    }

    /// Everyone else's counts for `key`.
    pub fn others(&self, key: &str) -> Counts {
        let all = self.global.get(key).copied().unwrap_or_default();
        let mine = self.user(key);
        Counts {
            shown: all.shown.saturating_sub(mine.shown),
            done: all.done.saturating_sub(mine.done),
            not_done: all.not_done.saturating_sub(mine.not_done),
        }
    }

    /// Counts one piece of feedback on `arm`, for the user and for everyone (what the
    /// feedback consumer writes to the database, done in memory).
    pub fn record(&mut self, arm: &Arm, action: TipAction) {
        for key in arm.keys() {
            for map in [&mut self.user, &mut self.global] {
                let counts = map.entry(key.clone()).or_default();
                match action {
                    TipAction::Shown => counts.shown += 1,
                    TipAction::Done => counts.done += 1,
                    TipAction::Skipped | TipAction::Dismissed => counts.not_done += 1,
                }
            }
        }
    }
}

/// How much everyone else's experience counts for a user at most, in observations: a
/// new user starts from the crowd, and their own few answers soon outweigh it.
const GLOBAL_PRIOR_STRENGTH: f64 = 8.0;
/// How much the coarser level's other arms count towards an arm (partial pooling).
const POOLING: f64 = 0.5;

/// Beta(α, β) of the chance that a tip from `key` gets done: the crowd's rate as a prior
/// of limited strength, this user's counts for `key`, and half of their counts for the
/// rest of `parent` (the coarser level), so an arm learns from its siblings too.
pub fn posterior(stats: &ArmStats, key: &str, parent: Option<&str>) -> (f64, f64) {
    let others = stats.others(key);
    let seen = (others.done + others.not_done) as f64;
    let mean = (others.done as f64 + 1.0) / (seen + 2.0);
    let strength = 2.0 + seen.min(GLOBAL_PRIOR_STRENGTH);
    let mine = stats.user(key);
    let mut alpha = mean * strength + mine.done as f64;
    let mut beta = (1.0 - mean) * strength + mine.not_done as f64;
    if let Some(parent) = parent {
        let wider = stats.user(parent);
        alpha += POOLING * wider.done.saturating_sub(mine.done) as f64;
        beta += POOLING * wider.not_done.saturating_sub(mine.not_done) as f64;
    }
    (alpha, beta)
}

/// The posterior mean of "a tip of `kind` at this time of day gets done" for this user.
pub fn kind_mean(stats: &ArmStats, kind: TipKind, bucket: Bucket) -> f64 {
    let arm = Arm { kind, group: String::new(), bucket };
    let (alpha, beta) = posterior(stats, &arm.kind_key(), Some(&arm.kind_any_time_key()));
    alpha / (alpha + beta)
}

/// Chooses one candidate.
pub trait Policy: Send + Sync {
    /// The name `tips_policy` selects it by.
    fn name(&self) -> &'static str;
    /// The index of the chosen candidate; `None` only when there are none.
    fn pick(&self, stats: &ArmStats, offered: &[Candidate], context: &Context, rng: &mut dyn RngCore) -> Option<usize>;
}

/// The policies by name.
pub struct PolicyFactory;

impl PolicyFactory {
    pub const NAMES: &'static [&'static str] = &["random", "thompson"];

    pub fn get(name: &str) -> Option<Arc<dyn Policy>> {
        match name {
            "random" => Some(Arc::new(RandomPolicy)),
            "thompson" => Some(Arc::new(ThompsonPolicy)),
            _ => None,
        }
    }
}

/// v0: a kind at random among those present, then a candidate of it at random (so the
/// hundred prompts do not drown out the one draft).
pub struct RandomPolicy;

impl Policy for RandomPolicy {
    fn name(&self) -> &'static str {
        "random"
    }

    fn pick(&self, _: &ArmStats, candidates: &[Candidate], _: &Context, rng: &mut dyn RngCore) -> Option<usize> {
        let by_kind = group_by(candidates.iter().enumerate(), |(_, c)| c.kind.as_str());
        let kinds: Vec<&Vec<(usize, &Candidate)>> = by_kind.values().collect();
        if kinds.is_empty() {
            return None;
        }
        let members = kinds[rng.gen_range(0..kinds.len())];
        Some(members[rng.gen_range(0..members.len())].0)
    }
}

/// Thompson sampling over Beta posteriors, in two levels: draw a done-rate for each kind
/// present (at this time of day) and take the best kind; then draw one for each of its
/// arms (source or theme) and take the best arm; then the candidate of that arm with the
/// highest priority, ties at random. Sampling per arm rather than per candidate keeps a
/// kind with many candidates (prompts) from winning by sheer number of draws.
pub struct ThompsonPolicy;

impl Policy for ThompsonPolicy {
    fn name(&self) -> &'static str {
        "thompson"
    }

    fn pick(&self, stats: &ArmStats, offered: &[Candidate], context: &Context, rng: &mut dyn RngCore) -> Option<usize> {
        let bucket = context.bucket;
        let by_kind = group_by(offered.iter().enumerate(), |(_, c)| c.kind.as_str());
        let (_, members) = best_by_sample(rng, by_kind.into_iter(), |members| {
            let arm = members[0].1.arm(bucket);
            posterior(stats, &arm.kind_key(), Some(&arm.kind_any_time_key()))
        })?;
        let by_arm = group_by(members.into_iter(), |(_, c)| c.group.as_str());
        let (_, members) = best_by_sample(rng, by_arm.into_iter(), |members| {
            let arm = members[0].1.arm(bucket);
            posterior(stats, &arm.key(), Some(&arm.kind_key()))
        })?;
        let top = members.iter().map(|(_, c)| c.priority).max()?;
        let best: Vec<usize> = members.iter().filter(|(_, c)| c.priority == top).map(|(i, _)| *i).collect();
        Some(best[rng.gen_range(0..best.len())])
    }
}

/// Groups in a stable order (by key), so a seeded RNG gives the same picks every run.
fn group_by<'a, T>(items: impl Iterator<Item = T>, key: impl Fn(&T) -> &'a str) -> BTreeMap<&'a str, Vec<T>> {
    let mut groups: BTreeMap<&'a str, Vec<T>> = BTreeMap::new();
    for item in items {
        groups.entry(key(&item)).or_default().push(item);
    }
    groups
}

fn best_by_sample<K, V>(
    rng: &mut dyn RngCore,
    groups: impl Iterator<Item = (K, V)>,
    params: impl Fn(&V) -> (f64, f64),
) -> Option<(K, V)> {
    let mut best: Option<(f64, K, V)> = None;
    for (key, value) in groups {
        let (alpha, beta) = params(&value);
        let draw = sample_beta(rng, alpha, beta);
        if best.as_ref().is_none_or(|(top, _, _)| draw > *top) {
            best = Some((draw, key, value));
        }
    }
    best.map(|(_, key, value)| (key, value))
}

/// A draw from Beta(α, β) as X / (X + Y) with X ~ Gamma(α), Y ~ Gamma(β).
pub fn sample_beta(rng: &mut dyn RngCore, alpha: f64, beta: f64) -> f64 {
    let x = sample_gamma(rng, alpha.max(1e-3));
    let y = sample_gamma(rng, beta.max(1e-3));
    if x + y <= 0.0 {
        0.5
    } else {
        x / (x + y)
    }
}

/// Marsaglia and Tsang's method (2000); shapes below 1 boosted by U^(1/shape).
fn sample_gamma(rng: &mut dyn RngCore, shape: f64) -> f64 {
    if shape < 1.0 {
        let u: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
        return sample_gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = standard_normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = rng.gen::<f64>();
        if u < 1.0 - 0.0331 * x.powi(4) || u.max(f64::MIN_POSITIVE).ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

/// Box-Muller.
fn standard_normal(rng: &mut dyn RngCore) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>(); // (0, 1]
    let u2: f64 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn candidate(kind: TipKind, group: &str, key: &str) -> Candidate {
        Candidate {
            key: key.into(),
            kind,
            source: group.into(),
            group: group.into(),
            title: key.into(),
            body: String::new(),
            deep_link: "/".into(),
            meta: serde_json::Value::Null,
            priority: 0,
        }
    }

    #[test]
    fn beta_draws_have_the_right_mean() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for (alpha, beta) in [(1.0, 1.0), (2.0, 8.0), (30.0, 10.0), (0.5, 0.5)] {
            let n = 20_000;
            let mean: f64 = (0..n).map(|_| sample_beta(&mut rng, alpha, beta)).sum::<f64>() / n as f64;
            let expected = alpha / (alpha + beta);
            assert!((mean - expected).abs() < 0.01, "Beta({alpha}, {beta}): {mean} vs {expected}");
        }
    }

    #[test]
    fn unknown_policy_names_are_refused_and_known_ones_resolve() {
        for name in PolicyFactory::NAMES {
            assert_eq!(PolicyFactory::get(name).unwrap().name(), *name);
        }
        assert!(PolicyFactory::get("linucb").is_none());
        assert!(PolicyFactory::get("").is_none());
    }

    #[test]
    fn posteriors_follow_feedback_and_pool_from_the_crowd() {
        let mut stats = ArmStats::default();
        let a = Arm { kind: TipKind::Draft, group: "stories".into(), bucket: Bucket::Evening };
        let b = Arm { kind: TipKind::Prompt, group: "childhood".into(), bucket: Bucket::Evening };
        assert_eq!(kind_mean(&stats, TipKind::Draft, Bucket::Evening), 0.5);
        for _ in 0..10 {
            stats.record(&a, TipAction::Done);
            stats.record(&b, TipAction::Skipped);
        }
        assert!(kind_mean(&stats, TipKind::Draft, Bucket::Evening) > 0.8);
        assert!(kind_mean(&stats, TipKind::Prompt, Bucket::Evening) < 0.2);
        // Another user's prior leans the crowd's way, but only as a prior.
        let newcomer = ArmStats { user: HashMap::new(), global: stats.global.clone() };
        let draft = kind_mean(&newcomer, TipKind::Draft, Bucket::Evening);
        assert!(draft > 0.6 && draft < 0.95, "{draft}");
        // Another theme of prompts borrows from the prompts the user skipped.
        let other_theme = Arm { kind: TipKind::Prompt, group: "food".into(), bucket: Bucket::Evening };
        let (alpha, beta) = posterior(&stats, &other_theme.key(), Some(&other_theme.kind_key()));
        assert!(alpha / (alpha + beta) < 0.5);
    }

    #[test]
    fn thompson_prefers_what_gets_done_and_random_does_not_learn() {
        let candidates = vec![
            candidate(TipKind::Draft, "stories", "draft:1"),
            candidate(TipKind::Prompt, "childhood", "prompt:1"),
            candidate(TipKind::Prompt, "food", "prompt:2"),
            candidate(TipKind::Prompt, "work", "prompt:3"),
        ];
        let context = Context::at(19, 2, None);
        let mut stats = ArmStats::default();
        for _ in 0..15 {
            stats.record(&candidates[0].arm(context.bucket), TipAction::Done);
            stats.record(&candidates[1].arm(context.bucket), TipAction::Skipped);
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        let count = |policy: &dyn Policy, rng: &mut rand::rngs::StdRng| {
            (0..1000).filter(|_| policy.pick(&stats, &candidates, &context, rng) == Some(0)).count()
        };
        let thompson = count(&ThompsonPolicy, &mut rng);
        let random = count(&RandomPolicy, &mut rng);
        assert!(thompson > 850, "thompson picked the draft {thompson}/1000");
        assert!((400..600).contains(&random), "random picks a kind uniformly: {random}/1000");
        assert_eq!(ThompsonPolicy.pick(&stats, &[], &context, &mut rng), None);
    }

    #[test]
    fn the_highest_priority_task_of_an_arm_is_picked() {
        let mut low = candidate(TipKind::Todo, "todoist", "todoist:1");
        low.priority = 1;
        let mut high = candidate(TipKind::Todo, "todoist", "todoist:2");
        high.priority = 4;
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let picked = ThompsonPolicy.pick(&ArmStats::default(), &[low, high], &Context::at(9, 0, None), &mut rng);
        assert_eq!(picked, Some(1));
    }
}
