//! `cargo xtask tour`: runs the umbrella crate's guided tour example.

use std::process::{Command, ExitCode};

use crate::util;

/// `cargo run --quiet -p contexture --all-features --example tour`, from the workspace root.
pub(crate) fn command() -> Command {
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
    cmd
}

/// Runs the tour with its output streamed; the exit code follows the tour's.
pub(crate) fn run() -> ExitCode {
    match util::run_streaming(&mut command()) {
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
