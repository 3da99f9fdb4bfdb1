//! Context variables (placeholder until the crate lands).
