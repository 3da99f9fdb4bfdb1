//! `cargo xtask bench`: runs the criterion benches and prints ours-vs-anchor tables per group.
//!
//! Convention of the bench authors: within a criterion group, the function id that starts
//! with `contexture` is ours and every other function id is an anchor. Python anchors come
//! from `crates/bench/python/*.py`, which print `PY <group_id> <ns_per_op>` lines.

use std::{
    cmp::Ordering,
    collections::BTreeMap,
    env, fs, io,
    path::{Path, PathBuf},
    process::{Command, ExitCode, Stdio},
    time::{Duration, SystemTime},
};

use crate::{bench_report, util};

/// The package holding the criterion benches.
const BENCH_PACKAGE: &str = "contexture-bench";
/// The prefix of our function ids inside a group.
const OURS_PREFIX: &str = "contexture";

/// The bench target a filter needs: the bridges' groups (`tracing …`, `otel …`) live in
/// `benches/bridges.rs`, so `cargo xtask bench tracing` / `otel` build and run only that
/// one; any other filter runs every target (`*`), each keeping its matching groups.
fn bench_target(filter: Option<&str>) -> &'static str {
    match filter {
        Some("tracing" | "otel" | "bridges") => "bridges",
        _ => "*",
    }
}

/// One criterion result: `<criterion>/…/new/{benchmark,estimates}.json`.
#[derive(Debug, Clone, PartialEq)]
struct Measurement {
    group: String,
    function: Option<String>,
    value: Option<String>,
    /// `mean.point_estimate`, nanoseconds.
    mean_ns: f64,
    /// `median.point_estimate`, nanoseconds (the report's figure).
    median_ns: f64,
    /// When criterion wrote it: orders the groups as they ran.
    written: SystemTime,
}

/// One table row.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    operation: String,
    ours_ns: Option<f64>,
    anchor: Option<String>,
    anchor_ns: Option<f64>,
}

/// The first line of `<target>/bench-log.txt`, then `<started secs>; load <avg>; command: …`.
const LOG_HEADER: &str = "# contexture bench log: started ";
/// The last line: `<finished secs>; load <avg>`.
const LOG_FOOTER: &str = "# contexture bench log: finished ";

/// Runs the benches, then prints and writes the tables and the report.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let quick = args.iter().any(|arg| arg == "--quick");
    let report_only = args.iter().any(|arg| arg == "--report-only");
    let passthrough: Vec<&String> = args
        .iter()
        .filter(|arg| *arg != "--quick" && *arg != "--report-only")
        .collect();
    let filter = passthrough.iter().find(|arg| !arg.starts_with('-'));
    let full = !quick && filter.is_none();
    let log_path = util::target_dir().join("bench-log.txt");
    if report_only {
        return report_from_log(&log_path);
    }

    // Criterion rewrites every result it measures; anything older than this is stale.
    // Rounded down to the second for file systems with coarse timestamps.
    let started_secs = unix_secs(SystemTime::now());
    let started = SystemTime::UNIX_EPOCH + Duration::from_secs(started_secs);

    let mut cmd = util::cargo();
    // `--bench '*'`: only the [[bench]] targets, so that the library's libtest harness never
    // sees criterion's flags such as `--quick`.
    cmd.args([
        "bench",
        "-p",
        BENCH_PACKAGE,
        "--bench",
        bench_target(filter.map(|f| f.as_str())),
        "--",
    ]);
    if quick {
        cmd.arg("--quick");
    }
    cmd.args(&passthrough);
    // A full run pairs the actor with the CPython seed actor too.
    if full && env::var_os("CONTEXTURE_BENCH_ACTOR_PYTHON").is_none() {
        cmd.env("CONTEXTURE_BENCH_ACTOR_PYTHON", "1");
    }
    let command = format!(
        "cargo xtask bench{}",
        args.iter().map(|arg| format!(" {arg}")).collect::<String>()
    );
    let mut log = format!(
        "{LOG_HEADER}{started_secs}; load {}; command: {command}\n",
        load()
    );
    let mut ok = match run_tee(&mut cmd, &mut log) {
        Ok(status) if status.success() => true,
        Ok(status) => {
            eprintln!("xtask bench: cargo bench failed ({status}); tabulating what finished");
            false
        }
        Err(err) => {
            eprintln!("xtask bench: could not start cargo: {err}");
            return ExitCode::FAILURE;
        }
    };

    let criterion_dir = criterion_dir();
    let measurements = read_measurements(&criterion_dir, started);
    let (python, python_ok, python_out) = python_anchors(quick, filter.map(|f| f.as_str()));
    ok &= python_ok;
    log.push_str(&python_out);
    log.push_str(&format!(
        "{LOG_FOOTER}{}; load {}\n",
        unix_secs(SystemTime::now()),
        load()
    ));
    if let Err(err) = fs::write(&log_path, &log) {
        eprintln!("xtask bench: could not write {}: {err}", log_path.display());
        ok = false;
    }

    if measurements.is_empty() {
        println!(
            "\nno criterion results were updated by this run (looked in {})",
            criterion_dir.display()
        );
    } else {
        let tables = render(&measurements, &python);
        println!("\n{tables}");
        let mut document = String::from("# contexture benchmarks\n\n");
        document.push_str(&format!(
            "Generated by `cargo xtask bench{}{}`: criterion means in nanoseconds; \
             ratio < 1 means contexture is faster than the anchor.\n\n",
            if quick { " --quick" } else { "" },
            filter.map(|f| format!(" {f}")).unwrap_or_default(),
        ));
        document.push_str(&tables);
        let path = table_path(&criterion_dir);
        match fs::write(&path, document) {
            Ok(()) => println!("table written to {}", path.display()),
            Err(err) => {
                eprintln!("xtask bench: could not write {}: {err}", path.display());
                ok = false;
            }
        }
    }
    if full {
        ok &= report_from_log(&log_path) == ExitCode::SUCCESS;
    } else {
        println!(
            "docs/benchmarks.md is written by a full run (`cargo xtask bench`, no filter, \
             no --quick); this run's report: `cargo xtask bench --report-only` writes \
             it from {}",
            log_path.display()
        );
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Seconds since the Unix epoch.
fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The 1, 5 and 15 minute load averages, or `unknown`.
fn load() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Runs `cmd` with its stdout both shown and appended to `log`, line by line.
fn run_tee(cmd: &mut Command, log: &mut String) -> io::Result<std::process::ExitStatus> {
    use io::BufRead as _;
    println!("$ {}", util::display(cmd));
    util::flush();
    let mut child = cmd.stdout(Stdio::piped()).spawn()?;
    if let Some(stdout) = child.stdout.take() {
        for line in io::BufReader::new(stdout).split(b'\n') {
            let line = String::from_utf8_lossy(&line?).into_owned();
            println!("{line}");
            log.push_str(&line);
            log.push('\n');
        }
    }
    child.wait()
}

/// Writes `docs/benchmarks.md` and `docs/benchmarks.svg` from a run's log (its paired
/// blocks and `PY` lines) and the criterion results written during that run.
fn report_from_log(log_path: &Path) -> ExitCode {
    let log = match fs::read_to_string(log_path) {
        Ok(log) => log,
        Err(err) => {
            eprintln!(
                "xtask bench: no run to report on ({}: {err}); run `cargo xtask bench`",
                log_path.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let header_line = log
        .lines()
        .next()
        .and_then(|line| line.strip_prefix(LOG_HEADER));
    let Some(header_line) = header_line else {
        eprintln!(
            "xtask bench: {} does not start with `{LOG_HEADER}`",
            log_path.display()
        );
        return ExitCode::FAILURE;
    };
    let mut fields = header_line.splitn(3, "; ");
    let started: u64 = fields
        .next()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let load_start = fields
        .next()
        .and_then(|s| s.strip_prefix("load "))
        .unwrap_or("unknown");
    let command = fields
        .next()
        .and_then(|s| s.strip_prefix("command: "))
        .unwrap_or("cargo xtask bench");
    let (finished, load_end) = log
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix(LOG_FOOTER))
        .and_then(|line| {
            let (secs, load) = line.split_once("; load ")?;
            Some((secs.trim().parse::<u64>().ok()?, load.to_owned()))
        })
        .unwrap_or_else(|| (0, "unknown".to_owned()));

    let measurements = read_measurements(
        &criterion_dir(),
        SystemTime::UNIX_EPOCH + Duration::from_secs(started),
    );
    let mut ordered = measurements;
    ordered.sort_by_key(|m| m.written);
    let samples: Vec<bench_report::Sample> = ordered
        .iter()
        .filter(|m| finished == 0 || unix_secs(m.written) <= finished)
        .map(|m| bench_report::Sample {
            group: m.group.clone(),
            function: m.function.clone(),
            value: m.value.clone(),
            median_ns: m.median_ns,
        })
        .collect();
    let python: BTreeMap<String, f64> = log.lines().filter_map(parse_python_line).collect();
    let paired = bench_report::parse_paired(&log);
    let rows = bench_report::rows(&samples, &paired, &python);
    if rows.is_empty() {
        eprintln!(
            "xtask bench: the run in {} measured nothing of ours",
            log_path.display()
        );
        return ExitCode::FAILURE;
    }

    let version = |program: &str| {
        let mut cmd = Command::new(program);
        cmd.arg("--version");
        util::run_captured(&mut cmd)
            .map(|out| out.trim().to_owned())
            .unwrap_or_else(|_| format!("{program} not found"))
    };
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let header = bench_report::Header {
        command: command.to_owned(),
        started: bench_report::utc(started),
        finished: if finished == 0 {
            "unknown".to_owned()
        } else {
            bench_report::utc(finished)
        },
        cpu,
        cores: std::thread::available_parallelism()
            .map_or_else(|_| "?".to_owned(), |n| n.to_string()),
        load: format!("{load_start} at the start, {load_end} at the end"),
        rustc: version("rustc"),
        python: version("python3"),
    };

    let docs = util::root().join("docs");
    let report = docs.join("benchmarks.md");
    if let Err(err) = fs::write(&report, bench_report::render(&header, &rows)) {
        eprintln!("xtask bench: could not write {}: {err}", report.display());
        return ExitCode::FAILURE;
    }
    println!("report written to {}", report.display());
    for krate in rows
        .iter()
        .map(|row| row.krate.as_str())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let dir = util::root().join("crates").join(krate);
        let plain = krate
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if krate.is_empty() || !plain || !dir.join("Cargo.toml").is_file() {
            continue; // a group whose first word names no crate of ours
        }
        let fragment = dir.join("benchmarks.md");
        let text = bench_report::render_crate(&header, krate, &rows);
        if let Err(err) = fs::write(&fragment, text) {
            eprintln!("xtask bench: could not write {}: {err}", fragment.display());
            return ExitCode::FAILURE;
        }
        println!("crate table written to {}", fragment.display());
    }

    let data = util::target_dir().join("bench-chart.tsv");
    if let Err(err) = fs::write(&data, bench_report::chart_data(&rows)) {
        eprintln!("xtask bench: could not write {}: {err}", data.display());
        return ExitCode::FAILURE;
    }
    let mut chart = util::cargo();
    chart
        .args([
            "run",
            "--quiet",
            "--release",
            "-p",
            BENCH_PACKAGE,
            "--bin",
            "bench-chart",
            "--",
        ])
        .arg(&data)
        .arg(docs.join("benchmarks.svg"));
    match util::run_streaming(&mut chart) {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("xtask bench: the chart failed ({status})");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("xtask bench: could not start cargo: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `$CONTEXTURE_CRITERION_DIR` (for testing), else `$CRITERION_HOME` (criterion's own
/// override), else `<target>/criterion`.
fn criterion_dir() -> PathBuf {
    ["CONTEXTURE_CRITERION_DIR", "CRITERION_HOME"]
        .iter()
        .filter_map(env::var_os)
        .find(|dir| !dir.is_empty())
        .map(|dir| util::root().join(dir))
        .unwrap_or_else(|| util::target_dir().join("criterion"))
}

/// `<target>/bench-table.md`, or next to an overridden criterion directory.
fn table_path(criterion_dir: &Path) -> PathBuf {
    let overridden = env::var_os("CONTEXTURE_CRITERION_DIR").is_some_and(|dir| !dir.is_empty());
    match criterion_dir.parent() {
        Some(parent) if overridden => parent.join("bench-table.md"),
        _ => util::target_dir().join("bench-table.md"),
    }
}

/// Every result under `dir` whose `new/estimates.json` was written at or after `since`.
fn read_measurements(dir: &Path, since: SystemTime) -> Vec<Measurement> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if !path.is_dir() || path.file_name().is_some_and(|name| name == "report") {
                continue;
            }
            if path.file_name().is_some_and(|name| name == "new") {
                match read_measurement(dir.as_path(), &path, since) {
                    Ok(Some(measurement)) => found.push(measurement),
                    Ok(None) => {}
                    Err(err) => eprintln!("xtask bench: skipping {}: {err}", path.display()),
                }
            } else {
                stack.push(path);
            }
        }
    }
    found
}

/// Reads one `…/new/` directory; `None` when it is older than `since`.
fn read_measurement(
    bench_dir: &Path,
    new_dir: &Path,
    since: SystemTime,
) -> io::Result<Option<Measurement>> {
    let estimates_path = new_dir.join("estimates.json");
    let written = fs::metadata(&estimates_path)?.modified()?;
    if written < since {
        return Ok(None);
    }
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let estimates = fs::read_to_string(&estimates_path)?;
    let mean_ns = point_estimate(&estimates, "mean")
        .ok_or_else(|| invalid("no mean.point_estimate in estimates.json"))?;
    let median_ns = point_estimate(&estimates, "median").unwrap_or(mean_ns);

    let (group, function, value) = match fs::read_to_string(new_dir.join("benchmark.json")) {
        Ok(json) => (
            json_string(&json, "group_id")
                .flatten()
                .ok_or_else(|| invalid("no group_id in benchmark.json"))?,
            json_string(&json, "function_id").flatten(),
            json_string(&json, "value_str").flatten(),
        ),
        // No benchmark.json: fall back to criterion's (sanitised) directory names.
        Err(_) => ids_from_path(bench_dir).ok_or_else(|| invalid("no benchmark.json"))?,
    };
    Ok(Some(Measurement {
        group,
        function,
        value,
        mean_ns,
        median_ns,
        written,
    }))
}

/// `<criterion>/<group>[/<function>[/<value>]]`, from the directory that holds `new/`.
fn ids_from_path(bench_dir: &Path) -> Option<(String, Option<String>, Option<String>)> {
    let criterion = criterion_dir();
    let parts: Vec<String> = bench_dir
        .strip_prefix(&criterion)
        .ok()?
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    let mut parts = parts.into_iter();
    Some((parts.next()?, parts.next(), parts.next()))
}

/// `<statistic>.point_estimate` from criterion's `estimates.json`.
fn point_estimate(json: &str, statistic: &str) -> Option<f64> {
    let at = json.find(&format!("\"{statistic}\""))?;
    let rest = &json[at..];
    let at = rest.find("\"point_estimate\"")? + "\"point_estimate\"".len();
    let rest = rest[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The string value of `"key"`: `Some(None)` for `null`, `None` when missing or malformed.
fn json_string(json: &str, key: &str) -> Option<Option<String>> {
    let needle = format!("\"{key}\"");
    let at = json.find(&needle)? + needle.len();
    let rest = json[at..].trim_start().strip_prefix(':')?.trim_start();
    if rest.starts_with("null") {
        return Some(None);
    }
    let mut chars = rest.strip_prefix('"')?.chars();
    let mut value = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(Some(value)),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'r' => value.push('\r'),
                'b' => value.push('\u{8}'),
                'f' => value.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let code = u32::from_str_radix(&hex, 16).ok()?;
                    // Surrogate pairs do not occur in criterion ids; show them as U+FFFD.
                    value.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
}

/// Runs `crates/bench/python/*.py`; returns `group_id → ns per op`, whether all ran, and
/// what they printed.
fn python_anchors(quick: bool, filter: Option<&str>) -> (BTreeMap<String, f64>, bool, String) {
    let mut printed = String::new();
    let mut anchors = BTreeMap::new();
    let dir = util::root().join("crates").join("bench").join("python");
    let mut scripts: Vec<PathBuf> = fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "py"))
        .collect();
    if scripts.is_empty() {
        return (anchors, true, printed);
    }
    scripts.sort();
    let found = Command::new("python3")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        println!("python anchors skipped: python3 not found");
        return (anchors, true, printed);
    }

    let mut ok = true;
    for script in scripts {
        let mut cmd = Command::new("python3");
        cmd.arg(&script)
            .current_dir(util::root())
            .stdin(Stdio::null())
            .stderr(Stdio::inherit());
        if quick {
            cmd.env("CONTEXTURE_BENCH_QUICK", "1");
        }
        if let Some(filter) = filter {
            cmd.env("CONTEXTURE_BENCH_FILTER", filter);
        }
        println!("$ {}", util::display(&cmd));
        util::flush();
        let output = match cmd.output() {
            Ok(output) => output,
            Err(err) => {
                eprintln!("xtask bench: could not run {}: {err}", script.display());
                ok = false;
                continue;
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        print!("{stdout}");
        printed.push_str(&stdout);
        anchors.extend(stdout.lines().filter_map(parse_python_line));
        if !output.status.success() {
            eprintln!(
                "xtask bench: {} failed ({})",
                script.display(),
                output.status
            );
            ok = false;
        }
    }
    (anchors, ok, printed)
}

/// `PY <group_id> <ns_per_op>`; the group id may contain spaces.
fn parse_python_line(line: &str) -> Option<(String, f64)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["PY", group @ .., ns] if !group.is_empty() => Some((group.join(" "), ns.parse().ok()?)),
        _ => None,
    }
}

/// Orders value strings numerically when both are numbers (`8 < 64 < 512`).
pub(crate) fn compare_values(a: &Option<String>, b: &Option<String>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => a.cmp(b),
        },
        _ => a.cmp(b),
    }
}

/// Whether a result is ours: its function id (or, without one, its group id) starts with
/// `contexture`.
fn is_ours(measurement: &Measurement) -> bool {
    measurement
        .function
        .as_deref()
        .unwrap_or(&measurement.group)
        .starts_with(OURS_PREFIX)
}

/// The rows of one group, by value (numerically) then ours × anchors.
fn group_rows(measurements: &[&Measurement], python: &BTreeMap<String, f64>) -> Vec<Row> {
    let mut values: Vec<Option<String>> = Vec::new();
    for measurement in measurements {
        if !values.contains(&measurement.value) {
            values.push(measurement.value.clone());
        }
    }
    values.sort_by(compare_values);

    let mut rows = Vec::new();
    for value in values {
        let group = &measurements[0].group;
        let label = match &value {
            Some(value) => format!("{group}/{value}"),
            None => group.clone(),
        };
        let at_value: Vec<&Measurement> = measurements
            .iter()
            .copied()
            .filter(|m| m.value == value)
            .collect();
        let ours: Vec<&Measurement> = at_value.iter().copied().filter(|m| is_ours(m)).collect();
        let mut anchors: Vec<(String, f64)> = at_value
            .iter()
            .filter(|m| !is_ours(m))
            .map(|m| {
                (
                    m.function.clone().unwrap_or_else(|| m.group.clone()),
                    m.mean_ns,
                )
            })
            .collect();
        anchors.sort_by(|a, b| a.0.cmp(&b.0));
        // A python line for `group/value` wins over one for the whole group.
        if let Some(&ns) = python.get(&label).or_else(|| python.get(group)) {
            anchors.push(("python".to_owned(), ns));
        }

        let ours: Vec<(String, Option<f64>)> = if ours.is_empty() {
            vec![(label.clone(), None)]
        } else if ours.len() == 1 {
            vec![(label.clone(), Some(ours[0].mean_ns))]
        } else {
            let mut named: Vec<(String, Option<f64>)> = ours
                .iter()
                .map(|m| {
                    let function = m.function.as_deref().unwrap_or_default();
                    (format!("{label} ({function})"), Some(m.mean_ns))
                })
                .collect();
            named.sort_by(|a, b| a.0.cmp(&b.0));
            named
        };
        for (operation, ours_ns) in ours {
            if anchors.is_empty() {
                rows.push(Row {
                    operation,
                    ours_ns,
                    anchor: None,
                    anchor_ns: None,
                });
                continue;
            }
            for (anchor, anchor_ns) in &anchors {
                rows.push(Row {
                    operation: operation.clone(),
                    ours_ns,
                    anchor: Some(anchor.clone()),
                    anchor_ns: Some(*anchor_ns),
                });
            }
        }
    }
    rows
}

/// All groups as markdown: a `### group` heading and an aligned table each, in the order
/// criterion ran them.
fn render(measurements: &[Measurement], python: &BTreeMap<String, f64>) -> String {
    let mut groups: BTreeMap<&str, Vec<&Measurement>> = BTreeMap::new();
    for measurement in measurements {
        groups
            .entry(measurement.group.as_str())
            .or_default()
            .push(measurement);
    }
    let mut groups: Vec<(&str, Vec<&Measurement>)> = groups.into_iter().collect();
    let first_written = |list: &[&Measurement]| list.iter().map(|m| m.written).min();
    groups.sort_by(|a, b| {
        first_written(&a.1)
            .cmp(&first_written(&b.1))
            .then(a.0.cmp(b.0))
    });

    for name in python.keys() {
        let known = groups
            .iter()
            .any(|(group, _)| name == group || name.starts_with(&format!("{group}/")));
        if !known {
            println!("python anchor `{name}` has no criterion group updated by this run");
        }
    }

    let mut out = String::new();
    for (group, list) in groups {
        out.push_str(&format!("### {}\n\n", escape(group)));
        out.push_str(&table(&group_rows(&list, python)));
        out.push('\n');
    }
    out
}

/// A padded markdown table.
fn table(rows: &[Row]) -> String {
    let header = [
        "operation",
        "ours (ns)",
        "anchor name",
        "anchor (ns)",
        "ratio ours/anchor",
    ]
    .map(str::to_owned);
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|row| {
            let ratio = match (row.ours_ns, row.anchor_ns) {
                (Some(ours), Some(anchor)) if anchor > 0.0 => format!("{:.2}", ours / anchor),
                _ => "-".to_owned(),
            };
            [
                escape(&row.operation),
                row.ours_ns.map_or_else(|| "-".to_owned(), nanos),
                row.anchor.as_deref().map_or_else(|| "-".to_owned(), escape),
                row.anchor_ns.map_or_else(|| "-".to_owned(), nanos),
                ratio,
            ]
        })
        .collect();
    let mut widths = [0usize; 5];
    for row in cells.iter().chain([&header]) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |row: &[String; 5]| {
        let mut line = String::from("|");
        for (column, (cell, width)) in row.iter().zip(widths).enumerate() {
            // Text columns left, numbers right.
            if column == 0 || column == 2 {
                line.push_str(&format!(" {cell:<width$} |"));
            } else {
                line.push_str(&format!(" {cell:>width$} |"));
            }
        }
        line.push('\n');
        line
    };
    let mut out = line(&header);
    out.push('|');
    for (column, width) in widths.iter().enumerate() {
        let dashes = "-".repeat(*width);
        if column == 0 || column == 2 {
            out.push_str(&format!(" {dashes} |"));
        } else {
            out.push_str(&format!(" {}: |", &dashes[1..]));
        }
    }
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
    }
    out
}

/// A markdown table cell: `|` would end the cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Nanoseconds with precision that fits the size.
pub(crate) fn nanos(ns: f64) -> String {
    if ns < 1.0 {
        format!("{ns:.3}")
    } else if ns < 10.0 {
        format!("{ns:.2}")
    } else if ns < 1000.0 {
        format!("{ns:.1}")
    } else {
        format!("{ns:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bridge_filters_run_only_the_bridges_target() {
        assert_eq!(bench_target(Some("tracing")), "bridges");
        assert_eq!(bench_target(Some("otel")), "bridges");
        assert_eq!(bench_target(Some("pool")), "*");
        assert_eq!(bench_target(None), "*");
    }

    const ESTIMATES: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":11.5,"upper_bound":13.1},"point_estimate":12.25,"standard_error":0.4},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":99.0,"standard_error":0.1},"median_abs_dev":null,"slope":null,"std_dev":{"point_estimate":1e-3}}"#;
    const BENCHMARK: &str = r#"{"group_id":"local get","function_id":"contexture \"Local\"","value_str":null,"throughput":null,"full_id":"local get/contexture \"Local\"","directory_name":"local get/contexture _Local_","title":"local get/contexture \"Local\""}"#;

    #[test]
    fn reads_criterion_json_by_hand() {
        assert_eq!(point_estimate(ESTIMATES, "mean"), Some(12.25));
        assert_eq!(point_estimate(ESTIMATES, "median"), Some(99.0));
        assert_eq!(
            json_string(BENCHMARK, "group_id"),
            Some(Some("local get".to_owned()))
        );
        assert_eq!(
            json_string(BENCHMARK, "function_id"),
            Some(Some("contexture \"Local\"".to_owned()))
        );
        assert_eq!(json_string(BENCHMARK, "value_str"), Some(None));
        assert_eq!(json_string(BENCHMARK, "missing"), None);
        assert_eq!(
            json_string(r#"{ "a" : "x\u00e9\/y" }"#, "a"),
            Some(Some("xé/y".to_owned()))
        );
    }

    #[test]
    fn parses_python_lines() {
        assert_eq!(
            parse_python_line("PY local get 81.5"),
            Some(("local get".to_owned(), 81.5))
        );
        assert_eq!(parse_python_line("PY 12"), None);
        assert_eq!(parse_python_line("warming up"), None);
    }

    fn measurement(function: &str, value: Option<&str>, mean_ns: f64) -> Measurement {
        Measurement {
            group: "queue".to_owned(),
            function: Some(function.to_owned()),
            value: value.map(str::to_owned),
            mean_ns,
            median_ns: mean_ns,
            written: SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn builds_rows_per_value_with_every_anchor() {
        let all = [
            measurement("contexture", Some("64"), 20.0),
            measurement("std_mpsc", Some("64"), 10.0),
            measurement("contexture", Some("8"), 4.0),
            measurement("crossbeam", Some("8"), 2.0),
            measurement("std_mpsc", Some("8"), 8.0),
        ];
        let list: Vec<&Measurement> = all.iter().collect();
        let python = BTreeMap::from([("queue/8".to_owned(), 400.0)]);
        let rows = group_rows(&list, &python);
        let summary: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r.operation.clone(), r.anchor.clone().unwrap()))
            .collect();
        assert_eq!(
            summary,
            [
                ("queue/8", "crossbeam"),
                ("queue/8", "std_mpsc"),
                ("queue/8", "python"),
                ("queue/64", "std_mpsc"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        let expected = "\
| operation | ours (ns) | anchor name | anchor (ns) | ratio ours/anchor |
| --------- | --------: | ----------- | ----------: | ----------------: |
| queue/8   |      4.00 | crossbeam   |        2.00 |              2.00 |
| queue/8   |      4.00 | std_mpsc    |        8.00 |              0.50 |
| queue/8   |      4.00 | python      |       400.0 |              0.01 |
| queue/64  |      20.0 | std_mpsc    |        10.0 |              2.00 |
";
        assert_eq!(table(&rows), expected);
    }
}
