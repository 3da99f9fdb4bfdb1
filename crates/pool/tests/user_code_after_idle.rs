//! User code that a worker runs after its job ended and it counted itself idle — the
//! outcome's `Drop` (nobody took it) and the async waker — may submit to the same pool and
//! wait: that job gets a worker of its own (while `max_workers` allows), never the busy one.

mod common;

use common::within;
use contexture_pool::{Handle, ThreadPool};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

/// Submits to its pool and waits for that job when dropped; reports what it got.
struct SubmitsOnDrop {
    pool: Arc<ThreadPool>,
    report: mpsc::Sender<Option<u8>>,
}

impl Drop for SubmitsOnDrop {
    fn drop(&mut self) {
        let got = self.pool.submit(|| 5u8).ok().and_then(|mut h| {
            // Bounded, so that the bug fails the test instead of hanging the worker for ever.
            h.result_timeout(Duration::from_secs(5)).ok()
        });
        let _ = self.report.send(got);
    }
}

#[test]
fn an_outcome_dropped_on_the_worker_may_submit_and_wait() {
    let got = within(LIMIT, || {
        let pool = Arc::new(ThreadPool::builder().max_workers(2).build().unwrap());
        let (report, reported) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let p = pool.clone();
        let handle = pool
            .submit(move || {
                go_rx.recv().unwrap();
                SubmitsOnDrop { pool: p, report }
            })
            .unwrap();
        drop(handle); // the worker holds the last reference: it drops the outcome
        go_tx.send(()).unwrap();
        let got = reported.recv().unwrap();
        drop(pool);
        got
    });
    assert_eq!(got, Some(Some(5)));
}

/// On `wake`, submits to its pool and waits for that job.
struct SubmittingWaker {
    pool: Arc<ThreadPool>,
    report: Mutex<mpsc::Sender<Option<u8>>>,
}

impl Wake for SubmittingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let got = self
            .pool
            .submit(|| 6u8)
            .ok()
            .and_then(|mut h| h.result_timeout(Duration::from_secs(5)).ok());
        let _ = self.report.lock().unwrap().send(got);
    }
}

#[test]
fn a_waker_woken_on_the_worker_may_submit_and_wait() {
    let got = within(LIMIT, || {
        let pool = Arc::new(ThreadPool::builder().max_workers(2).build().unwrap());
        let (report, reported) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let mut handle: Handle<u8> = pool.submit(move || go_rx.recv().map_or(0, |_| 1)).unwrap();
        let waker = Waker::from(Arc::new(SubmittingWaker {
            pool: pool.clone(),
            report: Mutex::new(report),
        }));
        let pinned = std::pin::Pin::new(&mut handle);
        assert!(matches!(
            std::future::Future::poll(pinned, &mut Context::from_waker(&waker)),
            Poll::Pending
        ));
        go_tx.send(()).unwrap();
        let got = reported.recv().unwrap();
        assert_eq!(handle.result(), Ok(1));
        drop(pool);
        got
    });
    assert_eq!(got, Some(Some(6)));
}
