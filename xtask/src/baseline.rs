//! `cargo xtask baseline sync [REV]`: the blocking rows of contexture-sync, now against the
//! crate as it was at commit REV, in one process.
//!
//! A before/after question ("did the async face slow the blocking paths?") answered by two
//! bench runs minutes apart drowns in this machine's drift (±50 % between minutes). Here
//! both versions run in the same process, batch by batch, with paired medians: REV's
//! `crates/sync/src` is taken with `git archive` into `<target>/baseline/sync-REV/before`,
//! built as the crate `contexture-sync-before`, and linked next to this checkout's
//! contexture-sync (feature `async` on: the build a user of the async face gets) into
//! `crates/bench/examples/sync_before_after.rs`, built with `--cfg contexture_baseline` in
//! its own small workspace (`<target>/baseline/sync-REV`, its own target directory and a copy
//! of our lockfile, so the versions of parking_lot and the rest match).
//!
//! REV defaults to the last commit before the async face (`DEFAULT_REV`). The rows' code is
//! the same text for both versions, so REV must have the same blocking API.

use std::{
    fs,
    path::Path,
    process::{Command, ExitCode, Stdio},
};

use crate::util;

/// The last commit of contexture-sync before its async face (issue #12's "blocking rows
/// within 5 %" compares against it).
const DEFAULT_REV: &str = "3c7becf";

/// Dependencies of the old crate, copied from our `[workspace.dependencies]`.
const OLD_DEPENDENCIES: [&str; 3] = ["parking_lot", "parking_lot_core", "thiserror"];

pub(crate) fn run(args: &[String]) -> ExitCode {
    let (krate, rev) = match args {
        [krate] => (krate.as_str(), DEFAULT_REV),
        [krate, rev] => (krate.as_str(), rev.as_str()),
        _ => return crate::usage_error("baseline: expected `sync [REV]`"),
    };
    if krate != "sync" {
        return crate::usage_error(&format!(
            "baseline: only `sync` has a before/after runner (got `{krate}`)"
        ));
    }
    match prepare(rev).and_then(|dir| build_and_run(&dir, rev)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("baseline: FAILED: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Writes the small workspace for REV; returns its folder.
fn prepare(rev: &str) -> Result<std::path::PathBuf, String> {
    let root = util::root();
    let full = util::run_captured(Command::new("git").current_dir(&root).args([
        "rev-parse",
        "--verify",
        &format!("{rev}^{{commit}}"),
    ]))?;
    let full = full.trim();
    let dir = util::target_dir()
        .join("baseline")
        .join(format!("sync-{}", &full[..full.len().min(12)]));
    let before = dir.join("before");
    if before.exists() {
        fs::remove_dir_all(&before).map_err(|e| format!("{}: {e}", before.display()))?;
    }
    fs::create_dir_all(&before).map_err(|e| format!("{}: {e}", before.display()))?;
    extract(&root, full, &before)?;

    let manifest =
        fs::read_to_string(root.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    let edition = value_line(&manifest, "edition").unwrap_or("edition = \"2021\"");
    let mut dependencies = String::new();
    for name in OLD_DEPENDENCIES {
        let line = value_line(&manifest, name)
            .ok_or_else(|| format!("Cargo.toml has no `{name} = ...` dependency line"))?;
        dependencies.push_str(line);
        dependencies.push('\n');
    }
    write(
        &before.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"contexture-sync-before\"\nversion = \"0.0.0\"\n{edition}\n\
             publish = false\n\n[lib]\npath = \"crates/sync/src/lib.rs\"\n\n\
             [dependencies]\n{dependencies}\n\
             [lints.rust]\n# Its cfgs (loom, docsrs) are not ours to check here.\n\
             unexpected_cfgs = \"allow\"\n"
        ),
    )?;
    let runner = dir.join("runner");
    fs::create_dir_all(&runner).map_err(|e| format!("{}: {e}", runner.display()))?;
    let example = root.join("crates/bench/examples/sync_before_after.rs");
    let sync = root.join("crates/sync");
    write(
        &runner.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"sync-before-after\"\nversion = \"0.0.0\"\n{edition}\n\
             publish = false\n\n[[bin]]\nname = \"sync-before-after\"\npath = {example:?}\n\n\
             [dependencies]\n\
             contexture-sync = {{ path = {sync:?}, features = [\"async\"] }}\n\
             contexture-sync-before = {{ path = \"../before\" }}\n\n\
             [lints.rust]\n\
             unexpected_cfgs = {{ level = \"warn\", check-cfg = [\"cfg(contexture_baseline)\"] }}\n"
        ),
    )?;
    write(
        &dir.join("Cargo.toml"),
        "[workspace]\nmembers = [\"runner\", \"before\"]\nresolver = \"2\"\n\n\
         [profile.release]\ndebug = \"line-tables-only\"\n",
    )?;
    let lock = dir.join("Cargo.lock");
    if !lock.exists() {
        fs::copy(root.join("Cargo.lock"), &lock).map_err(|e| format!("Cargo.lock: {e}"))?;
    }
    Ok(dir)
}

/// `git archive REV crates/sync/src | tar -x -C into`.
fn extract(root: &Path, rev: &str, into: &Path) -> Result<(), String> {
    let mut archive = Command::new("git")
        .current_dir(root)
        .args(["archive", "--format=tar", rev, "crates/sync/src"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("git archive could not start: {e}"))?;
    let tar_input = archive.stdout.take().ok_or("git archive: no stdout")?;
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(into)
        .stdin(tar_input)
        .status()
        .map_err(|e| format!("tar could not start: {e}"))?;
    let git = archive
        .wait()
        .map_err(|e| format!("git archive did not end: {e}"))?;
    if !git.success() || !tar.success() {
        return Err(format!(
            "extracting crates/sync/src at {rev} failed (git {git}, tar {tar})"
        ));
    }
    Ok(())
}

/// Builds the runner (release, `--cfg contexture_baseline`) and runs it.
fn build_and_run(dir: &Path, rev: &str) -> Result<(), String> {
    let target = dir.join("target");
    let mut build = util::cargo();
    build
        .current_dir(dir)
        .args(["build", "--release", "-p", "sync-before-after"])
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", "--cfg contexture_baseline");
    let status = util::run_streaming(&mut build).map_err(|e| format!("cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building the runner failed ({status})"));
    }
    let short = util::run_captured(Command::new("git").current_dir(util::root()).args([
        "log",
        "-1",
        "--format=%h",
        rev,
    ]))?;
    let label = format!("before ({})", short.trim());
    let mut runner = Command::new(target.join("release").join("sync-before-after"));
    runner.env("CONTEXTURE_BASELINE_LABEL", &label);
    let status = util::run_streaming(&mut runner).map_err(|e| format!("runner: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the runner failed ({status})"))
    }
}

/// The first line of `manifest` that sets `key` (`key = ...`), trimmed.
fn value_line<'a>(manifest: &'a str, key: &str) -> Option<&'a str> {
    manifest.lines().map(str::trim).find(|line| {
        line.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    })
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
