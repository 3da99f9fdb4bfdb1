//! `cargo xtask`: the contexture task runner (one module per task; CI calls only this).

mod baseline;
mod bench;
mod bench_report;
mod json;
mod msrv;
mod publish_check;
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
        publish cargo xtask publish-check (below)
        msrv    cargo xtask msrv (below); SKIPPED, loudly, when the toolchain is missing
        loom    per crate that depends on loom, in <target>/loom:
                RUSTFLAGS='--cfg contexture_loom' LOOM_MAX_PREEMPTIONS=2
                cargo test -p <crate> --release --lib loom
        miri    per crate whose src/ contains `unsafe`:
                cargo +nightly miri setup; cargo +nightly miri test -p <crate>
                (skipped, loudly, when `cargo +nightly miri --version` fails)
        tour    cargo run --quiet -p contexture --example tour
      then a table of results and times. Exits non-zero when a step failed.
      --no-miri / --no-loom skip those steps; --only runs just the listed steps.

  publish-check [--no-dry-run]
      Every workspace member with publish != false (from cargo metadata): description,
      1-5 keywords, crates.io category slugs, readme and license files in the package
      (cargo package --list), docs.rs metadata (all-features, --cfg docsrs) and
      #![cfg_attr(docsrs, feature(doc_cfg))], no path-only dependency; the docs as docs.rs
      builds them (cargo +nightly doc, --cfg docsrs, -D warnings; NOT CHECKED without
      nightly); then cargo publish --workspace --dry-run --allow-dirty (needs
      cargo >= 1.90: packages and verifies the unpublished crates in dependency order).
      --no-dry-run skips the last step.

  msrv
      For each rust-version of the published crates (cargo metadata):
      cargo +<rust-version> check --locked --lib --all-features -p <crates> in <target>/msrv
      (the libraries only: dev-dependencies and bench anchors may need newer Rust).
      MSRV NOT CHECKED, loudly, when rustup has no such toolchain (.ci/run installs it).

  tour [SECTION...] [--list]
      Runs the guided tour: cargo run --quiet -p contexture --example tour [-- SECTION...];
      its opening lists the sections (local, ctxvar, sync, races, pool, parallel,
      processes, actor, ...); naming some runs only those; --list just lists them.

  bench [--quick] [FILTER | CRATE] | bench --report-only
      cargo bench -p contexture-bench --bench '*' -- [--quick] [FILTER], then a table of
      ours vs anchor (criterion means, ns) per group updated by this run, also written to
      <target>/bench-table.md. Python anchors: crates/bench/python/*.py printing
      `PY <group_id> <ns_per_op>` lines. The run's output is kept in <target>/bench-log.txt.
      A full run (no FILTER, no --quick; it sets CONTEXTURE_BENCH_ACTOR_PYTHON=1) then
      writes the report docs/benchmarks.md (per crate: ours, every anchor, CPython, the
      ratios; paired medians where the bench prints them, else criterion medians; the
      machine, the date, the command) and its chart docs/benchmarks.svg (drawn by
      contexture-bench's bench-chart binary), and each crate's rows to
      crates/<crate>/benchmarks.md, which the crate's docs include. --report-only writes
      them again from the
      last run's log and criterion results.
      FILTER `tracing` or `otel` runs only benches/bridges.rs (the contexture-tracing /
      contexture-otel groups).
      CONTEXTURE_CRITERION_DIR overrides where criterion's results are read from.

  baseline sync [REV]
      contexture-sync's blocking rows, this checkout (feature async on) against the crate
      at commit REV (default: the last one before the async face), paired in one process:
      crates/bench/examples/sync_before_after.rs built in <target>/baseline/sync-REV with
      REV's crates/sync/src as the crate contexture-sync-before (--cfg contexture_baseline).

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
        "tour" => tour::run(rest),
        "bench" => bench::run(rest),
        "baseline" => baseline::run(rest),
        "publish-check" => publish_check::run(rest),
        "msrv" => msrv::run(rest),
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
