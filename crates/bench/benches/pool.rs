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
use criterion::{criterion_group, Criterion};
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

/// The environment variable that turns this bench binary into one contender of the
/// fresh-process rows: `contender:jobs:batches` (see [`fresh_child`]).
const FRESH_ENV: &str = "CONTEXTURE_POOL_BENCH_FRESH";

/// The contenders of the fresh-process rows, ours first (the paired ratios are ours ÷ each).
const FRESH_CONTENDERS: [&str; 5] = [
    "contexture",
    "contexture (request id set)",
    "contexture (no context)",
    "threadpool+mpsc",
    "rayon spawn+crossbeam",
];

/// A request id, set on the submitter for the "request id set" contender: the normal case,
/// where every job carries a context holding a value.
static REQUEST_ID: contexture_ctxvar::ContextVar<u64> =
    contexture_ctxvar::ContextVar::new("request_id");

/// What a child reports: ns per job of each batch, then its page faults and CPU time.
#[derive(Debug, Clone)]
struct ChildReport {
    per_batch: Vec<f64>,
    minor_faults: u64,
    user_ms: f64,
    sys_ms: f64,
}

/// This process's minor page faults and user / system CPU time in ms, from
/// `/proc/self/stat` (clock ticks of 10 ms).
fn self_usage() -> (u64, f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name may hold spaces: the fields that follow start after its `)`.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 10 (minflt), 14 (utime), 15 (stime), counted from 1 with pid and comm.
    let ticks_ms = 10.0;
    (
        field(7),
        field(11) as f64 * ticks_ms,
        field(12) as f64 * ticks_ms,
    )
}

/// One contender in a fresh process: builds its pool, runs `batches` batches of `jobs`
/// tiny jobs (submit all keeping the handles, then take every result and sum), and prints
/// one `FRESH` line for the parent.
fn fresh_child(spec: &str) {
    let mut parts = spec.split(':');
    let which: usize = parts.next().and_then(|p| p.parse().ok()).expect(FRESH_ENV);
    let jobs: u64 = parts.next().and_then(|p| p.parse().ok()).expect(FRESH_ENV);
    let batches: usize = parts.next().and_then(|p| p.parse().ok()).expect(FRESH_ENV);
    let mut per_batch = Vec::with_capacity(batches);
    let mut sum = 0u64;
    let mut time = |run: &mut dyn FnMut() -> u64| {
        for _ in 0..batches {
            let start = Instant::now();
            sum = sum.wrapping_add(run());
            per_batch.push(start.elapsed().as_secs_f64() * 1e9 / jobs as f64);
        }
    };
    match which {
        0..=2 => {
            let pool = ThreadPool::builder()
                .max_workers(WORKERS)
                .propagate_context(which != 2)
                .build()
                .unwrap();
            let _request = (which == 1).then(|| REQUEST_ID.set(0x5eed));
            time(&mut || {
                let handles: Vec<_> = (0..jobs)
                    .map(|n| pool.submit(move || tiny(n)).unwrap())
                    .collect();
                handles.into_iter().map(|h| h.result().unwrap()).sum()
            });
        }
        3 => {
            let pool = threadpool::ThreadPool::new(WORKERS);
            time(&mut || {
                let (tx, rx) = mpsc::channel();
                for n in 0..jobs {
                    let tx = tx.clone();
                    pool.execute(move || tx.send(tiny(n)).unwrap());
                }
                (0..jobs).map(|_| rx.recv().unwrap()).sum()
            });
        }
        4 => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(WORKERS)
                .build()
                .unwrap();
            time(&mut || {
                let (tx, rx) = crossbeam_channel::unbounded();
                for n in 0..jobs {
                    let tx = tx.clone();
                    pool.spawn(move || tx.send(tiny(n)).unwrap());
                }
                (0..jobs).map(|_| rx.recv().unwrap()).sum()
            });
        }
        _ => panic!("{FRESH_ENV}: no contender {which}"),
    }
    let (faults, user_ms, sys_ms) = self_usage();
    let batches: Vec<String> = per_batch.iter().map(|ns| format!("{ns:.1}")).collect();
    println!(
        "FRESH {} {faults} {user_ms} {sys_ms} {}",
        batches.join(","),
        black_box(sum) % 2
    );
}

/// Runs contender `which` in a fresh copy of this process and reads its report.
fn run_child(which: usize, jobs: u64, batches: usize) -> ChildReport {
    let exe = std::env::current_exe().expect("the bench binary's path");
    let out = std::process::Command::new(exe)
        .env(FRESH_ENV, format!("{which}:{jobs}:{batches}"))
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("re-running the bench binary");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("FRESH "))
        .unwrap_or_else(|| panic!("child {which} reported nothing: {text}"));
    let f: Vec<&str> = line.split(' ').collect();
    ChildReport {
        per_batch: f[0].split(',').map(|x| x.parse().unwrap()).collect(),
        minor_faults: f[1].parse().unwrap(),
        user_ms: f[2].parse().unwrap(),
        sys_ms: f[3].parse().unwrap(),
    }
}

/// Whether the command line asks for the fresh-process rows: under `cargo bench` (which
/// passes `--bench`), unless a criterion filter is given that is not part of their name;
/// never as a test (`cargo test --benches`) or when listing the benches.
fn fresh_rows_wanted() -> bool {
    const NAME: &str = "pool fresh process";
    const WITH_VALUE: [&str; 16] = [
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--measurement-time",
        "--warm-up-time",
        "--sample-size",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--output-format",
        "--profile-time",
        "--color",
        "--plotting-backend",
        "--format",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--test" || a == "--list") {
        return false;
    }
    let mut filters = Vec::new();
    let mut skip = false;
    for arg in &args {
        if std::mem::take(&mut skip) {
            continue;
        }
        if WITH_VALUE.contains(&arg.as_str()) || arg == "-c" || arg == "-s" {
            skip = true;
        } else if !arg.starts_with('-') {
            filters.push(arg.as_str());
        }
    }
    filters.is_empty() || filters.iter().any(|f| NAME.contains(f))
}

/// The regime: each pool in a fresh process. Every round runs each contender in a
/// new copy of this binary ([`fresh_child`]: pool creation, then batches of 100,000 tiny
/// jobs, submit all keeping the handles, then every result), in an order that rotates and
/// flips every round; the medians over rounds of ours ÷ each anchor within a round are the
/// numbers to compare. Also prints each contender's page faults and CPU time per process.
///
/// `CONTEXTURE_POOL_FRESH_ROUNDS` and `CONTEXTURE_POOL_FRESH_BATCHES` override the default
/// 12 rounds of 3 batches (`--quick`: 4 rounds).
fn fresh_process_rows() {
    if !fresh_rows_wanted() {
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let env_num = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rounds = env_num("CONTEXTURE_POOL_FRESH_ROUNDS", if quick { 4 } else { 12 });
    let batches = env_num("CONTEXTURE_POOL_FRESH_BATCHES", 3);
    let k = FRESH_CONTENDERS.len();
    let mut reports: Vec<Vec<ChildReport>> = Vec::new();
    for round in 0..rounds {
        let mut this_round: Vec<Option<ChildReport>> = vec![None; k];
        for step in 0..k {
            let pos = if round % 2 == 0 { step } else { k - 1 - step };
            let which = (pos + round / 2) % k;
            this_round[which] = Some(run_child(which, BATCH, batches));
        }
        reports.push(this_round.into_iter().map(Option::unwrap).collect());
    }
    let median = contexture_bench::interleaved::median;
    // A process's time: the median of its batches (first batch included in `first`).
    let whole = |r: &ChildReport| median(r.per_batch.clone());
    let first = |r: &ChildReport| r.per_batch[0];
    // The paired block, in the form `cargo xtask bench`'s report reads ...
    println!(
        "\npool fresh process submit+result per job ({batches} batches of {BATCH} jobs a \
         process, 2 workers): paired, {rounds} rounds of a new process per contender (medians):"
    );
    for (i, name) in FRESH_CONTENDERS.iter().enumerate() {
        let ns = median(reports.iter().map(|r| whole(&r[i])).collect());
        println!("  {name:<30} {ns:>9.1} ns/job");
    }
    let anchors = 3..k;
    for ours in 0..3 {
        for a in anchors.clone() {
            let ratios: Vec<f64> = reports
                .iter()
                .map(|r| whole(&r[ours]) / whole(&r[a]))
                .collect();
            let slower = ratios.iter().filter(|&&x| x > 1.0).count();
            println!(
                "  {} / {}: {:.3} ({slower} of {rounds} rounds > 1)",
                FRESH_CONTENDERS[ours],
                FRESH_CONTENDERS[a],
                median(ratios)
            );
        }
        let best = |r: &Vec<ChildReport>| {
            anchors
                .clone()
                .map(|a| whole(&r[a]))
                .fold(f64::INFINITY, f64::min)
        };
        let ratios: Vec<f64> = reports.iter().map(|r| whole(&r[ours]) / best(r)).collect();
        let slower = ratios.iter().filter(|&&x| x > 1.0).count();
        println!(
            "  {} / best anchor of the round: {:.3} ({slower} of {rounds} rounds > 1)",
            FRESH_CONTENDERS[ours],
            median(ratios)
        );
    }
    let vs_empty = median(
        reports
            .iter()
            .map(|r| whole(&r[1]) / whole(&r[0]))
            .collect(),
    );
    println!("  request id set / empty context: {vs_empty:.3}");
    // ... and what each process cost, after it (not part of the block).
    println!("\npool fresh process, per process (medians over rounds):");
    println!(
        "{:<32} {:>9} {:>11} {:>10} {:>9} {:>9}",
        "contender", "ns/job", "1st batch", "faults", "user ms", "sys ms"
    );
    for (i, name) in FRESH_CONTENDERS.iter().enumerate() {
        let col =
            |f: &dyn Fn(&ChildReport) -> f64| median(reports.iter().map(|r| f(&r[i])).collect());
        println!(
            "{name:<32} {:>9.1} {:>11.1} {:>10.0} {:>9.0} {:>9.0}",
            col(&whole),
            col(&first),
            col(&|r| r.minor_faults as f64),
            col(&|r| r.user_ms),
            col(&|r| r.sys_ms),
        );
    }
}

fn main() {
    if let Ok(spec) = std::env::var(FRESH_ENV) {
        fresh_child(&spec);
        return;
    }
    benches();
    fresh_process_rows();
    Criterion::default().configure_from_args().final_summary();
}
