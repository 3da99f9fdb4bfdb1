//! The one place that chooses between std and loom for the atomics and locks this crate
//! uses itself; no other file imports `std::sync::atomic` or a lock directly.
//!
//! Loom models the crate's own protocol (`loom_tests.rs`): the closing flag, the system
//! lane and the drain of `stop`. The mailbox, reply and end-notice channels are tokio's,
//! which tokio checks with its own loom models.

#[cfg(not(contexture_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[cfg(contexture_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// What lives in `static`s or stays outside the model (id counters, the registry): std
/// and parking_lot always.
pub(crate) mod always {
    pub(crate) use parking_lot::Mutex;
    pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
}

/// The lock for state touched on rare paths (ends, links, the registry): parking_lot's
/// outside loom.
#[cfg(not(contexture_loom))]
pub(crate) use parking_lot::Mutex;

#[cfg(contexture_loom)]
pub(crate) use loom_mutex::Mutex;

#[cfg(contexture_loom)]
mod loom_mutex {
    /// loom's mutex with parking_lot's infallible `lock`.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            self.0.lock().unwrap()
        }
    }
}
