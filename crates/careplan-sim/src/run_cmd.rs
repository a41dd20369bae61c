//! `careplan-sim run`.

use std::path::PathBuf;

use careplan_core::{Event, EventKind, format_jst};
use careplan_scenario::{RunOptions, Scenario};
use clap::Args;
use time::OffsetDateTime;

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
        let mut printer = StepPrinter::default();
        let report = match careplan_scenario::run(scenario, options, &mut |event| printer.print(event)) {
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

/// Prints one line per step, rendered from the run's events: a step's start gives its time, number,
/// line and description; its end, the outcome.
#[derive(Default)]
struct StepPrinter {
    started: Option<(OffsetDateTime, usize, String)>,
}

impl StepPrinter {
    fn print(&mut self, event: &Event) {
        match &event.kind {
            EventKind::StepStarted {
                line, description, ..
            } => self.started = Some((event.at, *line, description.clone())),
            EventKind::StepFinished {
                step, result, detail, ..
            } => {
                let Some((at, line, description)) = self.started.take() else {
                    return;
                };
                let at = format_jst(at);
                match *result {
                    "passed" => println!("  ok      {step:>3} [{at}] {description}: {detail}"),
                    "failed" => {
                        println!("  FAILED  {step:>3} [{at}] {description} (line {line}): {detail}")
                    }
                    _ => println!("  skipped {step:>3} {description}"),
                }
            }
            _ => {}
        }
    }
}
