//! The care software's actions — exporting plans and actuals, importing what was downloaded — and the
//! check that files crossed the relay intact.

use std::collections::BTreeSet;
use std::fmt;
use std::marker::PhantomData;

use careplan_core::{CareMonth, ErrorCode};
use careplan_office::{Export, OfficeRole, SendUnit, Withdrawn};
use serde::Deserialize;

use crate::action::{
    Action, ActionInfo, CareManager, Group, Office, Param, Provider, from_str, from_str_opt,
};
use crate::run::{StepError, World};

fn describe_send_unit(send_unit: &SendUnit) -> String {
    send_unit
        .files
        .iter()
        .map(|f| format!("{} ({} bytes)", f.name, f.content.len()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a care-management office exports about the users it plans with a provider: the sheets of a
/// month, the care plans, or the 介護予防 files. Each is an action of its own (`export_plan`,
/// `export_plan_tables`, `export_prevention`) with the same parameters.
pub(crate) trait ProviderDocuments: Clone + fmt::Debug + PartialEq + Eq {
    /// The action's entry in the reference.
    const INFO: ActionInfo;

    /// What the care software is asked to export.
    fn export(month: CareMonth, users: Option<usize>) -> Export;
}

/// A care-management office exports documents about the users it plans with a provider.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub(crate) struct ExportFor<D> {
    office: Office<CareManager>,
    to: Office<Provider>,
    #[serde(deserialize_with = "from_str")]
    month: CareMonth,
    #[serde(default)]
    users: Option<usize>,
    #[serde(skip)]
    documents: PhantomData<D>,
}

impl<D: ProviderDocuments> Action for ExportFor<D> {
    const INFO: ActionInfo = D::INFO;

    fn describe(&self) -> String {
        let users = self.users.map_or_else(String::new, |n| format!(" ({n} users)"));
        format!(
            "{} {} → {} {}{users}",
            D::INFO.name,
            self.office,
            self.to,
            self.month
        )
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let now = world.now();
        let provider = world.offices[self.to.index].profile().clone();
        let export = D::export(self.month, self.users);
        let send_unit = world.offices[self.office.index].export(now, export, &provider)?;
        Ok(describe_send_unit(&send_unit))
    }
}

const USERS: Param = Param::optional(
    "users",
    "count",
    "the prepared case's users, or 3",
    "how many users: the first of the month's prepared case, or of the software's own data that the provider serves",
);

/// ① A month's plan send unit (`export_plan`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlanSheets;

impl ProviderDocuments for PlanSheets {
    const INFO: ActionInfo = ActionInfo {
        name: "export_plan",
        group: Group::CareSoftware,
        summary: "① the care software writes a month's plan send unit for a provider into the outbox",
        details: "The service usage sheet (第6表 `UPPLAN`), its annex (第7表 `UPSIKYU`) and the user supplement \
                  (`UPHOSOKU`): one send unit with one serial, MS932, V4.1 layouts. The care manager plans \
                  the month once with every provider of the scenario, and each provider gets its users' whole \
                  sheets, other providers' rows included (spec §5.4): a user's sheet is the same at every \
                  provider. The send unit waits in the office's outbox for `send`.",
        params: &[
            Param::required("office", "office (care management)", "the exporting office"),
            Param::required("to", "office (service)", "the provider the plans are for"),
            Param::required("month", "month", "the service month, `2025-05` or `202505`"),
            USERS,
        ],
        example: "action = \"export_plan\"\noffice = \"cm\"\nto = \"helper\"\nmonth = \"2025-05\"\nusers = 3",
        codes: &[ErrorCode::EncodingInvalid],
    };

    fn export(month: CareMonth, users: Option<usize>) -> Export {
        Export::Plan { month, users }
    }
}

/// The care plans, tables 1–3 (`export_plan_tables`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CarePlans;

impl ProviderDocuments for CarePlans {
    const INFO: ActionInfo = ActionInfo {
        name: "export_plan_tables",
        group: Group::CareSoftware,
        summary: "the care software writes the care plans (居宅サービス計画 tables 1–3) of a provider's users into the outbox",
        details: "Table 1 (`UP1KYO`), table 2 (`UP2KYO`: a need per service kind, a line per provider and code), \
                  table 3 (`UP3KYO`: the weekly schedule) and the user supplement linked to them (`UPHOSOKU` with \
                  `000000`): one send unit, names without a month (spec §5.1.1.1). The plans are those of the users \
                  whose plan of `month` names `to` (the prepared case, or the software's own data).",
        params: &[
            Param::required("office", "office (care management)", "the exporting office"),
            Param::required("to", "office (service)", "the provider the plans are for"),
            Param::required(
                "month",
                "month",
                "the month whose planned services the plans describe",
            ),
            USERS,
        ],
        example: "action = \"export_plan_tables\"\noffice = \"cm\"\nto = \"helper\"\nmonth = \"2025-05\"",
        codes: &[ErrorCode::NothingToSend, ErrorCode::AdapterUnsupported],
    };

    fn export(month: CareMonth, users: Option<usize>) -> Export {
        Export::PlanTables { month, users }
    }
}

/// The 介護予防 files (`export_prevention`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreventionFiles;

impl ProviderDocuments for PreventionFiles {
    const INFO: ActionInfo = ActionInfo {
        name: "export_prevention",
        group: Group::CareSoftware,
        summary: "the care software writes the 介護予防 files of a provider's users into the outbox",
        details: "The basic information (`UPKIHON`) with its time schedule (`UPKIHON_SUB1`) and medical history \
                  (`UPKIHON_SUB2`), and the prevention service and support plan (`UPYOBO`) with its support plan \
                  (`UPYOBO_SUB`): one send unit, names without a month (spec §3.2, §5.2). The users are those \
                  whose plan of `month` names `to`, written as 要支援１.",
        params: &[
            Param::required("office", "office (care management)", "the exporting office"),
            Param::required("to", "office (service)", "the provider the files are for"),
            Param::required(
                "month",
                "month",
                "the month whose planned services the files describe",
            ),
            USERS,
        ],
        example: "action = \"export_prevention\"\noffice = \"cm\"\nto = \"helper\"\nmonth = \"2025-05\"",
        codes: &[ErrorCode::NothingToSend, ErrorCode::AdapterUnsupported],
    };

    fn export(month: CareMonth, users: Option<usize>) -> Export {
        Export::Prevention { month, users }
    }
}

/// `export_plan`.
pub(crate) type ExportPlan = ExportFor<PlanSheets>;
/// `export_plan_tables`.
pub(crate) type ExportPlanTables = ExportFor<CarePlans>;
/// `export_prevention`.
pub(crate) type ExportPrevention = ExportFor<PreventionFiles>;

/// An office withdraws what it sent: a deletion file into the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportDeletion {
    office: Office,
    to: Office,
    of: Withdrawn,
    #[serde(deserialize_with = "from_str")]
    month: CareMonth,
}

impl Action for ExportDeletion {
    const INFO: ActionInfo = ActionInfo {
        name: "export_deletion",
        group: Group::CareSoftware,
        summary: "the care software withdraws what it sent: a deletion file into the outbox",
        details: "`of = \"plans\"`: the care manager withdraws a month's plans from the provider `to` (第6表 予定削除 \
                  `DLTPLAN`, a record per user whose plan of `month` names `to`; the provider deletes the sheets and \
                  annexes, spec §6.7, §8.1). `of = \"care_plans\"`: the care manager withdraws the care plans of the \
                  users it plans with `to` in `month` (居宅サービス計画1表_削除 `DLT1KYO`, by plan date; the provider \
                  deletes tables 1–3, spec §6.3). `of = \"actuals\"`: the provider withdraws its actuals of `month` \
                  from the care manager `to` (実績情報削除 `DLTJSK`, for its office number and kind). A deletion is a \
                  send unit of its own; the sender forgets what it withdrew.",
        params: &[
            Param::required("office", "office", "the withdrawing office"),
            Param::required("to", "office", "the office it sent to"),
            Param::required("of", "`plans`, `care_plans` or `actuals`", "what is withdrawn"),
            Param::required("month", "month", "the service month"),
        ],
        example: "action = \"export_deletion\"\noffice = \"cm\"\nto = \"helper\"\nof = \"plans\"\nmonth = \"2025-05\"",
        codes: &[ErrorCode::NothingToSend, ErrorCode::AdapterUnsupported],
    };

    fn describe(&self) -> String {
        let of = match self.of {
            Withdrawn::Plans => "plans",
            Withdrawn::CarePlans => "care plans",
            Withdrawn::Actuals => "actuals",
        };
        format!(
            "export_deletion {} → {} ({of} {})",
            self.office, self.to, self.month
        )
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let now = world.now();
        let export = Export::Deletion {
            of: self.of,
            month: self.month,
        };
        let receiver = world.offices[self.to.index].profile().clone();
        if receiver.role != export.receiver_role()
            || world.offices[self.office.index].profile().role == receiver.role
        {
            return Err(StepError::Assertion(format!(
                "{} withdraws {} from {}: they go from {} to {}",
                self.office,
                self.of.file_kind().prefix(),
                self.to,
                if export.receiver_role() == OfficeRole::Service {
                    "a care manager"
                } else {
                    "a provider"
                },
                if export.receiver_role() == OfficeRole::Service {
                    "a provider"
                } else {
                    "a care manager"
                },
            )));
        }
        let send_unit = world.offices[self.office.index].export(now, export, &receiver)?;
        Ok(describe_send_unit(&send_unit))
    }
}

/// A service office exports a month's actuals for the care-management office.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportActuals {
    office: Office<Provider>,
    to: Office<CareManager>,
    #[serde(deserialize_with = "from_str")]
    month: CareMonth,
}

impl Action for ExportActuals {
    const INFO: ActionInfo = ActionInfo {
        name: "export_actuals",
        group: Group::CareSoftware,
        summary: "⑦ the provider's care software writes a month's actuals for the care manager into the outbox",
        details: "The actuals (`UPJSK`) of the plans it imported from `to` for `month`. Providers report actuals \
                  exactly as planned (see `careplan-sim gen` for deviations).",
        params: &[
            Param::required("office", "office (service)", "the exporting provider"),
            Param::required(
                "to",
                "office (care management)",
                "the care manager whose plans it imported",
            ),
            Param::required("month", "month", "the service month"),
        ],
        example: "action = \"export_actuals\"\noffice = \"helper\"\nto = \"cm\"\nmonth = \"2025-05\"",
        codes: &[ErrorCode::NothingToSend, ErrorCode::EncodingInvalid],
    };

    fn describe(&self) -> String {
        format!("export_actuals {} → {} {}", self.office, self.to, self.month)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let now = world.now();
        let care_manager = world.offices[self.to.index].profile().clone();
        let export = Export::Actuals { month: self.month };
        let send_unit = world.offices[self.office.index].export(now, export, &care_manager)?;
        Ok(describe_send_unit(&send_unit))
    }
}

/// An office's care software imports what was downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Import {
    office: Office,
    #[serde(default)]
    expect_users: Option<usize>,
    #[serde(default)]
    expect_records: Option<usize>,
}

impl Action for Import {
    const INFO: ActionInfo = ActionInfo {
        name: "import",
        group: Group::CareSoftware,
        summary: "⑥/⑫ the care software imports every downloaded file not imported yet, all or nothing",
        details: "Actuals for a user without a plan that month fail with `ACTUAL_USER_UNKNOWN`; a file kind the \
                  office's role does not take fails with `IMPORT_UNSUPPORTED`.",
        params: &[
            Param::required("office", "office", "the importing office"),
            Param::optional(
                "expect_users",
                "count",
                "not checked",
                "the number of distinct users (insurer + insured number) in the imported service usage sheets",
            ),
            Param::optional(
                "expect_records",
                "count",
                "not checked",
                "the number of records imported, all files together",
            ),
        ],
        example: "action = \"import\"\noffice = \"helper\"\nexpect_users = 3",
        codes: &[
            ErrorCode::ActualUserUnknown,
            ErrorCode::ImportUnsupported,
            ErrorCode::EncodingInvalid,
            ErrorCode::CsvMalformed,
            ErrorCode::FileNameInvalid,
        ],
    };

    fn describe(&self) -> String {
        format!("import {}", self.office)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let now = world.now();
        let report = world.offices[self.office.index].import(now)?;
        let users = report.users.len();
        match (self.expect_users, self.expect_records) {
            (Some(expected), _) if expected != users => Err(StepError::Assertion(format!(
                "expected {expected} user(s) in the imported sheets, found {users}"
            ))),
            (_, Some(expected)) if expected != report.records => Err(StepError::Assertion(format!(
                "expected {expected} record(s) imported, found {}",
                report.records
            ))),
            _ => Ok(format!(
                "{} file(s), {} record(s), {users} user(s) imported",
                report.files, report.records
            )),
        }
    }
}

fn yes() -> bool {
    true
}

/// Checks the newest send unit an office's care software exported for `to` against the standard.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckExport {
    office: Office,
    to: Office,
    #[serde(default, deserialize_with = "from_str_opt")]
    month: Option<CareMonth>,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default = "yes")]
    strict: bool,
    #[serde(default)]
    prepared: bool,
}

impl Action for CheckExport {
    const INFO: ActionInfo = ActionInfo {
        name: "check_export",
        group: Group::Assertions,
        summary: "the newest send unit exported for `to`, still in the outbox, passes the validator's rules",
        details: "Every finding is evidence: file, line, field, rule and the section of the standard. With \
                  `month`, every month-bound file name must carry that service month.",
        params: &[
            Param::required("office", "office", "the exporting office"),
            Param::required("to", "office", "the receiver of the send unit"),
            Param::optional(
                "month",
                "month",
                "not checked",
                "the service month every file name must carry",
            ),
            Param::optional(
                "rules",
                "list of rule IDs",
                "every rule",
                "only these rules of `docs/rules.md` count, e.g. `[\"ENCODING\"]`",
            ),
            Param::optional(
                "strict",
                "true/false",
                "true",
                "the standard's soft rules (warnings) count too",
            ),
            Param::optional(
                "prepared",
                "true/false",
                "false",
                "the send unit says exactly what `prepare` loaded for `month`: every visit of the users planned \
                 with `to` (their whole sheets), none added, and their names, kana and birth dates",
            ),
        ],
        example: "action = \"check_export\"\noffice = \"cm\"\nto = \"helper\"\nmonth = \"2025-05\"\nrules = [\"SEND_UNIT\"]",
        codes: &[],
    };

    fn check(&self) -> Result<(), String> {
        if self.prepared && self.month.is_none() {
            return Err("`prepared = true` needs the `month` that was prepared".to_owned());
        }
        let known: Vec<&str> = careplan_spec::validate::Rule::ALL
            .iter()
            .map(|r| r.id())
            .collect();
        match self.rules.iter().find(|r| !known.contains(&r.as_str())) {
            Some(rule) => Err(format!(
                "`rules` names no rule `{rule}`{}; see docs/rules.md",
                crate::action::suggestion(rule, known.iter().copied())
            )),
            None => Ok(()),
        }
    }

    fn describe(&self) -> String {
        let rules = if self.rules.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.rules.join(", "))
        };
        format!("check_export {} → {}{rules}", self.office, self.to)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let receiver = world.number(self.to.index);
        let Some(unit) = world.offices[self.office.index]
            .outbox()
            .iter()
            .rev()
            .find(|unit| unit.receiver == receiver)
        else {
            return Err(StepError::Assertion(format!(
                "{} has no exported send unit for {} in its outbox",
                self.office, self.to
            )));
        };
        let mut evidence = Vec::new();
        if let Some(month) = self.month {
            for file in &unit.files {
                if let Ok(name) = file.name.parse::<careplan_spec::FileName>()
                    && let Some(careplan_spec::MonthSegment::Month(named)) = name.month
                    && named != month
                {
                    evidence.push(format!(
                        "{}: the name carries service month {named}, the step exported {month}",
                        file.name
                    ));
                }
            }
        }
        let options = careplan_spec::validate::Options {
            strict: self.strict,
            ..Default::default()
        };
        let reports = careplan_spec::validate::validate_files(&unit.inputs(), options);
        for (file, report) in unit.files.iter().zip(&reports) {
            for finding in &report.diagnostics {
                let counted = self.rules.is_empty() || self.rules.iter().any(|r| r == finding.rule.id());
                if counted && finding.severity == careplan_spec::validate::Severity::Error {
                    let line = finding.line.map_or_else(String::new, |l| format!(" line {l}"));
                    let field = finding.field.map_or_else(String::new, |f| format!(" field {f}"));
                    evidence.push(format!(
                        "{}{line}{field}: {} ({}): {}",
                        file.name,
                        finding.rule.id(),
                        finding.rule.section(),
                        finding.message
                    ));
                }
            }
        }
        if self.prepared
            && let Some(month) = self.month
        {
            match world.prepared.get(&(self.office.index, month)) {
                Some(prepared) => evidence.extend(super::prepare::prepared_evidence(prepared, unit)),
                None => evidence.push(format!("{} was not prepared for {month}", self.office)),
            }
        }
        match evidence.first() {
            None => Ok(format!(
                "{} file(s) pass{}",
                unit.files.len(),
                if self.rules.is_empty() {
                    " every rule".to_owned()
                } else {
                    format!(" {}", self.rules.join(", "))
                }
            )),
            Some(first) => Err(StepError::Assertion(format!(
                "{first}{}",
                match evidence.len() {
                    1 => String::new(),
                    n => format!(" (and {} more finding(s))", n - 1),
                }
            ))),
        }
    }
}

/// Which sheets `check_holdings` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Sheets {
    Plans,
    Actuals,
    Tables,
}

/// What an office's care software holds matches, visit for visit, what another office's holds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckHoldings {
    office: Office,
    like: Office,
    what: Sheets,
    #[serde(default, deserialize_with = "from_str_opt")]
    month: Option<CareMonth>,
}

impl Action for CheckHoldings {
    const INFO: ActionInfo = ActionInfo {
        name: "check_holdings",
        group: Group::Assertions,
        summary: "what `office`'s care software holds is exactly what `like`'s holds: a month's visits, or the care plans",
        details: "Both softwares are asked what they hold (a product through its adapter's `dump`). `plans` and \
                  `actuals` compare a month's neutral visits — user, provider, service code, date, start and end \
                  times, count — of the service office of the two only (a provider keeps only its own rows of a \
                  plan). `tables` compares the care plans (tables 1–3): per user, the plan's date and its numbers \
                  of table 2 lines and table 3 rows, every plan each holds. The first missing and extra items are \
                  the evidence.",
        params: &[
            Param::required("office", "office", "the office whose holdings are checked"),
            Param::required("like", "office", "the office whose holdings they must equal"),
            Param::required("what", "`plans`, `actuals` or `tables`", "what is compared"),
            Param::optional(
                "month",
                "month",
                "required for `plans` and `actuals`",
                "the service month",
            ),
        ],
        example: "action = \"check_holdings\"\noffice = \"helper\"\nlike = \"cm\"\nwhat = \"plans\"\nmonth = \"2025-05\"",
        codes: &[
            ErrorCode::AdapterUnsupported,
            ErrorCode::AdapterFailed,
            ErrorCode::AdapterOutputInvalid,
        ],
    };

    fn check(&self) -> Result<(), String> {
        match (self.what, self.month) {
            (Sheets::Plans | Sheets::Actuals, None) => {
                Err("`plans` and `actuals` need the `month`".to_owned())
            }
            (Sheets::Tables, Some(_)) => {
                Err("`tables` compares every care plan: leave out `month`".to_owned())
            }
            _ => Ok(()),
        }
    }

    fn describe(&self) -> String {
        let what = match self.what {
            Sheets::Plans => "plans",
            Sheets::Actuals => "actuals",
            Sheets::Tables => "care plans",
        };
        let month = self.month.map_or_else(String::new, |m| format!(" {m}"));
        format!(
            "check_holdings {} like {} ({what}{month})",
            self.office, self.like
        )
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let now = world.now();
        let (held, expected) = (
            world.offices[self.office.index].dump(now)?,
            world.offices[self.like.index].dump(now)?,
        );
        let (held, expected): (Vec<String>, Vec<String>) = match (self.what, self.month) {
            (Sheets::Tables, _) => {
                let text = |h: careplan_office::Holdings| h.tables.iter().map(ToString::to_string).collect();
                (text(held), text(expected))
            }
            (sheets, month) => {
                let provider = [self.office.index, self.like.index]
                    .into_iter()
                    .find(|&i| world.offices[i].profile().role == careplan_office::OfficeRole::Service)
                    .map(|i| world.number(i).to_string());
                let month = month.map(|m| m.to_string());
                let visits = |h: careplan_office::Holdings| -> Vec<String> {
                    let sheets = if sheets == Sheets::Actuals {
                        h.actuals
                    } else {
                        h.plans
                    };
                    sheets
                        .into_iter()
                        .filter(|v| {
                            Some(&v.month) == month.as_ref()
                                && provider.as_ref().is_none_or(|p| v.provider == *p)
                        })
                        .map(|v| v.to_string())
                        .collect()
                };
                (visits(held), visits(expected))
            }
        };
        let (held, expected): (BTreeSet<String>, BTreeSet<String>) =
            (held.into_iter().collect(), expected.into_iter().collect());
        let missing: Vec<_> = expected.difference(&held).collect();
        let extra: Vec<_> = held.difference(&expected).collect();
        let noun = if self.what == Sheets::Tables {
            "care plan(s)"
        } else {
            "visit(s)"
        };
        if missing.is_empty() && extra.is_empty() {
            return Ok(format!("{} {noun}, the same on both sides", held.len()));
        }
        let first = |what: &str, items: &[&String]| {
            items.first().map_or_else(String::new, |v| {
                format!("; {} {what}, the first: {v}", items.len())
            })
        };
        Err(StepError::Assertion(format!(
            "{} holds {} {noun}, {} holds {}{}{}",
            self.office,
            held.len(),
            self.like,
            expected.len(),
            first("missing", &missing),
            first("extra", &extra)
        )))
    }
}

/// Every file `from` sent to `to` arrived at `to` byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssertDelivered {
    from: Office,
    to: Office,
}

impl Action for AssertDelivered {
    const INFO: ActionInfo = ActionInfo {
        name: "assert_delivered",
        group: Group::Assertions,
        summary: "every file `from` sent to `to` was downloaded by `to` with the same name and the same bytes",
        details: "Fails if nothing was sent.",
        params: &[
            Param::required("from", "office", "the sender"),
            Param::required("to", "office", "the receiver"),
        ],
        example: "action = \"assert_delivered\"\nfrom = \"cm\"\nto = \"helper\"",
        codes: &[],
    };

    fn describe(&self) -> String {
        format!("assert_delivered {} → {}", self.from, self.to)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let (sender, receiver) = (&world.offices[self.from.index], &world.offices[self.to.index]);
        let sent: Vec<_> = sender
            .sent()
            .iter()
            .filter(|f| f.receiver == receiver.profile().number)
            .collect();
        if sent.is_empty() {
            return Err(StepError::Assertion(format!(
                "{} has sent nothing to {}",
                self.from, self.to
            )));
        }
        let mut bytes = 0;
        for file in &sent {
            let received = receiver
                .received()
                .iter()
                .find(|r| *r.name == *file.name && r.sender == sender.profile().number)
                .ok_or_else(|| {
                    StepError::Assertion(format!(
                        "{} was sent but {} never downloaded it",
                        file.name, self.to
                    ))
                })?;
            if let Some(offset) = first_difference(&file.content, &received.content) {
                return Err(StepError::Assertion(format!(
                    "{}: received bytes differ from the sent bytes at offset {offset} (sent {} bytes, received {})",
                    file.name,
                    file.content.len(),
                    received.content.len()
                )));
            }
            bytes += file.content.len();
        }
        Ok(format!(
            "{} file(s), {bytes} bytes, received byte for byte",
            sent.len()
        ))
    }
}

fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
}
