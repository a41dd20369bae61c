//! `careplan-sim validate`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use careplan_spec::service_codes::ServiceCodes;
use careplan_spec::validate::{FileReport, Options, validate_files};
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::exit::Exit;
use crate::files::discover;

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// One line per finding, `path:line: severity[RULE] message`, and a summary.
    Human,
    /// Exactly one JSON document (schema in docs/cli.md).
    Json,
}

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Standard CSV files, or directories searched recursively for `*.CSV` / `*.csv`.
    #[arg(required = true, value_name = "FILE|DIR")]
    paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Report the standard's soft rules (warnings) as errors.
    #[arg(long)]
    strict: bool,

    /// Check service codes against the national service-code table in this CSV file (columns
    /// service_code, valid_from, valid_to, units, within_limit, name: docs/service-codes.md): each code
    /// must exist in its service month, and 7表 rows must agree on units and the 区分支給限度.
    #[arg(long, value_name = "FILE")]
    service_codes: Option<PathBuf>,
}

/// The largest file `validate` reads: far beyond any month's send unit, short of what would exhaust the
/// machine.
pub(crate) const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// A file's bytes, if it is a regular file within [`MAX_FILE_BYTES`]: a FIFO or a device could block or
/// never end.
fn read_regular(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file (a FIFO, a device or a socket is not read)".to_owned());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{} bytes, over the limit of {MAX_FILE_BYTES} bytes a file may have",
            meta.len()
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read: {e}"))
}

/// The service-code table at `path`, or why it cannot be used.
fn read_service_codes(path: &Path) -> Result<ServiceCodes, String> {
    let bytes = read_regular(path).map_err(|e| format!("{}: {e}", path.display()))?;
    ServiceCodes::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Validates the files and prints the findings.
pub(crate) fn validate(args: &ValidateArgs) -> Exit {
    let mut files = match discover(&args.paths, "csv") {
        Ok(files) => files,
        Err(message) => {
            eprintln!("error: {message}");
            return Exit::Invalid;
        }
    };
    // A table kept beside the export is the table, not a file of the export.
    if let Some(table) = args.service_codes.as_deref().and_then(|p| p.canonicalize().ok()) {
        files.retain(|file| file.canonicalize().ok().as_deref() != Some(table.as_path()));
    }
    let table = match args.service_codes.as_deref().map(read_service_codes).transpose() {
        Ok(table) => table,
        Err(message) => {
            eprintln!("error: {message}");
            return Exit::Invalid;
        }
    };
    let options = Options {
        strict: args.strict,
        service_codes: table.as_ref(),
    };
    let mut contents = Vec::with_capacity(files.len());
    for path in &files {
        match read_regular(path) {
            Ok(bytes) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                contents.push((name, bytes));
            }
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return Exit::Invalid;
            }
        }
    }
    // A send unit is files of one folder (an export, an outbox): the same files in two folders are two
    // send units, not one with every file twice.
    let mut folders: BTreeMap<Option<&Path>, Vec<usize>> = BTreeMap::new();
    for (index, path) in files.iter().enumerate() {
        folders.entry(path.parent()).or_default().push(index);
    }
    let mut by_index: Vec<Option<FileReport>> = vec![None; files.len()];
    for members in folders.values() {
        let inputs: Vec<(&str, &[u8])> = members
            .iter()
            .map(|&i| (contents[i].0.as_str(), contents[i].1.as_slice()))
            .collect();
        for (&i, report) in members.iter().zip(validate_files(&inputs, options)) {
            by_index[i] = Some(report);
        }
    }
    // Every file is in exactly one folder, so every report is there and `flatten` drops none.
    let reports: Vec<(&Path, FileReport)> = files
        .iter()
        .map(PathBuf::as_path)
        .zip(by_index.into_iter().flatten())
        .collect();
    let errors: usize = reports.iter().map(|(_, r)| r.errors()).sum();
    let warnings: usize = reports.iter().map(|(_, r)| r.warnings()).sum();
    let table = args
        .service_codes
        .as_deref()
        .zip(table.as_ref().map(ServiceCodes::len));
    match args.format {
        Format::Human => print_human(&reports, errors, warnings, table),
        Format::Json => print_json(&reports, errors, warnings, table),
    }
    if errors > 0 { Exit::Failed } else { Exit::Success }
}

/// The service-code table given, and its number of codes.
type Table<'a> = Option<(&'a Path, usize)>;

fn print_human(reports: &[(&Path, FileReport)], errors: usize, warnings: usize, table: Table<'_>) {
    for (path, report) in reports {
        for d in &report.diagnostics {
            let at = d.line.map_or_else(String::new, |line| format!(":{line}"));
            println!(
                "{}{at}: {}[{}] {}",
                path.display(),
                d.severity,
                d.rule.id(),
                d.message
            );
        }
    }
    if let Some((path, codes)) = table {
        println!("service codes checked against {} ({codes} codes)", path.display());
    }
    println!(
        "{} file(s): {errors} error(s), {warnings} warning(s)",
        reports.len()
    );
}

fn print_json(reports: &[(&Path, FileReport)], errors: usize, warnings: usize, table: Table<'_>) {
    let files: Vec<_> = reports
        .iter()
        .map(|(path, report)| {
            json!({
                "path": path.display().to_string(),
                "kind": report.kind.map(|k| k.prefix()),
                "csv_version": report.csv_version,
                "records": report.records,
                "diagnostics": report.diagnostics.iter().map(|d| json!({
                    "rule": d.rule.id(),
                    "severity": d.severity.as_str(),
                    "line": d.line,
                    "field": d.field,
                    "message": d.message,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let document = json!({
        "files": files,
        "summary": {
            "files": reports.len(),
            "errors": errors,
            "warnings": warnings,
            "service_code_table": table.map(|(path, codes)| json!({
                "path": path.display().to_string(),
                "codes": codes,
            })),
        },
    });
    println!("{document}");
}
