//! The validator: checks one standard file against the rules of the standard (spec §10) and reports
//! every finding as a [`Diagnostic`] with a stable rule ID from the [`Rule`] catalogue.
//!
//! The validator never stops at the first problem of a file unless the file cannot be read at all
//! (wrong encoding, broken CSV); it never panics on any input.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use careplan_core::CareMonth;

use crate::csv_text::{Reader, Record};

mod fields;
mod relations;

use crate::service_codes::ServiceCodes;
use crate::{FileKind, FileName, MonthSegment, PlanTable3, SendUnitKind, check_send_unit, ms932};
use fields::check_fields;
use relations::{
    Across, AnnexFields, CheckedLayout, Relations, check_relations, check_service_codes, checked,
};

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
        "The file name follows the standard: `PREFIX[_YYYYMM]_<from>_<kind>_<to>_<kind>_<YYYYMMDDHHMMSS>.CSV`.",
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
    HeaderRow = "HEADER_ROW", Error, "§2 (data-placement examples)",
        "No header row is defined: every line is a record starting with field 1 CSVバージョン. A first line of column names is reported once and left out of the file's version and record count.",
        "Leave out the line of column names: write records only.";
    CsvVersionUnknown = "CSV_VERSION_UNKNOWN", Error, "§1, §10.5",
        "Field 1 (CSVバージョン) is a published version: 201910, 202003, 202208, 202504 or 202407.",
        "Write 202407 (V4.1) for service months from 2025-04.";
    CsvVersionMixed = "CSV_VERSION_MIXED", Error, "§2, §10.5",
        "All records of a file carry the same CSVバージョン.",
        "Write every record of the file with one CSVバージョン.";
    CsvVersionForMonth = "CSV_VERSION_FOR_MONTH", Warning, "§1, §10.6",
        "The CSVバージョン applies to the service month: V4 (202504/202407) from 2025-04, earlier versions before it.",
        "Use 202407 for service months from 2025-04 and 202208 before.";
    FileNameVersion = "FILE_NAME_VERSION", Warning, "§3.3, §9",
        "V4 names (with service kinds) go with CSVバージョン 202504/202407, V3 names (without) with earlier versions.",
        "Name the file by the rule of its CSVバージョン: with both service kinds from V4.";
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
    TimeEndOfDay = "TIME_END_OF_DAY", Warning, "§2 (HHMM)",
        "2400 — the end of the day, which care software writes for a service ending at midnight — is not a time of day HHMM; the text writes HHMM and neither allows nor forbids it, so it is read as midnight with a warning.",
        "Write 0000 of the next day's sheet, or keep 2400 if every receiver reads it.";
    CodeInvalid = "CODE_INVALID", Error, "§7, §10.14",
        "Code fields hold a value of their code table (e.g. 要介護状態区分 06, 12, 13, 21–25).",
        "Use a value of the code table named in the message.";
    NumberInvalid = "NUMBER_INVALID", Error, "§2",
        "Numeric fields hold half-width digits without sign or separators (単位数単価 as 99.99).",
        "Write the number as half-width digits, without sign, comma or spaces.";
    UnitPriceForm = "UNIT_PRICE_FORM", Warning, "§6.8 №23 (99.99 形式)",
        "単位数単価 is written in the form 99.99; `11.4` or `10` name the same price in another form, which the text does not forbid outright, so they are read with a warning.",
        "Write the unit price with two decimals: 11.40, 10.00.";
    FormatInvalid = "FORMAT_INVALID", Error, "§2, §10.15–17",
        "Office numbers are 10 digits, service kinds [0-9A-Z]{2}, service codes [0-9A-Z]{6} (7表 also kind+AAAA/EEEE/ZZZZ and 999999), postal codes XXX-XXXX and 日割対象日 31 characters of 0/1.",
        "Write the value in the format named in the message.";
    FreeTextUnquoted = "FREE_TEXT_UNQUOTED", Warning, "§2, §10.8",
        "Free-text fields (フリーテキスト) are enclosed in double quotes.",
        "Write free text in double quotes, doubling any quote inside it.";
    UnusedField = "UNUSED_FIELD", Warning, "§2",
        "識別子 (※使用しない) is empty.",
        "Leave the 識別子 field empty.";
    ProrationOutsideMonth = "PRORATION_OUTSIDE_MONTH", Warning, "§6.6, §10.16",
        "日割対象日 marks no day that does not exist in the service month.",
        "Write 0 at the positions of days the month does not have.";
    ServiceDateOutsideMonth = "SERVICE_DATE_OUTSIDE_MONTH", Error, "§6.6, §10.23",
        "サービス利用日 lies within the record's 対象年月.",
        "Move the record to the file of the month its service date belongs to, or fix the date.";
    EquipmentCodeMissing = "EQUIPMENT_CODE_MISSING", Error, "§8.5, §10.18",
        "6表/7表 lines of 福祉用具貸与 (kinds 17 and 67) carry a TAIS code or a 福祉用具届出コード.",
        "Write the product's TAIS code (or its 届出コード when it has none).";
    DetailCodeOutsideRental = "DETAIL_CODE_OUTSIDE_RENTAL", Warning, "§6.6, §10.19",
        "明細判別コード is only set on 福祉用具貸与 (kind 17) lines.",
        "Leave 明細判別コード empty on lines of other kinds.";
    AnnexTotalRow = "ANNEX_TOTAL_ROW", Error, "§6.8, §10.20",
        "Each user of a 7表 has exactly one grand-total row (999999 with 事業所コード 9999999999).",
        "Write one 999999 row per user and month, with サービス事業所コード 9999999999.";
    AnnexSummaryRow = "ANNEX_SUMMARY_ROW", Error, "§6.8, §10.20",
        "Subtotal (kind+AAAA/EEEE/ZZZZ) and total (999999) rows have 単位数 0 and empty 割引後率 and 割引後単位数.",
        "Write 0 as 単位数 and leave the discount fields empty on subtotal and total rows.";
    AnnexSubtotalMissing = "ANNEX_SUBTOTAL_MISSING", Warning, "§6.8, §10.21",
        "A service kind with more than one code row in a user's 7表 has its kind+AAAA subtotal row.",
        "Add the kind's AAAA subtotal row after its service rows.";
    AnnexSum = "ANNEX_SUM", Warning, "§6.8 (the 7表 form's arithmetic)",
        "A kind's AAAA subtotal carries the sum of its code rows' サービス単位／金額 (field 17), and the 999999 total the sum of every code row's; checked where the user has no EEEE/ZZZZ rows, whose split the file alone cannot show.",
        "Write each subtotal and the total as the sum of the rows they summarise.";
    AnnexOfficeCode = "ANNEX_OFFICE_CODE", Warning, "§6.8, §10.22",
        "7表 field 34 事業所コード is always 9999999999.",
        "Write 9999999999 in field 34.";
    ActualProviderMismatch = "ACTUAL_PROVIDER_MISMATCH", Warning, "§6.6, §6.7, §10.24",
        "Actuals come from their provider: in UPJSK field 20 サービス事業者コード is the sending office and every サービスコード is of the sender's service kind; in DLTJSK fields 5–6 are the sending office and its kind.",
        "Send each provider's actuals from that provider, one file per office number and kind.";
    ServiceKindOutOfScope = "SERVICE_KIND_OUT_OF_SCOPE", Warning, "§5.4, §7.3, §10.25",
        "Lines of service kinds outside the exchange's scope (e.g. 33 特定施設, 51 介護福祉施設) are left out.",
        "Leave out lines of out-of-scope service kinds.";
    SendUnit = "SEND_UNIT", Error, "§5.2, §10.10",
        "Files sharing sender, receiver and serial form a send unit: 6表 + 7表 + 補足 of one month; 1表 + 2表 + 3表 + 補足 (000000); deletions and actuals alone.",
        "Send the missing companion files with the same serial, or give unrelated files their own serial.";
    SendUnitPartial = "SEND_UNIT_PARTIAL", Warning, "§5.2, §10.10",
        "A file that needs companions in its send unit was validated alone, so the unit could not be checked.",
        "Validate the whole send unit (e.g. the export directory) to check the combination.";
    OrphanRecord = "ORPHAN_RECORD", Warning, "§5.1, §10.11",
        "Every user in a dependent file of a send unit (7表 and 補足 of a month; 2表, 3表 and 補足 of plan tables; 別表1/2 of 利用者基本情報; 支援計画 of 支援計画書) has records in its parent (6表; 1表; UPKIHON; UPYOBO).",
        "Send the parent records of those users in the same send unit, or leave their dependent records out.";
    SupplementLink = "SUPPLEMENT_LINK", Warning, "§6.1, §10.27",
        "A user supplement linked to a month's sheets has field 4 = 00000000; one linked to plan tables has field 63 = 000000.",
        "Write 00000000 in field 4 for a month's supplement, 000000 in field 63 for a plan's.";
    ConditionalField = "CONDITIONAL_FIELD", Error, "§6.9",
        "A field the text calls for when another holds a given code is filled: 利用者基本情報 相談方法 03 (その他) with 相談方法(その他の内容), 利用者の現況 02 (入院又は入所中) with 利用者の現況(状況補足).",
        "Fill the field the code calls for, or correct the code.";
    ServiceCodeUnknown = "SERVICE_CODE_UNKNOWN", Error, "§6.6 №15, §6.8 №9",
        "With a service-code table (`--service-codes`): every サービスコード of a 6表 line and of a 7表 service row is a code of the table in force in the record's 対象年月.",
        "Use a code of the service-code table in force for the service month (codes change at each revision).";
    ServiceUnitsMismatch = "SERVICE_UNITS_MISMATCH", Error, "§6.8 №13",
        "With a service-code table: a 7表 service row's 単位数 is the table's units for its code, where the table gives units (a code given as a rate has none).",
        "Write the code's units from the service-code table in force for the month; put a discount in 割引後率/割引後単位数.";
    ManagedUnitsOutsideLimit = "MANAGED_UNITS_OUTSIDE_LIMIT", Warning, "§6.8 №18",
        "With a service-code table: 給付管理単位数 is empty on a 7表 row whose code the table marks outside the 区分支給限度 (`within_limit` 0).",
        "Leave 給付管理単位数 empty for services outside the 区分支給限度.";
    SlotOrder = "SLOT_ORDER", Warning, "§6.1",
        "The user supplement's per-kind limit slots (fields 20–55, nine of four fields) are filled from slot 1 on, with no empty slot before a filled one.",
        "Move the filled slots up: slot 1 first, with no gap.";
    DateOrder = "DATE_ORDER", Warning, "§6.1, §6.2, §6.13",
        "Dates that open and close a period, or a first plan and its change, are in order: 限度額適用開始 ≤ 終了 (補足), 初回居宅サービス計画作成日 ≤ 作成（変更）日 and 認定有効期間開始 ≤ 終了 (1表), 初回作成日 ≤ 計画作成(変更)日 (予防計画書).",
        "Correct the dates: the first of the pair cannot come after the second.";
    ServiceCount = "SERVICE_COUNT", Warning, "§6.6 №14",
        "サービス回数 is at least 1: it counts the times the service is given on the day.",
        "Write the number of times the service is given that day, 1 or more, or leave the line out.";
    ShortStaySlotKind = "SHORT_STAY_SLOT_KIND", Error, "§6.1",
        "In the user supplement's per-kind limit slots, 短期入所療養介護 of any facility is kind 22 (介護老人保健施設): 23 and 2A are not used there. The text says nothing of the 予防 kinds (25, 26, 2B), which are not checked.",
        "Write kind 22 in the slot for 短期入所療養介護, whatever the facility.";
    FieldNotCalledFor = "FIELD_NOT_CALLED_FOR", Warning, "§6.2",
        "A field the text ties to a code of another field is filled only with that code: 居宅サービス計画1表 その他理由 with 生活援助中心型の算定理由 3 (その他).",
        "Empty the field, or set the code it goes with.";
    PlanOfficeNotSender = "PLAN_OFFICE_NOT_SENDER", Warning, "§6.2",
        "居宅サービス計画1表 介護支援事業者コード is the care-management office that sends the plan (the file name's sender).",
        "Write the sending care-management office's number, or send the plan from the office that made it.";
    ReceiverWithoutLines = "RECEIVER_WITHOUT_LINES", Warning, "§5.4, §6.6",
        "Every user of a plan (UPPLAN) sent to a provider has at least one line of that provider (サービス事業者コード = the file name's receiver).",
        "Send each provider the plans of its own users only.";
    StayDaysSum = "STAY_DAYS_SUM", Warning, "§6.8 №30–32",
        "On a 7表 row, 累積利用日数 is 前月までの利用日数 plus 当月の計画利用日数 (checked where all three are given).",
        "Write the cumulative short-stay days as the days before the month plus the days planned in it.";
    SupportPlanNumbering = "SUPPORT_PLAN_NUMBERING", Warning, "§6.15",
        "In 介護予防支援計画 (UPYOBO_SUB), the rows of a plan (a user and its 計画作成(変更)日; rows without the three numbers are passed over) number their support plans from 1 within each 課題ＮＯ (支援計画ＮＯ steps by one) and their services from 1 within each support plan (利用サービスＮＯ steps by one), as the layout's example does.",
        "Repeat 課題ＮＯ for the support plans of one 課題 and number them 1, 2, 3…; likewise 利用サービスＮＯ within one support plan.";
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
    /// Users (insurer number, insured number) of the records.
    pub users: BTreeSet<(String, String)>,
    /// Findings, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl FileReport {
    /// The report of a file whose content cannot be read (wrong encoding, broken CSV).
    fn unreadable(kind: Option<FileKind>, diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            kind,
            csv_version: None,
            records: 0,
            users: BTreeSet::new(),
            diagnostics,
        }
    }

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
pub struct Options<'t> {
    /// Turns the standard's soft rules (warnings) into errors.
    pub strict: bool,
    /// The national service-code table, when the user has one: service codes are then checked against it
    /// (`SERVICE_CODE_UNKNOWN`, `SERVICE_UNITS_MISMATCH`, `MANAGED_UNITS_OUTSIDE_LIMIT`).
    pub service_codes: Option<&'t ServiceCodes>,
}

/// Published CSVバージョン values.
const KNOWN_VERSIONS: [&str; 5] = ["201910", "202003", "202208", "202504", "202407"];

/// Whether a CSVバージョン uses the V4 layouts (202504 from V4.0 senders, 202407 from V4.1).
fn is_v4(version: &str) -> bool {
    matches!(version, "202504" | "202407")
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

/// Whether `record` is a line of column names rather than a record: field 1 of every record is the
/// CSVバージョン (digits), and a header names its columns, so no field of it is a number. A record whose
/// version is merely malformed still has numeric fields, and is judged as a record.
fn is_header_row(record: &Record<'_, [u8]>) -> bool {
    let fields = record.fields();
    !is_digits(record.field(0))
        && !record.field(0).is_empty()
        && fields.iter().filter(|v| !v.is_empty()).count() >= 2
        && !fields.iter().any(|v| is_digits(v))
}

/// Validates one file, named `name` (its file name, without directories), with content `bytes`.
///
/// The file is checked as MS932 without being decoded, and its records are read from its bytes: the
/// rules judge codes, numbers and dates, which are ASCII, and free text by its characters, which MS932
/// counts from its lead bytes; only a message decodes the value it shows. Records are read one at a time
/// into one [`Record`] and checked as they are read: nothing is kept per record but the findings and the
/// users, so a file costs one pass for its encoding, one for its records and the checks.
pub fn validate_file(name: &str, bytes: &[u8], options: Options<'_>) -> FileReport {
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
    if let Err(e) = ms932::check(bytes) {
        findings.add(Rule::Encoding, encoding_line(&e), None, e.to_string());
        return FileReport::unreadable(kind, findings.list);
    }
    let before_records = findings.list.len();
    let mut reader = Reader::new(bytes);
    let mut record = Record::default();
    let mut file = FileChecks::new(file_name.as_ref(), options.service_codes);
    loop {
        match reader.read_into(&mut record) {
            Ok(true) => file.check(&record, &mut findings),
            Ok(false) => break,
            Err(e) => {
                // A file that cannot be read is reported for that alone, not for the records before the break.
                findings.list.truncate(before_records);
                findings.add(Rule::CsvSyntax, Some(e.line), None, e.reason);
                return FileReport::unreadable(kind, findings.list);
            }
        }
    }
    file.finish(kind, &mut findings)
}

/// Records' keys as they come — a user (insurer and insured numbers), or a user and a month — each run of
/// adjacent records of one key with a value `V` of its own: records of one user are usually adjacent, so a
/// key is compared with the last one and written down once per run, with no lookup and no allocation per
/// record; the runs of a key are merged once at the end.
struct Runs<V, const N: usize> {
    /// The keys' parts back to back, run after run.
    text: Vec<u8>,
    /// Each run's key, as ranges of `text`, and its value.
    runs: Vec<([std::ops::Range<usize>; N], V)>,
}

/// Runs of a file's users: insurer and insured numbers.
type UserRuns<V> = Runs<V, 2>;

impl<V, const N: usize> Default for Runs<V, N> {
    fn default() -> Self {
        Self {
            text: Vec::new(),
            runs: Vec::new(),
        }
    }
}

impl<V, const N: usize> Runs<V, N> {
    /// The value of the run a record of this key belongs to: the last run's when the key is its key, a
    /// new run's, valued `first()`, otherwise.
    fn add(&mut self, key: [&[u8]; N], first: impl FnOnce() -> V) -> &mut V {
        let continues = self.runs.last().is_some_and(|(last, _)| {
            last.iter()
                .zip(key)
                .all(|(range, part)| same(&self.text[range.clone()], part))
        });
        if !continues {
            let text = &mut self.text;
            let ranges = key.map(|part| {
                let start = text.len();
                text.extend_from_slice(part);
                start..text.len()
            });
            self.runs.push((ranges, first()));
        }
        let last = self.runs.len() - 1;
        &mut self.runs[last].1
    }

    /// Each distinct key in order (part by part) with the values of its runs, the first in file order
    /// taking in the later ones with `merge`.
    fn for_each(mut self, mut merge: impl FnMut(&mut V, V), mut each: impl FnMut([&[u8]; N], V)) {
        let text = &self.text;
        let key = |run: &([std::ops::Range<usize>; N], V)| run.0.clone().map(|range| &text[range]);
        // Stable: runs of one key stay in file order.
        self.runs.sort_by(|a, b| key(a).cmp(&key(b)));
        let mut runs = self.runs.into_iter();
        let Some(mut current) = runs.next() else {
            return;
        };
        for run in runs {
            if key(&run) == key(&current) {
                merge(&mut current.1, run.1);
            } else {
                let done = std::mem::replace(&mut current, run);
                each(key(&done), done.1);
            }
        }
        each(key(&current), current.1);
    }
}

/// What the checks of one file carry from record to record.
struct FileChecks<'n> {
    name: Option<&'n FileName>,
    service_codes: Option<&'n ServiceCodes>,
    /// Records read, the header row left out.
    records: usize,
    /// Whether a line was read, the header row included.
    any_line: bool,
    /// The CSVバージョン of the first record.
    csv_version: Option<String>,
    /// The first published version met: every later record's version must equal it.
    reference: Option<&'static str>,
    /// Whether records are read with the V4 layouts: by the first record's version.
    v4: bool,
    /// The layout the records are checked against, once the first record tells the rule set.
    layout: Option<&'static CheckedLayout>,
    /// The rules over all of the file's records.
    across: Across,
    annex: Option<AnnexTotals>,
    /// The users of the records, one entry per run of adjacent records of a user: no lookup per
    /// record, duplicates removed once at the end.
    users: UserRuns<()>,
}

impl<'n> FileChecks<'n> {
    fn new(name: Option<&'n FileName>, service_codes: Option<&'n ServiceCodes>) -> Self {
        Self {
            name,
            service_codes,
            records: 0,
            any_line: false,
            csv_version: None,
            reference: None,
            v4: true,
            layout: None,
            across: Across::None,
            annex: None,
            users: UserRuns::default(),
        }
    }

    fn check(&mut self, record: &Record<'_, [u8]>, findings: &mut Findings) {
        let first_line = !std::mem::replace(&mut self.any_line, true);
        if first_line && is_header_row(record) {
            findings.add(
                Rule::HeaderRow,
                Some(record.line),
                None,
                format!(
                    "line {} is a header row of column names (`{}`), not a record",
                    record.line,
                    ms932::lossy(&record.fields().join(&b','))
                        .chars()
                        .take(60)
                        .collect::<String>()
                ),
            );
            return;
        }
        let version = record.field(0);
        // Most records repeat the version before them: compare with it before searching the list.
        let known = match self.reference {
            Some(reference) if same(reference, version) => Some(reference),
            _ => KNOWN_VERSIONS.iter().copied().find(|v| same(v, version)),
        };
        if self.records == 0 {
            self.csv_version = Some(ms932::lossy(version).into_owned());
            // An unknown version is reported once; its records are read with the V4 layouts its name implies.
            self.v4 = known.is_none_or(is_v4);
            self.layout = self.name.and_then(|name| checked(name.kind, self.v4));
            self.across = self.layout.map_or(Across::None, Across::new);
            if let Some(layout) = self.layout
                && let Relations::Annex(fields) = &layout.relations
            {
                self.annex = Some(AnnexTotals::new(layout, fields));
            }
        }
        self.records += 1;
        match (known, self.reference) {
            (None, _) => findings.add(
                Rule::CsvVersionUnknown,
                Some(record.line),
                Some(1),
                format!(
                    "field 1 CSVバージョン: `{}` is not a published version",
                    Shown(version)
                ),
            ),
            (Some(known), None) => self.reference = Some(known),
            (Some(known), Some(reference)) if !same(known, reference) => findings.add(
                Rule::CsvVersionMixed,
                Some(record.line),
                Some(1),
                format!(
                    "field 1 CSVバージョン: `{}` differs from the file's first version (`{reference}`)",
                    Shown(version)
                ),
            ),
            (Some(_), Some(_)) => {}
        }
        if self.records == 1
            && let (Some(first), Some(name)) = (known, self.name)
        {
            check_version_of_name(first, record.line, name, findings);
        }
        if let (Some(name), Some(layout)) = (self.name, self.layout) {
            check_record(record, name, layout, self.service_codes, findings);
            if record.len() == layout.specs.len() && !matches!(self.across, Across::None) {
                let values = record.values();
                let user = (record.field(1), record.field(2));
                self.across.add(&values, user, record.line, name, findings);
            }
        }
        if let Some(annex) = &mut self.annex {
            annex.add(record);
        }
        if record.len() >= 3 {
            self.users.add([record.field(1), record.field(2)], || ());
        }
    }

    fn finish(self, kind: Option<FileKind>, findings: &mut Findings) -> FileReport {
        if self.records == 0 {
            findings.add(Rule::FileEmpty, None, None, "the file holds no record".to_owned());
        }
        if let Some(annex) = self.annex {
            annex.finish(findings);
        }
        if let Some(name) = self.name {
            self.across.finish(name, findings);
        }
        FileReport {
            kind,
            csv_version: self.csv_version,
            records: self.records,
            users: {
                // In order already: the set is built in bulk, not by a search per user.
                let mut users = Vec::new();
                self.users.for_each(
                    |(), ()| {},
                    |[insurer, insured], ()| {
                        users.push((
                            ms932::lossy(insurer).into_owned(),
                            ms932::lossy(insured).into_owned(),
                        ));
                    },
                );
                BTreeSet::from_iter(users)
            },
            diagnostics: std::mem::take(&mut findings.list),
        }
    }
}

/// Validates several files: each on its own, then the send units their names form (files sharing sender,
/// receiver and serial). A send-unit finding sits on the unit's first file. Reports are in input order.
pub fn validate_files(files: &[(&str, &[u8])], options: Options<'_>) -> Vec<FileReport> {
    let mut reports: Vec<FileReport> = files
        .iter()
        .map(|(name, bytes)| validate_file(name, bytes, options))
        .collect();
    let mut units: BTreeMap<(String, String, String), Vec<(usize, FileName)>> = BTreeMap::new();
    for (index, (name, _)) in files.iter().enumerate() {
        if let Ok(parsed) = name.parse::<FileName>() {
            let key = (
                parsed.from.to_string(),
                parsed.to.to_string(),
                parsed.serial.to_string(),
            );
            units.entry(key).or_default().push((index, parsed));
        }
    }
    for members in units.values() {
        let names: Vec<FileName> = members.iter().map(|(_, name)| name.clone()).collect();
        let v4 = members
            .iter()
            .all(|(i, _)| reports[*i].csv_version.as_deref().is_none_or(is_v4));
        let plan_table_3 = if v4 {
            PlanTable3::Required
        } else {
            PlanTable3::Optional
        };
        let mut findings = Findings {
            strict: options.strict,
            list: Vec::new(),
        };
        match check_send_unit(&names, plan_table_3) {
            Err(e) => {
                let first = members.iter().map(|(i, _)| *i).min().unwrap_or(0);
                // A lone file was most likely validated on its own, not sent alone: say so without failing it.
                let rule = if members.len() == 1 {
                    Rule::SendUnitPartial
                } else {
                    Rule::SendUnit
                };
                findings.add(rule, None, None, format!("send unit {}: {e}", names[0].serial));
                reports[first].diagnostics.append(&mut findings.list);
            }
            Ok(unit) => {
                // Dependent files and the parent whose users they must share (spec §5.1).
                let parent_of = |kind: FileKind| match (unit, kind) {
                    (SendUnitKind::UsageSheets, FileKind::UsageAnnex | FileKind::UserSupplement) => {
                        Some(FileKind::UsagePlan)
                    }
                    (
                        SendUnitKind::PlanTables,
                        FileKind::PlanTable2 | FileKind::PlanTable3 | FileKind::UserSupplement,
                    ) => Some(FileKind::PlanTable1),
                    (
                        SendUnitKind::Prevention,
                        FileKind::PreventionBasicSchedule | FileKind::PreventionBasicHistory,
                    ) => Some(FileKind::PreventionBasic),
                    (SendUnitKind::Prevention, FileKind::PreventionPlanSupport) => {
                        Some(FileKind::PreventionPlan)
                    }
                    _ => None,
                };
                for (index, name) in members.iter() {
                    let Some(parent_kind) = parent_of(name.kind) else {
                        continue;
                    };
                    // An unreadable or empty parent has its own finding; its users are unknown.
                    let Some(parent) = members
                        .iter()
                        .find(|(i, n)| n.kind == parent_kind && reports[*i].records > 0)
                        .map(|(i, _)| *i)
                    else {
                        continue;
                    };
                    let orphans: Vec<String> = reports[*index]
                        .users
                        .difference(&reports[parent].users)
                        .map(|(insurer, insured)| format!("{insurer}/{insured}"))
                        .collect();
                    if !orphans.is_empty() {
                        let shown = orphans.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
                        let more = if orphans.len() > 3 {
                            format!(" and {} more", orphans.len() - 3)
                        } else {
                            String::new()
                        };
                        findings.add(
                            Rule::OrphanRecord,
                            None,
                            None,
                            format!(
                                "{} has users without records in {parent_kind}: {shown}{more}",
                                name.kind
                            ),
                        );
                        reports[*index].diagnostics.append(&mut findings.list);
                    }
                }
            }
        }
    }
    reports
}

fn is_digits(value: &[u8]) -> bool {
    !value.is_empty() && value.iter().all(u8::is_ascii_digit)
}

/// The number `value` writes, read as `str::parse` reads it.
fn parse<N: std::str::FromStr>(value: &[u8]) -> Option<N> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// A value of a record as a message shows it, decoded from MS932.
struct Shown<T: AsRef<[u8]>>(T);

impl<T: AsRef<[u8]>> fmt::Display for Shown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&ms932::lossy(self.0.as_ref()))
    }
}

/// The number written by `digits`, when they are all ASCII digits (at most 9, so no overflow).
fn number(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })
}

/// Whether two short values are equal. Codes, numbers and dates are a few bytes, below what a call to
/// `memcmp` pays off, and a loop over their bytes branches on each: up to 16 bytes are compared as two
/// overlapping words of the same size.
#[inline]
fn same(a: impl AsRef<[u8]>, b: impl AsRef<[u8]>) -> bool {
    let (a, b) = (a.as_ref(), b.as_ref());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, n - 4) == word::<4>(b, n - 4),
        8..=16 => word::<8>(a, 0) == word::<8>(b, 0) && word::<8>(a, n - 8) == word::<8>(b, n - 8),
        _ => a == b,
    }
}

/// The `N` bytes of `bytes` from `at` (which the caller keeps within the slice).
fn word<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut word = [0; N];
    word.copy_from_slice(&bytes[at..at + N]);
    word
}

/// A service code's kind (its first two characters) and the rest, when those two are ASCII, as every
/// kind is. A code that opens otherwise (a format finding already) has no kind, and is never cut inside
/// a two-byte character.
fn split_code(code: &[u8]) -> (&[u8], Option<&[u8]>) {
    match code {
        [a, b, rest @ ..] if a.is_ascii() && b.is_ascii() => (&code[..2], Some(rest)),
        _ => (&[], None),
    }
}

/// Whether `value` is one of `codes`.
fn one_of(codes: &[&str], value: &[u8]) -> bool {
    codes.iter().any(|code| same(code, value))
}

fn is_code_char(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_uppercase()
}

fn is_time(b: &[u8]) -> bool {
    b.len() == 4 && number(&b[..2]).is_some_and(|h| h < 24) && number(&b[2..]).is_some_and(|m| m < 60)
}

/// Whether `value` is a month `YYYYMM` that [`CareMonth`] reads: years 1000–9999, months 01–12.
fn is_month(b: &[u8]) -> bool {
    b.len() == 6
        && number(&b[..4]).is_some_and(|y| y >= 1000)
        && number(&b[4..]).is_some_and(|m| (1..=12).contains(&m))
}

/// The month `YYYYMM` that `value` writes, read as [`is_month`] reads it.
fn month_of(b: &[u8]) -> Option<CareMonth> {
    if !is_month(b) {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(number(&b[4..])?).ok()?).ok()?;
    CareMonth::new(i32::try_from(number(&b[..4])?).ok()?, month)
}

/// Whether `value` is a real date `YYYYMMDD` of the proleptic Gregorian calendar, as [`parse_date`](crate::records::parse_date) reads
/// it, without building the date: every record has several.
#[inline]
fn is_date(b: &[u8]) -> bool {
    if b.len() != 8 {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (number(&b[..4]), number(&b[4..6]), number(&b[6..])) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
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

/// The first record's published CSVバージョン against the file name: V4 names go with V4 versions, and a
/// month's name with the version that applies to the month.
fn check_version_of_name(first: &str, line: u64, name: &FileName, findings: &mut Findings) {
    if name.service_kinds.is_some() != is_v4(first) {
        let naming = if name.service_kinds.is_some() {
            "a V4 name"
        } else {
            "a V3 name (no service kinds)"
        };
        findings.add(
            Rule::FileNameVersion,
            Some(line),
            Some(1),
            format!("CSVバージョン `{first}` in a file with {naming}"),
        );
    }
    if let Some(MonthSegment::Month(month)) = name.month
        && is_v4(first) != (month >= CareMonth::FIRST_V4)
    {
        findings.add(
            Rule::CsvVersionForMonth,
            Some(line),
            Some(1),
            format!("CSVバージョン `{first}` does not apply to service month {month}"),
        );
    }
}

fn check_record(
    record: &Record<'_, [u8]>,
    name: &FileName,
    layout: &CheckedLayout,
    service_codes: Option<&ServiceCodes>,
    findings: &mut Findings,
) {
    let line = Some(record.line);
    let expected = layout.specs.len();
    if record.len() != expected {
        findings.add(
            Rule::FieldCount,
            line,
            None,
            format!(
                "{} records have {expected} fields, this one has {}",
                name.kind,
                record.len()
            ),
        );
        return;
    }
    let values = record.values();
    if !layout.fields.passes(&values, record.quoted_fields()) {
        check_fields(layout.specs, &values, record, findings);
    }
    check_relations(&values, record.line, name, layout, findings);
    if let Some(table) = service_codes {
        check_service_codes(&values, record.line, layout, table, findings);
    }
    if let (Some(MonthSegment::Month(month)), Some(at)) = (name.month, layout.month)
        && let value = at.of(&values)
        && value.len() == 6
        && value.is_ascii()
        && month_of(value) != Some(month)
    {
        findings.add(
            Rule::MonthMismatch,
            line,
            Some(at.number()),
            format!(
                "{at}: `{}` differs from the file name's month {month}",
                Shown(value)
            ),
        );
    }
}

/// The service kind a 7表 サービスコード starts with, as [`split_code`] takes it (none for a code that
/// does not open with two ASCII bytes), kept in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KindOf(Option<[u8; 2]>);

impl KindOf {
    fn of(code: &[u8]) -> Self {
        Self(split_code(code).0.try_into().ok())
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.as_ref().map_or(&[], |kind| kind.as_slice())
    }
}

/// The rows of one user and month of a 7表 (a run of them, until the runs of the user are merged).
struct UserRows {
    first_line: u64,
    totals: usize,
    /// Code rows per service kind, and their field 17 (サービス単位／金額) summed, `None` once a value is
    /// not a number: a user has rows of a few kinds, searched in place.
    code_rows: Vec<(KindOf, usize, Option<u64>)>,
    /// Kinds with an AAAA subtotal row, and the amount each states.
    stated: Vec<(KindOf, Option<u64>)>,
    total_stated: Option<Option<u64>>,
    outside_the_limit: bool,
}

impl UserRows {
    fn new(first_line: u64) -> Self {
        Self {
            first_line,
            totals: 0,
            code_rows: Vec::new(),
            stated: Vec::new(),
            total_stated: None,
            outside_the_limit: false,
        }
    }

    /// Counts `count` code rows of `kind` whose amounts add up to `sum`.
    fn count(&mut self, kind: KindOf, count: usize, sum: Option<u64>) {
        match self.code_rows.iter_mut().find(|(k, ..)| *k == kind) {
            Some((_, counted, summed)) => {
                *counted += count;
                *summed = summed.zip(sum).and_then(|(a, b)| a.checked_add(b));
            }
            None => self.code_rows.push((kind, count, sum)),
        }
    }

    /// Takes in a later run of the same user and month, as if its rows had followed these.
    fn merge(&mut self, later: UserRows) {
        self.totals += later.totals;
        if later.total_stated.is_some() {
            self.total_stated = later.total_stated;
        }
        self.outside_the_limit |= later.outside_the_limit;
        self.stated.extend(later.stated);
        for (kind, count, sum) in later.code_rows {
            self.count(kind, count, sum);
        }
    }
}

/// Rules over all of a 7表 file's rows of one user and month (spec §10.20–21), gathered row by row.
struct AnnexTotals {
    layout: &'static CheckedLayout,
    fields: &'static AnnexFields,
    /// Whether every row had the layout's field count: sums are judged only then.
    complete: bool,
    /// The rows of each run of a user and month (insurer, insured, 対象年月).
    users: Runs<UserRows, 3>,
}

impl AnnexTotals {
    fn new(layout: &'static CheckedLayout, fields: &'static AnnexFields) -> Self {
        Self {
            layout,
            fields,
            complete: true,
            users: Runs::default(),
        }
    }

    fn add(&mut self, record: &Record<'_, [u8]>) {
        if record.len() != self.layout.specs.len() {
            self.complete = false;
            return;
        }
        let at = self.fields;
        let key = [
            record.field(at.insurer.index),
            record.field(at.insured.index),
            record.field(at.month.index),
        ];
        let rows = self.users.add(key, || UserRows::new(record.line));
        let code = record.field(at.code.index);
        let kind = KindOf::of(code);
        let amount = {
            let v = record.field(at.amount.index);
            if v.is_empty() { Some(0) } else { parse::<u64>(v) }
        };
        match split_code(code).1 {
            _ if same(code, "999999") => {
                rows.totals += 1;
                rows.total_stated = Some(amount);
            }
            Some(b"AAAA") => rows.stated.push((kind, amount)),
            Some(b"EEEE" | b"ZZZZ") => rows.outside_the_limit = true,
            _ => rows.count(kind, 1, amount),
        }
    }

    fn finish(self, findings: &mut Findings) {
        let code_at = self.fields.code.number();
        let amount_at = self.fields.amount.number();
        let complete = self.complete;
        self.users.for_each(UserRows::merge, |[insurer, insured, month], rows| {
            let (insurer, insured, month) = (Shown(insurer), Shown(insured), Shown(month));
            let line = Some(rows.first_line);
            if rows.totals != 1 {
                findings.add(
                    Rule::AnnexTotalRow,
                    line,
                    Some(code_at),
                    format!(
                        "user {insurer}/{insured} in {month} has {} grand-total (999999) rows; exactly one is required",
                        rows.totals
                    ),
                );
            }
            // Sums are only meaningful when every row was read: a row of the wrong length is already an error.
            if complete && !rows.outside_the_limit {
                let mut sum_mismatch = |what: String, stated: u64, summed: u64| {
                    findings.add(
                        Rule::AnnexSum,
                        line,
                        Some(amount_at),
                        format!("user {insurer}/{insured} in {month}: {what} states {stated}, its rows add up to {summed}"),
                    );
                };
                for (kind, stated) in &rows.stated {
                    let summed = rows
                        .code_rows
                        .iter()
                        .find(|(k, ..)| k == kind)
                        .map(|(.., sum)| sum);
                    if let (Some(stated), Some(Some(summed))) = (stated, summed)
                        && stated != summed
                    {
                        sum_mismatch(
                            format!("the {}AAAA subtotal", Shown(kind.as_bytes())),
                            *stated,
                            *summed,
                        );
                    }
                }
                let all: Option<u64> = rows
                    .code_rows
                    .iter()
                    .try_fold(0u64, |total, (.., sum)| sum.and_then(|s| total.checked_add(s)));
                if let (Some(Some(stated)), Some(summed)) = (rows.total_stated, all)
                    && stated != summed
                {
                    sum_mismatch("the 999999 total".to_owned(), stated, summed);
                }
            }
            // In the order of the kinds' codes, as a report lists them.
            let mut code_rows = rows.code_rows;
            code_rows.sort_unstable_by(|(a, ..), (b, ..)| a.as_bytes().cmp(b.as_bytes()));
            for (kind, count, _) in &code_rows {
                let kind_shown = Shown(kind.as_bytes());
                if *count > 1 && !rows.stated.iter().any(|(k, _)| k == kind) {
                    findings.add(
                        Rule::AnnexSubtotalMissing,
                        line,
                        Some(code_at),
                        format!("user {insurer}/{insured} in {month} has {count} code rows of kind {kind_shown} but no {kind_shown}AAAA subtotal"),
                    );
                }
            }
        });
    }
}

impl Rule {
    /// Where the official V4.1 text states the rule: 仕様書 is the specification's body (its sections), 定義書
    /// its CSV layout definitions (別紙, by file, field № and column). Every rule has one (the match is
    /// exhaustive).
    pub fn official(self) -> &'static str {
        match self {
            Rule::FileName => "仕様書 2.2, 3.2; 定義書 ファイル名規約 of each file",
            Rule::Encoding => "仕様書 4.3; 定義書 文字コード",
            Rule::CsvSyntax => "仕様書 4.2; 定義書 ※フリーテキスト",
            Rule::FieldCount => "仕様書 4.1; 定義書 each layout's fields",
            Rule::HeaderRow => "仕様書 4.2 (no header row is defined); 定義書 layouts",
            Rule::CsvVersionUnknown => "定義書 №1 CSVバージョン; 仕様書 改版履歴",
            Rule::CsvVersionMixed => "定義書 №1 (1ファイル中に複数のCSVバージョンを混在させることはできない)",
            Rule::CsvVersionForMonth => {
                "定義書 №1 (新しいバージョンの適用年月となるサービス提供年月から適用)"
            }
            Rule::FileNameVersion => "仕様書 改版履歴 4.0; 定義書 ファイル名規約",
            Rule::MonthMismatch => "定義書 ファイル作成単位 (単月のサービス提供年月のみ), 対象年月",
            Rule::FileEmpty => "仕様書 2.6, 3.6 (出力単位)",
            Rule::InsurerNumber => "定義書 №2 保険者番号",
            Rule::InsuredNumber => "定義書 №3 被保険者番号 (生保単独は H + 9 桁)",
            Rule::RequiredField => "定義書 必須 (○)",
            Rule::RecommendedField => "定義書 必要 and the remarks of the fields concerned",
            Rule::FieldLength => "定義書 項目長",
            Rule::DateInvalid => "定義書 書式 YYYYMMDD / YYYYMM",
            Rule::TimeInvalid => "定義書 書式 HHMM; 第6表 サービス開始・終了時刻",
            Rule::TimeEndOfDay => "定義書 書式 HHMM",
            Rule::CodeInvalid => "定義書 選択肢 and the code tables (コード表)",
            Rule::NumberInvalid => "定義書 書式 整数",
            Rule::UnitPriceForm => "定義書 第7表 №23 単位数単価 (99.99 形式)",
            Rule::FormatInvalid => {
                "定義書 書式 (事業所番号 10 桁, サービス種類・サービスコード, 郵便番号, 日割対象日)"
            }
            Rule::FreeTextUnquoted => "定義書 ※フリーテキストは\"\"（半角）で囲い",
            Rule::UnusedField => "定義書 ※使用しない",
            Rule::ProrationOutsideMonth => "定義書 第6表 日割対象日",
            Rule::ServiceDateOutsideMonth => "定義書 第6表 サービス利用日, 対象年月",
            Rule::EquipmentCodeMissing => {
                "定義書 第6表・第7表 TAISコード / 福祉用具届出コード (17・67 はどちらかを入力)"
            }
            Rule::DetailCodeOutsideRental => "定義書 第6表 明細判別コード",
            Rule::AnnexTotalRow => "定義書 第7表 №9 (全合計 999999 必須出力), №7 (全合計は 9999999999)",
            Rule::AnnexSummaryRow => "定義書 第7表 №13, №14, №15 (種類別小計及び全合計は 0 / Null 固定)",
            Rule::AnnexSubtotalMissing => {
                "定義書 第7表 №9 (区分支給対象種類別小計 AAAA: サービスコードが複数行の場合は必須)"
            }
            Rule::AnnexSum => {
                "定義書 第7表 №9 and №17: not stated in words; the arithmetic of the 7表 form the subtotal and total rows stand for"
            }
            Rule::AnnexOfficeCode => "定義書 第7表 №34 事業所コード (9999999999 を固定でセット)",
            Rule::ActualProviderMismatch => {
                "仕様書 2.2, 2.6 (実績は提供事業所が出力); 定義書 第6表 サービス事業者コード, ファイル作成単位 (事業所番号・サービス種類ごと); 第6表_削除 №5, №6"
            }
            Rule::ServiceKindOutOfScope => "仕様書 1.3, 1.4 (適用範囲)",
            Rule::SendUnit => "仕様書 2.4, 3.4 (送信単位)",
            Rule::SendUnitPartial => "仕様書 2.4, 3.4 (送信単位)",
            Rule::OrphanRecord => "仕様書 2.3, 3.3 (ファイルの関係)",
            Rule::ConditionalField => {
                "定義書 利用者基本情報 №8 (「03:その他」の場合は、「相談方法(その他の内容)」に内容を記載する), №12 (「02:入院又は入所中」の場合は…状況補足に内容を記載する)"
            }
            Rule::ServiceCodeUnknown => {
                "定義書 第6表 №15 サービスコード, 第7表 №9 サービスコード (介護給付費単位数等サービスコード表の最新版)"
            }
            Rule::ServiceUnitsMismatch => "定義書 第7表 №13 単位数",
            Rule::ManagedUnitsOutsideLimit => {
                "定義書 第7表 №18 給付管理単位数 (区分支給限度基準額の対象外のサービスは空白)"
            }
            Rule::ShortStaySlotKind => {
                "定義書 利用者補足情報 №20–55: 「短期入所療養介護の場合は22:短期入所療養介護（介護老人保健施設）を設定する」"
            }
            Rule::FieldNotCalledFor => {
                "定義書 居宅サービス計画1表 №25 生活援助中心型の算定理由 (3:その他), №26 その他理由"
            }
            Rule::PlanOfficeNotSender => {
                "定義書 居宅サービス計画1表 №13 介護支援事業者コード; 仕様書 2.2 (居宅介護支援事業所が出力): not stated in words"
            }
            Rule::ReceiverWithoutLines => {
                "仕様書 2.6 (連携対象の利用者); 定義書 第6表 №20 サービス事業者コード: not stated in words"
            }
            Rule::StayDaysSum => {
                "定義書 第7表 №30 前月までの利用日数, №31 当月の計画利用日数, №32 累積利用日数"
            }
            Rule::SupportPlanNumbering => {
                "定義書 介護予防サービス・支援計画書（別表）支援計画 (データ配置例): 「課題NOを同一にして支援計画NOに連番を入力する」「支援計画NOを同一にして利用サービスNOに連番を入力する」"
            }
            Rule::SlotOrder => {
                "定義書 利用者補足情報 №20–55: 「サービス種類別限度額管理が必要な場合は１枠から順番に設定する」"
            }
            Rule::DateOrder => {
                "定義書 利用者補足情報 №14–15, 居宅サービス計画1表 №14–15 and №19–20, 介護予防サービス・支援計画書 №4 and №20: not stated in words; the order a period and a first date imply"
            }
            Rule::ServiceCount => {
                "定義書 第6表 №14 サービス回数 (the times of the day's service): not stated in words"
            }
            Rule::SupplementLink => {
                "定義書 利用者補足情報 (6表、7表に紐づく場合は「00000000」; 計画に紐づく場合は 000000)"
            }
        }
    }
}

/// The rule catalogue as Markdown, the content of `docs/rules.md`.
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# Validation rules\n\n\
         `careplan-sim validate` checks standard files against these rules. Every diagnostic carries the rule's\n\
         stable ID; `--strict` reports warnings as errors. `section` refers to the project's reading of the standard\n\
         (ケアプランデータ連携標準仕様 V4.1, `spec.md`), `official text` to the official V4.1 documents: the\n\
         specification's body (仕様書, by section) and its CSV layout definitions (定義書, by file, field № and column).\n\n\
         This file is generated from `crates/careplan-spec/src/validate.rs` by `cargo xtask docs`; a test fails\n\
         when it is stale.\n\n\
         Where the text gives a form but does not forbid another writing of the same value, the validator warns\n\
         rather than refuses: a 単位数単価 of `11.4` or `10` (`UNIT_PRICE_FORM`; the text's form is 99.99) and an\n\
         end time of `2400` (`TIME_END_OF_DAY`; the text writes HHMM). One check stays stricter than the text: an\n\
         office number in a file name must start with a prefecture code 01–47 (`FILE_NAME`). The text says\n\
         10 digits; every 介護保険事業所番号 is numbered by its prefecture, and the ecosystem's user IDs (KJ +\n\
         prefecture + office number) rest on it. Office numbers inside records are checked for 10 digits only.\n\n\
         `requirements` names the requirements of the official text each rule enforces (`docs/requirements.md`):\n\
         those between fields, records and files by ID, field-level ones by count.\n\n\
         | rule | severity | section | official text | requires | fix | requirements |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for rule in Rule::ALL {
        let (fields, named): (Vec<_>, Vec<_>) =
            crate::requirements::enforced_by(*rule).partition(|r| r.field.is_some() && !r.id.contains("-X-"));
        let mut requirements: Vec<String> = named.iter().map(|r| format!("`{}`", r.id)).collect();
        if !fields.is_empty() {
            requirements.push(format!("{} field-level", fields.len()));
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} |\n",
            rule.id(),
            rule.severity(),
            rule.section(),
            rule.official(),
            rule.summary().replace('|', "\\|"),
            rule.fix().replace('|', "\\|"),
            requirements.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::layout::{FieldSpec, Format, Presence, layout};
    use crate::records::parse_date;
    use fields::check_value;

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
            ["FILE_NAME_VERSION", "CSV_VERSION_FOR_MONTH", "FIELD_COUNT"]
        );
        assert_eq!(
            rules(NAME, &RECORD.replace(",202505,", ",202506,")),
            ["SERVICE_DATE_OUTSIDE_MONTH", "MONTH_MISMATCH"]
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
            rules(
                &old,
                &RECORD
                    .replace(",202505,", ",202503,")
                    .replace(",20250501,", ",20250301,")
            ),
            ["CSV_VERSION_FOR_MONTH"]
        );
    }

    #[test]
    fn field_rules_name_the_field_and_its_japanese_name() {
        let cases = [
            (",20250501,", ",,", "REQUIRED_FIELD", 10, "サービス利用日"),
            (",20250501,", ",20250431,", "DATE_INVALID", 10, "サービス利用日"),
            (",0900,", ",2460,", "TIME_INVALID", 12, "サービス開始時刻"),
            (",0900,", ",2500,", "TIME_INVALID", 12, "サービス開始時刻"),
            (",0930,", ",2400,", "TIME_END_OF_DAY", 13, "サービス終了時刻"),
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
                "\"訪問介護ステーションA\"",
                "訪問介護ステーションA",
                "FREE_TEXT_UNQUOTED",
                21,
                "サービス事業所名",
            ),
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
    fn semantic_rules_relate_fields() {
        let cases = [
            (",20250501,", ",20250601,", "SERVICE_DATE_OUTSIDE_MONTH", 10),
            (",111111,", ",171111,", "EQUIPMENT_CODE_MISSING", 16),
            (",111111,,,,,", ",111111,,,,1,", "DETAIL_CODE_OUTSIDE_RENTAL", 19),
            (",111111,", ",511111,", "SERVICE_KIND_OUT_OF_SCOPE", 15),
            (",20250501,,", ",20250501,0000000000000000000000000000001,", "", 0),
        ];
        for (from, to, rule, field) in cases {
            let text = RECORD.replacen(from, to, 1);
            let report = validate_file(NAME, &ms932::encode(&text).unwrap(), Options::default());
            let found: Vec<_> = report
                .diagnostics
                .iter()
                .map(|d| (d.rule.id(), d.field.unwrap_or(0)))
                .collect();
            let expected: Vec<_> = if rule.is_empty() {
                vec![]
            } else {
                vec![(rule, field)]
            };
            assert_eq!(found, expected, "{to}");
        }
        let june = NAME.replace("202505", "202506");
        let text = RECORD
            .replace(",202505,", ",202506,")
            .replace(",20250501,,", ",20250601,0000000000000000000000000000001,");
        let report = validate_file(&june, &ms932::encode(&text).unwrap(), Options::default());
        assert_eq!(
            report.diagnostics.iter().map(|d| d.rule.id()).collect::<Vec<_>>(),
            ["PRORATION_OUTSIDE_MONTH"]
        );
        // Actuals from the provider (kind 11) to the care manager (kind 43).
        let actual = "UPJSK_202505_1310000002_11_1310000001_43_20250425103000.CSV";
        let findings = |text: &str| -> Vec<(&'static str, usize)> {
            validate_file(actual, &ms932::encode(text).unwrap(), Options::default())
                .diagnostics
                .iter()
                .map(|d| (d.rule.id(), d.field.unwrap_or(0)))
                .collect()
        };
        assert_eq!(findings(RECORD), []);
        assert_eq!(
            findings(&RECORD.replace(",1310000002,", ",1310000009,")),
            [("ACTUAL_PROVIDER_MISMATCH", 20)]
        );
        assert_eq!(
            findings(&RECORD.replace(",111111,", ",151111,")),
            [("ACTUAL_PROVIDER_MISMATCH", 15)]
        );
        assert_eq!(
            findings(&RECORD.replace(",0900,0930,1,", ",0900,0930,00,")),
            [("SERVICE_COUNT", 14)]
        );
        let deletion = |record: &str| -> Vec<(&'static str, usize)> {
            let name = "DLTJSK_202505_1310000002_11_1310000001_43_20250425103000.CSV";
            validate_file(name, record.as_bytes(), Options::default())
                .diagnostics
                .iter()
                .map(|d| (d.rule.id(), d.field.unwrap_or(0)))
                .collect()
        };
        assert_eq!(deletion("202407,131001,0000012345,202505,1310000002,11\r\n"), []);
        assert_eq!(
            deletion("202407,131001,0000012345,202505,1310000002,15\r\n"),
            [("ACTUAL_PROVIDER_MISMATCH", 6)]
        );
    }

    #[test]
    fn related_fields_are_found_by_their_layout_names() {
        let plan = "UP1KYO_1310000001_43_1310000002_11_20250425103000.CSV";
        let layout = layout(FileKind::PlanTable1, true).unwrap();
        let at = |name: &str| crate::layout::find(layout, name).unwrap();
        let mut fields: Vec<String> = vec![String::new(); layout.len()];
        for (i, spec) in layout.iter().enumerate() {
            if spec.presence == Presence::Required {
                fields[i] = match spec.format {
                    Format::Version => "202407".into(),
                    Format::Insurer => "131001".into(),
                    Format::Insured => "0000012345".into(),
                    Format::Date => "20250401".into(),
                    Format::Office => "1310000001".into(),
                    Format::FreeText => "\"佐藤\"".into(),
                    _ => unreachable!("{}", spec.name),
                };
            }
        }
        let check = |first: &str, change: &str| -> Vec<(&'static str, usize)> {
            let mut fields = fields.clone();
            fields[at("初回居宅サービス計画作成日")] = first.into();
            fields[at("居宅サービス計画作成（変更）日")] = change.into();
            let text = format!("{}\r\n", fields.join(","));
            validate_file(plan, &ms932::encode(&text).unwrap(), Options::default())
                .diagnostics
                .iter()
                .filter(|d| d.rule != Rule::SendUnitPartial)
                .map(|d| (d.rule.id(), d.field.unwrap_or(0)))
                .collect()
        };
        assert_eq!(check("20250301", "20250401"), []);
        assert_eq!(check("20250401", "20250401"), []);
        assert_eq!(
            check("20250501", "20250401"),
            [("DATE_ORDER", at("初回居宅サービス計画作成日") + 1)]
        );
    }

    #[test]
    fn support_plans_are_numbered_within_their_issue_and_services_within_their_plan() {
        let name = "UPYOBO_SUB_1310000001_43_1310000002_11_20250425103000.CSV";
        let support = include_bytes!(
            "../../../fixtures/valid/prevention-plan/UPYOBO_SUB_1310000001_43_1310000002_11_20250425103000.CSV"
        );
        let text = ms932::decode(support).unwrap();
        let first: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        let at = |field: &str| crate::layout::position(FileKind::PreventionPlanSupport, true, field).unwrap();
        let (issue, plan, service) = (at("課題ＮＯ"), at("支援計画ＮＯ"), at("利用サービスＮＯ"));
        // Rows of (課題ＮＯ, 支援計画ＮＯ, 利用サービスＮＯ), of one user unless `other` marks the row; the
        // findings as (line, field).
        let numbered = |rows: &[(&str, &str, &str, bool)]| -> Vec<(u64, usize)> {
            let text: String = rows
                .iter()
                .map(|&(i, p, s, other)| {
                    let mut row = first.clone();
                    (row[issue], row[plan], row[service]) = (i, p, s);
                    if other {
                        row[at("被保険者番号")] = "0000067890";
                    }
                    format!("{}\r\n", row.join(","))
                })
                .collect();
            validate_file(name, &ms932::encode(&text).unwrap(), Options::default())
                .diagnostics
                .iter()
                .filter(|d| d.rule == Rule::SupportPlanNumbering)
                .map(|d| (d.line.unwrap(), d.field.unwrap()))
                .collect()
        };
        let u = |i, p, s| (i, p, s, false);
        let example = [
            u("1", "1", "1"),
            u("1", "2", "1"),
            u("1", "2", "2"),
            u("2", "1", "1"),
            u("2", "1", "2"),
        ];
        assert_eq!(numbered(&example), []);
        // Another user starts anew, and its rows between another's break nothing.
        let other = |i, p, s| (i, p, s, true);
        assert_eq!(
            numbered(&[u("1", "1", "1"), other("1", "1", "1"), u("1", "1", "2")]),
            []
        );
        // A row without its numbers leaves the numbering where it was.
        assert_eq!(
            numbered(&[u("1", "1", "1"), u("1", "1", ""), u("1", "2", "1")]),
            []
        );
        // A new 課題 starts its plans at 1; a plan skipped; a service repeated.
        let (plan_field, service_field) = (plan + 1, service + 1);
        assert_eq!(numbered(&[u("1", "1", "1"), u("2", "2", "1")]), [(2, plan_field)]);
        assert_eq!(numbered(&[u("1", "1", "1"), u("1", "3", "1")]), [(2, plan_field)]);
        assert_eq!(
            numbered(&[u("1", "1", "1"), u("1", "1", "1")]),
            [(2, service_field)]
        );
        // A number out of its format is the format rules' finding, not a reason to fail here.
        assert_eq!(
            numbered(&[u("1", "1", "4294967295"), u("1", "1", "4294967295")]),
            []
        );
    }

    #[test]
    fn a_unit_price_in_another_form_is_a_warning_and_a_broken_one_an_error() {
        let name = "UPSIKYU_202505_1310000001_43_1310000002_11_20250425103000.CSV";
        let annex = include_bytes!(
            "../../../fixtures/valid/plan-bundle/UPSIKYU_202505_1310000001_43_1310000002_11_20250425103000.CSV"
        );
        let text = ms932::decode(annex).unwrap();
        assert!(text.contains(",10.00,"));
        let rules = |price: &str| -> Vec<&'static str> {
            let changed = text.replacen(",10.00,", &format!(",{price},"), 1);
            let report = validate_file(name, &ms932::encode(&changed).unwrap(), Options::default());
            report.diagnostics.iter().map(|d| d.rule.id()).collect()
        };
        assert_eq!(rules("10.00"), Vec::<&str>::new());
        assert_eq!(rules("10"), ["UNIT_PRICE_FORM"]);
        assert_eq!(rules("10.0"), ["UNIT_PRICE_FORM"]);
        assert_eq!(rules("10."), ["NUMBER_INVALID"]);
        assert_eq!(rules("1x.00"), ["NUMBER_INVALID"]);
        assert_eq!(rules("10.000"), ["NUMBER_INVALID"]);
    }

    #[test]
    fn a_code_of_japanese_text_is_a_format_finding_and_never_cut_inside_a_character() {
        let name = NAME.replace("UPPLAN", "UPSIKYU");
        let row = |code: &str, units: &str| {
            format!(
                "202407,131001,0000012345,20250425,202505,,1310000002,,{code},,,,{units},,,8,2000,2000,,,,,,,,,,,,,,,0,9999999999,,1310000001,\r\n"
            )
        };
        let total = row("999999", "0").replace(",1310000002,", ",9999999999,");
        // `1ア` is 31 83 in MS932 and `ア`'s trail byte 0x41 is `A`: `1アAAA` is 31 83 41 41 41 41, whose
        // bytes 2–5 read `AAAA`. It is no subtotal of kind `1` + half a character: a malformed code.
        for code in ["1アAAA", "山田"] {
            let text = format!("{}{total}", row(code, "250"));
            let report = validate_file(&name, &ms932::encode(&text).unwrap(), Options::default());
            let found: Vec<(&str, Option<usize>)> = report
                .diagnostics
                .iter()
                .map(|d| (d.rule.id(), d.field))
                .collect();
            assert_eq!(found, [("FORMAT_INVALID", Some(9))], "{code}");
            assert!(report.diagnostics[0].message.contains(&format!("`{code}`")));
        }
    }

    #[test]
    fn annex_totals_are_checked_per_user() {
        let name = NAME.replace("UPPLAN", "UPSIKYU");
        let row = |code: &str, office: &str, units: &str| {
            format!(
                "202407,131001,0000012345,20250425,202505,,{office},,{code},,,,{units},,,8,2000,2000,,,,,,,,,,,,,,,0,9999999999,,1310000001,\r\n"
            )
        };
        let service = |code| row(code, "1310000002", "250");
        let total = row("999999", "9999999999", "0");
        // Two service rows of 2000 each: the total that adds up.
        let total_of_two = total.replacen(",2000,2000,", ",4000,4000,", 1);
        let ids = |text: &str| -> Vec<&'static str> {
            let report = validate_file(&name, &ms932::encode(text).unwrap(), Options::default());
            report.diagnostics.iter().map(|d| d.rule.id()).collect()
        };
        assert_eq!(ids(&format!("{}{total}", service("111111"))), Vec::<&str>::new());
        assert_eq!(ids(&service("111111")), ["ANNEX_TOTAL_ROW"]);
        assert_eq!(
            ids(&format!(
                "{}{}{total_of_two}",
                service("111111"),
                service("112111")
            )),
            ["ANNEX_SUBTOTAL_MISSING"]
        );
        let subtotal = row("11AAAA", "1310000002", "0");
        assert_eq!(
            ids(&format!(
                "{}{}{}{total_of_two}",
                service("111111"),
                service("112111"),
                subtotal.replacen(",2000,2000,", ",4000,4000,", 1)
            )),
            Vec::<&str>::new()
        );
        // A subtotal and a total that do not add up are reported, each.
        assert_eq!(
            ids(&format!(
                "{}{}{subtotal}{total}",
                service("111111"),
                service("112111"),
            )),
            ["ANNEX_SUM", "ANNEX_SUM"]
        );
        assert_eq!(
            ids(&format!(
                "{}{}",
                service("111111"),
                row("999999", "9999999999", "5")
            )),
            ["ANNEX_SUMMARY_ROW"]
        );
        assert_eq!(
            ids(&format!(
                "{}{}",
                service("111111"),
                row("999999", "1310000002", "0")
            )),
            ["ANNEX_TOTAL_ROW"]
        );
        // A user's rows in two runs, another user's between them: judged as one user's rows, found on
        // the line of its first row.
        let other = |text: String| text.replace("0000012345", "0000099999");
        let found = |text: &str| -> Vec<(&'static str, Option<u64>)> {
            let report = validate_file(&name, &ms932::encode(text).unwrap(), Options::default());
            report.diagnostics.iter().map(|d| (d.rule.id(), d.line)).collect()
        };
        let split = format!(
            "{}{}{}{}{total_of_two}",
            service("111111"),
            other(service("111111")),
            other(total.clone()),
            service("112111")
        );
        assert_eq!(found(&split), [("ANNEX_SUBTOTAL_MISSING", Some(1))]);
        let split_with_subtotal = format!(
            "{}{}{}{}{}{total_of_two}",
            service("111111"),
            other(service("111111")),
            other(total.clone()),
            service("112111"),
            subtotal.replacen(",2000,2000,", ",4000,4000,", 1)
        );
        assert_eq!(found(&split_with_subtotal), []);
    }

    #[test]
    fn send_units_are_checked_across_files() {
        let bytes = ms932::encode(RECORD).unwrap();
        let annex = NAME.replace("UPPLAN", "UPSIKYU");
        let lone = validate_files(&[(NAME, &bytes)], Options::default());
        assert_eq!(
            lone[0].diagnostics.iter().map(|d| d.rule).collect::<Vec<_>>(),
            [Rule::SendUnitPartial]
        );
        assert_eq!(lone[0].warnings(), 1);
        let reports = validate_files(&[(NAME, &bytes), (&annex, b"")], Options::default());
        let unit: Vec<_> = reports[0]
            .diagnostics
            .iter()
            .filter(|d| d.rule == Rule::SendUnit)
            .collect();
        assert_eq!(unit.len(), 1, "{:?}", reports[0].diagnostics);
        assert!(unit[0].message.contains("lacks UPHOSOKU"), "{}", unit[0].message);
        assert!(reports[1].diagnostics.iter().all(|d| d.rule != Rule::SendUnit));
        let alone = validate_files(
            &[(NAME.replace("UPPLAN", "UPJSK").as_str(), &bytes)],
            Options::default(),
        );
        assert!(alone[0].diagnostics.iter().all(|d| d.rule != Rule::SendUnit));
    }

    #[test]
    fn dependent_records_need_their_parent_user() {
        let plan = ms932::encode(RECORD).unwrap();
        let supplement_name = NAME.replace("UPPLAN", "UPHOSOKU");
        let annex_name = NAME.replace("UPPLAN", "UPSIKYU");
        let supplement = |insured: &str| {
            let mut fields = vec![
                "202407",
                "131001",
                insured,
                "00000000",
                "\"ヤマダ\"",
                "\"山田\"",
                "1",
                "19400115",
            ];
            fields.extend(std::iter::repeat_n("", 54));
            fields.push("202505");
            ms932::encode(&format!("{}\r\n", fields.join(","))).unwrap()
        };
        let annex = ms932::encode("").unwrap();
        let reports = validate_files(
            &[
                (NAME, &plan),
                (&annex_name, &annex),
                (&supplement_name, &supplement("0000099999")),
            ],
            Options::default(),
        );
        let orphan: Vec<_> = reports[2]
            .diagnostics
            .iter()
            .filter(|d| d.rule == Rule::OrphanRecord)
            .collect();
        assert_eq!(orphan.len(), 1, "{:?}", reports[2].diagnostics);
        assert!(orphan[0].message.contains("131001/0000099999"));
        let fine = validate_files(
            &[
                (NAME, &plan),
                (&annex_name, &annex),
                (&supplement_name, &supplement("0000012345")),
            ],
            Options::default(),
        );
        assert!(
            fine.iter()
                .flat_map(|r| &r.diagnostics)
                .all(|d| d.rule != Rule::OrphanRecord)
        );
    }

    #[test]
    fn v3_files_use_v3_names_and_layouts() {
        // A V3 第6表 record: the V4 record without fields 16–18.
        let fields: Vec<&str> = RECORD.trim_end().split(',').collect();
        let v3: Vec<&str> = fields[..15].iter().chain(&fields[18..]).copied().collect();
        let text = format!("{}\r\n", v3.join(","))
            .replacen("202407", "202208", 1)
            .replace("202505", "202303")
            .replace("20250501", "20230301")
            .replace("20250425", "20230225");
        let v3_name = "UPPLAN_202303_1310000001_1310000002_20230225103000.CSV";
        assert_eq!(rules(v3_name, &text), Vec::<&str>::new());
        let v4_name = "UPPLAN_202303_1310000001_43_1310000002_11_20230225103000.CSV";
        assert_eq!(rules(v4_name, &text), ["FILE_NAME_VERSION"]);
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
    fn list_numbers_count_from_one() {
        let spec = FieldSpec {
            name: "課題ＮＯ".to_owned(),
            max_len: Some(2),
            presence: Presence::Optional,
            format: Format::Ordinal,
        };
        let rules: Vec<Option<Rule>> = ["1", "99", "0", "00", "1a", ""]
            .iter()
            .map(|v| check_value(&spec, v.as_bytes()).map(|(rule, _)| rule))
            .collect();
        assert_eq!(
            rules,
            [
                None,
                None,
                Some(Rule::NumberInvalid),
                Some(Rule::NumberInvalid),
                Some(Rule::NumberInvalid),
                None
            ]
        );
    }

    #[test]
    fn runs_merge_the_runs_of_a_key_in_file_order() {
        let mut runs = UserRuns::default();
        for (line, insurer, insured, theirs) in [
            (1, "131002", "0000000001", false),
            (2, "131002", "0000000001", false),
            (3, "131001", "0000000009", false),
            (4, "131002", "0000000001", true),
            (5, "131002", "0000000002", false),
        ] {
            runs.add([insurer.as_bytes(), insured.as_bytes()], || (line, false))
                .1 |= theirs;
        }
        let mut users = Vec::new();
        runs.for_each(
            |(_, theirs), (_, later)| *theirs |= later,
            |[insurer, insured], value| {
                users.push((Shown(insurer).to_string(), Shown(insured).to_string(), value))
            },
        );
        let owned = |(a, b, v): (&str, &str, (u64, bool))| (a.to_owned(), b.to_owned(), v);
        assert_eq!(
            users,
            [
                ("131001", "0000000009", (3, false)),
                ("131002", "0000000001", (1, true)),
                ("131002", "0000000002", (5, false)),
            ]
            .map(owned)
        );
    }

    #[test]
    fn short_values_are_the_same_exactly_when_equal() {
        let values = [
            "",
            "1",
            "12",
            "13",
            "123",
            "124",
            "1234",
            "1235",
            "12345",
            "02345",
            "1234567",
            "1234568",
            "12345678",
            "02345678",
            "1234567890",
            "1234567891",
            "1234567890123456",
            "0234567890123456",
            "12345678901234567",
            "12345678901234568",
            "あ",
            "あい",
            "あう",
        ];
        for a in values {
            for b in values {
                assert_eq!(same(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn leap_days_follow_the_gregorian_rule() {
        let dates = [
            "20240229", "20000229", "19000229", "20250229", "20250431", "20251231", "20250100",
        ];
        let valid: Vec<bool> = dates.iter().map(|d| is_date(d.as_bytes())).collect();
        assert_eq!(valid, [true, true, false, false, false, true, false]);
        assert!(
            dates
                .iter()
                .all(|d| is_date(d.as_bytes()) == parse_date(d).is_some())
        );
    }

    #[test]
    fn strict_turns_warnings_into_errors() {
        let empty = validate_file(
            NAME,
            b"",
            Options {
                strict: true,
                ..Options::default()
            },
        );
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
        fn dates_and_months_are_read_as_the_date_types_read_them(
            date in "[0-9]{4}(0[0-9]|1[0-3])([0-3][0-9])|[0-9]{0,9}",
        ) {
            prop_assert_eq!(is_date(date.as_bytes()), parse_date(&date).is_some(), "{}", date);
            let month = &date[..date.len().min(6)];
            prop_assert_eq!(is_month(month.as_bytes()), month.parse::<CareMonth>().is_ok() && month.len() == 6, "{}", month);
            prop_assert_eq!(month_of(month.as_bytes()), month.parse::<CareMonth>().ok().filter(|_| month.len() == 6));
        }

        #[test]
        fn never_panics_on_arbitrary_bytes_and_names(name in "\\PC{0,70}", bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = validate_file(&name, &bytes, Options::default());
            let _ = validate_file(NAME, &bytes, Options { strict: true, ..Options::default() });
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
