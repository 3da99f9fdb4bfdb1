//! `contexture_ctxvar` against OpenTelemetry's `Context`, tokio's `task_local!` and (through
//! `python/ctxvar.py`) CPython's `contextvars`, measured side by side in one run.
//! `cargo xtask bench ctxvar` prints the ratios.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, Waker};

use contexture_ctxvar::{copy_context, Context, ContextVar, FutureExt};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use opentelemetry::Context as OtelContext;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use contexture_ctxvar::TaskGroup;
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

/// A distinct OpenTelemetry context key per `(A, B, C)`: OTel keys values by type.
#[derive(Clone, Copy)]
struct Key<const A: u8, const B: u8, const C: u8>(u64);

macro_rules! otel_keys_c {
    ($cx:ident, $a:literal, $b:literal; $($c:literal)*) => {
        { $( $cx = $cx.with_value(Key::<$a, $b, $c>(1)); )* }
    };
}
macro_rules! otel_keys_b {
    ($cx:ident, $a:literal; $($b:literal)*) => {
        { $( otel_keys_c!($cx, $a, $b; 0 1 2 3 4 5 6 7 8 9); )* }
    };
}

/// An OTel context holding `n` values (1, 100 or 1,000), `Key<0, 0, 0>` among them.
fn otel_context(n: usize) -> OtelContext {
    let mut cx = OtelContext::new();
    match n {
        1 => cx = cx.with_value(Key::<0, 0, 0>(1)),
        100 => otel_keys_b!(cx, 0; 0 1 2 3 4 5 6 7 8 9),
        1000 => {
            otel_keys_b!(cx, 0; 0 1 2 3 4 5 6 7 8 9);
            otel_keys_b!(cx, 1; 0 1 2 3 4 5 6 7 8 9);
            otel_keys_b!(cx, 2; 0 1 2 3 4 5 6 7 8 9);
            otel_keys_b!(cx, 3; 0 1 2 3 4 5 6 7 8 9);
            otel_keys_b!(cx, 4; 0 1 2 3 4 5 6 7 8 9);
            otel_keys_b!(cx, 5; 0 1 2 3 4 5 6 7 8 9);
            otel_keys_b!(cx, 6; 0 1 2 3 4 5 6 7 8 9);
            otel_keys_b!(cx, 7; 0 1 2 3 4 5 6 7 8 9);
            otel_keys_b!(cx, 8; 0 1 2 3 4 5 6 7 8 9);
            otel_keys_b!(cx, 9; 0 1 2 3 4 5 6 7 8 9);
        }
        _ => unreachable!("no OTel context of {n} values"),
    }
    cx
}

/// `n` vars, each set in a fresh context that `f` then runs in.
fn with_vars_set<R>(n: usize, f: impl FnOnce(&[ContextVar<u64>]) -> R) -> R {
    let vars: Vec<ContextVar<u64>> = (0..n).map(|_| ContextVar::new("bench")).collect();
    Context::new()
        .run(|| {
            for (i, var) in vars.iter().enumerate() {
                var.set(i as u64);
            }
            f(&vars)
        })
        .unwrap()
}

tokio::task_local! {
    static TASK_LOCAL: u64;
}

/// `get` of a var that is set, with 1 and 1,000 vars set in the context.
fn get(c: &mut Criterion) {
    let mut group = c.benchmark_group("ctxvar get");
    for n in [1, 1000] {
        with_vars_set(n, |vars| {
            let var = &vars[n / 2];
            group.bench_function(BenchmarkId::new("contexture", n), |b| {
                b.iter(|| black_box(var).get())
            });
        });
        let _guard = otel_context(n).attach();
        group.bench_function(BenchmarkId::new("opentelemetry", n), |b| {
            b.iter(|| OtelContext::map_current(|cx| cx.get::<Key<0, 0, 0>>().map(|k| k.0)))
        });
        TASK_LOCAL.sync_scope(1, || {
            group.bench_function(BenchmarkId::new("tokio_task_local", n), |b| {
                b.iter(|| TASK_LOCAL.with(|v| black_box(*v)))
            });
        });
    }
    group.finish();
}

/// `set` (token dropped at once) with 1, 100 and 10,000 vars set in the context.
fn set(c: &mut Criterion) {
    let mut group = c.benchmark_group("ctxvar set");
    for n in [1, 100, 10_000] {
        with_vars_set(n, |vars| {
            let var = &vars[n / 2];
            let mut i = 0u64;
            group.bench_function(BenchmarkId::new("contexture", n), |b| {
                b.iter(|| {
                    i += 1;
                    black_box(var).set(i)
                })
            });
        });
        if n <= 1000 {
            // OTel's closest analogue: a new context = the current one plus a value.
            let _guard = otel_context(n).attach();
            group.bench_function(BenchmarkId::new("opentelemetry", n), |b| {
                b.iter(|| OtelContext::current_with_value(Key::<0, 0, 0>(black_box(2))))
            });
        }
    }
    group.finish();
}

/// `copy_context()` (and dropping the copy) with 1, 100 and 10,000 vars set.
fn copy(c: &mut Criterion) {
    let mut group = c.benchmark_group("ctxvar copy_context");
    for n in [1, 100, 10_000] {
        with_vars_set(n, |_| {
            // The copy is dropped inside the loop (as in Python); `black_box` of a
            // reference, so that the harness does not move the struct around.
            group.bench_function(BenchmarkId::new("contexture", n), |b| {
                b.iter(|| {
                    let copy = copy_context();
                    black_box(&copy);
                })
            });
        });
        if n <= 1000 {
            // OTel: `Context::current()` clones the current context (its `Arc`s).
            let _guard = otel_context(n).attach();
            group.bench_function(BenchmarkId::new("opentelemetry", n), |b| {
                b.iter(|| {
                    let copy = OtelContext::current();
                    black_box(&copy);
                })
            });
        }
    }
    group.finish();
}

/// Entering a context and leaving it around a no-op.
fn run_noop(c: &mut Criterion) {
    let mut group = c.benchmark_group("ctxvar run(noop)");
    static V: ContextVar<u64> = ContextVar::new("v");
    V.set(1);
    let ctx = copy_context();
    group.bench_function("contexture", |b| {
        b.iter(|| black_box(&ctx).run(|| black_box(())))
    });
    let cx = otel_context(1);
    group.bench_function("opentelemetry", |b| {
        b.iter(|| {
            let _guard = black_box(&cx).clone().attach();
            black_box(());
        })
    });
    group.bench_function("tokio_task_local", |b| {
        b.iter(|| TASK_LOCAL.sync_scope(black_box(1), || black_box(())))
    });
    group.finish();
}

/// A future that is never ready: each poll is the unit measured.
struct Pending;

impl Future for Pending {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<()> {
        Poll::Pending
    }
}

/// One poll of a future inside its context, against tokio's `task_local` scope future.
/// (`in_context(Arc<Context>)` adds the entered flag's compare-exchange per poll, as `run`.)
fn adapter(c: &mut Criterion) {
    let mut group = c.benchmark_group("ctxvar adapter poll");
    let waker = Waker::noop();
    let mut cx = TaskContext::from_waker(waker);
    static V: ContextVar<u64> = ContextVar::new("v");
    V.set(1);
    // The adapter as `spawn` uses it: the future's own copy of the spawner's context.
    let mut ours = Box::pin(Pending.with_current_context());
    group.bench_function("contexture", |b| {
        b.iter(|| black_box(ours.as_mut().poll(&mut cx)))
    });
    let mut anchor = Box::pin(TASK_LOCAL.scope(1, Pending));
    group.bench_function("tokio_task_local", |b| {
        b.iter(|| black_box(anchor.as_mut().poll(&mut cx)))
    });
    let mut bare = Box::pin(Pending);
    group.bench_function("bare_poll", |b| {
        b.iter(|| black_box(bare.as_mut().poll(&mut cx)))
    });
    group.finish();
}

// ---- TaskGroup -------------------------------------------------------------------------

/// One way to run `n` operations (here: `n` groups of [`TG_TASKS`] tasks); returns its time.
type TgContender<'a> = (&'static str, Box<dyn Fn(u64) -> Duration + 'a>);

/// Tasks per group: the "TaskGroup of 100 trivial tasks".
const TG_TASKS: u64 = 100;

/// Groups per recorded round.
const TG_BATCH: u64 = 20;

/// The time of `iters` groups of contender `timed`, in whole rounds of [`TG_BATCH`] groups
/// (scaled back to `iters`); every round runs every contender as many times, in a shuffled
/// order, and is recorded for [`tg_print_paired`]. Criterion's first warm-up calls (under
/// half a batch) run one small unrecorded round. The actor bench's harness (see there for
/// why interleaved, shuffled and whole rounds), with its own statics.
fn tg_interleaved(contenders: &[TgContender<'_>], timed: usize, iters: u64) -> Duration {
    if iters * 2 < TG_BATCH {
        return tg_round(contenders, timed, iters.max(1), false);
    }
    let batches = iters.div_ceil(TG_BATCH);
    let mut total = Duration::ZERO;
    for _ in 0..batches {
        total += tg_round(contenders, timed, TG_BATCH, true);
    }
    total.mul_f64(iters as f64 / (batches * TG_BATCH) as f64)
}

/// Runs every contender once with `n` groups, in a pseudo-random order per round; returns
/// the time of contender `timed`.
fn tg_round(contenders: &[TgContender<'_>], timed: usize, n: u64, record: bool) -> Duration {
    static ROUND: AtomicUsize = AtomicUsize::new(0);
    let round = ROUND.fetch_add(1, Ordering::Relaxed);
    let mut order: Vec<usize> = (0..contenders.len()).collect();
    // Fisher-Yates with a splitmix64 stream seeded by the round number.
    let mut seed = (round as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    for i in (1..order.len()).rev() {
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        order.swap(i, (z % (i as u64 + 1)) as usize);
    }
    let mut per_op = vec![0.0; contenders.len()];
    let mut timed_took = Duration::ZERO;
    for i in order {
        let took = (contenders[i].1)(n);
        per_op[i] = took.as_secs_f64() * 1e9 / n as f64;
        if i == timed {
            timed_took = took;
        }
    }
    if record {
        TG_ROUNDS.lock().unwrap().push(per_op);
    }
    timed_took
}

/// Per recorded round of [`tg_interleaved`]: every contender's ns per group.
static TG_ROUNDS: Mutex<Vec<Vec<f64>>> = Mutex::new(Vec::new());

/// Prints each contender's median ns per task and, for each of ours (every contender but
/// the last), the median over rounds of ours ÷ the anchor (the last) in the same round.
fn tg_print_paired(group: &str, contenders: &[TgContender<'_>]) {
    let rounds = std::mem::take(&mut *TG_ROUNDS.lock().unwrap());
    if rounds.is_empty() {
        return;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "\n{group}: paired, {} rounds of {TG_BATCH} groups (medians):",
        rounds.len()
    );
    for (i, (name, _)) in contenders.iter().enumerate() {
        let ns = median(rounds.iter().map(|r| r[i]).collect()) / TG_TASKS as f64;
        println!("  {name:<42} {ns:>8.1} ns/task");
    }
    let anchor = contenders.len() - 1;
    for ours in 0..anchor {
        let ratio = median(rounds.iter().map(|r| r[ours] / r[anchor]).collect());
        println!(
            "  {} / {}: {ratio:.2}",
            contenders[ours].0, contenders[anchor].0
        );
    }
}

/// `n` groups of [`TG_TASKS`] trivial tasks through our `TaskGroup` (spawn all, then
/// `join`), on `rt`; with `request_id`, a var is set in the spawner's context first.
fn tg_ours(rt: &Runtime, n: u64, request_id: bool) -> Duration {
    static REQUEST_ID: ContextVar<u64> = ContextVar::new("request_id");
    rt.block_on(async {
        if request_id {
            REQUEST_ID.set(7);
        }
        let start = Instant::now();
        for _ in 0..n {
            let mut group = TaskGroup::<u64>::new().unwrap();
            for i in 0..TG_TASKS {
                group.spawn_infallible(async move { black_box(i) }).unwrap();
            }
            black_box(group.join().await.unwrap());
        }
        start.elapsed()
    })
}

/// The same with tokio's `JoinSet` (spawn all, then every output into a `Vec`).
fn tg_join_set(rt: &Runtime, n: u64) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..n {
            let mut set = JoinSet::new();
            for i in 0..TG_TASKS {
                set.spawn(async move { black_box(i) });
            }
            let mut out = Vec::with_capacity(TG_TASKS as usize);
            while let Some(done) = set.join_next().await {
                out.push(done.unwrap());
            }
            black_box(out);
        }
        start.elapsed()
    })
}

/// `TaskGroup` of 100 trivial tasks (spawn + join) against tokio's `JoinSet` doing the same,
/// on a current-thread runtime and on a two-worker one; interleaved, paired medians.
fn task_group(c: &mut Criterion) {
    let runtimes = [
        (
            "current-thread",
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        ),
        (
            "2 workers",
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
    ];
    for (label, rt) in &runtimes {
        let name = format!("ctxvar TaskGroup 100 tasks spawn+join ({label})");
        let contenders: Vec<TgContender<'_>> = vec![
            ("contexture TaskGroup", Box::new(|n| tg_ours(rt, n, false))),
            (
                "contexture TaskGroup, request id set",
                Box::new(|n| tg_ours(rt, n, true)),
            ),
            ("tokio JoinSet", Box::new(|n| tg_join_set(rt, n))),
        ];
        let mut group = c.benchmark_group(&name);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(5));
        group.sample_size(10);
        for (i, (id, _)) in contenders.iter().enumerate() {
            group.bench_function(*id, |b| {
                b.iter_custom(|iters| tg_interleaved(&contenders, i, iters))
            });
        }
        group.finish();
        tg_print_paired(&name, &contenders);
    }
}

criterion_group!(benches, get, set, copy, run_noop, adapter);
criterion_group!(task_group_benches, task_group);
criterion_main!(benches, task_group_benches);
