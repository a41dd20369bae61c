//! The validator: checks one standard file against the rules of the standard (spec §10) and reports
//! every finding as a [`Diagnostic`] with a stable rule ID from the [`Rule`] catalogue.
//!
//! The validator never stops at the first problem of a file unless the file cannot be read at all
//! (wrong encoding, broken CSV); it never panics on any input.

use std::fmt;

use careplan_core::CareMonth;

use crate::csv_text::{Record, read_records};
use crate::layout::{FieldSpec, Format, Presence, common_fields, layout};
use crate::records::parse_date;
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
    RequiredField = "REQUIRED_FIELD", Error, "§6, §10.12",
        "Every required (必須) field of the layout holds a value.",
        "Fill the field; the layout in spec §6 marks it 必須.";
    RecommendedField = "RECOMMENDED_FIELD", Warning, "§6.1, §6.6, §11",
        "Fields the standard probably requires (補足 5–8: name, kana, sex, birth date; 6表 6–7: care-management office and care manager) hold a value.",
        "Fill the field: receiving products rely on it.";
    FieldLength = "FIELD_LENGTH", Error, "§6, §10.12",
        "No field is longer than its 項目長 (characters; digits for numbers).",
        "Shorten the value to the layout's length.";
    DateInvalid = "DATE_INVALID", Error, "§2, §10.13",
        "Dates are real calendar dates YYYYMMDD and months YYYYMM (00000000 / 000000 only where the layout allows them).",
        "Write the date as 8 half-width digits YYYYMMDD (months as YYYYMM).";
    TimeInvalid = "TIME_INVALID", Error, "§2, §8.7, §10.13",
        "Times are HHMM with hours 00–23 and minutes 00–59 (9999 only for 6表 service times shown without a time).",
        "Write the time as 4 half-width digits HHMM, or 9999 on a 6表 service without a time.";
    CodeInvalid = "CODE_INVALID", Error, "§7, §10.14",
        "Code fields hold a value of their code table (e.g. 要介護状態区分 06, 12, 13, 21–25).",
        "Use a value of the code table named in the message.";
    NumberInvalid = "NUMBER_INVALID", Error, "§2",
        "Numeric fields hold half-width digits without sign or separators (単位数単価 as 99.99).",
        "Write the number as half-width digits, without sign, comma or spaces.";
    FormatInvalid = "FORMAT_INVALID", Error, "§2, §10.15–17",
        "Office numbers are 10 digits, service kinds [0-9A-Z]{2}, service codes [0-9A-Z]{6} (7表 also kind+AAAA/EEEE/ZZZZ and 999999), postal codes XXX-XXXX and 日割対象日 31 characters of 0/1.",
        "Write the value in the format named in the message.";
    UnusedField = "UNUSED_FIELD", Warning, "§2",
        "識別子 (※使用しない) is empty.",
        "Leave the 識別子 field empty.";
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

fn is_digits(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
}

fn is_code_char(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_uppercase()
}

fn is_time(value: &str) -> bool {
    value.len() == 4 && is_digits(value) && value[..2] < *"24" && value[2..] < *"60"
}

fn is_month(value: &str) -> bool {
    value.parse::<CareMonth>().is_ok() && value.len() == 6
}

/// Checks one field's value against its spec: the rule broken and what was expected.
fn check_value(spec: &FieldSpec, value: &str) -> Option<(Rule, String)> {
    if value.is_empty() {
        return match spec.presence {
            Presence::Required => Some((Rule::RequiredField, "is required (必須)".to_owned())),
            Presence::Recommended => Some((Rule::RecommendedField, "should be filled".to_owned())),
            Presence::Optional => None,
        };
    }
    if spec.format == Format::Unused {
        return Some((Rule::UnusedField, "must be empty (※使用しない)".to_owned()));
    }
    let length = value.chars().count();
    if let Some(max) = spec.max_len
        && length > max
    {
        return Some((
            Rule::FieldLength,
            format!("has {length} characters; at most {max} allowed"),
        ));
    }
    match spec.format {
        Format::Version | Format::FreeText | Format::Text | Format::Unused => None,
        Format::Insurer => (!(value.len() == 6 && is_digits(value)))
            .then(|| (Rule::InsurerNumber, "must be 6 digits".to_owned())),
        Format::Insured => {
            let (digits, wanted) = value.strip_prefix('H').map_or((value, 10), |rest| (rest, 9));
            (!(digits.len() == wanted && is_digits(digits))).then(|| {
                (
                    Rule::InsuredNumber,
                    "must be 10 digits, or H + 9 digits".to_owned(),
                )
            })
        }
        Format::Date => parse_date(value)
            .is_none()
            .then(|| (Rule::DateInvalid, "must be a real date YYYYMMDD".to_owned())),
        Format::DateOrZero => (value != "00000000" && parse_date(value).is_none()).then(|| {
            (
                Rule::DateInvalid,
                "must be a real date YYYYMMDD or 00000000".to_owned(),
            )
        }),
        Format::Month => (!is_month(value)).then(|| (Rule::DateInvalid, "must be a month YYYYMM".to_owned())),
        Format::MonthOrZero => (value != "000000" && !is_month(value))
            .then(|| (Rule::DateInvalid, "must be a month YYYYMM or 000000".to_owned())),
        Format::Time => (!is_time(value)).then(|| (Rule::TimeInvalid, "must be a time HHMM".to_owned())),
        Format::ServiceTime => (value != "9999" && !is_time(value))
            .then(|| (Rule::TimeInvalid, "must be a time HHMM or 9999".to_owned())),
        Format::Office => (!(value.len() == 10 && is_digits(value)))
            .then(|| (Rule::FormatInvalid, "must be a 10-digit office number".to_owned())),
        Format::OfficeOrAllNines => (!(value.len() == 10 && is_digits(value))).then(|| {
            (
                Rule::FormatInvalid,
                "must be a 10-digit office number or 9999999999".to_owned(),
            )
        }),
        Format::Kind => (!(value.len() == 2 && value.bytes().all(is_code_char))).then(|| {
            (
                Rule::FormatInvalid,
                "must be a service kind of 2 characters from 0-9A-Z".to_owned(),
            )
        }),
        Format::ServiceCode => (!(value.len() == 6 && value.bytes().all(is_code_char))).then(|| {
            (
                Rule::FormatInvalid,
                "must be a service code of 6 characters from 0-9A-Z".to_owned(),
            )
        }),
        Format::AnnexServiceCode => (!(value.len() == 6 && value.bytes().all(is_code_char))).then(|| {
            (
                Rule::FormatInvalid,
                "must be a service code, kind + AAAA/EEEE/ZZZZ, or 999999".to_owned(),
            )
        }),
        Format::Proration => {
            (!(value.len() == 31 && value.bytes().all(|b| b == b'0' || b == b'1'))).then(|| {
                (
                    Rule::FormatInvalid,
                    "must be 31 characters of 0 and 1 (day 1 first)".to_owned(),
                )
            })
        }
        Format::Integer => (!is_digits(value)).then(|| {
            (
                Rule::NumberInvalid,
                "must be an integer of half-width digits".to_owned(),
            )
        }),
        Format::UnitPrice => {
            let ok = value.split_once('.').is_some_and(|(int, frac)| {
                (1..=2).contains(&int.len()) && is_digits(int) && frac.len() == 2 && is_digits(frac)
            });
            (!ok).then(|| (Rule::NumberInvalid, "must be a unit price 99.99".to_owned()))
        }
        Format::Postal => {
            let ok = value.len() == 8
                && value.as_bytes()[3] == b'-'
                && is_digits(&value[..3])
                && is_digits(&value[4..]);
            (!ok).then(|| (Rule::FormatInvalid, "must be a postal code XXX-XXXX".to_owned()))
        }
        Format::Code(codes) => (!codes.contains(&value))
            .then(|| (Rule::CodeInvalid, format!("must be one of {}", codes.join(", ")))),
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
    let specs = layout(name.kind, v4).unwrap_or_else(common_fields);
    for (index, spec) in specs.iter().enumerate() {
        let value = field(index + 1);
        if let Some((rule, expected)) = check_value(spec, value) {
            let shown = if value.is_empty() {
                "empty".to_owned()
            } else {
                format!("`{value}`")
            };
            findings.add(
                rule,
                line,
                Some(index + 1),
                format!("field {} {}: {shown} {expected}", index + 1, spec.name),
            );
        }
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
    fn field_rules_name_the_field_and_its_japanese_name() {
        let cases = [
            (",20250501,", ",,", "REQUIRED_FIELD", 10, "サービス利用日"),
            (",20250501,", ",20250431,", "DATE_INVALID", 10, "サービス利用日"),
            (",0900,", ",2400,", "TIME_INVALID", 12, "サービス開始時刻"),
            (",0930,", ",9999,", "", 0, ""),
            (",111111,", ",11111a,", "FORMAT_INVALID", 15, "サービスコード"),
            (",250,", ",２５０,", "NUMBER_INVALID", 8, "単位数"),
            (",250,", ",1234567,", "FIELD_LENGTH", 8, "単位数"),
            (
                ",0,1310000001,\r\n",
                ",2,1310000001,\r\n",
                "CODE_INVALID",
                23,
                "３０日超区分",
            ),
            (
                ",0,1310000001,\r\n",
                ",0,1310000001,X\r\n",
                "UNUSED_FIELD",
                25,
                "識別子",
            ),
            ("1310000001,\"山田", "1310000001,\"", "", 0, ""),
            (
                ",20250501,,",
                ",20250501,1111100000000000000000000000000,",
                "",
                0,
                "",
            ),
            (
                ",20250501,,",
                ",20250501,11111,",
                "FORMAT_INVALID",
                11,
                "日割対象日",
            ),
            (
                "202505,1310000001,",
                "202505,,",
                "RECOMMENDED_FIELD",
                6,
                "プラン担当業者コード",
            ),
        ];
        for (from, to, rule, field, name) in cases {
            let text = RECORD.replacen(from, to, 1);
            assert_ne!(text, RECORD, "{from}");
            let report = validate_file(NAME, &ms932::encode(&text).unwrap(), Options::default());
            if rule.is_empty() {
                assert_eq!(report.diagnostics, [], "{to}");
                continue;
            }
            assert_eq!(report.diagnostics.len(), 1, "{to}: {:?}", report.diagnostics);
            let d = &report.diagnostics[0];
            assert_eq!(
                (d.rule.id(), d.field, d.line),
                (rule, Some(field), Some(1)),
                "{to}"
            );
            assert!(
                d.message.starts_with(&format!("field {field} {name}: ")),
                "{}",
                d.message
            );
        }
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
