//! The conformance suite: cases with stable IDs, each a scenario in which one office's care software is
//! the product under test, run against a vendor's product behind its adapter (`docs/adapter.md`).
//!
//! Architecture invariants:
//! - A case is a scenario file with a `[case]` table (ID, title, the product's office, the adapter
//!   operations it needs, the rule it checks and its source), under `conformance/cases/`, embedded here
//!   so that an installed `careplan-sim` carries its suite. IDs are never renumbered.
//! - Running a case is running its scenario with the product's office behind the adapter: the verdict and
//!   its evidence (the failing step and what it found: file, line, field, rule) come from the scenario's
//!   report, so a case says nothing a scenario could not.
//! - A case applies when the adapter declares every operation it needs; the others are reported as not
//!   applicable, never as passed.

use std::path::Path;
use std::sync::Arc;

use careplan_core::EventKind;
use careplan_office::{Adapter, Operation};
use careplan_scenario::{
    CaseHeader, RunError, RunOptions, Scenario, ScenarioFileError, ScenarioReport, StepResult, run,
};
use careplan_spec::requirements::{self, Requirement};
use serde::Serialize;

/// The suite's files, embedded: (file name under `conformance/cases/`, text).
const SUITE: &[(&str, &str)] = &[
    (
        "actuals-delete-001.toml",
        include_str!("../../../conformance/cases/actuals-delete-001.toml"),
    ),
    (
        "actuals-delete-002.toml",
        include_str!("../../../conformance/cases/actuals-delete-002.toml"),
    ),
    (
        "actuals-export-001.toml",
        include_str!("../../../conformance/cases/actuals-export-001.toml"),
    ),
    (
        "actuals-import-001.toml",
        include_str!("../../../conformance/cases/actuals-import-001.toml"),
    ),
    (
        "plan-delete-001.toml",
        include_str!("../../../conformance/cases/plan-delete-001.toml"),
    ),
    (
        "plan-delete-002.toml",
        include_str!("../../../conformance/cases/plan-delete-002.toml"),
    ),
    (
        "plan-edge-001.toml",
        include_str!("../../../conformance/cases/plan-edge-001.toml"),
    ),
    (
        "plan-edge-002.toml",
        include_str!("../../../conformance/cases/plan-edge-002.toml"),
    ),
    (
        "plan-edge-003.toml",
        include_str!("../../../conformance/cases/plan-edge-003.toml"),
    ),
    (
        "plan-edge-004.toml",
        include_str!("../../../conformance/cases/plan-edge-004.toml"),
    ),
    (
        "plan-edge-005.toml",
        include_str!("../../../conformance/cases/plan-edge-005.toml"),
    ),
    (
        "plan-edge-006.toml",
        include_str!("../../../conformance/cases/plan-edge-006.toml"),
    ),
    (
        "plan-edge-007.toml",
        include_str!("../../../conformance/cases/plan-edge-007.toml"),
    ),
    (
        "plan-exchange-001.toml",
        include_str!("../../../conformance/cases/plan-exchange-001.toml"),
    ),
    (
        "plan-export-001.toml",
        include_str!("../../../conformance/cases/plan-export-001.toml"),
    ),
    (
        "plan-export-002.toml",
        include_str!("../../../conformance/cases/plan-export-002.toml"),
    ),
    (
        "plan-export-003.toml",
        include_str!("../../../conformance/cases/plan-export-003.toml"),
    ),
    (
        "plan-export-004.toml",
        include_str!("../../../conformance/cases/plan-export-004.toml"),
    ),
    (
        "plan-export-005.toml",
        include_str!("../../../conformance/cases/plan-export-005.toml"),
    ),
    (
        "plan-export-006.toml",
        include_str!("../../../conformance/cases/plan-export-006.toml"),
    ),
    (
        "plan-export-007.toml",
        include_str!("../../../conformance/cases/plan-export-007.toml"),
    ),
    (
        "plan-export-008.toml",
        include_str!("../../../conformance/cases/plan-export-008.toml"),
    ),
    (
        "plan-export-009.toml",
        include_str!("../../../conformance/cases/plan-export-009.toml"),
    ),
    (
        "plan-export-010.toml",
        include_str!("../../../conformance/cases/plan-export-010.toml"),
    ),
    (
        "plan-export-011.toml",
        include_str!("../../../conformance/cases/plan-export-011.toml"),
    ),
    (
        "plan-import-001.toml",
        include_str!("../../../conformance/cases/plan-import-001.toml"),
    ),
    (
        "plan-import-002.toml",
        include_str!("../../../conformance/cases/plan-import-002.toml"),
    ),
    (
        "plan-import-003.toml",
        include_str!("../../../conformance/cases/plan-import-003.toml"),
    ),
    (
        "plan-resend-001.toml",
        include_str!("../../../conformance/cases/plan-resend-001.toml"),
    ),
    (
        "plan-tables-001.toml",
        include_str!("../../../conformance/cases/plan-tables-001.toml"),
    ),
    (
        "plan-tables-002.toml",
        include_str!("../../../conformance/cases/plan-tables-002.toml"),
    ),
    (
        "plan-tables-003.toml",
        include_str!("../../../conformance/cases/plan-tables-003.toml"),
    ),
    (
        "plan-tables-004.toml",
        include_str!("../../../conformance/cases/plan-tables-004.toml"),
    ),
    (
        "prevention-001.toml",
        include_str!("../../../conformance/cases/prevention-001.toml"),
    ),
    (
        "prevention-002.toml",
        include_str!("../../../conformance/cases/prevention-002.toml"),
    ),
];

/// One conformance case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Its `[case]` table.
    pub header: CaseHeader,
    /// The scenario it runs.
    pub scenario: Scenario,
}

/// The whole suite, in ID order.
pub fn suite() -> Result<Vec<Case>, ScenarioFileError> {
    let mut cases = SUITE
        .iter()
        .map(|(file, text)| {
            let path = Path::new("conformance/cases").join(file);
            let scenario = Scenario::parse(text, &path)?;
            let header = scenario.case.clone().ok_or_else(|| ScenarioFileError {
                path: path.clone(),
                line: 1,
                message: "a conformance case needs a [case] table".to_owned(),
            })?;
            Ok(Case { header, scenario })
        })
        .collect::<Result<Vec<_>, _>>()?;
    cases.sort_by(|a, b| a.header.id.cmp(&b.header.id));
    Ok(cases)
}

/// The file names the suite embeds, for checking it against `conformance/cases/`.
pub fn embedded_files() -> impl Iterator<Item = &'static str> {
    SUITE.iter().map(|(file, _)| *file)
}

/// How a case ended for a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Verdict {
    /// Every step did what it should.
    Passed,
    /// A step did not: the evidence.
    Failed {
        /// The failing step's number.
        step: usize,
        /// Its line in the case file.
        line: usize,
        /// What it does.
        description: String,
        /// What it found.
        reason: String,
    },
    /// The adapter lacks operations the case needs.
    NotApplicable {
        /// The operations it does not declare.
        missing: Vec<String>,
    },
}

/// One call the bench made of the product during a case, as the run's events recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductCall {
    /// The operation (`export_plan`, `import`, …).
    pub operation: &'static str,
    /// Its exit status, if it exited.
    pub status: Option<i32>,
    /// Whether it was stopped at its time limit.
    pub timed_out: bool,
    /// What it printed (the first 4 KiB).
    pub stdout: String,
    /// What it printed on stderr (the first 4 KiB).
    pub stderr: String,
}

/// A case's verdict and the calls of the product behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Every call of the product, in order.
    pub calls: Vec<ProductCall>,
}

impl Case {
    /// The requirements of the official text the case checks: its `requirements` IDs, a `*` standing for any
    /// run of characters (`UPPLAN-*` is every requirement of UPPLAN files that a rule enforces). An ID or a
    /// pattern that names no requirement is an error, so a case cannot cite what the catalogue lacks.
    pub fn requirements(&self) -> Result<Vec<&'static Requirement>, String> {
        let mut cited: Vec<&'static Requirement> = Vec::new();
        for pattern in &self.header.requirements {
            let matched: Vec<&'static Requirement> = requirements::all()
                .iter()
                .filter(|r| wildcard_matches(pattern, &r.id))
                // A pattern stands for what the case can show: the requirements a rule checks on the files
                // alone (the suite gives the validator no service-code table).
                .filter(|r| {
                    !pattern.contains('*') || !r.coverage.rules().is_empty() && !r.coverage.needs_table()
                })
                .collect();
            if matched.is_empty() {
                return Err(format!(
                    "case {}: `{pattern}` names no requirement of docs/requirements.md",
                    self.header.id
                ));
            }
            for r in matched {
                if !cited.iter().any(|c| c.id == r.id) {
                    cited.push(r);
                }
            }
        }
        Ok(cited)
    }

    /// The operations the case needs that `adapter` does not declare.
    pub fn missing(&self, adapter: &Adapter) -> Vec<String> {
        lacking(adapter, &self.header.needs)
    }

    /// Runs the scenario with each named office behind its adapter.
    fn run_with(&self, products: &[(&str, &Arc<Adapter>)]) -> Result<ScenarioReport, RunError> {
        let mut scenario = self.scenario.clone();
        for office in &mut scenario.offices {
            if let Some((_, adapter)) = products.iter().find(|(id, _)| office.id == *id) {
                office.adapter = Some(Arc::clone(adapter));
            }
        }
        run(&scenario, RunOptions::default(), &mut |_| {})
    }

    /// Runs the case with its product's office behind `adapter`.
    pub fn run(&self, adapter: &Arc<Adapter>) -> Result<Outcome, RunError> {
        let missing = self.missing(adapter);
        if !missing.is_empty() {
            return Ok(Outcome {
                verdict: Verdict::NotApplicable { missing },
                calls: Vec::new(),
            });
        }
        let product = self
            .scenario
            .offices
            .iter()
            .find(|o| o.id == self.header.product)
            .map(|o| o.number);
        let report = self.run_with(&[(&self.header.product, adapter)])?;
        let calls = report
            .events
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::AdapterCalled {
                    office,
                    operation,
                    status,
                    timed_out,
                    stdout,
                    stderr,
                } if Some(*office) == product => Some(ProductCall {
                    operation,
                    status: *status,
                    timed_out: *timed_out,
                    stdout: stdout.clone(),
                    stderr: stderr.clone(),
                }),
                _ => None,
            })
            .collect();
        Ok(Outcome {
            verdict: failed(&report).unwrap_or(Verdict::Passed),
            calls,
        })
    }
}

/// One cell of the vendor × vendor matrix: one product as the care manager, another as the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Cell {
    /// Every exchange case applying to the pair passed.
    Exchanges {
        /// How many cases ran.
        cases: usize,
    },
    /// An exchange case failed: the first one, with its evidence.
    Fails {
        /// The case's ID.
        case: String,
        /// Its verdict.
        verdict: Verdict,
    },
    /// No exchange case applies: the products lack the operations.
    NotApplicable,
}

/// Runs the exchange cases (those with a `peer`) with the care-management office behind `care_manager`
/// and the service office behind `provider`: whether the two products can exchange plans and actuals.
pub fn run_pair(
    cases: &[Case],
    care_manager: &Arc<Adapter>,
    provider: &Arc<Adapter>,
) -> Result<Cell, RunError> {
    let mut ran = 0;
    for case in cases.iter().filter(|c| c.header.peer.is_some()) {
        let adapter_of = |office: &str| {
            let role = case
                .scenario
                .offices
                .iter()
                .find(|o| o.id == office)
                .map(|o| o.role);
            match role {
                Some(careplan_office::OfficeRole::CareManagement) => care_manager,
                _ => provider,
            }
        };
        let product = adapter_of(&case.header.product);
        let peer_office = case.header.peer.as_deref().unwrap_or_default();
        let peer = adapter_of(peer_office);
        if !lacking(product, &case.header.needs).is_empty()
            || !lacking(peer, &case.header.peer_needs).is_empty()
        {
            continue;
        }
        ran += 1;
        let report = case.run_with(&[(&case.header.product, product), (peer_office, peer)])?;
        if let Some(verdict) = failed(&report) {
            return Ok(Cell::Fails {
                case: case.header.id.clone(),
                verdict,
            });
        }
    }
    Ok(if ran == 0 {
        Cell::NotApplicable
    } else {
        Cell::Exchanges { cases: ran }
    })
}

/// The operations of `needs` that `adapter` does not declare.
fn lacking(adapter: &Adapter, needs: &[String]) -> Vec<String> {
    needs
        .iter()
        .filter(|need| Operation::from_name(need).is_none_or(|op| adapter.command(op).is_none()))
        .cloned()
        .collect()
}

/// The first failed step of a report as a verdict.
fn failed(report: &ScenarioReport) -> Option<Verdict> {
    report.steps.iter().find_map(|step| match &step.result {
        StepResult::Failed { reason } => Some(Verdict::Failed {
            step: step.number,
            line: step.line,
            description: step.description.clone(),
            reason: reason.clone(),
        }),
        _ => None,
    })
}

/// The requirements a conformance run shows met and not met: cited by a case that passed and by none that
/// failed, or cited by a case that failed. Requirements of cases that did not apply are in neither.
pub fn requirements_shown<'a>(
    results: impl IntoIterator<Item = (&'a Case, &'a Verdict)>,
) -> Result<(Vec<&'static str>, Vec<&'static str>), String> {
    let mut met = std::collections::BTreeSet::new();
    let mut not_met = std::collections::BTreeSet::new();
    for (case, verdict) in results {
        let ids = case.requirements()?.into_iter().map(|r| r.id.as_str());
        match verdict {
            Verdict::Passed => met.extend(ids),
            Verdict::Failed { .. } => not_met.extend(ids),
            Verdict::NotApplicable { .. } => {}
        }
    }
    met.retain(|id| !not_met.contains(id));
    Ok((met.into_iter().collect(), not_met.into_iter().collect()))
}

/// Whether `text` (a case ID, a scenario name or path) matches a pattern where `*` stands for any run of
/// characters (`PLAN-EXPORT-*`, `scenarios/relay/*`).
pub fn wildcard_matches(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| wildcard_matches(rest, &tail[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suite_embeds_every_case_file_and_ids_are_unique() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/cases");
        let mut on_disk: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = embedded_files().collect();
        assert_eq!(
            on_disk, embedded,
            "conformance/cases and the embedded suite differ"
        );
        let cases = suite().unwrap();
        let mut ids: Vec<&str> = cases.iter().map(|c| c.header.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), cases.len(), "a case ID is used twice");
    }

    /// Every case cites requirements that exist, and a case naming validator rules cites a requirement of
    /// each.
    #[test]
    fn cases_cite_requirements_of_the_rules_they_name() {
        use careplan_spec::validate::Rule;
        for case in suite().unwrap() {
            let cited = case.requirements().unwrap();
            assert!(!cited.is_empty(), "{} cites no requirement", case.header.id);
            let named: Vec<Rule> = Rule::ALL
                .iter()
                .copied()
                .filter(|rule| {
                    case.header
                        .rule
                        .split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
                        .any(|word| word == rule.id())
                })
                .collect();
            for rule in named {
                assert!(
                    cited.iter().any(|r| r.coverage.rules().contains(&rule)),
                    "{} names {} but cites none of its requirements",
                    case.header.id,
                    rule.id()
                );
            }
        }
        let export = suite()
            .unwrap()
            .into_iter()
            .find(|c| c.header.id == "PLAN-EXPORT-006")
            .unwrap();
        let ids: Vec<&str> = export
            .requirements()
            .unwrap()
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        assert!(ids.contains(&"UPPLAN-15-FORMAT") && ids.contains(&"UPSIKYU-X-TOTAL-ROW"));
        // A pattern leaves out what no rule checks: a passing case cannot show it met.
        assert!(!ids.contains(&"UPPLAN-X-SERVICE-CODE-EXISTS"));
    }

    #[test]
    fn patterns_match_ids() {
        assert!(wildcard_matches("PLAN-EXPORT-*", "PLAN-EXPORT-002"));
        assert!(wildcard_matches("*-001", "PLAN-RESEND-001"));
        assert!(wildcard_matches("*", "ANY"));
        assert!(wildcard_matches("PLAN-*-001", "PLAN-IMPORT-001"));
        assert!(!wildcard_matches("PLAN-EXPORT-*", "ACTUALS-EXPORT-001"));
        assert!(!wildcard_matches("PLAN-EXPORT-001", "PLAN-EXPORT-0012"));
    }
}
