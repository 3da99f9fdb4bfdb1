//! Per-object thread-local storage that cleans up after itself: Python's `threading.local`.
//!
//! # Items
//!
//! - [`Local<T>`]: each thread sees its own value; [`Local::new`] (no initialiser),
//!   [`Local::with_init`] (lazy, once per thread), both `const`.
//! - Access: [`Local::get`], [`Local::get_or`], [`Local::get_or_try`],
//!   [`Local::get_or_default`]; for `Local<Cell<T>>` and `Local<RefCell<T>>`: `set`, `take`,
//!   `replace`, `with_borrow`, `with_borrow_mut` (std's names).
//! - Aggregation across threads: [`Local::iter`] ([`LocalRef`] guards), [`Local::iter_mut`]
//!   ([`LocalRefMut`] guards), [`IntoIterator`] ([`IntoIter`]), [`Local::clear`].
//!
//! # Example
//!
//! The seed scenario: a global `Local` that the main thread fills, a thread that never
//! initialised it (and sees nothing rather than crashing), and one that fills its own.
//!
//! ```
//! use contexture_local::Local;
//! use std::cell::RefCell;
//!
//! static CONTEXT: Local<RefCell<(i32, String)>> = Local::new();
//!
//! CONTEXT.set((0, "global".into()));
//! std::thread::spawn(|| {
//!     assert!(CONTEXT.get().is_none()); // Python: AttributeError
//! })
//! .join()
//! .unwrap();
//! std::thread::spawn(|| {
//!     CONTEXT.set((2, "func2".into()));
//!     assert_eq!(CONTEXT.with_borrow(|c| c.0), Some(2));
//! })
//! .join()
//! .unwrap();
//! assert_eq!(CONTEXT.with_borrow(|c| c.clone()), Some((0, "global".to_string())));
//! ```
//!
//! # Cleanup rules
//!
//! 1. When a thread exits, its value in every live `Local` is dropped on that thread, before
//!    `join()` returns. (The end of a `thread::scope` waits for the closures, not for
//!    thread-local destructors — a std behaviour — so join a scoped handle to rely on this.)
//! 2. When a `Local` is dropped, every thread's value in it is dropped at once, and no thread
//!    keeps anything that points at it.
//! 3. A new thread never sees a value of an exited thread, even when it reuses the exited
//!    thread's slot.
//! 4. Thread churn does not grow memory: slots are indexed by small, reused thread ids, so a
//!    `Local`'s footprint is bounded by the peak number of threads alive at once.
//! 5. A `Drop` that panics during thread-exit cleanup is caught (the panic hook reports it);
//!    the other values are still dropped and the process does not abort. A `Drop` that panics
//!    while the `Local` itself is dropped (or cleared, or an [`IntoIter`] is dropped before
//!    its end) is resumed after all the other values were dropped; while already unwinding
//!    it is swallowed instead (a second panic would abort).
//! 6. Access during thread teardown (from another thread-local's destructor) is memory-safe:
//!    before this thread's cleanup ran, its values are there as usual; after it, `get` sees
//!    nothing, and a value stored then is dropped (and the thread id it took released) by a
//!    later-running fallback cleanup, right after that destructor returns. (Only past eight
//!    such rounds, each storing after the previous cleanup, does a value stay in its `Local`
//!    until the `Local` is dropped, its thread id then never reused.)
//! 7. A value may own the `Local` it is stored in (through an `Arc`): dropping the value at
//!    thread exit drops the `Local` too, safely and exactly once.
//!
//! # How it works
//!
//! Every thread that stores a value gets a small id from a global allocator that always hands
//! out the smallest free id. A `Local` holds 64 lazily allocated buckets; bucket `b` has
//! `2^b` slots, and id `i` has a fixed slot. `get` is one thread-local read, one atomic load
//! of the bucket pointer and one of the slot's state: no lock, no hashing.
//!
//! A global registry (a mutex taken only on first store, at thread exit and when a `Local` is
//! dropped) records, per thread id, the slots that hold its values. At thread exit a
//! destructor moves those values out under the lock, releases the lock, drops them, and
//! frees the id; a `Local` being dropped moves all its values out and unregisters them under
//! the same lock. Whichever comes first takes a value; the other no longer finds it. No user
//! code ever runs under the lock.
//!
//! # Why not `thread_local` or `std::thread_local!`
//!
//! `thread_local::ThreadLocal` has the same lookup shape (and we measure against it), but it
//! never drops a value before the whole `ThreadLocal` is dropped, and it hands an exited
//! thread's slot to the next thread with the same id: the new thread *sees the dead thread's
//! value*. That breaks rules 1, 3 and 4, so the storage here is our own. `thread_local!` is
//! per-static, not per-object, so it cannot back a `Local` created at run time.
//!
//! # Differences from Python
//!
//! - One value per `Local` instead of an attribute namespace: use a struct (or a `RefCell` of
//!   one) for several fields.
//! - Python drops a thread's dict when the `Thread` object is collected; here it happens when
//!   the OS thread exits, always before `join()` returns.
//! - [`Local::iter`] reads other threads' values, which Python cannot do. A value pinned by a
//!   [`LocalRef`] is dropped when the guard goes: the exiting thread waits for it, so never
//!   hold a guard while joining that thread.
//! - `T: 'static`: a value is dropped at thread exit, and `mem::forget` of the `Local` cannot
//!   stop that, so a value must not borrow anything.
//!
//! # Performance
//!
//! The targets, and the row of the table below that answers each:
//!
//! - `get` of a present value, `get().unwrap().get()` in a tight loop: ≤ 1.0×
//!   `thread_local::ThreadLocal::get` ("get (present), tight loop", paired).
//! - First access on a new thread: ≤ 1.5× `ThreadLocal::get_or` ("first access on a thread
//!   (paired)"): **missed** in this report (1.65×; 1.39× and 1.58× in the two before, the
//!   crate unchanged: a row of 200 thread starts a round, which swing on this machine). It
//!   happens once per thread and also arms the exit cleanup that `thread_local` does not do
//!   at all.
//! - A thread that spawns, touches a `Local` and is joined: ≤ 1.1× the same loop without a
//!   `Local` ("spawn+touch+join (paired)", exit cleanup included; the contenders rotate
//!   which goes first). The criterion row "spawn+touch+join" runs each contender minutes
//!   after the other, and thread spawns on this machine swing it from 0.81× to 1.80×
//!   between reports: read the paired one.
//!
//! std's `thread_local!` is shown for scale: it is per static, not per object, so a `Local`
//! pays an index into its thread's buckets that a `thread_local!` key does not.
//!
#![doc = include_str!("../benchmarks.md")]
//!
//! The tight loop is 17 instructions per `get` (callgrind; `ThreadLocal::get` is 19): the
//! miss path (`get_slow`) is never inlined into it, an unregistered thread carries
//! coordinates that name a bucket never allocated (no separate "registered?" test), and the
//! bucket index needs no bounds check.
//!
//! # Cargo features
//!
//! None. `--cfg contexture_loom` swaps the atomics and locks for loom's, for the loom models.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod cells;
mod iter;
mod local;
mod loom;
mod registry;

pub use iter::{IntoIter, Iter, IterMut, LocalRef, LocalRefMut};
pub use local::Local;

/// This thread's slot id, if it has stored a value in any `Local` (for tests).
#[doc(hidden)]
pub fn __thread_id() -> Option<usize> {
    registry::current_if_registered().map(|t| t.id)
}

/// Number of thread ids ever handed out (for tests of thread churn).
#[doc(hidden)]
pub fn __thread_ids_high_water() -> usize {
    registry::ids_high_water()
}

#[cfg(all(test, contexture_loom))]
mod loom_tests;
