//! 第6表 (サービス利用票): `UPPLAN` (予定) and `UPJSK` (実績), spec §6.6.

use std::fmt;
use std::str::FromStr;

use careplan_core::{CareMonth, OfficeNumber};
use time::Date;

use super::{
    CsvVersion, FieldReader, RecordError, RecordWriter, ServiceCode, ServiceTime, UserKey, format_date,
};
use crate::FileKind;
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
    const TAIS: &str = "TAISコード";
    const NOTIFIED: &str = "福祉用具届出コード";
    const PRODUCT: &str = "用具名称（機種名）";

    /// The item of a 6表 or 7表 record; empty in a V3 record, whose layout has no such fields.
    pub(super) fn read(reader: &FieldReader<'_>) -> Self {
        if !reader.has(Self::TAIS) {
            return Self::default();
        }
        Self {
            tais_code: reader.text(Self::TAIS),
            notified_code: reader.text(Self::NOTIFIED),
            product_name: reader.text(Self::PRODUCT),
        }
    }

    pub(super) fn write(&self, writer: &mut RecordWriter) {
        writer
            .set(Self::TAIS, &self.tais_code)
            .set(Self::NOTIFIED, &self.notified_code)
            .set(Self::PRODUCT, &self.product_name);
    }
}

/// One cell of the service usage sheet (第6表): one service code on one day, in `UPPLAN` (plan, 予定)
/// and `UPJSK` (actual, 実績) files alike. 25 fields (22 before V4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUsageRecord {
    /// CSVバージョン.
    pub version: CsvVersion,
    /// 保険者番号 + 被保険者番号: the user.
    pub user: UserKey,
    /// 作成年月日.
    pub created_on: Date,
    /// 対象年月.
    pub month: CareMonth,
    /// プラン担当業者コード: the care-management office.
    pub plan_office: Option<OfficeNumber>,
    /// プラン担当者名: the care manager (free text).
    pub planner_name: String,
    /// 単位数 (after discount, 割引後).
    pub units: Option<u32>,
    /// 前月までの短期入所利用日数.
    pub short_stay_days_before: Option<u32>,
    /// サービス利用日.
    pub service_date: Date,
    /// 日割対象日.
    pub proration: Option<ProrationDays>,
    /// サービス開始時刻.
    pub start: ServiceTime,
    /// サービス終了時刻.
    pub end: ServiceTime,
    /// サービス回数.
    pub count: u8,
    /// サービスコード (kind 2 + item 4).
    pub service_code: ServiceCode,
    /// (V4 only) TAISコード, 福祉用具届出コード, 用具名称.
    pub equipment: EquipmentItem,
    /// 明細判別コード: numbers identical rental lines 1, 2, 3…
    pub detail_code: Option<u8>,
    /// サービス事業者コード: the planned (予定) or actual (実績) provider.
    pub provider: OfficeNumber,
    /// サービス事業所名 (free text).
    pub provider_name: String,
    /// サテライト枝番.
    pub satellite: String,
    /// ３０日超区分: short stay beyond 30 consecutive days.
    pub over_30_days: bool,
    /// 更新業者コード: the care-management office in plans, the provider in actuals.
    pub updater: Option<OfficeNumber>,
}

impl ServiceUsageRecord {
    /// The record's fields, in the layout of its version.
    pub fn to_fields(&self) -> Vec<Field> {
        let mut w = RecordWriter::new(FileKind::UsagePlan, self.version, &self.user);
        w.set("作成年月日", format_date(self.created_on))
            .set("対象年月", self.month)
            .set_opt("プラン担当業者コード", self.plan_office)
            .set("プラン担当者名", &self.planner_name)
            .set_opt("単位数", self.units)
            .set_opt("前月までの短期入所利用日数", self.short_stay_days_before)
            .set("サービス利用日", format_date(self.service_date))
            .set_opt("日割対象日", self.proration)
            .set("サービス開始時刻", self.start)
            .set("サービス終了時刻", self.end)
            .set("サービス回数", self.count)
            .set("サービスコード", self.service_code);
        self.equipment.write(&mut w);
        w.set_opt("明細判別コード", self.detail_code)
            .set("サービス事業者コード", self.provider)
            .set("サービス事業所名", &self.provider_name)
            .set("サテライト枝番", &self.satellite)
            .set("３０日超区分", u8::from(self.over_30_days))
            .set_opt("更新業者コード", self.updater);
        w.finish()
    }

    /// Reads a record of either layout, checking every field's format.
    pub fn from_fields(fields: &[&str]) -> Result<Self, RecordError> {
        let (version, r) = FieldReader::open(FileKind::UsagePlan, fields)?;
        Ok(Self {
            version,
            user: r.user()?,
            created_on: r.date("作成年月日")?,
            month: r.month("対象年月")?,
            plan_office: r.optional_office("プラン担当業者コード")?,
            planner_name: r.text("プラン担当者名"),
            units: r.optional_integer("単位数")?,
            short_stay_days_before: r.optional_integer("前月までの短期入所利用日数")?,
            service_date: r.date("サービス利用日")?,
            proration: r.optional("日割対象日", "must be 31 characters of 0/1")?,
            start: r.parse("サービス開始時刻", "must be HHMM or 9999")?,
            end: r.parse("サービス終了時刻", "must be HHMM or 9999")?,
            count: r.integer("サービス回数")?,
            service_code: r.parse("サービスコード", "must be 6 characters from 0-9A-Z")?,
            equipment: EquipmentItem::read(&r),
            detail_code: r.optional_integer("明細判別コード")?,
            provider: r.office("サービス事業者コード")?,
            provider_name: r.text("サービス事業所名"),
            satellite: r.text("サテライト枝番"),
            over_30_days: r.flag("３０日超区分")?,
            updater: r.optional_office("更新業者コード")?,
        })
    }
}
