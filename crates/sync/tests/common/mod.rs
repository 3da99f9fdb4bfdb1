//! Helpers shared by the hardening tests (`user_panics.rs`, `bad_arguments.rs`,
//! `lifecycle_races.rs`).

#![allow(dead_code)] // each test file uses a subset

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Runs `f` on a helper thread and fails the test if it has not returned within 30 s (a
/// hang must not freeze the suite); `f`'s own panic fails the test too, with its payload.
pub(crate) fn within_deadline<R: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (tx, rx) = mpsc::channel();
    let helper = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(if cfg!(miri) { 600 } else { 30 })) {
        Ok(value) => {
            helper.join().unwrap();
            value
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still blocked after the deadline"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(helper.join().unwrap_err())
        }
    }
}

/// How many times to repeat a race: fewer under Miri.
pub(crate) fn repeats(native: usize) -> usize {
    if cfg!(miri) {
        3
    } else {
        native
    }
}
