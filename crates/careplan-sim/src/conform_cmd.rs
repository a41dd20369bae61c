//! `careplan-sim conform`.

use std::path::PathBuf;
use std::sync::Arc;

use careplan_conform::{Case, Verdict, id_matches, suite};
use careplan_office::Adapter;
use clap::Args;
use serde::Serialize;

use crate::exit::Exit;

/// Arguments of `conform`.
#[derive(Debug, Args)]
pub(crate) struct ConformArgs {
    /// The product's adapter file (`adapter.toml`, contract 1; see docs/adapter.md).
    #[arg(long, value_name = "FILE")]
    adapter: PathBuf,

    /// Only the cases whose ID matches, `*` standing for any characters (e.g. `PLAN-EXPORT-*`).
    #[arg(long = "case", value_name = "GLOB")]
    cases: Vec<String>,

    /// Also write every case's result as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

/// The JSON report of a conformance run.
#[derive(Serialize)]
struct Report<'a> {
    adapter: &'a str,
    contract: u32,
    passed: usize,
    failed: usize,
    not_applicable: usize,
    cases: Vec<CaseReport<'a>>,
}

#[derive(Serialize)]
struct CaseReport<'a> {
    id: &'a str,
    title: &'a str,
    rule: &'a str,
    source: &'a str,
    #[serde(flatten)]
    verdict: &'a Verdict,
}

/// Runs the suite against the adapter and prints one line per case, with its evidence when it fails.
pub(crate) fn conform(args: &ConformArgs) -> Exit {
    let adapter = match Adapter::load(&args.adapter) {
        Ok(adapter) => Arc::new(adapter),
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Invalid;
        }
    };
    let cases = match suite() {
        Ok(cases) => cases,
        Err(e) => {
            eprintln!("error: the embedded suite cannot be read: {e}");
            return Exit::Environment;
        }
    };
    let chosen: Vec<&Case> = cases
        .iter()
        .filter(|case| args.cases.is_empty() || args.cases.iter().any(|p| id_matches(p, &case.header.id)))
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
        args.adapter.display(),
        careplan_office::CONTRACT
    );
    let mut verdicts = Vec::with_capacity(chosen.len());
    for case in &chosen {
        let verdict = match case.run(&adapter) {
            Ok(verdict) => verdict,
            Err(e) => {
                eprintln!("error: cannot set up the ecosystem for {}: {e}", case.header.id);
                return Exit::Environment;
            }
        };
        let (id, title) = (&case.header.id, &case.header.title);
        match &verdict {
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
        verdicts.push(verdict);
    }
    let count = |wanted: fn(&Verdict) -> bool| verdicts.iter().filter(|v| wanted(v)).count();
    let passed = count(|v| matches!(v, Verdict::Passed));
    let failed = count(|v| matches!(v, Verdict::Failed { .. }));
    let not_applicable = count(|v| matches!(v, Verdict::NotApplicable { .. }));
    println!(
        "{} case(s): {passed} passed, {failed} failed, {not_applicable} not applicable",
        chosen.len()
    );
    if let Some(path) = &args.report {
        let report = Report {
            adapter: adapter.name(),
            contract: careplan_office::CONTRACT,
            passed,
            failed,
            not_applicable,
            cases: chosen
                .iter()
                .zip(&verdicts)
                .map(|(case, verdict)| CaseReport {
                    id: &case.header.id,
                    title: &case.header.title,
                    rule: &case.header.rule,
                    source: &case.header.source,
                    verdict,
                })
                .collect(),
        };
        let written = serde_json::to_vec_pretty(&report)
            .map_err(|e| e.to_string())
            .and_then(|json| std::fs::write(path, json).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("error: cannot write the report {}: {e}", path.display());
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
