//! The validator: checks one standard file against the rules of the standard (spec §10) and reports
//! every finding as a [`Diagnostic`] with a stable rule ID from the [`Rule`] catalogue.
//!
//! The validator never stops at the first problem of a file unless the file cannot be read at all
//! (wrong encoding, broken CSV); it never panics on any input.

use std::fmt;

use careplan_core::CareMonth;

use crate::csv_text::{Record, read_records};
use crate::{FileKind, FileName, MonthSegment, ms932};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The file conforms, but a receiving product may stumble.
    Warning,
    /// The file does not conform.
    Error,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! rules {
    ($($variant:ident = $id:literal, $severity:ident, $section:literal, $summary:literal, $fix:literal;)*) => {
        /// A rule of the validator. IDs are stable: never renamed or reused.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Rule {
            $(#[doc = $summary] $variant,)*
        }

        impl Rule {
            /// Every rule, in catalogue order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The stable rule ID, e.g. `FIELD_COUNT`.
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// The severity outside `--strict`.
            pub fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity,)* }
            }

            /// Where the standard (spec.md) states it.
            pub fn section(self) -> &'static str {
                match self { $(Rule::$variant => $section,)* }
            }

            /// What the rule requires.
            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => $summary,)* }
            }

            /// How to fix a file that breaks it.
            pub fn fix(self) -> &'static str {
                match self { $(Rule::$variant => $fix,)* }
            }
        }
    };
}

rules! {
    FileName = "FILE_NAME", Error, "§3, §10.1",
        "The file name follows the standard: PREFIX[_YYYYMM]_<from>_<kind>_<to>_<kind>_<YYYYMMDDHHMMSS>.CSV.",
        "Rename the file as the standard names it; the message names the wrong segment.";
    Encoding = "ENCODING", Error, "§2, §10.2",
        "The file is Shift_JIS (MS932) without a byte-order mark and without 外字 (user-defined characters).",
        "Save the file as Shift_JIS (MS932) and replace 外字 with standard characters.";
    CsvSyntax = "CSV_SYNTAX", Error, "§2, §10.3",
        "The file parses as CSV: quotes are balanced and `\"\"` escapes a quote inside a quoted field.",
        "Close every quoted field and double the quotes inside free text.";
    FieldCount = "FIELD_COUNT", Error, "§6, §10.4",
        "Every record has the field count of its layout for its CSVバージョン.",
        "Write exactly the layout's fields: empty fields stay as empty positions between commas.";
    CsvVersionUnknown = "CSV_VERSION_UNKNOWN", Error, "§1, §10.5",
        "Field 1 (CSVバージョン) is a published version: 201910, 202003, 202208, 202504 or 202407.",
        "Write 202407 (V4.1) for service months from 2025-04.";
    CsvVersionMixed = "CSV_VERSION_MIXED", Error, "§2, §10.5",
        "All records of a file carry the same CSVバージョン.",
        "Write every record of the file with one CSVバージョン.";
    CsvVersionForMonth = "CSV_VERSION_FOR_MONTH", Warning, "§1, §10.6",
        "The CSVバージョン applies to the service month: V4 (202504/202407) from 2025-04, earlier versions before it.",
        "Use 202407 for service months from 2025-04 and 202208 before.";
    MonthMismatch = "MONTH_MISMATCH", Error, "§5.5, §10.7",
        "In a month-bound file every record's 対象年月 equals the month in the file name (one month per file).",
        "Split the records into one file per service month, named with that month.";
    FileEmpty = "FILE_EMPTY", Warning, "§10.9",
        "The file holds at least one record.",
        "Do not send empty files; leave the file out of the send unit.";
    InsurerNumber = "INSURER_NUMBER", Error, "§2, §10.15",
        "Field 2 保険者番号 is 6 digits.",
        "Write the insurer number as 6 half-width digits.";
    InsuredNumber = "INSURED_NUMBER", Error, "§2, §10.15",
        "Field 3 被保険者番号 is 10 digits, or H + 9 digits for 生活保護単独.",
        "Write the insured number as 10 half-width digits (or H + 9 digits).";
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule broken.
    pub rule: Rule,
    /// Its severity in this run (`--strict` raises warnings to errors).
    pub severity: Severity,
    /// 1-based line, when the finding concerns one record.
    pub line: Option<u64>,
    /// 1-based field number (項目No), when it concerns one field.
    pub field: Option<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// The validation of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file kind, when the name could be read.
    pub kind: Option<FileKind>,
    /// The CSVバージョン of its first record, when there is one.
    pub csv_version: Option<String>,
    /// Records read.
    pub records: usize,
    /// Findings, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl FileReport {
    /// Findings of error severity.
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Findings of warning severity.
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Options of a validation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Turns the standard's soft rules (warnings) into errors.
    pub strict: bool,
}

/// Published CSVバージョン values.
const KNOWN_VERSIONS: [&str; 5] = ["201910", "202003", "202208", "202504", "202407"];

/// Whether a CSVバージョン uses the V4 layouts (202504 from V4.0 senders, 202407 from V4.1).
fn is_v4(version: &str) -> bool {
    matches!(version, "202504" | "202407")
}

/// The field count of a layout, by the rule set of the file's CSVバージョン (spec §10.4).
pub fn field_count(kind: FileKind, v4: bool) -> usize {
    match kind {
        FileKind::UserSupplement => 63,
        FileKind::PlanTable1 => 28,
        FileKind::PlanTable2 => 22,
        FileKind::PlanTable3 => 13,
        FileKind::UsagePlan | FileKind::UsageActual => {
            if v4 {
                25
            } else {
                22
            }
        }
        FileKind::UsageActualDeletion => 6,
        FileKind::UsageAnnex => {
            if v4 {
                37
            } else {
                34
            }
        }
        FileKind::PreventionBasic => 71,
        FileKind::PreventionBasicSchedule => 7,
        FileKind::PreventionBasicHistory => 11,
        FileKind::PreventionPlan => 57,
        FileKind::PreventionPlanSupport => 17,
        FileKind::PlanTable1Deletion
        | FileKind::UsagePlanDeletion
        | FileKind::PreventionBasicDeletion
        | FileKind::PreventionPlanDeletion => 4,
    }
}

/// The field holding 対象年月 / 削除対象年月 in a month-bound layout.
fn month_field(kind: FileKind, v4: bool) -> Option<usize> {
    match kind {
        FileKind::UsagePlan | FileKind::UsageActual | FileKind::UsageAnnex => Some(5),
        FileKind::UsagePlanDeletion | FileKind::UsageActualDeletion => Some(4),
        FileKind::UserSupplement => Some(field_count(kind, v4)),
        _ => None,
    }
}

struct Findings {
    strict: bool,
    list: Vec<Diagnostic>,
}

impl Findings {
    fn add(&mut self, rule: Rule, line: Option<u64>, field: Option<usize>, message: String) {
        let severity = if self.strict {
            Severity::Error
        } else {
            rule.severity()
        };
        self.list.push(Diagnostic {
            rule,
            severity,
            line,
            field,
            message: format!("{message} — {}", rule.fix()),
        });
    }
}

/// Validates one file, named `name` (its file name, without directories), with content `bytes`.
pub fn validate_file(name: &str, bytes: &[u8], options: Options) -> FileReport {
    let mut findings = Findings {
        strict: options.strict,
        list: Vec::new(),
    };
    let file_name = match name.parse::<FileName>() {
        Ok(parsed) => Some(parsed),
        Err(e) => {
            findings.add(Rule::FileName, None, None, e.to_string());
            None
        }
    };
    let kind = file_name.as_ref().map(|n| n.kind);
    let text = match ms932::decode(bytes) {
        Ok(text) => text,
        Err(e) => {
            findings.add(Rule::Encoding, encoding_line(&e), None, e.to_string());
            return FileReport {
                kind,
                csv_version: None,
                records: 0,
                diagnostics: findings.list,
            };
        }
    };
    let records = match read_records(&text) {
        Ok(records) => records,
        Err(e) => {
            findings.add(Rule::CsvSyntax, Some(e.line), None, e.reason);
            return FileReport {
                kind,
                csv_version: None,
                records: 0,
                diagnostics: findings.list,
            };
        }
    };
    if records.is_empty() {
        findings.add(Rule::FileEmpty, None, None, "the file holds no record".to_owned());
    }
    let csv_version = records.first().and_then(|r| r.fields.first()).cloned();
    check_versions(&records, file_name.as_ref(), &mut findings);
    // An unknown version is reported once; its records are read with the V4 layouts its name implies.
    let v4 = csv_version
        .as_deref()
        .filter(|v| KNOWN_VERSIONS.contains(v))
        .is_none_or(is_v4);
    for record in &records {
        check_record(record, file_name.as_ref(), v4, &mut findings);
    }
    FileReport {
        kind,
        csv_version,
        records: records.len(),
        diagnostics: findings.list,
    }
}

fn encoding_line(error: &ms932::EncodingError) -> Option<u64> {
    match error {
        ms932::EncodingError::Utf8Bom => Some(1),
        ms932::EncodingError::Malformed { line, .. } | ms932::EncodingError::UserDefined { line, .. } => {
            u64::try_from(*line).ok()
        }
        ms932::EncodingError::Unmappable { .. } => None,
    }
}

fn check_versions(records: &[Record], name: Option<&FileName>, findings: &mut Findings) {
    let Some(first) = records.first().and_then(|r| r.fields.first()) else {
        return;
    };
    for record in records {
        let version = record.fields.first().map_or("", String::as_str);
        if !KNOWN_VERSIONS.contains(&version) {
            findings.add(
                Rule::CsvVersionUnknown,
                Some(record.line),
                Some(1),
                format!("field 1 CSVバージョン: `{version}` is not a published version"),
            );
        } else if version != first {
            findings.add(
                Rule::CsvVersionMixed,
                Some(record.line),
                Some(1),
                format!(
                    "field 1 CSVバージョン: `{version}` differs from the file's first record (`{first}`)"
                ),
            );
        }
    }
    let month = name.and_then(|n| match n.month {
        Some(MonthSegment::Month(month)) => Some(month),
        _ => None,
    });
    if let (Some(month), true) = (month, KNOWN_VERSIONS.contains(&first.as_str())) {
        let v4_from: CareMonth = CareMonth::new(2025, time::Month::April).unwrap_or(month);
        if is_v4(first) != (month >= v4_from) {
            findings.add(
                Rule::CsvVersionForMonth,
                records.first().map(|r| r.line),
                Some(1),
                format!("CSVバージョン `{first}` does not apply to service month {month}"),
            );
        }
    }
}

fn check_record(record: &Record, name: Option<&FileName>, v4: bool, findings: &mut Findings) {
    let line = Some(record.line);
    let Some(name) = name else { return };
    let expected = field_count(name.kind, v4);
    if record.fields.len() != expected {
        findings.add(
            Rule::FieldCount,
            line,
            None,
            format!(
                "{} records have {expected} fields, this one has {}",
                name.kind,
                record.fields.len()
            ),
        );
        return;
    }
    let field = |n: usize| record.fields[n - 1].as_str();
    if !(field(2).len() == 6 && field(2).bytes().all(|b| b.is_ascii_digit())) {
        findings.add(
            Rule::InsurerNumber,
            line,
            Some(2),
            format!("field 2 保険者番号: `{}` is not 6 digits", field(2)),
        );
    }
    let insured = field(3);
    let (digits, wanted) = insured.strip_prefix('H').map_or((insured, 10), |rest| (rest, 9));
    if !(digits.len() == wanted && digits.bytes().all(|b| b.is_ascii_digit())) {
        findings.add(
            Rule::InsuredNumber,
            line,
            Some(3),
            format!("field 3 被保険者番号: `{insured}` is neither 10 digits nor H + 9 digits"),
        );
    }
    if let (Some(MonthSegment::Month(month)), Some(n)) = (name.month, month_field(name.kind, v4))
        && field(n) != month.to_string()
    {
        findings.add(
            Rule::MonthMismatch,
            line,
            Some(n),
            format!(
                "field {n} 対象年月: `{}` differs from the file name's month {month}",
                field(n)
            ),
        );
    }
}

/// The rule catalogue as Markdown, the content of `docs/rules.md`.
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# Validation rules\n\n\
         `careplan-sim validate` checks standard files against these rules. Every diagnostic carries the rule's\n\
         stable ID; `--strict` reports warnings as errors. Sections refer to the reconstructed reference of the\n\
         standard (ケアプランデータ連携標準仕様 V4.1).\n\n\
         This file is generated from `crates/careplan-spec/src/validate.rs` by `cargo xtask docs`; a test fails\n\
         when it is stale.\n\n\
         | rule | severity | section | requires | fix |\n\
         |---|---|---|---|---|\n",
    );
    for rule in Rule::ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            rule.id(),
            rule.severity(),
            rule.section(),
            rule.summary().replace('|', "\\|"),
            rule.fix().replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const NAME: &str = "UPPLAN_202505_1310000001_43_1310000002_11_20250425103000.CSV";
    const RECORD: &str = "202407,131001,0000012345,20250425,202505,1310000001,\"山田 花子\",250,,20250501,,0900,0930,1,\
                          111111,,,,,1310000002,\"訪問介護ステーションA\",,0,1310000001,\r\n";

    fn rules(name: &str, text: &str) -> Vec<&'static str> {
        let bytes = ms932::encode(text).unwrap();
        validate_file(name, &bytes, Options::default())
            .diagnostics
            .iter()
            .map(|d| d.rule.id())
            .collect()
    }

    #[test]
    fn a_valid_file_has_no_findings() {
        let report = validate_file(NAME, &ms932::encode(RECORD).unwrap(), Options::default());
        assert_eq!(report.diagnostics, []);
        assert_eq!(
            (report.kind, report.csv_version.as_deref(), report.records),
            (Some(FileKind::UsagePlan), Some("202407"), 1)
        );
    }

    #[test]
    fn each_defect_yields_its_rule() {
        assert_eq!(rules("plan.csv", RECORD), ["FILE_NAME"]);
        assert_eq!(rules(NAME, ""), ["FILE_EMPTY"]);
        assert_eq!(
            rules(NAME, &RECORD.replace(",0,1310000001,\r\n", ",0,1310000001\r\n")),
            ["FIELD_COUNT"]
        );
        assert_eq!(
            rules(NAME, &RECORD.replacen("202407", "202408", 1)),
            ["CSV_VERSION_UNKNOWN"]
        );
        assert_eq!(
            rules(
                NAME,
                &format!("{RECORD}{}", RECORD.replacen("202407", "202504", 1))
            ),
            ["CSV_VERSION_MIXED"]
        );
        assert_eq!(
            rules(NAME, &RECORD.replacen("202407", "202208", 1)),
            ["CSV_VERSION_FOR_MONTH", "FIELD_COUNT"]
        );
        assert_eq!(
            rules(NAME, &RECORD.replace(",202505,", ",202506,")),
            ["MONTH_MISMATCH"]
        );
        assert_eq!(
            rules(NAME, &RECORD.replace("131001", "13100")),
            ["INSURER_NUMBER"]
        );
        assert_eq!(
            rules(NAME, &RECORD.replace("0000012345", "H00012345")),
            ["INSURED_NUMBER"]
        );
        assert_eq!(
            rules(NAME, &RECORD.replace("0000012345", "H000012345")),
            Vec::<&str>::new()
        );
        assert_eq!(rules(NAME, "202407,\"open\r\n"), ["CSV_SYNTAX"]);
        let old = NAME.replace("202505", "202503");
        assert_eq!(
            rules(&old, &RECORD.replace(",202505,", ",202503,")),
            ["CSV_VERSION_FOR_MONTH"]
        );
    }

    #[test]
    fn encoding_defects_name_the_line() {
        let mut bytes = ms932::encode(RECORD).unwrap();
        bytes.extend_from_slice(&[0xF0, 0x40, b'\r', b'\n']);
        let report = validate_file(NAME, &bytes, Options::default());
        assert_eq!(report.diagnostics.len(), 1);
        assert_eq!(
            (report.diagnostics[0].rule, report.diagnostics[0].line),
            (Rule::Encoding, Some(2))
        );
        let bom = [&[0xEF, 0xBB, 0xBF][..], &ms932::encode(RECORD).unwrap()].concat();
        assert_eq!(
            validate_file(NAME, &bom, Options::default()).diagnostics[0].rule,
            Rule::Encoding
        );
    }

    #[test]
    fn strict_turns_warnings_into_errors() {
        let empty = validate_file(NAME, b"", Options { strict: true });
        assert_eq!((empty.errors(), empty.warnings()), (1, 0));
        let lenient = validate_file(NAME, b"", Options::default());
        assert_eq!((lenient.errors(), lenient.warnings()), (0, 1));
    }

    #[test]
    fn rule_ids_are_unique_and_the_published_catalogue_is_current() {
        let ids: std::collections::HashSet<_> = Rule::ALL.iter().map(|r| r.id()).collect();
        assert_eq!(ids.len(), Rule::ALL.len());
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules.md");
        let published = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            published == catalogue_markdown(),
            "docs/rules.md is stale: run `cargo xtask docs`"
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes_and_names(name in "\\PC{0,70}", bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = validate_file(&name, &bytes, Options::default());
            let _ = validate_file(NAME, &bytes, Options { strict: true });
        }

        #[test]
        fn never_panics_on_mutated_records(cut in 0usize..200, insert in "[,\"\r\n0-9A-Z]{0,6}") {
            let mut text = RECORD.to_owned();
            let at = text.char_indices().map(|(i, _)| i).find(|&i| i >= cut.min(text.len())).unwrap_or(text.len());
            text.insert_str(at, &insert);
            let _ = validate_file(NAME, text.as_bytes(), Options::default());
        }
    }
}
