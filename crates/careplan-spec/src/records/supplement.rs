//! 利用者補足情報: `UPHOSOKU`, spec §6.1.

use std::fmt;
use std::str::FromStr;

use careplan_core::{CareMonth, OfficeNumber, ServiceKind};
use time::Date;

use super::{CareLevel, CsvVersion, FieldReader, RecordError, RecordWriter, Sex, UserKey, format_date};
use crate::FileKind;
use crate::csv_text::Field;
use crate::layout::{KIND_LIMIT_SLOTS, KindLimitField, slot_field};

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
    /// CSVバージョン.
    pub version: CsvVersion,
    /// 保険者番号 + 被保険者番号: the user.
    pub user: UserKey,
    /// 居宅サービス計画作成（変更）日: the linked plan table 1; `None` writes `00000000`, the value of a
    /// supplement linked to a month's usage sheet.
    pub plan_date: Option<Date>,
    /// 利用者氏名フリガナ (free text).
    pub name_kana: String,
    /// 利用者氏名 (free text).
    pub name: String,
    /// 利用者性別.
    pub sex: Option<Sex>,
    /// 利用者生年月日.
    pub birth_date: Option<Date>,
    /// 利用者郵便番号 `XXX-XXXX`.
    pub postal_code: String,
    /// 利用者住所１ (free text).
    pub address1: String,
    /// 利用者住所２ (free text).
    pub address2: String,
    /// 利用者電話番号.
    pub phone: String,
    /// 認定日.
    pub certified_on: Option<Date>,
    /// 限度額適用開始年月日.
    pub limit_from: Option<Date>,
    /// 限度額適用終了年月日.
    pub limit_to: Option<Date>,
    /// 認定状況区分.
    pub certification: Option<CertificationStatus>,
    /// 要介護状態変更日 (a mid-month change of care level).
    pub level_changed_on: Option<Date>,
    /// 要介護状態区分.
    pub care_level: Option<CareLevel>,
    /// 区分支給限度基準額 (units).
    pub benefit_limit: Option<u32>,
    /// Per-kind limit slots, filled from slot 1 (at most nine).
    pub kind_limits: Vec<KindLimit>,
    /// 合計限度超単位数.
    pub over_limit_total: Option<u32>,
    /// 入所前月迄利用日数 (short-stay days before this month).
    pub short_stay_days_before: Option<u32>,
    /// 入所累積利用日数 (cumulative short-stay days).
    pub short_stay_days_cumulative: Option<u32>,
    /// 前回要介護状態区分.
    pub previous_care_level: Option<CareLevel>,
    /// 同意書受付業者.
    pub consent_office: Option<OfficeNumber>,
    /// 更新業者コード.
    pub updater: Option<OfficeNumber>,
    /// 対象年月: the linked usage sheet's month; `None` writes `000000`, the value of a supplement
    /// linked to plan table 1.
    pub month: Option<CareMonth>,
}

impl UserSupplementRecord {
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
        let date = |value: Option<Date>| value.map(format_date);
        let mut w = RecordWriter::new(FileKind::UserSupplement, self.version, &self.user);
        w.set(
            "居宅サービス計画作成（変更）日",
            self.plan_date.map_or_else(|| "00000000".to_owned(), format_date),
        )
        .set("利用者氏名フリガナ", &self.name_kana)
        .set("利用者氏名", &self.name)
        .set_opt("利用者性別", self.sex)
        .set_opt("利用者生年月日", date(self.birth_date))
        .set("利用者郵便番号", &self.postal_code)
        .set("利用者住所１", &self.address1)
        .set("利用者住所２", &self.address2)
        .set("利用者電話番号", &self.phone)
        .set_opt("認定日", date(self.certified_on))
        .set_opt("限度額適用開始年月日", date(self.limit_from))
        .set_opt("限度額適用終了年月日", date(self.limit_to))
        .set_opt("認定状況区分", self.certification)
        .set_opt("要介護状態変更日", date(self.level_changed_on))
        .set_opt("要介護状態区分", self.care_level)
        .set_opt("区分支給限度基準額", self.benefit_limit);
        for (slot, limit) in self.kind_limits.iter().take(KIND_LIMIT_SLOTS).enumerate() {
            let [kind, amount, total, over] = KindLimitField::ALL.map(|item| slot_field(slot, item));
            w.set(&kind, limit.kind)
                .set_opt(&amount, limit.limit)
                .set_opt(&total, limit.total)
                .set_opt(&over, limit.over);
        }
        w.set_opt("合計限度超単位数", self.over_limit_total)
            .set_opt("入所前月迄利用日数", self.short_stay_days_before)
            .set_opt("入所累積利用日数", self.short_stay_days_cumulative)
            .set_opt("前回要介護状態区分", self.previous_care_level)
            .set_opt("同意書受付業者", self.consent_office)
            .set_opt("更新業者コード", self.updater)
            .set(
                "対象年月",
                self.month.map_or_else(|| "000000".to_owned(), |m| m.to_string()),
            );
        w.finish()
    }

    /// Reads a record, checking every field's format.
    pub fn from_fields(fields: &[&str]) -> Result<Self, RecordError> {
        let (version, r) = FieldReader::open(FileKind::UserSupplement, fields)?;
        let level = |name| r.optional(name, "must be 06, 12, 13 or 21–25");
        let mut kind_limits = Vec::new();
        for slot in 0..KIND_LIMIT_SLOTS {
            let [kind, amount, total, over] = KindLimitField::ALL.map(|item| slot_field(slot, item));
            if [&kind, &amount, &total, &over]
                .iter()
                .all(|name| r.raw(name).is_empty())
            {
                continue;
            }
            kind_limits.push(KindLimit {
                kind: r.parse(&kind, "must be a 2-character service kind")?,
                limit: r.optional_integer(&amount)?,
                total: r.optional_integer(&total)?,
                over: r.optional_integer(&over)?,
            });
        }
        Ok(Self {
            version,
            user: r.user()?,
            plan_date: match r.raw("居宅サービス計画作成（変更）日") {
                "00000000" => None,
                _ => Some(r.date("居宅サービス計画作成（変更）日")?),
            },
            name_kana: r.text("利用者氏名フリガナ"),
            name: r.text("利用者氏名"),
            sex: r.optional("利用者性別", "must be 1 or 2")?,
            birth_date: r.optional_date("利用者生年月日")?,
            postal_code: r.text("利用者郵便番号"),
            address1: r.text("利用者住所１"),
            address2: r.text("利用者住所２"),
            phone: r.text("利用者電話番号"),
            certified_on: r.optional_date("認定日")?,
            limit_from: r.optional_date("限度額適用開始年月日")?,
            limit_to: r.optional_date("限度額適用終了年月日")?,
            certification: r.optional("認定状況区分", "must be 1 or 2")?,
            level_changed_on: r.optional_date("要介護状態変更日")?,
            care_level: level("要介護状態区分")?,
            benefit_limit: r.optional_integer("区分支給限度基準額")?,
            kind_limits,
            over_limit_total: r.optional_integer("合計限度超単位数")?,
            short_stay_days_before: r.optional_integer("入所前月迄利用日数")?,
            short_stay_days_cumulative: r.optional_integer("入所累積利用日数")?,
            previous_care_level: level("前回要介護状態区分")?,
            consent_office: r.optional_office("同意書受付業者")?,
            updater: r.optional_office("更新業者コード")?,
            month: match r.raw("対象年月") {
                "000000" => None,
                _ => Some(r.month("対象年月")?),
            },
        })
    }
}
