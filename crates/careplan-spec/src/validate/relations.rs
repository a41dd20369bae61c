//! Rules between the fields of one record (spec §10.16–27), and where they find their fields.
//!
//! A rule names its fields by 項目名; [`CheckedLayout`] resolves the names to positions once per layout
//! and rule set (V3 layouts lack the 福祉用具 fields, and later fields move up), so no rule holds a field
//! number and a file's records are checked without a name lookup.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use super::fields::FieldPlan;
use super::{Findings, Rule, Shown, UserRuns, is_date, month_of, one_of, parse, same, split_code};
use crate::layout::{FieldSpec, KIND_LIMIT_SLOTS, KindLimitField, find, layout, slot_field};
use crate::records::ALL_NINES_OFFICE;
use crate::service_codes::{Lookup, ServiceCodes, periods};
use crate::{FileKind, FileName, MonthSegment};

/// Whether `kind` is a service kind outside the exchange's scope (spec §7.3). A `match` on the bytes:
/// every line of a month's sheets asks.
fn out_of_scope(kind: &[u8]) -> bool {
    matches!(
        kind,
        b"32"
            | b"33"
            | b"35"
            | b"36"
            | b"37"
            | b"41"
            | b"42"
            | b"44"
            | b"45"
            | b"51"
            | b"52"
            | b"53"
            | b"54"
            | b"59"
            | b"81"
    )
}

/// The rental kinds (福祉用具貸与, 介護予防福祉用具貸与), whose lines name the product.
const RENTAL_KINDS: &[&str] = &["17", "67"];

/// Pairs of dates of one record in order, the first not after the second, by their names in the layout.
const DATE_PAIRS: &[(FileKind, &str, &str)] = &[
    (
        FileKind::UserSupplement,
        "限度額適用開始年月日",
        "限度額適用終了年月日",
    ),
    (
        FileKind::PlanTable1,
        "初回居宅サービス計画作成日",
        "居宅サービス計画作成（変更）日",
    ),
    (FileKind::PlanTable1, "認定有効期間開始日", "認定有効期間終了日"),
    (FileKind::PreventionPlan, "初回作成日", "計画作成(変更)日"),
];

/// A field to fill when another holds a code: (kind, coded field, code, field to fill), by layout names.
const FILLED_WHEN: &[(FileKind, &str, &str, &str)] = &[
    (
        FileKind::PreventionBasic,
        "相談方法",
        "03",
        "相談方法(その他の内容)",
    ),
    (
        FileKind::PreventionBasic,
        "利用者の現況",
        "02",
        "利用者の現況(状況補足)",
    ),
];

/// A field filled only when another holds a code: (kind, coded field, code, field), by layout names.
const ONLY_WHEN: &[(FileKind, &str, &str, &str)] = &[(
    FileKind::PlanTable1,
    "生活援助中心型の算定理由",
    "3",
    "その他理由",
)];

/// Kinds of 短期入所療養介護 other than 22, which the supplement's limit slots do not use (定義書 利用者補足情報
/// №20–55: 「短期入所療養介護の場合は22…を設定する」).
const SHORT_STAY_CARE_KINDS_NOT_22: &[&str] = &["23", "2A"];

/// A field of a layout, found by name: its position (0-based) and its spec.
#[derive(Clone, Copy)]
pub(super) struct At {
    pub(super) index: usize,
    spec: &'static FieldSpec,
}

impl At {
    /// The field's value in a record's values; empty past the end.
    pub(super) fn of<'v>(self, values: &[&'v [u8]]) -> &'v [u8] {
        values.get(self.index).copied().unwrap_or_default()
    }

    /// 項目No, 1-based.
    pub(super) fn number(self) -> usize {
        self.index + 1
    }
}

/// `field 10 サービス利用日`: how a message names a field.
impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field {} {}", self.number(), self.spec.name)
    }
}

/// Looks fields up by name in one layout.
struct Finder(&'static [FieldSpec]);

impl Finder {
    fn at(&self, name: &str) -> Option<At> {
        let index = find(self.0, name)?;
        Some(At {
            index,
            spec: &self.0[index],
        })
    }
}

/// The 福祉用具 product fields of a 6表 or 7表 layout (V4 only).
#[derive(Clone, Copy)]
pub(super) struct EquipmentFields {
    tais: At,
    notified: At,
}

impl EquipmentFields {
    fn find(f: &Finder) -> Option<Self> {
        Some(Self {
            tais: f.at("TAISコード")?,
            notified: f.at("福祉用具届出コード")?,
        })
    }

    /// Why a rental line of service code `code` does not name its product, when it does not.
    fn missing_on(self, values: &[&[u8]], code: &[u8]) -> Option<String> {
        let kind = split_code(code).0;
        (one_of(RENTAL_KINDS, kind) && self.tais.of(values).is_empty() && self.notified.of(values).is_empty())
            .then(|| {
                format!(
                    "fields {} {} / {} {}: both empty on a 福祉用具貸与 line ({code})",
                    self.tais.number(),
                    self.tais.spec.name,
                    self.notified.number(),
                    self.notified.spec.name,
                    code = Shown(code)
                )
            })
    }
}

/// 第6表 (`UPPLAN`, `UPJSK`).
pub(super) struct UsageFields {
    month: At,
    date: At,
    proration: At,
    count: At,
    code: At,
    equipment: Option<EquipmentFields>,
    detail: At,
    provider: At,
}

/// 第7表 (`UPSIKYU`).
pub(super) struct AnnexFields {
    pub(super) insurer: At,
    pub(super) insured: At,
    pub(super) month: At,
    office: At,
    pub(super) code: At,
    equipment: Option<EquipmentFields>,
    units: At,
    discount_rate: At,
    discounted_units: At,
    /// 給付管理単位数.
    managed_units: At,
    /// 前月までの利用日数, 当月の計画利用日数, 累積利用日数.
    stay_days: [At; 3],
    /// サービス単位／金額, which the subtotal and total rows sum.
    pub(super) amount: At,
    summary_office: At,
}

/// 居宅サービス計画1表 (`UP1KYO`).
pub(super) struct PlanTable1Fields {
    office: At,
}

/// 第6表 実績削除 (`DLTJSK`).
pub(super) struct ActualDeletionFields {
    provider: At,
    kind: At,
}

/// 利用者補足情報 (`UPHOSOKU`).
pub(super) struct SupplementFields {
    plan_date: At,
    month: At,
    /// The サービス種類コード of each kind-limit slot.
    slot_kinds: [At; KIND_LIMIT_SLOTS],
}

/// The fields the rules of one kind relate.
pub(super) enum Relations {
    Usage(UsageFields),
    Annex(AnnexFields),
    ActualDeletion(ActualDeletionFields),
    PlanTable1(PlanTable1Fields),
    Supplement(SupplementFields),
    /// Kinds whose relations are only the named ones (date pairs, filled-when).
    None,
}

/// A layout ready for checking: its fields, and where every rule between fields finds its own.
pub(super) struct CheckedLayout {
    pub(super) specs: &'static [FieldSpec],
    /// The field checks grouped for a clean record's verdict.
    pub(super) fields: FieldPlan,
    /// 対象年月 / 削除対象年月, in a month-bound layout: compared with the file name's month.
    pub(super) month: Option<At>,
    pub(super) relations: Relations,
    date_pairs: Vec<(At, At)>,
    filled_when: Vec<(At, &'static str, At)>,
    only_when: Vec<(At, &'static str, At)>,
    /// Where the rules over a file's records find their fields.
    across: AcrossFields,
}

/// The fields of the rules over all of a file's records.
#[derive(Clone, Copy)]
pub(super) enum AcrossFields {
    /// UPPLAN: サービス事業者コード, for the users without a line of the receiver.
    ReceiverLines {
        provider: At,
    },
    /// UPYOBO_SUB: 計画作成(変更)日, and 課題ＮＯ, 支援計画ＮＯ, 利用サービスＮＯ.
    SupportNumbering {
        plan_date: At,
        numbers: [At; 3],
    },
    None,
}

impl CheckedLayout {
    /// Resolves every name the rules use; `None` when a name is missing, which the tests rule out.
    fn resolve(kind: FileKind, v4: bool) -> Option<Self> {
        let specs = layout(kind, v4)?;
        let f = Finder(specs);
        let relations = match kind {
            FileKind::UsagePlan | FileKind::UsageActual => Relations::Usage(UsageFields {
                month: f.at("対象年月")?,
                date: f.at("サービス利用日")?,
                proration: f.at("日割対象日")?,
                count: f.at("サービス回数")?,
                code: f.at("サービスコード")?,
                equipment: EquipmentFields::find(&f),
                detail: f.at("明細判別コード")?,
                provider: f.at("サービス事業者コード")?,
            }),
            FileKind::UsageAnnex => Relations::Annex(AnnexFields {
                insurer: f.at("保険者番号")?,
                insured: f.at("被保険者番号")?,
                month: f.at("対象年月")?,
                office: f.at("サービス事業所コード")?,
                code: f.at("サービスコード")?,
                equipment: EquipmentFields::find(&f),
                units: f.at("単位数")?,
                discount_rate: f.at("割引後率")?,
                discounted_units: f.at("割引後単位数")?,
                managed_units: f.at("給付管理単位数")?,
                stay_days: [
                    f.at("前月までの利用日数")?,
                    f.at("当月の計画利用日数")?,
                    f.at("累積利用日数")?,
                ],
                amount: f.at("サービス単位／金額")?,
                summary_office: f.at("事業所コード")?,
            }),
            FileKind::PlanTable1 => Relations::PlanTable1(PlanTable1Fields {
                office: f.at("介護支援事業者コード")?,
            }),
            FileKind::UsageActualDeletion => Relations::ActualDeletion(ActualDeletionFields {
                provider: f.at("サービス事業者コード")?,
                kind: f.at("サービス種類コード")?,
            }),
            FileKind::UserSupplement => {
                let slots: Option<Vec<At>> = (0..KIND_LIMIT_SLOTS)
                    .map(|slot| f.at(&slot_field(slot, KindLimitField::Kind)))
                    .collect();
                Relations::Supplement(SupplementFields {
                    plan_date: f.at("居宅サービス計画作成（変更）日")?,
                    month: f.at("対象年月")?,
                    slot_kinds: slots?.try_into().ok()?,
                })
            }
            _ => Relations::None,
        };
        let date_pairs = DATE_PAIRS
            .iter()
            .filter(|(k, ..)| *k == kind)
            .map(|&(_, first, second)| Some((f.at(first)?, f.at(second)?)))
            .collect::<Option<_>>()?;
        let coded_pairs = |table: &[(FileKind, &str, &'static str, &str)]| {
            table
                .iter()
                .filter(|(k, ..)| *k == kind)
                .map(|&(_, coded, code, other)| Some((f.at(coded)?, code, f.at(other)?)))
                .collect::<Option<Vec<_>>>()
        };
        let across = match kind {
            FileKind::UsagePlan => AcrossFields::ReceiverLines {
                provider: f.at("サービス事業者コード")?,
            },
            FileKind::PreventionPlanSupport => AcrossFields::SupportNumbering {
                plan_date: f.at("計画作成(変更)日")?,
                numbers: [
                    f.at("課題ＮＯ")?,
                    f.at("支援計画ＮＯ")?,
                    f.at("利用サービスＮＯ")?,
                ],
            },
            _ => AcrossFields::None,
        };
        Some(Self {
            specs,
            fields: FieldPlan::new(specs),
            month: f.at("対象年月").or_else(|| f.at("削除対象年月")),
            relations,
            date_pairs,
            filled_when: coded_pairs(FILLED_WHEN)?,
            only_when: coded_pairs(ONLY_WHEN)?,
            across,
        })
    }
}

impl CheckedLayout {
    /// A layout whose rules between fields cannot find their fields: its fields are still checked one by
    /// one. Only a renamed field can lead here, which `every_layout_resolves_the_names_its_rules_use` rules out.
    fn fields_only(kind: FileKind, v4: bool) -> Option<Self> {
        let specs = layout(kind, v4)?;
        Some(Self {
            specs,
            fields: FieldPlan::new(specs),
            month: None,
            relations: Relations::None,
            date_pairs: Vec::new(),
            filled_when: Vec::new(),
            only_when: Vec::new(),
            across: AcrossFields::None,
        })
    }
}

/// Every layout under both rule sets, resolved on first use.
static CHECKED: LazyLock<Vec<(FileKind, bool, Option<CheckedLayout>)>> = LazyLock::new(|| {
    FileKind::ALL
        .into_iter()
        .flat_map(|kind| {
            [true, false].map(|v4| {
                let resolved = CheckedLayout::resolve(kind, v4);
                debug_assert!(
                    resolved.is_some(),
                    "{kind}: a rule names a field its layout lacks"
                );
                (
                    kind,
                    v4,
                    resolved.or_else(|| CheckedLayout::fields_only(kind, v4)),
                )
            })
        })
        .collect()
});

/// The checked layout of `kind` under the V4 (`v4`) or V3 rule set.
pub(super) fn checked(kind: FileKind, v4: bool) -> Option<&'static CheckedLayout> {
    CHECKED
        .iter()
        .find(|(k, v, _)| *k == kind && *v == v4)
        .and_then(|(_, _, checked)| checked.as_ref())
}

/// Rules that relate fields of one record.
pub(super) fn check_relations(
    values: &[&[u8]],
    line: u64,
    name: &FileName,
    layout: &CheckedLayout,
    findings: &mut Findings,
) {
    let line = Some(line);
    let mut add = |rule, at: At, message: String| findings.add(rule, line, Some(at.number()), message);
    match &layout.relations {
        Relations::Usage(f) => {
            let (month, date, code) = (f.month.of(values), f.date.of(values), f.code.of(values));
            let kind = split_code(code).0;
            let in_month = month_of(month);
            // Both in their canonical digits: the date is in the month when it starts with it.
            if let Some(in_month) = in_month
                && is_date(date)
                && !same(&date[..6], month)
            {
                add(
                    Rule::ServiceDateOutsideMonth,
                    f.date,
                    format!(
                        "{}: `{date}` is not in 対象年月 {in_month}",
                        f.date,
                        date = Shown(date)
                    ),
                );
            }
            let proration = f.proration.of(values);
            if let Some(in_month) = in_month
                && proration.len() == 31
                && proration.is_ascii()
                && proration
                    .iter()
                    .skip(usize::from(in_month.days()))
                    .any(|&b| b == b'1')
            {
                add(
                    Rule::ProrationOutsideMonth,
                    f.proration,
                    format!(
                        "{}: marks a day after the {}th of {in_month}",
                        f.proration,
                        in_month.days()
                    ),
                );
            }
            if let Some(e) = f.equipment
                && let Some(message) = e.missing_on(values, code)
            {
                add(Rule::EquipmentCodeMissing, e.tais, message);
            }
            let detail = f.detail.of(values);
            if !detail.is_empty() && !same(kind, "17") {
                add(
                    Rule::DetailCodeOutsideRental,
                    f.detail,
                    format!(
                        "{}: `{detail}` on a line of kind {kind}",
                        f.detail,
                        detail = Shown(detail),
                        kind = Shown(kind)
                    ),
                );
            }
            let count = f.count.of(values);
            if !count.is_empty() && count.iter().all(|&b| b == b'0') {
                add(
                    Rule::ServiceCount,
                    f.count,
                    format!("{}: `{count}` counts no service", f.count, count = Shown(count)),
                );
            }
            if name.kind == FileKind::UsageActual
                && let Some((sender_kind, _)) = name.service_kinds
                && code.len() == 6
                && code.is_ascii()
                && !same(kind, sender_kind.as_bytes())
            {
                add(
                    Rule::ActualProviderMismatch,
                    f.code,
                    format!(
                        "{}: `{code}` is of kind {kind}, not the sending office's kind {sender_kind}",
                        f.code,
                        code = Shown(code),
                        kind = Shown(kind)
                    ),
                );
            }
            if out_of_scope(kind) {
                add(
                    Rule::ServiceKindOutOfScope,
                    f.code,
                    format!(
                        "{}: kind {kind} is outside the exchange's scope",
                        f.code,
                        kind = Shown(kind)
                    ),
                );
            }
            let provider = f.provider.of(values);
            if name.kind == FileKind::UsageActual
                && !same(provider, name.from.as_bytes())
                && !provider.is_empty()
            {
                add(
                    Rule::ActualProviderMismatch,
                    f.provider,
                    format!(
                        "{}: `{provider}` is not the sending office {}",
                        f.provider,
                        name.from,
                        provider = Shown(provider)
                    ),
                );
            }
        }
        Relations::Annex(f) => {
            let code = f.code.of(values);
            let summary = is_summary_code(code);
            if summary
                && (!same(f.units.of(values), "0")
                    || !f.discount_rate.of(values).is_empty()
                    || !f.discounted_units.of(values).is_empty())
            {
                add(
                    Rule::AnnexSummaryRow,
                    f.units,
                    format!(
                        "fields {}–{} of the {code} row: {} must be 0 and {}/{} empty",
                        f.units.number(),
                        f.discounted_units.number(),
                        f.units.spec.name,
                        f.discount_rate.spec.name,
                        f.discounted_units.spec.name,
                        code = Shown(code)
                    ),
                );
            }
            let office = f.office.of(values);
            if same(code, "999999") && !same(office, ALL_NINES_OFFICE) {
                add(
                    Rule::AnnexTotalRow,
                    f.office,
                    format!(
                        "{}: `{office}` on the total row must be {ALL_NINES_OFFICE}",
                        f.office,
                        office = Shown(office)
                    ),
                );
            }
            let kind = split_code(code).0;
            if !summary
                && let Some(e) = f.equipment
                && let Some(message) = e.missing_on(values, code)
            {
                add(Rule::EquipmentCodeMissing, e.tais, message);
            }
            let summary_office = f.summary_office.of(values);
            if !summary_office.is_empty() && !same(summary_office, ALL_NINES_OFFICE) {
                add(
                    Rule::AnnexOfficeCode,
                    f.summary_office,
                    format!(
                        "{}: `{summary_office}` must be {ALL_NINES_OFFICE}",
                        f.summary_office,
                        summary_office = Shown(summary_office)
                    ),
                );
            }
            let [before, planned, cumulative] = f.stay_days.map(|at| parse::<u32>(at.of(values)));
            if let (Some(before), Some(planned), Some(cumulative)) = (before, planned, cumulative)
                && before.checked_add(planned) != Some(cumulative)
            {
                let [b, p, c] = f.stay_days;
                add(
                    Rule::StayDaysSum,
                    c,
                    format!(
                        "{c}: {cumulative}, but {} {before} + {} {planned} = {}",
                        b.spec.name,
                        p.spec.name,
                        u64::from(before) + u64::from(planned)
                    ),
                );
            }
            if !summary && out_of_scope(kind) {
                add(
                    Rule::ServiceKindOutOfScope,
                    f.code,
                    format!(
                        "{}: kind {kind} is outside the exchange's scope",
                        f.code,
                        kind = Shown(kind)
                    ),
                );
            }
        }
        Relations::PlanTable1(f) => {
            let office = f.office.of(values);
            if !office.is_empty() && !same(office, name.from.as_bytes()) {
                add(
                    Rule::PlanOfficeNotSender,
                    f.office,
                    format!(
                        "{}: `{office}` is not the sending office {}",
                        f.office,
                        name.from,
                        office = Shown(office)
                    ),
                );
            }
        }
        Relations::ActualDeletion(f) => {
            let provider = f.provider.of(values);
            if !provider.is_empty() && !same(provider, name.from.as_bytes()) {
                add(
                    Rule::ActualProviderMismatch,
                    f.provider,
                    format!(
                        "{}: `{provider}` is not the sending office {}",
                        f.provider,
                        name.from,
                        provider = Shown(provider)
                    ),
                );
            }
            let kind = f.kind.of(values);
            if let Some((sender_kind, _)) = name.service_kinds
                && !kind.is_empty()
                && !same(kind, sender_kind.as_bytes())
            {
                add(
                    Rule::ActualProviderMismatch,
                    f.kind,
                    format!(
                        "{}: `{kind}` is not the sending office's kind {sender_kind}",
                        f.kind,
                        kind = Shown(kind)
                    ),
                );
            }
        }
        Relations::Supplement(f) => {
            let filled = |slot: &At| !slot.of(values).is_empty();
            if let Some(empty) = f.slot_kinds.iter().position(|slot| !filled(slot))
                && let Some(late) = f.slot_kinds[empty..].iter().position(filled)
            {
                let late = empty + late;
                add(
                    Rule::SlotOrder,
                    f.slot_kinds[late],
                    format!("{}: filled after empty slot {}", f.slot_kinds[late], empty + 1),
                );
            }
            for slot in &f.slot_kinds {
                let kind = slot.of(values);
                if one_of(SHORT_STAY_CARE_KINDS_NOT_22, kind) {
                    add(
                        Rule::ShortStaySlotKind,
                        *slot,
                        format!(
                            "{slot}: `{kind}` for 短期入所療養介護, which the slots write as 22",
                            kind = Shown(kind)
                        ),
                    );
                }
            }
            // The link to a month's sheets (00000000 plan date) or to plan tables (000000 month).
            let (plan_date, month) = (f.plan_date.of(values), f.month.of(values));
            match name.month {
                Some(MonthSegment::Month(_)) if !plan_date.is_empty() && !same(plan_date, "00000000") => add(
                    Rule::SupplementLink,
                    f.plan_date,
                    format!(
                        "{}: `{plan_date}` in a month's supplement should be 00000000",
                        f.plan_date,
                        plan_date = Shown(plan_date)
                    ),
                ),
                Some(MonthSegment::PlanLinked) if !same(month, "000000") => add(
                    Rule::SupplementLink,
                    f.month,
                    format!(
                        "{}: `{month}` in a plan's supplement should be 000000",
                        f.month,
                        month = Shown(month)
                    ),
                ),
                _ => {}
            }
        }
        Relations::None => {}
    }
    for &(first, second) in &layout.date_pairs {
        let (a, b) = (first.of(values), second.of(values));
        // Both real dates in YYYYMMDD: their text orders as the dates do. Dates are usually in order, so
        // the order is tested first.
        if a > b && is_date(a) && is_date(b) {
            add(
                Rule::DateOrder,
                first,
                format!(
                    "{first}: `{a}` is after {second} `{b}`",
                    a = Shown(a),
                    b = Shown(b)
                ),
            );
        }
    }
    for &(coded, code, field) in &layout.only_when {
        let value = field.of(values);
        if !value.is_empty() && !same(coded.of(values), code) {
            add(
                Rule::FieldNotCalledFor,
                field,
                format!(
                    "{field}: filled, but field {} {} is `{}`, not {code}",
                    coded.number(),
                    coded.spec.name,
                    Shown(coded.of(values))
                ),
            );
        }
    }
    for &(coded, code, to_fill) in &layout.filled_when {
        if same(coded.of(values), code) && to_fill.of(values).is_empty() {
            add(
                Rule::ConditionalField,
                to_fill,
                format!(
                    "{to_fill}: empty, but field {} {} is {code}, which calls for it",
                    coded.number(),
                    coded.spec.name
                ),
            );
        }
    }
}

/// Rules over all of a file's records, gathered record by record (records of the layout's field count only).
pub(super) enum Across {
    /// UPPLAN: each user's first line, and whether one of its lines is the receiver's.
    ReceiverLines {
        provider: At,
        /// Per run of a user's lines: the run's first line, and whether one of them is the receiver's.
        users: UserRuns<(u64, bool)>,
    },
    /// UPYOBO_SUB: the numbers of the last numbered row of each plan (user and 計画作成(変更)日).
    SupportNumbering {
        plan_date: At,
        numbers: [At; 3],
        last: HashMap<Vec<u8>, [u32; 3]>,
        /// `insurer \0 insured \0 plan date`, a buffer kept from row to row.
        key: Vec<u8>,
    },
    None,
}

impl Across {
    pub(super) fn new(layout: &CheckedLayout) -> Self {
        match layout.across {
            AcrossFields::ReceiverLines { provider } => Across::ReceiverLines {
                provider,
                users: UserRuns::default(),
            },
            AcrossFields::SupportNumbering { plan_date, numbers } => Across::SupportNumbering {
                plan_date,
                numbers,
                last: HashMap::new(),
                key: Vec::new(),
            },
            AcrossFields::None => Across::None,
        }
    }

    /// Takes in one record: `user` is its 保険者番号 and 被保険者番号.
    pub(super) fn add(
        &mut self,
        values: &[&[u8]],
        user: (&[u8], &[u8]),
        line: u64,
        name: &FileName,
        findings: &mut Findings,
    ) {
        match self {
            Across::ReceiverLines { provider, users } => {
                let theirs = same(provider.of(values), name.to.as_bytes());
                users.add([user.0, user.1], || (line, false)).1 |= theirs;
            }
            Across::SupportNumbering {
                plan_date,
                numbers,
                last,
                key,
            } => {
                // A number is at most two digits (its format's finding otherwise); a row without its three
                // numbers is skipped and leaves the numbering where it was.
                let number = |at: &At| {
                    let value = at.of(values);
                    (value.len() <= 2).then(|| parse::<u32>(value)).flatten()
                };
                let [Some(issue), Some(plan), Some(service)] = numbers.each_ref().map(number) else {
                    return;
                };
                key.clear();
                for part in [user.0, b"\0", user.1, b"\0", plan_date.of(values)] {
                    key.extend_from_slice(part);
                }
                // The example of 定義書: a new 課題 starts its support plans at 1, a new support plan its
                // services at 1; within them each number steps by one.
                let expected = match last.get(key.as_slice()) {
                    Some(&[i, p, s]) if i == issue && p == plan => (plan, s + 1),
                    Some(&[i, p, _]) if i == issue => (p + 1, 1),
                    _ => (1, 1),
                };
                if (plan, service) != expected {
                    let [i, p, s] = *numbers;
                    findings.add(
                        Rule::SupportPlanNumbering,
                        Some(line),
                        Some(if plan == expected.0 {
                            s.number()
                        } else {
                            p.number()
                        }),
                        format!(
                            "{} {issue}, {} {plan}, {} {service}: expected {} {}, {} {} after the plan's row before",
                            i.spec.name,
                            p.spec.name,
                            s.spec.name,
                            p.spec.name,
                            expected.0,
                            s.spec.name,
                            expected.1
                        ),
                    );
                }
                match last.get_mut(key.as_slice()) {
                    Some(seen) => *seen = [issue, plan, service],
                    None => {
                        last.insert(key.clone(), [issue, plan, service]);
                    }
                }
            }
            Across::None => {}
        }
    }

    pub(super) fn finish(self, name: &FileName, findings: &mut Findings) {
        if let Across::ReceiverLines { provider, users } = self {
            users.for_each(
                |(_, theirs), (_, later)| *theirs |= later,
                |[insurer, insured], (line, theirs)| {
                    if !theirs {
                        findings.add(
                            Rule::ReceiverWithoutLines,
                            Some(line),
                            Some(provider.number()),
                            format!(
                                "user {}/{} has no line of the receiving office {} ({provider})",
                                Shown(insurer),
                                Shown(insured),
                                name.to
                            ),
                        );
                    }
                },
            );
        }
    }
}

/// Whether a 7表 サービスコード is a subtotal (kind + AAAA/EEEE/ZZZZ) or the grand total (999999).
fn is_summary_code(code: &[u8]) -> bool {
    same(code, "999999")
        || split_code(code)
            .1
            .is_some_and(|rest| one_of(&["AAAA", "EEEE", "ZZZZ"], rest))
}

/// Rules that need the national service-code table: each service code exists in the record's service
/// month, and a 7表 row agrees with the table on units and on the 区分支給限度.
pub(super) fn check_service_codes(
    values: &[&[u8]],
    line: u64,
    layout: &CheckedLayout,
    table: &ServiceCodes,
    findings: &mut Findings,
) {
    let (code_at, month_at, annex) = match &layout.relations {
        Relations::Usage(f) => (f.code, f.month, None),
        Relations::Annex(f) => (f.code, f.month, Some(f)),
        _ => return,
    };
    let code = code_at.of(values);
    // A malformed code or month is already a format finding; summary rows carry no service code.
    let Some(month) = month_of(month_at.of(values)) else {
        return;
    };
    if code.len() != 6 || !code.is_ascii() || annex.is_some() && is_summary_code(code) {
        return;
    }
    let line = Some(line);
    let entry = match std::str::from_utf8(code).map_or(Lookup::Unknown, |code| table.lookup(code, month)) {
        Lookup::Found(entry) => entry,
        Lookup::Unknown => {
            findings.add(
                Rule::ServiceCodeUnknown,
                line,
                Some(code_at.number()),
                format!(
                    "{code_at}: `{code}` is not a code of the service-code table",
                    code = Shown(code)
                ),
            );
            return;
        }
        Lookup::OutsidePeriods(entries) => {
            findings.add(
                Rule::ServiceCodeUnknown,
                line,
                Some(code_at.number()),
                format!(
                    "{code_at}: `{code}` applies {}, not in 対象年月 {month}",
                    periods(entries),
                    code = Shown(code)
                ),
            );
            return;
        }
    };
    let Some(f) = annex else { return };
    let units = f.units.of(values);
    if let Some(expected) = entry.units
        && parse::<u32>(units).is_some_and(|u| u != expected)
    {
        findings.add(
            Rule::ServiceUnitsMismatch,
            line,
            Some(f.units.number()),
            format!(
                "{}: `{units}` for {code}, whose units in the table are {expected}",
                f.units,
                units = Shown(units),
                code = Shown(code)
            ),
        );
    }
    let managed = f.managed_units.of(values);
    if entry.within_limit == Some(false) && !managed.is_empty() {
        findings.add(
            Rule::ManagedUnitsOutsideLimit,
            line,
            Some(f.managed_units.number()),
            format!(
                "{}: `{managed}` on {code}, which the table marks outside the 区分支給限度",
                f.managed_units,
                managed = Shown(managed),
                code = Shown(code)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_resolves_the_names_its_rules_use() {
        for kind in FileKind::ALL {
            for v4 in [true, false] {
                assert!(CheckedLayout::resolve(kind, v4).is_some(), "{kind} v4={v4}");
            }
        }
        let usage = |v4| match checked(FileKind::UsagePlan, v4).map(|c| &c.relations) {
            Some(Relations::Usage(f)) => (f.provider.number(), f.equipment.is_some()),
            _ => unreachable!(),
        };
        // V3 sheets lack fields 16–18 (定義書 第6表): サービス事業者コード moves from 20 to 17.
        assert_eq!(usage(true), (20, true));
        assert_eq!(usage(false), (17, false));
    }
}
