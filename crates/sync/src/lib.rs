//! Python threading primitives (placeholder until the crate lands).
