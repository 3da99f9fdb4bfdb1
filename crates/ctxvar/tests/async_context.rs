//! The future adapter and the tokio helpers: each poll runs in the future's own context,
//! sets survive awaits, nothing leaks to the poller, `in_context` shares the very context.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use contexture_ctxvar::{Context, ContextVar, FutureExt};
use futures::executor::block_on;

static V: ContextVar<u32> = ContextVar::new("v");

/// Returns `Pending` `n` times (waking itself), then `Ready`.
struct YieldN(u32);

impl Future for YieldN {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn with_current_context_copies_at_application_and_isolates() {
    V.set(1);
    let fut = async {
        assert_eq!(V.get(), Some(1));
        V.set(2);
        YieldN(3).await;
        V.get()
    }
    .with_current_context();
    V.set(5);
    assert_eq!(block_on(fut), Some(2));
    assert_eq!(V.get(), Some(5));
}

#[test]
fn sets_between_polls_are_invisible_to_the_poller() {
    let mut fut = Box::pin(
        async {
            V.set(10);
            YieldN(1).await;
            V.set(V.get().unwrap() + 1);
            YieldN(1).await;
            V.get()
        }
        .with_current_context(),
    );
    let waker = futures::task::noop_waker();
    let mut cx = TaskContext::from_waker(&waker);
    V.set(0);
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    assert_eq!(V.get(), Some(0));
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    assert_eq!(V.get(), Some(0));
    assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(Some(11)));
    assert_eq!(fut.context().get(&V), Some(11));
}

#[test]
fn in_context_runs_in_that_very_context() {
    let ctx = Arc::new(Context::new());
    block_on(async { V.set(3) }.in_context(ctx.clone()));
    assert_eq!(ctx.get(&V), Some(3));
    block_on(async { V.set(V.get().unwrap() * 2) }.in_context(ctx.clone()));
    assert_eq!(ctx.get(&V), Some(6));
    // Polled where the context is already current: just runs in it.
    let seen = ctx
        .run(|| block_on(async { V.get() }.in_context(ctx.clone())))
        .unwrap();
    assert_eq!(seen, Some(6));
}

#[test]
fn polling_while_the_context_is_entered_elsewhere_panics() {
    let ctx = Arc::new(Context::new());
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let c = ctx.clone();
    let holder = std::thread::spawn(move || {
        c.run(|| {
            entered_tx.send(()).unwrap();
            done_rx.recv().unwrap();
        })
        .unwrap();
    });
    entered_rx.recv().unwrap();
    let result = std::panic::catch_unwind(|| block_on(async {}.in_context(ctx.clone())));
    assert!(result.is_err());
    done_tx.send(()).unwrap();
    holder.join().unwrap();
}

/// Item 14: polling `fut.in_context(ctx)` while `ctx` is entered further down the same
/// thread's stack (another context current above it) panics with a message that says so,
/// not "on another thread".
#[test]
fn polling_while_the_context_is_entered_lower_on_this_thread_says_so() {
    let ctx = Arc::new(Context::new());
    let message = ctx
        .run(|| {
            Context::new()
                .run(|| {
                    let c = ctx.clone();
                    let err = std::panic::catch_unwind(move || block_on(async {}.in_context(c)))
                        .unwrap_err();
                    err.downcast_ref::<String>().cloned().unwrap_or_default()
                })
                .unwrap()
        })
        .unwrap();
    assert!(
        message.contains("further down this thread's stack"),
        "message: {message}"
    );
    assert!(!message.contains("another thread"), "message: {message}");
    // The context is left usable.
    assert_eq!(ctx.run(|| 1), Ok(1));
}

/// The message for a context entered on another thread still says that.
#[test]
fn polling_while_the_context_is_entered_on_another_thread_says_so() {
    let ctx = Arc::new(Context::new());
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let c = ctx.clone();
    let holder = std::thread::spawn(move || {
        c.run(|| {
            entered_tx.send(()).unwrap();
            done_rx.recv().unwrap();
        })
        .unwrap();
    });
    entered_rx.recv().unwrap();
    let c = ctx.clone();
    let err = std::panic::catch_unwind(move || block_on(async {}.in_context(c))).unwrap_err();
    done_tx.send(()).unwrap();
    holder.join().unwrap();
    let message = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("on another thread"), "message: {message}");
}

#[test]
fn futures_interleaved_on_one_thread_keep_their_own_values() {
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    type Log = Arc<std::sync::Mutex<Vec<(u32, Option<u32>)>>>;
    let task = |value: u32, log: Log| {
        async move {
            V.set(value);
            for _ in 0..3 {
                YieldN(1).await;
                log.lock().unwrap().push((value, V.get()));
            }
        }
        .with_current_context()
    };
    block_on(futures::future::join(
        task(1, log.clone()),
        task(2, log.clone()),
    ));
    assert!(log
        .lock()
        .unwrap()
        .iter()
        .all(|(want, got)| Some(*want) == *got));
    assert_eq!(log.lock().unwrap().len(), 6);
}

#[cfg(feature = "tokio")]
#[test]
fn tokio_multi_thread_spawn_and_spawn_blocking_inherit_a_copy() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        V.set(7);
        let handles: Vec<_> = (0..8u32)
            .map(|i| {
                contexture_ctxvar::spawn(async move {
                    let start = V.get();
                    V.set(100 + i);
                    tokio::task::yield_now().await;
                    (start, V.get())
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), (Some(7), Some(100 + i as u32)));
        }
        let blocking = contexture_ctxvar::spawn_blocking(|| {
            let start = V.get();
            V.set(9);
            (start, contexture_ctxvar::copy_context().get(&V))
        });
        assert_eq!(blocking.await.unwrap(), (Some(7), Some(9)));
        assert_eq!(V.get(), Some(7));
    });
}

#[test]
fn a_futures_own_context_can_be_entered_between_polls() {
    let mut fut = Box::pin(
        async {
            V.set(1);
            YieldN(1).await;
            V.get()
        }
        .with_current_context(),
    );
    let waker = futures::task::noop_waker();
    let mut cx = TaskContext::from_waker(&waker);
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    assert_eq!(fut.context().get(&V), Some(1));
    // Between polls, the context is an ordinary one: enter it, change it.
    fut.context().run(|| V.set(5)).unwrap();
    assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(Some(5)));
    assert_eq!(fut.context().len(), 1);
}

/// A future that panics inside a poll in its shared context: the panic reaches the poller,
/// the context keeps what the future set before panicking and is released (it can be
/// entered, and polled in, again); the poller's context is untouched.
#[test]
fn a_future_panicking_in_a_poll_releases_its_context() {
    let ctx = Arc::new(Context::new());
    V.set(1);
    let c = ctx.clone();
    let r = std::panic::catch_unwind(move || {
        block_on(
            async {
                V.set(8);
                panic!("poll");
            }
            .in_context(c),
        )
    });
    assert!(r.is_err());
    assert_eq!(V.get(), Some(1));
    assert_eq!(ctx.get(&V), Some(8));
    assert_eq!(block_on(async { V.get() }.in_context(ctx.clone())), Some(8));
    assert_eq!(ctx.run(|| V.get()), Ok(Some(8)));
}
