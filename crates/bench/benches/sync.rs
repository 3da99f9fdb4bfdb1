//! Placeholder until the sync benchmarks land.

fn main() {}
