//! `bench-chart DATA.tsv OUT.svg`: the chart of the benchmark report (`cargo xtask bench`
//! writes the data and runs this).
//!
//! One line per operation: ours, the best (fastest) Rust anchor and CPython, in nanoseconds
//! on a log scale. The data is tab-separated, one operation a line:
//! `crate  operation  ours_ns  best_anchor_name  best_anchor_ns  cpython_ns`, with `-` for a
//! missing value; lines starting with `#` are comments.

use std::{env, error::Error, fs, process::ExitCode};

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

/// One operation of the chart.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    label: String,
    ours: f64,
    anchor: Option<(String, f64)>,
    cpython: Option<f64>,
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let [data, out] = args.as_slice() else {
        eprintln!("usage: bench-chart DATA.tsv OUT.svg");
        return ExitCode::from(2);
    };
    let result = fs::read_to_string(data)
        .map_err(|err| format!("{data}: {err}").into())
        .and_then(|text| draw(&parse(&text), out));
    match result {
        Ok(()) => {
            println!("chart written to {out}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("bench-chart: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The rows of the data file; malformed lines are skipped.
fn parse(text: &str) -> Vec<Row> {
    let number = |cell: &str| cell.trim().parse::<f64>().ok().filter(|ns| *ns > 0.0);
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let [krate, operation, ours, anchor, anchor_ns, cpython] = cells.as_slice() else {
                return None;
            };
            Some(Row {
                label: format!("{krate}: {operation}"),
                ours: number(ours)?,
                anchor: number(anchor_ns).map(|ns| (anchor.trim().to_owned(), ns)),
                cpython: number(cpython),
            })
        })
        .collect()
}

/// `1.5 ns`, `12 µs`, …
fn human(ns: f64) -> String {
    match ns {
        ns if ns >= 1e6 => format!("{} ms", trim(ns / 1e6)),
        ns if ns >= 1e3 => format!("{} µs", trim(ns / 1e3)),
        ns => format!("{} ns", trim(ns)),
    }
}

fn trim(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

/// A label that fits the label area.
fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_owned()
    } else {
        let mut short: String = label.chars().take(max - 1).collect();
        short.push('…');
        short
    }
}

fn draw(rows: &[Row], out: &str) -> Result<(), Box<dyn Error>> {
    if rows.is_empty() {
        return Err("no operation with a measured value in the data".into());
    }
    let values = rows.iter().flat_map(|row| {
        [
            Some(row.ours),
            row.anchor.as_ref().map(|a| a.1),
            row.cpython,
        ]
        .into_iter()
        .flatten()
    });
    let (low, high) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), ns| {
        (lo.min(ns), hi.max(ns))
    });
    let (low, high) = (low / 2.0, high * 2.0);

    let height = 120 + 26 * rows.len() as u32;
    let root = SVGBackend::new(out, (1200, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "contexture vs the fastest Rust anchor vs CPython: time per operation (log scale)",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(520)
        .build_cartesian_2d((low..high).log_scale(), (0..rows.len()).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows.len())
        .y_label_formatter(&|value| match value {
            SegmentValue::CenterOf(i) => rows
                .get(rows.len().wrapping_sub(1 + *i))
                .map(|row| shorten(&row.label, 80))
                .unwrap_or_default(),
            _ => String::new(),
        })
        .y_label_style(("sans-serif", 12))
        .x_desc("time per operation (lower is better)")
        .x_label_formatter(&|ns| human(*ns))
        .draw()?;

    // The first operation at the top.
    let at = |i: usize| SegmentValue::CenterOf(rows.len() - 1 - i);
    let ours = RGBColor(0x1f, 0x77, 0xb4);
    let anchor = RGBColor(0x2c, 0xa0, 0x2c);
    let cpython = RGBColor(0xd6, 0x27, 0x28);
    chart.draw_series(rows.iter().enumerate().map(|(i, row)| {
        let line = [
            Some(row.ours),
            row.anchor.as_ref().map(|a| a.1),
            row.cpython,
        ];
        let lo = line.iter().flatten().copied().fold(f64::INFINITY, f64::min);
        let hi = line.iter().flatten().copied().fold(0.0, f64::max);
        PathElement::new(vec![(lo, at(i)), (hi, at(i))], RGBColor(200, 200, 200))
    }))?;
    chart
        .draw_series(rows.iter().enumerate().filter_map(|(i, row)| {
            row.cpython
                .map(|ns| Cross::new((ns, at(i)), 5, cpython.stroke_width(2)))
        }))?
        .label("CPython 3.11")
        .legend(move |(x, y)| Cross::new((x, y), 5, cpython.stroke_width(2)));
    chart
        .draw_series(rows.iter().enumerate().filter_map(|(i, row)| {
            row.anchor
                .as_ref()
                .map(|(_, ns)| TriangleMarker::new((*ns, at(i)), 6, anchor.filled()))
        }))?
        .label("fastest Rust anchor")
        .legend(move |(x, y)| TriangleMarker::new((x, y), 6, anchor.filled()));
    chart
        .draw_series(
            rows.iter()
                .enumerate()
                .map(|(i, row)| Circle::new((row.ours, at(i)), 5, ours.filled())),
        )?
        .label("contexture")
        .legend(move |(x, y)| Circle::new((x, y), 5, ours.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_skips_bad_lines() {
        let text = "# crate\top\tours\tanchor\tanchor_ns\tcpython\n\
                    sync\tlock\t5.2\tparking_lot\t5.1\t151\n\
                    pool\tmap\t321\t-\t-\t-\n\
                    bad line\n\
                    local\tget\t-\tthread_local\t2\t-\n";
        let rows = parse(text);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].label, "sync: lock");
        assert_eq!(rows[0].anchor, Some(("parking_lot".to_owned(), 5.1)));
        assert_eq!(rows[0].cpython, Some(151.0));
        assert_eq!(rows[1].anchor, None);
    }

    #[test]
    fn formats_times_and_labels() {
        assert_eq!(human(1.5), "1.5 ns");
        assert_eq!(human(12_000.0), "12 µs");
        assert_eq!(human(3_500_000.0), "3.5 ms");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }

    #[test]
    fn draws_an_svg() {
        let dir = env::temp_dir().join(format!("bench-chart-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let out = dir.join("chart.svg");
        let rows = parse("sync\tlock\t5.2\tparking_lot\t5.1\t151\npool\tmap\t321\t-\t-\t13000\n");
        draw(&rows, out.to_str().unwrap()).unwrap();
        let svg = fs::read_to_string(&out).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
        assert!(svg.contains("sync: lock"));
        assert!(svg.contains("CPython 3.11"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
