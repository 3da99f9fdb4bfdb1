//! Shared helpers for the comparison benchmarks in `benches/`.
//!
//! Convention read by `cargo xtask bench`: in each criterion group, the function whose id
//! starts with `contexture` is ours and every other function is an anchor; the task prints
//! the ratio ours / anchor for each.

#![warn(missing_docs)]

/// The criterion-driven interleaved harness (`iter_custom` over shuffled rounds) of the sync
/// and pool benches; [`paired`] is the plain-loop one of the local and ctxvar benches.
pub mod interleaved;
pub mod paired;
