//! A user's month: the service usage sheet (第6表) across the user's providers, its annex (第7表) and
//! the user supplement (利用者補足情報); and the actuals (実績) a provider reports against it.

use std::collections::BTreeSet;

use careplan_core::{CareMonth, OfficeNumber, ServiceKind};
use careplan_spec::records::{
    AnnexCode, AnnexOffice, AnnexSubtotal, CertificationStatus, CsvVersion, EquipmentItem, ServiceCode,
    ServiceTime, ServiceUsageRecord, UnitPrice, UsageAnnexRecord, UserSupplementRecord,
};
use rand::Rng;
use rand::seq::IndexedRandom;
use time::Date;

use crate::catalogue::{self, RentalProduct, ServiceItem};
use crate::people::CareUser;
use crate::rng_for;

/// A service office as the generator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Office {
    /// Office number (事業所番号).
    pub number: OfficeNumber,
    /// Service kind (サービス種類コード).
    pub kind: ServiceKind,
    /// Office name (事業所名).
    pub name: String,
}

/// Who writes a month's plans, and when.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    /// Seed of the generated data.
    pub seed: u64,
    /// Service month (対象年月).
    pub month: CareMonth,
    /// 作成年月日 of the sheets.
    pub created_on: Date,
    /// The care-management office (居宅介護支援事業所).
    pub care_office: OfficeNumber,
    /// The care manager (プラン担当者名).
    pub planner_name: &'a str,
}

/// A user's plan for a month: the rows of the 6表 (all providers), the 7表 and the 補足.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMonth {
    /// 第6表 rows, grouped by provider and service, by date within a service.
    pub usage: Vec<ServiceUsageRecord>,
    /// 第7表 rows: service lines, subtotals and the grand total.
    pub annex: Vec<UsageAnnexRecord>,
    /// 利用者補足情報 linked to the month.
    pub supplement: UserSupplementRecord,
}

/// How far actuals drift from the plan, in percent: of visits cancelled, of visits at another time,
/// and of users with one extra visit. Only timed visits drift; rentals and short stays are delivered as
/// planned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deviations {
    /// Visits cancelled (キャンセル), percent.
    pub cancelled_percent: u8,
    /// Visits moved to another time, percent.
    pub changed_time_percent: u8,
    /// Users with one extra, unplanned visit, percent.
    pub extra_visit_percent: u8,
}

impl Deviations {
    /// Actuals exactly as planned.
    pub const NONE: Deviations = Deviations {
        cancelled_percent: 0,
        changed_time_percent: 0,
        extra_visit_percent: 0,
    };
}

/// The providers a user uses: the `index`-th user's primary provider round-robin (so every provider
/// has users once there are as many users as providers), plus others of different kinds at random.
pub fn providers_of<'a>(
    seed: u64,
    index: usize,
    user: &CareUser,
    providers: &'a [Office],
) -> Vec<&'a Office> {
    let Some(primary) = providers.get(index % providers.len().max(1)) else {
        return Vec::new();
    };
    let mut rng = rng_for(seed, &["providers", &user.key.to_string()]);
    let mut chosen = vec![primary];
    for office in providers {
        if chosen.len() < 3 && chosen.iter().all(|o| o.kind != office.kind) && rng.random_ratio(1, 3) {
            chosen.push(office);
        }
    }
    chosen.sort_by_key(|office| office.number);
    chosen
}

/// A service of a user's planned month: one line of the care manager's plan, delivered on its dates by
/// one provider. Writing it gives one 第6表 row per date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedService {
    /// サービス事業者コード: the provider.
    pub provider: OfficeNumber,
    /// サービスコード.
    pub service_code: ServiceCode,
    /// 単位数 per occurrence.
    pub units: u32,
    /// サービス開始時刻 (`9999` for services shown without a time: rentals, short stays).
    pub start: ServiceTime,
    /// サービス終了時刻.
    pub end: ServiceTime,
    /// サービス利用日, in the order the rows are written.
    pub dates: Vec<Date>,
    /// 福祉用具 (rentals): TAIS code, notified code, product name.
    pub equipment: EquipmentItem,
    /// 明細判別コード: tells apart two rentals of one product (spec §8.5).
    pub detail_code: Option<u8>,
}

/// Plans `user`'s month with `providers` and writes it: [`plan_services`], then [`write_month`].
pub fn plan_user(ctx: &PlanContext<'_>, user: &CareUser, providers: &[&Office]) -> UserMonth {
    write_month(ctx, user, &plan_services(ctx, user, providers), providers)
}

/// Writes a user's planned month as the care manager's software does: one 第6表 row per service and
/// date (grouped by service, in the order given), the 第7表 computed from those rows, and the 補足.
/// Provider names come from `offices`; a provider not among them is written without a name.
pub fn write_month(
    ctx: &PlanContext<'_>,
    user: &CareUser,
    services: &[PlannedService],
    offices: &[&Office],
) -> UserMonth {
    let mut usage = Vec::with_capacity(services.iter().map(|s| s.dates.len()).sum());
    for service in services {
        let provider_name = offices
            .iter()
            .find(|o| o.number == service.provider)
            .map_or_else(String::new, |o| o.name.clone());
        usage.extend(
            service
                .dates
                .iter()
                .map(|&date| usage_row(ctx, user, service, date, &provider_name)),
        );
    }
    let annex = annex_of(ctx, user, &usage);
    let supplement = supplement_of(ctx, user, &usage);
    UserMonth {
        usage,
        annex,
        supplement,
    }
}

/// The 第6表 row of a planned service on one date.
fn usage_row(
    ctx: &PlanContext<'_>,
    user: &CareUser,
    service: &PlannedService,
    date: Date,
    provider_name: &str,
) -> ServiceUsageRecord {
    let short_stay = service.service_code.kind() == ServiceKind::SHORT_STAY;
    ServiceUsageRecord {
        version: CsvVersion::CURRENT,
        user: user.key.clone(),
        created_on: ctx.created_on,
        month: ctx.month,
        plan_office: Some(ctx.care_office),
        planner_name: ctx.planner_name.to_owned(),
        units: Some(service.units),
        short_stay_days_before: short_stay.then_some(u32::from(user.short_stay_days_before)),
        service_date: date,
        proration: None,
        start: service.start,
        end: service.end,
        count: 1,
        service_code: service.service_code,
        equipment: service.equipment.clone(),
        detail_code: service.detail_code,
        provider: service.provider,
        provider_name: provider_name.to_owned(),
        satellite: String::new(),
        over_30_days: false,
        updater: Some(ctx.care_office),
    }
}

/// The services of generated 第6表 rows: consecutive rows that differ only by date are one service.
fn services_of(usage: &[ServiceUsageRecord]) -> Vec<PlannedService> {
    let mut services: Vec<PlannedService> = Vec::new();
    for row in usage {
        if let Some(last) = services.last_mut()
            && last.provider == row.provider
            && last.service_code == row.service_code
            && Some(last.units) == row.units
            && (last.start, last.end) == (row.start, row.end)
            && last.equipment == row.equipment
            && last.detail_code == row.detail_code
        {
            last.dates.push(row.service_date);
            continue;
        }
        services.push(PlannedService {
            provider: row.provider,
            service_code: row.service_code,
            units: row.units.unwrap_or(0),
            start: row.start,
            end: row.end,
            dates: vec![row.service_date],
            equipment: row.equipment.clone(),
            detail_code: row.detail_code,
        });
    }
    services
}

/// Plans `user`'s month with `providers`, within the user's benefit limit: what the care manager
/// decides, before any sheet is written.
pub fn plan_services(ctx: &PlanContext<'_>, user: &CareUser, providers: &[&Office]) -> Vec<PlannedService> {
    let mut usage = Vec::new();
    for office in providers {
        let mut rng = rng_for(
            ctx.seed,
            &[
                "plan",
                ctx.month.to_string().as_str(),
                &user.key.to_string(),
                office.number.as_str(),
            ],
        );
        let row = |item: &ServiceItem, date: Date, start: ServiceTime| {
            let service = PlannedService {
                provider: office.number,
                service_code: item.service_code(),
                units: item.units,
                start,
                end: end_of(start, item.minutes),
                dates: Vec::new(),
                equipment: EquipmentItem::default(),
                detail_code: None,
            };
            usage_row(ctx, user, &service, date, &office.name)
        };
        let dates = |weekdays: &[u8]| -> Vec<Date> {
            days_of(ctx.month)
                .filter(|d| weekdays.contains(&d.weekday().number_from_monday()))
                .collect()
        };
        let at = |hour: u8, minute: u8| ServiceTime::At { hour, minute };
        match office.kind {
            ServiceKind::HOME_HELP => {
                let first = catalogue::HOME_HELP
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or(catalogue::HOME_HELP[0]);
                let second = catalogue::HOME_HELP.choose(&mut rng).copied().unwrap_or(first);
                for (weekday, item) in user.visit_days.iter().zip([first, second]) {
                    let start = at(user.visit_hour, 0);
                    usage.extend(dates(&[*weekday]).into_iter().map(|d| row(&item, d, start)));
                }
            }
            ServiceKind::VISITING_NURSING => {
                let weekday = rng.random_range(1..=5u8);
                let item = catalogue::VISITING_NURSING;
                usage.extend(dates(&[weekday]).into_iter().map(|d| row(&item, d, at(13, 30))));
            }
            ServiceKind::DAY_CARE => {
                let first = rng.random_range(1..=6u8);
                let weekdays = [first, (first + 2) % 6 + 1];
                let days = dates(&weekdays);
                for item in [catalogue::day_care(user.care_level), catalogue::DAY_CARE_BATHING] {
                    // The add-on takes the base service's time (spec §8.7).
                    usage.extend(days.iter().map(|&d| row(&item, d, at(9, 30))));
                }
            }
            ServiceKind::EQUIPMENT_RENTAL => {
                let products = rental_products(&mut rng);
                let first_day = ctx.month.first_day();
                for (product, detail) in products {
                    let mut line = row(&product.item, first_day, ServiceTime::Unspecified);
                    line.equipment = EquipmentItem {
                        tais_code: product.tais_code.to_owned(),
                        notified_code: String::new(),
                        product_name: product.product_name.to_owned(),
                    };
                    line.detail_code = detail;
                    usage.push(line);
                }
            }
            ServiceKind::SHORT_STAY => {
                let item = catalogue::short_stay(user.care_level);
                let length = rng.random_range(3..=6u8);
                let start = rng.random_range(1..=ctx.month.days() - length + 1);
                for day in start..start + length {
                    if let Some(date) = ctx.month.day(day) {
                        usage.push(row(&item, date, ServiceTime::Unspecified));
                    }
                }
            }
            _ => {}
        }
    }
    trim_to_limit(&mut usage, user.benefit_limit);
    services_of(&usage)
}

/// One to two rented products, sometimes two handrails told apart by 明細判別コード 1 and 2 (spec §8.5).
fn rental_products(rng: &mut impl Rng) -> Vec<(RentalProduct, Option<u8>)> {
    let handrail = catalogue::RENTAL_PRODUCTS[3];
    if rng.random_ratio(1, 4) {
        return vec![(handrail, Some(1)), (handrail, Some(2))];
    }
    let count = rng.random_range(1..=2);
    let mut products: Vec<RentalProduct> = catalogue::RENTAL_PRODUCTS
        .choose_multiple(rng, count)
        .copied()
        .collect();
    products.sort_by_key(|p| p.item.code);
    products.into_iter().map(|p| (p, None)).collect()
}

/// Drops the latest timed visits until the month fits the user's benefit limit, as a care manager
/// plans within it.
fn trim_to_limit(usage: &mut Vec<ServiceUsageRecord>, limit: u32) {
    let total = |rows: &[ServiceUsageRecord]| rows.iter().map(|r| r.units.unwrap_or(0)).sum::<u32>();
    while total(usage) > limit {
        let latest = usage
            .iter()
            .enumerate()
            .filter(|(_, r)| r.start != ServiceTime::Unspecified)
            .max_by_key(|(i, r)| (r.service_date, *i))
            .map(|(i, _)| i);
        match latest {
            Some(i) => {
                let date = usage[i].service_date;
                let (provider, start) = (usage[i].provider, usage[i].start);
                // A visit goes with its add-ons: every row of that provider, day and time.
                usage.retain(|r| !(r.provider == provider && r.service_date == date && r.start == start));
            }
            None => break,
        }
    }
}

fn days_of(month: CareMonth) -> impl Iterator<Item = Date> {
    (1..=month.days()).filter_map(move |d| month.day(d))
}

fn end_of(start: ServiceTime, minutes: u16) -> ServiceTime {
    match start.minutes() {
        Some(from) if minutes > 0 => ServiceTime::from_minutes(from + minutes),
        _ => ServiceTime::Unspecified,
    }
}

/// 単位数単価 for Tokyo's special wards (1級地): by service kind.
fn unit_price(kind: ServiceKind) -> UnitPrice {
    let hundredths = match kind.as_str() {
        "11" | "13" => 1140,
        "15" | "21" => 1090,
        _ => 1000,
    };
    UnitPrice::from_hundredths(hundredths).unwrap_or_else(|| unreachable!("prices are below 100.00"))
}

const BENEFIT_RATE: u32 = 90;

/// Fills the limit split and the amounts of a row closing a provider's kind (its single line or its
/// AAAA subtotal), or of the grand total, for `units` in the limit.
fn settle(row: &mut UsageAnnexRecord, units: u32, price: Option<UnitPrice>, cost: u64) {
    row.service_units = Some(units);
    row.managed_units = Some(units);
    row.over_kind_limit = Some(0);
    row.within_kind_limit = Some(units);
    row.over_limit = Some(0);
    row.within_limit = Some(units);
    row.unit_price = price;
    let claim = cost * u64::from(BENEFIT_RATE) / 100;
    row.total_cost = Some(cost);
    row.benefit_rate = Some(BENEFIT_RATE);
    row.claim = Some(claim);
    row.fixed_copay = Some(0);
    row.copay = Some(cost - claim);
    row.copay_full = Some(0);
}

/// The 7表 of a user's 6表 rows: one line per provider × service code × units × product (counts
/// summed), a `kindAAAA` subtotal for every provider kind with several lines, and the grand total.
pub fn annex_of(
    ctx: &PlanContext<'_>,
    user: &CareUser,
    usage: &[ServiceUsageRecord],
) -> Vec<UsageAnnexRecord> {
    type LineKey<'r> = (OfficeNumber, &'r str, u32, &'r EquipmentItem, Option<u8>);
    let mut lines: Vec<(LineKey<'_>, UsageAnnexRecord)> = Vec::new();
    for row in usage {
        let key = (
            row.provider,
            row.service_code.as_str(),
            row.units.unwrap_or(0),
            &row.equipment,
            row.detail_code,
        );
        if let Some((_, line)) = lines.iter_mut().find(|(k, _)| *k == key) {
            line.count += u16::from(row.count);
            continue;
        }
        let mut line = UsageAnnexRecord::new(
            user.key.clone(),
            ctx.created_on,
            ctx.month,
            AnnexOffice::Office(row.provider),
            AnnexCode::Service(row.service_code),
        );
        line.office_name = row.provider_name.clone();
        line.equipment = row.equipment.clone();
        line.units = row.units.unwrap_or(0);
        line.count = u16::from(row.count);
        line.updater = Some(ctx.care_office);
        lines.push((key, line));
    }
    let mut annex = Vec::with_capacity(lines.len() + 4);
    let (mut total_units, mut total_cost) = (0u32, 0u64);
    let mut prices = BTreeSet::new();
    let mut index = 0;
    while index < lines.len() {
        // The lines of one provider and kind are adjacent: the 6表 rows are grouped by provider.
        let (office, kind) = (lines[index].0.0, lines[index].1.code_kind());
        let group_end = lines[index..]
            .iter()
            .position(|(key, line)| key.0 != office || line.code_kind() != kind)
            .map_or(lines.len(), |n| index + n);
        let group = &mut lines[index..group_end];
        let price = unit_price(kind);
        let mut group_units = 0;
        for (_, line) in group.iter_mut() {
            let units = line.units * u32::from(line.count);
            line.service_units = Some(units);
            line.managed_units = Some(units);
            group_units += units;
            if kind == ServiceKind::SHORT_STAY {
                let before = u32::from(user.short_stay_days_before);
                line.short_stay_days_before = Some(before);
                line.short_stay_days_planned = Some(u32::from(line.count));
                line.short_stay_days_cumulative = Some(before + u32::from(line.count));
            }
        }
        let cost = u64::from(group_units) * u64::from(price.hundredths()) / 100;
        if let [(_, single)] = group {
            settle(single, group_units, Some(price), cost);
            annex.push(single.clone());
        } else {
            annex.extend(group.iter().map(|(_, line)| line.clone()));
            let mut subtotal = UsageAnnexRecord::new(
                user.key.clone(),
                ctx.created_on,
                ctx.month,
                AnnexOffice::Office(office),
                AnnexCode::Subtotal {
                    kind,
                    part: AnnexSubtotal::WithinLimit,
                },
            );
            subtotal.office_name = group[0].1.office_name.clone();
            subtotal.updater = Some(ctx.care_office);
            settle(&mut subtotal, group_units, Some(price), cost);
            annex.push(subtotal);
        }
        total_units += group_units;
        total_cost += cost;
        prices.insert(price);
        index = group_end;
    }
    let mut total = UsageAnnexRecord::new(
        user.key.clone(),
        ctx.created_on,
        ctx.month,
        AnnexOffice::AllNines,
        AnnexCode::GrandTotal,
    );
    total.updater = Some(ctx.care_office);
    let single_price = (prices.len() == 1).then(|| prices.first().copied()).flatten();
    settle(&mut total, total_units, single_price, total_cost);
    annex.push(total);
    annex
}

trait CodeKind {
    fn code_kind(&self) -> ServiceKind;
}

impl CodeKind for UsageAnnexRecord {
    fn code_kind(&self) -> ServiceKind {
        match self.code {
            AnnexCode::Service(code) => code.kind(),
            AnnexCode::Subtotal { kind, .. } => kind,
            AnnexCode::GrandTotal => ServiceKind::CARE_MANAGEMENT,
        }
    }
}

pub(crate) fn supplement_of(
    ctx: &PlanContext<'_>,
    user: &CareUser,
    usage: &[ServiceUsageRecord],
) -> UserSupplementRecord {
    let mut supplement = UserSupplementRecord::for_month(user.key.clone(), ctx.month);
    supplement.name_kana = user.name_kana.clone();
    supplement.name = user.name.clone();
    supplement.sex = Some(user.sex);
    supplement.birth_date = Some(user.birth_date);
    supplement.postal_code = user.postal_code.clone();
    supplement.address1 = user.address.clone();
    supplement.phone = user.phone.clone();
    supplement.certification = Some(CertificationStatus::Certified);
    supplement.care_level = Some(user.care_level);
    supplement.benefit_limit = Some(user.benefit_limit);
    let short_stay_days = usage
        .iter()
        .filter(|r| r.service_code.kind() == ServiceKind::SHORT_STAY)
        .count();
    if short_stay_days > 0 {
        let before = u32::from(user.short_stay_days_before);
        supplement.short_stay_days_before = Some(before);
        supplement.short_stay_days_cumulative = Some(before + u32::try_from(short_stay_days).unwrap_or(0));
    }
    supplement.updater = Some(ctx.care_office);
    supplement
}

/// The actuals (実績) `provider` reports for a user's plan rows: its own rows, with `deviations`,
/// written on `created_on` with the provider as updater.
pub fn actuals(
    seed: u64,
    plan: &[ServiceUsageRecord],
    provider: OfficeNumber,
    created_on: Date,
    deviations: Deviations,
) -> Vec<ServiceUsageRecord> {
    let own: Vec<&ServiceUsageRecord> = plan.iter().filter(|r| r.provider == provider).collect();
    let Some(first) = own.first() else {
        return Vec::new();
    };
    let mut rng = rng_for(
        seed,
        &[
            "actual",
            &first.month.to_string(),
            &first.user.to_string(),
            provider.as_str(),
        ],
    );
    let mut out: Vec<ServiceUsageRecord> = Vec::with_capacity(own.len() + 1);
    // A visit is the rows of one day and start time; it is cancelled or moved as a whole.
    let visits: BTreeSet<(Date, ServiceTime)> = own
        .iter()
        .filter(|r| r.start != ServiceTime::Unspecified)
        .map(|r| (r.service_date, r.start))
        .collect();
    let mut drift = std::collections::BTreeMap::new();
    for visit in &visits {
        if rng.random_range(0..100) < deviations.cancelled_percent {
            drift.insert(*visit, None);
        } else if rng.random_range(0..100) < deviations.changed_time_percent {
            drift.insert(*visit, Some(if rng.random_bool(0.5) { 30 } else { -30i16 }));
        }
    }
    for row in &own {
        let mut actual = ServiceUsageRecord {
            created_on,
            updater: Some(provider),
            ..(*row).clone()
        };
        match drift.get(&(row.service_date, row.start)) {
            Some(None) => continue,
            Some(Some(shift)) => {
                actual.start = shifted(row.start, *shift);
                actual.end = shifted(row.end, *shift);
            }
            None => {}
        }
        out.push(actual);
    }
    if rng.random_range(0..100) < deviations.extra_visit_percent
        && let Some(template) = own.iter().find(|r| r.start != ServiceTime::Unspecified)
    {
        let busy: BTreeSet<Date> = own.iter().map(|r| r.service_date).collect();
        let free: Vec<Date> = days_of(template.month).filter(|d| !busy.contains(d)).collect();
        if let Some(&date) = free.choose(&mut rng) {
            // Every row of the template's visit (a service and its add-ons) is delivered again.
            for row in own
                .iter()
                .filter(|r| r.service_date == template.service_date && r.start == template.start)
            {
                out.push(ServiceUsageRecord {
                    service_date: date,
                    created_on,
                    updater: Some(provider),
                    ..(*row).clone()
                });
            }
        }
    }
    out.sort_by(|a, b| {
        (a.service_code, a.service_date, a.start).cmp(&(b.service_code, b.service_date, b.start))
    });
    out
}

/// A time moved by `minutes`, kept inside the day.
fn shifted(time: ServiceTime, minutes: i16) -> ServiceTime {
    match time.minutes() {
        Some(at) => {
            let moved = (i32::from(at) + i32::from(minutes)).clamp(0, 23 * 60 + 59);
            ServiceTime::from_minutes(u16::try_from(moved).unwrap_or(at))
        }
        None => time,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use time::macros::date;

    use super::*;
    use crate::people::Roster;

    fn offices() -> Vec<Office> {
        catalogue::PROVIDER_KINDS
            .iter()
            .enumerate()
            .map(|(i, &kind)| Office {
                number: format!("13100000{:02}", i + 2).parse().unwrap(),
                kind,
                name: catalogue::provider_name(kind, 1),
            })
            .collect()
    }

    fn context(seed: u64) -> PlanContext<'static> {
        PlanContext {
            seed,
            month: "202505".parse().unwrap(),
            created_on: date!(2025 - 04 - 24),
            care_office: "1310000001".parse().unwrap(),
            planner_name: "鈴木 一郎",
        }
    }

    /// Every user's month, planned with all providers.
    fn months(seed: u64, users: usize) -> Vec<(CareUser, UserMonth)> {
        let offices = offices();
        let all: Vec<&Office> = offices.iter().collect();
        Roster::generate(seed, context(seed).care_office, users)
            .users()
            .iter()
            .map(|user| (user.clone(), plan_user(&context(seed), user, &all)))
            .collect()
    }

    #[test]
    fn the_annex_adds_up_to_the_usage_sheet() {
        for seed in 0..30 {
            for (user, month) in months(seed, 4) {
                let mut sheet_counts: BTreeMap<(OfficeNumber, String), u32> = BTreeMap::new();
                for row in &month.usage {
                    *sheet_counts
                        .entry((row.provider, row.service_code.to_string()))
                        .or_default() += u32::from(row.count);
                }
                let mut annex_counts: BTreeMap<(OfficeNumber, String), u32> = BTreeMap::new();
                let mut line_units = 0;
                for line in &month.annex {
                    if let (AnnexCode::Service(code), AnnexOffice::Office(office)) = (line.code, line.office)
                    {
                        *annex_counts.entry((office, code.to_string())).or_default() += u32::from(line.count);
                        assert_eq!(line.service_units, Some(line.units * u32::from(line.count)));
                        line_units += line.units * u32::from(line.count);
                    }
                }
                assert_eq!(sheet_counts, annex_counts, "seed {seed}");
                let total = month.annex.last().unwrap();
                assert_eq!(total.code, AnnexCode::GrandTotal);
                assert_eq!(total.service_units, Some(line_units));
                let sheet_units: u32 = month.usage.iter().map(|r| r.units.unwrap()).sum();
                assert_eq!(sheet_units, line_units);
                assert!(
                    line_units <= user.benefit_limit,
                    "seed {seed}: planned within the limit"
                );
                let closing_costs: u64 = month.annex[..month.annex.len() - 1]
                    .iter()
                    .filter_map(|row| row.total_cost)
                    .sum();
                assert_eq!(total.total_cost, Some(closing_costs));
                assert_eq!(
                    total.claim.unwrap() + total.copay.unwrap(),
                    total.total_cost.unwrap()
                );
            }
        }
    }

    #[test]
    fn every_kind_shows_its_own_fields() {
        let months = months(3, 12);
        let rows = || months.iter().flat_map(|(_, m)| &m.usage);
        let rentals: Vec<_> = rows()
            .filter(|r| r.service_code.kind() == ServiceKind::EQUIPMENT_RENTAL)
            .collect();
        assert!(!rentals.is_empty());
        assert!(
            rentals
                .iter()
                .all(|r| !r.equipment.tais_code.is_empty() && r.start == ServiceTime::Unspecified)
        );
        let stays: Vec<_> = rows()
            .filter(|r| r.service_code.kind() == ServiceKind::SHORT_STAY)
            .collect();
        assert!(stays.iter().all(|r| r.short_stay_days_before.is_some()));
        let (_, with_stay) = months
            .iter()
            .find(|(_, m)| {
                m.usage
                    .iter()
                    .any(|r| r.service_code.kind() == ServiceKind::SHORT_STAY)
            })
            .unwrap();
        let days = with_stay
            .usage
            .iter()
            .filter(|r| r.service_code.kind() == ServiceKind::SHORT_STAY)
            .count();
        let line = with_stay
            .annex
            .iter()
            .find(|l| matches!(l.code, AnnexCode::Service(c) if c.kind() == ServiceKind::SHORT_STAY))
            .unwrap();
        assert_eq!(line.short_stay_days_planned, Some(u32::try_from(days).unwrap()));
        assert_eq!(
            with_stay.supplement.short_stay_days_cumulative,
            Some(line.short_stay_days_before.unwrap() + line.short_stay_days_planned.unwrap())
        );
        // Day care comes with its bathing add-on, so its kind has a subtotal.
        assert!(months.iter().all(|(_, m)| {
            m.annex.iter().any(|l| {
                l.code
                    == AnnexCode::Subtotal {
                        kind: ServiceKind::DAY_CARE,
                        part: AnnexSubtotal::WithinLimit,
                    }
            }) || !m
                .usage
                .iter()
                .any(|r| r.service_code.kind() == ServiceKind::DAY_CARE)
        }));
    }

    #[test]
    fn actuals_follow_the_plan_with_the_configured_deviations() {
        let months = months(5, 10);
        let provider = offices()[0].number;
        let mut differences = 0;
        for (_, month) in &months {
            let own: Vec<_> = month.usage.iter().filter(|r| r.provider == provider).collect();
            let exact = actuals(5, &month.usage, provider, date!(2025 - 06 - 03), Deviations::NONE);
            assert_eq!(exact.len(), own.len());
            assert!(
                exact
                    .iter()
                    .all(|r| r.updater == Some(provider) && r.created_on == date!(2025 - 06 - 03))
            );
            let deviations = Deviations {
                cancelled_percent: 30,
                changed_time_percent: 30,
                extra_visit_percent: 100,
            };
            let drifted = actuals(5, &month.usage, provider, date!(2025 - 06 - 03), deviations);
            assert_eq!(
                drifted,
                actuals(5, &month.usage, provider, date!(2025 - 06 - 03), deviations),
                "deterministic"
            );
            let key = |r: &ServiceUsageRecord| (r.service_date, r.start, r.service_code);
            let planned: BTreeSet<_> = own.iter().map(|r| key(r)).collect();
            differences += drifted.iter().filter(|r| !planned.contains(&key(r))).count();
            assert!(drifted.iter().all(|r| r.service_date.month() == time::Month::May));
        }
        assert!(differences > 0, "deviations change the actuals");
    }

    #[test]
    fn every_provider_gets_users() {
        let offices = offices();
        let roster = Roster::generate(9, "1310000001".parse().unwrap(), offices.len());
        let mut served = BTreeSet::new();
        for (i, user) in roster.users().iter().enumerate() {
            let chosen = providers_of(9, i, user, &offices);
            assert!((1..=3).contains(&chosen.len()));
            served.extend(chosen.iter().map(|o| o.number));
        }
        assert_eq!(served.len(), offices.len());
    }
}
