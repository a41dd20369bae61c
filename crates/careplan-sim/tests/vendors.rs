//! Offices running a vendor's care software behind its adapter, end to end through the binary: the
//! reference adapter makes the same round trip, byte for byte, as the in-process synthetic software;
//! a product that fails, hangs, lacks an operation or leaves nothing is refused with the adapter codes.

// Helpers outside #[test] functions unwrap too: a failing set-up is a failing test.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

mod common;

use common::{careplan_sim, text, use_built_adapters};

/// A scratch folder of this test process.
fn scratch(name: &str) -> PathBuf {
    common::scratch("vendors", name)
}

/// The lines of a run's output that say what crossed the relay and what was imported.
fn exchanged(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.contains("assert_delivered") || l.contains(" import "))
        .map(|l| l.split_once(']').map_or(l, |(_, rest)| rest).trim().to_owned())
        .collect()
}

#[test]
fn the_reference_adapter_exchanges_what_the_synthetic_software_does_byte_for_byte() {
    use_built_adapters();
    let synthetic = careplan_sim(&["run", "scenarios/roundtrip/plan-and-actual.toml"]);
    assert_eq!(synthetic.status.code(), Some(0), "{}", text(&synthetic.stdout));
    let expected = exchanged(&text(&synthetic.stdout));
    assert_eq!(expected.len(), 4, "{expected:?}");
    for scenario in [
        "scenarios/vendors/provider-adapter-round-trip.toml",
        "scenarios/vendors/care-manager-adapter-round-trip.toml",
    ] {
        let out = careplan_sim(&["run", scenario]);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{scenario}:\n{stdout}{}",
            text(&out.stderr)
        );
        assert_eq!(exchanged(&stdout), expected, "{scenario}");
    }
}

const OFFICES: &str = r#"
[scenario]
name = "failing-products"
seed = 1
start = 2025-05-01T09:00:00+09:00

[[office]]
id = "cm"
role = "care_management"
number = "1310000001"
kind = "43"
software = { adapter = "broken.toml" }

[[office]]
id = "helper"
role = "service"
number = "1310000002"
kind = "11"
software = { adapter = "silent.toml" }
"#;

#[test]
fn failing_hanging_missing_and_empty_operations_have_their_codes_and_the_product_s_words() {
    let dir = scratch("failing");
    std::fs::write(
        dir.join("broken.toml"),
        r#"[adapter]
name = "Broken Care"
contract = 1
timeout_seconds = 1

[operations]
export_plan = ["sh", "-c", "echo starting; echo 'database is locked' >&2; exit 3"]
import = ["sh", "-c", "sleep 10"]
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("silent.toml"),
        r#"[adapter]
name = "Silent Care"
contract = 1

[operations]
export_actuals = ["sh", "-c", "true"]
"#,
    )
    .unwrap();
    let steps = r#"
[[step]]
action = "export_plan"
office = "cm"
to = "helper"
month = "2025-05"
expect_error = "ADAPTER_FAILED"

[[step]]
action = "import"
office = "cm"
expect_error = "ADAPTER_TIMEOUT"

[[step]]
action = "export_actuals"
office = "helper"
to = "cm"
month = "2025-05"
expect_error = "ADAPTER_OUTPUT_INVALID"

[[step]]
action = "import"
office = "helper"
expect_error = "ADAPTER_UNSUPPORTED"
"#;
    let file = dir.join("failing.toml");
    std::fs::write(&file, format!("{OFFICES}{steps}")).unwrap();
    let out = careplan_sim(&["run", file.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("Broken Care export_plan exited with status 3: database is locked"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Broken Care import did not finish within 1 s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Silent Care export_actuals wrote no file into the outbox"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Silent Care declares no import operation"),
        "{stdout}"
    );
}

#[test]
fn a_process_left_behind_holding_the_output_does_not_hold_the_step() {
    let dir = scratch("lingering");
    // `${HOME}` is the shell's, not a placeholder; the background sleep keeps stdout open after exit 0.
    std::fs::write(
        dir.join("broken.toml"),
        "[adapter]\nname = \"Lingering Care\"\ncontract = 1\ntimeout_seconds = 20\n[operations]\n\
         import = [\"sh\", \"-c\", \"test -n \\\"${HOME}\\\" && sleep 30 & exit 0\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("silent.toml"),
        "[adapter]\nname = \"S\"\ncontract = 1\n[operations]\nimport = [\"true\"]\n",
    )
    .unwrap();
    let file = dir.join("lingering.toml");
    std::fs::write(
        &file,
        format!("{OFFICES}\n[[step]]\naction = \"import\"\noffice = \"cm\"\n"),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = careplan_sim(&["run", file.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "the step waited for the lingering process: {:?}",
        started.elapsed()
    );
}

#[test]
fn an_unusable_adapter_file_is_refused_before_anything_runs() {
    let dir = scratch("unusable");
    let steps = "\n[[step]]\naction = \"import\"\noffice = \"cm\"\n";
    let cases = [
        (
            "[adapter]\nname = \"X\"\ncontract = 2\n[operations]\nimport = [\"true\"]\n",
            "line 3: contract 2",
        ),
        (
            "[adapter]\nname = \"X\"\ncontract = 1\n[operations]\nimport = []\n",
            "line 5: [operations] import is an empty command",
        ),
        (
            "[adapter]\nname = \"X\"\ncontract = 1\n[operations]\nimprot = [\"true\"]\n",
            "line 5",
        ),
        ("[adapter]\nname = \"X\"\ncontract = 1\n", "declares no operation"),
        (
            "[adapter]\nname = \"X\"\ncontract = 1\n[operations]\nimport = [\"x\", \"{inbx}\"]\n",
            "line 5: [operations] import uses an unknown placeholder `{inbx}` (did you mean `{inbox}`?)",
        ),
        (
            "[adapter]\nname = \"X\"\ncontract = 1\n[operations]\nimport = [\"x\", \"{month}\"]\n",
            "line 5: [operations] import uses `{month}`, which that operation does not give",
        ),
        (
            "[adapter]\nname = \"X\"\ncontract = 1\n[operations]\nimport = [\" \"]\n",
            "line 5: [operations] import has an empty program",
        ),
        (
            "[adapter]\nname = \"X\"\ncontract = 1\ntimeout_seconds = 0\n[operations]\nimport = [\"x\"]\n",
            "line 4: timeout_seconds must be at least 1",
        ),
        (
            "[adapter]\nname = \"X\"\ncontract = 1\n[operations]\nimport = [\"x\"]\n[container]\nimage = \"a b\"\n",
            "line 7: [container] image `a b` is not an image reference",
        ),
    ];
    for (adapter, needle) in cases {
        std::fs::write(dir.join("broken.toml"), adapter).unwrap();
        std::fs::write(dir.join("silent.toml"), adapter).unwrap();
        let file = dir.join("unusable.toml");
        std::fs::write(&file, format!("{OFFICES}{steps}")).unwrap();
        let out = careplan_sim(&["run", file.to_str().unwrap()]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{adapter}: {stderr}");
        assert!(stderr.contains("unusable.toml:12:"), "{adapter}: {stderr}");
        assert!(stderr.contains(needle), "{adapter}: {stderr}");
        assert!(text(&out.stdout).is_empty(), "nothing runs");
    }
    let missing = dir.join("missing.toml");
    std::fs::write(
        &missing,
        format!("{OFFICES}{steps}").replace("broken.toml", "nowhere.toml"),
    )
    .unwrap();
    let out = careplan_sim(&["run", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("nowhere.toml: cannot read the file"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_interrupted_run_stops_the_product_it_was_running() {
    let dir = scratch("interrupted");
    let pid_file = dir.join("product.pid");
    // The product records its process id, then hangs in a process group of its own.
    std::fs::write(
        dir.join("broken.toml"),
        format!(
            "[adapter]\nname = \"Hanging Care\"\ncontract = 1\ntimeout_seconds = 60\n[operations]\n\
             import = [\"sh\", \"-c\", \"echo $$ > '{}'; exec sleep 60\"]\n",
            pid_file.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("silent.toml"),
        "[adapter]\nname = \"S\"\ncontract = 1\n[operations]\nimport = [\"true\"]\n",
    )
    .unwrap();
    let file = dir.join("interrupted.toml");
    std::fs::write(
        &file,
        format!("{OFFICES}\n[[step]]\naction = \"import\"\noffice = \"cm\"\n"),
    )
    .unwrap();
    let mut bench = std::process::Command::new(env!("CARGO_BIN_EXE_careplan-sim"))
        .args(["run", file.to_str().unwrap()])
        .current_dir(common::root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let waited = std::time::Instant::now();
    let product = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok())
        {
            break pid;
        }
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(30),
            "the product never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // Alive: listed and not a zombie waiting to be reaped (state Z after the command's name).
    let alive = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                stat.rsplit_once(')')
                    .map(|(_, rest)| rest.trim_start().starts_with('Z'))
            })
            .is_some_and(|zombie| !zombie)
    };
    assert!(alive(product));
    let status = std::process::Command::new("kill")
        .args(["-s", "INT", &bench.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = bench.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut bench.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(exit.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted; stopped 1 running product call(s)"),
        "{stderr}"
    );
    // The product is gone too (give the kill a moment).
    let stopped = std::time::Instant::now();
    while alive(product) && stopped.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!alive(product), "the product {product} outlived the bench");
}
