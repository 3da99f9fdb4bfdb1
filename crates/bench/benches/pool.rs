//! `contexture_pool::ThreadPool` against threadpool, rayon and tokio's blocking pool, two
//! workers each, measured side by side in one run. `cargo xtask bench pool` prints the ratios.
//!
//! Every measurement is per job: jobs are submitted as one batch (up to 100,000) and all
//! their results collected, so the time covers submit, run, and handing the result back.
//! The submit+result contenders are interleaved batch by batch (see [`interleaved`]).

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
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
        for k in 0..contenders.len() {
            let i = (round + k) % contenders.len();
            let took = (contenders[i].1)(n);
            if i == timed {
                total += took;
            }
        }
        left -= n;
    }
    total
}

/// Submit tiny jobs and wait for every result, per job, all pools interleaved.
fn submit_and_wait(c: &mut Criterion) {
    let mut group = c.benchmark_group("pool submit+result per job (2 workers)");
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
}

/// `map` over many items, results in input order, per item.
fn map_in_order(c: &mut Criterion) {
    let mut group = c.benchmark_group("pool map in order per item (2 workers)");
    group.measurement_time(Duration::from_secs(8));
    let ours = ThreadPool::builder().max_workers(WORKERS).build().unwrap();
    group.bench_function("contexture", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let out: Vec<u64> = ours.map(tiny, 0..iters).map(Result::unwrap).collect();
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
