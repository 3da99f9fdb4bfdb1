//! `cargo xtask`: the contexture task runner (one module per task; CI calls only this).

mod bench;
mod test_all;
mod tidy;
mod tour;
mod util;

use std::{env, process::ExitCode};

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  test-all [--no-miri] [--no-loom] [--only STEP,...]
      Everything CI checks, in order, continuing after a failure:
        fmt     cargo fmt --all --check
        clippy  cargo clippy --workspace --all-targets --all-features -- -D warnings
        test    cargo test --workspace --all-features
        doc     RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps --all-features
        loom    per crate that depends on loom, in <target>/loom:
                RUSTFLAGS='--cfg contexture_loom' LOOM_MAX_PREEMPTIONS=2
                cargo test -p <crate> --release --lib loom
        miri    per crate whose src/ contains `unsafe`:
                cargo +nightly miri setup; cargo +nightly miri test -p <crate>
                (skipped, loudly, when `cargo +nightly miri --version` fails)
        tour    cargo run --quiet -p contexture --example tour
      then a table of results and times. Exits non-zero when a step failed.
      --no-miri / --no-loom skip those steps; --only runs just the listed steps.

  tour
      Runs the guided tour: cargo run --quiet -p contexture --example tour

  bench [--quick] [FILTER]
      cargo bench -p contexture-bench --bench '*' -- [--quick] [FILTER], then a table of
      ours vs anchor (criterion means, ns) per group updated by this run, also written to
      <target>/bench-table.md. Python anchors: crates/bench/python/*.py printing
      `PY <group_id> <ns_per_op>` lines. FILTER `tracing` or `otel` runs only
      benches/bridges.rs (the contexture-tracing / contexture-otel groups).
      CONTEXTURE_CRITERION_DIR overrides where criterion's results are read from.

  help
      This text.
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    match task {
        "test-all" => test_all::run(rest),
        "tour" if rest.is_empty() => tour::run(),
        "bench" => bench::run(rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => usage_error(&format!("unknown task or arguments: {}", args.join(" "))),
    }
}

/// Prints `message` and the usage to stderr; exit code 2.
pub(crate) fn usage_error(message: &str) -> ExitCode {
    eprintln!("xtask: {message}\n");
    eprint!("{USAGE}");
    ExitCode::from(2)
}
