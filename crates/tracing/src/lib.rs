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
//! `cargo xtask bench tracing` (criterion; contenders interleaved batch by batch in one
//! process; the ratio is the median over rounds of ours ÷ anchor in the same round), on
//! the 2-core CI-class VM under load from other jobs; ns per operation.
//!
//! | operation | contexture | anchor | ratio | target | met |
//! |---|---|---|---|---|---|
//! | event through `fmt` (default format, with timestamps), 2 vars set | 692 | 521 (tracing-subscriber alone) | 1.26× | ≤ 1.3× | yes |
//! | the same, `without_time()` | 437 | 263 (tracing-subscriber alone) | 1.62× | ≤ 1.3× | no: see below |
//! | the same, against the 2 values written as the event's own fields by hand | 437 / 692 | 389 / 668 | 1.10× / 1.02× | — | — |
//! | pool job submit + result, inside a span, propagation on vs off | 2,049 | 557 (ours, off) | 3.59× | ≤ 1.1× | no: see below |
//! | the same, against carrying the span by hand (`Span::current()` moved into the job, `in_scope`) | 2,049 | 920 | 2.22× | — | — |
//!
//! Why two targets are missed. The event: `ContextFields` writes two more fields than the
//! anchor's line; tracing-subscriber itself takes 1.48× as long to write the same line with the
//! two values passed as event fields by hand, so no mechanism that writes those bytes can meet
//! 1.3× against a line without them and without timestamps; against that by-hand line ours is
//! 1.10× (two context lookups), and with the default format's timestamp it is 1.26× in all.
//! The pool job: carrying a span at all costs tracing's registry several atomic
//! read-modify-writes on the span's shared slot and the dispatcher (clone at capture, enter
//! and exit on the worker, close at the end) across threads: by hand it is 1.65× of no span.
//! Ours adds three allocations per job (the extension's `Arc`, the copy of the job's values
//! that stores it under a private var so that a `Snapshot` stays one pointer wide, and that
//! var's value), and a slower submit lets the two workers drain the queue and be woken per
//! job, which multiplies every nanosecond added on the submit side. A first version that kept
//! the capture in a field of `Snapshot` measured 1.10× of by hand (1.9× of off) but made a
//! `Snapshot` three words, which pushed actor messages out of their mailbox slot. With
//! propagation off (the default) a job pays one relaxed load at capture and one at run
//! (contexture-ctxvar's hook: 219 → 233 instructions per `Snapshot` capture + run, callgrind).
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
