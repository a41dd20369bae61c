//! Helpers shared by the CLI integration tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root, where the tests run the binary so that reported paths are relative and stable.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `careplan-sim` with `args` from the workspace root.
pub(crate) fn careplan_sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_careplan-sim"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

/// Output bytes as text.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Checks that `{bin_dir}` of the shipped adapters resolves, from this test program, to the programs
/// cargo built for this run.
pub(crate) fn use_built_adapters() {
    let adapter = Path::new(env!("CARGO_BIN_EXE_careplan-reference-adapter"));
    assert_eq!(
        careplan_office::bin_dir().join("careplan-reference-adapter"),
        adapter,
        "{{bin_dir}} must name the folder of the built reference adapter"
    );
}

/// A scratch folder of this test process, `<test file>-<pid>-<name>` under cargo's temporary folder.
pub(crate) fn scratch(test: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{test}-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A scenario whose second step (`export_actuals`, line 28) fails with `NOTHING_TO_SEND`.
pub(crate) const FAILING: &str = include_str!("../data/failing.toml");
