//! contexture's bridge to OpenTelemetry: context variables carried between services as
//! W3C Baggage.
//!
//! # Items
//!
//! - [`Propagated`]: the vars that travel, each under a key with a string codec
//!   ([`var`](Propagated::var): `Display` + `FromStr`; [`var_with`](Propagated::var_with):
//!   explicit functions). [`inject`](Propagated::inject) writes the current context's
//!   values into a carrier's `baggage` header; [`extract`](Propagated::extract) reads them
//!   into a fresh [`Context`](contexture_ctxvar::Context) to run the request in
//!   ([`Extracted`]), with what was skipped and why ([`Skipped`], [`SkipReason`]).
//! - `Propagated` is an OpenTelemetry
//!   [`TextMapPropagator`](opentelemetry::propagation::TextMapPropagator), so middlewares
//!   that take one (HTTP, gRPC) carry it; it keeps OpenTelemetry's own baggage in the same
//!   header and leaves `traceparent` to `TraceContextPropagator`.
//! - [`MAX_ENTRIES`] (64) and [`MAX_BYTES`] (8192): W3C Baggage's limits.
//!
//! # Example
//!
//! Two services: the client injects into its outgoing headers, the server extracts and
//! runs the request in what arrived.
//!
//! ```
//! use contexture_ctxvar::ContextVar;
//! use contexture_otel::Propagated;
//! use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
//! use opentelemetry_sdk::propagation::TraceContextPropagator;
//! use std::collections::HashMap;
//!
//! static REQUEST_ID: ContextVar<String> = ContextVar::new("request_id");
//!
//! let propagator = TextMapCompositePropagator::new(vec![
//!     Box::new(TraceContextPropagator::new()),
//!     Box::new(Propagated::new().var("request-id", &REQUEST_ID)),
//! ]);
//!
//! // Client.
//! REQUEST_ID.set("r-42".to_owned());
//! let mut headers = HashMap::new();
//! propagator.inject_context(&opentelemetry::Context::current(), &mut headers);
//!
//! // Server.
//! let cx = propagator.extract(&headers);
//! let request = &Propagated::extracted(&cx).unwrap().context;
//! let seen = request.run(|| REQUEST_ID.get()).unwrap();
//! assert_eq!(seen.as_deref(), Some("r-42"));
//! ```
//!
//! # Input from the wire
//!
//! Everything is expected: a header over 8192 bytes (the members that fit are read, the
//! rest reported as [`SkipReason::TooLong`]), more than 64 members
//! ([`TooManyEntries`](SkipReason::TooManyEntries)), a member that is not
//! `key=value[;properties]` ([`Malformed`](SkipReason::Malformed)), a bad percent-escape
//! or non-UTF-8 ([`BadEncoding`](SkipReason::BadEncoding)), a value the codec refuses or
//! panics on ([`Undecodable`](SkipReason::Undecodable)), a key not propagated
//! ([`Unknown`](SkipReason::Unknown): it is OpenTelemetry's baggage), a key seen before
//! ([`Duplicate`](SkipReason::Duplicate): the first that decodes counts). Each is skipped
//! with its reason in [`Extracted::skipped`]; the rest still arrives; nothing panics.
//!
//! # Performance
//!
//! The target, and the row of the table below that answers it (the operation text as it
//! appears there):
//!
//! - `inject` + `extract` of 2 vars through a `HashMap` header map: ≤ 1.0×
//!   opentelemetry_sdk's `BaggagePropagator` with the same 2 entries ("inject+extract, 2
//!   entries (Propagated, 2 vars)"). The report below meets it.
//!
#![doc = include_str!("../benchmarks.md")]
//!
//! Ours writes the header straight from the vars and reads it into a fresh context; the
//! anchor builds and reads OpenTelemetry's `Baggage` map and `Context`.
//!
//! # Cargo features
//!
//! None. The umbrella crate `contexture` re-exports this crate as `contexture::otel` with
//! its feature `otel`.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod propagated;
mod w3c;

pub use propagated::{Extracted, Propagated, SkipReason, Skipped};
pub use w3c::{MAX_BYTES, MAX_ENTRIES};
