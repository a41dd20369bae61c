//! 第7表 (サービス利用票別表): `UPSIKYU`, spec §6.8.

use std::fmt;
use std::str::FromStr;

use careplan_core::{CareMonth, OfficeNumber, ServiceKind};
use time::Date;

use super::{
    ALL_NINES_OFFICE, CsvVersion, EquipmentItem, FieldReader, RecordError, ServiceCode, UserKey, bare, flag,
    format_date, opt, version_and_count,
};
use crate::csv_text::Field;

/// Which subtotal a 7表 subtotal row carries (service kind + a 4-letter suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnnexSubtotal {
    /// `AAAA`: the kind's services inside the benefit limit (区分支給限度); required when the kind
    /// has several code rows.
    WithinLimit,
    /// `EEEE`: the kind's services outside the benefit limit.
    OutsideLimit,
    /// `ZZZZ`: the part of a short stay beyond 30 days.
    Over30Days,
}

impl AnnexSubtotal {
    fn suffix(self) -> &'static str {
        match self {
            AnnexSubtotal::WithinLimit => "AAAA",
            AnnexSubtotal::OutsideLimit => "EEEE",
            AnnexSubtotal::Over30Days => "ZZZZ",
        }
    }
}

/// Field 9 of a 7表 row: what the row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnnexCode {
    /// A service line: one office and service code.
    Service(ServiceCode),
    /// A subtotal of one service kind.
    Subtotal {
        /// The kind.
        kind: ServiceKind,
        /// Which subtotal.
        part: AnnexSubtotal,
    },
    /// `999999`: the user's grand total (合計), on office `9999999999`.
    GrandTotal,
}

impl AnnexCode {
    /// Whether the row is a subtotal or the grand total (単位数 0, 割引後 fields empty).
    pub fn is_summary(self) -> bool {
        !matches!(self, AnnexCode::Service(_))
    }
}

impl FromStr for AnnexCode {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        if s == "999999" {
            return Ok(AnnexCode::GrandTotal);
        }
        let part = [
            AnnexSubtotal::WithinLimit,
            AnnexSubtotal::OutsideLimit,
            AnnexSubtotal::Over30Days,
        ]
        .into_iter()
        .find(|part| s.len() == 6 && s.get(2..) == Some(part.suffix()));
        match part {
            Some(part) => Ok(AnnexCode::Subtotal {
                kind: s.get(..2).ok_or(())?.parse().map_err(|_| ())?,
                part,
            }),
            None => s.parse().map(AnnexCode::Service),
        }
    }
}

impl fmt::Display for AnnexCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnnexCode::Service(code) => code.fmt(f),
            AnnexCode::Subtotal { kind, part } => write!(f, "{kind}{}", part.suffix()),
            AnnexCode::GrandTotal => f.write_str("999999"),
        }
    }
}

/// Field 7 (and 34) of a 7表 row: an office, or `9999999999` (ALL9) on the grand-total row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnnexOffice {
    /// A service office.
    Office(OfficeNumber),
    /// `9999999999`.
    AllNines,
}

impl FromStr for AnnexOffice {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        if s == ALL_NINES_OFFICE {
            Ok(AnnexOffice::AllNines)
        } else {
            s.parse().map(AnnexOffice::Office).map_err(|_| ())
        }
    }
}

impl fmt::Display for AnnexOffice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnnexOffice::Office(office) => office.fmt(f),
            AnnexOffice::AllNines => f.write_str(ALL_NINES_OFFICE),
        }
    }
}

/// 単位数単価: yen per unit with two decimals (`10.00`, `11.40`), held in hundredths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitPrice(u16);

impl UnitPrice {
    /// A price of `hundredths` / 100 yen per unit; `None` from 100.00 up, which the field cannot hold.
    pub fn from_hundredths(hundredths: u16) -> Option<Self> {
        (hundredths < 10_000).then_some(Self(hundredths))
    }

    /// The price in hundredths of a yen.
    pub fn hundredths(self) -> u16 {
        self.0
    }
}

impl FromStr for UnitPrice {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (whole, cents) = s.split_once('.').ok_or(())?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || whole.len() > 2 || (whole.len() == 2 && whole.starts_with('0')) {
            return Err(());
        }
        if !digits(cents) || cents.len() != 2 {
            return Err(());
        }
        let value = whole.parse::<u16>().map_err(|_| ())? * 100 + cents.parse::<u16>().map_err(|_| ())?;
        Ok(Self(value))
    }
}

impl fmt::Display for UnitPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// One row of the usage sheet annex (第7表, `UPSIKYU`): a service line, a subtotal or the user's grand
/// total. 37 fields (34 before V4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageAnnexRecord {
    /// 1 CSVバージョン.
    pub version: CsvVersion,
    /// 2–3: the user.
    pub user: UserKey,
    /// 4 作成年月日.
    pub created_on: Date,
    /// 5 対象年月.
    pub month: CareMonth,
    /// 6 サービス事業所名 (free text).
    pub office_name: String,
    /// 7 サービス事業所コード: `9999999999` on the grand-total row.
    pub office: AnnexOffice,
    /// 8 サテライト枝番.
    pub satellite: String,
    /// 9 サービスコード: a service code, a subtotal or the grand total.
    pub code: AnnexCode,
    /// 10–12 (V4): TAISコード, 福祉用具届出コード, 用具名称.
    pub equipment: EquipmentItem,
    /// 13 単位数 per occurrence; 0 on subtotal and total rows.
    pub units: u32,
    /// 14 割引後率.
    pub discount_rate: Option<u32>,
    /// 15 割引後単位数.
    pub discounted_units: Option<u32>,
    /// 16 回数／日数.
    pub count: u16,
    /// 17 サービス単位／金額.
    pub service_units: Option<u32>,
    /// 18 給付管理単位数: empty for services outside the benefit limit.
    pub managed_units: Option<u32>,
    /// 19 種類支給限度基準を超える単位数.
    pub over_kind_limit: Option<u32>,
    /// 20 種類支給限度基準内単位数.
    pub within_kind_limit: Option<u32>,
    /// 21 区分支給限度基準を超える単位数.
    pub over_limit: Option<u32>,
    /// 22 区分支給限度基準内単位数.
    pub within_limit: Option<u32>,
    /// 23 単位数単価.
    pub unit_price: Option<UnitPrice>,
    /// 24 費用総額（保険／事業対象分）, yen.
    pub total_cost: Option<u64>,
    /// 25 給付率, percent.
    pub benefit_rate: Option<u32>,
    /// 26 保険／事業費請求額, yen.
    pub claim: Option<u64>,
    /// 27 定額利用者負担単価金額, yen.
    pub fixed_copay: Option<u32>,
    /// 28 利用者負担（保険／事業対象分）, yen.
    pub copay: Option<u64>,
    /// 29 利用者負担（全額負担分）, yen.
    pub copay_full: Option<u64>,
    /// 30 前月までの利用日数 (short stay).
    pub short_stay_days_before: Option<u32>,
    /// 31 当月の計画利用日数 (short stay).
    pub short_stay_days_planned: Option<u32>,
    /// 32 累積利用日数 (short stay).
    pub short_stay_days_cumulative: Option<u32>,
    /// 33 ３０日超区分.
    pub over_30_days: bool,
    /// 34 事業所コード: always `9999999999` when set.
    pub summary_office: Option<AnnexOffice>,
    /// 35 入力者コード.
    pub input_by: Option<OfficeNumber>,
    /// 36 更新業者コード: the care-management office.
    pub updater: Option<OfficeNumber>,
}

impl UsageAnnexRecord {
    /// Fields in the V4 layout.
    pub const FIELD_COUNT: usize = 37;
    /// Fields in the V3 layout (no 福祉用具 fields 10–12).
    pub const FIELD_COUNT_V3: usize = 34;

    /// A row of `code` at `office` with every optional field empty, counts and units 0, field 34 ALL9.
    pub fn new(
        user: UserKey,
        created_on: Date,
        month: CareMonth,
        office: AnnexOffice,
        code: AnnexCode,
    ) -> Self {
        Self {
            version: CsvVersion::CURRENT,
            user,
            created_on,
            month,
            office_name: String::new(),
            office,
            satellite: String::new(),
            code,
            equipment: EquipmentItem::default(),
            units: 0,
            discount_rate: None,
            discounted_units: None,
            count: 0,
            service_units: None,
            managed_units: None,
            over_kind_limit: None,
            within_kind_limit: None,
            over_limit: None,
            within_limit: None,
            unit_price: None,
            total_cost: None,
            benefit_rate: None,
            claim: None,
            fixed_copay: None,
            copay: None,
            copay_full: None,
            short_stay_days_before: None,
            short_stay_days_planned: None,
            short_stay_days_cumulative: None,
            over_30_days: false,
            summary_office: Some(AnnexOffice::AllNines),
            input_by: None,
            updater: None,
        }
    }

    /// The record's fields, in the layout of its version.
    pub fn to_fields(&self) -> Vec<Field> {
        let mut fields = Vec::with_capacity(Self::FIELD_COUNT);
        fields.extend([
            Field::code(self.version),
            Field::code(&self.user.insurer),
            Field::code(&self.user.insured),
            Field::code(format_date(self.created_on)),
            Field::code(self.month),
            Field::text(&self.office_name),
            Field::code(self.office),
            bare(&self.satellite),
            Field::code(self.code),
        ]);
        if self.version.is_v4() {
            fields.extend(self.equipment.fields());
        }
        fields.extend([
            Field::code(self.units),
            opt(&self.discount_rate),
            opt(&self.discounted_units),
            Field::code(self.count),
            opt(&self.service_units),
            opt(&self.managed_units),
            opt(&self.over_kind_limit),
            opt(&self.within_kind_limit),
            opt(&self.over_limit),
            opt(&self.within_limit),
            opt(&self.unit_price),
            opt(&self.total_cost),
            opt(&self.benefit_rate),
            opt(&self.claim),
            opt(&self.fixed_copay),
            opt(&self.copay),
            opt(&self.copay_full),
            opt(&self.short_stay_days_before),
            opt(&self.short_stay_days_planned),
            opt(&self.short_stay_days_cumulative),
            flag(self.over_30_days),
            opt(&self.summary_office),
            opt(&self.input_by),
            opt(&self.updater),
            Field::Empty,
        ]);
        fields
    }

    /// Reads a record of either layout, checking every field's format.
    pub fn from_fields(fields: &[&str]) -> Result<Self, RecordError> {
        // V3 lacks fields 10–12: later fields move up.
        let (version, missing) = version_and_count(fields, Self::FIELD_COUNT, Self::FIELD_COUNT_V3)?;
        let r = FieldReader::new(fields);
        let at = |v4_number: usize| v4_number - missing;
        let int = |number: usize, name| r.optional_integer::<u32>(at(number), name);
        let yen = |number: usize, name| r.optional_integer::<u64>(at(number), name);
        Ok(Self {
            version,
            user: UserKey::from_fields(fields)?,
            created_on: r.date(4, "作成年月日")?,
            month: r.month(5, "対象年月")?,
            office_name: r.text(6),
            office: r.parse(
                7,
                "サービス事業所コード",
                "must be a 10-digit office number or 9999999999",
            )?,
            satellite: r.text(8),
            code: r.parse(
                9,
                "サービスコード",
                "must be a service code, kind + AAAA/EEEE/ZZZZ, or 999999",
            )?,
            equipment: if version.is_v4() {
                EquipmentItem::read(&r, 10)
            } else {
                EquipmentItem::default()
            },
            units: r.integer(at(13), "単位数")?,
            discount_rate: int(14, "割引後率")?,
            discounted_units: int(15, "割引後単位数")?,
            count: r.integer(at(16), "回数／日数")?,
            service_units: int(17, "サービス単位／金額")?,
            managed_units: int(18, "給付管理単位数")?,
            over_kind_limit: int(19, "種類支給限度基準を超える単位数")?,
            within_kind_limit: int(20, "種類支給限度基準内単位数")?,
            over_limit: int(21, "区分支給限度基準を超える単位数")?,
            within_limit: int(22, "区分支給限度基準内単位数")?,
            unit_price: r.optional(at(23), "単位数単価", "must be 99.99")?,
            total_cost: yen(24, "費用総額（保険／事業対象分）")?,
            benefit_rate: int(25, "給付率")?,
            claim: yen(26, "保険／事業費請求額")?,
            fixed_copay: int(27, "定額利用者負担単価金額")?,
            copay: yen(28, "利用者負担（保険／事業対象分）")?,
            copay_full: yen(29, "利用者負担（全額負担分）")?,
            short_stay_days_before: int(30, "前月までの利用日数")?,
            short_stay_days_planned: int(31, "当月の計画利用日数")?,
            short_stay_days_cumulative: int(32, "累積利用日数")?,
            over_30_days: r.flag(at(33), "３０日超区分")?,
            summary_office: r.optional(at(34), "事業所コード", "must be 9999999999")?,
            input_by: r.optional_office(at(35), "入力者コード")?,
            updater: r.optional_office(at(36), "更新業者コード")?,
        })
    }
}
