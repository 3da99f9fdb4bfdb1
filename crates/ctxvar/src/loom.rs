//! The one place that chooses between std and loom for every concurrency primitive this
//! crate uses; no other file imports `std::sync` atomics or locks directly.
//!
//! Loom models the protocol of a `Context`'s entered flag, its parked map (an `UnsafeCell`
//! the flag guards) and its snapshot mutex. Two things always come from std: the id
//! counters ([`IdCounter`], a plain number source that must be usable in a `static`), and
//! reference counts: [`Arc`] (values are `Arc<dyn Any>`, and loom's `Arc` cannot hold an
//! unsized value) and the [`counts`] of map versions (`crate::counted`, an `Arc` of ours).

pub(crate) use std::sync::atomic::AtomicU64 as IdCounter;
pub(crate) use std::sync::Arc;

/// The atomics of `crate::counted`'s reference counts: std's, as `Arc`'s.
pub(crate) mod counts {
    pub(crate) use std::sync::atomic::{fence, AtomicUsize, Ordering};
}

#[cfg(not(contexture_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(not(contexture_loom))]
pub(crate) use std::sync::Mutex;

#[cfg(contexture_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, Ordering};
#[cfg(contexture_loom)]
pub(crate) use loom::sync::Mutex;

/// `UnsafeCell` with loom's closure API, so that loom can check every access to it.
#[cfg(not(contexture_loom))]
#[derive(Debug, Default)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(contexture_loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Gives the raw pointer to the contents, for reading; the caller guarantees that
    /// nobody writes meanwhile.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Gives the raw pointer to the contents; the caller guarantees exclusive access.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(contexture_loom)]
pub(crate) use loom::cell::UnsafeCell;

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
