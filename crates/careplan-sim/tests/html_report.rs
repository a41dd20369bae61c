//! The HTML report in a real headless browser (Debian's Chromium; `.ci/run` installs it): the page
//! opens without a console message, the timeline of a known scenario shows its steps in order, and a
//! failed step is marked and reachable from the summary.

// Helpers outside #[test] functions unwrap too: a failing set-up is a failing test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

mod common;

use common::{careplan_sim, root, scratch, text};

/// Debian's Chromium, or a clear failure saying how to get it.
fn chromium() -> &'static str {
    for candidate in ["chromium", "chromium-browser"] {
        if Command::new(candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return candidate;
        }
    }
    panic!(
        "the HTML report is tested in Debian's Chromium: `apt-get install chromium` (.ci/run installs it)"
    );
}

/// Loads `page` in headless Chromium (at most a minute): the DOM after load, and what the browser logged.
fn load(page: &Path, extra: &[&str]) -> (String, String) {
    let profile = page.with_extension("profile");
    let mut args = vec![
        "60".to_owned(),
        chromium().to_owned(),
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--no-first-run".to_owned(),
        format!("--user-data-dir={}", profile.display()),
        "--enable-logging=stderr".to_owned(),
        "--v=0".to_owned(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    args.push(format!("file://{}", page.display()));
    let out = Command::new("timeout").args(&args).output().unwrap();
    assert!(out.status.success(), "chromium: {}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

#[test]
fn the_report_opens_cleanly_shows_the_timeline_in_order_and_links_the_failure() {
    common::use_built_adapters();
    let dir = scratch("html", "report");
    std::fs::write(dir.join("failing.toml"), common::FAILING).unwrap();
    let page = dir.join("report.html");
    let out = careplan_sim(&[
        "run",
        dir.join("failing.toml").to_str().unwrap(),
        "scenarios/roundtrip/plan-and-actual.toml",
        "--report",
        &format!("html={}", page.display()),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let written = std::fs::read_to_string(&page).unwrap();
    for external in ["src=\"http", "href=\"http", "<script", "@import", "url("] {
        assert!(
            !written.contains(external),
            "the page is not self-contained: {external}"
        );
    }

    let (dom, log) = load(&page, &["--dump-dom"]);
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");

    // The summary links the failure to its step, and the step is in the page, marked.
    assert!(dom.contains("<a href=\"#sc-1-step-2\">step 2 (line 28) export_actuals helper → cm 202505</a>"));
    let failed_row = dom.find("id=\"sc-1-step-2\"").unwrap();
    assert!(dom[failed_row..].find("class=\"step failed\"").is_some());
    assert!(dom.contains("NOTHING_TO_SEND"));

    // The second scenario's steps appear in order, each once.
    let section = &dom[dom.find("id=\"sc-2\"").unwrap()..];
    let positions: Vec<usize> = (1..=12)
        .map_while(|step| section.find(&format!("id=\"sc-2-step-{step}\"")))
        .collect();
    assert!(positions.len() >= 8, "steps found: {}", positions.len());
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "steps out of order");
    // Each file that crossed the relay is there, decoded from MS932, with a download link.
    assert!(section.contains("UPPLAN_202505_"));
    assert!(section.contains("download=\"UPJSK_202505_"));
    assert!(section.contains("さくら") || section.contains("ひまわり"));

    // A screenshot renders.
    let shot = dir.join("report.png");
    load(
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,900",
        ],
    );
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    let _ = root();
}
