//! Loops for profiling (callgrind, `objdump`): `cargo run --release -p contexture-bench
//! --example ctx_profile -- WHICH [N]`, WHICH one of `local`, `thread_local`, `set1`,
//! `set10000`, `adapter`, `adapter_shared`, `adapter_opaque`, `tokio_scope`, `tokio_opaque`, `run_noop`, `run_noop_top`, `run_get`,
//! `run_get2`, `snap_noop`, `snap_get`, `snap_get2`, `copy_set1`, `copy_set8`,
//! `copy_set1000`, `copy_set10000`.
//!
//! Instruction counts per operation, which the load of a shared machine does not move:
//! `valgrind --tool=callgrind` at two values of N, difference of the totals ÷ difference of
//! N (see `crates/bench/callgrind.sh`).

use std::cell::Cell;
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, Waker};

use contexture_ctxvar::{copy_context, Context, ContextVar, FutureExt, OwnedContext, Snapshot};
use contexture_local::Local;
use thread_local::ThreadLocal;

#[inline(never)]
fn local_loop(local: &Local<Cell<u64>>, n: u64) {
    for _ in 0..n {
        black_box(local.get().unwrap().get());
    }
}

#[inline(never)]
fn thread_local_loop(local: &ThreadLocal<Cell<u64>>, n: u64) {
    for _ in 0..n {
        black_box(local.get().unwrap().get());
    }
}

fn with_vars_set(n: usize, f: impl FnOnce(&[ContextVar<u64>])) {
    let vars: Vec<ContextVar<u64>> = (0..n).map(|_| ContextVar::new("bench")).collect();
    Context::new()
        .run(|| {
            for (i, var) in vars.iter().enumerate() {
                var.set(i as u64);
            }
            f(&vars)
        })
        .unwrap();
}

#[inline(never)]
fn set_loop(var: &ContextVar<u64>, n: u64) {
    for i in 0..n {
        drop(black_box(var.set(i)));
    }
}

/// Polled through a call the compiler cannot see into (`adapter_opaque`, `tokio_opaque`).
struct Opaque;
impl Future for Opaque {
    type Output = ();
    #[inline(never)]
    fn poll(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<()> {
        black_box(Poll::Pending)
    }
}

struct Ready;
impl Future for Ready {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

#[inline(never)]
fn adapter_loop<F: Future>(fut: Pin<&mut F>, n: u64) {
    let mut cx = TaskContext::from_waker(Waker::noop());
    let mut fut = fut;
    for _ in 0..n {
        let _ = black_box(fut.as_mut().poll(&mut cx));
    }
}

#[inline(never)]
fn first_get_loop(ctx: &mut Context, var: &ContextVar<u64>, n: u64) {
    for _ in 0..n {
        black_box(ctx.run_mut(|| var.get()));
    }
}

#[inline(never)]
fn copy_set_loop(var: &ContextVar<u64>, n: u64) {
    for i in 0..n {
        let ctx = copy_context();
        ctx.run(|| drop(var.set(i))).unwrap();
        drop(black_box(ctx));
    }
}

tokio::task_local! {
    static TASK_LOCAL: u64;
}

#[inline(never)]
fn timed_loop(n: u64, f: impl Fn()) {
    for _ in 0..n {
        f();
    }
}

#[inline(never)]
fn timed_loop_mut(n: u64, mut f: impl FnMut()) {
    for _ in 0..n {
        f();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("local", String::as_str);
    let n: u64 = args
        .get(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    static V: ContextVar<u64> = ContextVar::new("v");
    match which {
        "local" => {
            let l: Local<Cell<u64>> = Local::new();
            l.get_or(|| Cell::new(1));
            local_loop(&l, n);
        }
        "thread_local" => {
            let l: ThreadLocal<Cell<u64>> = ThreadLocal::new();
            l.get_or(|| Cell::new(1));
            thread_local_loop(&l, n);
        }
        "set1" => with_vars_set(1, |v| set_loop(&v[0], n)),
        "set10000" => with_vars_set(10_000, |v| set_loop(&v[5000], n)),
        "adapter" => {
            V.set(1);
            let mut fut = Box::pin(Ready.with_current_context());
            adapter_loop(fut.as_mut(), n);
        }
        "first_get" => {
            V.set(1);
            let mut ctx = copy_context();
            first_get_loop(&mut ctx, &V, n);
        }
        "adapter_shared" => {
            V.set(1);
            let ctx = std::sync::Arc::new(copy_context());
            let mut fut = Box::pin(Ready.in_context(ctx));
            adapter_loop(fut.as_mut(), n);
        }
        "adapter_opaque" => {
            V.set(1);
            let mut fut = Box::pin(Opaque.with_current_context());
            adapter_loop(fut.as_mut(), n);
        }
        "owned_opaque" => {
            V.set(1);
            let mut own = OwnedContext::capture();
            let mut fut = Box::pin(Opaque);
            let mut cx = TaskContext::from_waker(Waker::noop());
            timed_loop_mut(n, || {
                let _ = black_box(own.run(|| fut.as_mut().poll(&mut cx)));
            });
        }
        "runmut_opaque" => {
            V.set(1);
            let mut own = copy_context();
            let mut fut = Box::pin(Opaque);
            let mut cx = TaskContext::from_waker(Waker::noop());
            timed_loop_mut(n, || {
                let _ = black_box(own.run_mut(|| fut.as_mut().poll(&mut cx)));
            });
        }
        "wrap_ready" => {
            V.set(1);
            let mut cx = TaskContext::from_waker(Waker::noop());
            timed_loop_mut(n, || {
                let mut f = std::pin::pin!(std::future::ready(1u64).with_current_context());
                let _ = black_box(f.as_mut().poll(&mut cx));
            });
        }
        "tokio_wrap_ready" => {
            let mut cx = TaskContext::from_waker(Waker::noop());
            timed_loop_mut(n, || {
                let mut f = std::pin::pin!(TASK_LOCAL.scope(1, std::future::ready(1u64)));
                let _ = black_box(f.as_mut().poll(&mut cx));
            });
        }
        "tokio_opaque" => {
            let mut fut = Box::pin(TASK_LOCAL.scope(1, Opaque));
            adapter_loop(fut.as_mut(), n);
        }
        "tokio_scope" => {
            struct Pending;
            impl Future for Pending {
                type Output = ();
                fn poll(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<()> {
                    Poll::Pending
                }
            }
            let mut fut = Box::pin(TASK_LOCAL.scope(1, Pending));
            adapter_loop(fut.as_mut(), n);
        }
        "run_noop_top" => {
            // At the thread's top level (no enclosing `Context::run`: nothing nested).
            static V: ContextVar<u64> = ContextVar::new("top");
            V.set(1);
            let ctx = copy_context();
            timed_loop(n, || ctx.run(|| black_box(())).unwrap());
        }
        "run_noop" | "run_get" | "run_get2" | "snap_noop" | "snap_get" | "snap_get2" => {
            with_vars_set(8, |v| {
                let var = &v[4];
                let ctx = copy_context();
                let snap = Snapshot::capture();
                match which {
                    "run_noop" => timed_loop(n, || ctx.run(|| black_box(())).unwrap()),
                    "run_get" => timed_loop(n, || {
                        black_box(ctx.run(|| var.get()).unwrap());
                    }),
                    "run_get2" => timed_loop(n, || {
                        black_box(ctx.run(|| (var.get(), black_box(var).get())).unwrap());
                    }),
                    "snap_noop" => timed_loop(n, || snap.clone().run(|| black_box(()))),
                    "snap_get" => timed_loop(n, || {
                        black_box(snap.clone().run(|| var.get()));
                    }),
                    _ => timed_loop(n, || {
                        black_box(snap.clone().run(|| (var.get(), black_box(var).get())));
                    }),
                }
            });
        }
        "copy_set1" => with_vars_set(1, |v| copy_set_loop(&v[0], n)),
        "copy_set8" => with_vars_set(8, |v| copy_set_loop(&v[4], n)),
        "copy_set1000" => with_vars_set(1000, |v| copy_set_loop(&v[500], n)),
        "copy_set10000" => with_vars_set(10_000, |v| copy_set_loop(&v[5000], n)),
        other => panic!("unknown loop {other}"),
    }
}
