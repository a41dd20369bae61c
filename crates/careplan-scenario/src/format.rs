//! The scenario file format (TOML), documented in `docs/scenarios.md`.
//!
//! Reading is strict: unknown tables, fields or office aliases, unknown error codes and malformed values
//! are refused with the file, the line and the reason, before anything runs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use careplan_ca::{CertificateType, RenewalStart};
use careplan_core::{CalendarSpan, CareMonth, ErrorCode, OfficeNumber, ServiceKind};
use careplan_license::PaymentMethod;
use careplan_office::OfficeRole;
use careplan_relay::{BundleStatus, RelayConfig};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use toml::{Spanned, Value};

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

/// How a portal or linkage step spells an office's password or certificate-issuance password: the one the
/// office knows (from its notice, its mail or its last change), or a literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// The one the office holds.
    Known,
    /// This text (a wrong password, a new one being tried).
    Literal(String),
}

/// How an office asks for its lost login details again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetBy {
    /// By security e-mail, to this address.
    Email(String),
    /// By paper request to the federation; the notice arrives by post.
    Post,
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

/// The fields an `apply_usage` step writes into the usage application form; the rest come from the
/// office (its name) and valid defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormFields {
    /// Office name (事業所名).
    pub office_name: Option<String>,
    /// Representative's family name.
    pub representative_family: Option<String>,
    /// Representative's given name.
    pub representative_given: Option<String>,
    /// Contact's family name.
    pub contact_family: Option<String>,
    /// Contact's given name.
    pub contact_given: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// The confirmation; the address itself by default.
    pub email_confirmation: Option<String>,
    /// Agreement to the terms of use.
    pub agree_terms: Option<bool>,
    /// Agreement to the privacy policy.
    pub agree_privacy: Option<bool>,
    /// Payment method.
    pub payment: Option<PaymentMethod>,
}

/// What a `check_licence` step expects of the licence page; `None` is not checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LicenceExpectation {
    /// Whether a licence term covers now.
    pub licensed: Option<bool>,
    /// The expiry as shown: `YYYY-MM-DD`, or `-` until paid.
    pub expiry: Option<String>,
    /// The shown term's fee in yen.
    pub fee: Option<u32>,
    /// Whether the shown term is the free pass.
    pub free_pass: Option<bool>,
    /// Whether auto-renewal is on.
    pub auto_renew: Option<bool>,
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
}

/// What a step does. Offices are indices into [`Scenario::offices`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Moves the simulated clock forward.
    Advance {
        /// The span.
        by: CalendarSpan,
        /// The span as written.
        text: String,
    },
    /// Sets the simulated clock.
    SetClock {
        /// The new time.
        to: OffsetDateTime,
    },
    /// A care-management office exports a month's plan bundle for a provider.
    ExportPlan {
        /// The exporting office.
        office: usize,
        /// The provider.
        to: usize,
        /// The service month.
        month: CareMonth,
        /// How many users.
        users: usize,
    },
    /// A service office exports a month's actuals for the care-management office.
    ExportActuals {
        /// The exporting office.
        office: usize,
        /// The care-management office.
        to: usize,
        /// The service month.
        month: CareMonth,
    },
    /// An office sends its exported bundles for a receiver through the relay.
    Send {
        /// The sender.
        office: usize,
        /// The receiver.
        to: usize,
        /// Only the most recent export, leaving older ones queued.
        latest_only: bool,
    },
    /// An office lists its inbox and downloads what is new, send unit by send unit in serial order; with
    /// `download = false` it only accepts (受信) the unread send units.
    Receive {
        /// The receiver.
        office: usize,
        /// Whether files are downloaded (the default) or send units only accepted.
        download: bool,
        /// Only the send unit at this 1-based place in the inbox listing.
        only: Option<usize>,
        /// How many new files must arrive, if checked.
        expect_files: Option<usize>,
        /// How many send units must be accepted or downloaded, if checked.
        expect_bundles: Option<usize>,
    },
    /// The sender cancels (取消) the send unit it sent last to `to`.
    CancelSend {
        /// The sender.
        office: usize,
        /// The receiver.
        to: usize,
    },
    /// Checks the statuses of an office's inbox, in listing (serial) order.
    CheckInbox {
        /// The receiver.
        office: usize,
        /// The statuses, one per send unit.
        statuses: Vec<BundleStatus>,
    },
    /// Checks the statuses of an office's sent list, in sending order.
    CheckSent {
        /// The sender.
        office: usize,
        /// Only send units to this office, if given.
        to: Option<usize>,
        /// The statuses, one per send unit.
        statuses: Vec<BundleStatus>,
    },
    /// The relay acts on the next sends but their answers are lost on the way back.
    LoseResponses {
        /// How many answers.
        count: u32,
    },
    /// Edits the exported send unit waiting in an office's outbox for `to` (the latest one), as a vendor
    /// bug or a user's hand would.
    EditOutbox {
        /// The office.
        office: usize,
        /// The receiver of the send unit.
        to: usize,
        /// The edit.
        edit: OutboxEdit,
    },
    /// An office's care software imports what was downloaded.
    Import {
        /// The importer.
        office: usize,
        /// How many distinct users the imported sheets must hold, if checked.
        expect_users: Option<usize>,
    },
    /// Every file `from` sent to `to` arrived at `to` byte for byte.
    AssertDelivered {
        /// The sender.
        from: usize,
        /// The receiver.
        to: usize,
    },
    /// The office's federation issues its user ID (発行願); the notice arrives by post at once.
    IssueUserId {
        /// The office.
        office: usize,
    },
    /// The office logs in to the e-billing portal.
    PortalLogin {
        /// The office.
        office: usize,
        /// The password typed.
        password: Secret,
    },
    /// Accepts the portal's terms of use.
    AcceptTerms {
        /// The office.
        office: usize,
    },
    /// Changes the portal password; the office remembers the new one.
    ChangePassword {
        /// The office.
        office: usize,
        /// The new password.
        new: String,
    },
    /// Logs in to the linkage client: personal user ID and password, then the office's user ID and
    /// password.
    ClientLogin {
        /// The office.
        office: usize,
        /// The personal user ID typed, if not the office's own.
        personal_user_id: Option<String>,
        /// The personal password typed.
        personal_password: Secret,
        /// The user ID typed, if not the office's own.
        user_id: Option<String>,
        /// The password typed.
        password: Secret,
    },
    /// Logs in to the usage-application site with the office's user ID.
    UsageLogin {
        /// The office.
        office: usize,
        /// The password typed.
        password: Secret,
    },
    /// Files the usage application (利用申請); the office remembers its personal account.
    ApplyUsage {
        /// The office.
        office: usize,
        /// The fields written differently from the valid defaults.
        form: Box<FormFields>,
    },
    /// Checks the licence page.
    CheckLicence {
        /// The office.
        office: usize,
        /// What must be shown.
        expect: Box<LicenceExpectation>,
    },
    /// Stops or resumes automatic renewal.
    SetAutoRenewal {
        /// The office.
        office: usize,
        /// On or off.
        on: bool,
    },
    /// Renews the licence by hand.
    RenewLicence {
        /// The office.
        office: usize,
    },
    /// Asks to cancel the licence.
    CancelLicence {
        /// The office.
        office: usize,
    },
    /// Pays the licence invoice.
    PayInvoice {
        /// The office.
        office: usize,
    },
    /// Registers a security e-mail address (a code is mailed).
    RegisterEmail {
        /// The office.
        office: usize,
        /// The address.
        address: String,
    },
    /// Confirms it with the code.
    ConfirmEmail {
        /// The office.
        office: usize,
        /// The code typed (known: the last one mailed).
        code: Secret,
    },
    /// Asks for lost login details again.
    RequestReset {
        /// The office.
        office: usize,
        /// How.
        by: ResetBy,
    },
    /// Completes a reset by e-mail with the code; the new temporary password is mailed.
    CompleteReset {
        /// The office.
        office: usize,
        /// The code typed (known: the last one mailed).
        code: Secret,
    },
    /// Reads the mail delivered since the last look; notices and mailed passwords replace what the office
    /// knows.
    ReadMail {
        /// The office.
        office: usize,
        /// How many new pieces must have arrived, if checked.
        expect_mail: Option<usize>,
    },
    /// Re-issues the certificate-issuance password in the portal; the office remembers the new one.
    ReissueIssuancePassword {
        /// The office.
        office: usize,
    },
    /// Applies for a new certificate.
    ApplyCertificate {
        /// The office.
        office: usize,
        /// The type.
        certificate_type: CertificateType,
        /// The certificate-issuance password typed.
        issuance_password: Secret,
    },
    /// Applies to renew the current certificate.
    RenewCertificate {
        /// The office.
        office: usize,
        /// The renewal option.
        start: RenewalStart,
        /// The certificate-issuance password typed.
        issuance_password: Secret,
    },
    /// Downloads the latest certificate and installs it in the linkage client.
    InstallCertificate {
        /// The office.
        office: usize,
        /// The certificate-issuance password typed (for the download and the installation).
        issuance_password: Secret,
    },
    /// The office's certificates are revoked (失効依頼); the relay loads the CA's new revocation list.
    RevokeCertificate {
        /// The office.
        office: usize,
    },
    /// Checks the office's certificate page.
    CheckCertificates {
        /// The office.
        office: usize,
        /// How many certificates must be issued, if checked.
        issued: Option<usize>,
        /// How many applications must be pending, if checked.
        pending: Option<usize>,
    },
}

/// An `edit_outbox` change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxEdit {
    /// Takes the file with this prefix (e.g. `UPSIKYU`) out of the send unit.
    Remove(String),
    /// Damages the file with this prefix: its first record loses its last field.
    Damage(String),
    /// Attaches a small PDF file with this name.
    AttachPdf(String),
}

/// Every action name, for messages.
const ACTIONS: &str = "advance, set_clock, export_plan, export_actuals, send, receive, import, assert_delivered, \
     issue_user_id, portal_login, accept_terms, change_password, client_login, register_email, confirm_email, \
     request_reset, complete_reset, read_mail, reissue_issuance_password, apply_certificate, renew_certificate, \
     install_certificate, revoke_certificate, check_certificates, usage_login, apply_usage, check_licence, \
     set_auto_renewal, renew_licence, cancel_licence, pay_invoice, cancel_send, check_inbox, check_sent, \
     lose_responses, edit_outbox";

/// Whether `text` is a calendar date written `YYYY-MM-DD`.
fn is_date(text: &str) -> bool {
    time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).is_ok()
}

/// One `[[step]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based position in the file.
    pub number: usize,
    /// Line of the step's `action`.
    pub line: usize,
    /// What it does.
    pub action: Action,
    /// The code the step must fail with, if any.
    pub expect_error: Option<ErrorCode>,
    /// An optional label shown in reports.
    pub label: Option<String>,
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
    /// The simulated clock's start.
    pub start: OffsetDateTime,
    /// The relay's settings (`[relay]`).
    pub relay: RelayConfig,
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
    scenario: Spanned<RawHeader>,
    #[serde(default)]
    relay: Option<Spanned<RawRelay>>,
    #[serde(default)]
    office: Vec<Spanned<RawOffice>>,
    #[serde(default)]
    step: Vec<Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: String,
    #[serde(default)]
    description: String,
    seed: u64,
    start: Spanned<Value>,
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
}

struct Parser<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Parser<'_> {
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

    fn parse(&self) -> Result<Scenario, ScenarioFileError> {
        let raw: RawFile = toml::from_str(self.text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            self.error(offset, e.message().trim())
        })?;
        let header = raw.scenario.into_inner();
        let start = self.instant(&header.start)?;
        let relay = self.relay(raw.relay)?;
        let offices = self.offices(raw.office, start)?;
        let aliases: BTreeMap<&str, usize> = offices
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id.as_str(), i))
            .collect();
        let steps = raw
            .step
            .into_iter()
            .enumerate()
            .map(|(i, step)| self.step(i + 1, step, &aliases, &offices))
            .collect::<Result<Vec<_>, _>>()?;
        if steps.is_empty() {
            return Err(self.error(self.text.len(), "a scenario needs at least one [[step]]"));
        }
        Ok(Scenario {
            path: self.path.to_owned(),
            name: header.name,
            description: header.description,
            seed: header.seed,
            start,
            relay,
            offices,
            steps,
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
            offices.push(OfficeSpec {
                id: raw.id,
                role: raw.role,
                number,
                kind,
                name,
                account_ready,
                certificate,
                licence,
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

    fn step(
        &self,
        number: usize,
        raw: Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>,
        aliases: &BTreeMap<&str, usize>,
        offices: &[OfficeSpec],
    ) -> Result<Step, ScenarioFileError> {
        let at = raw.span().start;
        let mut fields = StepFields {
            parser: self,
            number,
            at,
            map: raw.into_inner(),
            used: BTreeSet::new(),
        };
        let (action_name, action_at) = fields.required_str("action")?;
        let line = self.line_of(action_at);
        let expect_error = match fields.optional_str("expect_error")? {
            None => None,
            Some((code, code_at)) => Some(code.parse::<ErrorCode>().map_err(|e| self.error(code_at, e))?),
        };
        let label = fields.optional_str("name")?.map(|(s, _)| s);
        let action = match action_name.as_str() {
            "advance" => {
                let (text, text_at) = fields.required_str("by")?;
                let by = text.parse().map_err(|e| self.error(text_at, e))?;
                Action::Advance { by, text }
            }
            "set_clock" => {
                let value = fields.required("to")?;
                Action::SetClock {
                    to: self.instant(&value)?,
                }
            }
            "export_plan" => {
                let office = fields.office("office", aliases, offices, Some(OfficeRole::CareManagement))?;
                let to = fields.office("to", aliases, offices, Some(OfficeRole::Service))?;
                let month = fields.month()?;
                let users = fields.optional_count("users")?.unwrap_or(3);
                Action::ExportPlan {
                    office,
                    to,
                    month,
                    users,
                }
            }
            "export_actuals" => {
                let office = fields.office("office", aliases, offices, Some(OfficeRole::Service))?;
                let to = fields.office("to", aliases, offices, Some(OfficeRole::CareManagement))?;
                Action::ExportActuals {
                    office,
                    to,
                    month: fields.month()?,
                }
            }
            "send" => Action::Send {
                office: fields.office("office", aliases, offices, None)?,
                to: fields.office("to", aliases, offices, None)?,
                latest_only: fields.optional_bool("latest_only")?.unwrap_or(false),
            },
            "receive" => Action::Receive {
                office: fields.office("office", aliases, offices, None)?,
                download: fields.optional_bool("download")?.unwrap_or(true),
                only: match fields.optional_count("bundle")? {
                    Some(0) => {
                        return Err(self.error(
                            action_at,
                            format!("step {number}: `bundle` counts from 1 (the first send unit listed)"),
                        ));
                    }
                    only => only,
                },
                expect_files: fields.optional_count("expect_files")?,
                expect_bundles: fields.optional_count("expect_bundles")?,
            },
            "cancel_send" => Action::CancelSend {
                office: fields.office("office", aliases, offices, None)?,
                to: fields.office("to", aliases, offices, None)?,
            },
            "check_inbox" => Action::CheckInbox {
                office: fields.office("office", aliases, offices, None)?,
                statuses: fields.statuses()?,
            },
            "check_sent" => Action::CheckSent {
                office: fields.office("office", aliases, offices, None)?,
                to: fields.optional_office("to", aliases, offices)?,
                statuses: fields.statuses()?,
            },
            "lose_responses" => Action::LoseResponses {
                count: u32::try_from(fields.optional_count("count")?.unwrap_or(1)).unwrap_or(u32::MAX),
            },
            "edit_outbox" => {
                let office = fields.office("office", aliases, offices, None)?;
                let to = fields.office("to", aliases, offices, None)?;
                let edits = [
                    fields.optional_str("remove")?.map(|(p, _)| OutboxEdit::Remove(p)),
                    fields.optional_str("damage")?.map(|(p, _)| OutboxEdit::Damage(p)),
                    fields
                        .optional_str("attach_pdf")?
                        .map(|(n, _)| OutboxEdit::AttachPdf(n)),
                ];
                let mut edits = edits.into_iter().flatten();
                match (edits.next(), edits.next()) {
                    (Some(edit), None) => Action::EditOutbox { office, to, edit },
                    _ => {
                        return Err(self.error(
                            action_at,
                            format!(
                                "step {number}: edit_outbox takes exactly one of remove, damage, attach_pdf"
                            ),
                        ));
                    }
                }
            }
            "import" => Action::Import {
                office: fields.office("office", aliases, offices, None)?,
                expect_users: fields.optional_count("expect_users")?,
            },
            "assert_delivered" => Action::AssertDelivered {
                from: fields.office("from", aliases, offices, None)?,
                to: fields.office("to", aliases, offices, None)?,
            },
            "issue_user_id" => Action::IssueUserId {
                office: fields.office("office", aliases, offices, None)?,
            },
            "portal_login" => Action::PortalLogin {
                office: fields.office("office", aliases, offices, None)?,
                password: fields.secret("password")?,
            },
            "accept_terms" => Action::AcceptTerms {
                office: fields.office("office", aliases, offices, None)?,
            },
            "change_password" => Action::ChangePassword {
                office: fields.office("office", aliases, offices, None)?,
                new: fields.required_str("new")?.0,
            },
            "client_login" => Action::ClientLogin {
                office: fields.office("office", aliases, offices, None)?,
                personal_user_id: fields.optional_str("personal_user_id")?.map(|(s, _)| s),
                personal_password: fields.secret("personal_password")?,
                user_id: fields.optional_str("user_id")?.map(|(s, _)| s),
                password: fields.secret("password")?,
            },
            "usage_login" => Action::UsageLogin {
                office: fields.office("office", aliases, offices, None)?,
                password: fields.secret("password")?,
            },
            "apply_usage" => {
                let office = fields.office("office", aliases, offices, None)?;
                let mut text = |key: &str| fields.optional_str(key).map(|v| v.map(|(s, _)| s));
                let mut form = FormFields {
                    office_name: text("office_name")?,
                    representative_family: text("representative_family")?,
                    representative_given: text("representative_given")?,
                    contact_family: text("contact_family")?,
                    contact_given: text("contact_given")?,
                    phone: text("phone")?,
                    email: text("email")?,
                    email_confirmation: text("email_confirmation")?,
                    ..FormFields::default()
                };
                form.agree_terms = fields.optional_bool("agree_terms")?;
                form.agree_privacy = fields.optional_bool("agree_privacy")?;
                form.payment = match fields.optional_str("payment")? {
                    None => None,
                    Some((text, at)) => Some(
                        text.parse()
                            .map_err(|e| self.error(at, format!("step {number}: {e}")))?,
                    ),
                };
                Action::ApplyUsage {
                    office,
                    form: Box::new(form),
                }
            }
            "check_licence" => {
                let office = fields.office("office", aliases, offices, None)?;
                let expiry = match fields.optional_str("expiry")? {
                    Some((text, at)) if text != "-" && !is_date(&text) => {
                        return Err(self.error(
                            at,
                            format!("step {number}: `expiry` must be YYYY-MM-DD or -, found `{text}`"),
                        ));
                    }
                    other => other.map(|(text, _)| text),
                };
                let fee = fields
                    .optional_count("fee")?
                    .map(|fee| u32::try_from(fee).unwrap_or(u32::MAX));
                Action::CheckLicence {
                    office,
                    expect: Box::new(LicenceExpectation {
                        licensed: fields.optional_bool("licensed")?,
                        expiry,
                        fee,
                        free_pass: fields.optional_bool("free_pass")?,
                        auto_renew: fields.optional_bool("auto_renew")?,
                    }),
                }
            }
            "set_auto_renewal" => {
                let office = fields.office("office", aliases, offices, None)?;
                let on = fields.optional_bool("on")?.ok_or_else(|| {
                    self.error(
                        fields.at,
                        format!("step {number}: missing field `on` (true or false)"),
                    )
                })?;
                Action::SetAutoRenewal { office, on }
            }
            "renew_licence" => Action::RenewLicence {
                office: fields.office("office", aliases, offices, None)?,
            },
            "cancel_licence" => Action::CancelLicence {
                office: fields.office("office", aliases, offices, None)?,
            },
            "pay_invoice" => Action::PayInvoice {
                office: fields.office("office", aliases, offices, None)?,
            },
            "register_email" => Action::RegisterEmail {
                office: fields.office("office", aliases, offices, None)?,
                address: fields.required_str("address")?.0,
            },
            "confirm_email" => Action::ConfirmEmail {
                office: fields.office("office", aliases, offices, None)?,
                code: fields.secret("code")?,
            },
            "request_reset" => {
                let office = fields.office("office", aliases, offices, None)?;
                let (by, by_at) = fields.required_str("by")?;
                let by = match by.as_str() {
                    "email" => ResetBy::Email(fields.required_str("address")?.0),
                    "post" => ResetBy::Post,
                    other => {
                        return Err(self.error(
                            by_at,
                            format!("step {number}: `by` must be email or post, found `{other}`"),
                        ));
                    }
                };
                Action::RequestReset { office, by }
            }
            "complete_reset" => Action::CompleteReset {
                office: fields.office("office", aliases, offices, None)?,
                code: fields.secret("code")?,
            },
            "read_mail" => Action::ReadMail {
                office: fields.office("office", aliases, offices, None)?,
                expect_mail: fields.optional_count("expect_mail")?,
            },
            "reissue_issuance_password" => Action::ReissueIssuancePassword {
                office: fields.office("office", aliases, offices, None)?,
            },
            "apply_certificate" => {
                let office = fields.office("office", aliases, offices, None)?;
                let certificate_type = match fields.optional_str("type")? {
                    None => CertificateType::CareInsurance,
                    Some((text, at)) => text
                        .parse()
                        .map_err(|e| self.error(at, format!("step {number}: {e}")))?,
                };
                Action::ApplyCertificate {
                    office,
                    certificate_type,
                    issuance_password: fields.secret("issuance_password")?,
                }
            }
            "renew_certificate" => {
                let office = fields.office("office", aliases, offices, None)?;
                let (text, at) = fields.required_str("start")?;
                let start = text
                    .parse()
                    .map_err(|e| self.error(at, format!("step {number}: {e}")))?;
                Action::RenewCertificate {
                    office,
                    start,
                    issuance_password: fields.secret("issuance_password")?,
                }
            }
            "install_certificate" => Action::InstallCertificate {
                office: fields.office("office", aliases, offices, None)?,
                issuance_password: fields.secret("issuance_password")?,
            },
            "revoke_certificate" => Action::RevokeCertificate {
                office: fields.office("office", aliases, offices, None)?,
            },
            "check_certificates" => Action::CheckCertificates {
                office: fields.office("office", aliases, offices, None)?,
                issued: fields.optional_count("issued")?,
                pending: fields.optional_count("pending")?,
            },
            other => {
                return Err(self.error(
                    action_at,
                    format!("step {number}: unknown action `{other}`; expected one of {ACTIONS}"),
                ));
            }
        };
        fields.finish(&action_name)?;
        Ok(Step {
            number,
            line,
            action,
            expect_error,
            label,
        })
    }
}

/// The fields of one step, consumed one by one so that leftovers can be reported as unknown.
struct StepFields<'p, 'a> {
    parser: &'p Parser<'a>,
    number: usize,
    at: usize,
    map: BTreeMap<Spanned<String>, Spanned<Value>>,
    used: BTreeSet<String>,
}

impl StepFields<'_, '_> {
    fn take(&mut self, key: &str) -> Option<Spanned<Value>> {
        self.used.insert(key.to_owned());
        let found = self.map.keys().find(|k| k.get_ref() == key)?.clone();
        self.map.remove(&found)
    }

    fn required(&mut self, key: &str) -> Result<Spanned<Value>, ScenarioFileError> {
        self.take(key).ok_or_else(|| {
            self.parser
                .error(self.at, format!("step {}: missing field `{key}`", self.number))
        })
    }

    fn string_of(&self, key: &str, value: Spanned<Value>) -> Result<(String, usize), ScenarioFileError> {
        let at = value.span().start;
        match value.into_inner() {
            Value::String(s) => Ok((s, at)),
            other => Err(self.parser.error(
                at,
                format!(
                    "step {}: `{key}` must be a string, found {}",
                    self.number,
                    other.type_str()
                ),
            )),
        }
    }

    fn required_str(&mut self, key: &str) -> Result<(String, usize), ScenarioFileError> {
        let value = self.required(key)?;
        self.string_of(key, value)
    }

    fn optional_str(&mut self, key: &str) -> Result<Option<(String, usize)>, ScenarioFileError> {
        self.take(key).map(|v| self.string_of(key, v)).transpose()
    }

    fn optional_count(&mut self, key: &str) -> Result<Option<usize>, ScenarioFileError> {
        let Some(value) = self.take(key) else {
            return Ok(None);
        };
        let at = value.span().start;
        match value.into_inner() {
            Value::Integer(n) if (0..=100_000).contains(&n) => Ok(usize::try_from(n).ok()),
            other => Err(self.parser.error(
                at,
                format!(
                    "step {}: `{key}` must be a whole number 0–100000, found {other}",
                    self.number
                ),
            )),
        }
    }

    /// The `statuses` list of a check step.
    fn statuses(&mut self) -> Result<Vec<BundleStatus>, ScenarioFileError> {
        let value = self.required("statuses")?;
        let at = value.span().start;
        let Value::Array(items) = value.into_inner() else {
            return Err(self.parser.error(
                at,
                format!(
                    "step {}: `statuses` must be a list such as [\"unread\", \"downloaded\"]",
                    self.number
                ),
            ));
        };
        items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => s
                    .parse::<BundleStatus>()
                    .map_err(|e| self.parser.error(at, format!("step {}: {e}", self.number))),
                other => Err(self.parser.error(
                    at,
                    format!(
                        "step {}: a status is a string, found {}",
                        self.number,
                        other.type_str()
                    ),
                )),
            })
            .collect()
    }

    fn optional_bool(&mut self, key: &str) -> Result<Option<bool>, ScenarioFileError> {
        let Some(value) = self.take(key) else {
            return Ok(None);
        };
        let at = value.span().start;
        match value.into_inner() {
            Value::Boolean(b) => Ok(Some(b)),
            other => Err(self.parser.error(
                at,
                format!(
                    "step {}: `{key}` must be true or false, found {}",
                    self.number,
                    other.type_str()
                ),
            )),
        }
    }

    /// An optional secret: absent means the one the office knows.
    fn secret(&mut self, key: &str) -> Result<Secret, ScenarioFileError> {
        Ok(match self.optional_str(key)? {
            Some((text, _)) => Secret::Literal(text),
            None => Secret::Known,
        })
    }

    fn month(&mut self) -> Result<CareMonth, ScenarioFileError> {
        let (text, at) = self.required_str("month")?;
        text.parse()
            .map_err(|e| self.parser.error(at, format!("step {}: {e}", self.number)))
    }

    fn office(
        &mut self,
        key: &str,
        aliases: &BTreeMap<&str, usize>,
        offices: &[OfficeSpec],
        role: Option<OfficeRole>,
    ) -> Result<usize, ScenarioFileError> {
        let (alias, at) = self.required_str(key)?;
        self.office_named(key, (alias, at), aliases, offices, role)
    }

    fn optional_office(
        &mut self,
        key: &str,
        aliases: &BTreeMap<&str, usize>,
        offices: &[OfficeSpec],
    ) -> Result<Option<usize>, ScenarioFileError> {
        self.optional_str(key)?
            .map(|named| self.office_named(key, named, aliases, offices, None))
            .transpose()
    }

    fn office_named(
        &self,
        key: &str,
        (alias, at): (String, usize),
        aliases: &BTreeMap<&str, usize>,
        offices: &[OfficeSpec],
        role: Option<OfficeRole>,
    ) -> Result<usize, ScenarioFileError> {
        let index = *aliases.get(alias.as_str()).ok_or_else(|| {
            let known: Vec<&str> = aliases.keys().copied().collect();
            self.parser.error(
                at,
                format!(
                    "step {}: `{key}` names no office `{alias}`; offices are: {}",
                    self.number,
                    known.join(", ")
                ),
            )
        })?;
        match role {
            Some(role) if offices[index].role != role => Err(self.parser.error(
                at,
                format!(
                    "step {}: `{key}` must be a {role:?} office, but `{alias}` is {:?}",
                    self.number, offices[index].role
                ),
            )),
            _ => Ok(index),
        }
    }

    fn finish(self, action: &str) -> Result<(), ScenarioFileError> {
        if let Some((key, _)) = self.map.iter().next() {
            let mut allowed: Vec<&str> = self.used.iter().map(String::as_str).collect();
            allowed.retain(|k| *k != "action");
            return Err(self.parser.error(
                key.span().start,
                format!(
                    "step {}: unknown field `{}` for action `{action}`; expected one of {}",
                    self.number,
                    key.get_ref(),
                    allowed.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"
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
id = "hh"
role = "service"
number = "1310000002"
kind = "11"
"#;

    fn parse(steps: &str) -> Result<Scenario, ScenarioFileError> {
        Scenario::parse(&format!("{HEAD}{steps}"), Path::new("t.toml"))
    }

    #[test]
    fn parses_a_valid_scenario() {
        let s = parse(
            "[[step]]\naction = \"export_plan\"\noffice = \"cm\"\nto = \"hh\"\nmonth = \"2025-05\"\nusers = 2\n\
             [[step]]\naction = \"advance\"\nby = \"3y\"\n\
             [[step]]\naction = \"send\"\noffice = \"cm\"\nto = \"hh\"\nexpect_error = \"CERT_EXPIRED\"\n",
        )
        .unwrap();
        assert_eq!(s.start, time::macros::datetime!(2025-05-01 09:00 +9));
        assert_eq!(s.steps.len(), 3);
        assert_eq!(
            s.steps[0].action,
            Action::ExportPlan {
                office: 0,
                to: 1,
                month: "202505".parse().unwrap(),
                users: 2
            }
        );
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
                "[[step]]\naction = \"send\"\noffice = \"cm\"\nto = \"hh\"\ntoo = 1\n",
                22,
                "unknown field `too`",
            ),
            (
                "[[step]]\naction = \"send\"\noffice = \"cm\"\nto = \"hh\"\nexpect_error = \"CERT_EXPIRD\"\n",
                22,
                "not a known error code",
            ),
            (
                "[[step]]\naction = \"advance\"\nby = \"3 years\"\n",
                20,
                "span `3 years`",
            ),
            (
                "[[step]]\naction = \"export_plan\"\noffice = \"hh\"\nto = \"cm\"\nmonth = \"202505\"\n",
                20,
                "must be a CareManagement office",
            ),
            (
                "[[step]]\naction = \"export_plan\"\noffice = \"cm\"\nto = \"hh\"\nmonth = \"202513\"\n",
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
        let step = "[[step]]\naction = \"check_licence\"\noffice = \"hh\"\nexpiry = \"-\"\nfee = 21000\n";
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
            let mut text = format!("{HEAD}[[step]]\naction = \"send\"\noffice = \"cm\"\nto = \"hh\"\n");
            let at = text.char_indices().map(|(i, _)| i).find(|&i| i >= cut.min(text.len())).unwrap_or(text.len());
            text.insert_str(at, &insert);
            if let Err(e) = Scenario::parse(&text, Path::new("fuzz.toml")) {
                proptest::prop_assert!(e.line >= 1 && e.line <= text.lines().count() + 1);
            }
        }
    }
}
