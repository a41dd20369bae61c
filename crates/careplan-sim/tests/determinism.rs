//! Every delivered scenario, run twice with its seed, records the same events, byte for byte once
//! serialised: the promise that a scenario file and a seed replay a run exactly. The vendor scenarios'
//! reference adapter is this package's own program, so the test lives here, where cargo builds it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use careplan_core::{Event, EventKind, Party};
use careplan_scenario::{RunOptions, Scenario, run};

mod common;

fn scenario_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            scenario_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

/// The run's events as JSON lines.
fn recorded(scenario: &Scenario) -> (Vec<Event>, String) {
    let report = run(scenario, RunOptions::default(), &mut |_| {}).unwrap();
    let lines: Vec<String> = report
        .events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    (report.events, lines.join("\n"))
}

#[test]
fn every_scenario_records_the_same_events_twice() {
    common::use_built_adapters();
    let mut files = Vec::new();
    scenario_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios"),
        &mut files,
    );
    files.sort();
    assert!(files.len() >= 31, "found {} scenarios", files.len());
    for file in files {
        let scenario = Scenario::load(&file).unwrap();
        let (events, first) = recorded(&scenario);
        let (_, second) = recorded(&scenario);
        if first != second {
            let at = first
                .lines()
                .zip(second.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| first.lines().count().min(second.lines().count()));
            panic!(
                "{}: the runs differ from event {at}:\n  {}\n  {}",
                file.display(),
                first.lines().nth(at).unwrap_or("(none)"),
                second.lines().nth(at).unwrap_or("(none)")
            );
        }
        // The record is the run's, not a summary: every step starts and ends in it, and parties other
        // than the runner speak.
        let count = |wanted: fn(&EventKind) -> bool| events.iter().filter(|e| wanted(&e.kind)).count();
        assert_eq!(
            count(|k| matches!(k, EventKind::StepStarted { .. })),
            scenario.steps.len(),
            "{}",
            file.display()
        );
        assert_eq!(
            count(|k| matches!(k, EventKind::StepFinished { .. })),
            scenario.steps.len(),
            "{}",
            file.display()
        );
        assert!(
            events.iter().any(|e| e.party != Party::Runner),
            "{}: only the runner recorded events",
            file.display()
        );
    }
}
