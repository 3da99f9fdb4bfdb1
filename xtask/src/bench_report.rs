//! The benchmark report of `cargo xtask bench`: `docs/benchmarks.md` and the data of its
//! chart (`docs/benchmarks.svg`, drawn by `contexture-bench`'s `bench-chart` binary).
//!
//! Sources, best first, for each criterion group (one table per crate: the group id's first
//! word):
//!
//! 1. the **paired** blocks the benches print (`<group>: paired, N rounds of … (medians):`,
//!    then `  <contender>  <ns> ns/<unit>` lines and `  <ours> / <anchor>: <ratio>` lines):
//!    ours and the anchors interleaved batch by batch, the medians over rounds, and the
//!    median of the per-round ratios — on a machine that drifts between minutes, the only
//!    fair comparison;
//! 2. otherwise criterion's **median** per benchmark (`estimates.json`), ratio of medians;
//! 3. CPython: the `PY <group> <ns>` lines of `crates/bench/python/*.py` (a separate process
//!    and time), and paired contenders named `CPython…`.

use std::{collections::BTreeMap, fmt::Write as _};

/// One benchmark as criterion measured it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    pub(crate) group: String,
    pub(crate) function: Option<String>,
    pub(crate) value: Option<String>,
    pub(crate) median_ns: f64,
}

/// One paired block of a bench's output.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Paired {
    pub(crate) group: String,
    /// `187 rounds of 200000 operations`.
    pub(crate) rounds: String,
    pub(crate) contenders: Vec<(String, f64)>,
    /// `(ours, anchor) → median of the per-round ratios ours ÷ anchor`.
    pub(crate) ratios: BTreeMap<(String, String), f64>,
}

/// A competitor's time and ours ÷ it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Versus {
    pub(crate) name: String,
    pub(crate) ns: f64,
    pub(crate) ratio: f64,
}

/// One row of a crate's table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) krate: String,
    pub(crate) operation: String,
    /// Whether this is the plain `contexture` contender (the one the chart shows).
    pub(crate) main: bool,
    pub(crate) ours_ns: f64,
    pub(crate) anchors: Vec<Versus>,
    pub(crate) cpython: Vec<Versus>,
    pub(crate) source: String,
}

/// Contenders that are a baseline (the same loop without us, a bare poll, a parallel
/// ceiling), not another crate: listed, never "the fastest Rust anchor" of the chart.
fn is_baseline(name: &str) -> bool {
    ["no_local", "bare_poll", "ceiling", "without"]
        .iter()
        .any(|word| name.contains(word))
}

fn is_ours(name: &str) -> bool {
    name.starts_with("contexture")
}

fn is_python(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("cpython") || lower.starts_with("python")
}

/// The paired blocks of a bench log.
pub(crate) fn parse_paired(log: &str) -> Vec<Paired> {
    let mut blocks = Vec::new();
    let mut current: Option<Paired> = None;
    // For a block printed without its group: the group criterion measured last.
    let mut last_group = String::new();
    for line in log.lines() {
        if let Some(id) = line.strip_prefix("Benchmarking ") {
            let id = id.split(": ").next().unwrap_or(id);
            last_group = id.split('/').next().unwrap_or(id).to_owned();
        }
        if let Some(block) = current.as_mut() {
            if let Some(body) = line.strip_prefix("  ") {
                let body = body.trim();
                let words: Vec<&str> = body.split_whitespace().collect();
                if let [name @ .., ns, unit] = words.as_slice() {
                    if unit.starts_with("ns/") && !name.is_empty() {
                        if let Ok(ns) = ns.parse::<f64>() {
                            block.contenders.push((name.join(" "), ns));
                            continue;
                        }
                    }
                }
                // `ours / anchor: 0.05 (anchor ÷ ours: 18.7)`: a small ratio printed with two
                // decimals is coarse, its inverse is not.
                let inverse = body
                    .split_once(" (anchor ÷ ours: ")
                    .and_then(|(_, rest)| rest.trim_end_matches(')').trim().parse::<f64>().ok())
                    .filter(|inverse| *inverse > 10.0);
                let body = body.split(" (anchor ÷ ours").next().unwrap_or(body);
                if let Some((pair, ratio)) = body.rsplit_once(": ") {
                    // `0.868 (0 of 2 rounds > 1)`: the number is the first word.
                    let ratio = ratio.split_whitespace().next().unwrap_or("");
                    if let (Some((ours, anchor)), Ok(ratio)) =
                        (pair.split_once(" / "), ratio.parse::<f64>())
                    {
                        let ratio = inverse.map_or(ratio, |inverse| 1.0 / inverse);
                        block
                            .ratios
                            .insert((ours.to_owned(), anchor.to_owned()), ratio);
                    }
                }
                continue;
            }
            blocks.extend(current.take());
        }
        if let Some(at) = line.find("paired, ") {
            if let Some(rest) = line[at + "paired, ".len()..].strip_suffix(" (medians):") {
                let mut group = line[..at].trim().trim_end_matches(':').trim().to_owned();
                if group.is_empty() {
                    group.clone_from(&last_group);
                }
                current = Some(Paired {
                    group,
                    rounds: rest.to_owned(),
                    ..Paired::default()
                });
            }
        }
    }
    blocks.extend(current);
    blocks
}

/// The crate a group belongs to: its first word.
fn crate_of(group: &str) -> String {
    group.split_whitespace().next().unwrap_or(group).to_owned()
}

/// The group without its crate word.
fn operation_of(group: &str) -> String {
    let krate = crate_of(group);
    group[krate.len()..].trim().to_owned()
}

/// `(variant)` of `contexture (variant)`, for the operation's name.
fn variant(ours: &str) -> Option<&str> {
    let rest = ours.strip_prefix("contexture")?.trim();
    (!rest.is_empty()).then_some(rest)
}

/// Every row: the paired blocks first, then criterion's groups no block covered (except
/// those that only drive an interleaved block: named `… (paired)`).
pub(crate) fn rows(
    samples: &[Sample],
    paired: &[Paired],
    python: &BTreeMap<String, f64>,
) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut covered: Vec<&str> = Vec::new();
    for block in paired {
        let ours: Vec<&(String, f64)> = block
            .contenders
            .iter()
            .filter(|(name, _)| is_ours(name))
            .collect();
        if ours.is_empty() {
            continue;
        }
        // A paired-only block (no criterion group of that name) that compares with CPython
        // belongs to the criterion group whose rows it completes: listed under its own name.
        covered.push(&block.group);
        for (index, (name, ns)) in ours.iter().enumerate() {
            let versus = |(anchor, anchor_ns): &(String, f64)| Versus {
                name: anchor.clone(),
                ns: *anchor_ns,
                ratio: block
                    .ratios
                    .get(&(name.clone(), anchor.clone()))
                    .copied()
                    .unwrap_or(ns / anchor_ns),
            };
            let others = block.contenders.iter().filter(|(n, _)| !is_ours(n));
            let anchors: Vec<Versus> = others
                .clone()
                .filter(|(n, _)| !is_python(n))
                .map(versus)
                .collect();
            let mut cpython: Vec<Versus> =
                others.filter(|(n, _)| is_python(n)).map(versus).collect();
            if let Some(&py) = python.get(&block.group) {
                cpython.push(Versus {
                    name: "CPython (separate run)".to_owned(),
                    ns: py,
                    ratio: ns / py,
                });
            }
            let mut operation = operation_of(&block.group);
            if let Some(variant) = variant(name) {
                operation = format!("{operation} {variant}");
            }
            rows.push(Row {
                krate: crate_of(&block.group),
                operation,
                main: index == 0 || variant(name).is_none(),
                ours_ns: *ns,
                anchors,
                cpython,
                source: format!("paired, {}", block.rounds),
            });
        }
    }

    // Criterion groups, in the order given, each value in numeric order.
    let mut keys: Vec<(&str, &Option<String>)> = Vec::new();
    for sample in samples {
        let key = (sample.group.as_str(), &sample.value);
        // A group named `… (paired)` only drives an interleaved block (printed under its
        // own title): its criterion medians time criterion's calls into the interleaving,
        // whose iteration counts differ per contender (a ping-pong starts its partner
        // thread per call), so they compare nothing; the block is the row.
        if !covered.contains(&key.0) && !key.0.ends_with("(paired)") && !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.sort_by(|a, b| {
        let index = |group: &str| samples.iter().position(|s| s.group == group);
        index(a.0)
            .cmp(&index(b.0))
            .then_with(|| crate::bench::compare_values(a.1, b.1))
    });
    for (group, value) in keys {
        let at: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.group == group && &s.value == value)
            .collect();
        let name = |s: &Sample| s.function.clone().unwrap_or_else(|| s.group.clone());
        let label = match value {
            Some(value) => format!("{group}/{value}"),
            None => group.to_owned(),
        };
        let py = python.get(&label).or_else(|| python.get(group)).copied();
        let ours: Vec<&&Sample> = at.iter().filter(|s| is_ours(&name(s))).collect();
        for (index, sample) in ours.iter().enumerate() {
            let ours_name = name(sample);
            let mut anchors: Vec<Versus> = at
                .iter()
                .filter(|s| !is_ours(&name(s)))
                .map(|s| Versus {
                    name: name(s),
                    ns: s.median_ns,
                    ratio: sample.median_ns / s.median_ns,
                })
                .collect();
            anchors.sort_by(|a, b| a.ns.total_cmp(&b.ns));
            let cpython = py
                .map(|py| Versus {
                    name: "CPython".to_owned(),
                    ns: py,
                    ratio: sample.median_ns / py,
                })
                .into_iter()
                .collect();
            let mut operation = operation_of(group);
            if let Some(value) = value {
                operation = format!("{operation}/{value}");
            }
            if let Some(variant) = variant(&ours_name) {
                operation = format!("{operation} {variant}");
            }
            rows.push(Row {
                krate: crate_of(group),
                operation,
                main: index == 0 || variant(&ours_name).is_none(),
                ours_ns: sample.median_ns,
                anchors,
                cpython,
                source: "criterion medians".to_owned(),
            });
        }
    }
    // One main row per operation: the plain contender when there is one.
    let mut seen: Vec<(String, String)> = Vec::new();
    for row in rows.iter_mut().filter(|row| row.main) {
        let key = (row.krate.clone(), row.source.clone() + &row.operation);
        if seen.contains(&key) {
            row.main = false;
        } else {
            seen.push(key);
        }
    }
    rows
}

/// The crates in the workspace's order, then any other.
fn crate_order(rows: &[Row]) -> Vec<String> {
    let mut order: Vec<String> = ["local", "ctxvar", "sync", "pool", "actor"]
        .iter()
        .map(|s| (*s).to_owned())
        .filter(|krate| rows.iter().any(|row| &row.krate == krate))
        .collect();
    for row in rows {
        if !order.contains(&row.krate) {
            order.push(row.krate.clone());
        }
    }
    order
}

/// `1.35×`; below 0.1 with two significant digits.
fn times(ratio: f64) -> String {
    if ratio < 0.1 {
        format!("{ratio:.3}×")
    } else {
        format!("{ratio:.2}×")
    }
}

/// Everything the report says about where and how it was measured.
#[derive(Debug, Clone, Default)]
pub(crate) struct Header {
    pub(crate) command: String,
    pub(crate) started: String,
    pub(crate) finished: String,
    pub(crate) cpu: String,
    pub(crate) cores: String,
    pub(crate) load: String,
    pub(crate) rustc: String,
    pub(crate) python: String,
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// `docs/benchmarks.md`.
pub(crate) fn render(header: &Header, rows: &[Row]) -> String {
    let mut out = String::from("# contexture benchmarks\n\n");
    let _ = write!(
        out,
        "Generated by `{}` (do not edit by hand; the chart is [`benchmarks.svg`](benchmarks.svg)).\n\n\
         - Machine: {} ({} logical cores), load average {}.\n\
         - Run: {} to {} (UTC); {}; {}.\n\
         - **A shared machine**: other sessions (builds, tests, other benchmarks) ran on the same \
         cores during this run. Criterion's medians move by ±20–50 % between minutes here; \
         the rows marked *paired* (ours and the anchors interleaved batch by batch in the same \
         rounds, the median of the per-round ratios) are the comparison to trust.\n\
         - Times are nanoseconds per operation (median); a ratio is ours ÷ the other, so \
         below 1× means contexture is faster. CPython 3 numbers come from \
         `crates/bench/python/*.py` (`timeit`-style loops, a separate process and time) \
         unless the row is paired with a CPython contender.\n\n",
        header.command,
        header.cpu,
        header.cores,
        header.load,
        header.started,
        header.finished,
        header.rustc,
        header.python,
    );
    for krate in crate_order(rows) {
        let _ = write!(out, "## {krate}\n\n{}\n", crate_table(&krate, rows));
    }
    out
}

/// `crates/<krate>/benchmarks.md`: the crate's table of the report, with where and when it
/// was measured; the crate's docs include it (`#![doc = include_str!(...)]`), so that they
/// quote the report and nothing else.
pub(crate) fn render_crate(header: &Header, krate: &str, rows: &[Row]) -> String {
    format!(
        "The crate's rows of the workspace benchmark report (`docs/benchmarks.md`, written by \
         `{}`; do not edit by hand): {} to {} UTC on {} ({} logical cores, shared with other \
         work: load average {}); {}. Nanoseconds per operation (medians); a ratio is ours ÷ the \
         other, below 1× means contexture is faster. The *paired* rows (ours and the anchors \
         interleaved batch by batch, medians of the per-round ratios) are the comparison to \
         trust; criterion's rows ran one contender after another.\n\n{}",
        header.command,
        header.started,
        header.finished,
        header.cpu,
        header.cores,
        header.load,
        header.rustc,
        crate_table(krate, rows),
    )
}

/// One crate's table.
fn crate_table(krate: &str, rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "| operation | ours (ns) | Rust anchors: ns (ours ÷ anchor) | CPython: ns (ours ÷ CPython) | measured |\n|---|---:|---|---|---|\n"
    );
    for row in rows.iter().filter(|row| row.krate == krate) {
        let list = |items: &[Versus]| {
            if items.is_empty() {
                "—".to_owned()
            } else {
                items
                    .iter()
                    .map(|v| {
                        format!(
                            "{} {} ({})",
                            v.name,
                            crate::bench::nanos(v.ns),
                            times(v.ratio)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&row.operation),
            crate::bench::nanos(row.ours_ns),
            cell(&list(&row.anchors)),
            cell(&list(&row.cpython)),
            cell(&row.source),
        );
    }
    out
}

/// The chart's data: `crate  operation  ours  best_anchor  best_anchor_ns  cpython_ns`.
pub(crate) fn chart_data(rows: &[Row]) -> String {
    let mut out =
        String::from("# crate\toperation\tours_ns\tbest_anchor\tbest_anchor_ns\tcpython_ns\n");
    let clean = |text: &str| text.replace(['\t', '\n'], " ");
    let order = crate_order(rows);
    let mut main: Vec<&Row> = rows.iter().filter(|row| row.main).collect();
    // The tables' order: by crate, then as measured.
    main.sort_by_key(|row| order.iter().position(|krate| *krate == row.krate));
    for row in main {
        let best = row
            .anchors
            .iter()
            .filter(|v| !is_baseline(&v.name))
            .min_by(|a, b| a.ns.total_cmp(&b.ns));
        // CPython paired in the same rounds wins over a separate run.
        let cpython = row.cpython.first().map(|v| v.ns);
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}",
            clean(&row.krate),
            clean(&row.operation),
            row.ours_ns,
            best.map_or_else(|| "-".to_owned(), |v| clean(&v.name)),
            best.map_or_else(|| "-".to_owned(), |v| v.ns.to_string()),
            cpython.map_or_else(|| "-".to_owned(), |ns| ns.to_string()),
        );
    }
    out
}

/// `YYYY-MM-DD HH:MM` (UTC) of seconds since the Unix epoch.
pub(crate) fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rest / 3_600,
        rest % 3_600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
Benchmarking x
actor tell (2 workers): paired, 187 rounds of 200000 operations (medians):
  contexture                              237.7 ns/op
  contexture (1 var set)                  255.0 ns/op
  tokio mpsc+task                         175.9 ns/op
  CPython seed actor                     2858.1 ns/op
  contexture / tokio mpsc+task: 1.35 (anchor ÷ ours: 0.7)
  contexture (1 var set) / tokio mpsc+task: 1.46 (anchor ÷ ours: 0.7)
  contexture / CPython seed actor: 0.09 (anchor ÷ ours: 10.6)
  contexture (1 var set) / contexture: 1.08
next line
Benchmarking pool submit/contexture: Warming up for 3.0000 s
paired, 9 rounds of up to 100000 jobs (medians):
  contexture                    151.0 ns/job
  threadpool+channel            161.0 ns/job
  contexture / best anchor of the round: 0.94
";

    #[test]
    fn parses_paired_blocks() {
        let blocks = parse_paired(LOG);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].group, "actor tell (2 workers)");
        assert_eq!(blocks[0].rounds, "187 rounds of 200000 operations");
        assert_eq!(blocks[0].contenders.len(), 4);
        assert_eq!(
            blocks[0].contenders[3],
            ("CPython seed actor".to_owned(), 2858.1)
        );
        assert_eq!(
            blocks[0].ratios[&("contexture".to_owned(), "tokio mpsc+task".to_owned())],
            1.35
        );
        assert!(
            (blocks[0].ratios[&("contexture".to_owned(), "CPython seed actor".to_owned())]
                - 1.0 / 10.6)
                .abs()
                < 1e-12,
            "a small ratio comes from its finer inverse"
        );
        assert_eq!(blocks[1].group, "pool submit");
        assert_eq!(blocks[1].contenders[1].1, 161.0);
    }

    #[test]
    fn an_interleaved_report_is_a_block_of_its_title() {
        // What `contexture_bench::interleaved::Interleaved::report` prints.
        let log = "\nsync rlock x3 nested, tight loop: per nest of three: paired, 21 rounds, \
                   alternating order (medians):\n    contexture     21.70 ns/op\n    \
                   parking_lot ReentrantMutex     23.10 ns/op\n";
        let blocks = parse_paired(log);
        assert_eq!(blocks.len(), 1);
        assert_eq!(
            blocks[0].group,
            "sync rlock x3 nested, tight loop: per nest of three"
        );
        assert_eq!(blocks[0].contenders.len(), 2);

        let log = "pool fresh process submit+result per job (3 batches): paired, 2 rounds of a \
                   new process per contender (medians):\n  contexture   411.7 ns/job\n  \
                   threadpool+mpsc   514.5 ns/job\n  contexture / threadpool+mpsc: 0.868 (0 of \
                   2 rounds > 1)\n";
        let blocks = parse_paired(log);
        assert_eq!(
            blocks[0].ratios[&("contexture".to_owned(), "threadpool+mpsc".to_owned())],
            0.868,
            "a ratio followed by its round count"
        );
    }

    #[test]
    fn a_criterion_group_that_only_drives_a_paired_block_is_no_row() {
        let sample = |group: &str, function: &str, median_ns| Sample {
            group: group.to_owned(),
            function: Some(function.to_owned()),
            value: None,
            median_ns,
        };
        let samples = [
            sample("sync condition ping-pong (paired)", "contexture", 69179.0),
            sample("sync condition ping-pong (paired)", "parking_lot", 25825.0),
            sample("sync condition ping-pong", "contexture", 3810.0),
            sample("sync condition ping-pong", "parking_lot", 3720.0),
        ];
        let log = "\nsync condition ping-pong: per round trip: paired, 147 rounds, alternating \
                   order (medians):\n    contexture    51536.00 ns/op\n    parking_lot   \
                   49289.00 ns/op\n    contexture / parking_lot: 1.020 (80 of 147 rounds > 1)\n";
        let rows = rows(&samples, &parse_paired(log), &BTreeMap::new());
        let operations: Vec<&str> = rows.iter().map(|r| r.operation.as_str()).collect();
        assert_eq!(
            operations,
            ["condition ping-pong: per round trip", "condition ping-pong"]
        );
    }

    #[test]
    fn a_crate_table_holds_that_crate_and_the_run() {
        let rows = rows(&[], &parse_paired(LOG), &BTreeMap::new());
        let header = Header {
            started: "2026-12-03 14:31".to_owned(),
            ..Header::default()
        };
        let actor = render_crate(&header, "actor", &rows);
        assert!(actor.contains("2026-12-03 14:31"), "{actor}");
        assert!(actor.contains("| tell (2 workers) | 237.7 |"), "{actor}");
        assert!(!actor.contains("submit"), "{actor}");
    }

    #[test]
    fn the_spawn_and_contended_lock_blocks_become_paired_rows() {
        // What `paired::run_rotating` (local) and `Interleaved::report` (sync) print, with
        // criterion's lines of the sync group around it.
        let log = "\
Benchmarking sync lock 2 threads contended (paired)/std: Analyzing
sync lock 2 threads contended (paired)/std
                        time:   [28.195 ns 31.023 ns 34.390 ns]

sync lock 2 threads contended: per acquire+release: paired, 4932 rounds, alternating order (medians):
    contexture                               24.99 ns/op
    parking_lot                              34.12 ns/op
    std                                      24.78 ns/op
    contexture / parking_lot: 0.803 (1591 of 4932 rounds > 1)
    contexture / std: 1.000 (2474 of 4932 rounds > 1)

local spawn+touch+join (paired): paired, 201 rounds, alternating order (medians):
    contexture                            25727.26 ns/op
    no_local                              24951.69 ns/op
    thread_local                          25423.88 ns/op
    contexture / no_local: 1.020 (171 of 201 rounds > 1)
    contexture / thread_local: 1.016 (167 of 201 rounds > 1)

";
        let blocks = parse_paired(log);
        assert_eq!(blocks.len(), 2, "{blocks:?}");
        assert_eq!(
            blocks[0].group,
            "sync lock 2 threads contended: per acquire+release"
        );
        assert_eq!(blocks[0].rounds, "4932 rounds, alternating order");
        assert_eq!(
            blocks[0].ratios[&("contexture".to_owned(), "parking_lot".to_owned())],
            0.803
        );
        assert_eq!(blocks[1].group, "local spawn+touch+join (paired)");
        assert_eq!(blocks[1].contenders.len(), 3);
        assert_eq!(
            blocks[1].ratios[&("contexture".to_owned(), "no_local".to_owned())],
            1.02
        );

        let rows = rows(&[], &blocks, &BTreeMap::new());
        let header = Header::default();
        let local = render_crate(&header, "local", &rows);
        assert!(
            local.contains(
                "| spawn+touch+join (paired) | 25727 | no_local 24952 (1.02×); thread_local 25424 (1.02×) | — | paired, 201 rounds, alternating order |"
            ),
            "{local}"
        );
        let sync = render_crate(&header, "sync", &rows);
        assert!(
            sync.contains(
                "| lock 2 threads contended: per acquire+release | 25.0 | parking_lot 34.1 (0.80×); std 24.8 (1.00×) | — | paired, 4932 rounds, alternating order |"
            ),
            "{sync}"
        );
        // `no_local` is a baseline, not the chart's fastest Rust anchor.
        let data = chart_data(&rows);
        assert!(
            data.contains("local\tspawn+touch+join (paired)\t25727.26\tthread_local\t"),
            "{data}"
        );
    }

    fn sample(group: &str, function: &str, value: Option<&str>, ns: f64) -> Sample {
        Sample {
            group: group.to_owned(),
            function: Some(function.to_owned()),
            value: value.map(str::to_owned),
            median_ns: ns,
        }
    }

    #[test]
    fn paired_rows_win_and_criterion_fills_the_rest() {
        let samples = [
            sample("actor tell (2 workers)", "contexture", None, 999.0),
            sample("actor tell (2 workers)", "tokio mpsc+task", None, 1.0),
            sample("ctxvar get", "contexture", Some("1000"), 2.0),
            sample("ctxvar get", "contexture", Some("1"), 1.9),
            sample("ctxvar get", "opentelemetry", Some("1"), 5.2),
            sample("ctxvar get", "tokio_task_local", Some("1"), 1.1),
        ];
        let python = BTreeMap::from([
            ("ctxvar get".to_owned(), 19.8),
            ("actor tell (2 workers)".to_owned(), 1491.0),
        ]);
        let rows = rows(&samples, &parse_paired(LOG), &python);
        let names: Vec<(&str, &str, bool)> = rows
            .iter()
            .map(|r| (r.krate.as_str(), r.operation.as_str(), r.main))
            .collect();
        assert_eq!(
            names,
            [
                ("actor", "tell (2 workers)", true),
                ("actor", "tell (2 workers) (1 var set)", false),
                ("pool", "submit", true),
                ("ctxvar", "get/1", true),
                ("ctxvar", "get/1000", true),
            ]
        );
        let tell = &rows[0];
        assert_eq!(tell.ours_ns, 237.7);
        assert_eq!(tell.anchors[0].ratio, 1.35);
        assert_eq!(tell.cpython[0].name, "CPython seed actor");
        assert_eq!(tell.cpython[1].ns, 1491.0);
        let get = &rows[3];
        assert_eq!(get.anchors[0].name, "tokio_task_local");
        assert!((get.cpython[0].ratio - 1.9 / 19.8).abs() < 1e-12);

        let report = render(&Header::default(), &rows);
        assert!(report.contains("## actor\n"), "{report}");
        assert!(report.contains("## ctxvar\n"), "{report}");
        assert!(report.contains(
            "| tell (2 workers) | 237.7 | tokio mpsc+task 175.9 (1.35×) | CPython seed actor 2858 (0.094×); CPython (separate run) 1491 (0.16×) | paired, 187 rounds of 200000 operations |"
        ), "{report}");
        assert!(report.find("## ctxvar").unwrap() < report.find("## pool").unwrap());

        let data = chart_data(&rows);
        assert!(
            data.contains("actor\ttell (2 workers)\t237.7\ttokio mpsc+task\t175.9\t2858.1\n"),
            "{data}"
        );
        assert!(!data.contains("1 var set"), "{data}");
        assert!(
            data.find("ctxvar\t").unwrap() < data.find("actor\t").unwrap(),
            "{data}"
        );
        assert!(
            data.contains("ctxvar\tget/1\t1.9\ttokio_task_local\t1.1\t19.8\n"),
            "{data}"
        );
    }

    #[test]
    fn formats_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00");
        assert_eq!(utc(1_796_300_000), "2026-12-03 12:13");
    }
}
