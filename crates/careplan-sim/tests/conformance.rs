//! The conformance suite end to end through `careplan-sim conform`: the reference adapter passes every
//! case; the faulty adapter's defects, switched on one at a time, are each caught by the case that
//! names them; a provider-only product is not held to the care manager's cases.

// Helpers outside #[test] functions unwrap too: a failing set-up is a failing test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

mod common;

use common::{careplan_sim, root, text, use_built_adapters};

/// A copy of a shipped adapter file with `from` replaced by `to`, in a scratch folder.
fn adapter_variant(shipped: &str, from: &str, to: &str, name: &str) -> PathBuf {
    let original = std::fs::read_to_string(root().join(shipped)).unwrap();
    assert!(original.contains(from), "{shipped} no longer contains {from:?}");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, original.replace(from, to)).unwrap();
    path
}

#[test]
fn the_reference_adapter_passes_every_case_and_the_report_says_so() {
    use_built_adapters();
    let report = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{}.json", std::process::id()));
    let junit = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("junit-{}.xml", std::process::id()));
    let out = careplan_sim(&[
        "conform",
        "--adapter",
        "adapters/reference/adapter.toml",
        "--report",
        report.to_str().unwrap(),
        "--report",
        &format!("junit={}", junit.display()),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let cases = careplan_conform::suite().unwrap();
    assert_eq!(stdout.matches("  pass  ").count(), cases.len(), "{stdout}");
    assert!(
        stdout.contains(&format!("{0} case(s): {0} passed, 0 failed", cases.len())),
        "{stdout}"
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["passed"], cases.len());
    let xml = quick_junit::Report::deserialize_from_str(&std::fs::read_to_string(&junit).unwrap()).unwrap();
    let junit_cases = &xml.test_suites[0].test_cases;
    assert_eq!(junit_cases.len(), cases.len());
    assert!(
        junit_cases
            .iter()
            .all(|c| matches!(c.status, quick_junit::TestCaseStatus::Success { .. }))
    );
    assert!(junit_cases[0].name.as_str().starts_with(&cases[0].header.id));
    assert_eq!(json["cases"][0]["result"], "passed");
    assert!(json["cases"][0]["source"].as_str().unwrap().contains("V4.1"));
    // Every requirement the passing suite cites is shown met; none is not met.
    let met = json["requirements_met"].as_array().unwrap();
    assert!(met.len() > 500, "{} met", met.len());
    assert!(met.iter().any(|id| id == "UPPLAN-X-ONE-MONTH") && met.iter().any(|id| id == "FILE-ENCODING"));
    assert_eq!(json["requirements_not_met"], serde_json::json!([]));
    assert!(
        stdout.contains(&format!("{} shown met, 0 not met", met.len())),
        "{stdout}"
    );
    // Every case records the product's calls: the first case exports, imports and exports again.
    let calls = json["cases"][0]["calls"].as_array().unwrap();
    assert!(!calls.is_empty(), "{json}");
    assert!(
        calls.iter().all(|c| c["status"] == 0 && c["timed_out"] == false),
        "{json}"
    );
}

/// Runs the faulty adapter with `defect` on `case` and checks the case fails with evidence, while the
/// reference adapter passes it.
fn caught(defect: &str, case: &str, evidence: &str) {
    use_built_adapters();
    let faulty = adapter_variant(
        "adapters/faulty/adapter.toml",
        "\"--defect\", \"utf8\"",
        &format!("\"--defect\", \"{defect}\""),
        defect,
    );
    let out = careplan_sim(&["conform", "--adapter", faulty.to_str().unwrap(), "--case", case]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{defect}: {stdout}{}",
        text(&out.stderr)
    );
    assert!(stdout.contains(&format!("FAIL  {case}")), "{defect}: {stdout}");
    assert!(
        stdout.contains(evidence),
        "{defect}: expected evidence {evidence:?} in\n{stdout}"
    );
    // The case's requirements are reported not met, and none of them met.
    let cited = careplan_conform::suite()
        .unwrap()
        .into_iter()
        .find(|c| c.header.id == case)
        .unwrap()
        .requirements()
        .unwrap()
        .len();
    assert!(
        stdout.contains(&format!("0 shown met, {cited} not met")),
        "{defect}: {stdout}"
    );
    let reference = careplan_sim(&[
        "conform",
        "--adapter",
        "adapters/reference/adapter.toml",
        "--case",
        case,
    ]);
    assert_eq!(reference.status.code(), Some(0), "{}", text(&reference.stdout));
}

#[test]
fn utf8_exports_are_caught_by_plan_export_002() {
    caught("utf8", "PLAN-EXPORT-002", ": ENCODING (");
}

#[test]
fn a_missing_annex_is_caught_by_plan_export_001() {
    caught("missing-file", "PLAN-EXPORT-001", "SEND_UNIT");
}

#[test]
fn a_dropped_field_is_caught_by_plan_export_003() {
    caught("field-dropped", "PLAN-EXPORT-003", "line 1: FIELD_COUNT");
}

#[test]
fn unquoted_free_text_is_caught_by_plan_export_004() {
    caught("unquoted-text", "PLAN-EXPORT-004", "FREE_TEXT_UNQUOTED");
}

#[test]
fn a_wrong_month_in_the_name_is_caught_by_plan_export_005() {
    caught(
        "wrong-month",
        "PLAN-EXPORT-005",
        "the name carries service month 202506, the step exported 202505",
    );
}

#[test]
fn a_re_sent_plan_kept_twice_is_caught_by_plan_resend_001() {
    caught(
        "resent-plan-doubled",
        "PLAN-RESEND-001",
        "expected 28 record(s) imported, found 56",
    );
}

#[test]
fn a_visit_lost_silently_at_import_is_caught_by_plan_import_002() {
    caught("drops-a-visit", "PLAN-IMPORT-002", "1 missing, the first: user");
}

#[test]
fn a_gaiji_exported_as_is_is_caught_by_plan_edge_005() {
    caught(
        "gaiji-kept",
        "PLAN-EDGE-005",
        "外字 (user-defined character F0 40) is forbidden",
    );
}

#[test]
fn an_annex_without_subtotals_is_caught_by_plan_edge_001() {
    caught(
        "no-subtotal",
        "PLAN-EDGE-001",
        "ANNEX_SUBTOTAL_MISSING (§6.8, §10.21): user",
    );
}

#[test]
fn a_visit_left_out_of_a_valid_export_is_caught_by_plan_edge_007() {
    caught(
        "export-drops-a-visit",
        "PLAN-EDGE-007",
        "1 prepared visit(s) missing, the first: user",
    );
}

#[test]
fn deletions_taken_without_deleting_are_caught_by_each_deletion_case() {
    caught(
        "deletions-ignored",
        "PLAN-DELETE-002",
        "helper holds 28 visit(s), cm holds 0; 28 extra",
    );
    caught(
        "deletions-ignored",
        "ACTUALS-DELETE-002",
        "cm holds 28 visit(s), helper holds 0; 28 extra",
    );
    caught(
        "deletions-ignored",
        "PLAN-TABLES-004",
        "helper holds 3 care plan(s), cm holds 0; 3 extra",
    );
}

#[test]
fn a_plan_s_supplement_linked_to_a_month_is_caught_by_plan_tables_001() {
    caught(
        "supplement-month-linked",
        "PLAN-TABLES-001",
        "SUPPLEMENT_LINK (§6.1, §10.27): field 63 対象年月: `202505` in a plan's supplement should be 000000",
    );
}

#[test]
fn prevention_annexes_without_their_parent_are_caught_by_prevention_001() {
    caught(
        "prevention-parent-missing",
        "PREVENTION-001",
        "a send unit of UPKIHON + UPKIHON_SUB1 lacks UPKIHON",
    );
}

#[test]
fn a_provider_only_product_is_not_held_to_the_care_manager_s_cases() {
    use_built_adapters();
    let provider_only = adapter_variant(
        "adapters/reference/adapter.toml",
        "export_plan = [",
        "not_an_operation_export_plan = [",
        "provider-only",
    );
    // The rename makes the file invalid: an unknown field is refused with its line.
    let out = careplan_sim(&["conform", "--adapter", provider_only.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("unknown field `not_an_operation_export_plan`"),
        "{}",
        text(&out.stderr)
    );
    let text_of = std::fs::read_to_string(root().join("adapters/reference/adapter.toml")).unwrap();
    let start = text_of.find("export_plan = [").unwrap();
    let end = start + text_of[start..].find("]\n").unwrap() + 2;
    let dir = provider_only.parent().unwrap();
    let path = dir.join("provider-only-valid.toml");
    std::fs::write(&path, format!("{}{}", &text_of[..start], &text_of[end..])).unwrap();
    let out = careplan_sim(&["conform", "--adapter", path.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("n/a   PLAN-EXPORT-001"), "{stdout}");
    assert!(
        stdout.contains("(the adapter declares no export_plan)"),
        "{stdout}"
    );
    assert!(stdout.contains("pass  PLAN-IMPORT-001"), "{stdout}");
    assert!(stdout.contains("pass  PLAN-RESEND-001"), "{stdout}");
}

#[test]
fn an_unknown_case_and_an_unreadable_adapter_exit_2() {
    let out = careplan_sim(&[
        "conform",
        "--adapter",
        "adapters/reference/adapter.toml",
        "--case",
        "NOPE-*",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no case matches NOPE-*"),
        "{}",
        text(&out.stderr)
    );
    let out = careplan_sim(&["conform", "--adapter", "adapters/none.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("adapters/none.toml: cannot read the file"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_matrix_says_who_exchanges_with_whom_and_the_first_failing_case_of_each_cell() {
    use_built_adapters();
    let doubled = adapter_variant(
        "adapters/faulty/adapter.toml",
        "\"--defect\", \"utf8\"",
        "\"--defect\", \"resent-plan-doubled\"",
        "matrix-doubled",
    );
    let out = careplan_sim(&[
        "conform",
        "--matrix",
        "adapters/reference/adapter.toml",
        doubled.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let row = |label: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{label} ")) && !l.contains('='))
            .unwrap_or_else(|| panic!("no row {label} in\n{stdout}"))
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    // The doubling product fails only where it is the provider that holds the re-sent plan.
    let exchanges = careplan_conform::suite()
        .unwrap()
        .iter()
        .filter(|c| c.header.peer.is_some())
        .count();
    let expected = format!("ok ({exchanges}) FAIL PLAN-RESEND-001");
    assert_eq!(row("A"), expected, "{stdout}");
    assert_eq!(row("B"), expected, "{stdout}");
    assert!(
        stdout.contains("A → B: PLAN-RESEND-001 fails at step 12"),
        "{stdout}"
    );
    assert!(
        stdout.contains("4 pair(s): 2 exchange, 2 fail, 0 not applicable"),
        "{stdout}"
    );
    let alone = careplan_sim(&["conform", "--matrix", "adapters/reference/adapter.toml"]);
    assert_eq!(alone.status.code(), Some(2), "a matrix needs two products");
}
