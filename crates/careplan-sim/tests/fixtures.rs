//! The validator against `fixtures/`: every invalid case yields exactly its expected rule IDs (and its human
//! report is pinned by a snapshot); every valid case passes `--strict` without a finding, and its files read as
//! typed records write back byte for byte.

// Helpers outside #[test] functions unwrap too: a failing set-up is a failing test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

mod common;

use common::{careplan_sim, root};

fn cases(kind: &str) -> Vec<String> {
    let mut cases: Vec<String> = std::fs::read_dir(root().join("fixtures").join(kind))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    cases
}

#[test]
fn each_invalid_fixture_yields_exactly_its_rules() {
    let cases = cases("invalid");
    assert!(cases.len() >= 40, "only {} invalid fixtures", cases.len());
    let mut covered = BTreeSet::new();
    for case in cases {
        let dir = format!("fixtures/invalid/{case}");
        let expected_text = std::fs::read_to_string(root().join(&dir).join("expected")).unwrap();
        let expected: BTreeSet<&str> = expected_text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect();
        // A case checked with a table the files do not carry names it in `args`.
        let args = std::fs::read_to_string(root().join(&dir).join("args")).unwrap_or_default();
        let extra: Vec<&str> = args.split_whitespace().collect();
        let with = |first: &[&str]| -> Vec<String> {
            first
                .iter()
                .chain(&extra)
                .chain([&dir.as_str()])
                .map(|s| (*s).to_owned())
                .collect()
        };
        let json_args = with(&["validate", "--format", "json"]);
        let out = careplan_sim(&json_args.iter().map(String::as_str).collect::<Vec<_>>());
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let found: BTreeSet<String> = json["files"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|file| file["diagnostics"].as_array().unwrap())
            .map(|d| d["rule"].as_str().unwrap().to_owned())
            .collect();
        let found: BTreeSet<&str> = found.iter().map(String::as_str).collect();
        assert_eq!(found, expected, "{case}");
        let has_error = json["summary"]["errors"].as_u64().unwrap() > 0;
        assert_eq!(out.status.code(), Some(if has_error { 1 } else { 0 }), "{case}");
        covered.extend(expected.iter().map(|r| (*r).to_owned()));

        let human_args = with(&["validate"]);
        let human = careplan_sim(&human_args.iter().map(String::as_str).collect::<Vec<_>>());
        let report = String::from_utf8(human.stdout).unwrap();
        insta::assert_snapshot!(
            format!("fixture-{case}"),
            report,
            expected_text.lines().next().unwrap_or("")
        );
    }
    assert!(
        covered.len() >= 30,
        "the fixtures exercise only {} rules",
        covered.len()
    );
}

/// Every rule has a fixture that it alone catches: were the rule turned off, that fixture would pass, so no
/// rule is dead weight behind another and each is shown to work end to end.
#[test]
fn every_rule_has_a_fixture_only_it_catches() {
    let sole: BTreeSet<String> = cases("invalid")
        .into_iter()
        .filter_map(|case| {
            let expected =
                std::fs::read_to_string(root().join("fixtures/invalid").join(&case).join("expected"))
                    .unwrap();
            let rules: Vec<&str> = expected
                .lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
                .collect();
            (rules.len() == 1).then(|| rules[0].to_owned())
        })
        .collect();
    let missing: Vec<&str> = careplan_spec::validate::Rule::ALL
        .iter()
        .map(|rule| rule.id())
        .filter(|id| !sole.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "rules without a fixture only they catch: {missing:?}"
    );
}

#[test]
fn valid_fixtures_pass_strict_without_findings() {
    for case in cases("valid") {
        let dir = format!("fixtures/valid/{case}");
        // Alone, and against the sample service-code table, which holds every code they use.
        for table in [&[][..], &["--service-codes", "fixtures/service-codes.csv"]] {
            let args = [
                &["validate", "--strict", "--format", "json"],
                table,
                &[dir.as_str()],
            ]
            .concat();
            let out = careplan_sim(&args);
            assert_eq!(out.status.code(), Some(0), "{case} {table:?}");
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(json["summary"]["errors"], 0, "{case}");
            assert_eq!(json["summary"]["warnings"], 0, "{case}");
            let codes = &json["summary"]["service_code_table"]["codes"];
            assert_eq!(codes.as_u64(), (!table.is_empty()).then_some(2), "{case}");
        }
    }
}

#[test]
fn valid_files_read_as_typed_records_write_back_byte_for_byte() {
    use careplan_spec::records::RecordSet;
    use careplan_spec::{FileName, ms932};
    let mut checked = 0;
    for case in cases("valid") {
        for entry in std::fs::read_dir(root().join("fixtures/valid").join(&case)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap();
            let kind = name.parse::<FileName>().unwrap().kind;
            let bytes = std::fs::read(&path).unwrap();
            let text = ms932::decode(&bytes).unwrap();
            // Only the round trip's files have typed records.
            let Ok(records) = RecordSet::read(kind, &text) else {
                continue;
            };
            assert_eq!(ms932::encode(&records.write()).unwrap(), bytes, "{case}/{name}");
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} files checked");
}
