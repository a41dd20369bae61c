//! 第6表 (サービス利用票): `UPPLAN` (予定) and `UPJSK` (実績), spec §6.6.

use std::fmt;
use std::str::FromStr;

use careplan_core::{CareMonth, OfficeNumber};
use time::Date;

use super::{
    CsvVersion, FieldReader, RecordError, ServiceCode, ServiceTime, UserKey, bare, flag, format_date, opt,
    version_and_count,
};
use crate::csv_text::Field;

/// 日割対象日: the days of the month on which 日割 billing applies, a 31-character `0`/`1` string.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProrationDays(u32);

impl ProrationDays {
    /// The days `first..=last` (1-based), clamped to 1–31.
    pub fn span(first: u8, last: u8) -> Self {
        let days = (first.max(1)..=last.min(31)).fold(0, |bits, day| bits | (1 << (day - 1)));
        Self(days)
    }

    /// Whether `day` (1–31) is marked.
    pub fn contains(self, day: u8) -> bool {
        (1..=31).contains(&day) && self.0 & (1 << (day - 1)) != 0
    }

    /// The marked days, ascending.
    pub fn days(self) -> impl Iterator<Item = u8> {
        (1..=31).filter(move |&day| self.contains(day))
    }
}

impl FromStr for ProrationDays {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        if s.len() != 31 {
            return Err(());
        }
        s.bytes().enumerate().try_fold(Self(0), |days, (i, b)| match b {
            b'0' => Ok(days),
            b'1' => Ok(Self(days.0 | 1 << i)),
            _ => Err(()),
        })
    }
}

impl fmt::Display for ProrationDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (1..=31).try_for_each(|day| f.write_str(if self.contains(day) { "1" } else { "0" }))
    }
}

impl fmt::Debug for ProrationDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProrationDays({self})")
    }
}

/// The welfare-equipment fields (福祉用具, V4 only) of a 6表 or 7表 line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EquipmentItem {
    /// TAISコード, e.g. `00170-000123`; empty when the product has none.
    pub tais_code: String,
    /// 福祉用具届出コード, for products without a TAIS code.
    pub notified_code: String,
    /// 用具名称（機種名）, free text.
    pub product_name: String,
}

impl EquipmentItem {
    pub(super) fn read(reader: &FieldReader<'_>, first: usize) -> Self {
        Self {
            tais_code: reader.text(first),
            notified_code: reader.text(first + 1),
            product_name: reader.text(first + 2),
        }
    }

    pub(super) fn fields(&self) -> [Field; 3] {
        [
            bare(&self.tais_code),
            bare(&self.notified_code),
            Field::text(&self.product_name),
        ]
    }
}

/// One cell of the service usage sheet (第6表): one service code on one day, in `UPPLAN` (plan, 予定)
/// and `UPJSK` (actual, 実績) files alike. 25 fields (22 before V4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUsageRecord {
    /// 1 CSVバージョン.
    pub version: CsvVersion,
    /// 2–3: the user.
    pub user: UserKey,
    /// 4 作成年月日.
    pub created_on: Date,
    /// 5 対象年月.
    pub month: CareMonth,
    /// 6 プラン担当業者コード: the care-management office.
    pub plan_office: Option<OfficeNumber>,
    /// 7 プラン担当者名: the care manager (free text).
    pub planner_name: String,
    /// 8 単位数 (after discount, 割引後).
    pub units: Option<u32>,
    /// 9 前月までの短期入所利用日数.
    pub short_stay_days_before: Option<u32>,
    /// 10 サービス利用日.
    pub service_date: Date,
    /// 11 日割対象日.
    pub proration: Option<ProrationDays>,
    /// 12 サービス開始時刻.
    pub start: ServiceTime,
    /// 13 サービス終了時刻.
    pub end: ServiceTime,
    /// 14 サービス回数.
    pub count: u8,
    /// 15 サービスコード (kind 2 + item 4).
    pub service_code: ServiceCode,
    /// 16–18 (V4): TAISコード, 福祉用具届出コード, 用具名称.
    pub equipment: EquipmentItem,
    /// 19 明細判別コード: numbers identical rental lines 1, 2, 3…
    pub detail_code: Option<u8>,
    /// 20 サービス事業者コード: the planned (予定) or actual (実績) provider.
    pub provider: OfficeNumber,
    /// 21 サービス事業所名 (free text).
    pub provider_name: String,
    /// 22 サテライト枝番.
    pub satellite: String,
    /// 23 ３０日超区分: short stay beyond 30 consecutive days.
    pub over_30_days: bool,
    /// 24 更新業者コード: the care-management office in plans, the provider in actuals.
    pub updater: Option<OfficeNumber>,
}

impl ServiceUsageRecord {
    /// Fields in the V4 layout.
    pub const FIELD_COUNT: usize = 25;
    /// Fields in the V3 layout (no 福祉用具 fields 16–18).
    pub const FIELD_COUNT_V3: usize = 22;

    /// The record's fields, in the layout of its version.
    pub fn to_fields(&self) -> Vec<Field> {
        let mut fields = Vec::with_capacity(Self::FIELD_COUNT);
        fields.extend([
            Field::code(self.version),
            Field::code(&self.user.insurer),
            Field::code(&self.user.insured),
            Field::code(format_date(self.created_on)),
            Field::code(self.month),
            opt(&self.plan_office),
            Field::text(&self.planner_name),
            opt(&self.units),
            opt(&self.short_stay_days_before),
            Field::code(format_date(self.service_date)),
            opt(&self.proration),
            Field::code(self.start),
            Field::code(self.end),
            Field::code(self.count),
            Field::code(self.service_code),
        ]);
        if self.version.is_v4() {
            fields.extend(self.equipment.fields());
        }
        fields.extend([
            opt(&self.detail_code),
            Field::code(self.provider),
            Field::text(&self.provider_name),
            bare(&self.satellite),
            flag(self.over_30_days),
            opt(&self.updater),
            Field::Empty,
        ]);
        fields
    }

    /// Reads a record of either layout, checking every field's format.
    pub fn from_fields(fields: &[&str]) -> Result<Self, RecordError> {
        // V3 lacks fields 16–18: later fields move up.
        let (version, missing) = version_and_count(fields, Self::FIELD_COUNT, Self::FIELD_COUNT_V3)?;
        let r = FieldReader::new(fields);
        let at = |v4_number: usize| v4_number - missing;
        Ok(Self {
            version,
            user: UserKey::from_fields(fields)?,
            created_on: r.date(4, "作成年月日")?,
            month: r.month(5, "対象年月")?,
            plan_office: r.optional_office(6, "プラン担当業者コード")?,
            planner_name: r.text(7),
            units: r.optional_integer(8, "単位数")?,
            short_stay_days_before: r.optional_integer(9, "前月までの短期入所利用日数")?,
            service_date: r.date(10, "サービス利用日")?,
            proration: r.optional(11, "日割対象日", "must be 31 characters of 0/1")?,
            start: r.parse(12, "サービス開始時刻", "must be HHMM or 9999")?,
            end: r.parse(13, "サービス終了時刻", "must be HHMM or 9999")?,
            count: r.integer(14, "サービス回数")?,
            service_code: r.parse(15, "サービスコード", "must be 6 characters from 0-9A-Z")?,
            equipment: if version.is_v4() {
                EquipmentItem::read(&r, 16)
            } else {
                EquipmentItem::default()
            },
            detail_code: r.optional_integer(at(19), "明細判別コード")?,
            provider: r.office(at(20), "サービス事業者コード")?,
            provider_name: r.text(at(21)),
            satellite: r.text(at(22)),
            over_30_days: r.flag(at(23), "３０日超区分")?,
            updater: r.optional_office(at(24), "更新業者コード")?,
        })
    }
}
