//! Record layouts (CSVファイルレイアウト定義書, spec §6): every field of the 居宅 exchange files and of the
//! 介護予防 files with its Japanese name, maximum length, presence and format, for V4 (CSVバージョン
//! 202504/202407) and V3 (202208 and earlier: 第6表 without fields 16–18, 第7表 without fields 10–12).

use std::sync::LazyLock;

use crate::FileKind;

/// Whether a field must hold a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// 必須 (○): required.
    Required,
    /// Probably required: the source's ○ marks cannot be placed with certainty (spec §11); empty is a
    /// warning.
    Recommended,
    /// Optional.
    Optional,
}

/// The value format of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSVバージョン (YYYYMM, checked by the version rules).
    Version,
    /// 保険者番号: 6 digits.
    Insurer,
    /// 被保険者番号: 10 digits or `H` + 9 digits.
    Insured,
    /// `YYYYMMDD`.
    Date,
    /// `YYYYMMDD`, or `00000000` (a user supplement linked to a month's sheets).
    DateOrZero,
    /// `YYYYMM`.
    Month,
    /// `YYYYMM`, or `000000` (a user supplement linked to plan tables).
    MonthOrZero,
    /// `HHMM`.
    Time,
    /// `HHMM`, or `9999` for a service shown without a time.
    ServiceTime,
    /// An office number: 10 digits.
    Office,
    /// An office number, or `9999999999` (the 7表 total row and field 34).
    OfficeOrAllNines,
    /// A service kind: `[0-9A-Z]{2}`.
    Kind,
    /// A service code: `[0-9A-Z]{6}`.
    ServiceCode,
    /// A 7表 service code: a service code, kind + `AAAA`/`EEEE`/`ZZZZ`, or `999999`.
    AnnexServiceCode,
    /// 日割対象日: 31 characters of `0`/`1`.
    Proration,
    /// An integer: half-width digits, no sign.
    Integer,
    /// A number of a numbered list (課題ＮＯ and the like): an integer from 1.
    Ordinal,
    /// 単位数単価: `99.99`.
    UnitPrice,
    /// A postal code `XXX-XXXX`.
    Postal,
    /// One of the listed codes.
    Code(&'static [&'static str]),
    /// Free text (フリーテキスト): any text, quoted in the file.
    FreeText,
    /// Other text (phone numbers, TAIS codes, satellite ids).
    Text,
    /// 識別子: unused, always empty.
    Unused,
}

/// One field of a layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// 項目名, e.g. `被保険者番号`.
    pub name: String,
    /// 項目長: maximum length in characters (digits for numbers); `None` for `―`.
    pub max_len: Option<usize>,
    /// Presence.
    pub presence: Presence,
    /// Format.
    pub format: Format,
}

/// 要介護状態区分 (spec §7.1 (3)).
pub const CARE_LEVELS: &[&str] = &["06", "12", "13", "21", "22", "23", "24", "25"];
const SEX: &[&str] = &["1", "2"];
const CERTIFICATION_STATUS: &[&str] = &["1", "2"];
const PLAN_CLASS: &[&str] = &["11", "12", "21", "51", "52", "53", "54"];
const LIVING_SUPPORT_REASON: &[&str] = &["1", "2", "3"];
const INSURANCE_SCOPE: &[&str] = &["Y", "N"];
const WEEKDAY: &[&str] = &["1", "2", "3", "4", "5", "6", "7"];
const OVER_30_DAYS: &[&str] = &["0", "1"];
// 介護予防 code tables (spec §6.9–§6.15).
const PREVENTION_PLAN_TYPE: &[&str] = &["1", "2"];
const CONSIGNMENT: &[&str] = &["1", "2"];
const CONSULTATION_METHOD: &[&str] = &["01", "02", "03"];
const CONSULTATION_COUNT: &[&str] = &["01", "02"];
const USER_SITUATION: &[&str] = &["01", "02"];
const DISABILITY_INDEPENDENCE: &[&str] = &["01", "11", "12", "21", "22", "31", "32", "41", "42"];
const DEMENTIA_INDEPENDENCE: &[&str] = &["01", "02", "03", "04", "05", "06", "07", "08"];
/// UPKIHON's 要介護状態区分: `01` 非該当 instead of `06`.
const BASIC_CARE_LEVELS: &[&str] = &["01", "12", "13", "21", "22", "23", "24", "25"];
const CHECKLIST_RESULT: &[&str] = &["1", "2"];
const APPLIES: &[&str] = &["1", "0"];
const RESIDENCE: &[&str] = &["01", "02", "03", "04", "05", "06", "07", "08"];
const YES_NO: &[&str] = &["1", "2"];
const PHYSICIAN_FLAG: &[&str] = &["1", "2"];
const COURSE: &[&str] = &["01", "02", "03"];
const SUPPORT_LEVEL: &[&str] = &["1", "2", "3"];

use Format::*;
use Presence::{Optional as O, Recommended as R, Required as Q};

fn field(name: &str, max_len: Option<usize>, presence: Presence, format: Format) -> FieldSpec {
    FieldSpec {
        name: name.to_owned(),
        max_len,
        presence,
        format,
    }
}

/// Builds a layout from `(name, length, presence, format)` rows; length 0 stands for `―`.
fn rows(rows: &[(&str, usize, Presence, Format)]) -> Vec<FieldSpec> {
    rows.iter()
        .map(|&(name, len, presence, format)| field(name, (len > 0).then_some(len), presence, format))
        .collect()
}

fn common() -> Vec<FieldSpec> {
    rows(&[
        ("CSVバージョン", 6, Q, Version),
        ("保険者番号", 6, Q, Insurer),
        ("被保険者番号", 10, Q, Insured),
    ])
}

fn user_supplement() -> Vec<FieldSpec> {
    let mut fields = common();
    fields.extend(rows(&[
        ("居宅サービス計画作成（変更）日", 8, Q, DateOrZero),
        ("利用者氏名フリガナ", 0, R, FreeText),
        ("利用者氏名", 0, R, FreeText),
        ("利用者性別", 1, R, Code(SEX)),
        ("利用者生年月日", 8, R, Date),
        ("利用者郵便番号", 8, O, Postal),
        ("利用者住所１", 0, O, FreeText),
        ("利用者住所２", 0, O, FreeText),
        ("利用者電話番号", 15, O, Text),
        ("認定日", 8, O, Date),
        ("限度額適用開始年月日", 8, O, Date),
        ("限度額適用終了年月日", 8, O, Date),
        ("認定状況区分", 1, O, Code(CERTIFICATION_STATUS)),
        ("要介護状態変更日", 8, O, Date),
        ("要介護状態区分", 2, O, Code(CARE_LEVELS)),
        ("区分支給限度基準額", 7, O, Integer),
    ]));
    for slot in 0..KIND_LIMIT_SLOTS {
        let [kind, limit, total, over] = KindLimitField::ALL.map(|item| slot_field(slot, item));
        fields.push(field(&kind, Some(2), O, Kind));
        fields.push(field(&limit, Some(7), O, Integer));
        fields.push(field(&total, Some(7), O, Integer));
        fields.push(field(&over, Some(7), O, Integer));
    }
    fields.extend(rows(&[
        ("合計限度超単位数", 7, O, Integer),
        ("入所前月迄利用日数", 5, O, Integer),
        ("入所累積利用日数", 5, O, Integer),
        ("前回要介護状態区分", 2, O, Code(CARE_LEVELS)),
        ("同意書受付業者", 10, O, Office),
        ("更新業者コード", 10, O, Office),
        ("識別子", 1, O, Unused),
        ("対象年月", 6, Q, MonthOrZero),
    ]));
    fields
}

/// The user supplement's slots of limits per service kind (サービス種類別の支給限度, 定義書 利用者補足情報
/// №20–55): nine slots of four fields, filled from slot 1.
pub const KIND_LIMIT_SLOTS: usize = 9;

/// The four fields of a kind-limit slot, in their order within the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindLimitField {
    /// サービス種類コード.
    Kind,
    /// 支給限度基準額.
    Limit,
    /// 合計単位数.
    Total,
    /// 限度超単位数.
    Over,
}

impl KindLimitField {
    /// The four, in slot order.
    pub const ALL: [KindLimitField; 4] = [
        KindLimitField::Kind,
        KindLimitField::Limit,
        KindLimitField::Total,
        KindLimitField::Over,
    ];

    fn name(self) -> &'static str {
        match self {
            KindLimitField::Kind => "サービス種類コード",
            KindLimitField::Limit => "支給限度基準額",
            KindLimitField::Total => "合計単位数",
            KindLimitField::Over => "限度超単位数",
        }
    }
}

/// The 項目名 of `item` in kind-limit slot `slot` (0-based): the slot's full-width number, then the item's
/// name, e.g. `１サービス種類コード`.
pub fn slot_field(slot: usize, item: KindLimitField) -> String {
    const DIGITS: [&str; KIND_LIMIT_SLOTS] = ["１", "２", "３", "４", "５", "６", "７", "８", "９"];
    format!("{}{}", DIGITS.get(slot).copied().unwrap_or("?"), item.name())
}

fn plan_table_1() -> Vec<FieldSpec> {
    let mut fields = common();
    fields.extend(rows(&[
        ("作成年月日", 8, Q, Date),
        ("利用者郵便番号", 8, O, Postal),
        ("利用者住所１", 0, O, FreeText),
        ("利用者住所２", 0, O, FreeText),
        ("居宅サービス計画作成者氏名", 0, Q, FreeText),
        ("介護支援事業者名", 0, Q, FreeText),
        ("介護支援事業者郵便番号", 8, O, Postal),
        ("介護支援事業者住所１", 0, O, FreeText),
        ("介護支援事業者住所２", 0, O, FreeText),
        ("介護支援事業者コード", 10, Q, Office),
        ("居宅サービス計画作成（変更）日", 8, Q, Date),
        ("初回居宅サービス計画作成日", 8, Q, Date),
        ("計画書区分", 2, O, Code(PLAN_CLASS)),
        ("認定状況区分", 1, O, Code(CERTIFICATION_STATUS)),
        ("認定日", 8, O, Date),
        ("認定有効期間開始日", 8, O, Date),
        ("認定有効期間終了日", 8, O, Date),
        ("要介護状態区分", 2, O, Code(CARE_LEVELS)),
        (
            "利用者及び家族の生活に対する意向を踏まえた課題分析の結果",
            0,
            O,
            FreeText,
        ),
        ("介護認定審査会の意見及びサービスの種類の指定", 0, O, FreeText),
        ("総合的な援助の方針", 0, O, FreeText),
        ("生活援助中心型の算定理由", 1, O, Code(LIVING_SUPPORT_REASON)),
        ("その他理由", 0, O, FreeText),
        ("更新業者コード", 10, O, Office),
        ("識別子", 1, O, Unused),
    ]));
    fields
}

fn plan_table_2() -> Vec<FieldSpec> {
    let mut fields = common();
    fields.extend(rows(&[
        ("居宅計画書作成年月日", 8, Q, Date),
        ("居宅サービス計画作成（変更）日", 8, Q, Date),
        ("課題ＮＯ", 2, O, Ordinal),
        ("課題", 0, O, FreeText),
        ("援助目標ＮＯ", 2, O, Ordinal),
        ("長期目標", 0, O, FreeText),
        ("短期目標", 0, O, FreeText),
        ("長期期間", 0, O, FreeText),
        ("短期期間", 0, O, FreeText),
        ("援助内容ＮＯ", 2, O, Ordinal),
        ("サービス内容", 0, O, FreeText),
        ("保険対象区分", 1, O, Code(INSURANCE_SCOPE)),
        ("サービス種別", 0, O, FreeText),
        ("サービス事業者コード", 10, O, Office),
        ("サービス事業所名", 0, O, FreeText),
        ("頻度", 0, O, FreeText),
        ("実施期間", 0, O, FreeText),
        ("更新業者コード", 10, O, Office),
        ("識別子", 1, O, Unused),
    ]));
    fields
}

fn plan_table_3() -> Vec<FieldSpec> {
    let mut fields = common();
    fields.extend(rows(&[
        ("週間サービス計画表作成年月日", 8, Q, Date),
        ("居宅サービス計画作成（変更）日", 8, Q, Date),
        ("介護サービス内容", 0, O, FreeText),
        ("曜日", 1, O, Code(WEEKDAY)),
        ("開始時間", 4, O, Time),
        ("終了時間", 4, O, Time),
        ("主な日常生活上の活動", 0, O, FreeText),
        ("開始時間（活動）", 4, O, Time),
        ("終了時間（活動）", 4, O, Time),
        ("週単位以外のサービス", 0, O, FreeText),
    ]));
    fields
}

fn usage_sheet(v4: bool) -> Vec<FieldSpec> {
    let mut fields = common();
    fields.extend(rows(&[
        ("作成年月日", 8, Q, Date),
        ("対象年月", 6, Q, Month),
        ("プラン担当業者コード", 10, R, Office),
        ("プラン担当者名", 0, R, FreeText),
        ("単位数", 6, O, Integer),
        ("前月までの短期入所利用日数", 5, O, Integer),
        ("サービス利用日", 8, Q, Date),
        ("日割対象日", 31, O, Proration),
        ("サービス開始時刻", 4, Q, ServiceTime),
        ("サービス終了時刻", 4, Q, ServiceTime),
        ("サービス回数", 2, Q, Integer),
        ("サービスコード", 6, Q, ServiceCode),
    ]));
    if v4 {
        fields.extend(rows(&[
            ("TAISコード", 12, O, Text),
            ("福祉用具届出コード", 12, O, Text),
            ("用具名称（機種名）", 0, O, FreeText),
        ]));
    }
    fields.extend(rows(&[
        ("明細判別コード", 2, O, Integer),
        ("サービス事業者コード", 10, Q, Office),
        ("サービス事業所名", 0, O, FreeText),
        ("サテライト枝番", 2, O, Text),
        ("３０日超区分", 1, Q, Code(OVER_30_DAYS)),
        ("更新業者コード", 10, O, Office),
        ("識別子", 1, O, Unused),
    ]));
    fields
}

fn usage_annex(v4: bool) -> Vec<FieldSpec> {
    let mut fields = common();
    fields.extend(rows(&[
        ("作成年月日", 8, Q, Date),
        ("対象年月", 6, Q, Month),
        ("サービス事業所名", 0, O, FreeText),
        ("サービス事業所コード", 10, Q, OfficeOrAllNines),
        ("サテライト枝番", 2, O, Text),
        ("サービスコード", 6, Q, AnnexServiceCode),
    ]));
    if v4 {
        fields.extend(rows(&[
            ("TAISコード", 12, O, Text),
            ("福祉用具届出コード", 12, O, Text),
            ("用具名称（機種名）", 0, O, FreeText),
        ]));
    }
    fields.extend(rows(&[
        ("単位数", 6, Q, Integer),
        ("割引後率", 5, O, Integer),
        ("割引後単位数", 6, O, Integer),
        ("回数／日数", if v4 { 3 } else { 2 }, Q, Integer),
        // 5 in the re-aligned extraction; 6 accepted to be safe (spec §11).
        ("サービス単位／金額", 6, O, Integer),
        ("給付管理単位数", 6, O, Integer),
        ("種類支給限度基準を超える単位数", 6, O, Integer),
        ("種類支給限度基準内単位数", 6, O, Integer),
        ("区分支給限度基準を超える単位数", 6, O, Integer),
        ("区分支給限度基準内単位数", 6, O, Integer),
        ("単位数単価", 6, O, UnitPrice),
        ("費用総額（保険／事業対象分）", 6, O, Integer),
        ("給付率", 6, O, Integer),
        ("保険／事業費請求額", 6, O, Integer),
        ("定額利用者負担単価金額", 6, O, Integer),
        ("利用者負担（保険／事業対象分）", 6, O, Integer),
        ("利用者負担（全額負担分）", 6, O, Integer),
        // 2 in the V4.1 extraction, 5 since V3.2 (spec §11): accept 5.
        ("前月までの利用日数", 5, O, Integer),
        ("当月の計画利用日数", 2, O, Integer),
        ("累積利用日数", 5, O, Integer),
        ("３０日超区分", 1, Q, Code(OVER_30_DAYS)),
        ("事業所コード", 10, O, OfficeOrAllNines),
        ("入力者コード", 10, O, Office),
        ("更新業者コード", 10, O, Office),
        ("識別子", 1, O, Unused),
    ]));
    fields
}

/// 利用者基本情報 (`UPKIHON`, spec §6.9): ○○ on 1–5 and 14–17, ○ on 6.
fn prevention_basic() -> Vec<FieldSpec> {
    let mut fields = common();
    fields.extend(rows(&[
        ("相談日", 8, Q, Date),
        ("計画種類", 1, Q, Code(PREVENTION_PLAN_TYPE)),
        ("委託の有無", 1, R, Code(CONSIGNMENT)),
        ("作成担当者", 0, O, FreeText),
        ("相談方法", 2, O, Code(CONSULTATION_METHOD)),
        ("相談方法(その他の内容)", 0, O, FreeText),
        ("相談回数", 2, O, Code(CONSULTATION_COUNT)),
        ("前回相談日", 8, O, Date),
        ("利用者の現況", 2, O, Code(USER_SITUATION)),
        ("利用者の現況(状況補足)", 0, O, FreeText),
        ("利用者氏名ﾌﾘｶﾞﾅ", 0, Q, FreeText),
        ("利用者氏名", 0, Q, FreeText),
        ("利用者性別", 1, Q, Code(SEX)),
        ("利用者生年月日", 8, Q, Date),
        ("利用者住所", 0, O, FreeText),
        ("利用者電話番号", 15, O, Text),
        ("利用者Fax番号", 15, O, Text),
        ("障害高齢者の日常生活自立度", 2, O, Code(DISABILITY_INDEPENDENCE)),
        ("認知症高齢者の日常生活自立度", 2, O, Code(DEMENTIA_INDEPENDENCE)),
        ("要介護状態区分", 2, O, Code(BASIC_CARE_LEVELS)),
        ("認定有効期限開始日", 8, O, Date),
        ("認定有効期間終了日", 8, O, Date),
        ("前回の介護度", 2, O, Code(BASIC_CARE_LEVELS)),
        ("基本チェックリスト記入結果", 1, O, Code(CHECKLIST_RESULT)),
        ("基本チェックリスト記入日", 8, O, Date),
        ("障害等認定(身障)", 1, O, Code(APPLIES)),
        ("障害等認定(療育)", 1, O, Code(APPLIES)),
        ("障害等認定(精神)", 1, O, Code(APPLIES)),
        ("障害等認定(難病)", 1, O, Code(APPLIES)),
        ("障害等認定特記事項", 0, O, FreeText),
        ("居住形態", 2, O, Code(RESIDENCE)),
        ("自室の階数", 2, O, Integer),
        ("住宅改修の有無", 1, O, Code(YES_NO)),
        ("経済状況(国民年金)", 1, O, Code(APPLIES)),
        ("経済状況(厚生年金)", 1, O, Code(APPLIES)),
        ("経済状況(障害年金)", 1, O, Code(APPLIES)),
        ("経済状況(生活保護)", 1, O, Code(APPLIES)),
        ("経済状況詳細", 0, O, FreeText),
        ("来所者(相談者)氏名", 0, O, FreeText),
        ("来所者(相談者)住所", 0, O, FreeText),
        ("来所者(相談者)電話番号", 15, O, Text),
        ("来所者(相談者)続柄", 0, O, FreeText),
    ]));
    const DIGITS: [&str; 4] = ["1", "2", "3", "4"];
    for n in DIGITS {
        fields.push(field(&format!("{n} 緊急連絡先 氏名"), None, O, FreeText));
        fields.push(field(&format!("{n} 緊急連絡先 続柄"), None, O, FreeText));
        fields.push(field(&format!("{n} 緊急連絡先 住所"), None, O, FreeText));
        fields.push(field(&format!("{n} 緊急連絡先 電話番号"), Some(15), O, Text));
    }
    fields.extend(rows(&[
        ("家族構成 画像ファイル名", 0, O, Text),
        ("家族関係等の状況", 0, O, FreeText),
        ("今までの生活", 0, O, FreeText),
        ("１日の生活・すごし方(生活全般)", 0, O, FreeText),
        ("趣味・楽しみ・特技", 0, O, FreeText),
        ("友人・地域との関係", 0, O, FreeText),
        ("現在利用している公的サービス", 0, O, FreeText),
        ("現在利用している非公的サービス", 0, O, FreeText),
        ("同意日", 8, O, Date),
        ("同意者氏名", 0, O, FreeText),
    ]));
    fields
}

/// 利用者基本情報 別表1 タイムスケジュール (`UPKIHON_SUB1`, spec §6.11).
fn prevention_schedule() -> Vec<FieldSpec> {
    let mut fields = common();
    fields.extend(rows(&[
        ("相談日", 8, Q, Date),
        ("時間", 0, O, FreeText),
        ("本人の生活状況", 0, O, FreeText),
        ("介護者・家族の生活状況", 0, O, FreeText),
    ]));
    fields
}

/// 利用者基本情報 別表2 現病歴・既往歴 (`UPKIHON_SUB2`, spec §6.12).
fn prevention_history() -> Vec<FieldSpec> {
    let mut fields = common();
    fields.extend(rows(&[
        ("相談日", 8, Q, Date),
        ("年月日", 0, O, FreeText),
        ("病名", 0, O, FreeText),
        ("医療機関・医師名", 0, O, FreeText),
        ("主治医・意見作成者フラグ", 1, O, Code(PHYSICIAN_FLAG)),
        ("医療機関・医師電話番号", 15, O, Text),
        ("経過", 2, O, Code(COURSE)),
        ("治療中の内容", 0, O, FreeText),
    ]));
    fields
}

/// 介護予防サービス・支援計画書 (`UPYOBO`, spec §6.13): ○○ on 1–5 and 8, ○ on 6.
fn prevention_plan() -> Vec<FieldSpec> {
    let mut fields = common();
    fields.extend(rows(&[
        ("計画作成(変更)日", 8, Q, Date),
        ("計画種類", 1, Q, Code(PREVENTION_PLAN_TYPE)),
        ("委託の有無", 1, R, Code(CONSIGNMENT)),
        ("整理番号", 0, O, FreeText),
        ("利用者名", 0, Q, FreeText),
        ("認定年月日", 8, O, Date),
        ("認定有効期間開始日", 8, O, Date),
        ("認定有効期間終了日", 8, O, Date),
        ("計画書区分", 2, O, Code(PLAN_CLASS)),
        ("認定状況区分", 1, O, Code(CERTIFICATION_STATUS)),
        ("要支援状態区分", 1, O, Code(SUPPORT_LEVEL)),
        ("計画作成者氏名（地域包括支援センター担当者名）", 0, O, FreeText),
        ("計画作成者氏名（担当介護支援専門員名）", 0, O, FreeText),
        ("計画作成者事業者・事業所名", 0, O, FreeText),
        ("計画作成者事業者・事業所住所", 0, O, FreeText),
        ("計画作成者事業者・事業所電話番号", 15, O, Text),
        ("初回作成日", 8, O, Date),
        ("担当地域包括支援センター", 0, O, FreeText),
        ("目標とする生活(1日)", 0, O, FreeText),
        ("目標とする生活(1年)", 0, O, FreeText),
    ]));
    for area in [
        "【運動・移動】",
        "【日常生活(家庭生活)】",
        "【社会参加、対人関係・コミュニケーション】",
        "【健康管理】",
    ] {
        fields.push(field(&format!("{area}現在の状況"), None, O, FreeText));
        fields.push(field(&format!("{area}本人・家族の意欲・意向"), None, O, FreeText));
        fields.push(field(
            &format!("{area}領域における課題の有無"),
            Some(1),
            O,
            Code(YES_NO),
        ));
        fields.push(field(
            &format!("{area}領域における課題（背景・原因）"),
            None,
            O,
            FreeText,
        ));
    }
    fields.extend(rows(&[
        ("健康状態の留意点", 0, O, FreeText),
        ("妥当な支援の実施に向けた方針", 0, O, FreeText),
        ("総合的な方針", 0, O, FreeText),
    ]));
    const AREAS: [&str; 6] = [
        "運動不足",
        "栄養改善",
        "口腔内ケア",
        "閉じこもり予防",
        "物忘れ予防",
        "うつ予防",
    ];
    for area in AREAS {
        fields.push(field(
            &format!("基本チェックリストの該当数({area})"),
            Some(1),
            O,
            Integer,
        ));
    }
    for area in AREAS {
        fields.push(field(
            &format!("事業プログラムの要否({area})"),
            Some(1),
            O,
            Code(YES_NO),
        ));
    }
    fields.extend(rows(&[
        ("地域包括支援センター意見", 0, O, FreeText),
        ("同意日", 8, O, Date),
        ("同意者氏名", 0, O, FreeText),
    ]));
    fields
}

/// 介護予防サービス・支援計画書（別表）支援計画 (`UPYOBO_SUB`, spec §6.15).
fn prevention_plan_support() -> Vec<FieldSpec> {
    let mut fields = common();
    fields.extend(rows(&[
        ("計画作成(変更)日", 8, Q, Date),
        ("課題ＮＯ", 2, O, Integer),
        ("総合的課題", 0, O, FreeText),
        ("課題に対する目標と具体策の提案", 0, O, FreeText),
        ("具体策についての意向 本人・家族", 0, O, FreeText),
        ("目標", 0, O, FreeText),
        ("支援計画ＮＯ", 2, O, Integer),
        ("【支援計画】目標についての支援のポイント", 0, O, FreeText),
        (
            "【支援計画】本人等のセルフケアや家族の支援、インフォーマルサービス",
            0,
            O,
            FreeText,
        ),
        ("【支援計画】介護保険サービス又は地域支援事業", 0, O, FreeText),
        ("利用サービスＮＯ", 2, O, Integer),
        ("【利用サービス】サービス種別", 0, O, FreeText),
        ("【利用サービス】事業所(利用先)", 0, O, FreeText),
        ("【利用サービス】期間", 0, O, FreeText),
    ]));
    fields
}

fn deletion(key: (&str, usize, Format), extra: &[(&str, usize, Presence, Format)]) -> Vec<FieldSpec> {
    let mut fields = common();
    fields.push(field(key.0, Some(key.1), Q, key.2));
    fields.extend(rows(extra));
    fields
}

struct Layouts {
    v4: Vec<(FileKind, Vec<FieldSpec>)>,
    v3: Vec<(FileKind, Vec<FieldSpec>)>,
}

fn build(v4: bool) -> Vec<(FileKind, Vec<FieldSpec>)> {
    vec![
        (FileKind::UserSupplement, user_supplement()),
        (FileKind::PlanTable1, plan_table_1()),
        (
            FileKind::PlanTable1Deletion,
            deletion(("居宅サービス計画作成（変更）日", 8, Date), &[]),
        ),
        (FileKind::PlanTable2, plan_table_2()),
        (FileKind::PlanTable3, plan_table_3()),
        (FileKind::UsagePlan, usage_sheet(v4)),
        (FileKind::UsageActual, usage_sheet(v4)),
        (
            FileKind::UsagePlanDeletion,
            deletion(("削除対象年月", 6, Month), &[]),
        ),
        (
            FileKind::UsageActualDeletion,
            deletion(
                ("削除対象年月", 6, Month),
                &[
                    ("サービス事業者コード", 10, Q, Office),
                    ("サービス種類コード", 2, Q, Kind),
                ],
            ),
        ),
        (FileKind::UsageAnnex, usage_annex(v4)),
        // 介護予防 files exist from V4 only; a V3 version on them is the version rules' finding.
        (FileKind::PreventionBasic, prevention_basic()),
        (FileKind::PreventionBasicSchedule, prevention_schedule()),
        (FileKind::PreventionBasicHistory, prevention_history()),
        (
            FileKind::PreventionBasicDeletion,
            deletion(("相談日", 8, Date), &[]),
        ),
        (FileKind::PreventionPlan, prevention_plan()),
        (FileKind::PreventionPlanSupport, prevention_plan_support()),
        (
            FileKind::PreventionPlanDeletion,
            deletion(("計画作成(変更)日", 8, Date), &[]),
        ),
    ]
}

static LAYOUTS: LazyLock<Layouts> = LazyLock::new(|| Layouts {
    v4: build(true),
    v3: build(false),
});
static COMMON: LazyLock<Vec<FieldSpec>> = LazyLock::new(common);

/// Fields 1–3, identical in every layout (CSVバージョン, 保険者番号, 被保険者番号).
pub fn common_fields() -> &'static [FieldSpec] {
    &COMMON
}

/// The field-level layout of `kind` under the V4 (`v4`) or V3 rule set; `None` for kinds without
/// a layout.
pub fn layout(kind: FileKind, v4: bool) -> Option<&'static [FieldSpec]> {
    let set = if v4 { &LAYOUTS.v4 } else { &LAYOUTS.v3 };
    set.iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, fields)| fields.as_slice())
}

/// The position (0-based) of the field named `name` (項目名) in the layout of `kind` under the V4 (`v4`) or
/// V3 rule set: the one way code finds a field, so that no field number is written outside the layout.
pub fn position(kind: FileKind, v4: bool, name: &str) -> Option<usize> {
    find(layout(kind, v4)?, name)
}

/// The position (0-based) of the field named `name` among `fields` (a layout, or the common fields).
pub fn find(fields: &[FieldSpec], name: &str) -> Option<usize> {
    fields.iter().position(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_have_the_standard_field_counts() {
        // The counts 定義書 gives each layout (V4.1; V3 where it differs).
        let counts = [
            (FileKind::UserSupplement, 63, 63),
            (FileKind::PlanTable1, 28, 28),
            (FileKind::PlanTable1Deletion, 4, 4),
            (FileKind::PlanTable2, 22, 22),
            (FileKind::PlanTable3, 13, 13),
            (FileKind::UsagePlan, 25, 22),
            (FileKind::UsagePlanDeletion, 4, 4),
            (FileKind::UsageActual, 25, 22),
            (FileKind::UsageActualDeletion, 6, 6),
            (FileKind::UsageAnnex, 37, 34),
            (FileKind::PreventionBasic, 71, 71),
            (FileKind::PreventionBasicSchedule, 7, 7),
            (FileKind::PreventionBasicHistory, 11, 11),
            (FileKind::PreventionBasicDeletion, 4, 4),
            (FileKind::PreventionPlan, 57, 57),
            (FileKind::PreventionPlanSupport, 17, 17),
            (FileKind::PreventionPlanDeletion, 4, 4),
        ];
        assert_eq!(counts.len(), FileKind::ALL.len());
        for (kind, v4, v3) in counts {
            assert_eq!(layout(kind, true).map(<[_]>::len), Some(v4), "{kind}");
            assert_eq!(layout(kind, false).map(<[_]>::len), Some(v3), "{kind}");
        }
    }

    #[test]
    fn field_names_are_unique_within_a_layout() {
        // Code finds fields by name: a name given twice would make the second unreachable.
        for kind in FileKind::ALL {
            for v4 in [true, false] {
                let fields = layout(kind, v4).unwrap_or_default();
                for (index, field) in fields.iter().enumerate() {
                    assert_eq!(
                        position(kind, v4, &field.name),
                        Some(index),
                        "{kind} {}",
                        field.name
                    );
                }
            }
        }
    }
}
