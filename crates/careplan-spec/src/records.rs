//! Typed records of the files exchanged in a month's plan/actual round trip (V4.1 layouts, spec §6):
//! the service usage sheet (第6表, `UPPLAN`/`UPJSK`), its annex (第7表, `UPSIKYU`) and the user
//! supplement (利用者補足情報, `UPHOSOKU`).
//!
//! Each record knows its layout's field count and writes exactly that many fields; reading checks the
//! count and parses the fields an importer relies on, naming the field on failure.

use std::fmt;
use std::str::FromStr;

use careplan_core::{CareMonth, ErrorCode, OfficeNumber};
use time::{Date, Month};

use crate::CSV_VERSION_V4_1;
use crate::csv_text::Field;

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

fn field_error(fields: &[&str], number: usize, name: &'static str, expected: &'static str) -> RecordError {
    RecordError::Field {
        number,
        name,
        value: fields
            .get(number - 1)
            .map_or_else(String::new, |v| (*v).to_owned()),
        expected,
    }
}

fn parse_field<T: FromStr>(
    fields: &[&str],
    number: usize,
    name: &'static str,
    expected: &'static str,
) -> Result<T, RecordError> {
    fields[number - 1]
        .parse()
        .map_err(|_| field_error(fields, number, name, expected))
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
        Ok(Self {
            insurer: parse_field(fields, 2, "保険者番号", "must be 6 digits")?,
            insured: parse_field(fields, 3, "被保険者番号", "must be 10 digits or H + 9 digits")?,
        })
    }
}

impl fmt::Display for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.insurer, self.insured)
    }
}

/// Service start or end time (サービス開始/終了時刻): `HHMM`, or `9999` for a service shown without a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// One cell of the service usage sheet (第6表): one service code on one day, in `UPPLAN` (plan, 予定)
/// and `UPJSK` (actual, 実績) files alike. 25 fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUsageRecord {
    /// 2–3: the user.
    pub user: UserKey,
    /// 4 作成年月日.
    pub created_on: Date,
    /// 5 対象年月.
    pub month: CareMonth,
    /// 6 プラン担当業者コード: the care-management office.
    pub plan_office: OfficeNumber,
    /// 7 プラン担当者名: the care manager.
    pub planner_name: String,
    /// 8 単位数 (after discount).
    pub units: u32,
    /// 10 サービス利用日.
    pub service_date: Date,
    /// 12 サービス開始時刻.
    pub start: ServiceTime,
    /// 13 サービス終了時刻.
    pub end: ServiceTime,
    /// 14 サービス回数.
    pub count: u8,
    /// 15 サービスコード (kind 2 + item 4).
    pub service_code: String,
    /// 20 サービス事業者コード: the planned (予定) or actual (実績) provider.
    pub provider: OfficeNumber,
    /// 21 サービス事業所名.
    pub provider_name: String,
    /// 24 更新業者コード: the care-management office in plans, the provider in actuals.
    pub updater: OfficeNumber,
}

impl ServiceUsageRecord {
    /// Fields in the layout.
    pub const FIELD_COUNT: usize = 25;

    /// The record's fields, in layout order.
    pub fn to_fields(&self) -> Vec<Field> {
        vec![
            Field::code(CSV_VERSION_V4_1),
            Field::code(&self.user.insurer),
            Field::code(&self.user.insured),
            Field::code(format_date(self.created_on)),
            Field::code(self.month),
            Field::code(self.plan_office),
            Field::text(&self.planner_name),
            Field::code(self.units),
            Field::Empty,
            Field::code(format_date(self.service_date)),
            Field::Empty,
            Field::code(self.start),
            Field::code(self.end),
            Field::code(self.count),
            Field::code(&self.service_code),
            Field::Empty,
            Field::Empty,
            Field::Empty,
            Field::Empty,
            Field::code(self.provider),
            Field::text(&self.provider_name),
            Field::Empty,
            Field::code(0),
            Field::code(self.updater),
            Field::Empty,
        ]
    }

    /// Reads a record, checking the fields an importer relies on.
    pub fn from_fields(fields: &[&str]) -> Result<Self, RecordError> {
        check_count(fields, Self::FIELD_COUNT)?;
        let date = |number: usize, name: &'static str| {
            parse_date(fields[number - 1])
                .ok_or_else(|| field_error(fields, number, name, "must be a YYYYMMDD date"))
        };
        let office = |number: usize, name: &'static str| {
            parse_field(fields, number, name, "must be a 10-digit office number")
        };
        let service_code = fields[14].to_owned();
        if service_code.len() != 6
            || !service_code
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            return Err(field_error(
                fields,
                15,
                "サービスコード",
                "must be 6 characters from 0-9A-Z",
            ));
        }
        Ok(Self {
            user: UserKey::from_fields(fields)?,
            created_on: date(4, "作成年月日")?,
            month: parse_field(fields, 5, "対象年月", "must be YYYYMM")?,
            plan_office: office(6, "プラン担当業者コード")?,
            planner_name: fields[6].to_owned(),
            units: parse_field(fields, 8, "単位数", "must be an integer")?,
            service_date: date(10, "サービス利用日")?,
            start: parse_field(fields, 12, "サービス開始時刻", "must be HHMM or 9999")?,
            end: parse_field(fields, 13, "サービス終了時刻", "must be HHMM or 9999")?,
            count: parse_field(fields, 14, "サービス回数", "must be an integer up to 99")?,
            service_code,
            provider: office(20, "サービス事業者コード")?,
            provider_name: fields[20].to_owned(),
            updater: office(24, "更新業者コード")?,
        })
    }
}

/// The special office code of the usage sheet annex's grand-total row and of its field 34.
pub const ALL_NINES_OFFICE: &str = "9999999999";

/// One row of the usage sheet annex (第7表, `UPSIKYU`). 37 fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageAnnexRecord {
    /// 2–3: the user.
    pub user: UserKey,
    /// 4 作成年月日.
    pub created_on: Date,
    /// 5 対象年月.
    pub month: CareMonth,
    /// What the row is.
    pub row: AnnexRow,
    /// 36 更新業者コード: the care-management office.
    pub updater: OfficeNumber,
}

/// The kind of a usage sheet annex row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnnexRow {
    /// A service line: one office and service code.
    Service {
        /// 6 サービス事業所名.
        office_name: String,
        /// 7 サービス事業所コード.
        office: OfficeNumber,
        /// 9 サービスコード.
        service_code: String,
        /// 13 単位数 (per occurrence).
        units: u32,
        /// 16 回数／日数.
        count: u16,
    },
    /// The user's grand total (`999999`, office `9999999999`).
    Total {
        /// Total units of the month.
        units: u32,
    },
}

/// Amounts of a 7表 line at the default unit price (単位数単価) of 10.00 yen and a benefit rate (給付率)
/// of 90%.
fn amounts(units: u32) -> [Field; 7] {
    let cost = u64::from(units) * 10;
    let claim = cost * 90 / 100;
    [
        Field::code("10.00"),
        Field::code(cost),
        Field::code(90),
        Field::code(claim),
        Field::Empty,
        Field::code(cost - claim),
        Field::code(0),
    ]
}

impl UsageAnnexRecord {
    /// Fields in the layout.
    pub const FIELD_COUNT: usize = 37;

    /// The record's fields, in layout order.
    pub fn to_fields(&self) -> Vec<Field> {
        let mut fields = vec![
            Field::code(CSV_VERSION_V4_1),
            Field::code(&self.user.insurer),
            Field::code(&self.user.insured),
            Field::code(format_date(self.created_on)),
            Field::code(self.month),
        ];
        match &self.row {
            AnnexRow::Service {
                office_name,
                office,
                service_code,
                units,
                count,
            } => {
                let total = *units * u32::from(*count);
                fields.extend([
                    Field::text(office_name),
                    Field::code(office),
                    Field::Empty,
                    Field::code(service_code),
                    Field::Empty,
                    Field::Empty,
                    Field::Empty,
                    Field::code(units),
                    Field::Empty,
                    Field::Empty,
                    Field::code(count),
                    Field::code(total),
                    Field::code(total),
                    Field::Empty,
                    Field::Empty,
                    Field::Empty,
                    Field::Empty,
                ]);
                fields.extend(std::iter::repeat_n(Field::Empty, 7));
            }
            AnnexRow::Total { units } => {
                fields.extend([
                    Field::Empty,
                    Field::code(ALL_NINES_OFFICE),
                    Field::Empty,
                    Field::code("999999"),
                    Field::Empty,
                    Field::Empty,
                    Field::Empty,
                    Field::code(0),
                    Field::Empty,
                    Field::Empty,
                    Field::code(0),
                    Field::code(units),
                    Field::code(units),
                    Field::code(0),
                    Field::code(units),
                    Field::code(0),
                    Field::code(units),
                ]);
                fields.extend(amounts(*units));
            }
        }
        fields.extend([
            Field::Empty,
            Field::Empty,
            Field::Empty,
            Field::code(0),
            Field::code(ALL_NINES_OFFICE),
            Field::Empty,
            Field::code(self.updater),
            Field::Empty,
        ]);
        fields
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

/// The user supplement (利用者補足情報, `UPHOSOKU`) linked to a month's usage sheet. 63 fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSupplementRecord {
    /// 2–3: the user.
    pub user: UserKey,
    /// 5 利用者氏名フリガナ.
    pub name_kana: String,
    /// 6 利用者氏名.
    pub name: String,
    /// 7 利用者性別.
    pub sex: Sex,
    /// 8 利用者生年月日.
    pub birth_date: Date,
    /// 18 要介護状態区分 (06, 12, 13, 21–25).
    pub care_level: &'static str,
    /// 19 区分支給限度基準額 (units).
    pub benefit_limit: u32,
    /// 61 更新業者コード.
    pub updater: OfficeNumber,
    /// 63 対象年月.
    pub month: CareMonth,
}

impl UserSupplementRecord {
    /// Fields in the layout.
    pub const FIELD_COUNT: usize = 63;

    /// The record's fields, in layout order.
    pub fn to_fields(&self) -> Vec<Field> {
        let mut fields = vec![
            Field::code(CSV_VERSION_V4_1),
            Field::code(&self.user.insurer),
            Field::code(&self.user.insured),
            // 00000000: this supplement accompanies a month's usage sheet, not plan table 1.
            Field::code("00000000"),
            Field::text(&self.name_kana),
            Field::text(&self.name),
            Field::code(match self.sex {
                Sex::Male => 1,
                Sex::Female => 2,
            }),
            Field::code(format_date(self.birth_date)),
        ];
        // 9–17: address, phone and certification details are optional and left empty.
        fields.extend([Field::Empty, Field::text(""), Field::text("")]);
        fields.extend(std::iter::repeat_n(Field::Empty, 6));
        fields.push(Field::code(self.care_level));
        fields.push(Field::code(self.benefit_limit));
        // 20–60: per-kind limit slots, short-stay day counts, previous level, consent office.
        fields.extend(std::iter::repeat_n(Field::Empty, 41));
        fields.extend([Field::code(self.updater), Field::Empty, Field::code(self.month)]);
        fields
    }
}

/// Checks that a record has its layout's field count and returns its user, for files an importer only
/// indexes by user.
pub fn user_of(fields: &[&str], field_count: usize) -> Result<UserKey, RecordError> {
    check_count(fields, field_count)?;
    UserKey::from_fields(fields)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::csv_text::{read_records, write_record};

    fn user() -> UserKey {
        UserKey {
            insurer: "131001".parse().unwrap(),
            insured: "0000012345".parse().unwrap(),
        }
    }

    fn usage() -> ServiceUsageRecord {
        ServiceUsageRecord {
            user: user(),
            created_on: date!(2025 - 04 - 25),
            month: "202505".parse().unwrap(),
            plan_office: "1310000001".parse().unwrap(),
            planner_name: "山田 花子".into(),
            units: 250,
            service_date: date!(2025 - 05 - 01),
            start: ServiceTime::At { hour: 9, minute: 0 },
            end: ServiceTime::At { hour: 9, minute: 30 },
            count: 1,
            service_code: "111111".into(),
            provider: "1310000002".parse().unwrap(),
            provider_name: "訪問介護ステーションA".into(),
            updater: "1310000001".parse().unwrap(),
        }
    }

    #[test]
    fn usage_record_matches_the_spec_example_and_round_trips() {
        let mut text = String::new();
        write_record(&mut text, &usage().to_fields());
        assert_eq!(
            text,
            "202407,131001,0000012345,20250425,202505,1310000001,\"山田 花子\",250,,20250501,,0900,0930,1,111111,,,,,\
             1310000002,\"訪問介護ステーションA\",,0,1310000001,\r\n"
        );
        let records = read_records(&text).unwrap();
        assert_eq!(
            ServiceUsageRecord::from_fields(&records[0].fields()).unwrap(),
            usage()
        );
    }

    #[test]
    fn layouts_have_their_field_counts() {
        assert_eq!(usage().to_fields().len(), ServiceUsageRecord::FIELD_COUNT);
        let annex = |row| UsageAnnexRecord {
            user: user(),
            created_on: date!(2025 - 04 - 25),
            month: "202505".parse().unwrap(),
            row,
            updater: "1310000001".parse().unwrap(),
        };
        let service = AnnexRow::Service {
            office_name: "A".into(),
            office: "1310000002".parse().unwrap(),
            service_code: "111111".into(),
            units: 250,
            count: 8,
        };
        assert_eq!(annex(service).to_fields().len(), UsageAnnexRecord::FIELD_COUNT);
        assert_eq!(
            annex(AnnexRow::Total { units: 2000 }).to_fields().len(),
            UsageAnnexRecord::FIELD_COUNT
        );
        let supplement = UserSupplementRecord {
            user: user(),
            name_kana: "ヤマダ タロウ".into(),
            name: "山田 太郎".into(),
            sex: Sex::Male,
            birth_date: date!(1940 - 01 - 15),
            care_level: "22",
            benefit_limit: 19_705,
            updater: "1310000001".parse().unwrap(),
            month: "202505".parse().unwrap(),
        };
        assert_eq!(supplement.to_fields().len(), UserSupplementRecord::FIELD_COUNT);
    }

    #[test]
    fn reading_names_the_offending_field() {
        let empty = vec![""; 24];
        let err = ServiceUsageRecord::from_fields(&empty).unwrap_err();
        assert_eq!(
            err,
            RecordError::FieldCount {
                expected: 25,
                found: 24
            }
        );
        let mut text = String::new();
        write_record(&mut text, &usage().to_fields());
        let record = read_records(&text).unwrap().remove(0);
        let mut fields = record.fields();
        fields[9] = "20250532";
        let err = ServiceUsageRecord::from_fields(&fields).unwrap_err();
        assert_eq!(
            err.to_string(),
            "field 10 サービス利用日: `20250532` must be a YYYYMMDD date"
        );
        fields[9] = "20250501";
        fields[11] = "2460";
        assert!(
            ServiceUsageRecord::from_fields(&fields)
                .unwrap_err()
                .to_string()
                .contains("サービス開始時刻")
        );
    }
}
