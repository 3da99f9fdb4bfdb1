//! `cargo xtask test-all`: every check CI runs (fmt, clippy, test, doc, publish, msrv, loom,
//! miri, tour), in order.

use std::{
    env, fs,
    process::{Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use crate::{msrv, publish_check, tidy, tour, util};

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Pass,
    /// With a short reason (exit status, which crates failed).
    Fail(String),
    /// With the reason it did not run.
    Skipped(String),
}

impl Outcome {
    fn label(&self) -> String {
        match self {
            Outcome::Pass => "PASS".to_owned(),
            Outcome::Fail(why) if why.is_empty() => "FAIL".to_owned(),
            Outcome::Fail(why) => format!("FAIL ({why})"),
            Outcome::Skipped(why) => format!("SKIPPED: {why}"),
        }
    }
}

/// One finished step, for the summary table.
#[derive(Debug)]
struct Record {
    name: &'static str,
    outcome: Outcome,
    time: Duration,
}

/// The options of `test-all`.
#[derive(Debug, Default)]
struct Options {
    no_miri: bool,
    no_loom: bool,
    /// `--only a,b`: run just these steps (the others are reported as skipped).
    only: Option<Vec<String>>,
}

const STEPS: [&str; 9] = [
    "fmt", "clippy", "test", "doc", "publish", "msrv", "loom", "miri", "tour",
];

/// Runs every step, prints the summary, and fails when any step failed.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--no-miri" => options.no_miri = true,
            "--no-loom" => options.no_loom = true,
            "--only" => {
                let Some(list) = args.next() else {
                    return crate::usage_error("test-all: --only needs a list of steps");
                };
                let list: Vec<String> = list.split(',').map(|s| s.trim().to_owned()).collect();
                if let Some(bad) = list.iter().find(|step| !STEPS.contains(&step.as_str())) {
                    return crate::usage_error(&format!("test-all: no step named `{bad}`"));
                }
                options.only = Some(list);
            }
            other => return crate::usage_error(&format!("test-all: unknown option `{other}`")),
        }
    }

    let started = Instant::now();
    let mut records = Vec::new();
    let mut notes = Vec::new();
    for (index, &name) in STEPS.iter().enumerate() {
        let selected = options
            .only
            .as_ref()
            .is_none_or(|only| only.iter().any(|step| step == name));
        if !selected {
            records.push(Record {
                name,
                outcome: Outcome::Skipped("not in --only".to_owned()),
                time: Duration::ZERO,
            });
            continue;
        }
        println!();
        println!(
            "{}",
            util::banner(&format!("[{}/{}] {name}", index + 1, STEPS.len()))
        );
        util::flush();
        let step_started = Instant::now();
        let outcome = match name {
            "fmt" => fmt(),
            "clippy" => clippy(),
            "test" => test(),
            "doc" => doc(),
            "publish" => match publish_check::check(true) {
                Ok(()) => Outcome::Pass,
                Err(why) => Outcome::Fail(why),
            },
            "msrv" => match msrv::check() {
                Ok(msrv::Msrv::Checked(_)) => Outcome::Pass,
                Ok(msrv::Msrv::NotChecked(why)) => {
                    print!("{}", msrv::banner(&why));
                    notes.push(format!("MSRV NOT CHECKED: {why}"));
                    Outcome::Skipped(format!("MSRV NOT CHECKED: {why}"))
                }
                Err(why) => Outcome::Fail(why),
            },
            "loom" => loom(&options),
            "miri" => miri(&options, &mut notes),
            "tour" => command_step(tour::command()),
            _ => unreachable!("every step in STEPS has an arm"),
        };
        let time = step_started.elapsed();
        println!(
            "{}",
            util::banner(&format!(
                "{name}: {} in {}",
                outcome.label(),
                util::secs(time)
            ))
        );
        records.push(Record {
            name,
            outcome,
            time,
        });
    }

    print!("{}", summary(&records, started.elapsed(), &notes));
    util::flush();
    if records
        .iter()
        .any(|record| matches!(record.outcome, Outcome::Fail(_)))
    {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `cargo fmt --check`, then the tidy check of markdown tables ([`tidy`]).
fn fmt() -> Outcome {
    let mut cmd = util::cargo();
    cmd.args(["fmt", "--all", "--check"]);
    let formatted = command_step(cmd);
    let tables = match tidy::markdown_tables() {
        Ok(()) => Outcome::Pass,
        Err(problems) => {
            for problem in &problems {
                eprintln!("tidy: {problem}");
            }
            Outcome::Fail(format!("{} broken markdown table row(s)", problems.len()))
        }
    };
    match (formatted, tables) {
        (Outcome::Pass, tables) => tables,
        (Outcome::Fail(a), Outcome::Fail(b)) => Outcome::Fail(format!("{a}; {b}")),
        (formatted, _) => formatted,
    }
}

fn clippy() -> Outcome {
    let mut cmd = util::cargo();
    cmd.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]);
    command_step(cmd)
}

fn test() -> Outcome {
    let mut cmd = util::cargo();
    cmd.args(["test", "--workspace", "--all-features"]);
    command_step(cmd)
}

fn doc() -> Outcome {
    let mut cmd = util::cargo();
    cmd.args(["doc", "--workspace", "--no-deps", "--all-features"])
        .env("RUSTDOCFLAGS", "-D warnings");
    command_step(cmd)
}

/// Loom models, release mode, in their own target directory so that the cfg change does not
/// invalidate the normal build.
fn loom(options: &Options) -> Outcome {
    if options.no_loom {
        return Outcome::Skipped("--no-loom given".to_owned());
    }
    let packages: Vec<String> = util::crate_members()
        .into_iter()
        .filter(|member| util::has_token(&member.manifest, "loom", "#"))
        .map(|member| member.package)
        .collect();
    if packages.is_empty() {
        return Outcome::Skipped("no crate under crates/ depends on loom".to_owned());
    }
    println!("loom crates: {}", packages.join(", "));
    if let Ok(preemptions) = env::var("LOOM_MAX_PREEMPTIONS") {
        println!("LOOM_MAX_PREEMPTIONS={preemptions} (from the environment)");
    }
    let rustflags = match env::var("RUSTFLAGS") {
        Ok(flags) if !flags.trim().is_empty() => format!("{} --cfg contexture_loom", flags.trim()),
        _ => "--cfg contexture_loom".to_owned(),
    };
    let failed = run_per_package(&packages, |package| {
        let mut cmd = util::cargo();
        cmd.env("RUSTFLAGS", &rustflags)
            .env("CARGO_TARGET_DIR", util::target_dir().join("loom"));
        if env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
            cmd.env("LOOM_MAX_PREEMPTIONS", "2");
        }
        cmd.args(["test", "-p", package, "--release", "--lib", "loom"]);
        cmd
    });
    per_package_outcome(&failed)
}

/// Miri over every crate that contains `unsafe`, skipped loudly when Miri is not installed.
///
/// A skip for a missing Miri adds a line to `notes`, repeated above the final count.
fn miri(options: &Options, notes: &mut Vec<String>) -> Outcome {
    if options.no_miri {
        return Outcome::Skipped("--no-miri given".to_owned());
    }
    let members: Vec<util::Member> = util::crate_members()
        .into_iter()
        .filter(|member| {
            util::rust_files(&member.dir.join("src"))
                .iter()
                .filter_map(|file| fs::read_to_string(file).ok())
                .any(|text| util::has_token(&text, "unsafe", "//"))
        })
        .collect();
    // A crate whose manifest says `miri-tests = "lib"` (under
    // `[package.metadata.contexture]`) gets only its lib tests under Miri: its own
    // `unsafe` is covered there, and its other tests are beyond Miri in CI's time.
    let lib_only: Vec<String> = members
        .iter()
        .filter(|member| member.manifest.contains("miri-tests = \"lib\""))
        .map(|member| member.package.clone())
        .collect();
    let packages: Vec<String> = members.into_iter().map(|member| member.package).collect();
    if packages.is_empty() {
        return Outcome::Skipped("no crate under crates/ contains unsafe".to_owned());
    }
    println!("crates with unsafe: {}", packages.join(", "));

    let mut probe = util::cargo_nightly();
    probe.args(["miri", "--version"]);
    println!("$ {}", util::display(&probe));
    match util::run_captured(&mut probe) {
        Ok(version) => println!("{}", version.trim()),
        Err(why) => {
            let bar = "#".repeat(78);
            println!("{bar}");
            println!("##");
            println!("##  MIRI SKIPPED: {why}");
            println!(
                "##  The unsafe code in {} was NOT checked.",
                packages.join(", ")
            );
            println!("##  install with: rustup toolchain install nightly --profile minimal");
            println!("##                rustup component add --toolchain nightly miri rust-src");
            println!("##");
            println!("{bar}");
            notes.push(format!(
                "MIRI SKIPPED: the unsafe code in {} was NOT checked ({why}); install with: \
                 rustup component add --toolchain nightly miri rust-src",
                packages.join(", ")
            ));
            return Outcome::Skipped("nightly miri not installed".to_owned());
        }
    }

    let mut setup = util::cargo_nightly();
    setup.args(["miri", "setup"]);
    if let Outcome::Fail(why) = command_step(setup) {
        return Outcome::Fail(format!("miri setup: {why}"));
    }
    let failed = run_per_package(&packages, |package| {
        let mut cmd = util::cargo_nightly();
        cmd.args(["miri", "test", "--all-features", "-p", package]);
        if lib_only.iter().any(|lib| lib == package) {
            cmd.arg("--lib");
        }
        cmd
    });
    per_package_outcome(&failed)
}

/// Runs `make(package)` for each package, continuing after failures; returns the failed ones.
fn run_per_package(packages: &[String], make: impl Fn(&str) -> Command) -> Vec<String> {
    let mut failed = Vec::new();
    for package in packages {
        println!("---- {package}");
        if let Outcome::Fail(why) = command_step(make(package)) {
            println!("---- {package}: FAIL ({why})");
            failed.push(package.clone());
        }
    }
    failed
}

fn per_package_outcome(failed: &[String]) -> Outcome {
    if failed.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(failed.join(", "))
    }
}

/// Runs a command with streamed output and no stdin (CI has none); passes when it exits 0.
fn command_step(mut cmd: Command) -> Outcome {
    cmd.stdin(Stdio::null());
    match util::run_streaming(&mut cmd) {
        Ok(status) if status.success() => Outcome::Pass,
        Ok(status) => Outcome::Fail(match status.code() {
            Some(code) => format!("exit code {code}"),
            None => status.to_string(),
        }),
        Err(err) => Outcome::Fail(format!("could not start: {err}")),
    }
}

/// The summary table, the total time, loud notes, and the `test-all: N passed, M failed, K skipped` line.
fn summary(records: &[Record], total: Duration, notes: &[String]) -> String {
    let rows: Vec<[String; 3]> = records
        .iter()
        .map(|record| {
            [
                record.name.to_owned(),
                record.outcome.label(),
                util::secs(record.time),
            ]
        })
        .collect();
    let header = ["step".to_owned(), "result".to_owned(), "time".to_owned()];
    let width = |column: usize| {
        rows.iter()
            .chain([&header])
            .map(|row| row[column].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    let line = |row: &[String; 3]| {
        format!(
            "{:<w0$} | {:<w1$} | {:>w2$}\n",
            row[0],
            row[1],
            row[2],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )
    };

    let mut out = String::from("\n");
    out.push_str(&util::banner("test-all summary"));
    out.push('\n');
    out.push_str(&line(&header));
    out.push_str(&format!(
        "{}-+-{}-+-{}\n",
        "-".repeat(widths[0]),
        "-".repeat(widths[1]),
        "-".repeat(widths[2])
    ));
    for row in &rows {
        out.push_str(&line(row));
    }
    out.push_str(&format!("total time: {}\n", util::secs(total)));
    for note in notes {
        out.push_str(&format!("!!! {note}\n"));
    }
    let count = |f: fn(&Outcome) -> bool| records.iter().filter(|r| f(&r.outcome)).count();
    out.push_str(&format!(
        "test-all: {} passed, {} failed, {} skipped\n",
        count(|o| matches!(o, Outcome::Pass)),
        count(|o| matches!(o, Outcome::Fail(_))),
        count(|o| matches!(o, Outcome::Skipped(_))),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_and_ends_with_the_ci_line() {
        let records = [
            Record {
                name: "fmt",
                outcome: Outcome::Pass,
                time: Duration::from_millis(1234),
            },
            Record {
                name: "clippy",
                outcome: Outcome::Fail("exit code 101".to_owned()),
                time: Duration::from_secs(20),
            },
            Record {
                name: "miri",
                outcome: Outcome::Skipped("--no-miri given".to_owned()),
                time: Duration::ZERO,
            },
        ];
        let text = summary(&records, Duration::from_secs(30), &[]);
        assert!(
            text.contains("fmt    | PASS                     |  1.2s\n"),
            "{text}"
        );
        assert!(text.contains("clippy | FAIL (exit code 101)"), "{text}");
        assert!(
            text.contains("miri   | SKIPPED: --no-miri given |  0.0s\n"),
            "{text}"
        );
        assert!(text.contains("total time: 30.0s\n"), "{text}");
        assert!(
            text.ends_with("\ntest-all: 1 passed, 1 failed, 1 skipped\n"),
            "{text}"
        );
    }
}
