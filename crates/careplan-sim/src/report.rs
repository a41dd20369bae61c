//! The reports `run` writes besides its printed lines: JUnit XML for CI systems and JSON for tools
//! (schema `docs/report-schema.json`, version [`REPORT_VERSION`]). Both are views of the runs' typed
//! results and events, so they say nothing the printed lines could not.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use careplan_core::{ErrorCode, Event};
use careplan_scenario::{ScenarioReport, StepResult};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

/// The version of the JSON report's schema; it changes only when a field changes meaning or goes.
pub(crate) const REPORT_VERSION: u32 = 1;

/// A report to write, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReportTarget {
    /// JUnit XML.
    Junit(PathBuf),
    /// JSON (docs/report-schema.json).
    Json(PathBuf),
    /// One self-contained HTML page (`run` only).
    Html(PathBuf),
    /// A folder per scenario with everything needed to replay and judge it (`run` only).
    Evidence(PathBuf),
}

impl FromStr for ReportTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        // A bare path is JSON: the form `conform --report FILE` took first.
        let (kind, path) = s.split_once('=').unwrap_or(("json", s));
        if path.is_empty() {
            return Err(format!("`{s}` names no file"));
        }
        match kind {
            "junit" => Ok(ReportTarget::Junit(path.into())),
            "json" => Ok(ReportTarget::Json(path.into())),
            "html" => Ok(ReportTarget::Html(path.into())),
            "evidence" => Ok(ReportTarget::Evidence(path.into())),
            other => Err(format!(
                "`{other}` is not a report kind: junit, json, html or evidence"
            )),
        }
    }
}

/// One scenario's run: what it printed and how it ended.
#[derive(Debug)]
pub(crate) struct ScenarioRun {
    /// The scenario file.
    pub path: PathBuf,
    /// Its name.
    pub name: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// The seed it ran with.
    pub seed: u64,
    /// Its printed lines.
    pub output: String,
    /// Its report, or why the ecosystem could not be set up.
    pub outcome: Result<ScenarioReport, String>,
}

impl ScenarioRun {
    /// The first failed step: number, line, description, why, and its code.
    fn failure(&self) -> Option<(usize, usize, &str, &str, Option<ErrorCode>)> {
        let report = self.outcome.as_ref().ok()?;
        report.steps.iter().find_map(|step| match &step.result {
            StepResult::Failed { reason } => Some((
                step.number,
                step.line,
                step.description.as_str(),
                reason.as_str(),
                step.code,
            )),
            _ => None,
        })
    }
}

/// Writes every requested report.
pub(crate) fn write_reports(targets: &[ReportTarget], runs: &[ScenarioRun]) -> Result<(), String> {
    for target in targets {
        let (path, bytes) = match target {
            ReportTarget::Junit(path) => (path, junit(runs)?),
            ReportTarget::Json(path) => (path, json(runs)?),
            ReportTarget::Html(path) => (path, crate::html::html(runs).into_bytes()),
            ReportTarget::Evidence(dir) => {
                evidence(dir, runs)?;
                continue;
            }
        };
        write_report(path, &bytes)?;
    }
    Ok(())
}

/// Writes a report file, making its folder if needed.
pub(crate) fn write_report(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: cannot write the report: {e}", path.display()))
}

/// JUnit XML: one test suite, one test case per scenario (its classname the file); a failed scenario is
/// a failure whose message names the step, its line and its code, an ecosystem that could not be set
/// up an error. The scenario's printed lines are its system-out.
fn junit(runs: &[ScenarioRun]) -> Result<Vec<u8>, String> {
    let mut report = Report::new("careplan-sim run");
    let mut suite = TestSuite::new("scenarios");
    for run in runs {
        let status = match (&run.outcome, run.failure()) {
            (Err(e), _) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(format!("the ecosystem could not be set up: {e}"));
                status
            }
            (Ok(_), Some((step, line, description, reason, code))) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let code = code.map_or(String::new(), |c| format!(" [{}]", c.as_str()));
                status.set_message(format!("step {step} (line {line}) {description}: {reason}{code}"));
                if let Some(code) = code.strip_prefix(" [").and_then(|c| c.strip_suffix(']')) {
                    status.set_type(code);
                }
                status
            }
            (Ok(_), None) => TestCaseStatus::success(),
        };
        let mut case = TestCase::new(run.name.as_str(), status);
        case.set_classname(run.path.to_string_lossy().as_ref());
        case.set_system_out(run.output.as_str());
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    report
        .to_string()
        .map(String::into_bytes)
        .map_err(|e| format!("cannot write the JUnit report: {e}"))
}

#[derive(Serialize)]
struct JsonReport<'a> {
    report: &'static str,
    version: u32,
    passed: usize,
    failed: usize,
    errors: usize,
    scenarios: Vec<JsonScenario<'a>>,
}

#[derive(Serialize)]
struct JsonScenario<'a> {
    name: &'a str,
    path: String,
    tags: &'a [String],
    seed: u64,
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    steps: Vec<JsonStep<'a>>,
    events: &'a [Event],
}

#[derive(Serialize)]
struct JsonStep<'a> {
    number: usize,
    line: usize,
    description: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    at: time::OffsetDateTime,
    result: &'static str,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<ErrorCode>,
}

/// The JSON report (docs/report-schema.json).
fn json(runs: &[ScenarioRun]) -> Result<Vec<u8>, String> {
    let scenarios: Vec<JsonScenario<'_>> = runs
        .iter()
        .map(|run| {
            let (result, error, steps, events): (_, _, Vec<JsonStep<'_>>, &[Event]) = match &run.outcome {
                Err(e) => ("error", Some(e.as_str()), Vec::new(), &[]),
                Ok(report) => (
                    if report.passed() { "passed" } else { "failed" },
                    None,
                    report
                        .steps
                        .iter()
                        .map(|step| {
                            let (result, detail) = match &step.result {
                                StepResult::Passed { detail } => ("passed", detail.as_str()),
                                StepResult::Failed { reason } => ("failed", reason.as_str()),
                                StepResult::Skipped => ("skipped", ""),
                            };
                            JsonStep {
                                number: step.number,
                                line: step.line,
                                description: &step.description,
                                at: step.at,
                                result,
                                detail,
                                code: step.code,
                            }
                        })
                        .collect(),
                    &report.events,
                ),
            };
            JsonScenario {
                name: &run.name,
                path: run.path.to_string_lossy().into_owned(),
                tags: &run.tags,
                seed: run.seed,
                result,
                error,
                steps,
                events,
            }
        })
        .collect();
    let count = |wanted: &str| scenarios.iter().filter(|s| s.result == wanted).count();
    let report = JsonReport {
        report: "careplan-sim run",
        version: REPORT_VERSION,
        passed: count("passed"),
        failed: count("failed"),
        errors: count("error"),
        scenarios,
    };
    serde_json::to_vec_pretty(&report).map_err(|e| format!("cannot write the JSON report: {e}"))
}

/// SHA-256 in lower-case hex.
fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A name safe as one path component.
fn component(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match cleaned.as_str() {
        "" | "." | ".." => "_".to_owned(),
        _ => cleaned,
    }
}

/// The evidence bundle: a folder per scenario (`NN-name/`) with the scenario file as run, how to replay
/// it, its printed lines, its events (JSON lines), its JSON report, every file that crossed the relay
/// (with `SHA256SUMS`) and the offices' certificates (PEM, with their fingerprints).
fn evidence(dir: &Path, runs: &[ScenarioRun]) -> Result<(), String> {
    for (index, run) in runs.iter().enumerate() {
        let folder = dir.join(format!("{:02}-{}", index + 1, component(&run.name)));
        let put = |name: &str, bytes: &[u8]| write_report(&folder.join(name), bytes);
        let scenario = std::fs::read(&run.path).map_err(|e| format!("{}: {e}", run.path.display()))?;
        put("scenario.toml", &scenario)?;
        let result = match &run.outcome {
            Err(e) => format!("could not be set up: {e}"),
            Ok(_) => match run.failure() {
                Some((step, line, description, reason, _)) => {
                    format!("FAILED at step {step} (line {line}) {description}: {reason}")
                }
                None => "passed".to_owned(),
            },
        };
        put(
            "README.txt",
            format!(
                "scenario {} ({}), seed {}: {result}\n\nReplay it, byte for byte (events, exchanged files, printed steps):\n\n    \
                 careplan-sim run scenario.toml --seed {}\n\nA scenario whose offices run a vendor's product names its \
                 adapter.toml relative to the original file: copy it beside, or run the original.\n",
                run.name,
                run.path.display(),
                run.seed,
                run.seed
            )
            .as_bytes(),
        )?;
        put("output.txt", run.output.as_bytes())?;
        put("report.json", &json(std::slice::from_ref(run))?)?;
        let Ok(report) = &run.outcome else { continue };
        let events: String = report
            .events
            .iter()
            .map(|e| serde_json::to_string(e).map(|line| line + "\n"))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("cannot write the events: {e}"))?;
        put("events.jsonl", events.as_bytes())?;
        let mut sums = String::new();
        for file in &report.files {
            let relative = format!("files/{}-{}/{}", file.from, file.to, component(&file.name));
            put(&relative, &file.content)?;
            sums.push_str(&format!("{}  {relative}\n", sha256(&file.content)));
        }
        put("SHA256SUMS", sums.as_bytes())?;
        let mut listing = String::new();
        for certificate in &report.certificates {
            let name = format!("certificates/{}-{}.pem", certificate.office, certificate.serial);
            let pem = pem_encode(&certificate.der);
            put(&name, pem.as_bytes())?;
            listing.push_str(&format!(
                "{name}: office {} serial {} valid {} – {} SHA-256 {}\n",
                certificate.office,
                certificate.serial,
                careplan_core::format_jst(certificate.not_before),
                careplan_core::format_jst(certificate.not_after),
                sha256(&certificate.der)
            ));
        }
        put("certificates.txt", listing.as_bytes())?;
    }
    Ok(())
}

/// A DER certificate as PEM.
fn pem_encode(der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_targets_parse_and_bad_ones_say_why() {
        assert_eq!(
            "junit=out/r.xml".parse::<ReportTarget>(),
            Ok(ReportTarget::Junit("out/r.xml".into()))
        );
        assert_eq!(
            "json=r.json".parse::<ReportTarget>(),
            Ok(ReportTarget::Json("r.json".into()))
        );
        assert_eq!(
            "r.json".parse::<ReportTarget>(),
            Ok(ReportTarget::Json("r.json".into()))
        );
        assert!(
            "xml=r"
                .parse::<ReportTarget>()
                .unwrap_err()
                .contains("not a report kind")
        );
        assert!(
            "json="
                .parse::<ReportTarget>()
                .unwrap_err()
                .contains("names no file")
        );
    }
}
