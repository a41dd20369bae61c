//! A user's 介護予防 (prevention) files: the basic information (利用者基本情報, `UPKIHON`) with its time
//! schedule (別表1, `UPKIHON_SUB1`) and medical history (別表2, `UPKIHON_SUB2`), and the prevention
//! service and support plan (介護予防サービス・支援計画書, `UPYOBO`) with its support plan (別表,
//! `UPYOBO_SUB`), written field by field from their layouts.
//!
//! These layouts are long (71 and 57 fields) and mostly free text; every field is written, its value
//! drawn from the user where the field is about the user (name, kana, sex, birth date, address, phone),
//! from the planned services where it is about them, and a plausible fixed phrase or the first code of
//! its table otherwise. The user is written as 要支援１: the files are a prevention office's.

use careplan_spec::FileKind;
use careplan_spec::csv_text::Field;
use careplan_spec::layout::{FieldSpec, Format, layout};
use careplan_spec::records::CsvVersion;
use time::Date;

use crate::month::{Office, PlannedService};
use crate::people::CareUser;
use crate::tables::TableContext;

/// A user's prevention files, each record as its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreventionFiles {
    /// 相談日 / 計画作成(変更)日: the key linking the files.
    pub consulted_on: Date,
    /// `UPKIHON`: one record.
    pub basic: Vec<Field>,
    /// `UPKIHON_SUB1`: the day's schedule.
    pub schedule: Vec<Vec<Field>>,
    /// `UPKIHON_SUB2`: illnesses.
    pub history: Vec<Vec<Field>>,
    /// `UPYOBO`: one record.
    pub plan: Vec<Field>,
    /// `UPYOBO_SUB`: one record per service kind planned.
    pub support: Vec<Vec<Field>>,
}

fn date_code(date: Date) -> String {
    format!("{:04}{:02}{:02}", date.year(), u8::from(date.month()), date.day())
}

/// Writes a record of `kind` field by field: `given` answers the fields it knows (by their 項目名),
/// the others take the value their format suggests.
fn record(kind: FileKind, user: &CareUser, on: Date, given: &dyn Fn(&str) -> Option<Field>) -> Vec<Field> {
    let specs: &[FieldSpec] = layout(kind, true).unwrap_or_default();
    specs
        .iter()
        .map(|spec| {
            if let Some(field) = given(&spec.name) {
                return field;
            }
            match &spec.format {
                Format::Version => Field::code(CsvVersion::CURRENT),
                Format::Insurer => Field::code(&user.key.insurer),
                Format::Insured => Field::code(&user.key.insured),
                Format::Date | Format::DateOrZero => Field::code(date_code(on)),
                Format::Code(codes) => codes.first().map_or(Field::Empty, Field::code),
                Format::Integer => Field::code(1),
                Format::FreeText => Field::text("特記事項なし"),
                _ => Field::Empty,
            }
        })
        .collect()
}

/// Writes a user's prevention files from the services planned (one support line per kind).
pub fn prevention_files(
    ctx: &TableContext<'_>,
    user: &CareUser,
    services: &[PlannedService],
    offices: &[&Office],
) -> PreventionFiles {
    let on = ctx.plan.created_on;
    let about_user = |name: &str| -> Option<Field> {
        Some(match name {
            "利用者氏名" | "利用者名" | "同意者氏名" => Field::text(user.name.as_str()),
            "利用者氏名ﾌﾘｶﾞﾅ" => Field::text(user.name_kana.as_str()),
            "利用者性別" => Field::code(user.sex),
            "利用者生年月日" => Field::code(date_code(user.birth_date)),
            "利用者住所" => Field::text(user.address.as_str()),
            "利用者電話番号" => Field::code(&user.phone),
            "要介護状態区分" | "前回の介護度" => Field::code("12"),
            "作成担当者" | "計画作成者氏名（担当介護支援専門員名）" => {
                Field::text(ctx.plan.planner_name)
            }
            "計画作成者事業者・事業所名" => Field::text(ctx.care_office_name),
            "家族構成 画像ファイル名" | "利用者Fax番号" | "来所者(相談者)電話番号" => {
                Field::Empty
            }
            _ if name.ends_with("電話番号") => Field::Empty,
            _ => return None,
        })
    };
    let basic = record(FileKind::PreventionBasic, user, on, &about_user);
    let schedule = [
        ("6:30", "起床、身支度", "朝食の準備"),
        ("12:00", "昼食", "見守り"),
        ("21:00", "就寝", "服薬の確認"),
    ]
    .iter()
    .map(|&(time, own, family)| {
        record(FileKind::PreventionBasicSchedule, user, on, &|name| match name {
            "時間" => Some(Field::text(time)),
            "本人の生活状況" => Some(Field::text(own)),
            "介護者・家族の生活状況" => Some(Field::text(family)),
            _ => None,
        })
    })
    .collect();
    let history = vec![record(
        FileKind::PreventionBasicHistory,
        user,
        on,
        &|name| match name {
            "年月日" => Some(Field::text("平成30年頃")),
            "病名" => Some(Field::text("高血圧症")),
            "医療機関・医師名" => Some(Field::text("さくら内科クリニック")),
            "医療機関・医師電話番号" => Some(Field::Empty),
            "治療中の内容" => Some(Field::text("内服治療")),
            _ => None,
        },
    )];
    let plan = record(FileKind::PreventionPlan, user, on, &about_user);
    let mut kinds = Vec::new();
    for service in services {
        if !kinds.iter().any(|(kind, _)| *kind == service.service_code.kind()) {
            kinds.push((service.service_code.kind(), service.provider));
        }
    }
    let support = kinds
        .iter()
        .enumerate()
        .map(|(index, (kind, provider))| {
            let office = offices
                .iter()
                .find(|o| o.number == *provider)
                .map_or("", |o| o.name.as_str());
            let number = index + 1;
            record(FileKind::PreventionPlanSupport, user, on, &|name| match name {
                // A 課題 per kind, with one support plan and one service: each numbered from 1 within its
                // parent (定義書 支援計画 データ配置例).
                "課題ＮＯ" => Some(Field::code(number)),
                "支援計画ＮＯ" | "利用サービスＮＯ" => Some(Field::code(1)),
                "【利用サービス】サービス種別" => {
                    Some(Field::text(format!("介護予防サービス（{kind}）")))
                }
                "【利用サービス】事業所(利用先)" => Some(Field::text(office)),
                _ => None,
            })
        })
        .collect();
    PreventionFiles {
        consulted_on: on,
        basic,
        schedule,
        history,
        plan,
        support,
    }
}
