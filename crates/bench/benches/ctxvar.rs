//! Placeholder until the ctxvar benchmarks land.

fn main() {}
