//! User code that misbehaves around a job — a `Drop` that panics, a done callback that
//! submits to the same pool and waits — never loses a job, a worker or a cancellation.

mod common;

use common::blocker;
use contexture_pool::{Handle, TaskError, ThreadPool};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Panics when dropped (unless already unwinding).
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("drop bug");
        }
    }
}

const LONG: Duration = Duration::from_secs(30);

/// Queues a job whose closure panics when dropped unrun.
fn queued_bomb(pool: &ThreadPool) -> Handle<()> {
    let bomb = PanicsOnDrop;
    pool.submit(move || {
        let _keep = &bomb;
    })
    .unwrap()
}

#[test]
fn a_cancelled_closure_whose_drop_panics_does_not_stop_shutdown_cancelling_the_rest() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (busy, release) = blocker(&pool);
    let first = queued_bomb(&pool);
    let second = pool.submit(|| 2).unwrap();
    pool.shutdown(false, true); // must neither panic nor stop after the first job
    assert_eq!(first.result_timeout_owned(), Err(TaskError::Cancelled));
    assert_eq!(second.result_timeout_owned(), Err(TaskError::Cancelled));
    release.send(()).unwrap();
    assert_eq!(busy.result(), Ok(()));
}

#[test]
fn the_drop_panic_of_a_cancelled_closure_is_reported_on_its_handle() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (busy, release) = blocker(&pool);
    let job = queued_bomb(&pool);
    assert!(job.cancel());
    assert_eq!(
        job.callback_panics(),
        ["dropping the cancelled job panicked: drop bug"]
    );
    release.send(()).unwrap();
    assert_eq!(busy.result(), Ok(()));
}

#[test]
fn an_outcome_whose_drop_panics_on_the_worker_does_not_lose_the_worker() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let handle = pool
        .submit(move || {
            go_rx.recv().unwrap();
            PanicsOnDrop
        })
        .unwrap();
    drop(handle); // the worker now holds the last reference: it drops the outcome
    go_tx.send(()).unwrap();
    let mut next = pool.submit(|| 7).unwrap();
    assert_eq!(
        next.result_timeout(LONG),
        Ok(7),
        "the only worker still serves"
    );
}

#[test]
fn a_done_callback_that_submits_and_waits_gets_another_worker() {
    let pool = Arc::new(ThreadPool::builder().max_workers(2).build().unwrap());
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let first = pool.submit(move || go_rx.recv().unwrap()).unwrap();
    let (out_tx, out_rx) = mpsc::channel();
    let inner_pool = pool.clone();
    first
        .add_done_callback(move |_| {
            let mut inner = inner_pool.submit(|| 2).unwrap();
            out_tx.send(inner.result_timeout(LONG)).unwrap();
        })
        .unwrap();
    go_tx.send(()).unwrap();
    assert_eq!(out_rx.recv_timeout(LONG * 2), Ok(Ok(2)));
    assert_eq!(first.result(), Ok(()));
}

#[test]
fn a_second_cancel_agrees_with_cancelled_while_the_first_runs_callbacks() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (busy, release) = blocker(&pool);
    let queued = pool.submit(|| ()).unwrap();
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (leave_tx, leave_rx) = mpsc::channel::<()>();
    queued
        .add_done_callback(move |_| {
            entered_tx.send(()).unwrap();
            leave_rx.recv().unwrap();
        })
        .unwrap();
    std::thread::scope(|s| {
        // Owned here, so that a failing assert drops it and frees the callback.
        let leave_tx = leave_tx;
        let first = s.spawn(|| queued.cancel());
        entered_rx.recv().unwrap(); // the first cancel is running the callback
        assert!(queued.cancel(), "already cancelled");
        assert!(queued.cancelled(), "cancel() said so");
        assert!(!queued.done(), "its callback is still running");
        leave_tx.send(()).unwrap();
        assert!(first.join().unwrap());
    });
    assert!(queued.done() && queued.cancelled());
    release.send(()).unwrap();
    assert_eq!(busy.result(), Ok(()));
}

/// `result` with a generous timeout, so that a lost job fails the test instead of hanging.
trait ResultTimeoutOwned<T> {
    fn result_timeout_owned(self) -> Result<T, TaskError>;
}

impl<T> ResultTimeoutOwned<T> for Handle<T> {
    fn result_timeout_owned(mut self) -> Result<T, TaskError> {
        self.result_timeout(LONG)
    }
}

/// Panics when woken.
struct PanickingWaker;

impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("waker bug");
    }
}

/// Registers a `PanickingWaker` on `handle` by polling it once (it must be pending).
fn register_panicking_waker<T>(handle: &mut Handle<T>) {
    let waker = std::task::Waker::from(Arc::new(PanickingWaker));
    let polled = std::future::Future::poll(
        std::pin::Pin::new(handle),
        &mut std::task::Context::from_waker(&waker),
    );
    assert!(polled.is_pending());
}

#[test]
fn a_panicking_waker_does_not_stop_shutdown_cancelling_the_rest() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (busy, release) = blocker(&pool);
    let mut first = pool.submit(|| 1).unwrap();
    register_panicking_waker(&mut first);
    let second = pool.submit(|| 2).unwrap();
    pool.shutdown(false, true); // must neither panic nor stop after the first job
    assert_eq!(first.callback_panics(), ["the waker panicked: waker bug"]);
    assert_eq!(first.result_timeout_owned(), Err(TaskError::Cancelled));
    assert_eq!(second.result_timeout_owned(), Err(TaskError::Cancelled));
    release.send(()).unwrap();
    assert_eq!(busy.result(), Ok(()));
}

#[test]
fn a_panicking_waker_on_the_worker_is_reported_and_the_worker_survives() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let mut job = pool.submit(move || go_rx.recv().unwrap()).unwrap();
    register_panicking_waker(&mut job);
    go_tx.send(()).unwrap();
    let mut next = pool.submit(|| 7).unwrap();
    assert_eq!(
        next.result_timeout(LONG),
        Ok(7),
        "the only worker still serves"
    );
    assert_eq!(job.callback_panics(), ["the waker panicked: waker bug"]);
    assert_eq!(job.result_timeout_owned(), Ok(()));
}

#[test]
fn a_cancelled_closure_whose_drop_panics_does_not_stop_a_break_failing_the_rest() {
    let (fail_tx, fail_rx) = mpsc::channel::<()>();
    let fail_rx = std::sync::Mutex::new(fail_rx);
    let started = std::sync::atomic::AtomicUsize::new(0);
    let pool = ThreadPool::builder()
        .max_workers(2)
        .initializer(move || {
            if started.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                return Ok(());
            }
            let _ = fail_rx.lock().unwrap().recv();
            Err("second worker failed".into())
        })
        .build()
        .unwrap();
    let (busy, release) = blocker(&pool);
    let first = queued_bomb(&pool); // starts worker 1, whose initializer waits
    let second = pool.submit(|| 2).unwrap();
    fail_tx.send(()).unwrap(); // the break fails both queued jobs
    let broken = Err(TaskError::BrokenPool("second worker failed".into()));
    assert_eq!(first.result_timeout_owned(), broken);
    assert_eq!(second.result_timeout_owned(), broken.map(|()| 2));
    release.send(()).unwrap();
    assert_eq!(busy.result(), Ok(()));
}

#[test]
fn a_panicking_done_callback_does_not_stop_shutdown_cancelling_the_rest() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let (busy, release) = blocker(&pool);
    let first = pool.submit(|| 1).unwrap();
    first.add_done_callback(|_| panic!("callback bug")).unwrap();
    let second = pool.submit(|| 2).unwrap();
    pool.shutdown(false, true);
    assert_eq!(first.callback_panics(), ["callback bug"]);
    assert_eq!(first.result_timeout_owned(), Err(TaskError::Cancelled));
    assert_eq!(second.result_timeout_owned(), Err(TaskError::Cancelled));
    release.send(()).unwrap();
    assert_eq!(busy.result(), Ok(()));
}

#[test]
#[cfg_attr(miri, ignore = "the nested payload is leaked by design")]
fn a_panic_payload_whose_drop_panics_is_reported_and_the_worker_survives() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let h = pool
        .submit(|| -> u8 { std::panic::panic_any(PanicsOnDrop) })
        .unwrap();
    assert_eq!(
        h.result_timeout_owned(),
        Err(TaskError::Panicked("non-string panic payload".into()))
    );
    assert_eq!(pool.submit(|| 3).unwrap().result_timeout_owned(), Ok(3));
}

#[test]
fn a_context_value_whose_drop_panics_when_the_job_ends_does_not_lose_the_worker() {
    use contexture_ctxvar::ContextVar;
    static VALUE: ContextVar<Arc<PanicsOnDrop>> = ContextVar::new("value");
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let h = pool
        .submit(|| {
            let _ = VALUE.set(Arc::new(PanicsOnDrop)); // dropped with the job's context
            1
        })
        .unwrap();
    // Dropped inside the job's guard: its panic is the job's outcome.
    assert_eq!(
        h.result_timeout_owned(),
        Err(TaskError::Panicked("drop bug".into()))
    );
    assert_eq!(pool.submit(|| 3).unwrap().result_timeout_owned(), Ok(3));
}

#[test]
fn an_outcome_whose_drop_panics_on_the_dropping_thread_leaves_the_pool_usable() {
    let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    let h = pool.submit(|| PanicsOnDrop).unwrap();
    h.wait();
    // The worker lets go of the job after it wakes the waiters; it has let go once it runs
    // the next job (one worker). Without this the handle may not hold the last reference.
    assert_eq!(pool.submit(|| 2).unwrap().result_timeout_owned(), Ok(2));
    // Dropped by whoever drops the last handle, like any value: the panic is theirs.
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(h)));
    assert!(dropped.is_err());
    assert_eq!(pool.submit(|| 3).unwrap().result_timeout_owned(), Ok(3));
}
