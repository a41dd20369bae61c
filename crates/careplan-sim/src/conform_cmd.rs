//! `careplan-sim conform`.

use std::path::PathBuf;
use std::sync::Arc;

use careplan_conform::{Case, Cell, Outcome, Verdict, requirements_shown, run_pair, suite, wildcard_matches};
use careplan_office::Adapter;
use clap::Args;
use serde::Serialize;

use crate::exit::Exit;
use crate::report::{ReportTarget, write_report};

/// Arguments of `conform`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("products").required(true).args(["adapter", "matrix"])))]
pub(crate) struct ConformArgs {
    /// The product's adapter file (`adapter.toml`, contract 1; see docs/adapter.md).
    #[arg(long, value_name = "FILE")]
    adapter: Option<PathBuf>,

    /// Several products' adapter files: run each one's exports into each other's imports and print who
    /// can exchange with whom (rows: the care manager's product; columns: the provider's).
    #[arg(long, value_name = "FILE", num_args = 2.., conflicts_with_all = ["adapter", "cases", "report"])]
    matrix: Vec<PathBuf>,

    /// Only the cases whose ID matches, `*` standing for any characters (e.g. `PLAN-EXPORT-*`).
    #[arg(long = "case", value_name = "GLOB")]
    cases: Vec<String>,

    /// Also write the results: `junit=PATH` (a test case per case; n/a ones skipped) or `json=PATH` (every
    /// case with the product's calls); repeat for both. A bare PATH is `json=PATH`.
    #[arg(long, value_name = "KIND=PATH")]
    report: Vec<ReportTarget>,
}

/// The JSON report of a conformance run.
#[derive(Serialize)]
struct Report<'a> {
    adapter: &'a str,
    contract: u32,
    passed: usize,
    failed: usize,
    not_applicable: usize,
    /// Requirements of the official text cited by a passed case and by no failed one.
    requirements_met: Vec<&'static str>,
    /// Requirements cited by a failed case.
    requirements_not_met: Vec<&'static str>,
    cases: Vec<CaseReport<'a>>,
}

#[derive(Serialize)]
struct CaseReport<'a> {
    id: &'a str,
    title: &'a str,
    rule: &'a str,
    source: &'a str,
    /// The requirements the case checks, patterns expanded.
    requirements: Vec<&'static str>,
    #[serde(flatten)]
    outcome: &'a Outcome,
}

/// Runs the suite against the adapter (or the matrix of several) and prints one line per case, with its
/// evidence when it fails.
pub(crate) fn conform(args: &ConformArgs) -> Exit {
    let cases = match suite() {
        Ok(cases) => cases,
        Err(e) => {
            eprintln!("error: the embedded suite cannot be read: {e}");
            return Exit::Environment;
        }
    };
    let Some(path) = &args.adapter else {
        return matrix(&args.matrix, &cases);
    };
    let adapter = match Adapter::load(path) {
        Ok(adapter) => Arc::new(adapter),
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Invalid;
        }
    };
    let chosen: Vec<&Case> = cases
        .iter()
        .filter(|case| {
            args.cases.is_empty() || args.cases.iter().any(|p| wildcard_matches(p, &case.header.id))
        })
        .collect();
    if chosen.is_empty() {
        eprintln!(
            "error: no case matches {}; the suite holds {}",
            args.cases.join(", "),
            cases
                .iter()
                .map(|c| c.header.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Exit::Invalid;
    }
    println!(
        "conformance of {} ({}, contract {})",
        adapter.name(),
        path.display(),
        careplan_office::CONTRACT
    );
    let mut outcomes = Vec::with_capacity(chosen.len());
    for case in &chosen {
        let outcome = match case.run(&adapter) {
            Ok(outcome) => outcome,
            Err(e) => {
                eprintln!("error: cannot set up the ecosystem for {}: {e}", case.header.id);
                return Exit::Environment;
            }
        };
        let (id, title) = (&case.header.id, &case.header.title);
        match &outcome.verdict {
            Verdict::Passed => println!("  pass  {id:<18} {title}"),
            Verdict::NotApplicable { missing } => {
                println!(
                    "  n/a   {id:<18} {title} (the adapter declares no {})",
                    missing.join(", ")
                );
            }
            Verdict::Failed {
                step,
                line,
                description,
                reason,
            } => {
                println!("  FAIL  {id:<18} {title}");
                println!("        evidence: step {step} ({description}, line {line}): {reason}");
                println!("        rule: {} — {}", case.header.rule, case.header.source);
            }
        }
        outcomes.push(outcome);
    }
    let count = |wanted: fn(&Verdict) -> bool| outcomes.iter().filter(|o| wanted(&o.verdict)).count();
    let passed = count(|v| matches!(v, Verdict::Passed));
    let failed = count(|v| matches!(v, Verdict::Failed { .. }));
    let not_applicable = count(|v| matches!(v, Verdict::NotApplicable { .. }));
    println!(
        "{} case(s): {passed} passed, {failed} failed, {not_applicable} not applicable",
        chosen.len()
    );
    // The embedded suite's citations are checked by its tests: an error here is a broken build.
    let shown = requirements_shown(chosen.iter().copied().zip(outcomes.iter().map(|o| &o.verdict)));
    let ((requirements_met, requirements_not_met), cited) = match shown.and_then(|shown| {
        let cited = chosen
            .iter()
            .map(|case| Ok(case.requirements()?.into_iter().map(|r| r.id.as_str()).collect()))
            .collect::<Result<Vec<Vec<&'static str>>, String>>()?;
        Ok((shown, cited))
    }) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("error: the embedded suite cites a requirement that does not exist: {e}");
            return Exit::Environment;
        }
    };
    println!(
        "requirements of the official text (docs/requirements.md): {} shown met, {} not met",
        requirements_met.len(),
        requirements_not_met.len()
    );
    let report = Report {
        adapter: adapter.name(),
        contract: careplan_office::CONTRACT,
        passed,
        failed,
        not_applicable,
        requirements_met,
        requirements_not_met,
        cases: chosen
            .iter()
            .zip(&outcomes)
            .zip(cited)
            .map(|((case, outcome), requirements)| CaseReport {
                id: &case.header.id,
                title: &case.header.title,
                rule: &case.header.rule,
                source: &case.header.source,
                requirements,
                outcome,
            })
            .collect(),
    };
    for target in &args.report {
        let written = match target {
            ReportTarget::Json(path) => serde_json::to_vec_pretty(&report)
                .map_err(|e| e.to_string())
                .and_then(|json| write_report(path, &json)),
            ReportTarget::Junit(path) => junit(&report).and_then(|xml| write_report(path, &xml)),
            ReportTarget::Html(path) | ReportTarget::Evidence(path) => Err(format!(
                "{}: conform writes junit and json reports; HTML timelines and evidence bundles come from `run`",
                path.display()
            )),
        };
        if let Err(e) = written {
            eprintln!("error: {e}");
            return Exit::Invalid;
        }
    }
    match (failed, passed) {
        (0, 0) => {
            eprintln!("no case applies to this adapter: it declares none of the operations the cases need");
            Exit::Failed
        }
        (0, _) => Exit::Success,
        _ => Exit::Failed,
    }
}

/// JUnit XML of a conformance run: a test suite named for the product, a test case per case (its
/// classname the rule's source), failures with their evidence, cases the adapter cannot run skipped.
fn junit(report: &Report<'_>) -> Result<Vec<u8>, String> {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
    let mut junit = quick_junit::Report::new("careplan-sim conform");
    let mut suite = TestSuite::new(format!("conformance of {}", report.adapter));
    for case in &report.cases {
        let status = match &case.outcome.verdict {
            Verdict::Passed => TestCaseStatus::success(),
            Verdict::NotApplicable { missing } => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(format!("the adapter declares no {}", missing.join(", ")));
                status
            }
            Verdict::Failed {
                step,
                line,
                description,
                reason,
            } => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(format!("step {step} ({description}, line {line}): {reason}"));
                status.set_type(case.rule);
                status
            }
        };
        let mut test_case = TestCase::new(format!("{} {}", case.id, case.title), status);
        test_case.set_classname(case.source);
        suite.add_test_case(test_case);
    }
    junit.add_test_suite(suite);
    junit
        .to_string()
        .map(String::into_bytes)
        .map_err(|e| format!("cannot write the JUnit report: {e}"))
}

/// The vendor × vendor matrix: every product as the care manager against every product as the provider.
fn matrix(paths: &[PathBuf], cases: &[Case]) -> Exit {
    let mut adapters = Vec::with_capacity(paths.len());
    for path in paths {
        match Adapter::load(path) {
            Ok(adapter) => adapters.push(Arc::new(adapter)),
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::Invalid;
            }
        }
    }
    let label = |i: usize| char::from(b'A' + u8::try_from(i % 26).unwrap_or(0)).to_string();
    println!("vendor × vendor matrix (rows: the care manager's product, columns: the provider's product)");
    for (i, (adapter, path)) in adapters.iter().zip(paths).enumerate() {
        println!("  {} = {} ({})", label(i), adapter.name(), path.display());
    }
    let mut rows = Vec::with_capacity(adapters.len());
    for care_manager in &adapters {
        let mut row = Vec::with_capacity(adapters.len());
        for provider in &adapters {
            match run_pair(cases, care_manager, provider) {
                Ok(cell) => row.push(cell),
                Err(e) => {
                    eprintln!("error: cannot set up the ecosystem: {e}");
                    return Exit::Environment;
                }
            }
        }
        rows.push(row);
    }
    let shown = |cell: &Cell| match cell {
        Cell::Exchanges { cases } => format!("ok ({cases})"),
        Cell::Fails { case, .. } => format!("FAIL {case}"),
        Cell::NotApplicable => "n/a".to_owned(),
    };
    let width = rows
        .iter()
        .flatten()
        .map(|cell| shown(cell).chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let header: String = (0..adapters.len())
        .map(|j| format!("  {:<width$}", label(j)))
        .collect();
    println!("\n  cm \\ provider{header}");
    for (i, row) in rows.iter().enumerate() {
        let cells: String = row
            .iter()
            .map(|cell| format!("  {:<width$}", shown(cell)))
            .collect();
        println!("  {:<13}{cells}", label(i));
    }
    let mut failed = 0;
    for (i, row) in rows.iter().enumerate() {
        for (j, cell) in row.iter().enumerate() {
            if let Cell::Fails {
                case,
                verdict:
                    Verdict::Failed {
                        step,
                        line,
                        description,
                        reason,
                    },
            } = cell
            {
                failed += 1;
                println!(
                    "\n  {} → {}: {case} fails at step {step} ({description}, line {line}): {reason}",
                    label(i),
                    label(j)
                );
            }
        }
    }
    let exchanging = rows
        .iter()
        .flatten()
        .filter(|c| matches!(c, Cell::Exchanges { .. }))
        .count();
    println!(
        "\n{} pair(s): {exchanging} exchange, {failed} fail, {} not applicable",
        adapters.len() * adapters.len(),
        adapters.len() * adapters.len() - exchanging - failed
    );
    match (failed, exchanging) {
        (0, 0) => Exit::Failed,
        (0, _) => Exit::Success,
        _ => Exit::Failed,
    }
}
