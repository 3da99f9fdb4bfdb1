//! `contexture_pool::ThreadPool` against threadpool, rayon and tokio's blocking pool, two
//! workers each, measured side by side in one run. `cargo xtask bench pool` prints the ratios.
//!
//! Every measurement is per job: jobs are submitted as one batch (up to 100,000) and all
//! their results collected, so the time covers submit, run, and handing the result back.
//! The submit+result contenders are interleaved batch by batch (see [`interleaved`]).

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use contexture_pool::ThreadPool;
use criterion::{criterion_group, criterion_main, Criterion};
use rayon::prelude::*;

const WORKERS: usize = 2;

fn tiny(n: u64) -> u64 {
    black_box(n).wrapping_mul(31) ^ 7
}

/// Submits `n` tiny jobs to our pool, then takes every result.
fn submit_all(pool: &ThreadPool, n: u64) -> Duration {
    let start = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|n| pool.submit(move || tiny(n)).unwrap())
        .collect();
    for h in handles {
        black_box(h.result().unwrap());
    }
    start.elapsed()
}

/// Hands `n` jobs to an anchor through `spawn(n, sender)`, each sending its result back
/// on a channel, then receives them all.
fn fan_out(n: u64, spawn: impl Fn(u64, mpsc::Sender<u64>)) -> Duration {
    let start = Instant::now();
    let (tx, rx) = mpsc::channel();
    for i in 0..n {
        spawn(i, tx.clone());
    }
    for _ in 0..n {
        black_box(rx.recv().unwrap());
    }
    start.elapsed()
}

/// Jobs per batch: the "100,000 tiny jobs".
const BATCH: u64 = 100_000;

/// One way to run a batch of `n` jobs (submit all, then collect all); returns its time.
type Contender<'a> = (&'static str, Box<dyn Fn(u64) -> Duration + 'a>);

/// The time of `iters` jobs of contender `timed`, in batches of at most [`BATCH`]; every
/// batch also runs every other contender with as many jobs, in a rotating order, untimed.
///
/// Interleaved because this machine drifts: measured one after the other (criterion's
/// way), the same pool measured 110 ns per job in one minute and 250 ns in the next, which
/// swamped the differences between pools. Batch by batch, every contender sees the same
/// machine, heap and scheduler state.
fn interleaved(contenders: &[Contender<'_>], timed: usize, iters: u64) -> Duration {
    // The rotation goes on across calls: restarted per call, the first contender would
    // always run right after the last one of the previous sample (measured: that alone put
    // it 1.6× behind the same pool measured in another position).
    static ROUND: AtomicUsize = AtomicUsize::new(0);
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(BATCH);
        let round = ROUND.fetch_add(1, Ordering::Relaxed);
        let mut per_job = vec![0.0; contenders.len()];
        for k in 0..contenders.len() {
            let i = (round + k) % contenders.len();
            let took = (contenders[i].1)(n);
            per_job[i] = took.as_secs_f64() * 1e9 / n as f64;
            if i == timed {
                total += took;
            }
        }
        ROUNDS.lock().unwrap().push(per_job);
        left -= n;
    }
    total
}

/// Per round of [`interleaved`]: every contender's ns per job in that round.
static ROUNDS: Mutex<Vec<Vec<f64>>> = Mutex::new(Vec::new());

/// Prints, from every round measured (warm-up included), each contender's median ns per
/// job and the median over rounds of ours ÷ each anchor measured in the same round.
///
/// This is the comparison to trust on this machine. Criterion's mean per contender comes
/// from its own minutes of measuring, and the machine moves between regimes (the same pool
/// at 90, 160 or 300 ns per job, minutes apart); a ratio taken within one round compares
/// contenders that ran back to back, seconds apart.
fn print_paired(contenders: &[Contender<'_>]) {
    let rounds = std::mem::take(&mut *ROUNDS.lock().unwrap());
    if rounds.is_empty() {
        return;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "\n{SUBMIT_GROUP}: paired, {} rounds of up to {BATCH} jobs (medians):",
        rounds.len()
    );
    for (i, (name, _)) in contenders.iter().enumerate() {
        let ns = median(rounds.iter().map(|r| r[i]).collect());
        println!("  {name:<26} {ns:>8.1} ns/job");
    }
    for ours in 0..2 {
        for anchor in 2..contenders.len() {
            let ratio = median(rounds.iter().map(|r| r[ours] / r[anchor]).collect());
            let best = median(
                rounds
                    .iter()
                    .map(|r| r[ours] / r[2..].iter().copied().fold(f64::INFINITY, f64::min))
                    .collect(),
            );
            if anchor == 2 {
                println!(
                    "  {} / best anchor of the round: {best:.2}",
                    contenders[ours].0
                );
            }
            println!(
                "  {} / {}: {ratio:.2}",
                contenders[ours].0, contenders[anchor].0
            );
        }
    }
}

/// The criterion group of [`submit_and_wait`], also the title of its paired block.
const SUBMIT_GROUP: &str = "pool submit+result per job (2 workers)";

/// Submit tiny jobs and wait for every result, per job, all pools interleaved.
fn submit_and_wait(c: &mut Criterion) {
    let mut group = c.benchmark_group(SUBMIT_GROUP);
    // Each measured batch runs all five contenders: wall time is five times this.
    group.measurement_time(Duration::from_secs(8));
    group.sample_size(60);

    let ours = ThreadPool::builder().max_workers(WORKERS).build().unwrap();
    let ours_plain = ThreadPool::builder()
        .max_workers(WORKERS)
        .propagate_context(false)
        .build()
        .unwrap();
    let threadpool = threadpool::ThreadPool::new(WORKERS);
    let rayon = rayon::ThreadPoolBuilder::new()
        .num_threads(WORKERS)
        .build()
        .unwrap();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(WORKERS)
        .build()
        .unwrap();

    let contenders: Vec<Contender<'_>> = vec![
        ("contexture", Box::new(|n| submit_all(&ours, n))),
        (
            "contexture (no context)",
            Box::new(|n| submit_all(&ours_plain, n)),
        ),
        (
            "threadpool+channel",
            Box::new(|n| {
                fan_out(n, |i, tx| {
                    threadpool.execute(move || tx.send(tiny(i)).unwrap())
                })
            }),
        ),
        (
            "rayon spawn+channel",
            Box::new(|n| fan_out(n, |i, tx| rayon.spawn(move || tx.send(tiny(i)).unwrap()))),
        ),
        (
            "tokio spawn_blocking",
            Box::new(|n| {
                let start = Instant::now();
                let handles: Vec<_> = (0..n)
                    .map(|i| tokio.spawn_blocking(move || tiny(i)))
                    .collect();
                for h in handles {
                    black_box(tokio.block_on(h).unwrap());
                }
                start.elapsed()
            }),
        ),
    ];
    for (i, (name, _)) in contenders.iter().enumerate() {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| interleaved(&contenders, i, iters))
        });
    }
    group.finish();
    print_paired(&contenders);
}

/// `map` over many items, results in input order, per item.
fn map_in_order(c: &mut Criterion) {
    let mut group = c.benchmark_group("pool map in order per item (2 workers)");
    group.measurement_time(Duration::from_secs(8));
    let ours = ThreadPool::builder().max_workers(WORKERS).build().unwrap();
    group.bench_function("contexture", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let out: Vec<u64> = ours
                .map(tiny, 0..iters)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            black_box(out);
            start.elapsed()
        })
    });
    let rayon = rayon::ThreadPoolBuilder::new()
        .num_threads(WORKERS)
        .build()
        .unwrap();
    group.bench_function("rayon par_iter (ceiling)", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let out: Vec<u64> = rayon.install(|| (0..iters).into_par_iter().map(tiny).collect());
            black_box(out);
            start.elapsed()
        })
    });
    let threadpool = threadpool::ThreadPool::new(WORKERS);
    group.bench_function("threadpool+channel", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let (tx, rx) = mpsc::channel();
            for n in 0..iters {
                let tx = tx.clone();
                threadpool.execute(move || tx.send((n, tiny(n))).unwrap());
            }
            let mut out = vec![0; iters as usize];
            for _ in 0..iters {
                let (n, v) = rx.recv().unwrap();
                out[n as usize] = v;
            }
            black_box(out);
            start.elapsed()
        })
    });
    group.finish();
}

criterion_group!(benches, submit_and_wait, map_in_order);
criterion_main!(benches);
