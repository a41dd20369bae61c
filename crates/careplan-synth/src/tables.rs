//! A user's care plan (居宅サービス計画): table 1 (居宅サービス計画書(1), `UP1KYO`), table 2 (the needs,
//! goals and services, `UP2KYO`), table 3 (the weekly schedule, `UP3KYO`) and the user supplement
//! linked to them (field 63 = `000000`), written from the services planned for a month.

use std::collections::BTreeSet;

use careplan_core::{OfficeNumber, ServiceKind};
use careplan_spec::FileKind;
use careplan_spec::csv_text::Field;
use careplan_spec::records::{
    CertificationStatus, CsvVersion, RecordWriter, ServiceTime, UserSupplementRecord,
};
use time::{Date, Duration};

use crate::month::{Office, PlanContext, PlannedService, supplement_of};
use crate::people::CareUser;

/// Who writes a user's plan tables, and on which day.
#[derive(Debug, Clone, Copy)]
pub struct TableContext<'a> {
    /// The month the plan's services are those of, and who plans.
    pub plan: PlanContext<'a>,
    /// 介護支援事業者名.
    pub care_office_name: &'a str,
}

/// A user's plan tables, each record as its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTables {
    /// 居宅サービス計画作成（変更）日: the key linking the tables and the supplement.
    pub plan_date: Date,
    /// 第1表: one record.
    pub table1: Vec<Field>,
    /// 第2表: one record per service line (援助内容).
    pub table2: Vec<Vec<Field>>,
    /// 第3表: one record per weekly service and day, daily activity, or service not weekly.
    pub table3: Vec<Vec<Field>>,
    /// 利用者補足情報 linked to table 1.
    pub supplement: UserSupplementRecord,
}

/// What a kind of service is for, as a care manager writes it in table 2: (service kind's name, the
/// need (課題), the long-term goal, the short-term goal, the service's content).
fn wording(
    kind: ServiceKind,
) -> (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
) {
    match kind.as_str() {
        "11" => (
            "訪問介護",
            "自宅で清潔を保ち、安心して暮らしたい",
            "自宅での生活を続けられる",
            "入浴と整容を週に決まった日に行える",
            "身体介護（入浴介助・整容）、生活援助（掃除）",
        ),
        "13" => (
            "訪問看護",
            "持病を悪化させずに過ごしたい",
            "体調が安定し、入院せずに過ごせる",
            "服薬と血圧の管理ができる",
            "健康状態の観察、服薬管理",
        ),
        "15" => (
            "通所介護",
            "人と交流し、体力を保ちたい",
            "外出の機会を持ち、閉じこもらない",
            "週に通って体操と入浴ができる",
            "機能訓練、入浴介助、レクリエーション",
        ),
        "17" => (
            "福祉用具貸与",
            "転ばずに室内を移動したい",
            "住み慣れた自宅で安全に暮らせる",
            "手すりや用具を使って起き上がり・移動ができる",
            "福祉用具の貸与と定期点検",
        ),
        "21" => (
            "短期入所生活介護",
            "家族の介護負担を減らしたい",
            "家族と在宅生活を続けられる",
            "定期的に短期入所を利用できる",
            "短期入所での介護、機能訓練",
        ),
        _ => (
            "介護サービス",
            "日常生活を続けたい",
            "在宅生活を続けられる",
            "サービスを継続して利用できる",
            "介護サービス",
        ),
    }
}

fn date_code(date: Date) -> String {
    format!("{:04}{:02}{:02}", date.year(), u8::from(date.month()), date.day())
}

fn period(from: Date, months: i64) -> String {
    let to = from + Duration::days(months * 30);
    format!(
        "{:04}/{:02}/{:02}～{:04}/{:02}/{:02}",
        from.year(),
        u8::from(from.month()),
        from.day(),
        to.year(),
        u8::from(to.month()),
        to.day()
    )
}

/// Writes a user's plan tables from the services planned for the context's month: table 2 has a need
/// per service kind and a line per provider and service code, table 3 a row per weekly service and day,
/// the daily rising and bedtime, and a row per service not given weekly (rentals, short stays).
pub fn plan_tables(
    ctx: &TableContext<'_>,
    user: &CareUser,
    services: &[PlannedService],
    offices: &[&Office],
) -> PlanTables {
    let plan = &ctx.plan;
    let plan_date = plan.created_on;
    let care_office = plan.care_office;
    // The certification in force: six months before the plan's month, for a year.
    let certified_from = plan.month.first_day() - Duration::days(183);
    let certified_to = certified_from + Duration::days(364);
    let plan_day = date_code(plan_date);
    let table = |kind: FileKind| {
        let mut record = RecordWriter::new(kind, CsvVersion::CURRENT, &user.key);
        record.set("居宅サービス計画作成（変更）日", &plan_day);
        record
    };
    let table1 = table(FileKind::PlanTable1)
        .set("作成年月日", &plan_day)
        .set("利用者郵便番号", &user.postal_code)
        .set("利用者住所１", &user.address)
        .set("居宅サービス計画作成者氏名", plan.planner_name)
        .set("介護支援事業者名", ctx.care_office_name)
        .set("介護支援事業者コード", care_office)
        .set("初回居宅サービス計画作成日", date_code(certified_from))
        .set("計画書区分", "21")
        .set("認定状況区分", CertificationStatus::Certified)
        .set("認定日", date_code(certified_from - Duration::days(7)))
        .set("認定有効期間開始日", date_code(certified_from))
        .set("認定有効期間終了日", date_code(certified_to))
        .set("要介護状態区分", user.care_level.code())
        .set(
            "利用者及び家族の生活に対する意向を踏まえた課題分析の結果",
            "本人は自宅での生活の継続を望み、家族も協力的である。転倒と体力の低下に注意が必要。",
        )
        .set("介護認定審査会の意見及びサービスの種類の指定", "なし")
        .set(
            "総合的な援助の方針",
            "できることは自分で行い、必要な支援を受けながら自宅で安心して暮らせるよう支援します。",
        )
        .set("更新業者コード", care_office)
        .finish();

    // Table 2: a need per service kind, a line per provider and code, in the services' order.
    let mut kinds: Vec<ServiceKind> = Vec::new();
    let mut lines: Vec<(ServiceKind, OfficeNumber, &PlannedService, usize)> = Vec::new();
    for service in services {
        let kind = service.service_code.kind();
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
        match lines.iter_mut().find(|(_, provider, s, _)| {
            *provider == service.provider && s.service_code == service.service_code
        }) {
            Some(line) => line.3 += service.dates.len(),
            None => lines.push((kind, service.provider, service, service.dates.len())),
        }
    }
    let weeks = usize::from(plan.month.days()) / 7;
    let mut table2 = Vec::with_capacity(lines.len());
    for (need_no, kind) in kinds.iter().enumerate() {
        let (kind_name, need, long_goal, short_goal, content) = wording(*kind);
        for (content_no, (_, provider, _, times)) in lines.iter().filter(|l| l.0 == *kind).enumerate() {
            let office_name = offices
                .iter()
                .find(|o| o.number == *provider)
                .map_or("", |o| o.name.as_str());
            let frequency = match kind.as_str() {
                "17" => "毎日".to_owned(),
                "21" => format!("月{times}日"),
                _ => format!("週{}回", times.div_ceil(weeks).max(1)),
            };
            let row = table(FileKind::PlanTable2)
                .set("居宅計画書作成年月日", &plan_day)
                .set("課題ＮＯ", need_no + 1)
                .set("課題", need)
                .set("援助目標ＮＯ", 1)
                .set("長期目標", long_goal)
                .set("短期目標", short_goal)
                .set("長期期間", period(certified_from, 12))
                .set("短期期間", period(plan.month.first_day(), 6))
                .set("援助内容ＮＯ", content_no + 1)
                .set("サービス内容", content)
                .set("保険対象区分", "Y")
                .set("サービス種別", kind_name)
                .set("サービス事業者コード", provider)
                .set("サービス事業所名", office_name)
                .set("頻度", frequency)
                .set("実施期間", period(plan.month.first_day(), 6))
                .set("更新業者コード", care_office)
                .finish();
            table2.push(row);
        }
    }

    // Table 3: weekly services by day, the day's rhythm, and services not given weekly.
    let row3 = |content: &str,
                weekday: Option<u8>,
                (start, end): (Option<ServiceTime>, Option<ServiceTime>),
                activity: Option<(&str, &str, &str)>,
                not_weekly: &str| {
        let mut row = table(FileKind::PlanTable3);
        row.set("週間サービス計画表作成年月日", &plan_day)
            .set("介護サービス内容", content)
            .set_opt("曜日", weekday)
            .set_opt("開始時間", start)
            .set_opt("終了時間", end)
            .set("週単位以外のサービス", not_weekly);
        if let Some((what, from, to)) = activity {
            row.set("主な日常生活上の活動", what)
                .set("開始時間（活動）", from)
                .set("終了時間（活動）", to);
        }
        row.finish()
    };
    let mut table3 = Vec::new();
    let mut weekly: BTreeSet<(u8, ServiceTime, &str)> = BTreeSet::new();
    let mut not_weekly: Vec<&str> = Vec::new();
    for service in services {
        let (kind_name, ..) = wording(service.service_code.kind());
        if service.start == ServiceTime::Unspecified {
            if !not_weekly.contains(&kind_name) {
                not_weekly.push(kind_name);
            }
            continue;
        }
        for date in &service.dates {
            if weekly.insert((date.weekday().number_from_monday(), service.start, kind_name)) {
                table3.push(row3(
                    kind_name,
                    Some(date.weekday().number_from_monday()),
                    (Some(service.start), Some(service.end)),
                    None,
                    "",
                ));
            }
        }
    }
    table3.push(row3("", None, (None, None), Some(("起床", "0630", "0700")), ""));
    table3.push(row3("", None, (None, None), Some(("就寝", "2100", "2130")), ""));
    for kind_name in not_weekly {
        table3.push(row3("", None, (None, None), None, kind_name));
    }

    let mut supplement = supplement_of(plan, user, &[]);
    supplement.plan_date = Some(plan_date);
    supplement.month = None;
    PlanTables {
        plan_date,
        table1,
        table2,
        table3,
        supplement,
    }
}
