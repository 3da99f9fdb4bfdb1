//! Shared helpers for the comparison benchmarks in `benches/`.
//!
//! Convention read by `cargo xtask bench`: in each criterion group, the function whose id
//! starts with `contexture` is ours and every other function is an anchor; the task prints
//! the ratio ours / anchor for each.

#![warn(missing_docs)]

pub mod interleaved;
pub mod paired;
pub mod sync_rows;
