//! Context variables with O(1) copy-on-write contexts that follow threads and tasks:
//! Python's `contextvars` (PEP 567).
//!
//! # Items
//!
//! - [`ContextVar<T>`]: a key whose value depends on the current context; `const`
//!   [`new`](ContextVar::new) / [`with_default`](ContextVar::with_default), usable in a
//!   `static`. Read: [`get`](ContextVar::get), [`try_get`](ContextVar::try_get),
//!   [`get_or`](ContextVar::get_or), [`with`](ContextVar::with). Write:
//!   [`set`](ContextVar::set) → [`Token`], [`reset`](ContextVar::reset),
//!   [`set_scoped`](ContextVar::set_scoped) → [`ScopedSet`].
//! - [`Context`]: [`Context::new`], [`copy_context`], [`Context::copy`] (all O(1)),
//!   [`Context::run`], [`Context::run_mut`], [`get`](Context::get),
//!   [`contains`](Context::contains), [`len`](Context::len),
//!   [`is_empty`](Context::is_empty), [`var_names`](Context::var_names).
//! - [`Snapshot`]: the current context's values (one pointer) and the [`hook`] extensions
//!   captured with them, to run one piece of work in later on any thread
//!   ([`Snapshot::capture`], [`Snapshot::run`], [`Snapshot::run_keeping`]); what pool jobs
//!   carry. [`Spares`]: references to one version kept to be given back together (one
//!   atomic subtraction), lent to a run with [`Snapshot::run_keeping_with`] (a pool
//!   worker's batch).
//! - [`OwnedContext`]: a context held by one piece of work that runs in steps (a future's
//!   polls, an actor message's handler): [`run`](OwnedContext::run) keeps its writes and
//!   tokens from one step to the next; two words, no atomic operation to enter or leave.
//! - [`hook`]: a generic extension point for bridge crates (contexture-tracing carries the
//!   current `tracing` span with it): an [`Extension`](hook::Extension) registered once is
//!   captured with every snapshot and spawn and entered around the work; one relaxed load
//!   when nothing is registered.
//! - Threads: [`thread::spawn`] and [`thread::Builder`] start inside a copy of the
//!   spawner's context.
//! - Async: [`FutureExt::in_context`] / [`FutureExt::with_current_context`] ([`InContext`]),
//!   executor-agnostic; with feature `tokio`: `spawn` and `spawn_blocking`, and asyncio's
//!   structured concurrency: `TaskGroup` (with `Spawner`, `Join`, `GroupError`, `Outcome`,
//!   `SpawnError`, `NoRuntime`), `gather` (`return_exceptions=True`) and `try_gather`.
//! - Errors: [`LookupError`], [`ResetError`], [`AlreadyEntered`].
//!
//! # Example
//!
//! The seed's `run` walk: a copy is entered, a set inside changes that context, and the
//! caller's context is untouched.
//!
//! ```
//! use contexture_ctxvar::{copy_context, ContextVar};
//!
//! static CTX1: ContextVar<&str> = ContextVar::new("ctx1");
//! static CTX2: ContextVar<&str> = ContextVar::new("ctx2");
//! CTX1.set("hello");
//! CTX2.set("world");
//!
//! let context = copy_context();
//! assert_eq!(context.var_names(), ["ctx1", "ctx2"]);
//! context
//!     .run(|| {
//!         assert_eq!(CTX1.get(), Some("hello"));
//!         CTX1.set("task");
//!         assert_eq!(context.get(&CTX1), Some("task"));
//!     })
//!     .unwrap();
//! assert_eq!(CTX1.get(), Some("hello"));
//! assert_eq!(context.get(&CTX1), Some("task"));
//! ```
//!
//! # How it works
//!
//! **The map.** A context is a persistent map from var id to (name, `Arc<dyn Any>` value),
//! behind a single reference count whose address identifies the version (an `Arc` of our
//! own: its contents start on the cache line after the count, so that threads entering a
//! shared version do not pull the line that captures and drops write, and references kept
//! together can be given back in one atomic subtraction). Up to 32 vars it is a `Vec`
//! sorted by id; above, our own hash array mapped trie (16-way `Arc` nodes keyed by a
//! bijective hash of the id, so no collision lists; a rebind replaces only the value). Copying is
//! one reference-count increment whatever the size. A write is in place when the version is
//! unshared and otherwise copies the small vector or the O(log n) path of the trie; the
//! thread's state remembers when its version is known to be unshared (it wrote it and
//! has not handed out a copy since), which lets a run of `set`s skip even the atomic
//! uniqueness check. A default is never stored.
//!
//! **Identity.** A var takes a process-unique id on first use (from a per-thread block of a
//! global counter, installed with a compare-exchange); ids are never reused, so a var can
//! move, and a new var never sees a dropped var's values. Contexts get ids the same way;
//! a [`Token`] records its var's id and its context's id, which is how `reset` detects a
//! wrong var or a wrong context.
//!
//! **The current context** of a thread lives in a `thread_local!` (const-initialised): the
//! current map, the current context's id and a version number bumped on every write and
//! every switch. [`ContextVar::get`] first looks in an 8-slot direct-mapped cache of
//! `(var id, version) → pointer to the value`, so a repeated `get` never walks the map. The
//! cache holds raw pointers, not reference counts: it keeps nothing alive, and a slot is
//! only trusted while the version is unchanged, that is while the thread's current map —
//! which does own the value — is exactly the one the slot was filled from.
//!
//! **Entering.** A `Context` parks its map while nobody is inside. [`Context::run`] takes
//! an atomic `entered` flag with a compare-exchange (a try-lock: a second entry, nested or
//! from another thread, gets [`AlreadyEntered`]), moves the parked map into the thread's
//! state, runs `f`, and a drop guard moves it back and clears the flag — also on panic.
//! A nested entry made on a thread where a `Context` is current (context ids carry a tag
//! bit, so this is one test of a register) records the outer context's map in a
//! thread-local list, which readers of that context on this thread use: its live values.
//! Readers on other threads where the context is not current (`get`, `copy`, `len`,
//! `Debug`) use a snapshot behind a mutex: the version an entry published there before taking the map,
//! or, when it is empty, the parked map itself, read under that mutex. The snapshot is
//! filled lazily (so a copy costs one reference count) and emptied by an exit that wrote
//! (the thread's version counter tells), so an entry and exit that write nothing cost one
//! compare-exchange, two thread-local switches and a store. When the last handle to a
//! context goes, its maps go, and with them every value no other context shares.
//!
//! **Async.** [`InContext`] enters its context around each poll: the future's sets
//! persist across its awaits and nothing leaks to the executor thread. This is the asyncio
//! Task model, without any executor support. A future's own copy
//! ([`FutureExt::with_current_context`], and the tokio `spawn`) can only be entered by its
//! poll (`Pin<&mut Self>` is exclusive), so it is entered without the flag.
//!
//! # Differences from Python
//!
//! - Values are typed: a `ContextVar<T>` holds `T: Send + Sync + 'static` (contexts cross
//!   threads). `get` clones; [`ContextVar::with`] borrows. Wrap big values in `Arc`.
//! - [`ContextVar::get_or`] is Python's `var.get(default)`; `try_get` gives the
//!   `LookupError`.
//! - `Token` is consumed by `reset`: "token already used" cannot compile. A refused token
//!   comes back inside [`ResetError`].
//! - `Context` is not a `Mapping`: [`Context::get`], [`contains`](Context::contains),
//!   [`len`](Context::len) and [`var_names`](Context::var_names) cover what the seeds use;
//!   values of different types cannot be iterated as one type.
//! - Reading a context that is entered on *another thread* shows it as of its last exit;
//!   Python shows live values (the GIL makes them consistent). On the thread where it is
//!   entered, reads are live, as in Python: where it is current, and further down the
//!   stack under a nested entry (whose entry records the outer context's map for them).
//!   To serve those other threads, a `run` of a shared [`Context`] publishes the version it
//!   entered with: a value that version holds and the running code replaces stays alive
//!   until the run exits (Python frees it at once). Values set and replaced within the run
//!   are freed at once, and so is everything when the context goes.
//! - A thread spawned with [`std::thread::spawn`] starts in an empty context, as in Python
//!   before 3.14; [`thread::spawn`] inherits a copy, as 3.14's `thread_inherit_context`.
//! - Futures do not carry a context by themselves (Rust has no built-in Task); wrap them
//!   with [`FutureExt`] or use the tokio `spawn` helpers.
//! - `get` and `set` must not be called from a value's `Clone` (used by `get`).
//! - Thread teardown: `get`, `set` and `run` keep working from any thread-local's
//!   destructor (this crate's thread state has no destructor, so std never destroys it).
//!   The thread's own context is dropped at thread exit by an exit guard armed by its first
//!   write; a value set by a thread-local destructor that runs after that guard arms the
//!   next guard of a chain, which runs right after that destructor. Values are dropped one
//!   by one with a panicking `Drop` caught (a panic there would abort the process).
//!   What is still written after the chain's ninth guard ran is leaked.
//!
//! # Performance
//!
//! The targets, and the row of the table below that answers each:
//!
//! - `get`: ≤ 3 ns and ≤ 0.5× OpenTelemetry's `Context` lookup, at 1 and 1,000 vars set
//!   ("get/1", "get/1000"): the ratio is met, the 3 ns **missed** in this report (3.2–3.5 ns).
//! - `set`: ≥ 3× faster than CPython's at 1, 100 and 10,000 vars ("set/…"); a `set` that
//!   rebinds a var, its token dropped, ≤ 29 ns at every size ("set (rebind, token
//!   dropped)", paired).
//! - `copy_context()`: flat in the number of vars, ≤ 10 ns ("copy_context/…": flat, but
//!   **missed** at ~26 ns, as is `run(noop)` below at ~20 ns: on this machine the atomic
//!   operations they need cost more than that, see "atomic floor" and below); the first
//!   `set` after it, copy and drops included, well under CPython's
//!   `ctx = copy_context(); ctx.run(var.set, v)` ("first set after copy_context", paired
//!   with CPython): **missed** from 8 vars up in this report, see below.
//! - `run(noop)` ≤ 10 ns; the first `get` after entering a context ≤ 5 ns more than a later
//!   one ("first get after entering", paired: `run(get)` against `run(noop)`).
//! - The future adapter, per poll: ≤ 1.5× a `tokio::task_local!` scope ("adapter: poll
//!   again and again with_current_context …", paired). `in_context` (a shared context)
//!   also takes and releases the context's entered flag on every poll, one
//!   compare-and-swap more: it is not held to this bound.
//! - `TaskGroup` of 100 trivial tasks: ≤ 1.2× tokio's `JoinSet` ("TaskGroup 100 tasks …",
//!   paired).
//!
#![doc = include_str!("../benchmarks.md")]
//!
//! What the time goes to (analysis of 2026-12-03 with callgrind, `crates/bench/callgrind.sh`
//! on `examples/ctx_profile.rs`):
//!
//! - `set` allocates the value's `Arc` and, when the token is dropped, frees the old one.
//!   A `set` of the var the previous `set` wrote swaps the value inside its `Arc` while
//!   nothing can share it (the old value moves into the token: no allocation, no free, no
//!   atomic and no trie walk at any size): 79 instructions at every size.
//! - The lookup cache keys on a per-version stamp, so entering a context (or a copy: copies
//!   share the version) does not empty it; `run`'s exit is inlined on the normal path; the
//!   thread state's fields are laid out so that no two 8-byte stores are read back as one
//!   16-byte load; dropping a large version walks only the nodes it alone holds.
//! - The first write after a copy copies the path of the 16-way trie, a reference count per
//!   slot, atomic where CPython's are not: above a few vars it costs more than CPython's.
//!   An overlay of a copy's first writes over the shared base would make it flat, but it
//!   would keep a value the copy shadows alive after its own context is gone (a context's
//!   values are dropped with its last handle), so the path copy stays.
//! - The adapter's poll is two full switches of the thread's state (map, context id, stamp,
//!   the uniqueness flag, the nested-entry check) against tokio's two swaps of one slot:
//!   74 instructions with an opaque inner future against tokio's 63 (callgrind,
//!   2026-12-03), once `InContext::poll` is inlined into its caller (95 before).
//! - `run(noop)` and `copy_context()` are bounded by atomics on this machine: an
//!   uncontended read-modify-write costs 9–10 ns here (a standalone loop, 2026-12-03),
//!   where the earlier reports of 5.7 and 3.8 ns for the same instruction counts were
//!   made. `run` needs one compare-and-swap and a release store (the entered flag: the
//!   context may be entered from another thread); a copy and its drop count the version
//!   up and down. The "atomic floor" rows time them against exactly those operations in
//!   the same rounds. An [`OwnedContext`] (or [`Context::run_mut`]) skips the flag.
//!
//! # Cargo features
//!
//! - `tokio`: `spawn(fut)` and `spawn_blocking(f)`, tokio's, inside a copy of the current
//!   context taken at the call; `TaskGroup`, `gather` and `try_gather` (asyncio's
//!   `TaskGroup` and `gather`), each task in a copy of the context current at its spawn.
//!
//! `--cfg contexture_loom` swaps the entered flag, the snapshot mutex and the thread-locals
//! for loom's, for the loom model of entering.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod context;
mod counted;
mod current;
mod error;
mod future;
#[cfg(feature = "tokio")]
mod group;
pub mod hook;
mod loom;
mod map;
mod owned;
#[cfg(feature = "tokio")]
mod rt;
mod snapshot;
pub mod thread;
mod trie;
mod var;

pub use context::{copy_context, Context};
pub use error::{AlreadyEntered, LookupError, ResetError};
pub use future::{FutureExt, InContext};
#[cfg(feature = "tokio")]
pub use group::{
    gather, try_gather, Gather, GroupError, Join, NoRuntime, Outcome, SpawnError, Spawner,
    TaskGroup,
};
pub use owned::OwnedContext;
#[cfg(feature = "tokio")]
pub use rt::{spawn, spawn_blocking};
pub use snapshot::{Snapshot, Spares};
pub use var::{ContextVar, ScopedSet, Token};

#[cfg(all(test, contexture_loom))]
mod loom_tests;
