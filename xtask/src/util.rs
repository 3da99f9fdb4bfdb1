//! Helpers shared by the tasks: workspace paths, cargo commands, streaming runs, crate discovery.

use std::{
    env,
    ffi::OsString,
    fs, io,
    path::{Path, PathBuf},
    process::{Command, ExitStatus, Stdio},
    time::Duration,
};

/// The workspace root: the parent of `xtask/`.
///
/// `cargo run` sets `CARGO_MANIFEST_DIR` at run time; the value baked in at compile time is
/// the fallback for running the binary directly.
pub(crate) fn root() -> PathBuf {
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or(manifest_dir)
}

/// The cargo target directory: `$CARGO_TARGET_DIR` (relative to the root) or `<root>/target`.
pub(crate) fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}

/// A `cargo` command (through `$CARGO`, else `cargo`) running in the workspace root.
pub(crate) fn cargo() -> Command {
    let program = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(program);
    cmd.current_dir(root());
    cmd
}

/// A `cargo +nightly` command running in the workspace root.
pub(crate) fn cargo_nightly() -> Command {
    cargo_toolchain("nightly")
}

/// A `cargo +<toolchain>` command running in the workspace root.
///
/// `$CARGO` is the toolchain's own cargo binary, which does not understand `+toolchain`, so
/// this goes through the rustup proxy (`$CARGO_HOME/bin/cargo`, else `~/.cargo/bin/cargo`,
/// else `cargo` on `PATH`). `RUSTUP_TOOLCHAIN` is removed so that the outer toolchain does
/// not leak into the other one.
pub(crate) fn cargo_toolchain(toolchain: &str) -> Command {
    let proxy = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|home| {
            home.join("bin")
                .join(format!("cargo{}", env::consts::EXE_SUFFIX))
        })
        .filter(|path| path.is_file())
        .map(PathBuf::into_os_string)
        .unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(proxy);
    cmd.current_dir(root())
        .env_remove("RUSTUP_TOOLCHAIN")
        .arg(format!("+{toolchain}"));
    cmd
}

/// Shows a command the way a user would type it: `ENV=value cargo args…`.
pub(crate) fn display(cmd: &Command) -> String {
    let mut parts = Vec::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            parts.push(format!(
                "{}={}",
                key.to_string_lossy(),
                quote(&value.to_string_lossy())
            ));
        }
    }
    let program = PathBuf::from(cmd.get_program());
    let program = program
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cargo".to_owned());
    parts.push(program);
    parts.extend(cmd.get_args().map(|arg| quote(&arg.to_string_lossy())));
    parts.join(" ")
}

fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=+:,@%".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Runs `cmd` with its output going straight to ours, after printing `$ <command>`.
pub(crate) fn run_streaming(cmd: &mut Command) -> io::Result<ExitStatus> {
    println!("$ {}", display(cmd));
    flush();
    cmd.status()
}

/// Runs `cmd` with its output captured; `Ok` holds stdout when it exits successfully,
/// `Err` a one-line reason otherwise.
pub(crate) fn run_captured(cmd: &mut Command) -> Result<String, String> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("`{}` could not start: {err}", display(cmd)))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .map(str::trim)
            .rfind(|line| !line.is_empty())
            .unwrap_or("no error output");
        Err(format!(
            "`{}` failed ({}): {last}",
            display(cmd),
            output.status
        ))
    }
}

/// Flushes stdout so our banners and the child's output come out in order.
pub(crate) fn flush() {
    use io::Write as _;
    // Nothing useful can be done when stdout is gone.
    let _ = io::stdout().flush();
}

/// `12.3s`.
pub(crate) fn secs(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// A banner line: `==== text ====…` padded to a fixed width.
pub(crate) fn banner(text: &str) -> String {
    let line = format!("==== {text} ");
    let pad = 78usize.saturating_sub(line.chars().count()).max(4);
    format!("{line}{}", "=".repeat(pad))
}

/// A crate under `crates/`.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// The `name = "..."` of its `[package]` section.
    pub(crate) package: String,
    /// Its folder.
    pub(crate) dir: PathBuf,
    /// The text of its `Cargo.toml`.
    pub(crate) manifest: String,
}

/// Every `crates/*/Cargo.toml` that has a `[package]` name, sorted by folder name.
pub(crate) fn crate_members() -> Vec<Member> {
    let Ok(entries) = fs::read_dir(root().join("crates")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .filter_map(|dir| {
            let manifest = fs::read_to_string(dir.join("Cargo.toml")).ok()?;
            let package = package_name(&manifest)?;
            Some(Member {
                package,
                dir,
                manifest,
            })
        })
        .collect()
}

/// The `name = "..."` line of the `[package]` section of a `Cargo.toml`.
pub(crate) fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if !in_package {
            continue;
        }
        let Some(rest) = line.strip_prefix("name") else {
            continue;
        };
        let Some(value) = rest.trim_start().strip_prefix('=') else {
            continue;
        };
        let value = value.trim();
        let quote = value.chars().next()?;
        if quote != '"' && quote != '\'' {
            continue;
        }
        let value = &value[1..];
        return value.find(quote).map(|end| value[..end].to_owned());
    }
    None
}

/// Whether `word` occurs in `text` as a whole token (not inside an identifier such as
/// `contexture_loom` or `unsafe_code`), outside lines that start with `comment` (`//` for
/// Rust, `#` for TOML).
pub(crate) fn has_token(text: &str, word: &str, comment: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.lines()
        .map(str::trim_start)
        .filter(|line| !line.starts_with(comment))
        .any(|line| {
            line.match_indices(word).any(|(at, _)| {
                let before = line[..at].chars().next_back();
                let after = line[at + word.len()..].chars().next();
                !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
            })
        })
}

/// Every `.rs` file under `dir`, recursively, sorted.
pub(crate) fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_name_reads_the_package_section_only() {
        let manifest = "[workspace]\nname = \"no\"\n\n[package]\n# c\nname   = \"contexture-local\"\nversion = \"1\"\n[dependencies]\nname = \"no\"\n";
        assert_eq!(package_name(manifest).as_deref(), Some("contexture-local"));
        assert_eq!(package_name("[dependencies]\nname = \"x\"\n"), None);
    }

    #[test]
    fn tokens_ignore_identifiers_and_comments() {
        assert!(has_token("loom.workspace = true", "loom", "#"));
        assert!(has_token("[dependencies]\nloom = \"0.7\"", "loom", "#"));
        assert!(has_token(
            "[target.'cfg(x)'.dependencies.loom]",
            "loom",
            "#"
        ));
        let cfg_only = "[target.'cfg(contexture_loom)'.dependencies]";
        assert!(!has_token(cfg_only, "loom", "#"));
        assert!(!has_token("# loom is not used", "loom", "#"));
        assert!(has_token("let x = unsafe { f() };", "unsafe", "//"));
        assert!(has_token("#[inline] pub unsafe fn f() {}", "unsafe", "//"));
        assert!(!has_token("#![forbid(unsafe_code)]", "unsafe", "//"));
        assert!(!has_token(
            "#![deny(unsafe_op_in_unsafe_fn)]",
            "unsafe",
            "//"
        ));
        assert!(!has_token("/// never unsafe", "unsafe", "//"));
    }
}
