//! 利用者補足情報: `UPHOSOKU`, spec §6.1.

use std::fmt;
use std::str::FromStr;

use careplan_core::{CareMonth, OfficeNumber, ServiceKind};
use time::Date;

use super::{
    CareLevel, CsvVersion, FieldReader, RecordError, Sex, UserKey, bare, format_date, opt, version_and_count,
};
use crate::csv_text::Field;

/// 認定状況区分 (spec §7.1 (2)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificationStatus {
    /// 1 申請中.
    Applying,
    /// 2 認定済.
    Certified,
}

impl FromStr for CertificationStatus {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "1" => Ok(CertificationStatus::Applying),
            "2" => Ok(CertificationStatus::Certified),
            _ => Err(()),
        }
    }
}

impl fmt::Display for CertificationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertificationStatus::Applying => "1",
            CertificationStatus::Certified => "2",
        })
    }
}

/// One per-kind limit slot (種類支給限度, fields 20–55 in nine slots of four).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindLimit {
    /// サービス種類コード (短期入所療養介護 is entered as 22).
    pub kind: ServiceKind,
    /// 支給限度基準額.
    pub limit: Option<u32>,
    /// 合計単位数.
    pub total: Option<u32>,
    /// 限度超単位数.
    pub over: Option<u32>,
}

/// The user supplement (利用者補足情報, `UPHOSOKU`): who the user is and their limits, linked either to
/// a month's usage sheet or to plan table 1. 63 fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSupplementRecord {
    /// 1 CSVバージョン.
    pub version: CsvVersion,
    /// 2–3: the user.
    pub user: UserKey,
    /// 4 居宅サービス計画作成（変更）日: the linked plan table 1; `None` writes `00000000`, the value of a
    /// supplement linked to a month's usage sheet.
    pub plan_date: Option<Date>,
    /// 5 利用者氏名フリガナ (free text).
    pub name_kana: String,
    /// 6 利用者氏名 (free text).
    pub name: String,
    /// 7 利用者性別.
    pub sex: Option<Sex>,
    /// 8 利用者生年月日.
    pub birth_date: Option<Date>,
    /// 9 利用者郵便番号 `XXX-XXXX`.
    pub postal_code: String,
    /// 10 利用者住所１ (free text).
    pub address1: String,
    /// 11 利用者住所２ (free text).
    pub address2: String,
    /// 12 利用者電話番号.
    pub phone: String,
    /// 13 認定日.
    pub certified_on: Option<Date>,
    /// 14 限度額適用開始年月日.
    pub limit_from: Option<Date>,
    /// 15 限度額適用終了年月日.
    pub limit_to: Option<Date>,
    /// 16 認定状況区分.
    pub certification: Option<CertificationStatus>,
    /// 17 要介護状態変更日 (a mid-month change of care level).
    pub level_changed_on: Option<Date>,
    /// 18 要介護状態区分.
    pub care_level: Option<CareLevel>,
    /// 19 区分支給限度基準額 (units).
    pub benefit_limit: Option<u32>,
    /// 20–55: per-kind limit slots, filled from slot 1 (at most nine).
    pub kind_limits: Vec<KindLimit>,
    /// 56 合計限度超単位数.
    pub over_limit_total: Option<u32>,
    /// 57 入所前月迄利用日数 (short-stay days before this month).
    pub short_stay_days_before: Option<u32>,
    /// 58 入所累積利用日数 (cumulative short-stay days).
    pub short_stay_days_cumulative: Option<u32>,
    /// 59 前回要介護状態区分.
    pub previous_care_level: Option<CareLevel>,
    /// 60 同意書受付業者.
    pub consent_office: Option<OfficeNumber>,
    /// 61 更新業者コード.
    pub updater: Option<OfficeNumber>,
    /// 63 対象年月: the linked usage sheet's month; `None` writes `000000`, the value of a supplement
    /// linked to plan table 1.
    pub month: Option<CareMonth>,
}

const KIND_LIMIT_SLOTS: usize = 9;
const FIRST_SLOT_FIELD: usize = 20;

impl UserSupplementRecord {
    /// Fields in the layout.
    pub const FIELD_COUNT: usize = 63;

    /// A supplement for `user` linked to the usage sheet of `month`, every other field empty.
    pub fn for_month(user: UserKey, month: CareMonth) -> Self {
        Self {
            version: CsvVersion::CURRENT,
            user,
            plan_date: None,
            name_kana: String::new(),
            name: String::new(),
            sex: None,
            birth_date: None,
            postal_code: String::new(),
            address1: String::new(),
            address2: String::new(),
            phone: String::new(),
            certified_on: None,
            limit_from: None,
            limit_to: None,
            certification: None,
            level_changed_on: None,
            care_level: None,
            benefit_limit: None,
            kind_limits: Vec::new(),
            over_limit_total: None,
            short_stay_days_before: None,
            short_stay_days_cumulative: None,
            previous_care_level: None,
            consent_office: None,
            updater: None,
            month: Some(month),
        }
    }

    /// The record's fields, in layout order. Slots past the ninth are not written.
    pub fn to_fields(&self) -> Vec<Field> {
        let date = |value: &Option<Date>| value.map_or(Field::Empty, |d| Field::code(format_date(d)));
        let mut fields = Vec::with_capacity(Self::FIELD_COUNT);
        fields.extend([
            Field::code(self.version),
            Field::code(&self.user.insurer),
            Field::code(&self.user.insured),
            Field::code(self.plan_date.map_or_else(|| "00000000".to_owned(), format_date)),
            Field::text(&self.name_kana),
            Field::text(&self.name),
            opt(&self.sex),
            date(&self.birth_date),
            bare(&self.postal_code),
            Field::text(&self.address1),
            Field::text(&self.address2),
            bare(&self.phone),
            date(&self.certified_on),
            date(&self.limit_from),
            date(&self.limit_to),
            opt(&self.certification),
            date(&self.level_changed_on),
            opt(&self.care_level),
            opt(&self.benefit_limit),
        ]);
        for slot in 0..KIND_LIMIT_SLOTS {
            match self.kind_limits.get(slot) {
                Some(limit) => fields.extend([
                    Field::code(limit.kind),
                    opt(&limit.limit),
                    opt(&limit.total),
                    opt(&limit.over),
                ]),
                None => fields.extend(std::iter::repeat_n(Field::Empty, 4)),
            }
        }
        fields.extend([
            opt(&self.over_limit_total),
            opt(&self.short_stay_days_before),
            opt(&self.short_stay_days_cumulative),
            opt(&self.previous_care_level),
            opt(&self.consent_office),
            opt(&self.updater),
            Field::Empty,
            Field::code(self.month.map_or_else(|| "000000".to_owned(), |m| m.to_string())),
        ]);
        fields
    }

    /// Reads a record, checking every field's format.
    pub fn from_fields(fields: &[&str]) -> Result<Self, RecordError> {
        let (version, _) = version_and_count(fields, Self::FIELD_COUNT, Self::FIELD_COUNT)?;
        let r = FieldReader::new(fields);
        let level = |number, name| r.optional(number, name, "must be 06, 12, 13 or 21–25");
        let mut kind_limits = Vec::new();
        for slot in 0..KIND_LIMIT_SLOTS {
            let first = FIRST_SLOT_FIELD + slot * 4;
            if (first..first + 4).all(|n| r.raw(n).is_empty()) {
                continue;
            }
            kind_limits.push(KindLimit {
                kind: r.parse(first, "サービス種類コード", "must be a 2-character service kind")?,
                limit: r.optional_integer(first + 1, "支給限度基準額")?,
                total: r.optional_integer(first + 2, "合計単位数")?,
                over: r.optional_integer(first + 3, "限度超単位数")?,
            });
        }
        Ok(Self {
            version,
            user: UserKey::from_fields(fields)?,
            plan_date: match r.raw(4) {
                "00000000" => None,
                _ => Some(r.date(4, "居宅サービス計画作成（変更）日")?),
            },
            name_kana: r.text(5),
            name: r.text(6),
            sex: r.optional(7, "利用者性別", "must be 1 or 2")?,
            birth_date: r.optional_date(8, "利用者生年月日")?,
            postal_code: r.text(9),
            address1: r.text(10),
            address2: r.text(11),
            phone: r.text(12),
            certified_on: r.optional_date(13, "認定日")?,
            limit_from: r.optional_date(14, "限度額適用開始年月日")?,
            limit_to: r.optional_date(15, "限度額適用終了年月日")?,
            certification: r.optional(16, "認定状況区分", "must be 1 or 2")?,
            level_changed_on: r.optional_date(17, "要介護状態変更日")?,
            care_level: level(18, "要介護状態区分")?,
            benefit_limit: r.optional_integer(19, "区分支給限度基準額")?,
            kind_limits,
            over_limit_total: r.optional_integer(56, "合計限度超単位数")?,
            short_stay_days_before: r.optional_integer(57, "入所前月迄利用日数")?,
            short_stay_days_cumulative: r.optional_integer(58, "入所累積利用日数")?,
            previous_care_level: level(59, "前回要介護状態区分")?,
            consent_office: r.optional_office(60, "同意書受付業者")?,
            updater: r.optional_office(61, "更新業者コード")?,
            month: match r.raw(63) {
                "000000" => None,
                _ => Some(r.month(63, "対象年月")?),
            },
        })
    }
}
