//! `careplan-sim run`'s results for machines and people, through the binary: JUnit a CI system reads,
//! JSON valid against the published schema, parallel runs identical to sequential ones, filters, and the
//! determinism check over every delivered scenario (and its failure on a scenario made
//! non-deterministic on purpose).

// Helpers outside #[test] functions unwrap too: a failing set-up is a failing test.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

mod common;

use common::{careplan_sim, root, text, use_built_adapters};

/// A scratch folder of this test process.
fn scratch(name: &str) -> PathBuf {
    common::scratch("reports", name)
}

#[test]
fn a_failing_scenario_reaches_junit_with_its_step_line_and_code_and_json_validates() {
    use_built_adapters();
    let dir = scratch("failing");
    std::fs::write(dir.join("failing.toml"), common::FAILING).unwrap();
    let (junit, json) = (dir.join("out/junit.xml"), dir.join("out/report.json"));
    let out = careplan_sim(&[
        "run",
        "scenarios/roundtrip",
        dir.join("failing.toml").to_str().unwrap(),
        "--report",
        &format!("junit={}", junit.display()),
        "--report",
        &format!("json={}", json.display()),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));

    let report = Report::deserialize_from_str(&std::fs::read_to_string(&junit).unwrap()).unwrap();
    let cases = &report.test_suites[0].test_cases;
    assert!(cases.len() >= 2);
    let failing = cases
        .iter()
        .find(|c| c.name.as_str() == "expects-the-wrong-code")
        .unwrap();
    assert!(
        failing
            .classname
            .as_ref()
            .is_some_and(|c| c.as_str().ends_with("failing.toml"))
    );
    match &failing.status {
        TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Failure,
            message,
            ty,
            ..
        } => {
            let message = message.as_ref().unwrap().as_str();
            assert!(
                message.starts_with("step 2 (line 28) export_actuals helper → cm 202505:"),
                "{message}"
            );
            assert!(message.ends_with("[NOTHING_TO_SEND]"), "{message}");
            assert_eq!(ty.as_ref().unwrap().as_str(), "NOTHING_TO_SEND");
        }
        other => panic!("not a failure: {other:?}"),
    }
    let passing = cases
        .iter()
        .filter(|c| matches!(c.status, TestCaseStatus::Success { .. }));
    assert_eq!(passing.count(), cases.len() - 1);

    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("docs/report-schema.json")).unwrap())
            .unwrap();
    let instance: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(instance["failed"], 1);
    let scenario = instance["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "expects-the-wrong-code")
        .unwrap();
    assert_eq!(scenario["tags"][0], "demo");
    assert_eq!(scenario["steps"][1]["result"], "failed");
    assert_eq!(scenario["steps"][2]["result"], "skipped");
    assert!(
        scenario["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "exported")
    );
}

#[test]
fn two_jobs_print_and_report_exactly_what_one_job_does() {
    use_built_adapters();
    let dir = scratch("jobs");
    let run = |jobs: &str| {
        let (junit, json) = (dir.join(format!("{jobs}.xml")), dir.join(format!("{jobs}.json")));
        let out = careplan_sim(&[
            "run",
            "scenarios",
            "-j",
            jobs,
            "--report",
            &format!("junit={}", junit.display()),
            "--report",
            &format!("json={}", json.display()),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        (
            out.stdout,
            std::fs::read(junit).unwrap(),
            std::fs::read(json).unwrap(),
        )
    };
    let (one, two) = (run("1"), run("2"));
    assert!(one.0 == two.0, "stdout differs between -j 1 and -j 2");
    assert!(one.1 == two.1, "the JUnit reports differ");
    assert!(one.2 == two.2, "the JSON reports differ");
}

#[test]
fn filters_select_by_tag_name_and_path_and_list_runs_nothing() {
    let dir = scratch("filters");
    std::fs::write(dir.join("failing.toml"), common::FAILING).unwrap();
    let failing = dir.join("failing.toml");
    let listed = |filter: &str| {
        let out = careplan_sim(&[
            "run",
            "scenarios",
            failing.to_str().unwrap(),
            "--list",
            "--filter",
            filter,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout).lines().map(str::to_owned).collect::<Vec<_>>()
    };
    let by_tag = listed("tag:demo");
    assert_eq!(by_tag.len(), 1);
    assert!(
        by_tag[0].ends_with("failing.toml  expects-the-wrong-code [demo]"),
        "{by_tag:?}"
    );
    assert_eq!(listed("name:expects-*"), by_tag);
    let vendors = listed("scenarios/vendors/*");
    assert!(vendors.len() >= 3 && vendors.iter().all(|l| l.starts_with("scenarios/vendors/")));
    let out = careplan_sim(&["run", "scenarios", "--filter", "tag:nothing-has-it"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no scenario matches tag:nothing-has-it"));
}

#[test]
fn every_delivered_scenario_is_deterministic_and_a_non_deterministic_one_is_named() {
    use_built_adapters();
    let out = careplan_sim(&["run", "scenarios", "--check-determinism"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let count = stdout.lines().filter(|l| l.starts_with("  same  ")).count();
    assert!(count >= 34, "{stdout}");
    assert!(stdout.contains(&format!(
        "{count} scenario(s) run twice: {count} the same, 0 differ"
    )));

    // A product whose export carries the wall clock's nanoseconds: the exchanged bytes differ.
    let dir = scratch("nondeterministic");
    std::fs::write(
        dir.join("clock.toml"),
        "[adapter]\nname = \"Wall Clock Care\"\ncontract = 1\n[operations]\n\
         export_plan = [\"sh\", \"-c\", \"date +%N > {outbox}/UPPLAN_{month}_{office}_{kind}_{to}_{to_kind}_{now}.CSV\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("clock-scenario.toml"),
        r#"
[scenario]
name = "wall-clock-export"
seed = 1
start = 2025-05-01T09:00:00+09:00

[[office]]
id = "cm"
role = "care_management"
number = "1310000001"
kind = "43"
software = { adapter = "clock.toml" }

[[office]]
id = "helper"
role = "service"
number = "1310000002"
kind = "11"

[[step]]
action = "export_plan"
office = "cm"
to = "helper"
month = "2025-05"
"#,
    )
    .unwrap();
    let out = careplan_sim(&[
        "run",
        dir.join("clock-scenario.toml").to_str().unwrap(),
        "--check-determinism",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("  DIFF  wall-clock-export"), "{stdout}");
    assert!(stdout.contains("differs:\n    first:  {\"at\":"), "{stdout}");
    assert!(stdout.contains("\"event\":\"exported\""), "{stdout}");
    assert!(
        stdout.contains("1 scenario(s) run twice: 0 the same, 1 differ"),
        "{stdout}"
    );
}

#[test]
fn an_evidence_bundle_replays_byte_for_byte() {
    let dir = scratch("evidence");
    let (first, second) = (dir.join("first"), dir.join("second"));
    let out = careplan_sim(&[
        "run",
        "scenarios/roundtrip/plan-and-actual.toml",
        "--seed",
        "11",
        "--report",
        &format!("evidence={}", first.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bundle = first.join("01-plan-and-actual");
    let readme = std::fs::read_to_string(bundle.join("README.txt")).unwrap();
    assert!(
        readme.contains("careplan-sim run scenario.toml --seed 11"),
        "{readme}"
    );
    let replay = std::process::Command::new(env!("CARGO_BIN_EXE_careplan-sim"))
        .args(["run", "scenario.toml", "--seed", "11", "--report"])
        .arg(format!("evidence={}", second.display()))
        .current_dir(&bundle)
        .output()
        .unwrap();
    assert_eq!(replay.status.code(), Some(0), "{}", text(&replay.stderr));
    let replayed = second.join("01-plan-and-actual");
    let read = |dir: &std::path::Path, name: &str| std::fs::read(dir.join(name)).unwrap();
    for name in ["events.jsonl", "SHA256SUMS", "certificates.txt"] {
        assert!(read(&bundle, name) == read(&replayed, name), "{name} differs");
    }
    let sums = String::from_utf8(read(&bundle, "SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 4, "{sums}");
    for line in sums.lines() {
        let (_, file) = line.split_once("  ").unwrap();
        assert!(read(&bundle, file) == read(&replayed, file), "{file} differs");
    }
    let steps = |dir: &std::path::Path| {
        let text = String::from_utf8(read(dir, "output.txt")).unwrap();
        text.lines().skip(1).map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(steps(&bundle), steps(&replayed));
    let certificates = String::from_utf8(read(&bundle, "certificates.txt")).unwrap();
    assert_eq!(certificates.lines().count(), 2);
    assert!(certificates.contains("SHA-256 "));
}
