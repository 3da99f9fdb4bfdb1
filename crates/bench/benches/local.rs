//! `contexture_local::Local` against `thread_local::ThreadLocal` and std's `thread_local!`,
//! measured side by side in one run. `cargo xtask bench local` prints the ratios.

use std::cell::Cell;
use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use contexture_bench::interleaved::Contender as RotatingContender;
use contexture_bench::paired::{self, Contender};
use contexture_local::Local;
use criterion::{criterion_group, criterion_main, Criterion};
use thread_local::ThreadLocal;

/// `get` of a value that is present on this thread: the hot path.
fn get_present(c: &mut Criterion) {
    let mut group = c.benchmark_group("local get (present)");
    let ours: Local<Cell<u64>> = Local::new();
    ours.get_or(|| Cell::new(1));
    group.bench_function("contexture", |b| {
        b.iter(|| black_box(&ours).get().map(Cell::get))
    });
    let anchor: ThreadLocal<Cell<u64>> = ThreadLocal::new();
    anchor.get_or(|| Cell::new(1));
    group.bench_function("thread_local", |b| {
        b.iter(|| black_box(&anchor).get().map(Cell::get))
    });
    thread_local! {
        static STD: Cell<u64> = const { Cell::new(1) };
    }
    group.bench_function("std_thread_local", |b| {
        b.iter(|| STD.with(|v| black_box(v.get())))
    });
    group.finish();
}

/// `get().unwrap().get()` of a present value in a tight loop, each result into `black_box`:
/// the loop shape of the outside harness of issue #15 (the criterion group above hands the
/// `Local` itself through `black_box` on every call, which keeps the compiler from hoisting
/// anything out of the loop). Ours and the anchor alternate batch by batch, paired medians.
fn get_present_loop(_: &mut Criterion) {
    fn timed(n: u64, mut get: impl FnMut() -> u64) -> Duration {
        let start = Instant::now();
        for _ in 0..n {
            black_box(get());
        }
        start.elapsed()
    }
    let ours: Local<Cell<u64>> = Local::new();
    ours.get_or(|| Cell::new(1));
    let anchor: ThreadLocal<Cell<u64>> = ThreadLocal::new();
    anchor.get_or(|| Cell::new(1));
    thread_local! {
        static STD: Cell<u64> = const { Cell::new(1) };
    }
    let mut contenders: Vec<Contender<'_>> = vec![
        (
            "contexture",
            Box::new(|n| timed(n, || ours.get().unwrap().get())),
        ),
        (
            "thread_local",
            Box::new(|n| timed(n, || anchor.get().unwrap().get())),
        ),
        (
            "std_thread_local",
            Box::new(|n| timed(n, || STD.with(Cell::get))),
        ),
    ];
    paired::run(
        "local get (present), tight loop",
        &mut contenders,
        1,
        2_000_000,
    );
}

/// First access on a fresh thread (id, slot, registration), ours and the anchor on
/// alternating threads, paired medians: a thread per operation, timed inside the thread.
fn first_access_paired(_: &mut Criterion) {
    static OURS: Local<u64> = Local::new();
    static ANCHOR: std::sync::OnceLock<ThreadLocal<u64>> = std::sync::OnceLock::new();
    let mut contenders: Vec<Contender<'_>> = vec![
        (
            "contexture",
            Box::new(|n| {
                on_fresh_threads(n, || {
                    black_box(OURS.get_or(|| 1));
                })
            }),
        ),
        (
            "thread_local",
            Box::new(|n| {
                on_fresh_threads(n, || {
                    black_box(ANCHOR.get_or_init(ThreadLocal::new).get_or(|| 1));
                })
            }),
        ),
    ];
    paired::run(
        "local first access on a thread (paired)",
        &mut contenders,
        1,
        200,
    );
}

/// Times one closure run on a fresh thread per iteration, excluding spawn and join.
fn on_fresh_threads(iters: u64, f: impl Fn() + Send + Sync + Copy + 'static) -> Duration {
    (0..iters)
        .map(|_| {
            thread::spawn(move || {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .join()
            .unwrap()
        })
        .sum()
}

/// First access on a new thread: id allocation, slot allocation and registration.
fn first_access(c: &mut Criterion) {
    static OURS: Local<u64> = Local::new();
    static ANCHOR: std::sync::OnceLock<ThreadLocal<u64>> = std::sync::OnceLock::new();
    let mut group = c.benchmark_group("local first access on a thread");
    group.bench_function("contexture", |b| {
        b.iter_custom(|iters| {
            on_fresh_threads(iters, || {
                black_box(OURS.get_or(|| 1));
            })
        })
    });
    group.bench_function("thread_local", |b| {
        b.iter_custom(|iters| {
            on_fresh_threads(iters, || {
                black_box(ANCHOR.get_or_init(ThreadLocal::new).get_or(|| 1));
            })
        })
    });
    group.finish();
}

/// Creating a `Local`, storing this thread's value, and dropping it all.
fn new_store_drop(c: &mut Criterion) {
    let mut group = c.benchmark_group("local new+store+drop");
    group.bench_function("contexture", |b| {
        b.iter(|| {
            let local: Local<u64> = Local::new();
            black_box(local.get_or(|| 1));
        })
    });
    group.bench_function("thread_local", |b| {
        b.iter(|| {
            let local: ThreadLocal<u64> = ThreadLocal::new();
            black_box(local.get_or(|| 1));
        })
    });
    group.finish();

    let mut group = c.benchmark_group("local new+drop (empty)");
    group.bench_function("contexture", |b| b.iter(|| black_box(Local::<u64>::new())));
    group.bench_function("thread_local", |b| {
        b.iter(|| black_box(ThreadLocal::<u64>::new()))
    });
    group.finish();
}

/// Thread churn: spawn a thread, touch the storage, join (which includes our exit cleanup).
///
/// Paired to cancel the drift of thread-spawn cost on a shared machine: every iteration runs
/// both loops, one timed and one not, so both functions see the same mixed workload.
fn churn(c: &mut Criterion) {
    static OURS: Local<u64> = Local::new();
    fn with_local() {
        thread::spawn(|| {
            black_box(OURS.get_or(|| 1));
        })
        .join()
        .unwrap();
    }
    fn without_local() {
        thread::spawn(|| black_box(1u64)).join().unwrap();
    }
    fn paired(iters: u64, timed: fn(), untimed: fn()) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            untimed();
            let start = Instant::now();
            timed();
            total += start.elapsed();
        }
        total
    }
    let mut group = c.benchmark_group("local spawn+touch+join");
    group.bench_function("contexture", |b| {
        b.iter_custom(|iters| paired(iters, with_local, without_local))
    });
    group.bench_function("no_local", |b| {
        b.iter_custom(|iters| paired(iters, without_local, with_local))
    });
    group.finish();
}

/// The `churn` row paired: a thread spawned, touching storage (ours: a `Local` whose value is
/// created on that first access and dropped by the exit cleanup; the anchor: a
/// `ThreadLocal`, which keeps a value until the `ThreadLocal` itself drops and hands it to
/// the next thread that gets the recycled id, so most of its touches are hits), and joined;
/// against the same spawn and join with nothing touched ("no_local"). The three take turns
/// batch by batch in a rotating order (a spawn's cost depends on what the thread before it
/// left behind), paired medians: thread spawns on this shared machine drift too much for the
/// criterion group's one-contender-after-another to say anything about a 10% target.
fn churn_paired(_: &mut Criterion) {
    static OURS: Local<u64> = Local::new();
    static ANCHOR: ThreadLocal<u64> = ThreadLocal::new();
    fn spawn_join(n: u64, touch: fn()) -> Duration {
        let start = Instant::now();
        for _ in 0..n {
            thread::spawn(touch).join().unwrap();
        }
        start.elapsed()
    }
    let contenders: Vec<RotatingContender<'_>> = vec![
        (
            "contexture",
            Box::new(|n| {
                spawn_join(n, || {
                    black_box(OURS.get_or(|| 1));
                })
            }),
        ),
        (
            "no_local",
            Box::new(|n| {
                spawn_join(n, || {
                    black_box(1u64);
                })
            }),
        ),
        (
            "thread_local",
            Box::new(|n| {
                spawn_join(n, || {
                    black_box(ANCHOR.get_or(|| 1));
                })
            }),
        ),
    ];
    paired::run_rotating("local spawn+touch+join (paired)", contenders, 200, 201);
}

criterion_group!(
    benches,
    get_present,
    get_present_loop,
    first_access,
    first_access_paired,
    new_store_drop,
    churn,
    churn_paired
);
criterion_main!(benches);
