//! The tips recommender offline: `bench/tips.py` runs this in release mode.
//!
//!     cargo run --release -p backend --example tips_bench -- [users] [tips] [seed]
//!
//! Replays one simulated population (`backend::tips::simulate::population`: each user
//! has a favourite kind of tip) against every policy `tips_policy` can name, with the
//! same seeds, and reports the done-rate curve in buckets of ten tips (the share of tips
//! done in that bucket, averaged over users), the overall done-rate, and the last
//! bucket's ratio learning policy / random. Nothing is re-implemented here: the
//! population, the candidates, the replay and the policies are the library's.
//!
//! Prints one JSON object.

// A benchmark tool: a failed setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use backend::tips::model::Bucket;
use backend::tips::simulate::{population, replay, Curve, SimUser, KINDS};
use backend::tips::PolicyFactory;
use serde_json::json;

const BUCKET: usize = 10;

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The curve's done-rate per bucket of `BUCKET` tips (the last may be shorter).
fn buckets(curve: &Curve, tips: usize) -> Vec<serde_json::Value> {
    (0..tips)
        .step_by(BUCKET)
        .map(|from| {
            let to = (from + BUCKET).min(tips);
            json!({ "from": from + 1, "to": to, "done_rate": round3(curve.window(from, to)) })
        })
        .collect()
}

/// What a policy that knew every user's favourite kind would get: the best kind's
/// chance for each user, averaged over the hours of the day (the replay cycles through
/// them evenly) and over users. The ceiling the curves climb towards.
fn best_possible(people: &[SimUser]) -> f64 {
    let per_user = |user: &SimUser| {
        (0..24u8)
            .map(|hour| KINDS.iter().map(|&k| user.probability(k, Bucket::of_hour(hour))).fold(0.0, f64::max))
            .sum::<f64>()
            / 24.0
    };
    people.iter().map(per_user).sum::<f64>() / people.len().max(1) as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, default: u64| args.get(i).map(|s| s.parse().expect("a number")).unwrap_or(default);
    let users = arg(1, 200) as usize;
    let tips = arg(2, 100).max(1) as usize;
    let seed = arg(3, 2024);

    let people = population(users, seed);
    let mut policies = serde_json::Map::new();
    let mut last = std::collections::HashMap::new();
    for name in PolicyFactory::NAMES {
        let policy = PolicyFactory::get(name).expect("a known policy");
        let started = Instant::now();
        // Same population, same replay seed: the policies differ only in their picks.
        let curve = replay(policy.as_ref(), &people, tips, seed.wrapping_add(1));
        let replay_ms = started.elapsed().as_secs_f64() * 1000.0;
        let final_bucket = curve.window((tips - 1) / BUCKET * BUCKET, tips);
        last.insert(*name, final_bucket);
        policies.insert(
            name.to_string(),
            json!({
                "buckets": buckets(&curve, tips),
                "overall": round3(curve.overall),
                "first_bucket": round3(curve.window(0, BUCKET)),
                "final_bucket": round3(final_bucket),
                "replay_ms": (replay_ms * 10.0).round() / 10.0,
                "picks_per_s": ((users * tips) as f64 / (replay_ms / 1000.0)).round(),
            }),
        );
    }
    let (random, thompson) = (last["random"], last["thompson"]);
    let result = json!({
        "users": users,
        "tips_per_user": tips,
        "seed": seed,
        "bucket_size": BUCKET,
        "policies": policies,
        "best_possible_done_rate": round3(best_possible(&people)),
        "final_bucket_ratio_thompson_to_random": if random > 0.0 { round3(thompson / random) } else { f64::NAN },
        "final_bucket_gain_thompson_minus_random": round3(thompson - random),
    });
    println!("{result}");
}
