//! Requirements of the official V4.1 text (仕様書 and CSVファイルレイアウト定義書), each with a stable ID,
//! its source, and what enforces it: the validator [`Rule`]s, or the reason none does.
//!
//! Field-level requirements (a field's presence, length, format, code table, quoting) are derived from
//! the layout table ([`crate::layout`]), so they cannot drift from what the validator checks; requirements
//! between fields, records and files, and those of the specification's body, are listed here by hand, each
//! citing its place in the text. `docs/requirements.md` is generated from this catalogue.
//!
//! Invariants: IDs are stable (never renamed or reused); every requirement has a rule or a stated reason;
//! every rule enforces at least one requirement (tests check both).

use std::sync::LazyLock;

use crate::FileKind;
use crate::layout::{FieldSpec, Format, Presence, common_fields, find, layout, position};
use crate::validate::Rule;

/// How a requirement is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// The rules report a file that breaks it.
    Enforced(Vec<Rule>),
    /// The text can be read more than one way: the rules enforce the reading stated.
    Ambiguous {
        /// The rules enforcing the chosen reading.
        rules: Vec<Rule>,
        /// The reading chosen, and why.
        reading: &'static str,
    },
    /// The rules enforce it when the user gives the validator a table the files do not carry (the national
    /// service-code table, `validate --service-codes`); without the table nothing does.
    WithTable {
        /// The rules enforcing it with the table.
        rules: Vec<Rule>,
        /// The table, and how it is given.
        table: &'static str,
    },
    /// Nothing enforces it, for the reason stated (e.g. it needs data the files do not carry).
    NotEnforced(&'static str),
    /// The files alone could show a breach, but no rule checks it yet: the check a rule would make.
    NotYetEnforced(&'static str),
}

impl Coverage {
    /// The rules enforcing the requirement (none when not enforced).
    pub fn rules(&self) -> &[Rule] {
        match self {
            Coverage::Enforced(rules)
            | Coverage::Ambiguous { rules, .. }
            | Coverage::WithTable { rules, .. } => rules,
            Coverage::NotEnforced(_) | Coverage::NotYetEnforced(_) => &[],
        }
    }

    /// Whether the rules enforce it only with a table the user gives.
    pub fn needs_table(&self) -> bool {
        matches!(self, Coverage::WithTable { .. })
    }

    /// `enforced`, `ambiguous`, `enforced with a table`, `not enforced` or `not yet enforced`.
    pub fn status(&self) -> &'static str {
        match self {
            Coverage::Enforced(_) => "enforced",
            Coverage::Ambiguous { .. } => "ambiguous",
            Coverage::WithTable { .. } => "enforced with a table",
            Coverage::NotEnforced(_) => "not enforced",
            Coverage::NotYetEnforced(_) => "not yet enforced",
        }
    }
}

/// One requirement of the official text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Stable ID, e.g. `UPPLAN-15-FORMAT` (a field's), `UPSIKYU-X-TOTAL-ROW` (between fields or records),
    /// `FILE-ENCODING` (every file), `RECEIVE-REPLACE` (a receiving product's behaviour).
    pub id: String,
    /// The file kinds it concerns; empty for every file.
    pub kinds: Vec<FileKind>,
    /// The field №, for a field's requirement.
    pub field: Option<usize>,
    /// What the text requires, in English.
    pub statement: String,
    /// Where the text says it: 仕様書 (by section) or 定義書 (by file, field № and column), quoting it where
    /// the wording matters.
    pub source: String,
    /// What enforces it.
    pub coverage: Coverage,
}

/// The file's title in 定義書 (ファイル名称); the 6表 layout and its deletion serve plans (計画) and actuals
/// (実績) alike, told apart by their file names.
pub fn official_title(kind: FileKind) -> &'static str {
    match kind {
        FileKind::UserSupplement => "利用者補足情報",
        FileKind::PlanTable1 => "居宅サービス計画1表",
        FileKind::PlanTable1Deletion => "居宅サービス計画1表_削除",
        FileKind::PlanTable2 => "居宅サービス計画2表",
        FileKind::PlanTable3 => "居宅サービス計画３表",
        FileKind::UsagePlan => "第6表（サービス利用票）、実績情報 (計画)",
        FileKind::UsagePlanDeletion => "第6表（サービス利用票）、実績情報_削除 (計画)",
        FileKind::UsageActual => "第6表（サービス利用票）、実績情報 (実績)",
        FileKind::UsageActualDeletion => "第6表（サービス利用票）、実績情報_削除 (実績)",
        FileKind::UsageAnnex => "第7表（サービス利用票別表）",
        FileKind::PreventionBasic => "利用者基本情報",
        FileKind::PreventionBasicSchedule => {
            "利用者基本情報（別表1）１日の生活・すごし方(タイムスケジュール)"
        }
        FileKind::PreventionBasicHistory => "利用者基本情報（別表2）現病歴・既往歴",
        FileKind::PreventionBasicDeletion => "利用者基本情報_削除",
        FileKind::PreventionPlan => "介護予防サービス・支援計画書",
        FileKind::PreventionPlanSupport => "介護予防サービス・支援計画書（別表）支援計画",
        FileKind::PreventionPlanDeletion => "介護予防サービス・支援計画書_削除",
    }
}

/// The kinds in the order the report lists them: 居宅 first, then 介護予防, as 定義書 orders them — the
/// order `FileKind` declares them in.
pub fn kinds_in_order() -> [FileKind; 17] {
    let mut kinds = FileKind::ALL;
    kinds.sort();
    kinds
}

/// The valid fixture (under `fixtures/valid/`) whose first record each field-level requirement of a kind
/// is broken on, in turn, by this module's tests.
pub fn field_fixture(kind: FileKind) -> &'static str {
    match kind {
        FileKind::UserSupplement => {
            "plan-bundle/UPHOSOKU_202505_1310000001_43_1310000002_11_20250425103000.CSV"
        }
        FileKind::PlanTable1 => "plan-tables/UP1KYO_1310000001_43_1310000002_11_20250425103000.CSV",
        FileKind::PlanTable2 => "plan-tables/UP2KYO_1310000001_43_1310000002_11_20250425103000.CSV",
        FileKind::PlanTable3 => "plan-tables/UP3KYO_1310000001_43_1310000002_11_20250425103000.CSV",
        FileKind::UsagePlan => "plan-bundle/UPPLAN_202505_1310000001_43_1310000002_11_20250425103000.CSV",
        FileKind::UsageAnnex => "plan-bundle/UPSIKYU_202505_1310000001_43_1310000002_11_20250425103000.CSV",
        FileKind::UsageActual => "actuals/UPJSK_202505_1310000002_11_1310000001_43_20250425103000.CSV",
        FileKind::PreventionBasic => {
            "prevention-basic/UPKIHON_1310000001_43_1310000002_11_20250425103000.CSV"
        }
        FileKind::PreventionBasicSchedule => {
            "prevention-basic/UPKIHON_SUB1_1310000001_43_1310000002_11_20250425103000.CSV"
        }
        FileKind::PreventionBasicHistory => {
            "prevention-basic/UPKIHON_SUB2_1310000001_43_1310000002_11_20250425103000.CSV"
        }
        FileKind::PreventionPlan => "prevention-plan/UPYOBO_1310000001_43_1310000002_11_20250425103000.CSV",
        FileKind::PreventionPlanSupport => {
            "prevention-plan/UPYOBO_SUB_1310000001_43_1310000002_11_20250425103000.CSV"
        }
        FileKind::PlanTable1Deletion => "deletions/DLT1KYO_1310000001_43_1310000002_11_20250425103001.CSV",
        FileKind::UsagePlanDeletion => {
            "deletions/DLTPLAN_202505_1310000001_43_1310000002_11_20250425103002.CSV"
        }
        FileKind::UsageActualDeletion => {
            "deletions/DLTJSK_202505_1310000002_11_1310000001_43_20250425103003.CSV"
        }
        FileKind::PreventionBasicDeletion => {
            "deletions/DLTKIHON_1310000001_43_1310000002_11_20250425103004.CSV"
        }
        FileKind::PreventionPlanDeletion => {
            "deletions/DLTYOBO_1310000001_43_1310000002_11_20250425103005.CSV"
        }
    }
}

/// Every requirement: those of every file, then each kind's field-level and cross-field requirements.
pub fn all() -> &'static [Requirement] {
    static ALL: LazyLock<Vec<Requirement>> = LazyLock::new(build);
    &ALL
}

/// The requirements a rule enforces.
pub fn enforced_by(rule: Rule) -> impl Iterator<Item = &'static Requirement> {
    all().iter().filter(move |r| r.coverage.rules().contains(&rule))
}

fn build() -> Vec<Requirement> {
    let mut out: Vec<Requirement> = cross::every_file()
        .into_iter()
        .map(Cross::into_requirement)
        .collect();
    out.extend(cross::receiver().into_iter().map(|c| Requirement {
        id: format!("RECEIVE-{}", c.id),
        ..c.into_requirement()
    }));
    for kind in kinds_in_order() {
        out.extend(field_requirements(kind));
        out.extend(cross::of_kind(kind).into_iter().map(|c| {
            Cross {
                kinds: vec![kind],
                ..c
            }
            .into_requirement()
        }));
    }
    out
}

/// A field's requirements, derived from its row of the V4.1 layout.
fn field_requirements(kind: FileKind) -> Vec<Requirement> {
    let Some(fields) = layout(kind, true) else {
        return Vec::new();
    };
    let title = official_title(kind);
    let prefix = kind.prefix();
    let mut out = vec![Requirement {
        id: format!("{prefix}-FIELDS"),
        kinds: vec![kind],
        field: None,
        statement: format!("Every record has the layout's {} fields.", fields.len()),
        source: format!("定義書 {title} (No. 1–{})", fields.len()),
        coverage: Coverage::Enforced(vec![Rule::FieldCount]),
    }];
    for (index, spec) in fields.iter().enumerate() {
        let number = index + 1;
        let requirement = |aspect: &str, statement: String, column: &str, coverage| Requirement {
            id: format!("{prefix}-{number:02}-{aspect}"),
            kinds: vec![kind],
            field: Some(number),
            statement,
            source: format!("定義書 {title} №{number} {} ({column})", spec.name),
            coverage,
        };
        match spec.presence {
            Presence::Required => out.push(requirement(
                "REQUIRED",
                format!("{} holds a value.", spec.name),
                "必須 ○",
                Coverage::Enforced(vec![Rule::RequiredField]),
            )),
            Presence::Recommended => out.push(requirement(
                "REQUIRED",
                format!("{} holds a value.", spec.name),
                "必須, 備考",
                Coverage::Ambiguous {
                    rules: vec![Rule::RecommendedField],
                    reading: "the extraction of the 必須 column cannot place this field's ○ with certainty; \
                              an empty value is reported as a warning",
                },
            )),
            Presence::Optional => {}
        }
        // An unused field must be empty, which its EMPTY requirement states: a length adds nothing.
        if let Some(max) = spec.max_len.filter(|_| spec.format != Format::Unused) {
            out.push(requirement(
                "LENGTH",
                format!("{} is at most {max} characters long.", spec.name),
                "項目長",
                Coverage::Enforced(vec![Rule::FieldLength]),
            ));
        }
        if let Some((aspect, statement, column, coverage)) = format_requirement(spec) {
            out.push(requirement(aspect, statement, column, coverage));
        }
    }
    out
}

/// The requirement a field's format states, with the rule enforcing it.
fn format_requirement(spec: &FieldSpec) -> Option<(&'static str, String, &'static str, Coverage)> {
    let name = &spec.name;
    let enforced = |rule| Coverage::Enforced(vec![rule]);
    let (statement, coverage) = match spec.format {
        Format::Text => return None,
        Format::Version => (
            format!("{name} is a published CSVバージョン (YYYYMM)."),
            enforced(Rule::CsvVersionUnknown),
        ),
        Format::Insurer => (format!("{name} is 6 digits."), enforced(Rule::InsurerNumber)),
        Format::Insured => (
            format!("{name} is 10 digits, or H + 9 digits for 生活保護単独."),
            enforced(Rule::InsuredNumber),
        ),
        Format::Date => (
            format!("{name} is a real date YYYYMMDD."),
            enforced(Rule::DateInvalid),
        ),
        Format::DateOrZero => (
            format!("{name} is a real date YYYYMMDD, or 00000000."),
            enforced(Rule::DateInvalid),
        ),
        Format::Month => (format!("{name} is a month YYYYMM."), enforced(Rule::DateInvalid)),
        Format::MonthOrZero => (
            format!("{name} is a month YYYYMM, or 000000."),
            enforced(Rule::DateInvalid),
        ),
        Format::Time => (
            format!("{name} is a time HHMM."),
            Coverage::Ambiguous {
                rules: vec![Rule::TimeInvalid, Rule::TimeEndOfDay],
                reading: "2400 (the end of the day) is neither allowed nor forbidden by HHMM: read as midnight \
                          with a warning",
            },
        ),
        Format::ServiceTime => (
            format!("{name} is a time HHMM, or 9999 for a service shown without a time."),
            Coverage::Ambiguous {
                rules: vec![Rule::TimeInvalid, Rule::TimeEndOfDay],
                reading: "2400 (the end of the day) is neither allowed nor forbidden by HHMM: read as midnight \
                          with a warning",
            },
        ),
        Format::Office => (
            format!("{name} is a 10-digit office number."),
            enforced(Rule::FormatInvalid),
        ),
        Format::OfficeOrAllNines => (
            format!("{name} is a 10-digit office number, or 9999999999."),
            enforced(Rule::FormatInvalid),
        ),
        Format::Kind => (
            format!("{name} is a service kind of 2 characters 0-9A-Z."),
            enforced(Rule::FormatInvalid),
        ),
        Format::ServiceCode => (
            format!("{name} is a service code of 6 characters 0-9A-Z."),
            enforced(Rule::FormatInvalid),
        ),
        Format::AnnexServiceCode => (
            format!("{name} is a service code, a kind + AAAA/EEEE/ZZZZ subtotal code, or 999999."),
            enforced(Rule::FormatInvalid),
        ),
        Format::Proration => (
            format!("{name} is 31 characters of 0 and 1, day 1 first."),
            enforced(Rule::FormatInvalid),
        ),
        Format::Integer => (
            format!("{name} is an integer of half-width digits."),
            enforced(Rule::NumberInvalid),
        ),
        Format::Ordinal => (
            format!("{name} is a number of the list, from 1 to 99."),
            enforced(Rule::NumberInvalid),
        ),
        Format::UnitPrice => (
            format!("{name} is written 99.99."),
            Coverage::Ambiguous {
                rules: vec![Rule::NumberInvalid, Rule::UnitPriceForm],
                reading: "`11.4` or `10` name the same price in another form, which the text does not forbid \
                          outright: a warning; anything else that is not a price is an error",
            },
        ),
        Format::Postal => (
            format!("{name} is a postal code XXX-XXXX."),
            enforced(Rule::FormatInvalid),
        ),
        Format::Code(codes) => (
            format!("{name} is one of {}.", codes.join(", ")),
            enforced(Rule::CodeInvalid),
        ),
        Format::FreeText => {
            return Some((
                "QUOTED",
                format!("{name} (free text) is enclosed in double quotes."),
                "※フリーテキスト",
                enforced(Rule::FreeTextUnquoted),
            ));
        }
        Format::Unused => {
            return Some((
                "EMPTY",
                format!("{name} (※使用しない) is empty."),
                "※使用しない",
                enforced(Rule::UnusedField),
            ));
        }
    };
    let column = match spec.format {
        Format::Code(_) => "書式、選択肢",
        _ => "書式",
    };
    Some(("FORMAT", statement, column, coverage))
}

/// A hand-written requirement before its kinds are set.
struct Cross {
    id: &'static str,
    kinds: Vec<FileKind>,
    /// The field it is about, by 項目名: its № comes from the layout.
    field: Option<&'static str>,
    statement: &'static str,
    source: &'static str,
    coverage: Coverage,
}

impl Cross {
    fn into_requirement(self) -> Requirement {
        let id = match self.kinds.as_slice() {
            [kind] => format!("{}-X-{}", kind.prefix(), self.id),
            _ => format!("FILE-{}", self.id),
        };
        // A field of every kind's layout (CSVバージョン, 保険者番号) stands where it stands in the common fields.
        let field = self.field.and_then(|name| match self.kinds.as_slice() {
            [kind] => position(*kind, true, name),
            _ => find(common_fields(), name),
        });
        debug_assert!(
            self.field.is_none() || field.is_some(),
            "{id}: {:?} is not a field of its layout",
            self.field
        );
        Requirement {
            id,
            kinds: self.kinds,
            field: field.map(|index| index + 1),
            statement: self.statement.to_owned(),
            source: self.source.to_owned(),
            coverage: self.coverage,
        }
    }
}

mod cross;

/// The coverage report as Markdown, the content of `docs/requirements.md`.
pub fn report_markdown() -> String {
    let all = all();
    let count = |status: &str| all.iter().filter(|r| r.coverage.status() == status).count();
    let mut out = format!(
        "# Requirements coverage\n\n\
         Every requirement of the official V4.1 text (仕様書 and CSVファイルレイアウト定義書) that a file can\n\
         break, with a stable ID, its source, and what checks it: the validator's rules (`docs/rules.md`), or why\n\
         nothing does. Field-level requirements are derived from the layout table the validator reads\n\
         (`crates/careplan-spec/src/layout.rs`); the others are listed in\n\
         `crates/careplan-spec/src/requirements/cross.rs`. Generated by `cargo xtask docs`; a test fails when it\n\
         is stale, when a requirement has neither a rule nor a reason, or when a rule enforces no requirement.\n\n\
         **{} requirements: {} enforced, {} ambiguous (enforced as the reading stated), {} enforced with a table\n\
         the user gives (the national service-code table, `validate --service-codes`, `docs/service-codes.md`),\n\
         {} not enforced (each with its reason: data the files do not carry, or a person's judgement), {} not yet\n\
         enforced (the files alone could show a breach; the check a rule would make is stated).**\n\n",
        all.len(),
        count("enforced"),
        count("ambiguous"),
        count("enforced with a table"),
        count("not enforced"),
        count("not yet enforced"),
    );
    out.push_str("## Every file\n\n");
    table(
        &mut out,
        all.iter()
            .filter(|r| r.kinds.is_empty() && !r.id.starts_with("RECEIVE-")),
    );
    out.push_str("\n## A receiving product\n\n");
    table(&mut out, all.iter().filter(|r| r.id.starts_with("RECEIVE-")));
    for kind in kinds_in_order() {
        let of_kind: Vec<&Requirement> = all.iter().filter(|r| r.kinds == [kind]).collect();
        let enforced = of_kind.iter().filter(|r| !r.coverage.rules().is_empty()).count();
        out.push_str(&format!(
            "\n## `{}` {} ({} requirements, {enforced} enforced)\n\n",
            kind.prefix(),
            official_title(kind),
            of_kind.len()
        ));
        out.push_str(&format!(
            "Each field-level requirement is broken in turn on the first record of `fixtures/valid/{}`, and the\n\
             test checks that its rule reports that field.\n\n",
            field_fixture(kind)
        ));
        table(&mut out, of_kind.into_iter());
    }
    out
}

fn table<'a>(out: &mut String, requirements: impl Iterator<Item = &'a Requirement>) {
    out.push_str("| ID | requirement | source | status | rules / reason |\n|---|---|---|---|---|\n");
    for r in requirements {
        let rules = || {
            r.coverage
                .rules()
                .iter()
                .map(|rule| format!("`{}`", rule.id()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let how = match &r.coverage {
            Coverage::Enforced(_) => rules(),
            Coverage::Ambiguous { reading, .. } => format!("{}; reading: {reading}", rules()),
            Coverage::WithTable { table, .. } => format!("{} with {table}; not enforced without it", rules()),
            Coverage::NotEnforced(reason) => (*reason).to_owned(),
            Coverage::NotYetEnforced(check) => format!("to build: {check}"),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            r.id,
            r.statement.replace('|', "\\|"),
            r.source.replace('|', "\\|"),
            r.coverage.status(),
            how.replace('|', "\\|")
        ));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_every_rule_enforces_a_requirement() {
        let mut ids = HashSet::new();
        for r in all() {
            assert!(ids.insert(r.id.as_str()), "duplicate requirement {}", r.id);
            if let Coverage::NotEnforced(reason) | Coverage::NotYetEnforced(reason) = &r.coverage {
                assert!(!reason.trim().is_empty(), "{} has no reason", r.id);
            } else {
                assert!(!r.coverage.rules().is_empty(), "{} names no rule", r.id);
            }
            assert!(!r.source.is_empty() && !r.statement.is_empty(), "{}", r.id);
        }
        for rule in Rule::ALL {
            assert!(
                enforced_by(*rule).next().is_some(),
                "{} enforces no requirement",
                rule.id()
            );
        }
    }

    /// Every requirement the files alone could show broken has its rule: a new one enters the catalogue as
    /// "not yet enforced" only until its rule lands, and this test holds the count at zero.
    #[test]
    fn every_requirement_the_files_can_show_has_a_rule() {
        let open: Vec<&str> = all()
            .iter()
            .filter(|r| matches!(r.coverage, Coverage::NotYetEnforced(_)))
            .map(|r| r.id.as_str())
            .collect();
        assert!(open.is_empty(), "not yet enforced: {open:?}");
    }

    #[test]
    fn every_layout_field_has_its_requirements() {
        let usage: Vec<&str> = all()
            .iter()
            .filter(|r| r.kinds == [FileKind::UsagePlan] && r.field == Some(15))
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(
            usage,
            [
                "UPPLAN-15-REQUIRED",
                "UPPLAN-15-LENGTH",
                "UPPLAN-15-FORMAT",
                "UPPLAN-X-SERVICE-CODE-EXISTS"
            ]
        );
        for kind in kinds_in_order() {
            let fields = layout(kind, true).unwrap_or_default();
            assert!(!fields.is_empty(), "{kind}");
            for (index, spec) in fields.iter().enumerate() {
                // Only optional text of unbounded length (`―`) and no format states nothing to break.
                let states_nothing = spec.presence == Presence::Optional
                    && spec.max_len.is_none()
                    && spec.format == Format::Text;
                // The field's own requirements, not those between fields that name it.
                let has = all()
                    .iter()
                    .any(|r| r.kinds == [kind] && r.field == Some(index + 1) && !r.id.contains("-X-"));
                assert_eq!(has, !states_nothing, "{kind} field {}", index + 1);
            }
        }
    }

    /// A value that breaks `spec`'s format, of an allowed length where the format allows it.
    fn breaking_value(spec: &FieldSpec) -> String {
        match spec.format {
            Format::Version => "202408".into(),
            Format::Insurer | Format::Insured => "12345".into(),
            Format::Date | Format::DateOrZero => "20250231".into(),
            Format::Month | Format::MonthOrZero => "202513".into(),
            Format::Time | Format::ServiceTime => "2460".into(),
            Format::Office | Format::OfficeOrAllNines => "123".into(),
            Format::Kind => "a".into(),
            Format::ServiceCode | Format::AnnexServiceCode => "abc".into(),
            Format::Proration => "0101".into(),
            Format::Integer => "a".into(),
            Format::Ordinal => "0".into(),
            Format::UnitPrice => "1x.00".into(),
            Format::Postal => "1234567".into(),
            Format::Code(codes) => ["9", "8", "0", "X"]
                .into_iter()
                .find(|c| !codes.contains(c))
                .unwrap_or("?")
                .into(),
            Format::Unused => "1".into(),
            Format::FreeText | Format::Text => "abc".into(),
        }
    }

    /// Every field-level requirement of a kind with a valid fixture, broken alone on the fixture's first
    /// record, is reported by one of its rules at that field.
    #[test]
    fn each_field_requirement_is_reported_when_broken() {
        use crate::csv_text::{Field, read_records, write_record};
        use crate::validate::{Options, validate_file};

        // A record's fields as they were written: quoted ones as free text.
        let as_written = |record: &crate::csv_text::Record<'_>| -> Vec<Field> {
            (0..record.len())
                .map(|i| match (record.is_quoted(i), record.field(i)) {
                    (_, "") => Field::Empty,
                    (true, v) => Field::text(v),
                    (false, v) => Field::code(v),
                })
                .collect()
        };
        let mut checked = 0;
        for kind in kinds_in_order() {
            let path = field_fixture(kind);
            let full = format!("{}/../../fixtures/valid/{path}", env!("CARGO_MANIFEST_DIR"));
            let bytes = std::fs::read(&full).unwrap();
            let name = path.rsplit('/').next().unwrap();
            let text = crate::ms932::decode(&bytes).unwrap();
            let records = read_records(&text).unwrap();
            let first = &records[0];
            let fields = layout(kind, true).unwrap();
            for r in all()
                .iter()
                .filter(|r| r.kinds == [kind] && !r.id.contains("-X-"))
            {
                let aspect = r.id.rsplit('-').next().unwrap();
                let mut values = as_written(first);
                let at = r.field.map(|n| n - 1);
                match (aspect, at) {
                    ("FIELDS", _) => {
                        values.pop();
                    }
                    ("REQUIRED", Some(i)) => values[i] = Field::Empty,
                    ("LENGTH", Some(i)) => {
                        let max = fields[i].max_len.unwrap();
                        let value = "9".repeat(max + 1);
                        values[i] = if fields[i].format == Format::FreeText {
                            Field::text(value)
                        } else {
                            Field::code(value)
                        };
                    }
                    ("FORMAT" | "EMPTY", Some(i)) => values[i] = Field::code(breaking_value(&fields[i])),
                    ("QUOTED", Some(i)) => values[i] = Field::code("abc"),
                    other => panic!("{}: unexpected aspect {other:?}", r.id),
                }
                let mut broken = String::new();
                write_record(&mut broken, &values);
                for rest in &records[1..] {
                    write_record(&mut broken, &as_written(rest));
                }
                let report = validate_file(name, &crate::ms932::encode(&broken).unwrap(), Options::default());
                let found = report.diagnostics.iter().any(|d| {
                    r.coverage.rules().contains(&d.rule) && (r.field.is_none() || d.field == r.field)
                });
                assert!(found, "{} not reported: {:?}", r.id, report.diagnostics);
                checked += 1;
            }
        }
        assert!(checked > 500, "only {checked} requirements broken");
    }

    #[test]
    fn the_published_report_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/requirements.md");
        let published = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            published == report_markdown(),
            "docs/requirements.md is stale: run `cargo xtask docs`"
        );
    }
}
