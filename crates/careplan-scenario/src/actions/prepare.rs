//! Preparing a care-management office's care software with a case — users and the services planned for
//! them in a month — and checking that its plan export says exactly what was prepared.

use std::collections::BTreeSet;

use careplan_core::{CareMonth, ErrorCode};
use careplan_office::{Case, CaseOffice, CaseService, CaseUser, OfficeRole, PreparedMonth, SendUnit, Visit};
use careplan_spec::records::{CareLevel, RecordSet, UserSupplementRecord};
use careplan_spec::{FileKind, FileName, ms932};
use careplan_synth::{Office as SynthOffice, PlanContext, Roster, plan_services, providers_of};
use serde::Deserialize;

use crate::action::{Action, ActionInfo, CareManager, Group, Office, Param, Provider, from_str};
use crate::run::{StepError, World};

/// A care-management office's care software is loaded with a month's case.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Prepare {
    office: Office<CareManager>,
    #[serde(deserialize_with = "from_str")]
    month: CareMonth,
    #[serde(default)]
    users: usize,
    #[serde(default)]
    providers: Option<Vec<Office<Provider>>>,
    #[serde(default, rename = "user")]
    explicit: Vec<UserSpec>,
}

/// A user written out in a `prepare` step (`[[step.user]]`); what it leaves out is drawn from the seed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSpec {
    #[serde(default)]
    insurer: Option<String>,
    #[serde(default)]
    insured: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    name_kana: Option<String>,
    #[serde(default)]
    address: Option<String>,
    care_level: String,
    #[serde(default)]
    benefit_limit: Option<u32>,
    #[serde(default)]
    short_stay_days_before: u8,
    #[serde(rename = "service")]
    services: Vec<ServiceSpec>,
}

/// A planned service written out in a `prepare` step (`[[step.user.service]]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceSpec {
    provider: Office<Provider>,
    code: String,
    units: u32,
    #[serde(default = "unspecified")]
    start: String,
    #[serde(default = "unspecified")]
    end: String,
    days: Vec<u8>,
    #[serde(default)]
    tais_code: String,
    #[serde(default)]
    product_name: String,
    #[serde(default)]
    detail_code: Option<u8>,
}

fn unspecified() -> String {
    "9999".to_owned()
}

impl Action for Prepare {
    const INFO: ActionInfo = ActionInfo {
        name: "prepare",
        group: Group::CareSoftware,
        summary: "a care-management office's care software is loaded with a month's case: users and their planned services",
        details: "The case is the neutral JSON of the adapter contract (`docs/adapter.md`, `prepare`): \
                  `users` users drawn from the seed and planned with `providers`, then each `[[step.user]]` \
                  as written — `care_level` (`21`–`25`), optional `insurer`, `insured`, `name`, `name_kana`, \
                  `address`, `benefit_limit` (default: the level's), `short_stay_days_before`, and its \
                  `[[step.user.service]]` lines: `provider`, `code`, `units`, `days` of the month, `start` and \
                  `end` (`HHMM`, default `9999`: no time), and for rentals `tais_code`, `product_name`, \
                  `detail_code`. What a user leaves out is drawn from the seed. The month's plans are the \
                  case's from then on (`export_plan` without `users` exports all of them); a case over a \
                  user's benefit limit, with a day the month lacks, or a code of another kind than its \
                  provider's fails with `CASE_INVALID`.",
        params: &[
            Param::required(
                "office",
                "office (care management)",
                "the office whose software is prepared",
            ),
            Param::required("month", "month", "the service month"),
            Param::optional(
                "users",
                "count",
                "0",
                "users drawn from the seed, planned as `export_plan` plans them",
            ),
            Param::optional(
                "providers",
                "list of offices (service)",
                "every service office",
                "the providers the drawn users are planned with",
            ),
            Param::optional(
                "user",
                "tables",
                "none",
                "users written out, each with its `service` lines",
            ),
        ],
        example: "action = \"prepare\"\noffice = \"cm\"\nmonth = \"2028-02\"\n[[step.user]]\ncare_level = \"23\"\n\
                  [[step.user.service]]\nprovider = \"helper\"\ncode = \"111211\"\nunits = 387\nstart = \"0900\"\n\
                  end = \"1000\"\ndays = [28, 29]",
        codes: &[
            ErrorCode::CaseInvalid,
            ErrorCode::AdapterUnsupported,
            ErrorCode::AdapterFailed,
        ],
    };

    fn check(&self) -> Result<(), String> {
        if self.users == 0 && self.explicit.is_empty() {
            return Err("a case needs users: give `users` or at least one `[[step.user]]`".to_owned());
        }
        match self.explicit.iter().find(|u| u.services.is_empty()) {
            Some(_) => Err("every `[[step.user]]` needs at least one `[[step.user.service]]`".to_owned()),
            None => Ok(()),
        }
    }

    fn describe(&self) -> String {
        format!(
            "prepare {} {} ({} user(s))",
            self.office,
            self.month,
            self.users + self.explicit.len()
        )
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let case = self.case(world)?;
        let prepared = case
            .parse()
            .map_err(|e| StepError::code(ErrorCode::CaseInvalid, e.to_string()))?;
        let now = world.now();
        world.offices[self.office.index].prepare(now, &prepared)?;
        let services: usize = prepared.users.iter().map(|u| u.services.len()).sum();
        let summary = format!(
            "{} user(s), {services} planned service(s) for {}",
            prepared.users.len(),
            prepared.month
        );
        world.prepared.insert((self.office.index, self.month), prepared);
        Ok(summary)
    }
}

impl Prepare {
    /// The case in the contract's neutral form: drawn users first, then the written ones.
    fn case(&self, world: &World) -> Result<Case, StepError> {
        let care_manager = world.offices[self.office.index].profile().clone();
        let providers: Vec<SynthOffice> = match &self.providers {
            Some(list) => list.iter().map(|o| synth_office(world, o.index)).collect(),
            None => (0..world.offices.len())
                .filter(|&i| world.offices[i].profile().role == OfficeRole::Service)
                .map(|i| synth_office(world, i))
                .collect(),
        };
        let roster = Roster::generate(world.seed, care_manager.number, self.users + self.explicit.len());
        let context = PlanContext {
            seed: world.seed,
            month: self.month,
            // The services planned do not depend on the day they are written.
            created_on: self.month.first_day(),
            care_office: care_manager.number,
            planner_name: "",
        };
        let mut prepared_users = Vec::with_capacity(roster.users().len());
        for (index, user) in roster.users().iter().take(self.users).enumerate() {
            let chosen = providers_of(world.seed, index, user, &providers);
            let services = plan_services(&context, user, &chosen);
            prepared_users.push(careplan_office::PreparedUser {
                user: user.clone(),
                services,
            });
        }
        let mut case = Case::of(&PreparedMonth {
            month: self.month,
            providers: providers.clone(),
            users: prepared_users,
        });
        let mut named: BTreeSet<usize> = BTreeSet::new();
        for (spec, drawn) in self.explicit.iter().zip(&roster.users()[self.users..]) {
            let mut user = CaseUser::of(drawn, &[]);
            let level: CareLevel = spec.care_level.parse().map_err(|()| {
                StepError::code(
                    ErrorCode::CaseInvalid,
                    format!(
                        "`care_level = \"{}\"` is not a care level code (21–25)",
                        spec.care_level
                    ),
                )
            })?;
            let overrides = [
                (&mut user.insurer, &spec.insurer),
                (&mut user.insured, &spec.insured),
                (&mut user.name, &spec.name),
                (&mut user.name_kana, &spec.name_kana),
                (&mut user.address, &spec.address),
            ];
            for (field, given) in overrides {
                if let Some(value) = given {
                    value.clone_into(field);
                }
            }
            user.care_level = level.code().to_owned();
            user.benefit_limit = spec
                .benefit_limit
                .or_else(|| careplan_synth::benefit_limit(level))
                .unwrap_or(0);
            user.short_stay_days_before = spec.short_stay_days_before;
            user.services = spec
                .services
                .iter()
                .map(|service| {
                    named.insert(service.provider.index);
                    CaseService {
                        provider: world.number(service.provider.index).to_string(),
                        service_code: service.code.clone(),
                        units: service.units,
                        start: service.start.replace(':', ""),
                        end: service.end.replace(':', ""),
                        // A day the month lacks is written as it is and refused by the case's own check.
                        dates: service
                            .days
                            .iter()
                            .map(|&day| {
                                format!(
                                    "{:04}-{:02}-{day:02}",
                                    self.month.year(),
                                    u8::from(self.month.month())
                                )
                            })
                            .collect(),
                        tais_code: service.tais_code.clone(),
                        notified_code: String::new(),
                        product_name: service.product_name.clone(),
                        detail_code: service.detail_code,
                    }
                })
                .collect();
            case.users.push(user);
        }
        for index in named {
            let office = synth_office(world, index);
            if !case.providers.iter().any(|p| p.number == office.number.as_str()) {
                case.providers.push(CaseOffice {
                    number: office.number.to_string(),
                    kind: office.kind.to_string(),
                    name: office.name,
                });
            }
        }
        Ok(case)
    }
}

fn synth_office(world: &World, index: usize) -> SynthOffice {
    world.offices[index].profile().as_generated()
}

/// What a plan send unit for `provider` must say of a prepared case: the visits of every user with a
/// service of the provider (their whole sheets, other providers' rows included, spec §5.4), and those
/// users' names, kana and birth dates.
pub(crate) fn prepared_evidence(prepared: &PreparedMonth, unit: &SendUnit) -> Vec<String> {
    let users: Vec<&careplan_office::PreparedUser> = prepared.users_of(unit.receiver).collect();
    let month = prepared.month.to_string();
    let expected: BTreeSet<Visit> = users
        .iter()
        .flat_map(|u| {
            let (insurer, insured) = (u.user.key.insurer.to_string(), u.user.key.insured.to_string());
            let month = month.clone();
            u.services.iter().flat_map(move |s| {
                let (insurer, insured, month) = (insurer.clone(), insured.clone(), month.clone());
                s.dates.iter().map(move |date| Visit {
                    insurer: insurer.clone(),
                    insured: insured.clone(),
                    month: month.clone(),
                    provider: s.provider.to_string(),
                    service_code: s.service_code.to_string(),
                    date: date.to_string(),
                    start: s.start.to_string(),
                    end: s.end.to_string(),
                    count: 1,
                })
            })
        })
        .collect();
    let mut evidence = Vec::new();
    let read = |kind: FileKind| -> Option<(String, RecordSet)> {
        let file = unit
            .files
            .iter()
            .find(|f| f.name.parse::<FileName>().is_ok_and(|n| n.kind == kind))?;
        let text = ms932::decode(&file.content).ok()?;
        Some((file.name.to_string(), RecordSet::read(kind, &text).ok()?))
    };
    match read(FileKind::UsagePlan) {
        Some((name, RecordSet::Usage(rows))) => {
            let held: BTreeSet<Visit> = rows.iter().map(Visit::of).collect();
            if let Some(missing) = expected.difference(&held).next() {
                evidence.push(format!(
                    "{name}: {} prepared visit(s) missing, the first: {missing}",
                    expected.difference(&held).count()
                ));
            }
            if let Some(extra) = held.difference(&expected).next() {
                evidence.push(format!(
                    "{name}: {} visit(s) not prepared, the first: {extra}",
                    held.difference(&expected).count()
                ));
            }
        }
        _ => evidence.push("the send unit has no readable service usage sheet (UPPLAN)".to_owned()),
    }
    if let Some((name, RecordSet::Supplement(rows))) = read(FileKind::UserSupplement) {
        for prepared_user in &users {
            let user = &prepared_user.user;
            let Some(row) = rows.iter().find(|r: &&UserSupplementRecord| r.user == user.key) else {
                evidence.push(format!("{name}: no supplement for user {}", user.key));
                continue;
            };
            // A name MS932 cannot write is converted by the product (spec §4.3): ENCODING judges it.
            let writable = |text: &str| ms932::encode(text).is_ok();
            for (field, held, prepared) in [
                ("利用者氏名", &row.name, &user.name),
                ("フリガナ", &row.name_kana, &user.name_kana),
            ] {
                if writable(prepared) && held != prepared {
                    evidence.push(format!(
                        "{name}: user {} {field} is `{held}`, prepared `{prepared}`",
                        user.key
                    ));
                }
            }
            if row.birth_date != Some(user.birth_date) {
                evidence.push(format!(
                    "{name}: user {} 生年月日 differs from the prepared {}",
                    user.key, user.birth_date
                ));
            }
        }
    }
    evidence
}
