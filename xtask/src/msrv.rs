//! `cargo xtask msrv`: builds the published crates with the Rust they declare.
//!
//! For each `rust-version` declared by the published workspace members (from
//! `cargo metadata`), `cargo +<rust-version> check --locked --lib --all-features` of those
//! crates, in `<target>/msrv`. Only the libraries: their tests, benches and dev-dependencies
//! (kameo needs Rust 1.88) are not part of the promise. `--locked` builds the lockfile the
//! workspace ships, so a `cargo update` that pulls in a dependency above the MSRV fails
//! here; pick an older version with
//! `CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo update -p <dependency>`.
//!
//! When rustup has no such toolchain (`.ci/run` installs it with
//! `rustup toolchain install <rust-version> --profile minimal`), the check does not run and
//! says so loudly: NOT CHECKED.

use std::{collections::BTreeMap, process::ExitCode};

use crate::{json::Json, publish_check, util};

/// How the check ended.
#[derive(Debug)]
pub(crate) enum Msrv {
    /// Every declared version built its crates.
    Checked(Vec<String>),
    /// A toolchain was missing: the reason, and the crates it left unchecked.
    NotChecked(String),
}

/// `cargo xtask msrv`: fails when a build fails or a toolchain is missing.
pub(crate) fn run(args: &[String]) -> ExitCode {
    if let Some(arg) = args.first() {
        return crate::usage_error(&format!("msrv: unknown argument `{arg}`"));
    }
    match check() {
        Ok(Msrv::Checked(versions)) => {
            println!(
                "msrv: the published crates build with Rust {}",
                versions.join(", ")
            );
            ExitCode::SUCCESS
        }
        Ok(Msrv::NotChecked(why)) => {
            print!("{}", banner(&why));
            ExitCode::FAILURE
        }
        Err(why) => {
            eprintln!("msrv: FAILED: {why}");
            ExitCode::FAILURE
        }
    }
}

/// The loud block printed when the MSRV was not checked.
pub(crate) fn banner(why: &str) -> String {
    let bar = "#".repeat(78);
    format!(
        "{bar}\n##\n##  MSRV NOT CHECKED: {why}\n##  install with: rustup toolchain install <rust-version> --profile minimal\n##\n{bar}\n"
    )
}

/// Runs the builds; `Err` when a build failed.
pub(crate) fn check() -> Result<Msrv, String> {
    let metadata = publish_check::workspace_metadata()?;
    let groups = by_rust_version(&publish_check::published_packages(&metadata));
    if groups.is_empty() {
        return Err("no published crate has a library and a rust-version".to_owned());
    }
    let mut checked = Vec::new();
    let mut missing = Vec::new();
    let mut failed = Vec::new();
    for (version, packages) in &groups {
        let mut probe = util::cargo_toolchain(version);
        probe.arg("--version");
        println!("$ {}", util::display(&probe));
        if let Err(why) = util::run_captured(&mut probe) {
            println!("Rust {version} is not installed: {why}");
            missing.push(format!(
                "Rust {version} not installed; {} NOT built with it",
                packages.join(", ")
            ));
            continue;
        }
        let mut cmd = util::cargo_toolchain(version);
        cmd.args([
            "check",
            "--locked",
            "--lib",
            "--all-features",
            "--target-dir",
        ])
        .arg(util::target_dir().join("msrv"));
        for package in packages {
            cmd.args(["-p", package]);
        }
        match util::run_streaming(&mut cmd) {
            Ok(status) if status.success() => checked.push(version.clone()),
            Ok(status) => failed.push(format!("Rust {version}: {status}")),
            Err(err) => failed.push(format!("Rust {version}: could not start: {err}")),
        }
    }
    if !failed.is_empty() {
        return Err(failed.join("; "));
    }
    if !missing.is_empty() {
        return Ok(Msrv::NotChecked(missing.join("; ")));
    }
    Ok(Msrv::Checked(checked))
}

/// `rust-version → names` of the packages that have a library target.
fn by_rust_version(packages: &[&Json]) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for package in packages {
        let has_lib = package
            .get("targets")
            .map(Json::as_array)
            .unwrap_or_default()
            .iter()
            .any(|target| {
                target
                    .get("kind")
                    .map(Json::as_array)
                    .unwrap_or_default()
                    .iter()
                    .any(|kind| kind.as_str() == Some("lib"))
            });
        let version = package.get("rust_version").and_then(Json::as_str);
        let name = package.get("name").and_then(Json::as_str);
        if let (true, Some(version), Some(name)) = (has_lib, version, name) {
            groups
                .entry(version.to_owned())
                .or_default()
                .push(name.to_owned());
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_library_crates_by_their_rust_version() {
        let lib = r#"[{"kind": ["lib"]}]"#;
        let bin = r#"[{"kind": ["bin"]}]"#;
        let packages: Vec<Json> = [
            ("a", "1.85", lib),
            ("b", "1.85", lib),
            ("c", "1.88", lib),
            ("tool", "1.85", bin),
        ]
        .iter()
        .map(|(name, version, targets)| {
            Json::parse(&format!(
                r#"{{"name": "{name}", "rust_version": "{version}", "targets": {targets}}}"#
            ))
            .unwrap()
        })
        .chain([Json::parse(r#"{"name": "old", "rust_version": null, "targets": []}"#).unwrap()])
        .collect();
        let refs: Vec<&Json> = packages.iter().collect();
        let groups = by_rust_version(&refs);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups["1.85"], ["a", "b"]);
        assert_eq!(groups["1.88"], ["c"]);
    }

    #[test]
    fn the_banner_says_not_checked() {
        assert!(banner("Rust 1.85 not installed").contains("MSRV NOT CHECKED: Rust 1.85"));
    }
}
