//! contexture's bridge to [`tracing`]: context variables in every log line, and the
//! current span carried wherever contexture carries the context.
//!
//! # Items
//!
//! - [`ContextFields`]: chosen [`ContextVar`](contexture_ctxvar::ContextVar)s added as
//!   fields to every event and span that `tracing_subscriber::fmt` formats while they have
//!   a value (structlog's `merge_contextvars`, Python's `logging.Filter` reading a
//!   contextvar). [`display`](ContextFields::display) / [`debug`](ContextFields::debug)
//!   choose a var, its field name and its formatting.
//! - [`propagate_spans`]: pool jobs, actor messages, `thread::spawn` and the tokio
//!   `spawn` / `spawn_blocking` of contexture-ctxvar run inside the submitter's current
//!   span, so their events nest under the request's span. Process-wide, off by default;
//!   each pool and actor's `propagate_context(false)` also turns it off for that pool or
//!   actor.
//!
//! # Example
//!
//! ```
//! use contexture_ctxvar::ContextVar;
//! use contexture_tracing::ContextFields;
//! use tracing_subscriber::prelude::*;
//!
//! static REQUEST_ID: ContextVar<u64> = ContextVar::new("request_id");
//!
//! tracing_subscriber::registry()
//!     .with(
//!         tracing_subscriber::fmt::layer()
//!             .fmt_fields(ContextFields::new().display("request_id", &REQUEST_ID)),
//!     )
//!     .init();
//! contexture_tracing::propagate_spans(true).unwrap();
//!
//! REQUEST_ID.set(42);
//! tracing::info!("accepted"); // ... INFO rust_out: accepted request_id=42
//! ```
//!
//! # How it works
//!
//! **Fields.** tracing fixes an event's fields at its callsite, and a `Layer` sees an
//! event it cannot change, so a layer cannot hand other layers an event with more fields.
//! What writes the fields of a log line is the `fmt` layer's field formatter
//! ([`FormatFields`](tracing_subscriber::fmt::FormatFields)); [`ContextFields`] wraps it,
//! and after the event's (or span's) own fields writes `name=value` for each chosen var
//! that has a value in the current context, read on the recording thread as the line is
//! formatted. See its Limits section (text formats only).
//!
//! **Spans.** The core crates do not know tracing. contexture-ctxvar has a generic hook
//! ([`contexture_ctxvar::hook`]): an extension registered once is asked to capture at every
//! hand-off that captures the context, and what it captured is entered around the work.
//! This crate's extension captures [`tracing::Span::current`] and enters it in the span's
//! own subscriber. With nothing registered the hook costs a hand-off one relaxed load.
//!
//! # Performance
//!
//! The targets, and the row of the table below that answers each (the operation text as it
//! appears there):
//!
//! - An event through `tracing_subscriber::fmt` with [`ContextFields`] adding 2 vars that
//!   are set: ≤ 1.3× the same subscriber without it, "tracing-subscriber alone" ("event
//!   through fmt (default format), 2 context vars (ContextFields, 2 vars)" and, without
//!   timestamps, "event through fmt without time, 2 context vars (ContextFields, 2 vars)").
//!   The other anchor of those rows writes the same 2 values as the event's own fields, by
//!   hand.
//! - A pool job (submit + result) inside a span, with [`propagate_spans`] on: ≤ 1.1× the
//!   same with it off ("pool job submit+result, span propagation (span propagation on)").
//!   The other anchor carries the span by hand: `Span::current()` moved into the job and
//!   entered with `in_scope`.
//!
//! The report below meets the event with the default format (just), and misses the other
//! two: the event without timestamps, and the pool job by a wide margin (carrying the span
//! by hand, without this crate, already costs more than the target allows).
//!
#![doc = include_str!("../benchmarks.md")]
//!
//! Why. The event: [`ContextFields`] writes two more fields than the anchor's line, and
//! tracing-subscriber itself, writing the same two values as event fields by hand, is
//! already over the bound against the line without them when there are no timestamps
//! (compare the row's two anchors), so nothing that writes those bytes can meet it there;
//! against that by-hand line ours adds the two context lookups. With the default format,
//! the timestamp's cost is part of both lines and the extra fields weigh less.
//!
//! The pool job: carrying a span at all costs tracing's registry several atomic
//! read-modify-writes on the span's shared slot and the dispatcher (clone at capture, enter
//! and exit on the worker, close at the end) across threads; carrying it by hand is far
//! over the bound too (compare the row's two anchors). Ours adds three allocations per job
//! (the extension's `Arc`, the copy of the job's values that stores it under a private var
//! so that a `Snapshot` stays one pointer wide, and that var's value), and a slower submit
//! lets the two workers drain the queue and be woken per job, which multiplies every
//! nanosecond added on the submit side. Keeping the capture in a field of `Snapshot`
//! instead was cheaper, but made a `Snapshot` three words, which pushed actor messages out
//! of their mailbox slot. With propagation off (the default) a job pays one relaxed load at
//! capture and one at run (callgrind, 2026-12-03: 233 instructions per `Snapshot` capture +
//! run with contexture-ctxvar's hook, 219 without it).
//!
//! # Cargo features
//!
//! None. The umbrella crate `contexture` re-exports this crate as `contexture::tracing`
//! with its feature `tracing`.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod fields;
mod spans;

pub use contexture_ctxvar::hook::RegisterError;
pub use fields::ContextFields;
pub use spans::{propagate_spans, spans_propagated};
