//! `contexture_ctxvar` against OpenTelemetry's `Context`, tokio's `task_local!` and (through
//! `python/ctxvar.py`) CPython's `contextvars`, measured side by side in one run.
//! `cargo xtask bench ctxvar` prints the ratios.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant};

use contexture_bench::paired::{self, Contender};
use contexture_ctxvar::{copy_context, Context, ContextVar, FutureExt, Snapshot};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use opentelemetry::Context as OtelContext;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

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

// ---- the loop shapes of issue #15, paired (see `contexture_bench::paired`) ----------

/// A context holding `n` vars (the one in the middle returned) for one contender.
fn context_with(n: usize) -> (Context, ContextVar<u64>) {
    let vars: Vec<ContextVar<u64>> = (0..n).map(|_| ContextVar::new("bench")).collect();
    let ctx = Context::new();
    ctx.run(|| {
        for (i, var) in vars.iter().enumerate() {
            var.set(i as u64);
        }
    })
    .unwrap();
    let mut vars = vars;
    let var = vars.swap_remove(n / 2);
    // The other vars are dropped: their values stay in the context (a var's identity is
    // its id, not its address).
    (ctx, var)
}

/// The sizes of issue #15's rows.
const SIZES: [usize; 4] = [1, 8, 1000, 10_000];

/// `set` rebinding a var that is set already, token dropped at once, in a context of 1 / 8
/// / 1,000 / 10,000 vars: the outside harness's shape (a plain loop; the criterion group
/// `ctxvar set` passes the var through `black_box` on every call). Target: ≤ 29 ns at
/// every size. Every size is one contender, so all sizes run in the same rounds.
fn set_rebind_paired(_: &mut Criterion) {
    let setups: Vec<(Context, ContextVar<u64>)> = SIZES.iter().map(|&n| context_with(n)).collect();
    let mut contenders: Vec<Contender<'_>> = setups
        .iter()
        .zip([
            "contexture (1 var)",
            "contexture (8 vars)",
            "contexture (1,000 vars)",
            "contexture (10,000 vars)",
        ])
        .map(|((ctx, var), name)| -> Contender<'_> {
            (
                name,
                Box::new(move |n| {
                    ctx.run(|| {
                        let start = Instant::now();
                        for i in 0..n {
                            drop(var.set(i));
                        }
                        start.elapsed()
                    })
                    .unwrap()
                }),
            )
        })
        .collect();
    paired::run(
        "ctxvar set (rebind, token dropped)",
        &mut contenders,
        4,
        1_000_000,
    );
}

/// A future that is always ready (so that a ready future can be polled again and again).
struct Ready;

impl Future for Ready {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

/// The adapter per poll, noop waker, against a `tokio::task_local!` scope, in two shapes:
/// a ready future wrapped and polled once per operation (the outside harness's: tokio's
/// scope cannot be polled after its future completed, so each operation builds one; ours
/// then includes `with_current_context`'s copy, or `in_context`'s `Arc` clone), and one
/// future polled again and again (pending for tokio; for ours also a ready one).
fn adapter_paired(_: &mut Criterion) {
    static V: ContextVar<u64> = ContextVar::new("v");
    V.set(1);
    let waker = Waker::noop();
    let shared = Arc::new(copy_context());
    type PollOne<'a> = Box<dyn FnMut(&mut TaskContext<'_>, u64) + 'a>;
    let once = |n: u64, mut poll_one: PollOne<'_>| {
        let mut cx = TaskContext::from_waker(waker);
        let start = Instant::now();
        for i in 0..n {
            poll_one(&mut cx, i);
        }
        start.elapsed()
    };
    let mut contenders: Vec<Contender<'_>> = vec![
        (
            "contexture with_current_context, ready once",
            Box::new(|n| {
                once(
                    n,
                    Box::new(|cx, i| {
                        let mut f = std::pin::pin!(std::future::ready(i).with_current_context());
                        let _ = black_box(f.as_mut().poll(cx));
                    }),
                )
            }),
        ),
        (
            "contexture in_context, ready once",
            Box::new(|n| {
                once(
                    n,
                    Box::new(|cx, i| {
                        let mut f =
                            std::pin::pin!(std::future::ready(i).in_context(shared.clone()));
                        let _ = black_box(f.as_mut().poll(cx));
                    }),
                )
            }),
        ),
        (
            "tokio_task_local scope, ready once",
            Box::new(|n| {
                once(
                    n,
                    Box::new(|cx, i| {
                        let mut f = std::pin::pin!(TASK_LOCAL.scope(1, std::future::ready(i)));
                        let _ = black_box(f.as_mut().poll(cx));
                    }),
                )
            }),
        ),
    ];
    paired::run(
        "ctxvar adapter: wrap + poll a ready future",
        &mut contenders,
        2,
        500_000,
    );

    fn repoll<F: Future>(n: u64, waker: &Waker, f: Pin<&mut F>) -> Duration {
        let mut cx = TaskContext::from_waker(waker);
        let mut f = f;
        let start = Instant::now();
        for _ in 0..n {
            let _ = black_box(f.as_mut().poll(&mut cx));
        }
        start.elapsed()
    }
    let mut own_ready = Box::pin(Ready.with_current_context());
    let mut shared_ready = Box::pin(Ready.in_context(shared.clone()));
    let mut own_pending = Box::pin(Pending.with_current_context());
    let mut scope_pending = Box::pin(TASK_LOCAL.scope(1, Pending));
    let mut contenders: Vec<Contender<'_>> = vec![
        (
            "contexture with_current_context, ready",
            Box::new(|n| repoll(n, waker, own_ready.as_mut())),
        ),
        (
            "contexture in_context, ready",
            Box::new(|n| repoll(n, waker, shared_ready.as_mut())),
        ),
        (
            "contexture with_current_context, pending",
            Box::new(|n| repoll(n, waker, own_pending.as_mut())),
        ),
        (
            "tokio_task_local scope, pending",
            Box::new(|n| repoll(n, waker, scope_pending.as_mut())),
        ),
    ];
    paired::run(
        "ctxvar adapter: poll again and again",
        &mut contenders,
        3,
        1_000_000,
    );
}

/// The first `get` after entering a context, against later ones: `run` around nothing,
/// around one `get` and around two (a copy of a context of 1 and of 8 vars, entered through
/// `Context::run` and through `Snapshot::run`, as a pool job is). The first get's extra
/// cost is `(get1 − noop) − (get2 − get1)`, per round; target ≤ 5 ns.
fn first_get_paired(_: &mut Criterion) {
    for n in [1, 8] {
        let (ctx, var) = context_with(n);
        let copy = ctx.run(copy_context).unwrap();
        let snapshot = ctx.run(Snapshot::capture).unwrap();
        let (copy, var, snapshot) = (&copy, &var, &snapshot);
        let timed = |k: u64, f: &dyn Fn()| {
            let start = Instant::now();
            for _ in 0..k {
                f();
            }
            start.elapsed()
        };
        let mut contenders: Vec<Contender<'_>> = vec![
            (
                "contexture run(noop)",
                Box::new(move |k| timed(k, &|| copy.run(|| black_box(())).unwrap())),
            ),
            (
                "contexture run(get)",
                Box::new(move |k| {
                    timed(k, &|| {
                        black_box(copy.run(|| var.get()).unwrap());
                    })
                }),
            ),
            (
                "contexture run(get; get)",
                Box::new(move |k| {
                    timed(k, &|| {
                        black_box(copy.run(|| (var.get(), black_box(var).get())).unwrap());
                    })
                }),
            ),
            (
                "contexture Snapshot::run(noop)",
                Box::new(move |k| timed(k, &|| snapshot.clone().run(|| black_box(())))),
            ),
            (
                "contexture Snapshot::run(get)",
                Box::new(move |k| {
                    timed(k, &|| {
                        black_box(snapshot.clone().run(|| var.get()));
                    })
                }),
            ),
            (
                "contexture Snapshot::run(get; get)",
                Box::new(move |k| {
                    timed(k, &|| {
                        black_box(snapshot.clone().run(|| (var.get(), black_box(var).get())));
                    })
                }),
            ),
        ];
        let group = format!("ctxvar first get after entering ({n} vars)");
        let rounds = paired::run(&group, &mut contenders, 6, 1_000_000);
        if rounds.is_empty() {
            continue;
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        for (label, base) in [("Context::run", 0), ("Snapshot::run", 3)] {
            let first = median(rounds.iter().map(|r| r[base + 1] - r[base]).collect());
            let later = median(rounds.iter().map(|r| r[base + 2] - r[base + 1]).collect());
            let extra = median(
                rounds
                    .iter()
                    .map(|r| (r[base + 1] - r[base]) - (r[base + 2] - r[base + 1]))
                    .collect(),
            );
            println!("  {label}: first get {first:.2} ns, a later get {later:.2} ns, first's extra {extra:.2} ns (target ≤ 5)");
        }
    }
}

/// One batch of CPython's `ctx = copy_context(); ctx.run(var.set, v)` in a context of `n`
/// vars (`python/ctxvar.py --batch copy-set N OPS`, timed by the script itself).
fn python_copy_set(n: usize, ops: u64) -> Duration {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/ctxvar.py");
    let out = std::process::Command::new("python3")
        .args([
            script,
            "--batch",
            "copy-set",
            &n.to_string(),
            &ops.to_string(),
        ])
        .output()
        .expect("python3");
    assert!(out.status.success(), "ctxvar.py --batch copy-set failed");
    let ns: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    Duration::from_secs_f64(ns * ops as f64 / 1e9)
}

/// The first `set` after `copy_context()`, copy and drops included (what every pool job,
/// task and message pays on its first write), against CPython's
/// `ctx = copy_context(); ctx.run(var.set, v)`, at 1 / 8 / 1,000 / 10,000 vars, batch by
/// batch in the same rounds. Skipped when `python3` is missing.
fn first_set_after_copy_paired(_: &mut Criterion) {
    let python = std::process::Command::new("python3")
        .arg("-V")
        .output()
        .is_ok();
    for n in SIZES {
        let (ctx, var) = context_with(n);
        let (ctx, var) = (&ctx, &var);
        let mut contenders: Vec<Contender<'_>> = vec![(
            "contexture",
            Box::new(move |k| {
                ctx.run(|| {
                    let start = Instant::now();
                    for i in 0..k {
                        let copy = copy_context();
                        copy.run(|| drop(var.set(i))).unwrap();
                        drop(black_box(copy));
                    }
                    start.elapsed()
                })
                .unwrap()
            }),
        )];
        if python {
            contenders.push(("CPython", Box::new(move |k| python_copy_set(n, k))));
        }
        paired::run(
            &format!("ctxvar first set after copy_context ({n} vars)"),
            &mut contenders,
            1,
            20_000,
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

/// What this machine charges for the atomic operations the context switch and the copy
/// cannot do without: `run` takes and releases the context's entered flag (a
/// compare-and-swap and a release store), a copy and its drop count the map's version up
/// and down (two read-modify-writes). Timed against the operations themselves, in the
/// same rounds, so that `run(noop)` and `copy_context` can be read against their floor.
fn atomic_floor_paired(_: &mut Criterion) {
    use std::sync::atomic::AtomicBool;
    static V: ContextVar<u64> = ContextVar::new("floor");
    V.set(1);
    let ctx = copy_context();
    let flag = AtomicBool::new(false);
    let count = AtomicUsize::new(0);
    let shared = Arc::new(0u64);
    let timed = |n: u64, f: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        start.elapsed()
    };
    let mut contenders: Vec<Contender<'_>> = vec![
        (
            "contexture run(noop)",
            Box::new(|n| timed(n, &|| ctx.run(|| black_box(())).unwrap())),
        ),
        (
            "contexture copy_context + drop",
            Box::new(|n| timed(n, &|| drop(black_box(copy_context())))),
        ),
        (
            "compare_exchange + release store",
            Box::new(|n| {
                timed(n, &|| {
                    let flag = black_box(&flag);
                    let _ =
                        flag.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed);
                    flag.store(false, Ordering::Release);
                })
            }),
        ),
        (
            "fetch_add + fetch_sub",
            Box::new(|n| {
                timed(n, &|| {
                    let count = black_box(&count);
                    count.fetch_add(1, Ordering::Relaxed);
                    count.fetch_sub(1, Ordering::Release);
                })
            }),
        ),
        (
            "Arc clone + drop",
            Box::new(|n| timed(n, &|| drop(black_box(shared.clone())))),
        ),
    ];
    paired::run(
        "ctxvar atomic floor: run and copy against the atomics they need",
        &mut contenders,
        2,
        1_000_000,
    );
}

criterion_group!(
    benches,
    get,
    set,
    copy,
    run_noop,
    adapter,
    set_rebind_paired,
    adapter_paired,
    first_get_paired,
    first_set_after_copy_paired,
    atomic_floor_paired
);
criterion_group!(task_group_benches, task_group);
criterion_main!(benches, task_group_benches);
