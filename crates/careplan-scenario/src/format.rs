//! The scenario file format (TOML), documented in `docs/scenarios.md`.
//!
//! Reading is strict: unknown tables, fields or office aliases, unknown error codes and malformed values
//! are refused with the file, the line and the reason, before anything runs.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use careplan_ca::CertificateType;
use careplan_core::{ErrorCode, OfficeNumber, ServiceKind};
use careplan_licence::PaymentMethod;
use careplan_office::{Adapter, OfficeRole, Operation};
use careplan_relay::RelayConfig;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::{Spanned, Value};

use crate::action::{Roster, suggestion, with_roster};
use crate::actions::{self, StepAction};

/// A scenario file that cannot be read, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct ScenarioFileError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (1 when the whole file is concerned).
    pub line: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// The usage application (利用申請) an office filed before the scenario starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenceSpec {
    /// When it applied (`licence_applied`, the scenario's start by default). Applications from
    /// 2025-06-01 start with the free pass.
    pub applied_at: OffsetDateTime,
    /// How it pays its licence fee.
    pub payment: PaymentMethod,
}

/// An `[[office]]` of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeSpec {
    /// The alias steps use.
    pub id: String,
    /// Its role.
    pub role: OfficeRole,
    /// Office number.
    pub number: OfficeNumber,
    /// Service kind.
    pub kind: ServiceKind,
    /// Office name (事業所名).
    pub name: String,
    /// Whether the office starts with a user ID and a changed password, logged in to its linkage client
    /// (`account = "ready"`, the default) or with nothing (`account = "none"`, for onboarding).
    pub account_ready: bool,
    /// The certificate issued to it at the start, if any.
    pub certificate: Option<CertificateType>,
    /// Its usage application, if it filed one before the start (`licence = "active"`, the default for
    /// offices whose account is ready).
    pub licence: Option<LicenceSpec>,
    /// The vendor's care software it runs (`software = { adapter = "…" }`), or `None` for the synthetic
    /// one.
    pub adapter: Option<Arc<Adapter>>,
}

/// One `[[step]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based position in the file.
    pub number: usize,
    /// Line of the step's `action`.
    pub line: usize,
    /// What it does.
    pub action: StepAction,
    /// The code the step must fail with, if any.
    pub expect_error: Option<ErrorCode>,
    /// An optional label shown in reports.
    pub label: Option<String>,
}

impl OfficeSpec {
    /// Who the office is, for its care software.
    pub fn profile(&self) -> careplan_office::OfficeProfile {
        careplan_office::OfficeProfile {
            number: self.number,
            kind: self.kind,
            role: self.role,
            name: self.name.clone(),
        }
    }
}

/// The `[case]` table of a conformance case: a scenario with one office whose care software is the
/// product under test.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseHeader {
    /// The stable ID (never renumbered), e.g. `PLAN-EXPORT-002`.
    pub id: String,
    /// What the case checks, in one line.
    pub title: String,
    /// The office (an `[[office]]` id) whose care software is the product under test.
    pub product: String,
    /// The adapter operations the case calls; an adapter lacking one does not apply.
    pub needs: Vec<String>,
    /// The rule checked: a validator rule ID or an ecosystem rule, in words.
    pub rule: String,
    /// Where the rule is stated (a section of the official V4.1 text, or an ecosystem rule).
    pub source: String,
    /// The requirements of the official text the case checks, by their IDs in `docs/requirements.md`
    /// (e.g. `UPPLAN-X-ONE-MONTH`): a product that passes the case meets them.
    #[serde(default)]
    pub requirements: Vec<String>,
    /// For an exchange between two products (the vendor × vendor matrix): the other office, whose care
    /// software a second product may take.
    #[serde(default)]
    pub peer: Option<String>,
    /// The operations the peer's product must declare.
    #[serde(default)]
    pub peer_needs: Vec<String>,
}

/// A parsed, valid scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// The file it came from.
    pub path: PathBuf,
    /// Its name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The seed of all generated data.
    pub seed: u64,
    /// Its tags (`tags = [...]`), for `--filter tag:…`.
    pub tags: Vec<String>,
    /// The simulated clock's start.
    pub start: OffsetDateTime,
    /// The relay's settings (`[relay]`).
    pub relay: RelayConfig,
    /// Its `[case]` table, when it is a conformance case.
    pub case: Option<CaseHeader>,
    /// The offices.
    pub offices: Vec<OfficeSpec>,
    /// The steps.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioFileError {
            path: path.to_owned(),
            line: 1,
            message: format!("cannot read the file: {e}"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses and checks scenario text; `path` is used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ScenarioFileError> {
        Parser { text, path }.parse()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    include: Vec<Spanned<String>>,
    scenario: Spanned<RawHeader>,
    #[serde(default)]
    case: Option<Spanned<CaseHeader>>,
    #[serde(default)]
    relay: Option<Spanned<RawRelay>>,
    #[serde(default)]
    office: Vec<Spanned<RawOffice>>,
}

/// A file a scenario includes: offices and steps only.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInclude {
    #[serde(default)]
    office: Vec<Spanned<RawOffice>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: String,
    #[serde(default)]
    description: String,
    seed: u64,
    start: Spanned<Value>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelay {
    retention_days: Option<u16>,
    max_send_bytes: Option<u64>,
    cancel_until: Option<String>,
    strict: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffice {
    id: String,
    role: OfficeRole,
    number: Spanned<String>,
    kind: Spanned<String>,
    name: Option<String>,
    #[serde(default)]
    certificate: Option<Spanned<String>>,
    #[serde(default)]
    account: Option<Spanned<String>>,
    #[serde(default)]
    licence: Option<Spanned<String>>,
    #[serde(default)]
    licence_applied: Option<Spanned<Value>>,
    #[serde(default)]
    payment: Option<Spanned<String>>,
    #[serde(default)]
    software: Option<Spanned<RawSoftware>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSoftware {
    adapter: String,
}

/// A file's `[[step]]` array, before its steps are read.
type Steps<'a> = Option<Spanned<DeValue<'a>>>;

struct Parser<'a> {
    text: &'a str,
    path: &'a Path,
}

impl<'a> Parser<'a> {
    fn line_of(&self, offset: usize) -> usize {
        1 + self.text.as_bytes()[..offset.min(self.text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    fn error(&self, offset: usize, message: impl fmt::Display) -> ScenarioFileError {
        ScenarioFileError {
            path: self.path.to_owned(),
            line: self.line_of(offset),
            message: message.to_string(),
        }
    }

    /// The file's `[[step]]` tables, and the rest of it as `T`: steps are read one by one, each by its
    /// action, the rest at once.
    fn tables<T: serde::de::DeserializeOwned>(&self) -> Result<(T, Steps<'a>), ScenarioFileError> {
        let toml_error = |e: toml::de::Error| {
            let offset = e.span().map_or(0, |s| s.start);
            self.error(offset, e.message().trim())
        };
        let document = DeTable::parse(self.text).map_err(toml_error)?;
        let span = document.span();
        let mut root = document.into_inner();
        let steps = root.remove("step");
        let rest = T::deserialize(ValueDeserializer::from(Spanned::new(span, DeValue::Table(root))))
            .map_err(toml_error)?;
        Ok((rest, steps))
    }

    fn parse(&self) -> Result<Scenario, ScenarioFileError> {
        let (raw, steps) = self.tables::<RawFile>()?;
        let header = raw.scenario.into_inner();
        let start = self.instant(&header.start)?;
        let start = careplan_core::within_clock_range(start)
            .map_err(|e| self.error(header.start.span().start, format!("`start`: {e}")))?;
        let relay = self.relay(raw.relay)?;
        // Included files first, in order: their offices, then their steps, come before the file's own.
        let texts = raw
            .include
            .iter()
            .map(|include| {
                let path = self
                    .path
                    .parent()
                    .unwrap_or(Path::new(""))
                    .join(include.get_ref());
                std::fs::read_to_string(&path)
                    .map(|text| (path.clone(), text))
                    .map_err(|e| {
                        self.error(
                            include.span().start,
                            format!("cannot read the included file {}: {e}", path.display()),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut offices = Vec::new();
        let mut included_steps = Vec::new();
        for ((path, text), include) in texts.iter().zip(&raw.include) {
            let included = Parser { text, path };
            let (raw, steps) = included.tables::<RawInclude>()?;
            offices.extend(included.offices(raw.office, start)?);
            included_steps.push((included, steps));
            for (i, office) in offices.iter().enumerate() {
                if offices[..i]
                    .iter()
                    .any(|o| o.id == office.id || o.number == office.number)
                {
                    return Err(self.error(
                        include.span().start,
                        format!(
                            "office `{}` ({}) of {} is already one of the scenario's offices",
                            office.id,
                            office.number,
                            path.display()
                        ),
                    ));
                }
            }
        }
        let own = self.offices(raw.office, start)?;
        if let Some(office) = own
            .iter()
            .find(|own| offices.iter().any(|o| o.id == own.id || o.number == own.number))
        {
            return Err(self.error(
                0,
                format!(
                    "office `{}` ({}) is already one of the included offices",
                    office.id, office.number
                ),
            ));
        }
        offices.extend(own);
        let case = match raw.case {
            None => None,
            Some(case) => {
                let at = case.span().start;
                let case = case.into_inner();
                if !offices.iter().any(|o| o.id == case.product) {
                    return Err(self.error(at, format!("[case] product `{}` names no office", case.product)));
                }
                if let Some(peer) = case
                    .peer
                    .as_ref()
                    .filter(|p| !offices.iter().any(|o| o.id == **p))
                {
                    return Err(self.error(at, format!("[case] peer `{peer}` names no office")));
                }
                if let Some(need) = case
                    .needs
                    .iter()
                    .chain(&case.peer_needs)
                    .find(|n| Operation::from_name(n).is_none())
                {
                    return Err(self.error(
                        at,
                        format!(
                            "[case] needs `{need}`: expected one of {}",
                            Operation::ALL.map(Operation::as_str).join(", ")
                        ),
                    ));
                }
                Some(case)
            }
        };
        let roster = Roster {
            offices: offices
                .iter()
                .map(|o| (Arc::from(o.id.as_str()), o.role))
                .collect(),
        };
        let mut all_steps = Vec::new();
        for (included, steps) in included_steps {
            all_steps.extend(included.steps(steps, &roster, all_steps.len())?);
        }
        all_steps.extend(self.steps(steps, &roster, all_steps.len())?);
        let steps = all_steps;
        if steps.is_empty() {
            return Err(self.error(self.text.len(), "a scenario needs at least one [[step]]"));
        }
        Ok(Scenario {
            path: self.path.to_owned(),
            name: header.name,
            description: header.description,
            seed: header.seed,
            tags: header.tags,
            start,
            relay,
            case,
            offices,
            steps,
        })
    }

    /// `[[step]]` tables, numbered after the `before` steps read already; office parameters resolve
    /// against the roster while they are read.
    fn steps(
        &self,
        steps: Steps<'_>,
        roster: &Roster,
        before: usize,
    ) -> Result<Vec<Step>, ScenarioFileError> {
        let Some(steps) = steps else {
            return Ok(Vec::new());
        };
        let at = steps.span().start;
        let DeValue::Array(steps) = steps.into_inner() else {
            return Err(self.error(at, "`step` must be a list of [[step]] tables"));
        };
        with_roster(roster, || {
            steps
                .iter()
                .enumerate()
                .map(|(i, step)| self.step(before + i + 1, step.clone()))
                .collect::<Result<Vec<_>, _>>()
        })
    }

    /// The `[relay]` table over the defaults.
    fn relay(&self, raw: Option<Spanned<RawRelay>>) -> Result<RelayConfig, ScenarioFileError> {
        let mut config = RelayConfig::default();
        let Some(raw) = raw else {
            return Ok(config);
        };
        let at = raw.span().start;
        let raw = raw.into_inner();
        if let Some(days) = raw.retention_days {
            if days == 0 {
                return Err(self.error(at, "[relay] retention_days must be at least 1"));
            }
            config.retention = time::Duration::days(i64::from(days));
        }
        if let Some(bytes) = raw.max_send_bytes {
            config.max_send_bytes = bytes;
        }
        if let Some(until) = raw.cancel_until {
            config.cancel_until = until
                .parse()
                .map_err(|e| self.error(at, format!("[relay] {e}")))?;
        }
        config.strict = raw.strict.unwrap_or(false);
        Ok(config)
    }

    fn instant(&self, value: &Spanned<Value>) -> Result<OffsetDateTime, ScenarioFileError> {
        let text = match value.get_ref() {
            Value::String(s) => s.clone(),
            Value::Datetime(d) => d.to_string(),
            other => {
                return Err(self.error(
                    value.span().start,
                    format!("expected an RFC 3339 date-time, found {}", other.type_str()),
                ));
            }
        };
        OffsetDateTime::parse(&text, &Rfc3339).map_err(|_| {
            self.error(
                value.span().start,
                format!(
                    "`{text}` is not an RFC 3339 date-time with an offset, e.g. 2025-05-01T09:00:00+09:00"
                ),
            )
        })
    }

    fn offices(
        &self,
        raw: Vec<Spanned<RawOffice>>,
        start: OffsetDateTime,
    ) -> Result<Vec<OfficeSpec>, ScenarioFileError> {
        let mut offices: Vec<OfficeSpec> = Vec::with_capacity(raw.len());
        for spanned in raw {
            let at = spanned.span().start;
            let raw = spanned.into_inner();
            if offices.iter().any(|o| o.id == raw.id) {
                return Err(self.error(at, format!("office id `{}` is used twice", raw.id)));
            }
            let number: OfficeNumber = raw
                .number
                .get_ref()
                .parse()
                .map_err(|e| self.error(raw.number.span().start, e))?;
            if offices.iter().any(|o| o.number == number) {
                return Err(self.error(
                    raw.number.span().start,
                    format!("office number {number} is used twice"),
                ));
            }
            let kind: ServiceKind = raw
                .kind
                .get_ref()
                .parse()
                .map_err(|e| self.error(raw.kind.span().start, e))?;
            if (raw.role == OfficeRole::CareManagement) != (kind == ServiceKind::CARE_MANAGEMENT) {
                return Err(self.error(
                    raw.kind.span().start,
                    format!("a care_management office has kind 43 and a service office another kind; found role {:?} with kind {kind}", raw.role),
                ));
            }
            let account_ready = match raw.account.as_ref().map(|a| a.get_ref().as_str()) {
                None | Some("ready") => true,
                Some("none") => false,
                Some(other) => {
                    let at = raw.account.as_ref().map_or(at, |a| a.span().start);
                    return Err(self.error(at, format!("account `{other}`: expected ready or none")));
                }
            };
            let certificate = match raw.certificate.as_ref() {
                None if account_ready => Some(CertificateType::CareInsurance),
                None => None,
                Some(c) if c.get_ref() == "none" => None,
                Some(c) => Some(
                    c.get_ref()
                        .parse::<CertificateType>()
                        .map_err(|e| self.error(c.span().start, format!("{e}, or none")))?,
                ),
            };
            if certificate.is_some() && !account_ready {
                let at = raw.certificate.as_ref().map_or(at, |c| c.span().start);
                return Err(self.error(
                    at,
                    "an office with account = \"none\" starts without a certificate: write certificate = \"none\"",
                ));
            }
            let licence = self.licence(&raw, at, account_ready, start)?;
            let name = raw.name.unwrap_or_else(|| format!("{} {}", raw.id, number));
            let adapter = match &raw.software {
                None => None,
                Some(software) => {
                    // The adapter's path is relative to the scenario file, so a scenario and its adapter
                    // travel together.
                    let folder = self.path.parent().unwrap_or_else(|| Path::new("."));
                    let path = folder.join(&software.get_ref().adapter);
                    let adapter = Adapter::load(&path).map_err(|e| {
                        self.error(software.span().start, format!("office `{}`: {e}", raw.id))
                    })?;
                    Some(Arc::new(adapter))
                }
            };
            offices.push(OfficeSpec {
                id: raw.id,
                role: raw.role,
                number,
                kind,
                name,
                account_ready,
                certificate,
                licence,
                adapter,
            });
        }
        Ok(offices)
    }

    /// An office's usage application before the start: `licence`, `licence_applied` and `payment`.
    fn licence(
        &self,
        raw: &RawOffice,
        at: usize,
        account_ready: bool,
        start: OffsetDateTime,
    ) -> Result<Option<LicenceSpec>, ScenarioFileError> {
        let active = match raw
            .licence
            .as_ref()
            .map(|l| (l.get_ref().as_str(), l.span().start))
        {
            None => account_ready,
            Some(("active", _)) => true,
            Some(("none", _)) => false,
            Some((other, at)) => {
                return Err(self.error(at, format!("licence `{other}`: expected active or none")));
            }
        };
        if !active {
            if let Some(value) = raw.licence_applied.as_ref() {
                return Err(self.error(value.span().start, "`licence_applied` needs licence = \"active\""));
            }
            return Ok(None);
        }
        if !account_ready {
            let at = raw.licence.as_ref().map_or(at, |l| l.span().start);
            return Err(self.error(
                at,
                "an office with account = \"none\" has not applied to the usage site yet: write licence = \"none\"",
            ));
        }
        let applied_at = match raw.licence_applied.as_ref() {
            None => start,
            Some(value) => {
                let applied_at = self.instant(value)?;
                if applied_at > start {
                    return Err(self.error(
                        value.span().start,
                        "`licence_applied` is history: it cannot be after the scenario's start (use an apply_usage step)",
                    ));
                }
                applied_at
            }
        };
        let payment = match raw.payment.as_ref() {
            None => PaymentMethod::Deduction,
            Some(p) => p.get_ref().parse().map_err(|e| self.error(p.span().start, e))?,
        };
        Ok(Some(LicenceSpec { applied_at, payment }))
    }

    /// One `[[step]]`: the common fields, then the action's own, read by the action.
    fn step(&self, number: usize, step: Spanned<DeValue<'_>>) -> Result<Step, ScenarioFileError> {
        let span = step.span();
        let DeValue::Table(mut table) = step.into_inner() else {
            return Err(self.error(span.start, format!("step {number}: a step is a [[step]] table")));
        };
        let error = |offset: usize, message: &dyn fmt::Display| {
            self.error(offset, format!("step {number}: {message}"))
        };
        let text =
            |table: &mut DeTable<'_>, key: &str| -> Result<Option<(String, usize)>, ScenarioFileError> {
                let Some(value) = table.remove(key) else {
                    return Ok(None);
                };
                let at = value.span().start;
                match value.into_inner() {
                    DeValue::String(text) => Ok(Some((text.into_owned(), at))),
                    other => Err(error(
                        at,
                        &format!("`{key}` must be a string, found {}", other.type_str()),
                    )),
                }
            };
        let Some((name, name_at)) = text(&mut table, "action")? else {
            return Err(error(span.start, &"missing field `action`"));
        };
        let line = self.line_of(name_at);
        let expect_error = text(&mut table, "expect_error")?
            .map(|(code, at)| code.parse::<ErrorCode>().map_err(|e| self.error(at, e)))
            .transpose()?;
        let label = text(&mut table, "name")?.map(|(label, _)| label);
        let fields = StepAction::fields(&name);
        if fields.is_empty() && !actions::names().any(|known| known == name) {
            let known: Vec<&str> = actions::names().collect();
            return Err(error(
                name_at,
                &format!(
                    "unknown action `{name}`{}; expected one of {}",
                    suggestion(&name, known.iter().copied()),
                    known.join(", ")
                ),
            ));
        }
        if let Some((key, _)) = table
            .iter()
            .find(|(key, _)| !fields.contains(&key.get_ref().as_ref()))
        {
            let key_text: &str = key.get_ref();
            let mut allowed = fields.to_vec();
            allowed.extend(COMMON_FIELDS);
            return Err(error(
                key.span().start,
                &format!(
                    "unknown field `{key_text}` for action `{name}`{}; expected one of {}",
                    suggestion(key_text, allowed.iter().copied()),
                    allowed.join(", ")
                ),
            ));
        }
        let params = ValueDeserializer::from(Spanned::new(span.clone(), DeValue::Table(table)));
        let action = StepAction::read(&name, params)
            .unwrap_or_else(|| Err(serde::de::Error::custom(format!("unknown action `{name}`"))))
            .map_err(|e: toml::de::Error| {
                // A missing field has no span of its own: it is reported at the step.
                let at = e.span().map_or(span.start, |s| s.start);
                // Serde speaks of Rust types; a scenario's author writes TOML.
                let message = e
                    .message()
                    .trim()
                    .replace("expected a boolean", "expected true or false");
                error(at, &message)
            })?;
        action.check().map_err(|message| error(name_at, &message))?;
        Ok(Step {
            number,
            line,
            action,
            expect_error,
            label,
        })
    }
}

/// The fields every step may have besides its action's.
const COMMON_FIELDS: [&str; 3] = ["action", "expect_error", "name"];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Two offices: `cm` (care management) and `helper` (home help).
    pub(crate) const HEAD: &str = r#"
[scenario]
name = "t"
seed = 1
start = 2025-05-01T09:00:00+09:00

[[office]]
id = "cm"
role = "care_management"
number = "1310000001"
kind = "43"

[[office]]
id = "helper"
role = "service"
number = "1310000002"
kind = "11"
"#;

    fn parse(steps: &str) -> Result<Scenario, ScenarioFileError> {
        Scenario::parse(&format!("{HEAD}{steps}"), Path::new("t.toml"))
    }

    #[test]
    fn included_offices_and_steps_come_first_and_their_errors_name_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let roster = "[[office]]\nid = \"cm\"\nrole = \"care_management\"\nnumber = \"1310000001\"\nkind = \"43\"\n\n\
                      [[office]]\nid = \"helper\"\nrole = \"service\"\nnumber = \"1310000002\"\nkind = \"11\"\n\n\
                      [[step]]\naction = \"export_plan\"\noffice = \"cm\"\nto = \"helper\"\nmonth = \"2025-05\"\n";
        std::fs::write(dir.path().join("roster.include.toml"), roster).unwrap();
        let main = dir.path().join("main.toml");
        let text = "include = [\"roster.include.toml\"]\n[scenario]\nname = \"t\"\nseed = 1\n\
                    start = 2025-05-01T09:00:00+09:00\n\n[[office]]\nid = \"nurse\"\nrole = \"service\"\n\
                    number = \"1310000003\"\nkind = \"13\"\n\n[[step]]\naction = \"send\"\noffice = \"cm\"\nto = \"nurse\"\n";
        let s = Scenario::parse(text, &main).unwrap();
        let ids: Vec<&str> = s.offices.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, ["cm", "helper", "nurse"]);
        assert_eq!(s.steps.len(), 2);
        assert_eq!(s.steps[0].action.info().name, "export_plan");
        assert_eq!((s.steps[1].number, s.steps[1].action.info().name), (2, "send"));

        // An included file holds offices and steps only; its errors name it and its line.
        std::fs::write(
            dir.path().join("roster.include.toml"),
            format!("{roster}[relay]\nstrict = true\n"),
        )
        .unwrap();
        let err = Scenario::parse(text, &main).unwrap_err();
        assert!(err.path.ends_with("roster.include.toml"), "{err}");
        assert!(err.message.contains("unknown field `relay`"), "{err}");
        // An office of the file may not repeat an included one.
        std::fs::write(dir.path().join("roster.include.toml"), roster).unwrap();
        let twice = text.replace("id = \"nurse\"", "id = \"cm\"");
        assert!(
            Scenario::parse(&twice, &main)
                .unwrap_err()
                .message
                .contains("already one of the included offices")
        );
        let missing = text.replace("roster.include.toml", "nowhere.toml");
        let err = Scenario::parse(&missing, &main).unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.contains("cannot read the included file"), "{err}");
    }

    #[test]
    fn parses_a_valid_scenario() {
        let s = parse(
            "[[step]]\naction = \"export_plan\"\noffice = \"cm\"\nto = \"helper\"\nmonth = \"2025-05\"\nusers = 2\n\
             [[step]]\naction = \"advance\"\nby = \"3y\"\n\
             [[step]]\naction = \"send\"\noffice = \"cm\"\nto = \"helper\"\nexpect_error = \"CERT_EXPIRED\"\n",
        )
        .unwrap();
        assert_eq!(s.start, time::macros::datetime!(2025-05-01 09:00 +9));
        assert_eq!(s.steps.len(), 3);
        assert_eq!(
            s.steps[0].action.describe(),
            "export_plan cm → helper 202505 (2 users)"
        );
        assert_eq!(s.steps[0].action.info().name, "export_plan");
        assert_eq!(s.steps[2].expect_error, Some(ErrorCode::CertExpired));
        assert_eq!(s.steps[2].line, 28);
    }

    #[test]
    fn refuses_mistakes_with_their_line() {
        let cases = [
            ("[[step]]\naction = \"fly\"\n", 19, "unknown action `fly`"),
            (
                "[[step]]\naction = \"send\"\noffice = \"cm\"\nto = \"nobody\"\n",
                21,
                "names no office `nobody`",
            ),
            (
                "[[step]]\naction = \"send\"\noffice = \"cm\"\nto = \"helper\"\ntoo = 1\n",
                22,
                "unknown field `too`",
            ),
            (
                "[[step]]\naction = \"send\"\noffice = \"cm\"\nto = \"helper\"\nexpect_error = \"CERT_EXPIRD\"\n",
                22,
                "not a known error code",
            ),
            (
                "[[step]]\naction = \"advance\"\nby = \"3 years\"\n",
                20,
                "span `3 years`",
            ),
            (
                "[[step]]\naction = \"export_plan\"\noffice = \"helper\"\nto = \"cm\"\nmonth = \"202505\"\n",
                20,
                "must be a care_management office, but `helper` is a service office",
            ),
            (
                "[[step]]\naction = \"export_plan\"\noffice = \"cm\"\nto = \"helper\"\nmonth = \"202513\"\n",
                22,
                "service month `202513`",
            ),
            (
                "[[step]]\naction = \"send\"\noffice = \"cm\"\n",
                18,
                "missing field `to`",
            ),
            ("[[step]]\naction = \"send\"\noffice = \"cm\"\nto = [\n", 21, ""),
            ("", 18, "at least one [[step]]"),
        ];
        for (steps, line, needle) in cases {
            let err = parse(steps).unwrap_err();
            assert!(err.message.contains(needle), "{steps:?}: {err}");
            assert_eq!(err.line, line, "{steps:?}: {err}");
        }
    }

    #[test]
    fn refuses_bad_headers_and_offices() {
        let bad_start = HEAD.replace("2025-05-01T09:00:00+09:00", "\"yesterday\"");
        assert!(
            Scenario::parse(&bad_start, Path::new("t.toml"))
                .unwrap_err()
                .message
                .contains("RFC 3339")
        );
        let bad_number = HEAD.replace("1310000002", "4810000002");
        let err = Scenario::parse(&bad_number, Path::new("t.toml")).unwrap_err();
        assert_eq!(err.line, 16, "{err}");
        let bad_role = HEAD.replace("kind = \"11\"", "kind = \"43\"");
        assert!(
            Scenario::parse(&bad_role, Path::new("t.toml"))
                .unwrap_err()
                .message
                .contains("kind 43")
        );
        let unknown_field = format!("{HEAD}[relay]\nx = 1\n");
        assert!(
            Scenario::parse(&unknown_field, Path::new("t.toml"))
                .unwrap_err()
                .message
                .contains("unknown field `x`")
        );
        let bad_cancel = format!("{HEAD}[relay]\ncancel_until = \"later\"\n");
        assert!(
            Scenario::parse(&bad_cancel, Path::new("t.toml"))
                .unwrap_err()
                .message
                .contains("expected downloaded, received or never")
        );
        let unknown_table = format!("{HEAD}[mailbox]\nx = 1\n");
        assert!(
            Scenario::parse(&unknown_table, Path::new("t.toml"))
                .unwrap_err()
                .message
                .contains("mailbox")
        );
    }

    #[test]
    fn reads_licences_and_refuses_impossible_ones() {
        let applied = HEAD.replace(
            "kind = \"11\"\n",
            "kind = \"11\"\nlicence_applied = 2024-05-15T10:00:00+09:00\npayment = \"invoice\"\n",
        );
        let step = "[[step]]\naction = \"check_licence\"\noffice = \"helper\"\nexpiry = \"-\"\nfee = 21000\n";
        let s = Scenario::parse(&format!("{applied}{step}"), Path::new("t.toml")).unwrap();
        assert_eq!(
            s.offices[1].licence,
            Some(LicenceSpec {
                applied_at: time::macros::datetime!(2024-05-15 10:00 +9),
                payment: PaymentMethod::Invoice,
            })
        );
        assert_eq!(s.offices[0].licence.map(|l| l.applied_at), Some(s.start));
        let cases = [
            (
                "licence_applied = 2025-05-02T00:00:00+09:00\n",
                "cannot be after the scenario's start",
            ),
            (
                "account = \"none\"\ncertificate = \"none\"\nlicence = \"active\"\n",
                "has not applied",
            ),
            (
                "licence = \"none\"\nlicence_applied = 2024-05-15T10:00:00+09:00\n",
                "needs licence",
            ),
            ("licence = \"paid\"\n", "expected active or none"),
            ("payment = \"cash\"\n", "not a payment method"),
        ];
        for (fields, needle) in cases {
            let text = HEAD.replace("kind = \"11\"\n", &format!("kind = \"11\"\n{fields}"));
            let err = Scenario::parse(&format!("{text}{step}"), Path::new("t.toml")).unwrap_err();
            assert!(err.message.contains(needle), "{fields:?}: {err}");
        }
        let steps = [
            (
                "[[step]]\naction = \"check_licence\"\noffice = \"cm\"\nexpiry = \"14/05/2025\"\n",
                "YYYY-MM-DD",
            ),
            (
                "[[step]]\naction = \"set_auto_renewal\"\noffice = \"cm\"\n",
                "missing field `on`",
            ),
            (
                "[[step]]\naction = \"apply_usage\"\noffice = \"cm\"\nagree_terms = \"yes\"\n",
                "true or false",
            ),
        ];
        for (step, needle) in steps {
            let err = parse(step).unwrap_err();
            assert!(err.message.contains(needle), "{step:?}: {err}");
        }
    }

    proptest::proptest! {
        #[test]
        fn reading_never_panics(text in "\\PC{0,400}") {
            let _ = Scenario::parse(&text, Path::new("fuzz.toml"));
        }

        #[test]
        fn reading_mutated_scenarios_never_panics(cut in 0usize..700, insert in "[\\[\\]=\"a-z0-9 \n]{0,12}") {
            let mut text = format!("{HEAD}[[step]]\naction = \"send\"\noffice = \"cm\"\nto = \"helper\"\n");
            let at = text.char_indices().map(|(i, _)| i).find(|&i| i >= cut.min(text.len())).unwrap_or(text.len());
            text.insert_str(at, &insert);
            if let Err(e) = Scenario::parse(&text, Path::new("fuzz.toml")) {
                proptest::prop_assert!(e.line >= 1 && e.line <= text.lines().count() + 1);
            }
        }
    }
}
