//! Tidy checks run with the `fmt` step: every markdown table in `docs/` (recursively) and in
//! the READMEs (`README.md`, `crates/*/README.md`) is unbroken.
//!
//! A table is a run of consecutive lines starting with `|`: a header, a separator
//! (`|---|`), rows. It is broken when a blank line splits it (blank lines followed by more
//! rows that do not start a table of their own: they render as plain text), or when a row
//! has another number of cells (unescaped `|`s) than the header.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use crate::util;

/// Checks every markdown table of the workspace; the error lists each problem as
/// `path:line: what`.
pub(crate) fn markdown_tables() -> Result<(), Vec<String>> {
    let root = util::root();
    let mut problems = Vec::new();
    let files = match markdown_files(&root) {
        Ok(files) => files,
        Err(err) => return Err(vec![format!("cannot list the markdown files: {err}")]),
    };
    for file in files {
        let shown = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        match fs::read_to_string(&file) {
            Ok(text) => problems.extend(
                check_tables(&text)
                    .into_iter()
                    .map(|(line, what)| format!("{shown}:{line}: {what}")),
            ),
            Err(err) => problems.push(format!("{shown}: cannot read: {err}")),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// `docs/**/*.md`, `README.md` and `crates/*/README.md`, sorted.
fn markdown_files(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    collect_md(&root.join("docs"), &mut files)?;
    files.push(root.join("README.md"));
    for entry in fs::read_dir(root.join("crates"))? {
        let readme = entry?.path().join("README.md");
        if readme.is_file() {
            files.push(readme);
        }
    }
    files.retain(|f| f.is_file());
    files.sort();
    Ok(files)
}

fn collect_md(dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_md(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    Ok(())
}

/// The problems of the tables in `text`: (1-based line, what).
fn check_tables(text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let is_row = |i: usize| {
        lines
            .get(i)
            .is_some_and(|l| l.trim_start().starts_with('|'))
    };
    let mut problems = Vec::new();
    let mut in_fence = false;
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if in_fence || !is_row(i) {
            i += 1;
            continue;
        }
        // A table: lines i..end.
        let start = i;
        let mut end = i;
        while is_row(end) {
            end += 1;
        }
        let header_cells = cells(lines[start]);
        for (k, line) in lines.iter().enumerate().take(end).skip(start + 1) {
            let n = cells(line);
            if n != header_cells && !is_separator(line) {
                problems.push((
                    k + 1,
                    format!(
                        "table row has {n} cells, its header (line {}) has {header_cells}",
                        start + 1
                    ),
                ));
            }
        }
        // Blank lines, then more rows that do not start a table of their own (with a
        // separator under their first row).
        let mut next = end;
        while lines.get(next).is_some_and(|l| l.trim().is_empty()) {
            next += 1;
        }
        if next > end && is_row(next) && !lines.get(next + 1).is_some_and(|l| is_separator(l)) {
            problems.push((
                end + 1,
                format!(
                    "blank line inside the table that starts at line {}: the rows after it \
                     render as plain text",
                    start + 1
                ),
            ));
            // Its rows are part of the table above: skip them.
            end = next;
            while is_row(end) {
                end += 1;
            }
        }
        i = end;
    }
    problems
}

/// `|---|:--:|` and the like.
fn is_separator(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('|') && t.contains('-') && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

/// Number of cells of a row: its unescaped `|`s, less one (a row starts and ends with one).
fn cells(line: &str) -> usize {
    let t = line.trim();
    let mut pipes: usize = 0;
    let mut escaped = false;
    for c in t.chars() {
        match c {
            '\\' if !escaped => {
                escaped = true;
                continue;
            }
            '|' if !escaped => pipes += 1,
            _ => {}
        }
        escaped = false;
    }
    if t.ends_with('|') && !t.ends_with("\\|") {
        pipes.saturating_sub(1)
    } else {
        pipes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_table_passes() {
        let text = "# T\n\n| a | b |\n|---|:-:|\n| 1 | 2 |\n| `x\\|y` | 3 |\n\ntext\n";
        assert_eq!(check_tables(text), vec![]);
    }

    #[test]
    fn a_blank_line_inside_a_table_is_reported_at_the_blank_line() {
        let text = "| a | b |\n|---|---|\n| 1 | 2 |\n\n| 3 | 4 |\n| 5 | 6 |\n";
        let problems = check_tables(text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, 4);
        assert!(problems[0].1.contains("blank line"), "{problems:?}");
    }

    #[test]
    fn two_tables_separated_by_a_blank_line_pass() {
        let text = "| a |\n|---|\n| 1 |\n\n| b | c |\n|---|---|\n| 2 | 3 |\n";
        assert_eq!(check_tables(text), vec![]);
    }

    #[test]
    fn a_row_with_another_cell_count_is_reported() {
        let text = "| a | b |\n|---|---|\n| 1 | 2 | 3 |\n| 4 |\n";
        let problems = check_tables(text);
        assert_eq!(problems.iter().map(|p| p.0).collect::<Vec<_>>(), [3, 4]);
        assert!(problems[0].1.contains("3 cells"), "{problems:?}");
    }

    #[test]
    fn pipes_in_code_fences_are_not_tables() {
        assert_eq!(check_tables("```text\n| a |\n\n| b |\n```\n"), vec![]);
    }
}
