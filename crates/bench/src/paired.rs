//! A paired harness for nanosecond operations: every contender runs a batch in the same
//! round, rounds alternate forward and reverse order, and the ratios are medians over rounds
//! of ratios taken within one round (the machine drifts ±50% between minutes, so only
//! contenders measured seconds apart are compared).
//!
//! Used for the loop shapes of issue #15 ("outside harness" shapes), next to the criterion
//! groups, which measure the same operations one contender after the other.

use std::time::Duration;

use crate::interleaved::{self, Interleaved, Summary};

/// One contender: a name (ours start with `contexture`) and a function that runs `n`
/// operations and returns how long they took (setup excluded).
pub type Contender<'a> = (&'static str, Box<dyn FnMut(u64) -> Duration + 'a>);

/// Rounds recorded per group: `$CONTEXTURE_PAIRED_ROUNDS`, else 5 with criterion's
/// `--quick`, else `default` (21 for [`run`]: odd, so that both orders are (almost) equally
/// represented).
fn round_count(default: usize) -> usize {
    let quick = std::env::args().any(|a| a == "--quick");
    std::env::var("CONTEXTURE_PAIRED_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(if quick { 5 } else { default })
}

/// Whether the bench's command line filters this group out (criterion's filter argument:
/// the group runs when any non-flag argument is a substring of its name).
fn filtered_out(group: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    !filters.is_empty() && !filters.iter().any(|f| group.contains(f.as_str()))
}

/// The median of `v` (upper median for an even length); NaN when empty (one round has
/// no reverse-order half).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs one unrecorded warm-up round and then the recorded rounds of `batch` operations
/// per contender, even rounds in the given order and odd rounds reversed; prints each
/// contender's median ns per operation and, for each of ours (the first `ours`) against each
/// anchor, the median of the per-round ratios (also per order) and how many rounds were
/// above 1. Returns the per-round ns per operation, indexed like `contenders`.
pub fn run(
    group: &str,
    contenders: &mut [Contender<'_>],
    ours: usize,
    batch: u64,
) -> Vec<Vec<f64>> {
    if filtered_out(group) {
        return Vec::new();
    }
    let n = contenders.len();
    let mut rounds = Vec::new();
    for round in 0..=round_count(21) {
        let mut per_op = vec![0.0; n];
        for k in 0..n {
            let i = if round % 2 == 0 { k } else { n - 1 - k };
            let took = (contenders[i].1)(batch);
            per_op[i] = took.as_secs_f64() * 1e9 / batch as f64;
        }
        if round > 0 {
            rounds.push(per_op);
        }
    }
    println!(
        "\n{group}: paired, {} rounds of {batch} operations, forward and reverse (medians):",
        rounds.len()
    );
    for (i, (name, _)) in contenders.iter().enumerate() {
        let ns = median(rounds.iter().map(|r| r[i]).collect());
        println!("  {name:<40} {ns:>9.2} ns/op");
    }
    for o in 0..ours {
        for a in ours..n {
            let ratios: Vec<f64> = rounds.iter().map(|r| r[o] / r[a]).collect();
            let above = ratios.iter().filter(|&&r| r > 1.0).count();
            let order = |parity: usize| {
                median(
                    ratios
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| (k + 1) % 2 == parity)
                        .map(|(_, r)| *r)
                        .collect(),
                )
            };
            println!(
                "  {} / {}: {:.2} (forward {:.2}, reverse {:.2}; {above} of {} rounds > 1)",
                contenders[o].0,
                contenders[a].0,
                median(ratios.clone()),
                order(0),
                order(1),
                ratios.len()
            );
        }
    }
    rounds
}

/// For contenders whose cost depends on their place in a round (thread spawns: what the
/// previous contender left behind): [`Interleaved`]'s order, which also rotates the first
/// contender, so that each runs in every position and next to every other, instead of
/// [`run`]'s forward and reverse, which keeps a middle contender in the middle. One
/// unrecorded warm-up batch per contender, then `rounds` rounds of `batch` operations
/// (`$CONTEXTURE_PAIRED_ROUNDS` or 5 with `--quick` instead); prints the block of
/// [`Interleaved::report`] titled `group` and returns its summary (`None` when the command
/// line filters the group out). The first contender is ours.
pub fn run_rotating(
    group: &str,
    contenders: Vec<interleaved::Contender<'_>>,
    batch: u64,
    rounds: usize,
) -> Option<Summary> {
    if filtered_out(group) {
        return None;
    }
    for (_, contender) in &contenders {
        contender(batch);
    }
    let paired = Interleaved::new(batch, contenders);
    for _ in 0..round_count(rounds) {
        paired.time(0, batch);
    }
    paired.report(group);
    println!();
    Some(paired.medians())
}
