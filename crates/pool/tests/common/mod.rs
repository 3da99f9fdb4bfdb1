//! Helpers shared by the pool's integration tests.

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
