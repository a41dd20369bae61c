//! Typed records of the files exchanged in a month's plan/actual round trip (spec §6): the service usage
//! sheet (第6表, `UPPLAN`/`UPJSK`), its annex (第7表, `UPSIKYU`), the user supplement (利用者補足情報,
//! `UPHOSOKU`) and the plan deletion (第6表 予定削除, `DLTPLAN`), in the V4 layouts (CSVバージョン 202407/202504) and the V3 layouts (202208 and earlier).
//!
//! Every field of a layout has a place in its record, so that a record read from a file and written
//! back gives the same bytes when the file is in the standard's form (free text quoted, everything else
//! bare, numbers without leading zeros). Reading checks the layout's field count and each field's
//! format, naming the field on failure; semantic rules (required fields, totals, links between files)
//! are the validator's business.

mod annex;
mod deletion;
mod plain;
mod supplement;
#[cfg(test)]
mod tests;
mod usage;

use std::fmt;
use std::str::FromStr;

use careplan_core::{CareMonth, ErrorCode, OfficeNumber, ServiceKind};
use time::{Date, Month};

use crate::FileKind;
use crate::csv_text::{CsvError, Field, read_records, write_record};
use crate::layout::{FieldSpec, Format, common_fields, find, layout, position};

pub use annex::{AnnexCode, AnnexOffice, AnnexSubtotal, UnitPrice, UsageAnnexRecord};
pub use deletion::PlanDeletionRecord;
pub use plain::LayoutRecord;
pub use supplement::{CertificationStatus, KindLimit, UserSupplementRecord};
pub use usage::{EquipmentItem, ProrationDays, ServiceUsageRecord};

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The record has the wrong number of fields for its layout.
    #[error("expected {expected} fields, found {found}")]
    FieldCount {
        /// The layout's count.
        expected: usize,
        /// The record's count.
        found: usize,
    },
    /// A field's value is invalid.
    #[error("field {number} {name}: `{value}` {expected}")]
    Field {
        /// 1-based field number (項目No).
        number: usize,
        /// Japanese field name (項目名).
        name: &'static str,
        /// The value found.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
}

impl RecordError {
    /// The stable code of this refusal.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::CsvMalformed
    }
}

/// CSVバージョン (field 1 of every record): which edition of the layouts a record follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CsvVersion {
    /// 201910 (V1).
    V201910,
    /// 202003 (V2).
    V202003,
    /// 202208 (V3): 第6表 22 fields, 第7表 34 fields.
    V202208,
    /// 202407 (V4.1), the current edition.
    V202407,
    /// 202504 (V4.0), accepted from V4.0 senders with the V4 layouts.
    V202504,
}

impl CsvVersion {
    /// The edition written by this project.
    pub const CURRENT: CsvVersion = CsvVersion::V202407;

    /// Every published value.
    pub const ALL: [CsvVersion; 5] = [
        CsvVersion::V201910,
        CsvVersion::V202003,
        CsvVersion::V202208,
        CsvVersion::V202504,
        CsvVersion::V202407,
    ];

    /// The six digits.
    pub fn as_str(self) -> &'static str {
        match self {
            CsvVersion::V201910 => "201910",
            CsvVersion::V202003 => "202003",
            CsvVersion::V202208 => "202208",
            CsvVersion::V202407 => "202407",
            CsvVersion::V202504 => "202504",
        }
    }

    /// Whether the record follows the V4 layouts (福祉用具 fields in 第6表 and 第7表).
    pub fn is_v4(self) -> bool {
        matches!(self, CsvVersion::V202407 | CsvVersion::V202504)
    }
}

impl FromStr for CsvVersion {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        CsvVersion::ALL.into_iter().find(|v| v.as_str() == s).ok_or(())
    }
}

impl fmt::Display for CsvVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Writes a date as `YYYYMMDD`.
pub fn format_date(date: Date) -> String {
    format!("{:04}{:02}{:02}", date.year(), u8::from(date.month()), date.day())
}

/// Reads a `YYYYMMDD` date.
pub fn parse_date(text: &str) -> Option<Date> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let month = Month::try_from(text[4..6].parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(text[..4].parse().ok()?, month, text[6..].parse().ok()?).ok()
}

/// Insurer number (保険者番号): 6 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InsurerNumber(String);

impl InsurerNumber {
    /// The insurer number made of the last six decimal digits of `n`, zero-padded.
    pub fn from_number(n: u32) -> Self {
        Self(format!("{:06}", n % 1_000_000))
    }
}

impl FromStr for InsurerNumber {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        (s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Self(s.to_owned()))
            .ok_or(())
    }
}

impl fmt::Display for InsurerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Insured number (被保険者番号): 10 digits, or `H` + 9 digits for welfare-only users (生活保護単独).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InsuredNumber(String);

impl InsuredNumber {
    /// The insured number made of the last ten decimal digits of `n`, zero-padded.
    pub fn from_number(n: u64) -> Self {
        Self(format!("{:010}", n % 10_000_000_000))
    }
}

impl FromStr for InsuredNumber {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let digits = s.strip_prefix('H').map_or((s, 10), |rest| (rest, 9));
        (digits.0.len() == digits.1 && digits.0.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Self(s.to_owned()))
            .ok_or(())
    }
}

impl fmt::Display for InsuredNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Identifies a user (利用者) across files: insurer number + insured number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserKey {
    /// 保険者番号.
    pub insurer: InsurerNumber,
    /// 被保険者番号.
    pub insured: InsuredNumber,
}

impl UserKey {
    /// Reads fields 2 and 3, common to every layout.
    pub fn from_fields(fields: &[&str]) -> Result<Self, RecordError> {
        if fields.len() < 3 {
            return Err(RecordError::FieldCount {
                expected: 3,
                found: fields.len(),
            });
        }
        FieldReader {
            specs: common_fields(),
            fields,
        }
        .user()
    }
}

impl fmt::Display for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.insurer, self.insured)
    }
}

/// Service code (サービスコード): service kind (2) + item (4), `[0-9A-Z]{6}`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceCode([u8; 6]);

impl ServiceCode {
    /// The service kind (サービス種類コード), its first two characters.
    pub fn kind(self) -> ServiceKind {
        // Invariant: the first two bytes are from [0-9A-Z], which is a valid kind.
        self.as_str()[..2].parse().unwrap_or(ServiceKind::CARE_MANAGEMENT)
    }

    /// The six characters.
    pub fn as_str(&self) -> &str {
        // Invariant: ASCII, checked by `from_str`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl FromStr for ServiceCode {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let bytes: [u8; 6] = s.as_bytes().try_into().map_err(|_| ())?;
        bytes
            .iter()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            .then_some(Self(bytes))
            .ok_or(())
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceCode({})", self.as_str())
    }
}

/// Care level (要介護状態区分, spec §7.1 (3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CareLevel {
    /// 06 事業対象者.
    ProgrammeEligible,
    /// 12 要支援１.
    Support1,
    /// 13 要支援２.
    Support2,
    /// 21 要介護１.
    Care1,
    /// 22 要介護２.
    Care2,
    /// 23 要介護３.
    Care3,
    /// 24 要介護４.
    Care4,
    /// 25 要介護５.
    Care5,
}

impl CareLevel {
    /// Every level, in code order.
    pub const ALL: [CareLevel; 8] = [
        CareLevel::ProgrammeEligible,
        CareLevel::Support1,
        CareLevel::Support2,
        CareLevel::Care1,
        CareLevel::Care2,
        CareLevel::Care3,
        CareLevel::Care4,
        CareLevel::Care5,
    ];

    /// The two-digit code.
    pub fn code(self) -> &'static str {
        match self {
            CareLevel::ProgrammeEligible => "06",
            CareLevel::Support1 => "12",
            CareLevel::Support2 => "13",
            CareLevel::Care1 => "21",
            CareLevel::Care2 => "22",
            CareLevel::Care3 => "23",
            CareLevel::Care4 => "24",
            CareLevel::Care5 => "25",
        }
    }
}

impl FromStr for CareLevel {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        CareLevel::ALL.into_iter().find(|l| l.code() == s).ok_or(())
    }
}

impl fmt::Display for CareLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Sex (性別) in the user supplement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    /// 1 男性.
    Male,
    /// 2 女性.
    Female,
}

impl FromStr for Sex {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "1" => Ok(Sex::Male),
            "2" => Ok(Sex::Female),
            _ => Err(()),
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sex::Male => "1",
            Sex::Female => "2",
        })
    }
}

/// Service start or end time (サービス開始/終了時刻): `HHMM`, or `9999` for a service shown without a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServiceTime {
    /// A time of day.
    At {
        /// Hour, 0–23.
        hour: u8,
        /// Minute, 0–59.
        minute: u8,
    },
    /// `9999`: the service shows no time (e.g. equipment rental).
    Unspecified,
}

impl ServiceTime {
    /// Minutes since midnight, for a time of day.
    pub fn minutes(self) -> Option<u16> {
        match self {
            ServiceTime::At { hour, minute } => Some(u16::from(hour) * 60 + u16::from(minute)),
            ServiceTime::Unspecified => None,
        }
    }

    /// The time of day `minutes` after midnight (wrapping at 24:00).
    pub fn from_minutes(minutes: u16) -> Self {
        let minutes = minutes % (24 * 60);
        // Both values are below 256 after the modulo.
        ServiceTime::At {
            hour: (minutes / 60) as u8,
            minute: (minutes % 60) as u8,
        }
    }
}

impl FromStr for ServiceTime {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        if s == "9999" {
            return Ok(ServiceTime::Unspecified);
        }
        if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        let (hour, minute) = (s[..2].parse().map_err(|_| ())?, s[2..].parse().map_err(|_| ())?);
        (hour < 24 && minute < 60)
            .then_some(ServiceTime::At { hour, minute })
            .ok_or(())
    }
}

impl fmt::Display for ServiceTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceTime::At { hour, minute } => write!(f, "{hour:02}{minute:02}"),
            ServiceTime::Unspecified => f.write_str("9999"),
        }
    }
}

/// The special office code of the usage sheet annex's grand-total row and of its 事業所コード.
pub const ALL_NINES_OFFICE: &str = "9999999999";

/// The records of one file: typed for the kinds of a month's round trip, by layout for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordSet {
    /// 第6表 予定 (`UPPLAN`) or 実績 (`UPJSK`).
    Usage(Vec<ServiceUsageRecord>),
    /// 第7表 (`UPSIKYU`).
    Annex(Vec<UsageAnnexRecord>),
    /// 利用者補足情報 (`UPHOSOKU`).
    Supplement(Vec<UserSupplementRecord>),
    /// 第6表 予定削除 (`DLTPLAN`).
    PlanDeletion(Vec<PlanDeletionRecord>),
    /// Any other kind with a layout (plan tables 1–3, their deletion, the 予防 files), read by its layout.
    Layout(Vec<LayoutRecord>),
}

/// Why a file could not be read as typed records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The CSV structure is broken.
    #[error(transparent)]
    Csv(#[from] CsvError),
    /// A record is invalid.
    #[error("line {line}: {source}")]
    Record {
        /// 1-based line of the record.
        line: u64,
        /// The cause.
        source: RecordError,
    },
}

impl ReadError {
    /// The stable code of this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            ReadError::Csv(e) => e.code(),
            ReadError::Record { source, .. } => source.code(),
        }
    }
}

impl RecordSet {
    /// Reads every record of a file of `kind` from its decoded text.
    pub fn read(kind: FileKind, text: &str) -> Result<Self, ReadError> {
        fn all<T>(text: &str, read: impl Fn(&[&str]) -> Result<T, RecordError>) -> Result<Vec<T>, ReadError> {
            read_records(text)?
                .iter()
                .map(|record| {
                    read(&record.fields()).map_err(|source| ReadError::Record {
                        line: record.line,
                        source,
                    })
                })
                .collect()
        }
        match kind {
            FileKind::UsagePlan | FileKind::UsageActual => {
                all(text, ServiceUsageRecord::from_fields).map(Self::Usage)
            }
            FileKind::UsageAnnex => all(text, UsageAnnexRecord::from_fields).map(Self::Annex),
            FileKind::UserSupplement => all(text, UserSupplementRecord::from_fields).map(Self::Supplement),
            FileKind::UsagePlanDeletion => all(text, PlanDeletionRecord::from_fields).map(Self::PlanDeletion),
            other => all(text, |fields| LayoutRecord::from_fields(other, fields)).map(Self::Layout),
        }
    }

    /// The records written back as the file's text.
    pub fn write(&self) -> String {
        let mut text = String::new();
        let mut put = |fields: Vec<Field>| write_record(&mut text, &fields);
        match self {
            RecordSet::Usage(rows) => rows.iter().for_each(|r| put(r.to_fields())),
            RecordSet::Annex(rows) => rows.iter().for_each(|r| put(r.to_fields())),
            RecordSet::Supplement(rows) => rows.iter().for_each(|r| put(r.to_fields())),
            RecordSet::PlanDeletion(rows) => rows.iter().for_each(|r| put(r.to_fields())),
            RecordSet::Layout(rows) => rows.iter().for_each(|r| put(r.to_fields())),
        }
        text
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        match self {
            RecordSet::Usage(rows) => rows.len(),
            RecordSet::Annex(rows) => rows.len(),
            RecordSet::Supplement(rows) => rows.len(),
            RecordSet::PlanDeletion(rows) => rows.len(),
            RecordSet::Layout(rows) => rows.len(),
        }
    }

    /// Whether the file has no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn check_count(fields: &[&str], expected: usize) -> Result<(), RecordError> {
    if fields.len() == expected {
        Ok(())
    } else {
        Err(RecordError::FieldCount {
            expected,
            found: fields.len(),
        })
    }
}

/// Typed access to a record's fields by 項目名 in the layout of its kind and CSVバージョン: the layout is the
/// one place that says where a field is (V3 layouts lack the 福祉用具 fields, and later fields move up), so
/// no reader holds a field number. Errors name the field by its layout number and name.
struct FieldReader<'a> {
    specs: &'static [FieldSpec],
    fields: &'a [&'a str],
}

impl<'a> FieldReader<'a> {
    /// Reads the CSVバージョン of a record of `kind` and checks the field count of its edition of the layout.
    fn open(kind: FileKind, fields: &'a [&'a str]) -> Result<(CsvVersion, Self), RecordError> {
        let first = fields.first().copied().unwrap_or("");
        let version: CsvVersion = first.parse().map_err(|()| RecordError::Field {
            number: 1,
            name: "CSVバージョン",
            value: first.to_owned(),
            expected: "must be a published CSVバージョン",
        })?;
        let specs = layout(kind, version.is_v4()).unwrap_or_default();
        check_count(fields, specs.len())?;
        Ok((version, Self { specs, fields }))
    }

    /// Whether this edition of the layout has the field (the 福祉用具 fields are V4 only).
    fn has(&self, name: &str) -> bool {
        find(self.specs, name).is_some()
    }

    fn index(&self, name: &str) -> Option<usize> {
        let index = find(self.specs, name);
        debug_assert!(index.is_some(), "{name} is not a field of this layout");
        index
    }

    /// The raw value; empty for a name the layout lacks.
    fn raw(&self, name: &str) -> &'a str {
        self.index(name)
            .and_then(|i| self.fields.get(i))
            .copied()
            .unwrap_or("")
    }

    fn error(&self, name: &str, expected: &'static str) -> RecordError {
        let index = self.index(name);
        RecordError::Field {
            number: index.map_or(0, |i| i + 1),
            // The layout's own name: it lives as long as the layouts do.
            name: index.map_or("", |i| self.specs[i].name.as_str()),
            value: self.raw(name).to_owned(),
            expected,
        }
    }

    fn text(&self, name: &str) -> String {
        self.raw(name).to_owned()
    }

    fn parse<T: FromStr>(&self, name: &str, expected: &'static str) -> Result<T, RecordError> {
        self.raw(name).parse().map_err(|_| self.error(name, expected))
    }

    /// An optional field: `None` when empty.
    fn optional<T: FromStr>(&self, name: &str, expected: &'static str) -> Result<Option<T>, RecordError> {
        if self.raw(name).is_empty() {
            Ok(None)
        } else {
            self.parse(name, expected).map(Some)
        }
    }

    /// An integer without sign or leading zeros beyond a single `0`, so that writing it back gives the
    /// same text.
    fn integer<T: FromStr>(&self, name: &str) -> Result<T, RecordError> {
        let value = self.raw(name);
        let canonical = !value.is_empty()
            && value.bytes().all(|b| b.is_ascii_digit())
            && (value == "0" || !value.starts_with('0'));
        if !canonical {
            return Err(self.error(name, "must be an integer without sign or leading zeros"));
        }
        self.parse(name, "is out of range")
    }

    fn optional_integer<T: FromStr>(&self, name: &str) -> Result<Option<T>, RecordError> {
        if self.raw(name).is_empty() {
            Ok(None)
        } else {
            self.integer(name).map(Some)
        }
    }

    fn date(&self, name: &str) -> Result<Date, RecordError> {
        parse_date(self.raw(name)).ok_or_else(|| self.error(name, "must be a YYYYMMDD date"))
    }

    fn optional_date(&self, name: &str) -> Result<Option<Date>, RecordError> {
        if self.raw(name).is_empty() {
            Ok(None)
        } else {
            self.date(name).map(Some)
        }
    }

    fn office(&self, name: &str) -> Result<OfficeNumber, RecordError> {
        self.parse(name, "must be a 10-digit office number")
    }

    fn optional_office(&self, name: &str) -> Result<Option<OfficeNumber>, RecordError> {
        self.optional(name, "must be a 10-digit office number")
    }

    fn month(&self, name: &str) -> Result<CareMonth, RecordError> {
        self.parse(name, "must be YYYYMM")
    }

    /// A 0/1 flag (e.g. ３０日超区分).
    fn flag(&self, name: &str) -> Result<bool, RecordError> {
        match self.raw(name) {
            "1" => Ok(true),
            "0" => Ok(false),
            _ => Err(self.error(name, "must be 1 (該当) or 0 (非該当)")),
        }
    }

    /// The user, fields 2–3 of every layout.
    fn user(&self) -> Result<UserKey, RecordError> {
        Ok(UserKey {
            insurer: self.parse("保険者番号", "must be 6 digits")?,
            insured: self.parse("被保険者番号", "must be 10 digits or H + 9 digits")?,
        })
    }
}

/// Writes a record by 項目名: the layout of its kind and CSVバージョン places each value and says whether it is
/// free text (フリーテキスト, quoted) or a code (bare), so no writer repeats the order of the fields or their
/// quoting. Fields not set stay empty.
pub struct RecordWriter {
    kind: FileKind,
    specs: &'static [FieldSpec],
    fields: Vec<Field>,
}

impl RecordWriter {
    /// A record of `kind` in the layout of `version`, with its CSVバージョン and user set.
    pub fn new(kind: FileKind, version: CsvVersion, user: &UserKey) -> Self {
        let specs = layout(kind, version.is_v4()).unwrap_or_default();
        let mut writer = Self {
            kind,
            specs,
            fields: vec![Field::Empty; specs.len()],
        };
        writer
            .set("CSVバージョン", version)
            .set("保険者番号", &user.insurer)
            .set("被保険者番号", &user.insured);
        writer
    }

    /// Sets the field named `name`; an empty value leaves it empty. A field this edition of the layout lacks
    /// (the 福祉用具 fields in V3) is not written.
    pub fn set(&mut self, name: &str, value: impl fmt::Display) -> &mut Self {
        debug_assert!(
            position(self.kind, true, name).is_some() || position(self.kind, false, name).is_some(),
            "{name} is not a field of {}",
            self.kind
        );
        if let Some(index) = find(self.specs, name) {
            self.fields[index] = field_as(self.specs.get(index), value.to_string());
        }
        self
    }

    /// Sets the field named `name` when `value` is some.
    pub fn set_opt<T: fmt::Display>(&mut self, name: &str, value: Option<T>) -> &mut Self {
        match value {
            Some(value) => self.set(name, value),
            None => self,
        }
    }

    /// The record's fields, in the layout's order.
    pub fn finish(&mut self) -> Vec<Field> {
        std::mem::take(&mut self.fields)
    }
}

/// A value as the field of `spec` is written: free text (フリーテキスト) quoted, anything else bare, empty as
/// Null.
fn field_as(spec: Option<&FieldSpec>, value: String) -> Field {
    match spec.map(|s| s.format) {
        _ if value.is_empty() => Field::Empty,
        Some(Format::FreeText) => Field::Text(value),
        _ => Field::Code(value),
    }
}
