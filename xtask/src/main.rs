//! `cargo xtask …`: project chores.
//!
//! - `cargo xtask scenario all` runs every scenario under `scenarios/`; `cargo xtask scenario <name>`
//!   runs one, named by file stem (`plan-and-actual`), path under `scenarios/`
//!   (`roundtrip/plan-and-actual`) or theme directory (`certificates`). The exit status is
//!   `careplan-sim run`'s.
//! - `cargo xtask conform [ARGS]` builds careplan-sim and the reference adapter, then runs the conformance
//!   suite against the reference adapter (or `careplan-sim conform ARGS`).
//! - `cargo xtask image` builds release binaries and, from them, the local images `careplan-sim:local`
//!   (entrypoint `careplan-sim`) and `careplan-reference-adapter:local`, `FROM scratch` with the libraries
//!   they link (no registry needed).
//! - `cargo xtask docs [--check]` regenerates the generated docs (`docs/error-codes.md`, `docs/rules.md`, `docs/requirements.md`, the
//!   action reference in `docs/scenarios.md`), or checks that they are current.
//! - `cargo xtask ci` runs what CI checks: formatting, clippy, generated docs, rustdoc (broken links
//!   denied), tests and all scenarios.

// Printing is this binary's job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  scenario all        run every scenario under scenarios/
  scenario <name>     run one scenario (file stem, path under scenarios/, or theme directory)
  conform [ARGS]      careplan-sim conform against the reference adapter (or ARGS, e.g. --adapter FILE)
  image               build the images careplan-sim:local and careplan-reference-adapter:local (release)
  docs [--check]      regenerate docs/error-codes.md, docs/rules.md, docs/requirements.md and the action reference
                      in docs/scenarios.md, or check them
  ci                  fmt --check, clippy -D warnings, docs --check, rustdoc -D warnings, tests,
                      all scenarios";

fn main() -> ExitCode {
    match try_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn try_main() -> Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["scenario", "all", rest @ ..] => run_scenarios(&[root().join("scenarios")], rest),
        ["scenario", name, rest @ ..] => run_scenarios(&[find_scenario(name)?], rest),
        ["conform", rest @ ..] => conform(rest),
        ["image"] => image(),
        ["docs"] => docs(false),
        ["docs", "--check"] => docs(true),
        ["ci"] => ci(),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => bail!("{USAGE}"),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root());
    command
}

fn status(mut command: Command) -> Result<ExitCode> {
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    Ok(ExitCode::from(
        status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(2),
    ))
}

/// Builds careplan-sim and the reference adapter, a program of its own beside it.
fn build_programs() -> Result<()> {
    let mut build = cargo();
    build.args(["build", "--quiet", "--package", "careplan-sim", "--bins"]);
    if status(build)? != ExitCode::SUCCESS {
        bail!("cannot build careplan-sim and its reference adapter");
    }
    Ok(())
}

fn conform(args: &[&str]) -> Result<ExitCode> {
    build_programs()?;
    let mut command = cargo();
    command.args(["run", "--quiet", "--package", "careplan-sim", "--", "conform"]);
    if args.is_empty() {
        command.args(["--adapter", "adapters/reference/adapter.toml"]);
    } else {
        command.args(args);
    }
    status(command)
}

fn image() -> Result<ExitCode> {
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "--quiet",
        "--package",
        "careplan-sim",
        "--bins",
    ]);
    if status(build)? != ExitCode::SUCCESS {
        bail!("cannot build the release binaries");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root().join("target"), PathBuf::from)
        .join("release");
    let images = [
        ("careplan-sim", careplan_testcontainers::IMAGE, true),
        (
            "careplan-reference-adapter",
            ("careplan-reference-adapter", "local"),
            false,
        ),
    ];
    for (program, reference, entrypoint) in images {
        let _image = careplan_testcontainers::build_from_binary(
            &target.join(program),
            &format!("/{program}"),
            reference,
            entrypoint,
        )
        .with_context(|| format!("cannot build the image {}:{}", reference.0, reference.1))?;
        println!("built {}:{}", reference.0, reference.1);
    }
    Ok(ExitCode::SUCCESS)
}

fn run_scenarios(paths: &[PathBuf], extra: &[&str]) -> Result<ExitCode> {
    // The vendor scenarios drive the reference adapter.
    build_programs()?;
    let mut command = cargo();
    command
        .args(["run", "--quiet", "--package", "careplan-sim", "--", "run"])
        .args(paths)
        .args(extra);
    status(command)
}

fn find_scenario(name: &str) -> Result<PathBuf> {
    let dir = root().join("scenarios");
    let direct = dir.join(name);
    if direct.is_dir() {
        return Ok(direct);
    }
    let with_ext = dir.join(format!("{}.toml", name.trim_end_matches(".toml")));
    if with_ext.is_file() {
        return Ok(with_ext);
    }
    let mut all = Vec::new();
    collect(&dir, &mut all)?;
    let matches: Vec<&PathBuf> = all
        .iter()
        .filter(|p| p.file_stem().is_some_and(|s| s == name))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let known: Vec<String> = all
                .iter()
                .filter_map(|p| p.strip_prefix(&dir).ok())
                .map(|p| p.with_extension("").display().to_string())
                .collect();
            bail!(
                "no scenario named `{name}`; known scenarios:\n  {}",
                known.join("\n  ")
            )
        }
        many => bail!("`{name}` is ambiguous: {many:?}; use its path under scenarios/"),
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

/// Generated documents: (path under the root, content).
fn generated_docs() -> Result<Vec<(&'static str, String)>> {
    let scenarios = "docs/scenarios.md";
    let current = std::fs::read_to_string(root().join(scenarios))
        .with_context(|| format!("cannot read {scenarios}"))?;
    let Some(scenarios_doc) = careplan_scenario::with_current_reference(&current) else {
        bail!("{scenarios} has lost the markers of its generated action reference");
    };
    Ok(vec![
        (
            "docs/error-codes.md",
            careplan_core::ErrorCode::catalogue_markdown(),
        ),
        ("docs/rules.md", careplan_spec::validate::catalogue_markdown()),
        (
            "docs/requirements.md",
            careplan_spec::requirements::report_markdown(),
        ),
        (scenarios, scenarios_doc),
    ])
}

fn docs(check: bool) -> Result<ExitCode> {
    let mut stale = Vec::new();
    for (path, content) in generated_docs()? {
        let full = root().join(path);
        let current = std::fs::read_to_string(&full).unwrap_or_default();
        if current == content {
            continue;
        }
        if check {
            stale.push(path);
        } else {
            std::fs::write(&full, content).with_context(|| format!("cannot write {path}"))?;
            println!("wrote {path}");
        }
    }
    if !stale.is_empty() {
        bail!(
            "stale generated docs: {}; run `cargo xtask docs`",
            stale.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn ci() -> Result<ExitCode> {
    let steps: [(&str, &[&str]); 3] = [
        ("fmt", &["fmt", "--all", "--check"]),
        (
            "clippy",
            &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
        ),
        ("test", &["test", "--workspace"]),
    ];
    docs(true)?;
    println!("xtask ci: rustdoc");
    let mut rustdoc = cargo();
    rustdoc
        .args(["doc", "--no-deps", "--workspace", "--quiet"])
        .env("RUSTDOCFLAGS", "-D warnings");
    if status(rustdoc)? != ExitCode::SUCCESS {
        bail!("`cargo doc` found broken documentation");
    }
    for (name, args) in steps {
        println!("xtask ci: {name}");
        let mut command = cargo();
        command.args(args);
        let code = status(command)?;
        if code != ExitCode::SUCCESS {
            bail!("`cargo {}` failed", args.join(" "));
        }
    }
    println!("xtask ci: scenarios");
    run_scenarios(&[root().join("scenarios")], &[])
}
