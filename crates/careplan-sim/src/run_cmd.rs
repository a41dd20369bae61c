//! `careplan-sim run`.

use std::path::PathBuf;

use careplan_core::format_jst;
use careplan_scenario::{RunOptions, Scenario, StepOutcome, StepResult};
use clap::Args;

use crate::exit::Exit;
use crate::files::discover;

/// Arguments of `run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Scenario files, or directories searched recursively for `*.toml`.
    #[arg(required = true, value_name = "FILE|DIR")]
    paths: Vec<PathBuf>,

    /// Run every scenario with this seed instead of its own.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
}

/// Runs the scenarios and prints one line per step and a summary.
pub(crate) fn run(args: &RunArgs) -> Exit {
    let files = match discover(&args.paths, "toml") {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Invalid;
        }
    };
    let mut scenarios = Vec::with_capacity(files.len());
    let mut invalid = 0;
    for file in &files {
        match Scenario::load(file) {
            Ok(scenario) => scenarios.push(scenario),
            Err(e) => {
                eprintln!("error: invalid scenario file {e}");
                invalid += 1;
            }
        }
    }
    if invalid > 0 {
        eprintln!("{invalid} invalid scenario file(s); nothing was run");
        return Exit::Invalid;
    }
    let options = RunOptions { seed: args.seed };
    let (mut passed, mut failed) = (0, 0);
    for scenario in &scenarios {
        let seed = options.seed.unwrap_or(scenario.seed);
        println!(
            "scenario {} ({}, seed {seed})",
            scenario.name,
            scenario.path.display()
        );
        let report = match careplan_scenario::run(scenario, options, &mut print_step) {
            Ok(report) => report,
            Err(e) => {
                eprintln!("error: cannot set up the ecosystem for {}: {e}", scenario.name);
                return Exit::Environment;
            }
        };
        if report.passed() {
            passed += 1;
            println!("  passed: {} step(s)\n", report.steps.len());
        } else {
            failed += 1;
            println!("  FAILED\n");
        }
    }
    println!(
        "{} scenario(s): {passed} passed, {failed} failed",
        scenarios.len()
    );
    if failed > 0 { Exit::Failed } else { Exit::Success }
}

fn print_step(step: &StepOutcome) {
    let at = format_jst(step.at);
    match &step.result {
        StepResult::Passed { detail } => {
            println!(
                "  ok      {:>3} [{at}] {}: {detail}",
                step.number, step.description
            );
        }
        StepResult::Failed { reason } => {
            println!(
                "  FAILED  {:>3} [{at}] {} (line {}): {reason}",
                step.number, step.description, step.line
            );
        }
        StepResult::Skipped => println!("  skipped {:>3} {}", step.number, step.description),
    }
}
