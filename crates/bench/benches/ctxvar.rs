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

criterion_group!(benches, get, set, copy, run_noop, adapter);
criterion_main!(benches);
