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
//! `cargo xtask bench tracing` (criterion; ours and the anchor in the same process,
//! interleaved), on the 2-core CI-class VM; ratios are ours ÷ anchor.
//!
//! | operation | contexture | anchor | ratio | target | met |
//! |---|---|---|---|---|---|
//! | event through `fmt` with 2 vars vs the same subscriber without them | see below | tracing-subscriber alone | — | ≤ 1.3× | — |
//! | pool job with span propagation on vs off | see below | ours, off | — | ≤ 1.1× | — |
//!
//! # Cargo features
//!
//! None. The umbrella crate `contexture` re-exports this crate as `contexture::tracing`
//! with its feature `tracing`.

#![warn(missing_docs)]

mod fields;
mod spans;

pub use contexture_ctxvar::hook::RegisterError;
pub use fields::ContextFields;
pub use spans::{propagate_spans, spans_propagated};
