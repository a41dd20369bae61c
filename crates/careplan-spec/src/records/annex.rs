//! 第7表 (サービス利用票別表): `UPSIKYU`, spec §6.8.

use std::fmt;
use std::str::FromStr;

use careplan_core::{CareMonth, OfficeNumber, ServiceKind};
use time::Date;

use super::{
    ALL_NINES_OFFICE, CsvVersion, EquipmentItem, FieldReader, RecordError, RecordWriter, ServiceCode,
    UserKey, format_date,
};
use crate::FileKind;
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
    /// CSVバージョン.
    pub version: CsvVersion,
    /// 保険者番号 + 被保険者番号: the user.
    pub user: UserKey,
    /// 作成年月日.
    pub created_on: Date,
    /// 対象年月.
    pub month: CareMonth,
    /// サービス事業所名 (free text).
    pub office_name: String,
    /// サービス事業所コード: `9999999999` on the grand-total row.
    pub office: AnnexOffice,
    /// サテライト枝番.
    pub satellite: String,
    /// サービスコード: a service code, a subtotal or the grand total.
    pub code: AnnexCode,
    /// (V4 only) TAISコード, 福祉用具届出コード, 用具名称.
    pub equipment: EquipmentItem,
    /// 単位数 per occurrence; 0 on subtotal and total rows.
    pub units: u32,
    /// 割引後率.
    pub discount_rate: Option<u32>,
    /// 割引後単位数.
    pub discounted_units: Option<u32>,
    /// 回数／日数.
    pub count: u16,
    /// サービス単位／金額.
    pub service_units: Option<u32>,
    /// 給付管理単位数: empty for services outside the benefit limit.
    pub managed_units: Option<u32>,
    /// 種類支給限度基準を超える単位数.
    pub over_kind_limit: Option<u32>,
    /// 種類支給限度基準内単位数.
    pub within_kind_limit: Option<u32>,
    /// 区分支給限度基準を超える単位数.
    pub over_limit: Option<u32>,
    /// 区分支給限度基準内単位数.
    pub within_limit: Option<u32>,
    /// 単位数単価.
    pub unit_price: Option<UnitPrice>,
    /// 費用総額（保険／事業対象分）, yen.
    pub total_cost: Option<u64>,
    /// 給付率, percent.
    pub benefit_rate: Option<u32>,
    /// 保険／事業費請求額, yen.
    pub claim: Option<u64>,
    /// 定額利用者負担単価金額, yen.
    pub fixed_copay: Option<u32>,
    /// 利用者負担（保険／事業対象分）, yen.
    pub copay: Option<u64>,
    /// 利用者負担（全額負担分）, yen.
    pub copay_full: Option<u64>,
    /// 前月までの利用日数 (short stay).
    pub short_stay_days_before: Option<u32>,
    /// 当月の計画利用日数 (short stay).
    pub short_stay_days_planned: Option<u32>,
    /// 累積利用日数 (short stay).
    pub short_stay_days_cumulative: Option<u32>,
    /// ３０日超区分.
    pub over_30_days: bool,
    /// 事業所コード: always `9999999999` when set.
    pub summary_office: Option<AnnexOffice>,
    /// 入力者コード.
    pub input_by: Option<OfficeNumber>,
    /// 更新業者コード: the care-management office.
    pub updater: Option<OfficeNumber>,
}

impl UsageAnnexRecord {
    /// A row of `code` at `office` with every optional field empty, counts and units 0, 事業所コード 9999999999.
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
        let mut w = RecordWriter::new(FileKind::UsageAnnex, self.version, &self.user);
        w.set("作成年月日", format_date(self.created_on))
            .set("対象年月", self.month)
            .set("サービス事業所名", &self.office_name)
            .set("サービス事業所コード", self.office)
            .set("サテライト枝番", &self.satellite)
            .set("サービスコード", self.code);
        self.equipment.write(&mut w);
        w.set("単位数", self.units)
            .set_opt("割引後率", self.discount_rate)
            .set_opt("割引後単位数", self.discounted_units)
            .set("回数／日数", self.count)
            .set_opt("サービス単位／金額", self.service_units)
            .set_opt("給付管理単位数", self.managed_units)
            .set_opt("種類支給限度基準を超える単位数", self.over_kind_limit)
            .set_opt("種類支給限度基準内単位数", self.within_kind_limit)
            .set_opt("区分支給限度基準を超える単位数", self.over_limit)
            .set_opt("区分支給限度基準内単位数", self.within_limit)
            .set_opt("単位数単価", self.unit_price)
            .set_opt("費用総額（保険／事業対象分）", self.total_cost)
            .set_opt("給付率", self.benefit_rate)
            .set_opt("保険／事業費請求額", self.claim)
            .set_opt("定額利用者負担単価金額", self.fixed_copay)
            .set_opt("利用者負担（保険／事業対象分）", self.copay)
            .set_opt("利用者負担（全額負担分）", self.copay_full)
            .set_opt("前月までの利用日数", self.short_stay_days_before)
            .set_opt("当月の計画利用日数", self.short_stay_days_planned)
            .set_opt("累積利用日数", self.short_stay_days_cumulative)
            .set("３０日超区分", u8::from(self.over_30_days))
            .set_opt("事業所コード", self.summary_office)
            .set_opt("入力者コード", self.input_by)
            .set_opt("更新業者コード", self.updater);
        w.finish()
    }

    /// Reads a record of either layout, checking every field's format.
    pub fn from_fields(fields: &[&str]) -> Result<Self, RecordError> {
        let (version, r) = FieldReader::open(FileKind::UsageAnnex, fields)?;
        let int = |name| r.optional_integer::<u32>(name);
        let yen = |name| r.optional_integer::<u64>(name);
        Ok(Self {
            version,
            user: r.user()?,
            created_on: r.date("作成年月日")?,
            month: r.month("対象年月")?,
            office_name: r.text("サービス事業所名"),
            office: r.parse(
                "サービス事業所コード",
                "must be a 10-digit office number or 9999999999",
            )?,
            satellite: r.text("サテライト枝番"),
            code: r.parse(
                "サービスコード",
                "must be a service code, kind + AAAA/EEEE/ZZZZ, or 999999",
            )?,
            equipment: EquipmentItem::read(&r),
            units: r.integer("単位数")?,
            discount_rate: int("割引後率")?,
            discounted_units: int("割引後単位数")?,
            count: r.integer("回数／日数")?,
            service_units: int("サービス単位／金額")?,
            managed_units: int("給付管理単位数")?,
            over_kind_limit: int("種類支給限度基準を超える単位数")?,
            within_kind_limit: int("種類支給限度基準内単位数")?,
            over_limit: int("区分支給限度基準を超える単位数")?,
            within_limit: int("区分支給限度基準内単位数")?,
            unit_price: r.optional("単位数単価", "must be 99.99")?,
            total_cost: yen("費用総額（保険／事業対象分）")?,
            benefit_rate: int("給付率")?,
            claim: yen("保険／事業費請求額")?,
            fixed_copay: int("定額利用者負担単価金額")?,
            copay: yen("利用者負担（保険／事業対象分）")?,
            copay_full: yen("利用者負担（全額負担分）")?,
            short_stay_days_before: int("前月までの利用日数")?,
            short_stay_days_planned: int("当月の計画利用日数")?,
            short_stay_days_cumulative: int("累積利用日数")?,
            over_30_days: r.flag("３０日超区分")?,
            summary_office: r.optional("事業所コード", "must be 9999999999")?,
            input_by: r.optional_office("入力者コード")?,
            updater: r.optional_office("更新業者コード")?,
        })
    }
}
