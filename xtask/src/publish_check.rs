//! `cargo xtask publish-check`: is every published crate ready for crates.io?
//!
//! The crates come from `cargo metadata` (every workspace member whose `publish` is not
//! `false`), so a new crate is checked without touching this file. Per crate:
//!
//! - the registry page: `description`, 1 to 5 valid `keywords`, 1 to 5 `categories` that are
//!   crates.io slugs, `license`, `repository`, `rust-version`, a `readme` that exists;
//! - the package (`cargo package --list`): the readme and a license file for each license of
//!   the expression (`LICENSE-MIT`, `LICENSE-APACHE`) are in it;
//! - docs.rs: `[package.metadata.docs.rs]` with `all-features = true` and
//!   `rustdoc-args = ["--cfg", "docsrs"]`, and the library root has
//!   `#![cfg_attr(docsrs, feature(doc_cfg))]` (feature badges on docs.rs);
//! - no path-only dependency: every non-dev path dependency also names a version.
//!
//! Then the docs as docs.rs builds them (nightly, `--cfg docsrs`, all features, `-D warnings`;
//! NOT CHECKED without a nightly toolchain), and `cargo publish --workspace --dry-run`: each crate is packaged and its package built
//! on its own, in dependency order, the unpublished crates it depends on served from a
//! temporary local registry. That needs cargo >= 1.90; an older cargo fails this check with
//! a message saying so (there is no faithful way to verify unpublished interdependent
//! packages before 1.90). `--allow-dirty` is passed so that a local run checks the working
//! tree as it is; CI's tree is clean anyway.

use std::process::ExitCode;

use crate::{json::Json, util};

/// The crates.io category slugs (<https://crates.io/category_slugs>).
const CATEGORIES: &[&str] = &[
    "accessibility",
    "aerospace",
    "aerospace::drones",
    "aerospace::protocols",
    "aerospace::simulation",
    "aerospace::space-protocols",
    "aerospace::unmanned-aerial-vehicles",
    "algorithms",
    "api-bindings",
    "asynchronous",
    "authentication",
    "caching",
    "command-line-interface",
    "command-line-utilities",
    "compilers",
    "compression",
    "computer-vision",
    "concurrency",
    "config",
    "cryptography",
    "cryptography::cryptocurrencies",
    "data-structures",
    "database",
    "database-implementations",
    "date-and-time",
    "development-tools",
    "development-tools::build-utils",
    "development-tools::cargo-plugins",
    "development-tools::debugging",
    "development-tools::ffi",
    "development-tools::procedural-macro-helpers",
    "development-tools::profiling",
    "development-tools::testing",
    "email",
    "embedded",
    "emulators",
    "encoding",
    "external-ffi-bindings",
    "filesystem",
    "finance",
    "game-development",
    "game-engines",
    "games",
    "graphics",
    "gui",
    "hardware-support",
    "internationalization",
    "localization",
    "mathematics",
    "memory-management",
    "multimedia",
    "multimedia::audio",
    "multimedia::encoding",
    "multimedia::images",
    "multimedia::video",
    "network-programming",
    "no-std",
    "no-std::no-alloc",
    "os",
    "os::android-apis",
    "os::freebsd-apis",
    "os::linux-apis",
    "os::macos-apis",
    "os::unix-apis",
    "os::windows-apis",
    "parser-implementations",
    "parsing",
    "rendering",
    "rendering::data-formats",
    "rendering::engine",
    "rendering::graphics-api",
    "rust-patterns",
    "science",
    "science::bioinformatics",
    "science::geo",
    "science::neuroscience",
    "science::robotics",
    "security",
    "simulation",
    "template-engine",
    "text-editors",
    "text-processing",
    "value-formatting",
    "virtualization",
    "visualization",
    "wasm",
    "web-programming",
    "web-programming::http-client",
    "web-programming::http-server",
    "web-programming::websocket",
];

/// The first cargo whose `cargo publish --workspace` packages and verifies unpublished
/// interdependent crates (through a temporary local registry).
const MIN_CARGO_MINOR: u32 = 90;

/// `cargo xtask publish-check [--no-dry-run]`.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let mut dry_run = true;
    for arg in args {
        match arg.as_str() {
            "--no-dry-run" => dry_run = false,
            other => {
                return crate::usage_error(&format!("publish-check: unknown option `{other}`"))
            }
        }
    }
    match check(dry_run) {
        Ok(()) => {
            println!("publish-check: every published crate is ready");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("publish-check: FAILED: {why}");
            ExitCode::FAILURE
        }
    }
}

/// The whole check; `Err` is a one-line summary (the details are printed).
pub(crate) fn check(dry_run: bool) -> Result<(), String> {
    let metadata = workspace_metadata()?;
    let packages = published_packages(&metadata);
    if packages.is_empty() {
        return Err("cargo metadata lists no published workspace member".to_owned());
    }

    let mut failed = Vec::new();
    for package in &packages {
        let name = package.get("name").and_then(Json::as_str).unwrap_or("?");
        let mut list = util::cargo();
        list.args(["package", "--list", "--allow-dirty", "-p", name]);
        let files: Vec<String> = match util::run_captured(&mut list) {
            Ok(out) => out.lines().map(str::to_owned).collect(),
            Err(why) => {
                println!("{name}: FAIL: {why}");
                failed.push(name.to_owned());
                continue;
            }
        };
        let library = package
            .get("targets")
            .map(Json::as_array)
            .unwrap_or_default()
            .iter()
            .find(|target| {
                target
                    .get("kind")
                    .map(Json::as_array)
                    .unwrap_or_default()
                    .iter()
                    .any(|kind| kind.as_str() == Some("lib"))
            })
            .and_then(|target| target.get("src_path"))
            .and_then(Json::as_str)
            .map(|path| std::fs::read_to_string(path).unwrap_or_default());
        let problems = problems(package, &files, library.as_deref());
        if problems.is_empty() {
            println!("{name}: ok ({} files in the package)", files.len());
        } else {
            for problem in &problems {
                println!("{name}: FAIL: {problem}");
            }
            failed.push(name.to_owned());
        }
    }

    let names: Vec<&str> = packages
        .iter()
        .filter_map(|package| package.get("name").and_then(Json::as_str))
        .collect();
    if let Err(why) = docs_rs_build(&names) {
        println!("docs.rs build: FAIL: {why}");
        failed.push("docs.rs build".to_owned());
    }
    let mut dry_run_failed = None;
    if dry_run {
        let unpacked: Vec<String> = packages
            .iter()
            .filter_map(|package| {
                let name = package.get("name").and_then(Json::as_str)?;
                let version = package.get("version").and_then(Json::as_str)?;
                Some(format!("{name}-{version}"))
            })
            .collect();
        forget_stale_unpacked(&unpacked);
        dry_run_failed = publish_dry_run().err();
    }
    match (failed.is_empty(), dry_run_failed) {
        (true, None) => Ok(()),
        (true, Some(why)) => Err(why),
        (false, why) => Err(format!(
            "checks failed for {}{}",
            failed.join(", "),
            why.map(|why| format!("; {why}")).unwrap_or_default()
        )),
    }
}

/// `cargo metadata --format-version 1 --no-deps`, parsed.
pub(crate) fn workspace_metadata() -> Result<Json, String> {
    let mut metadata = util::cargo();
    metadata.args(["metadata", "--format-version", "1", "--no-deps"]);
    let text = util::run_captured(&mut metadata)?;
    Json::parse(&text).map_err(|err| format!("cargo metadata: {err}"))
}

/// The workspace members that `cargo publish --workspace` would publish.
pub(crate) fn published_packages(metadata: &Json) -> Vec<&Json> {
    let members: Vec<&str> = metadata
        .get("workspace_members")
        .map(Json::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Json::as_str)
        .collect();
    metadata
        .get("packages")
        .map(Json::as_array)
        .unwrap_or_default()
        .iter()
        .filter(|package| {
            package
                .get("id")
                .and_then(Json::as_str)
                .is_some_and(|id| members.contains(&id))
        })
        .filter(|package| is_published(package))
        .collect()
}

/// The docs as docs.rs builds them: nightly rustdoc with `--cfg docsrs` (so `doc_cfg`'s
/// feature badges), every feature, warnings denied, in `<target>/docsrs`. Without a nightly
/// toolchain it says NOT CHECKED and passes.
fn docs_rs_build(packages: &[&str]) -> Result<(), String> {
    let mut probe = util::cargo_nightly();
    probe.arg("--version");
    if let Err(why) = util::run_captured(&mut probe) {
        println!("docs.rs build NOT CHECKED (no nightly toolchain: {why})");
        return Ok(());
    }
    let mut doc = util::cargo_nightly();
    doc.args(["doc", "--no-deps", "--all-features", "--target-dir"])
        .arg(util::target_dir().join("docsrs"))
        .env("RUSTDOCFLAGS", "--cfg docsrs -D warnings");
    for package in packages {
        doc.args(["-p", package]);
    }
    match util::run_streaming(&mut doc) {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!(
            "`cargo +nightly doc` with --cfg docsrs failed ({status})"
        )),
        Err(err) => Err(format!("could not start cargo: {err}")),
    }
}

/// Removes copies of this workspace's packages (`name-version`) that an earlier
/// `cargo publish --workspace --dry-run` unpacked from its temporary local registry under
/// `$CARGO_HOME/registry/src/-<hash>/`: cargo reuses such a copy when the version is
/// unchanged, so the next dry run verified a crate against the old source of its sibling
/// (seen: `contexture-pool` built against a `contexture-ctxvar` without the API it uses).
/// crates.io's own copies (`index.crates.io-…`) are left alone.
fn forget_stale_unpacked(unpacked: &[String]) {
    let Some(src) = cargo_home().map(|home| home.join("registry").join("src")) else {
        return;
    };
    let Ok(registries) = std::fs::read_dir(&src) else {
        return;
    };
    let registries: Vec<String> = registries
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    for stale in stale_unpacked(&registries, unpacked) {
        let path = src.join(&stale);
        if path.is_dir() && std::fs::remove_dir_all(&path).is_ok() {
            println!("removed a stale unpacked copy: {}", path.display());
        }
    }
}

/// `registry/package` paths (relative to `registry/src`) of the workspace's packages in
/// the temporary local registries (`-<hash>`) among `registries`.
fn stale_unpacked(registries: &[String], unpacked: &[String]) -> Vec<String> {
    registries
        .iter()
        .filter(|registry| registry.starts_with('-'))
        .flat_map(|registry| unpacked.iter().map(move |pkg| format!("{registry}/{pkg}")))
        .collect()
}

/// `$CARGO_HOME`, else `~/.cargo`.
fn cargo_home() -> Option<std::path::PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| std::path::PathBuf::from(home).join(".cargo"))
        })
}

/// `cargo publish --workspace --dry-run --allow-dirty`, after checking cargo's version.
fn publish_dry_run() -> Result<(), String> {
    let mut version = util::cargo();
    version.arg("--version");
    let version = util::run_captured(&mut version)?;
    match cargo_minor(&version) {
        Some(minor) if minor >= MIN_CARGO_MINOR => {}
        _ => {
            return Err(format!(
                "`{}` cannot package and verify unpublished interdependent crates; \
                 `cargo publish --workspace` needs cargo >= 1.{MIN_CARGO_MINOR} \
                 (run `cargo +stable xtask publish-check`)",
                version.trim()
            ))
        }
    }
    let mut publish = util::cargo();
    publish.args(["publish", "--workspace", "--dry-run", "--allow-dirty"]);
    match util::run_streaming(&mut publish) {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!(
            "`cargo publish --workspace --dry-run` failed ({status})"
        )),
        Err(err) => Err(format!("could not start cargo: {err}")),
    }
}

/// The minor version of `cargo 1.NN.P (...)`.
fn cargo_minor(version: &str) -> Option<u32> {
    let number = version.split_whitespace().nth(1)?;
    let mut parts = number.split('.');
    if parts.next()? != "1" {
        return None;
    }
    parts.next()?.parse().ok()
}

/// `publish` is `null` (anywhere) or a non-empty registry list; `false` shows as `[]`.
fn is_published(package: &Json) -> bool {
    match package.get("publish") {
        None | Some(Json::Null) => true,
        Some(registries) => !registries.as_array().is_empty(),
    }
}

/// What keeps one package off crates.io (or off a good registry page), given the files
/// `cargo package --list` puts in it and the text of its library root.
fn problems(package: &Json, files: &[String], library: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    let text = |key: &str| {
        package
            .get(key)
            .and_then(Json::as_str)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let list = |key: &str| -> Vec<&str> {
        package
            .get(key)
            .map(Json::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(Json::as_str)
            .collect()
    };

    for key in ["description", "repository", "rust_version"] {
        if text(key).is_none() {
            problems.push(format!("no `{}`", key.replace('_', "-")));
        }
    }

    let keywords = list("keywords");
    if keywords.is_empty() || keywords.len() > 5 {
        problems.push(format!(
            "{} keywords (crates.io takes 1 to 5)",
            keywords.len()
        ));
    }
    for keyword in keywords {
        let valid = keyword.len() <= 20
            && keyword
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
            && keyword
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_+".contains(c));
        if !valid {
            problems.push(format!("keyword `{keyword}` is not valid on crates.io"));
        }
    }

    let categories = list("categories");
    if categories.is_empty() || categories.len() > 5 {
        problems.push(format!(
            "{} categories (crates.io takes 1 to 5)",
            categories.len()
        ));
    }
    for category in categories {
        if !CATEGORIES.contains(&category) {
            problems.push(format!("category `{category}` is not a crates.io slug"));
        }
    }

    match text("readme") {
        None => problems.push("no `readme`".to_owned()),
        Some(readme) if !files.iter().any(|file| file == readme) => {
            problems.push(format!("the readme `{readme}` is not in the package"));
        }
        Some(_) => {}
    }

    match (text("license"), text("license_file")) {
        (None, None) => problems.push("no `license` or `license-file`".to_owned()),
        (Some(license), _) => {
            let file_names: Vec<String> = files
                .iter()
                .filter(|file| !file.contains('/'))
                .map(|file| file.to_ascii_uppercase())
                .collect();
            for id in license
                .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '/')
                .filter(|word| !["OR", "AND", "WITH", ""].contains(word))
            {
                // `Apache-2.0` -> `LICENSE-APACHE…`, `MIT` -> `LICENSE-MIT…`.
                let stem = id.split('-').next().unwrap_or(id).to_ascii_uppercase();
                let found = file_names.iter().any(|file| {
                    (file.starts_with("LICENSE") || file.starts_with("LICENCE"))
                        && (file.contains(&stem) || file_names.len() == 1)
                });
                if !found {
                    problems.push(format!(
                        "no license file for `{id}` in the package (e.g. LICENSE-{stem})"
                    ));
                }
            }
        }
        (None, Some(_)) => {}
    }

    let docs_rs = package.path(&["metadata", "docs", "rs"]);
    if docs_rs.and_then(|docs| docs.get("all-features")) != Some(&Json::Bool(true)) {
        problems.push("no `[package.metadata.docs.rs] all-features = true`".to_owned());
    }
    let rustdoc_args: Vec<&str> = docs_rs
        .and_then(|docs| docs.get("rustdoc-args"))
        .map(Json::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Json::as_str)
        .collect();
    if !rustdoc_args
        .windows(2)
        .any(|pair| pair == ["--cfg", "docsrs"])
    {
        problems.push(
            "no `[package.metadata.docs.rs] rustdoc-args = [\"--cfg\", \"docsrs\"]`".to_owned(),
        );
    }
    if let Some(library) = library {
        let squeezed: String = library.chars().filter(|c| !c.is_whitespace()).collect();
        if !squeezed.contains("#![cfg_attr(docsrs,feature(doc_cfg))]")
            && !squeezed.contains("#![cfg_attr(docsrs,feature(doc_auto_cfg))]")
        {
            problems.push(
                "the library root lacks `#![cfg_attr(docsrs, feature(doc_cfg))]` \
                 (feature badges on docs.rs)"
                    .to_owned(),
            );
        }
    }

    for dependency in package
        .get("dependencies")
        .map(Json::as_array)
        .unwrap_or_default()
    {
        let is_dev = dependency.get("kind").and_then(Json::as_str) == Some("dev");
        let has_path = dependency.get("path").is_some_and(|path| !path.is_null());
        let req = dependency.get("req").and_then(Json::as_str).unwrap_or("*");
        if has_path && !is_dev && req == "*" {
            let name = dependency.get("name").and_then(Json::as_str).unwrap_or("?");
            problems.push(format!(
                "path dependency `{name}` has no version (crates.io would refuse it)"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
        "name": "contexture-demo", "publish": null,
        "description": "A demo", "repository": "https://example.org", "rust_version": "1.85",
        "keywords": ["context", "thread-local"], "categories": ["concurrency"],
        "readme": "README.md", "license": "MIT OR Apache-2.0", "license_file": null,
        "metadata": {"docs": {"rs": {"all-features": true, "rustdoc-args": ["--cfg", "docsrs"]}}},
        "dependencies": [
            {"name": "contexture-ctxvar", "kind": null, "path": "/x/ctxvar", "req": "^0.1.0"},
            {"name": "contexture-local", "kind": "dev", "path": "/x/local", "req": "*"},
            {"name": "thiserror", "kind": null, "req": "^2"}
        ]
    }"#;
    const LIB: &str = "//! Docs.\n#![cfg_attr(docsrs, feature(doc_cfg))]\n#![warn(missing_docs)]\n";

    fn files() -> Vec<String> {
        [
            "Cargo.toml",
            "LICENSE-APACHE",
            "LICENSE-MIT",
            "README.md",
            "src/lib.rs",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    #[test]
    fn a_complete_crate_passes() {
        let package = Json::parse(GOOD).unwrap();
        assert!(is_published(&package));
        assert_eq!(
            problems(&package, &files(), Some(LIB)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn each_gap_is_named() {
        let bad = GOOD
            .replace("\"A demo\"", "\"\"")
            .replace(
                r#"["context", "thread-local"]"#,
                r#"["a", "b", "c", "d", "e", "6x"]"#,
            )
            .replace(r#"["concurrency"]"#, r#"["threads"]"#)
            .replace(r#""all-features": true"#, r#""all-features": false"#)
            .replace(r#"["--cfg", "docsrs"]"#, "[]")
            .replace(r#""req": "^0.1.0""#, r#""req": "*""#);
        let package = Json::parse(&bad).unwrap();
        let mut files = files();
        files.retain(|file| file != "LICENSE-APACHE" && file != "README.md");
        let found = problems(&package, &files, Some("#![warn(missing_docs)]"));
        let expected = [
            "no `description`",
            "6 keywords",
            "keyword `6x`",
            "category `threads`",
            "readme `README.md` is not in the package",
            "license file for `Apache-2.0`",
            "all-features = true",
            "rustdoc-args",
            "feature(doc_cfg)",
            "path dependency `contexture-ctxvar`",
        ];
        for needle in expected {
            assert!(
                found.iter().any(|problem| problem.contains(needle)),
                "{needle:?} not in {found:#?}"
            );
        }
        assert_eq!(found.len(), expected.len(), "{found:#?}");
    }

    #[test]
    fn only_the_temporary_registries_lose_their_unpacked_workspace_crates() {
        let registries = vec![
            "index.crates.io-1949cf8c6b5b557f".to_owned(),
            "-14cd1cce6819ff87".to_owned(),
        ];
        let unpacked = vec!["contexture-ctxvar-0.1.0".to_owned()];
        assert_eq!(
            stale_unpacked(&registries, &unpacked),
            ["-14cd1cce6819ff87/contexture-ctxvar-0.1.0"]
        );
    }

    #[test]
    fn publish_false_is_an_empty_registry_list() {
        assert!(!is_published(&Json::parse(r#"{"publish": []}"#).unwrap()));
        assert!(is_published(
            &Json::parse(r#"{"publish": ["crates-io"]}"#).unwrap()
        ));
    }

    #[test]
    fn reads_cargo_minor_versions() {
        assert_eq!(cargo_minor("cargo 1.95.0 (f2d3ce0bd 2026-03-21)"), Some(95));
        assert_eq!(cargo_minor("cargo 1.85.1"), Some(85));
        assert_eq!(cargo_minor("cargo 2.0.0"), None);
        assert_eq!(cargo_minor("garbage"), None);
    }
}
