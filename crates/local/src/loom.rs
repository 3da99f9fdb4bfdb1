//! The one place that chooses between std and loom for every concurrency primitive this
//! crate uses; no other file imports `std::sync` atomics or locks directly.

#[cfg(not(contexture_loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
#[cfg(not(contexture_loom))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};

#[cfg(contexture_loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
#[cfg(contexture_loom)]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};

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
