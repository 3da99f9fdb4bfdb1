//! Python's model of concurrent context, for Rust: one crate that re-exports the contexture
//! family.
//!
//! # Modules
//!
//! | module | Python | what |
//! |---|---|---|
//! | [`local`] | `threading.local` | per-object thread-local storage that drops each thread's value when the thread exits |
//! | [`ctxvar`] | `contextvars` | context variables; O(1) copy-on-write contexts that follow threads and tasks |
//! | [`sync`] | `threading`, `queue`, asyncio's `Lock`/`Semaphore`/`Event`/`Barrier`/`Queue` | Lock, RLock, Condition over a reentrant lock, and more, with Python's semantics; one object serves threads (blocking calls) and tasks (`*_async` futures) together |
//! | [`pool`] | `concurrent.futures` | a thread pool with handles, callbacks, `map`, `as_completed`, `wait`; each job runs in a copy of the submitter's context |
//! | `tracing` | `logging` filters reading contextvars, structlog's `merge_contextvars` | (feature `tracing`) chosen context vars as fields of every `tracing` log line; the current span carried into pool jobs, tasks, threads and actor messages |
//! | `otel` | carrying context between services (OpenTelemetry baggage) | (feature `otel`) context vars carried across processes as W3C Baggage through OpenTelemetry's propagators |
//! | [`actor`] | actors on `asyncio` | actors on tokio: typed handlers, eager `ask`, bounded mailboxes with a system lane, links, monitors, supervision, timers; each message carries the sender's context |
//!
//! # Example
//!
//! ```
//! use contexture::prelude::*;
//!
//! static REQUEST_ID: Local<u64> = Local::new();
//! REQUEST_ID.get_or(|| 7);
//! std::thread::spawn(|| assert_eq!(REQUEST_ID.get(), None)).join().unwrap();
//! assert_eq!(REQUEST_ID.get(), Some(&7));
//! ```
//!
//! # Cargo features
//!
//! One per module, all on by default: `local`, `ctxvar`, `sync`, `pool`, `actor`; plus `tokio`
//! (off by default) for `contexture::ctxvar::{spawn, spawn_blocking, TaskGroup, gather, try_gather}`.
//! `sync` turns on contexture-sync's `async` feature (the async faces; no runtime dependency).
//! The bridges are off by default as they bring in third-party crates: `tracing`
//! (`contexture::tracing`, from `contexture-tracing`) and `otel` (`contexture::otel`, from
//! `contexture-otel`).

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

#[cfg(feature = "local")]
#[doc(inline)]
pub use contexture_local as local;

#[cfg(feature = "ctxvar")]
#[doc(inline)]
pub use contexture_ctxvar as ctxvar;

#[cfg(feature = "sync")]
#[doc(inline)]
pub use contexture_sync as sync;

#[cfg(feature = "pool")]
#[doc(inline)]
pub use contexture_pool as pool;

#[cfg(feature = "actor")]
#[doc(inline)]
pub use contexture_actor as actor;

#[cfg(feature = "tracing")]
#[doc(inline)]
pub use contexture_tracing as tracing;

#[cfg(feature = "otel")]
#[doc(inline)]
pub use contexture_otel as otel;

/// The workspace README's examples, compiled and run as doc tests (the README is outside this
/// package, so only `cargo test --doc` in the workspace reads it).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct WorkspaceReadme;

/// The types most programs use, for a glob import.
pub mod prelude {
    #[cfg(feature = "actor")]
    #[doc(no_inline)]
    pub use crate::actor::{Actor, ActorRef, Ctx, Handler};
    #[cfg(feature = "ctxvar")]
    #[doc(no_inline)]
    pub use crate::ctxvar::{copy_context, Context, ContextVar};
    #[cfg(feature = "local")]
    #[doc(no_inline)]
    pub use crate::local::Local;
    #[cfg(feature = "pool")]
    #[doc(no_inline)]
    pub use crate::pool::ThreadPool;
}
