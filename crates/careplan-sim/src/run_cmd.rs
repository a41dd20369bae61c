//! `careplan-sim run`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use careplan_conform::wildcard_matches;
use careplan_core::{Event, EventKind, format_jst};
use careplan_scenario::{RunOptions, Scenario, ScenarioReport};
use clap::Args;
use time::OffsetDateTime;

use crate::exit::Exit;
use crate::files::discover;
use crate::report::{ReportTarget, ScenarioRun, write_reports};

/// Arguments of `run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Scenario files, or directories searched recursively for `*.toml`.
    #[arg(required = true, value_name = "FILE|DIR")]
    paths: Vec<PathBuf>,

    /// Run every scenario with this seed instead of its own.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// Scenarios run at once (default: the machine's cores). The output is the same for any number:
    /// each scenario's lines, in file order.
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    jobs: Option<usize>,

    /// Only the scenarios matching one of the filters: `tag:T` (a tag of `tags = [...]`), `name:GLOB`
    /// (the scenario's name) or a path GLOB; `*` stands for any characters.
    #[arg(long, value_name = "FILTER")]
    filter: Vec<String>,

    /// Print the scenarios the filters select (path, name, tags) and run nothing.
    #[arg(long)]
    list: bool,

    /// Also write the results: `junit=PATH` (JUnit XML), `json=PATH` (docs/report-schema.json),
    /// `html=PATH` (one self-contained page with each scenario's timeline), `evidence=DIR` (a replayable
    /// folder per scenario); repeat for several.
    #[arg(long, value_name = "KIND=PATH")]
    report: Vec<ReportTarget>,

    /// Run each scenario twice and fail, naming the first difference, unless both runs record the same
    /// events, exchange the same files, hold the same certificates and print the same lines.
    #[arg(long)]
    check_determinism: bool,
}

/// Whether a scenario matches a `--filter`.
fn selected(scenario: &Scenario, filter: &str) -> bool {
    if let Some(tag) = filter.strip_prefix("tag:") {
        scenario.tags.iter().any(|t| wildcard_matches(tag, t))
    } else if let Some(name) = filter.strip_prefix("name:") {
        wildcard_matches(name, &scenario.name)
    } else {
        wildcard_matches(filter, &scenario.path.to_string_lossy())
    }
}

/// Runs the scenarios and prints one line per step and a summary.
pub(crate) fn run(args: &RunArgs) -> Exit {
    let mut files = match discover(&args.paths, "toml") {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Invalid;
        }
    };
    // Shared offices and steps that scenarios include are not scenarios themselves.
    files.retain(|path| !path.to_string_lossy().ends_with(".include.toml"));
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
    if !args.filter.is_empty() {
        scenarios.retain(|s| args.filter.iter().any(|f| selected(s, f)));
        if scenarios.is_empty() {
            eprintln!("error: no scenario matches {}", args.filter.join(", "));
            return Exit::Invalid;
        }
    }
    if args.list {
        for scenario in &scenarios {
            let tags = if scenario.tags.is_empty() {
                String::new()
            } else {
                format!(" [{}]", scenario.tags.join(", "))
            };
            println!("{}  {}{tags}", scenario.path.display(), scenario.name);
        }
        return Exit::Success;
    }
    let options = RunOptions { seed: args.seed };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let runs = if args.check_determinism {
        // Each scenario twice, both in flight at once where the jobs allow.
        let doubled: Vec<&Scenario> = scenarios.iter().flat_map(|s| [s, s]).collect();
        run_all(&doubled, options, jobs, &mut |_| {})
    } else {
        run_all(&scenarios.iter().collect::<Vec<_>>(), options, jobs, &mut |run| {
            print!("{}", run.output);
        })
    };
    if args.check_determinism {
        return check_determinism(&scenarios, &runs);
    }
    let environment = runs.iter().filter(|r| r.outcome.is_err()).count();
    let passed = runs
        .iter()
        .filter(|r| r.outcome.as_ref().is_ok_and(ScenarioReport::passed))
        .count();
    let failed = runs.len() - passed - environment;
    println!(
        "{} scenario(s): {passed} passed, {failed} failed{}",
        runs.len(),
        if environment > 0 {
            format!(", {environment} could not be set up")
        } else {
            String::new()
        }
    );
    if let Err(e) = write_reports(&args.report, &runs) {
        eprintln!("error: {e}");
        return Exit::Invalid;
    }
    if environment > 0 {
        Exit::Environment
    } else if failed > 0 {
        Exit::Failed
    } else {
        Exit::Success
    }
}

/// Runs `scenarios` on `jobs` threads; `done` sees each run in the order of `scenarios`, as soon as it
/// and every run before it have ended. A progress bar shows on a terminal when the runs take longer
/// than a second.
fn run_all(
    scenarios: &[&Scenario],
    options: RunOptions,
    jobs: usize,
    done: &mut dyn FnMut(&ScenarioRun),
) -> Vec<ScenarioRun> {
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<(usize, ScenarioRun)>();
    let started = Instant::now();
    let progress = indicatif::ProgressBar::hidden();
    progress.set_length(scenarios.len() as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} scenarios {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut runs: Vec<Option<ScenarioRun>> = (0..scenarios.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(scenarios.len()) {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(scenario) = scenarios.get(index) else {
                        break;
                    };
                    if sender.send((index, run_one(scenario, options))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut shown = 0;
        loop {
            match receiver.recv_timeout(Duration::from_millis(200)) {
                Ok((index, run)) => {
                    runs[index] = Some(run);
                    progress.inc(1);
                    while let Some(Some(run)) = runs.get(shown) {
                        progress.suspend(|| done(run));
                        shown += 1;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            // Only on a terminal (indicatif draws nothing into a pipe or a CI log), only for long runs.
            if progress.is_hidden() && started.elapsed() > Duration::from_secs(1) {
                progress.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
        }
    });
    progress.finish_and_clear();
    runs.into_iter().flatten().collect()
}

/// Runs one scenario, its printed lines kept with it.
fn run_one(scenario: &Scenario, options: RunOptions) -> ScenarioRun {
    let seed = options.seed.unwrap_or(scenario.seed);
    let mut output = format!(
        "scenario {} ({}, seed {seed})\n",
        scenario.name,
        scenario.path.display()
    );
    let mut printer = StepPrinter::default();
    let outcome = careplan_scenario::run(scenario, options, &mut |event| printer.print(event));
    output.push_str(&printer.lines);
    match &outcome {
        Ok(report) if report.passed() => {
            let _ = writeln!(output, "  passed: {} step(s)\n", report.steps.len());
        }
        Ok(_) => output.push_str("  FAILED\n\n"),
        Err(e) => {
            let _ = writeln!(output, "  cannot set up the ecosystem: {e}\n");
        }
    }
    ScenarioRun {
        path: scenario.path.clone(),
        name: scenario.name.clone(),
        tags: scenario.tags.clone(),
        seed,
        output,
        outcome: outcome.map_err(|e| e.to_string()),
    }
}

/// Compares each scenario's two runs: the same lines and, event by event, the same record.
fn check_determinism(scenarios: &[Scenario], runs: &[ScenarioRun]) -> Exit {
    let mut differing = 0;
    for (scenario, pair) in scenarios.iter().zip(runs.chunks(2)) {
        let [first, second] = pair else { continue };
        let events = |run: &ScenarioRun| -> Vec<String> {
            run.outcome
                .as_ref()
                .map(|report| {
                    report
                        .events
                        .iter()
                        .map(|e| serde_json::to_string(e).unwrap_or_default())
                        .collect()
                })
                .unwrap_or_default()
        };
        let (a, b) = (events(first), events(second));
        let difference = match (&first.outcome, &second.outcome) {
            (Err(e), _) | (_, Err(e)) => Some(format!("the ecosystem could not be set up: {e}")),
            (Ok(x), Ok(y)) if x.certificates != y.certificates => {
                Some("the offices' certificates differ".to_owned())
            }
            (Ok(x), Ok(y)) if x.files != y.files => {
                let at = x
                    .files
                    .iter()
                    .zip(&y.files)
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                Some(format!(
                    "the exchanged file {} differs",
                    x.files.get(at).map_or("(none)", |f| f.name.as_str())
                ))
            }
            _ if a != b => {
                let at = a
                    .iter()
                    .zip(&b)
                    .position(|(x, y)| x != y)
                    .unwrap_or(a.len().min(b.len()));
                Some(format!(
                    "event {at} differs:\n    first:  {}\n    second: {}",
                    a.get(at).map_or("(none)", String::as_str),
                    b.get(at).map_or("(none)", String::as_str)
                ))
            }
            _ if first.output != second.output => {
                let at = first
                    .output
                    .lines()
                    .zip(second.output.lines())
                    .position(|(x, y)| x != y)
                    .unwrap_or(0);
                Some(format!(
                    "printed line {} differs:\n    first:  {}\n    second: {}",
                    at + 1,
                    first.output.lines().nth(at).unwrap_or("(none)"),
                    second.output.lines().nth(at).unwrap_or("(none)")
                ))
            }
            _ => None,
        };
        match difference {
            None => println!(
                "  same  {} ({}, {} events)",
                scenario.name,
                scenario.path.display(),
                a.len()
            ),
            Some(why) => {
                differing += 1;
                println!("  DIFF  {} ({}): {why}", scenario.name, scenario.path.display());
            }
        }
    }
    println!(
        "{} scenario(s) run twice: {} the same, {differing} differ",
        scenarios.len(),
        scenarios.len() - differing
    );
    if differing > 0 {
        Exit::Failed
    } else {
        Exit::Success
    }
}

/// Renders one line per step from the run's events: a step's start gives its time, number, line and
/// description; its end, the outcome.
#[derive(Default)]
struct StepPrinter {
    started: Option<(OffsetDateTime, usize, String)>,
    lines: String,
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
                let out = &mut self.lines;
                let _ = match *result {
                    "passed" => writeln!(out, "  ok      {step:>3} [{at}] {description}: {detail}"),
                    "failed" => {
                        writeln!(
                            out,
                            "  FAILED  {step:>3} [{at}] {description} (line {line}): {detail}"
                        )
                    }
                    _ => writeln!(out, "  skipped {step:>3} {description}"),
                };
            }
            _ => {}
        }
    }
}
