//! Helpers shared by the pool's integration tests.

// Each test binary uses only some of them.
#![allow(dead_code)]

use contexture_pool::{Handle, ThreadPool};
use std::sync::mpsc;

/// Submits a job that occupies a worker until the returned sender sends (or is dropped),
/// and returns once that job is running.
pub(crate) fn blocker(pool: &ThreadPool) -> (Handle<()>, mpsc::Sender<()>) {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel();
    let handle = pool
        .submit(move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv();
        })
        .unwrap();
    started_rx.recv().unwrap();
    (handle, release_tx)
}

/// Runs `f` on a helper thread and returns its result, or `None` if it did not finish
/// within `limit` (a hang: the helper is then left behind, blocked).
pub(crate) fn within<R: Send + 'static>(
    limit: std::time::Duration,
    f: impl FnOnce() -> R + Send + 'static,
) -> Option<R> {
    let (tx, rx) = mpsc::channel();
    let helper = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    let out = rx.recv_timeout(limit).ok();
    if out.is_some() {
        helper.join().unwrap();
    }
    out
}

/// Yields until `pool` refuses a submit (its shutdown or break has taken effect).
pub(crate) fn until_refused(pool: &ThreadPool) {
    while pool.submit(|| ()).is_ok() {
        std::thread::yield_now();
    }
}
