//! The one place that chooses between std and loom for every concurrency primitive this
//! crate uses; no other file imports `std::sync` atomics or locks directly.
//!
//! The parking layer has the same split, in [`crate::parking`]: `parking_lot_core` in
//! production, a small loom-visible parking lot under `cfg(contexture_loom)`.

#[cfg(not(contexture_loom))]
pub(crate) use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

#[cfg(contexture_loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
#[cfg(contexture_loom)]
pub(crate) use loom::sync::{Arc, Condvar, Mutex};

#[cfg(contexture_loom)]
pub(crate) use loom::sync::Mutex as ListMutex;
/// The lock of an async waiter list ([`crate::waitlist`]): std's (futex-based, so it may be
/// taken inside a `parking_lot_core` callback, unlike a parking_lot lock) or loom's.
#[cfg(not(contexture_loom))]
pub(crate) use std::sync::Mutex as ListMutex;

/// Spin-then-park backoff before a thread parks: `parking_lot_core`'s in production; under
/// loom a backoff that never spins, so that models explore the parking protocol instead of
/// busy loops.
#[cfg(not(contexture_loom))]
pub(crate) use parking_lot_core::SpinWait;

/// Loom stand-in for `parking_lot_core::SpinWait`: never spins.
#[cfg(contexture_loom)]
#[derive(Debug, Default)]
pub(crate) struct SpinWait;

#[cfg(contexture_loom)]
impl SpinWait {
    pub(crate) fn new() -> Self {
        SpinWait
    }
    pub(crate) fn spin(&mut self) -> bool {
        false
    }
    pub(crate) fn reset(&mut self) {}
}

/// A process-wide counter for thread ids. It is deliberately a std atomic even under loom:
/// ids only need to be unique, and their allocation is not part of any protocol a model
/// checks.
static NEXT_THREAD_ID: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// Hands out a fresh, never reused, non-zero id (an `RLock` owner id).
pub(crate) fn next_thread_id() -> usize {
    // Relaxed: uniqueness only needs the atomicity of the increment.
    let id = NEXT_THREAD_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // 2^64 thread creations would take centuries; on 32-bit targets wrapping would reuse
    // ids, so refuse instead.
    assert!(
        id != 0 && id != usize::MAX,
        "contexture-sync: thread ids exhausted"
    );
    id
}

/// Declares a `static` thread-local with a `const` initialiser, through std or loom.
macro_rules! tls {
    ($(#[$attr:meta])* static $name:ident: $ty:ty = $init:expr;) => {
        #[cfg(not(contexture_loom))]
        std::thread_local! { $(#[$attr])* static $name: $ty = const { $init }; }
        #[cfg(contexture_loom)]
        loom::thread_local! { $(#[$attr])* static $name: $ty = $init; }
    };
}
pub(crate) use tls;
