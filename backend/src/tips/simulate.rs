//! Offline replay of simulated users against a policy: each user has a chance of doing
//! a tip that depends on its kind (and a little on the time of day), sees `n_tips` tips
//! chosen by the policy, and answers done or skipped; what the policy learns is counted
//! as the feedback consumer would count it. The result is the done-rate curve the bench
//! plots; no database, no clock, one seed.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use types::{TipAction, TipKind};

use crate::tips::model::{Bucket, Candidate, Context, Counts};
use crate::tips::policy::{ArmStats, Policy};

/// A simulated person: how likely they are to do a tip of each kind.
#[derive(Debug, Clone)]
pub struct SimUser {
    pub done_probability: HashMap<TipKind, f64>,
    /// Added to every probability in the evening (people write more after dinner).
    pub evening_boost: f64,
}

impl SimUser {
    pub fn probability(&self, kind: TipKind, bucket: Bucket) -> f64 {
        let base = self.done_probability.get(&kind).copied().unwrap_or(0.0);
        let boost = if bucket == Bucket::Evening { self.evening_boost } else { 0.0 };
        (base + boost).clamp(0.0, 1.0)
    }
}

/// Kinds a simulated user is offered.
pub const KINDS: [TipKind; 5] = [TipKind::Todo, TipKind::Prompt, TipKind::Draft, TipKind::Media, TipKind::Advice];

/// `n` people whose preferences differ by kind: each has one favourite kind, done about
/// 60-80% of the time, and does the others 5-20% of the time.
pub fn population(n: usize, seed: u64) -> Vec<SimUser> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let favourite = KINDS[rng.gen_range(0..KINDS.len())];
            let done_probability = KINDS
                .iter()
                .map(|&kind| {
                    let p = if kind == favourite { rng.gen_range(0.6..0.8) } else { rng.gen_range(0.05..0.2) };
                    (kind, p)
                })
                .collect();
            SimUser { done_probability, evening_boost: rng.gen_range(0.0..0.1) }
        })
        .collect()
}

/// The candidates every simulated user has: a few of each kind, prompts in several themes.
pub fn candidates() -> Vec<Candidate> {
    let mut all = Vec::new();
    let mut add = |kind: TipKind, group: &str, n: usize| {
        for i in 0..n {
            all.push(Candidate {
                key: format!("{kind}:{group}:{i}"),
                kind,
                source: group.to_string(),
                group: group.to_string(),
                title: format!("{kind} {group} {i}"),
                body: String::new(),
                deep_link: "/".into(),
                meta: serde_json::Value::Null,
                priority: 0,
            });
        }
    };
    add(TipKind::Todo, "todoist", 3);
    for theme in ["childhood", "family", "food", "work"] {
        add(TipKind::Prompt, theme, 5);
    }
    add(TipKind::Draft, "stories", 2);
    add(TipKind::Media, "image", 2);
    add(TipKind::Advice, "invitations", 1);
    all
}

/// The done-rate of a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// For each tip number, the share of users who did it.
    pub done_rate: Vec<f64>,
    /// Over every tip of every user.
    pub overall: f64,
}

impl Curve {
    /// The done-rate over tips `from..to` (a window of the curve).
    pub fn window(&self, from: usize, to: usize) -> f64 {
        let slice = &self.done_rate[from.min(self.done_rate.len())..to.min(self.done_rate.len())];
        if slice.is_empty() {
            0.0
        } else {
            slice.iter().sum::<f64>() / slice.len() as f64
        }
    }
}

/// Shows each user `n_tips` tips picked by `policy` (users take turns, so the global
/// prior grows as it would in production) and returns the done-rate per tip number.
pub fn replay(policy: &dyn Policy, users: &[SimUser], n_tips: usize, seed: u64) -> Curve {
    let mut rng = StdRng::seed_from_u64(seed);
    let offered = candidates();
    let mut per_user: Vec<HashMap<String, Counts>> = vec![HashMap::new(); users.len()];
    let mut global: HashMap<String, Counts> = HashMap::new();
    let mut done_rate = Vec::with_capacity(n_tips);
    let mut total_done = 0usize;
    for step in 0..n_tips {
        let mut done_now = 0usize;
        for (index, user) in users.iter().enumerate() {
            // Each user opens the page at a different hour each time.
            let hour = ((step * 7 + index * 5) % 24) as u8;
            let context = Context::at(hour, (step % 7) as u8, None);
            let mut stats =
                ArmStats { user: std::mem::take(&mut per_user[index]), global: std::mem::take(&mut global) };
            if let Some(choice) = policy.pick(&stats, &offered, &context, &mut rng) {
                let candidate = &offered[choice];
                let done = rng.gen_bool(user.probability(candidate.kind, context.bucket));
                let arm = candidate.arm(context.bucket);
                stats.record(&arm, TipAction::Shown);
                stats.record(&arm, if done { TipAction::Done } else { TipAction::Skipped });
                done_now += usize::from(done);
            }
            per_user[index] = stats.user;
            global = stats.global;
        }
        total_done += done_now;
        done_rate.push(done_now as f64 / users.len().max(1) as f64);
    }
    let overall = total_done as f64 / (users.len() * n_tips).max(1) as f64;
    Curve { done_rate, overall }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tips::policy::{RandomPolicy, ThompsonPolicy};

    #[test]
    fn the_learning_policy_beats_random_by_a_clear_margin() {
        let users = population(200, 11);
        let random = replay(&RandomPolicy, &users, 60, 5);
        let thompson = replay(&ThompsonPolicy, &users, 60, 5);
        eprintln!(
            "done-rate over 60 tips × 200 users: random {:.3}, thompson {:.3} (tips 40-60: {:.3} vs {:.3})",
            random.overall,
            thompson.overall,
            random.window(40, 60),
            thompson.window(40, 60)
        );
        // Random does each user's favourite a fifth of the time: about 0.25 overall.
        assert!((0.18..0.32).contains(&random.overall), "random {}", random.overall);
        assert!(thompson.overall > random.overall + 0.15, "thompson {} vs random {}", thompson.overall, random.overall);
        // It learns: the last tips are done far more often than the first ones.
        assert!(thompson.window(40, 60) > thompson.window(0, 5) + 0.15, "{:?}", thompson.done_rate);
        assert!(thompson.window(40, 60) > random.window(40, 60) + 0.2);
        // Replays are reproducible from their seed.
        assert_eq!(replay(&ThompsonPolicy, &users[..20], 10, 3), replay(&ThompsonPolicy, &users[..20], 10, 3));
    }
}
