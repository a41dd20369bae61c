//! The `careplan-sim run` contract, end to end through the binary: output, exit statuses, messages.

// Helpers outside #[test] functions unwrap too: a failing set-up is a failing test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

mod common;

use common::{careplan_sim, root, text};

/// Writes `content` to a scratch scenario file of this test process.
fn scratch_file(name: &str, content: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// A scratch copy of a delivered scenario with one edit applied.
fn edited_scenario(name: &str, from: &str, to: &str) -> PathBuf {
    let original = std::fs::read_to_string(root().join("scenarios").join(name)).unwrap();
    assert!(original.contains(from), "{name} no longer contains {from:?}");
    let file = format!(
        "{}-{}.toml",
        name.replace('/', "-").trim_end_matches(".toml"),
        to.replace(['"', ' ', '='], "_")
    );
    scratch_file(&file, &original.replacen(from, to, 1))
}

#[test]
fn the_round_trip_passes_with_a_stable_report() {
    let out = careplan_sim(&["run", "scenarios/roundtrip/plan-and-actual.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Same scenario, same seed: the same report, byte for byte.
    let again = careplan_sim(&["run", "scenarios/roundtrip/plan-and-actual.toml"]);
    assert_eq!(out.stdout, again.stdout);
    insta::assert_snapshot!(text(&out.stdout));
}

/// Onboarding over the portal, the CA and the relay replays exactly: the same passwords, the same
/// certificate with the same fingerprint, the same report.
#[test]
fn onboarding_replays_with_the_same_certificate_fingerprint() {
    let out = careplan_sim(&["run", "scenarios/certificates/onboarding.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let again = careplan_sim(&["run", "scenarios/certificates/onboarding.toml"]);
    assert_eq!(out.stdout, again.stdout);
    assert!(text(&out.stdout).contains("(SHA-256 "), "{}", text(&out.stdout));
    insta::assert_snapshot!(text(&out.stdout));
}

#[test]
fn another_seed_generates_other_data() {
    let base = careplan_sim(&["run", "scenarios/roundtrip/plan-and-actual.toml"]);
    let other = careplan_sim(&["run", "--seed", "1", "scenarios/roundtrip/plan-and-actual.toml"]);
    assert_eq!(other.status.code(), Some(0));
    assert_ne!(base.stdout, other.stdout);
    assert!(text(&other.stdout).contains("seed 1)"));
}

#[test]
fn a_wrong_expect_error_fails_the_scenario_with_exit_1() {
    let path = edited_scenario(
        "certificates/expired-at-handshake.toml",
        "expect_error = \"CERT_EXPIRED\"",
        "expect_error = \"CERT_UNTRUSTED\"",
    );
    let out = careplan_sim(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("expected CERT_UNTRUSTED, but failed with CERT_EXPIRED"),
        "{stdout}"
    );
    assert!(stdout.contains("skipped"), "later steps are skipped: {stdout}");
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
}

#[test]
fn an_expected_error_that_does_not_happen_fails() {
    // Without the 1-second step the certificate is still valid: the send succeeds, which is a failure.
    let path = edited_scenario(
        "certificates/expired-at-handshake.toml",
        "by = \"1s\"",
        "by = \"0s\"",
    );
    let out = careplan_sim(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("expected CERT_EXPIRED, but the step succeeded"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_failed_assertion_fails_the_scenario() {
    let path = edited_scenario(
        "roundtrip/plan-and-actual.toml",
        "expect_users = 3",
        "expect_users = 4",
    );
    let out = careplan_sim(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("expected 4 user(s) in the imported sheets, found 3"));
}

#[test]
fn a_malformed_file_exits_2_with_file_line_and_reason_and_runs_nothing() {
    let path = edited_scenario(
        "roundtrip/plan-and-actual.toml",
        "action = \"send\"",
        "action = \"sned\"",
    );
    let good = root().join("scenarios/certificates/expired-at-handshake.toml");
    let out = careplan_sim(&["run", good.to_str().unwrap(), path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:33: step 2: unknown action `sned`", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was run"), "{stderr}");
    assert!(text(&out.stdout).is_empty(), "no scenario ran");

    let broken = edited_scenario("roundtrip/plan-and-actual.toml", "users = 3", "users = [3");
    let out = careplan_sim(&["run", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(":32: missing comma between array elements"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn missing_paths_and_bad_arguments_exit_2() {
    assert_eq!(
        careplan_sim(&["run", "scenarios/no-such-file.toml"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(careplan_sim(&["run"]).status.code(), Some(2));
    assert_eq!(careplan_sim(&["frobnicate"]).status.code(), Some(2));
    let help = careplan_sim(&["run", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("--seed"));
}

#[test]
fn every_delivered_scenario_passes() {
    let out = careplan_sim(&["run", "scenarios"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}

#[test]
fn the_readme_example_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let path = scratch_file("readme.toml", &readme[start..end]);
    let out = careplan_sim(&["run", path.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("failed as expected with CERT_EXPIRED"));
}

/// A V4.1 service usage record (the spec's example) and its file name.
const PLAN_NAME: &str = "UPPLAN_202505_1310000001_43_1310000002_11_20250425103000.CSV";
const PLAN_RECORD: &str = "202407,131001,0000012345,20250425,202505,1310000001,\"YAMADA\",250,,20250501,,0900,0930,1,\
                           111111,,,,,1310000002,\"A\",,0,1310000001,\r\n";

#[test]
fn validate_reports_findings_with_rule_file_and_line() {
    let good = scratch_file(PLAN_NAME, PLAN_RECORD);
    let out = careplan_sim(&["validate", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("1 file(s): 0 error(s), 1 warning(s)"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("warning[SEND_UNIT_PARTIAL]"));

    let bad_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("validate-{}", std::process::id()));
    std::fs::create_dir_all(&bad_dir).unwrap();
    let bad = bad_dir.join(PLAN_NAME);
    std::fs::write(
        &bad,
        format!(
            "{PLAN_RECORD}{}",
            PLAN_RECORD
                .replace(",202505,", ",202506,")
                .replace(",20250501,", ",20250601,")
        ),
    )
    .unwrap();
    let out = careplan_sim(&["validate", bad_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "{}:2: error[MONTH_MISMATCH] field 5 対象年月",
            bad.display()
        )),
        "{stdout}"
    );

    let out = careplan_sim(&["validate", "--format", "json", bad_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["summary"],
        serde_json::json!({"files": 1, "errors": 1, "warnings": 1, "service_code_table": null})
    );
    let file = &json["files"][0];
    assert_eq!(
        (
            file["kind"].as_str(),
            file["csv_version"].as_str(),
            file["records"].as_u64()
        ),
        (Some("UPPLAN"), Some("202407"), Some(2))
    );
    let diagnostic = &file["diagnostics"][0];
    assert_eq!(diagnostic["rule"], "MONTH_MISMATCH");
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(
        (diagnostic["line"].as_u64(), diagnostic["field"].as_u64()),
        (Some(2), Some(5))
    );
}

#[test]
fn validate_strict_turns_warnings_into_errors_and_bad_paths_exit_2() {
    let empty = scratch_file(&PLAN_NAME.replace("20250425103000", "20250425103001"), "");
    assert_eq!(
        careplan_sim(&["validate", empty.to_str().unwrap()]).status.code(),
        Some(0)
    );
    assert_eq!(
        careplan_sim(&["validate", "--strict", empty.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        careplan_sim(&["validate", "no/such/file.CSV"]).status.code(),
        Some(2)
    );
    assert_eq!(
        careplan_sim(&["validate", "--format", "xml", empty.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn validate_reads_a_service_code_table_and_refuses_a_broken_one_with_its_line() {
    let bundle = "fixtures/valid/plan-bundle";
    // A table in which the bundle's code 111111 applies only from June: the May plan's lines are refused.
    let june = scratch_file(
        "codes-june.txt",
        "service_code,valid_from,units\n111111,202506,244\n",
    );
    let out = careplan_sim(&["validate", "--service-codes", june.to_str().unwrap(), bundle]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains("error[SERVICE_CODE_UNKNOWN] field 15 サービスコード: `111111` applies from 202506, not in 対象年月 202505"),
        "{report}"
    );
    // The 7表 rows are checked too (service rows only: the 999999 total row is not a service code).
    assert_eq!(report.matches("UPSIKYU_").count(), 2, "{report}");
    let broken = scratch_file("codes-broken.txt", "service_code,valid_from\n111111,2025-13\n");
    let out = careplan_sim(&["validate", "--service-codes", broken.to_str().unwrap(), bundle]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("codes-broken.txt: line 2, column valid_from: `2025-13` must be YYYYMM"),
        "{}",
        text(&out.stderr)
    );
    let missing = careplan_sim(&["validate", "--service-codes", "no/such/table.csv", bundle]);
    assert_eq!(missing.status.code(), Some(2));
    // A table kept in the folder validated is read as the table, not validated as a file of the export.
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("table-beside-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    for entry in std::fs::read_dir(root().join(bundle)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), folder.join(entry.file_name())).unwrap();
    }
    std::fs::copy(
        root().join("fixtures/service-codes.csv"),
        folder.join("codes.csv"),
    )
    .unwrap();
    let beside = folder.join("codes.csv");
    let out = careplan_sim(&[
        "validate",
        "--strict",
        "--service-codes",
        beside.to_str().unwrap(),
        folder.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("3 file(s): 0 error(s)"),
        "{}",
        text(&out.stdout)
    );
    // Without a table, an unknown code is no finding: the files alone cannot show it.
    let unknown = careplan_sim(&["validate", "--strict", "fixtures/invalid/service-code-unknown"]);
    assert_eq!(unknown.status.code(), Some(0), "{}", text(&unknown.stdout));
}

#[test]
fn everything_gen_writes_validates_and_the_seed_fixes_the_bytes() {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("gen-{}", std::process::id()));
    for seed in ["1", "2", "3", "42", "20250425"] {
        let dir = base.join(seed);
        let out = careplan_sim(&[
            "gen",
            "--seed",
            seed,
            "--month",
            "2025-05",
            "--users",
            "8",
            "--providers",
            "5",
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        // A plan send unit of three files to each provider, and each provider's actuals.
        assert!(text(&out.stdout).contains("wrote 20 file(s)"));
        let check = careplan_sim(&["validate", "--strict", "--format", "json", dir.to_str().unwrap()]);
        let json: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
        assert_eq!(
            json["summary"],
            serde_json::json!({"files": 20, "errors": 0, "warnings": 0, "service_code_table": null}),
            "seed {seed}"
        );
        let mut kinds: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                name.strip_prefix("UPJSK_")
                    .map(|rest| rest[18..20].to_owned())
                    .unwrap_or_default()
            })
            .filter(|kind| !kind.is_empty())
            .collect();
        kinds.sort();
        assert_eq!(
            kinds,
            ["11", "13", "15", "17", "21"],
            "actuals from every kind of provider"
        );
    }
    let again = base.join("1-again");
    careplan_sim(&[
        "gen",
        "--seed",
        "1",
        "--month",
        "2025-05",
        "--users",
        "8",
        "--providers",
        "5",
        "--out",
        again.to_str().unwrap(),
    ]);
    for entry in std::fs::read_dir(base.join("1")).unwrap() {
        let path = entry.unwrap().path();
        let copy = again.join(path.file_name().unwrap());
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(copy).unwrap(),
            "{}",
            path.display()
        );
    }
    assert_eq!(
        careplan_sim(&["gen", "--month", "202513", "--out", base.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    let too_few_users = careplan_sim(&[
        "gen",
        "--month",
        "202505",
        "--users",
        "2",
        "--providers",
        "3",
        "--out",
        base.to_str().unwrap(),
    ]);
    assert_eq!(too_few_users.status.code(), Some(2));
    assert!(text(&too_few_users.stderr).contains("every provider needs at least one user"));
}

#[test]
#[cfg(unix)]
fn validate_refuses_a_fifo_instead_of_blocking_on_it() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("UPPLAN_202505_1310000001_43_1310000002_11_20250425103000.CSV");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let out = careplan_sim(&["validate", fifo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not a regular file"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_same_send_unit_in_two_folders_is_two_send_units() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("two-exports-{}", std::process::id()));
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/valid/plan-bundle");
    for export in ["monday", "tuesday"] {
        std::fs::create_dir_all(root.join(export)).unwrap();
        for entry in std::fs::read_dir(&bundle).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, root.join(export).join(path.file_name().unwrap())).unwrap();
        }
    }
    let out = careplan_sim(&[
        "validate",
        root.join("monday").to_str().unwrap(),
        root.join("tuesday").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("6 file(s): 0 error(s), 0 warning(s)"),
        "{}",
        text(&out.stdout)
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn gen_refuses_months_before_the_v4_standard_instead_of_writing_invalid_files() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("gen-v3-{}", std::process::id()));
    let out = careplan_sim(&["gen", "--month", "2025-03", "--out", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("from 202504"), "{}", text(&out.stderr));
    assert!(!out_dir.exists(), "nothing is written");
}

/// The figures of a simulated month that do not depend on the machine.
const MONTH_FIGURES: [&str; 7] = [
    "planned",
    "accepted",
    "delivered",
    "waiting",
    "refused",
    "days",
    "population",
];

/// Runs `careplan-sim simulate ARGS --summary DIR/NAME`: its output and the summary, if one was written.
fn simulate(dir: &Path, name: &str, args: &[&str]) -> (std::process::Output, Option<serde_json::Value>) {
    let path = dir.join(name);
    let mut all = vec!["simulate"];
    all.extend_from_slice(args);
    all.extend(["--summary", path.to_str().unwrap()]);
    let out = careplan_sim(&all);
    let summary = std::fs::read_to_string(&path)
        .ok()
        .map(|json| serde_json::from_str::<serde_json::Value>(&json).unwrap());
    (out, summary)
}

#[test]
fn simulate_gives_the_same_month_on_a_durable_store() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("simulate-sqlite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("month.sqlite");
    let month = |store: &[&str], name: &str| {
        let mut args = vec!["--scale", "0.0001", "--seed", "9"];
        args.extend_from_slice(store);
        simulate(&dir, name, &args)
    };
    let (out, memory) = month(&[], "memory.json");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let sqlite_args = ["--store", "sqlite", "--sqlite-file", database.to_str().unwrap()];
    let (out, sqlite) = month(&sqlite_args, "sqlite.json");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (memory, sqlite) = (memory.unwrap(), sqlite.unwrap());
    for key in MONTH_FIGURES {
        assert_eq!(memory[key], sqlite[key], "{key}");
    }
    assert_eq!(sqlite["store"], "sqlite");
    assert!(sqlite["accepted"].as_u64().unwrap() > 100, "{sqlite}");
    // The file holds the month: its size is measured, and a second month on it would find its serials taken.
    assert!(sqlite["store_bytes"].as_u64().unwrap() > 100_000, "{sqlite}");
    assert!(memory["store_bytes"].is_null());
    let (out, _) = month(&sqlite_args, "again.json");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("already holds"),
        "{}",
        text(&out.stderr)
    );
    let (out, _) = month(&["--store", "postgres"], "no-url.json");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--database-url"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn simulate_sends_a_sample_of_offices_over_tls_and_the_month_stays_the_same() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("simulate-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let month = |tls: &str, name: &str| {
        let (out, summary) = simulate(
            &dir,
            name,
            &[
                "--scale",
                "0.0003",
                "--seed",
                "6",
                "--unlicensed",
                "0.1",
                "--expired-certificates",
                "0.1",
                "--tls-offices",
                tls,
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        summary.unwrap()
    };
    let direct = month("0", "direct.json");
    let sampled = month("0.3", "tls.json");
    assert!(direct.get("tls").is_none(), "{direct}");
    // Every relay decision over TLS is the one the direct call made: the same month, refusals of sends and
    // downloads included.
    let refusals = [
        "download_refusals",
        "files_downloaded",
        "expected_refusals",
        "expected_waiting",
    ];
    for key in MONTH_FIGURES.into_iter().chain(refusals) {
        assert_eq!(direct[key], sampled[key], "{key}");
    }
    assert_eq!(sampled["balances"], true);
    let tls = &sampled["tls"];
    let n = |key: &str| tls[key].as_u64().unwrap_or_else(|| panic!("{key}: {tls}"));
    assert!(
        n("offices") > 10 && n("sends") > 100 && n("downloads") > 100,
        "{tls}"
    );
    assert!(tls["send_latency"]["p50_us"].as_u64().unwrap() > 0, "{tls}");
    // Expired certificates are refused in real handshakes, lapsed licences by the relay behind TLS: the
    // wire's refusals are among the month's and of the codes the model predicts.
    let refused = tls["refused"].as_object().unwrap();
    assert!(
        refused
            .get("CERT_EXPIRED")
            .is_some_and(|n| n.as_u64().unwrap() > 0),
        "{tls}"
    );
    for (code, count) in refused {
        let in_month = sampled["refused"][code].as_u64().unwrap_or(0)
            + sampled["download_refusals"][code].as_u64().unwrap_or(0);
        assert!(count.as_u64().unwrap() <= in_month, "{code}: {tls} {sampled}");
    }
    assert_eq!(
        careplan_sim(&["simulate", "--tls-offices", "1.5"]).status.code(),
        Some(2),
        "a share above 1 is refused"
    );
    // The relay's certificate is valid 2020–2049: a month whose plans go out in 2019 cannot go over TLS.
    let out = careplan_sim(&[
        "simulate",
        "--scale",
        "0.0001",
        "--month",
        "202001",
        "--tls-offices",
        "0.5",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("relay certificate's validity"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn simulate_runs_a_small_month_that_balances_and_replays() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("simulate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A small month (seed 4, a tenth of adoption on paper), writing `output` to `name`.
    let month = |output: &str, name: &str| {
        let path = dir.join(name);
        let out = careplan_sim(&[
            "simulate",
            "--scale",
            "0.0005",
            "--seed",
            "4",
            "--adoption",
            "0.9",
            output,
            path.to_str().unwrap(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(text(&out.stdout).contains("balances"), "{}", text(&out.stdout));
        std::fs::read_to_string(path).unwrap()
    };
    let summary = |name: &str| serde_json::from_str::<serde_json::Value>(&month("--summary", name)).unwrap();
    let first = summary("a.json");
    let n = |key: &str| first[key].as_u64().unwrap_or_else(|| panic!("{key}: {first}"));
    assert_eq!(first["balances"], true);
    assert_eq!(n("accepted"), n("delivered") + n("waiting"));
    assert!(n("accepted") > 1_000);
    let refused: u64 = first["refused"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(n("accepted") + refused, n("planned"));
    assert_eq!(first["refused"], first["expected_refusals"]);
    // The same seed gives the same month (wall-clock figures aside).
    let second = summary("b.json");
    for key in MONTH_FIGURES {
        assert_eq!(first[key], second[key], "{key}");
    }
    // The page: self-contained, a pair of bars a day of the summary.
    let page = month("--html", "month.html");
    let days = first["days"].as_object().unwrap().len();
    assert_eq!(page.matches("<rect ").count(), 2 * days, "{page}");
    assert!(!page.contains("<script"), "no script");
    assert!(
        !page.replace("http://www.w3.org/2000/svg", "").contains("http"),
        "no external asset"
    );
    assert!(page.contains("RECEIVER_UNLICENSED") || page.contains("LICENCE_REQUIRED"));
    assert!(
        careplan_sim(&["simulate", "--scale", "2"]).status.code() == Some(2),
        "a scale above the nation is refused"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
