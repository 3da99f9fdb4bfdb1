//! Contenders measured batch by batch in alternating order, with paired medians, driven by
//! criterion (the sync and pool benches; `paired` is the plain-loop harness of the local and
//! ctxvar benches): the shape of an outside harness (each op alternated with its anchors,
//! forward and reverse order, medians over rounds of the per-round ratio).
//!
//! Each contender is a closure that runs `n` operations and returns their time. Every time
//! criterion asks one contender for `iters` operations, [`Interleaved::time`] runs them in
//! batches; each batch runs every contender once on the same number of operations, the
//! order rotating and flipping from batch to batch, and only the asked-for contender's time
//! is returned. Every batch is recorded, so [`Interleaved::report`] can print, per anchor,
//! the median over batches of ours ÷ that anchor measured in the same batch, which cancels
//! the machine's drift between minutes.

use std::cell::{Cell, RefCell};
use std::time::Duration;

/// One contender: its name and a closure timing `n` operations.
pub type Contender<'a> = (&'static str, Box<dyn Fn(u64) -> Duration + 'a>);

/// Contenders that run interleaved, batch by batch; the first one is ours.
pub struct Interleaved<'a> {
    contenders: Vec<Contender<'a>>,
    batch: u64,
    round: Cell<usize>,
    /// Per batch: every contender's ns per operation.
    rounds: RefCell<Vec<Vec<f64>>>,
}

impl std::fmt::Debug for Interleaved<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interleaved")
            .field("batch", &self.batch)
            .field("rounds", &self.rounds.borrow().len())
            .finish_non_exhaustive()
    }
}

impl<'a> Interleaved<'a> {
    /// Contenders (ours first) run `batch` operations at a time.
    pub fn new(batch: u64, contenders: Vec<Contender<'a>>) -> Self {
        assert!(batch > 0 && !contenders.is_empty());
        Interleaved {
            contenders,
            batch,
            round: Cell::new(0),
            rounds: RefCell::new(Vec::new()),
        }
    }

    /// The time of `iters` operations of contender `timed`; every batch also runs the
    /// others, untimed, in an order that rotates and flips every batch.
    pub fn time(&self, timed: usize, iters: u64) -> Duration {
        let k = self.contenders.len();
        let mut total = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let n = left.min(self.batch);
            let round = self.round.get();
            self.round.set(round + 1);
            let mut per_op = vec![0.0; k];
            for step in 0..k {
                // Forward in even rounds, reverse in odd ones, starting one further each
                // pair of rounds: every contender runs first, last, and next to every other.
                let pos = if round % 2 == 0 { step } else { k - 1 - step };
                let i = (pos + round / 2) % k;
                let took = (self.contenders[i].1)(n);
                per_op[i] = took.as_secs_f64() * 1e9 / n as f64;
                if i == timed {
                    total += took;
                }
            }
            self.rounds.borrow_mut().push(per_op);
            left -= n;
        }
        total
    }

    /// The contenders' names, ours first (for one criterion function each, whose
    /// `iter_custom` calls [`time`](Self::time)).
    pub fn names(&self) -> Vec<&'static str> {
        self.contenders.iter().map(|(name, _)| *name).collect()
    }

    /// Per contender, the median ns per operation over the batches recorded; per anchor,
    /// the median of ours ÷ it within a batch, and in how many batches ours was slower.
    pub fn medians(&self) -> Summary {
        let rounds = self.rounds.borrow();
        let ns = (0..self.contenders.len())
            .map(|i| median(rounds.iter().map(|r| r[i]).collect()))
            .collect();
        let ratios = (1..self.contenders.len())
            .map(|a| {
                let per_round: Vec<f64> = rounds.iter().map(|r| r[0] / r[a]).collect();
                let slower = per_round.iter().filter(|&&x| x > 1.0).count();
                (median(per_round), slower)
            })
            .collect();
        Summary {
            names: self.contenders.iter().map(|(n, _)| *n).collect(),
            rounds: rounds.len(),
            ns,
            ratios,
        }
    }

    /// Prints [`medians`](Self::medians) as `title: paired, …`, the line
    /// `cargo xtask bench`'s report reads a paired block's group from.
    pub fn report(&self, title: &str) {
        let summary = self.medians();
        if summary.rounds > 0 {
            print!("\n{title}: {summary}");
        }
    }
}

/// What [`Interleaved::medians`] found.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The contenders, ours first.
    pub names: Vec<&'static str>,
    /// Batches recorded.
    pub rounds: usize,
    /// Median ns per operation, per contender.
    pub ns: Vec<f64>,
    /// Per anchor (contender 1, 2, …): median of ours ÷ it, and the batches where it was > 1.
    pub ratios: Vec<(f64, usize)>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "paired, {} rounds, alternating order (medians):",
            self.rounds
        )?;
        for (name, ns) in self.names.iter().zip(&self.ns) {
            writeln!(f, "    {name:<36} {ns:>9.2} ns/op")?;
        }
        for (name, (ratio, slower)) in self.names[1..].iter().zip(&self.ratios) {
            writeln!(
                f,
                "    {} / {name}: {ratio:.3} ({slower} of {} rounds > 1)",
                self.names[0], self.rounds
            )?;
        }
        Ok(())
    }
}

impl Summary {
    /// Only the first `k` contenders (ours and the anchors before a contender that is not
    /// one, such as a background load's own measure).
    pub fn first(mut self, k: usize) -> Summary {
        self.names.truncate(k);
        self.ns.truncate(k);
        self.ratios.truncate(k.saturating_sub(1));
        self
    }
}

/// The median of `v` (the upper one for an even length); NaN when empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
