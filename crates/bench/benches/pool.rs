//! `contexture_pool::ThreadPool` against threadpool, rayon and tokio's blocking pool, two
//! workers each, measured side by side in one run. `cargo xtask bench pool` prints the ratios.
//!
//! Every measurement is per job: criterion's `iters` jobs are submitted as one batch and
//! all their results collected, so the time covers submit, run, and handing the result back.

use std::hint::black_box;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use contexture_pool::ThreadPool;
use criterion::{criterion_group, criterion_main, Criterion};
use rayon::prelude::*;

const WORKERS: usize = 2;

fn tiny(n: u64) -> u64 {
    black_box(n).wrapping_mul(31) ^ 7
}

/// Submits `iters` tiny jobs to our pool, then takes every result.
fn submit_all(pool: &ThreadPool, iters: u64) -> Duration {
    let start = Instant::now();
    let handles: Vec<_> = (0..iters)
        .map(|n| pool.submit(move || tiny(n)).unwrap())
        .collect();
    for h in handles {
        black_box(h.result().unwrap());
    }
    start.elapsed()
}

/// Hands `iters` jobs to an anchor through `spawn(n, sender)`, each sending its result back
/// on a channel, then receives them all.
fn fan_out(iters: u64, spawn: impl Fn(u64, mpsc::Sender<u64>)) -> Duration {
    let start = Instant::now();
    let (tx, rx) = mpsc::channel();
    for n in 0..iters {
        spawn(n, tx.clone());
    }
    for _ in 0..iters {
        black_box(rx.recv().unwrap());
    }
    start.elapsed()
}

/// Submit `iters` tiny jobs and wait for every result (the "100,000 tiny jobs" row: criterion
/// picks batch sizes around that).
fn submit_and_wait(c: &mut Criterion) {
    let mut group = c.benchmark_group("pool submit+result per job (2 workers)");
    group.measurement_time(Duration::from_secs(8));

    let ours = ThreadPool::builder().max_workers(WORKERS).build().unwrap();
    group.bench_function("contexture", |b| {
        b.iter_custom(|iters| submit_all(&ours, iters))
    });

    let ours_plain = ThreadPool::builder()
        .max_workers(WORKERS)
        .propagate_context(false)
        .build()
        .unwrap();
    group.bench_function("contexture (no context)", |b| {
        b.iter_custom(|iters| submit_all(&ours_plain, iters))
    });

    let threadpool = threadpool::ThreadPool::new(WORKERS);
    group.bench_function("threadpool+channel", |b| {
        b.iter_custom(|iters| {
            fan_out(iters, |n, tx| {
                threadpool.execute(move || tx.send(tiny(n)).unwrap())
            })
        })
    });

    let rayon = rayon::ThreadPoolBuilder::new()
        .num_threads(WORKERS)
        .build()
        .unwrap();
    group.bench_function("rayon spawn+channel", |b| {
        b.iter_custom(|iters| {
            fan_out(iters, |n, tx| {
                rayon.spawn(move || tx.send(tiny(n)).unwrap())
            })
        })
    });

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(WORKERS)
        .build()
        .unwrap();
    group.bench_function("tokio spawn_blocking", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let handles: Vec<_> = (0..iters)
                .map(|n| tokio.spawn_blocking(move || tiny(n)))
                .collect();
            for h in handles {
                black_box(tokio.block_on(h).unwrap());
            }
            start.elapsed()
        })
    });
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
