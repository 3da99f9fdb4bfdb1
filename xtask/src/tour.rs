//! `cargo xtask tour`: runs the umbrella crate's guided tour example.

use std::process::{Command, ExitCode};

use crate::util;

/// `cargo run --quiet -p contexture --all-features --example tour`, from the workspace root.
pub(crate) fn command() -> Command {
    command_with(&[])
}

/// The same, with `-- SECTION…` for the tour.
fn command_with(sections: &[String]) -> Command {
    let mut cmd = util::cargo();
    cmd.args([
        "run",
        "--quiet",
        "-p",
        "contexture",
        "--all-features",
        "--example",
        "tour",
    ]);
    if !sections.is_empty() {
        cmd.arg("--").args(sections);
    }
    cmd
}

/// Runs the tour (or the named sections) with its output streamed; the exit code follows
/// the tour's.
pub(crate) fn run(sections: &[String]) -> ExitCode {
    match util::run_streaming(&mut command_with(sections)) {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("xtask tour: the tour failed ({status})");
            // Keep the tour's own exit code when it has one that fits.
            status
                .code()
                .and_then(|code| u8::try_from(code).ok())
                .filter(|&code| code != 0)
                .map_or(ExitCode::FAILURE, ExitCode::from)
        }
        Err(err) => {
            eprintln!("xtask tour: could not start cargo: {err}");
            ExitCode::FAILURE
        }
    }
}
