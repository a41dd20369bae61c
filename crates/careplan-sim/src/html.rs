//! The HTML report: one self-contained file (no network, no script, no external asset) that a person
//! opens to see what the parties said to each other. A summary of the scenarios links each failure to
//! its step; then, per scenario, a timeline of its events on the simulated clock, one column per party,
//! refusals with their codes and the situation each stands for, and every file that crossed the relay,
//! readable (decoded from MS932) and downloadable.

use std::fmt::Write as _;
use std::str::FromStr;

use base64::Engine;
use careplan_core::{ErrorCode, format_jst};
use careplan_scenario::StepResult;
use serde_json::Value;

use crate::report::ScenarioRun;

/// The parties' columns, in the order of the timeline: (the events' `party`, the heading).
const LANES: [(&str, &str); 6] = [
    ("runner", "scenario"),
    ("clock", "clock"),
    ("office", "offices (介護ソフト)"),
    ("relay", "relay (連携基盤)"),
    ("portal", "portal and CA (電子請求受付)"),
    ("usage_site", "usage site (利用状況Web)"),
];

const STYLE: &str = "body{font-family:system-ui,'Noto Sans JP',sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ccc}table{border-collapse:collapse;width:100%}\
th,td{border:1px solid #ddd;padding:.25em .5em;vertical-align:top;font-size:.85em}td:first-child{white-space:nowrap}th{background:#f4f4f4;text-align:left}\
tr.step td{background:#eef4ff}tr.failed td,tr.failed{background:#fde2e2}tr.skipped td{color:#888}\
.passed{color:#17702f;font-weight:bold}.FAILED,.error{color:#b00020;font-weight:bold}\
.code{font-family:monospace;font-weight:bold;color:#b00020}.situation{color:#555}\
pre{background:#f8f8f8;padding:.5em;overflow-x:auto;font-size:.8em}details{margin:.3em 0}\
.fields{font-family:monospace;font-size:.9em;color:#444;white-space:pre-wrap}";

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A code with the real-world situation it stands for.
fn code_html(code: &str) -> String {
    match ErrorCode::from_str(code) {
        Ok(known) => format!(
            "<span class=\"code\">{}</span> <span class=\"situation\">{}</span>",
            escape(known.as_str()),
            escape(known.situation())
        ),
        Err(_) => format!("<span class=\"code\">{}</span>", escape(code)),
    }
}

/// An event's cell: its name, then its fields; codes with their situations. Steps read as a line each.
fn event_html(event: &Value) -> String {
    let name = event["event"].as_str().unwrap_or("event");
    let text = |key: &str| escape(event[key].as_str().unwrap_or(""));
    match name {
        "step_started" => {
            return format!(
                "<b>step {}</b> {} <span class=\"situation\">(line {})</span>",
                event["step"],
                text("description"),
                event["line"]
            );
        }
        "step_finished" => {
            let code = event["code"]
                .as_str()
                .map_or_else(String::new, |c| format!(" {}", code_html(c)));
            return match event["result"].as_str() {
                Some("passed") => format!(
                    "<span class=\"passed\">✔ passed</span>{code}<div class=\"fields\">{}</div>",
                    text("detail")
                ),
                Some("failed") => format!(
                    "<span class=\"FAILED\">✘ FAILED</span>{code}<div class=\"fields\">{}</div>",
                    text("detail")
                ),
                _ => "skipped".to_owned(),
            };
        }
        _ => {}
    }
    let mut cell = format!("<b>{}</b>", escape(&name.replace('_', " ")));
    let mut fields = String::new();
    if let Some(object) = event.as_object() {
        for (key, value) in object {
            if matches!(key.as_str(), "at" | "party" | "event") || value.is_null() {
                continue;
            }
            match (key.as_str(), value) {
                ("code", Value::String(code)) => {
                    let _ = write!(cell, " {}", code_html(code));
                }
                ("codes", Value::Array(codes)) => {
                    for code in codes.iter().filter_map(Value::as_str) {
                        let _ = write!(cell, " {}", code_html(code));
                    }
                }
                ("files", Value::Array(files)) => {
                    for file in files {
                        let name = file["name"].as_str().or(file.as_str()).unwrap_or("");
                        let _ = writeln!(fields, "file: {name}");
                    }
                }
                (_, Value::String(text)) => {
                    let _ = writeln!(fields, "{key}: {text}");
                }
                (_, other) => {
                    let _ = writeln!(fields, "{key}: {other}");
                }
            }
        }
    }
    if !fields.is_empty() {
        let _ = write!(cell, "<div class=\"fields\">{}</div>", escape(fields.trim_end()));
    }
    cell
}

/// The whole report.
pub(crate) fn html(runs: &[ScenarioRun]) -> String {
    let mut page = String::new();
    let passed = runs
        .iter()
        .filter(|r| r.outcome.as_ref().is_ok_and(|report| report.passed()))
        .count();
    let errors = runs.iter().filter(|r| r.outcome.is_err()).count();
    let failed = runs.len() - passed - errors;
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>careplan-sim run report</title>\
         <style>{STYLE}</style></head><body>\n<h1>careplan-sim run</h1>\n<section id=\"summary\">\
         <p>{} scenario(s): <span class=\"passed\">{passed} passed</span>, <span class=\"FAILED\">{failed} failed</span>{}</p>\n\
         <table><thead><tr><th>#</th><th>scenario</th><th>file</th><th>seed</th><th>result</th><th>first failure</th></tr></thead><tbody>\n",
        runs.len(),
        if errors > 0 {
            format!(", <span class=\"error\">{errors} could not be set up</span>")
        } else {
            String::new()
        }
    );
    for (index, run) in runs.iter().enumerate() {
        let id = index + 1;
        let (class, result, failure) = match &run.outcome {
            Err(e) => ("failed", "error", escape(e)),
            Ok(report) => match report
                .steps
                .iter()
                .find(|s| matches!(s.result, StepResult::Failed { .. }))
            {
                Some(step) => (
                    "failed",
                    "FAILED",
                    format!(
                        "<a href=\"#sc-{id}-step-{}\">step {} (line {}) {}</a>",
                        step.number,
                        step.number,
                        step.line,
                        escape(&step.description)
                    ),
                ),
                None => ("", "passed", String::new()),
            },
        };
        let _ = writeln!(
            page,
            "<tr class=\"{class}\"><td>{id}</td><td><a href=\"#sc-{id}\">{}</a></td><td>{}</td><td>{}</td>\
             <td class=\"{result}\">{result}</td><td>{failure}</td></tr>",
            escape(&run.name),
            escape(&run.path.to_string_lossy()),
            run.seed
        );
    }
    page.push_str("</tbody></table></section>\n");
    for (index, run) in runs.iter().enumerate() {
        scenario_html(&mut page, index + 1, run);
    }
    page.push_str("</body></html>\n");
    page
}

fn scenario_html(page: &mut String, id: usize, run: &ScenarioRun) {
    let tags = if run.tags.is_empty() {
        String::new()
    } else {
        format!(" · tags {}", escape(&run.tags.join(", ")))
    };
    let _ = writeln!(
        page,
        "<section class=\"scenario\" id=\"sc-{id}\"><h2>{id}. {}</h2><p>{} · seed {}{tags}</p>",
        escape(&run.name),
        escape(&run.path.to_string_lossy()),
        run.seed
    );
    let report = match &run.outcome {
        Ok(report) => report,
        Err(e) => {
            let _ = writeln!(
                page,
                "<p class=\"error\">the ecosystem could not be set up: {}</p></section>",
                escape(e)
            );
            return;
        }
    };
    page.push_str("<table class=\"timeline\"><thead><tr><th>time (JST)</th>");
    for (_, heading) in LANES {
        let _ = write!(page, "<th>{}</th>", escape(heading));
    }
    page.push_str("</tr></thead><tbody>\n");
    for event in &report.events {
        let value = serde_json::to_value(event).unwrap_or(Value::Null);
        let party = value["party"].as_str().unwrap_or("");
        let name = value["event"].as_str().unwrap_or("");
        let step = value["step"].as_u64().unwrap_or(0);
        let (class, anchor) = match name {
            "step_started" => ("step", format!(" id=\"sc-{id}-step-{step}\"")),
            "step_finished" => match value["result"].as_str() {
                Some("failed") => ("step failed", String::new()),
                Some("skipped") => ("skipped", String::new()),
                _ => ("step", String::new()),
            },
            _ => ("", String::new()),
        };
        let _ = write!(
            page,
            "<tr class=\"{class}\"{anchor}><td>{}</td>",
            escape(&format_jst(event.at))
        );
        for (lane, _) in LANES {
            if lane == party {
                let _ = write!(page, "<td>{}</td>", event_html(&value));
            } else {
                page.push_str("<td></td>");
            }
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody></table>\n");
    if !report.files.is_empty() {
        let _ = writeln!(
            page,
            "<h3>Files that crossed the relay ({})</h3>",
            report.files.len()
        );
        for file in &report.files {
            let text = careplan_spec::ms932::decode(&file.content).unwrap_or_else(|e| {
                format!(
                    "(not readable as MS932: {e})\n{}",
                    String::from_utf8_lossy(&file.content)
                )
            });
            let data = base64::engine::general_purpose::STANDARD.encode(&file.content);
            let _ = writeln!(
                page,
                "<details><summary>{} → {}: {} ({} bytes) · <a download=\"{}\" href=\"data:text/csv;base64,{data}\">download</a></summary><pre>{}</pre></details>",
                file.from,
                file.to,
                escape(&file.name),
                file.content.len(),
                escape(&file.name),
                escape(&text)
            );
        }
    }
    page.push_str("</section>\n");
}
