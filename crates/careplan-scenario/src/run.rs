//! The runner: builds the ecosystem of one scenario (CA, portal, usage site, relay, offices) on a
//! simulated clock and plays its steps over real loopback TLS.

mod licence;
mod relay;

use std::sync::{Arc, Mutex};

use careplan_ca::CertificateAuthority;
use careplan_core::{Clock, ErrorCode, OfficeNumber, SimulatedClock, format_jst};
use careplan_eseikyu::{PortalConfig, PortalError};
use careplan_license::LicenceConfig;
use careplan_net::api::{PortalRequest, PortalResponse, WireMailBody};
use careplan_net::{
    ClientError, Endpoints, LinkageClient, LoginDetails, OfficeSetup, Parties, PartyServer, PartyState,
    PortalClient, ProvisionedOffice, RelayServer, UsageSiteClient, crl_of, pkcs12_of, serve_portal,
    serve_usage_site,
};
use careplan_office::{Bundle, CareSoftware, OfficeError, OfficeProfile, VirtualOffice};
use careplan_relay::{MemoryStore, Relay, Store};
use time::OffsetDateTime;

use crate::format::{Action, FormFields, OutboxEdit, ResetBy, Scenario, Secret, Step};

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult {
    /// It did what it should (including failing with its `expect_error`).
    Passed {
        /// What happened.
        detail: String,
    },
    /// It did not.
    Failed {
        /// Why the step failed, with the code it met if any.
        reason: String,
    },
    /// Not run because an earlier step failed.
    Skipped,
}

/// The outcome of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    /// 1-based step number.
    pub number: usize,
    /// Line of the step in the file.
    pub line: usize,
    /// What the step does, in words.
    pub description: String,
    /// Simulated time when the step started.
    pub at: OffsetDateTime,
    /// The code the step met, if it failed with one (expected or not).
    pub code: Option<ErrorCode>,
    /// How it ended.
    pub result: StepResult,
}

/// The outcome of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub name: String,
    /// The seed it ran with.
    pub seed: u64,
    /// Every step, in order.
    pub steps: Vec<StepOutcome>,
}

impl ScenarioReport {
    /// Whether every step passed.
    pub fn passed(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s.result, StepResult::Passed { .. }))
    }
}

/// The ecosystem could not be set up (not a scenario failure).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The async runtime could not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    /// The CA failed.
    #[error(transparent)]
    Ca(#[from] careplan_ca::CaError),
    /// A TLS configuration failed.
    #[error(transparent)]
    Tls(#[from] careplan_net::TlsError),
    /// A server could not start.
    #[error(transparent)]
    Server(#[from] careplan_net::ServerError),
    /// The portal failed while setting up.
    #[error(transparent)]
    Portal(PortalError),
    /// The starting state (accounts, certificates, client logins) could not be set up.
    #[error("cannot set up office {office}: {message}")]
    Setup {
        /// The office.
        office: OfficeNumber,
        /// Why.
        message: String,
    },
}

/// Options of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Replaces the scenario's seed.
    pub seed: Option<u64>,
}

/// Runs a scenario, calling `observe` after each step; stops at the first failed step.
pub fn run(
    scenario: &Scenario,
    options: RunOptions,
    observe: &mut dyn FnMut(&StepOutcome),
) -> Result<ScenarioReport, RunError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    runtime.block_on(run_async(scenario, options, observe))
}

enum StepError {
    /// A refusal: its codes (the main one first; several when a password breaks several rules).
    Code(Vec<ErrorCode>, String),
    Assertion(String),
}

impl StepError {
    fn code(code: ErrorCode, message: impl Into<String>) -> Self {
        StepError::Code(vec![code], message.into())
    }
}

impl From<OfficeError> for StepError {
    fn from(e: OfficeError) -> Self {
        match e {
            OfficeError::Client(client) => client.into(),
            other => StepError::code(other.code(), other.to_string()),
        }
    }
}

impl From<ClientError> for StepError {
    fn from(e: ClientError) -> Self {
        StepError::Code(e.codes(), e.to_string())
    }
}

/// What an office knows of its login details: from its notices, its mail and its own changes.
#[derive(Debug, Default)]
struct Credentials {
    user_id: Option<String>,
    password: Option<String>,
    issuance_password: Option<String>,
    session: Option<u64>,
    /// How many pieces of mail the office has read.
    mail_read: usize,
    /// The personal user ID the usage site issued.
    personal_user_id: Option<String>,
    /// Its password.
    personal_password: Option<String>,
    /// The usage-site session.
    usage_session: Option<u64>,
}

impl Credentials {
    /// What the office types at the linkage client's login, once it knows all of it.
    fn login_details(&self) -> Option<LoginDetails> {
        Some(LoginDetails {
            personal_user_id: self.personal_user_id.clone()?,
            personal_password: self.personal_password.clone()?,
            user_id: self.user_id.clone()?,
            password: self.password.clone()?,
        })
    }
}

impl From<ProvisionedOffice> for Credentials {
    fn from(known: ProvisionedOffice) -> Self {
        Self {
            user_id: known.user_id,
            password: known.password,
            issuance_password: known.issuance_password,
            mail_read: known.mail_read,
            personal_user_id: known.personal_user_id,
            personal_password: known.personal_password,
            ..Self::default()
        }
    }
}

/// The usage application of an office: valid defaults (its name, fixed people, a phone number and an
/// address derived from its number) with `fields` written over them.
fn usage_form(
    name: &str,
    number: OfficeNumber,
    fields: &FormFields,
    payment: careplan_license::PaymentMethod,
) -> careplan_license::UsageApplication {
    let typical = careplan_license::UsageApplication::typical(name, number, payment);
    let text = |field: &Option<String>, typical: String| field.clone().unwrap_or(typical);
    let email = text(&fields.email, typical.email);
    careplan_license::UsageApplication {
        office_name: text(&fields.office_name, typical.office_name),
        representative: careplan_license::PersonName {
            family: text(&fields.representative_family, typical.representative.family),
            given: text(&fields.representative_given, typical.representative.given),
        },
        contact: careplan_license::PersonName {
            family: text(&fields.contact_family, typical.contact.family),
            given: text(&fields.contact_given, typical.contact.given),
        },
        phone: text(&fields.phone, typical.phone),
        email_confirmation: text(&fields.email_confirmation, email.clone()),
        email,
        agree_terms: fields.agree_terms.unwrap_or(typical.agree_terms),
        agree_privacy: fields.agree_privacy.unwrap_or(typical.agree_privacy),
        payment: fields.payment.unwrap_or(payment),
    }
}

/// The password of an office that starts with its account ready: letters and digits, within the policy.
fn starting_password(office: OfficeNumber) -> String {
    format!("Sim{office}")
}

struct World {
    clock: Arc<SimulatedClock>,
    offices: Vec<VirtualOffice>,
    aliases: Vec<String>,
    credentials: Vec<Credentials>,
    portal: PortalClient,
    site: UsageSiteClient,
    relay: RelayServer,
    _portal_server: PartyServer,
    _usage_server: PartyServer,
}

async fn run_async(
    scenario: &Scenario,
    options: RunOptions,
    observe: &mut dyn FnMut(&StepOutcome),
) -> Result<ScenarioReport, RunError> {
    let seed = options.seed.unwrap_or(scenario.seed);
    let mut world = World::build(scenario, seed).await?;
    let mut steps = Vec::with_capacity(scenario.steps.len());
    let mut failed = false;
    for step in &scenario.steps {
        let at = world.clock.now();
        let description = step.label.clone().unwrap_or_else(|| world.describe(&step.action));
        let (code, result) = if failed {
            (None, StepResult::Skipped)
        } else {
            let outcome = world.execute(step).await;
            judge(step, outcome)
        };
        failed |= matches!(result, StepResult::Failed { .. });
        let outcome = StepOutcome {
            number: step.number,
            line: step.line,
            description,
            at,
            code,
            result,
        };
        observe(&outcome);
        steps.push(outcome);
    }
    Ok(ScenarioReport {
        name: scenario.name.clone(),
        seed,
        steps,
    })
}

/// Holds a step's outcome against its `expect_error`.
fn judge(step: &Step, outcome: Result<String, StepError>) -> (Option<ErrorCode>, StepResult) {
    match (outcome, step.expect_error) {
        (Ok(detail), None) => (None, StepResult::Passed { detail }),
        (Ok(detail), Some(expected)) => (
            None,
            StepResult::Failed {
                reason: format!("expected {expected}, but the step succeeded ({detail})"),
            },
        ),
        (Err(StepError::Code(codes, message)), Some(expected)) if codes.contains(&expected) => (
            Some(expected),
            StepResult::Passed {
                detail: format!("failed as expected with {expected}: {message}"),
            },
        ),
        (Err(StepError::Code(codes, message)), expected) => {
            let wanted = expected.map_or_else(String::new, |e| format!("expected {e}, but "));
            let code = codes.first().copied().unwrap_or(ErrorCode::ProtocolError);
            let all = codes.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ");
            (
                Some(code),
                StepResult::Failed {
                    reason: format!("{wanted}failed with {all}: {message}"),
                },
            )
        }
        (Err(StepError::Assertion(message)), _) => (None, StepResult::Failed { reason: message }),
    }
}

impl World {
    async fn build(scenario: &Scenario, seed: u64) -> Result<Self, RunError> {
        let clock = Arc::new(SimulatedClock::new(scenario.start));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let ca = CertificateAuthority::new()?;
        let relay_certificate = ca.issue_relay_certificate()?;
        let portal_certificate = ca.issue_portal_certificate()?;
        let site_certificate = ca.issue_usage_site_certificate()?;
        let root = ca.root().clone();
        let mut state = PartyState::new(PortalConfig::default(), LicenceConfig::default(), ca, seed);
        // The starting state is set up on the cores before they serve: offices with their account ready,
        // their usage applications and the certificates they already hold.
        let mut credentials = Vec::with_capacity(scenario.offices.len());
        let mut certificates = Vec::with_capacity(scenario.offices.len());
        for spec in &scenario.offices {
            let setup = OfficeSetup {
                number: spec.number,
                account: spec.account_ready.then(|| starting_password(spec.number)),
                licence: spec.licence.map(|licence| {
                    let form = usage_form(&spec.name, spec.number, &FormFields::default(), licence.payment);
                    (licence.applied_at, form)
                }),
                certificate: spec.certificate,
            };
            let provisioned = state
                .provision(scenario.start, &setup)
                .map_err(|e| RunError::Setup {
                    office: spec.number,
                    message: e.to_string(),
                })?;
            certificates.push(provisioned.certificate.clone());
            credentials.push(Credentials::from(provisioned));
        }
        let crl = state.portal.crl(scenario.start).map_err(RunError::Portal)?;
        let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let parties = Arc::new(Parties::new(state));
        let portal_server =
            serve_portal(listen, parties.clone(), dyn_clock.clone(), &portal_certificate).await?;
        let usage_server =
            serve_usage_site(listen, parties.clone(), dyn_clock.clone(), &site_certificate).await?;
        let relay = RelayServer::start(
            listen,
            Arc::new(Mutex::new(Relay::new(
                Box::new(MemoryStore::new()) as Box<dyn Store>,
                scenario.relay,
            ))),
            parties,
            dyn_clock.clone(),
            root.clone(),
            relay_certificate,
            Some(crl),
        )
        .await?;
        let endpoints = Endpoints {
            relay: relay.local_addr(),
            portal: portal_server.local_addr(),
            usage_site: usage_server.local_addr(),
        };
        let mut offices = Vec::with_capacity(scenario.offices.len());
        for ((spec, known), certificate) in scenario.offices.iter().zip(&credentials).zip(&certificates) {
            let profile = OfficeProfile {
                number: spec.number,
                kind: spec.kind,
                role: spec.role,
                name: spec.name.clone(),
            };
            let mut office = VirtualOffice::new(CareSoftware::new(profile, seed));
            let client = LinkageClient::new(endpoints, &root, dyn_clock.clone())?;
            if let Some(certificate) = certificate {
                client.install_certificate(certificate)?;
            }
            if let Some(details) = known.login_details() {
                client.login(&details).await.map_err(|e| RunError::Setup {
                    office: spec.number,
                    message: e.to_string(),
                })?;
            }
            office.install_client(client);
            offices.push(office);
        }
        let aliases = scenario.offices.iter().map(|o| o.id.clone()).collect();
        Ok(Self {
            clock,
            offices,
            aliases,
            credentials,
            portal: PortalClient::new(portal_server.local_addr(), &root, dyn_clock.clone())?,
            site: UsageSiteClient::new(usage_server.local_addr(), &root, dyn_clock)?,
            relay,
            _portal_server: portal_server,
            _usage_server: usage_server,
        })
    }

    fn describe(&self, action: &Action) -> String {
        let alias = |i: &usize| self.aliases[*i].as_str();
        match action {
            Action::Advance { text, .. } => format!("advance {text}"),
            Action::SetClock { to } => format!("set_clock {}", format_jst(*to)),
            Action::ExportPlan {
                office,
                to,
                month,
                users,
            } => {
                format!(
                    "export_plan {} → {} {month} ({users} users)",
                    alias(office),
                    alias(to)
                )
            }
            Action::ExportActuals { office, to, month } => {
                format!("export_actuals {} → {} {month}", alias(office), alias(to))
            }
            Action::Send {
                office,
                to,
                latest_only,
            } => format!(
                "send {} → {}{}",
                alias(office),
                alias(to),
                if *latest_only { " (latest export only)" } else { "" }
            ),
            Action::Receive { office, download, .. } => {
                format!(
                    "receive {}{}",
                    alias(office),
                    if *download { "" } else { " (accept only)" }
                )
            }
            Action::CancelSend { office, to } => format!("cancel_send {} → {}", alias(office), alias(to)),
            Action::CheckInbox { office, .. } => format!("check_inbox {}", alias(office)),
            Action::CheckSent { office, to, .. } => match to {
                Some(to) => format!("check_sent {} → {}", alias(office), alias(to)),
                None => format!("check_sent {}", alias(office)),
            },
            Action::LoseResponses { count } => format!("lose_responses {count}"),
            Action::EditOutbox { office, to, edit } => {
                let what = match edit {
                    OutboxEdit::Remove(prefix) => format!("remove {prefix}"),
                    OutboxEdit::Damage(prefix) => format!("damage {prefix}"),
                    OutboxEdit::AttachPdf(name) => format!("attach {name}"),
                };
                format!("edit_outbox {} → {}: {what}", alias(office), alias(to))
            }
            Action::Import { office, .. } => format!("import {}", alias(office)),
            Action::AssertDelivered { from, to } => {
                format!("assert_delivered {} → {}", alias(from), alias(to))
            }
            Action::IssueUserId { office } => format!("issue_user_id {}", alias(office)),
            Action::PortalLogin { office, password } => {
                format!(
                    "portal_login {}{}",
                    alias(office),
                    secret_note("password", password)
                )
            }
            Action::AcceptTerms { office } => format!("accept_terms {}", alias(office)),
            Action::ChangePassword { office, new } => format!("change_password {} to `{new}`", alias(office)),
            Action::ClientLogin {
                office,
                personal_user_id,
                personal_password,
                user_id,
                password,
            } => format!(
                "client_login {}{}{}{}{}",
                alias(office),
                personal_user_id
                    .as_ref()
                    .map_or_else(String::new, |id| format!(" with personal ID {id}")),
                secret_note("personal password", personal_password),
                user_id
                    .as_ref()
                    .map_or_else(String::new, |id| format!(" as {id}")),
                secret_note("password", password)
            ),
            Action::RegisterEmail { office, address } => {
                format!("register_email {} {address}", alias(office))
            }
            Action::ConfirmEmail { office, code } => {
                format!("confirm_email {}{}", alias(office), secret_note("code", code))
            }
            Action::RequestReset { office, by } => match by {
                ResetBy::Email(address) => format!("request_reset {} by e-mail to {address}", alias(office)),
                ResetBy::Post => format!("request_reset {} by post", alias(office)),
            },
            Action::CompleteReset { office, code } => {
                format!("complete_reset {}{}", alias(office), secret_note("code", code))
            }
            Action::ReadMail { office, .. } => format!("read_mail {}", alias(office)),
            Action::ReissueIssuancePassword { office } => {
                format!("reissue_issuance_password {}", alias(office))
            }
            Action::ApplyCertificate {
                office,
                certificate_type,
                issuance_password,
            } => format!(
                "apply_certificate {} {certificate_type}{}",
                alias(office),
                secret_note("issuance password", issuance_password)
            ),
            Action::RenewCertificate {
                office,
                start,
                issuance_password,
            } => format!(
                "renew_certificate {} from {}{}",
                alias(office),
                start.as_str(),
                secret_note("issuance password", issuance_password)
            ),
            Action::InstallCertificate {
                office,
                issuance_password,
            } => format!(
                "install_certificate {}{}",
                alias(office),
                secret_note("issuance password", issuance_password)
            ),
            Action::RevokeCertificate { office } => format!("revoke_certificate {}", alias(office)),
            Action::CheckCertificates { office, .. } => format!("check_certificates {}", alias(office)),
            Action::UsageLogin { office, password } => {
                format!(
                    "usage_login {}{}",
                    alias(office),
                    secret_note("password", password)
                )
            }
            Action::ApplyUsage { office, .. } => format!("apply_usage {}", alias(office)),
            Action::CheckLicence { office, .. } => format!("check_licence {}", alias(office)),
            Action::SetAutoRenewal { office, on } => format!(
                "set_auto_renewal {} {}",
                alias(office),
                if *on { "on" } else { "off" }
            ),
            Action::RenewLicence { office } => format!("renew_licence {}", alias(office)),
            Action::CancelLicence { office } => format!("cancel_licence {}", alias(office)),
            Action::PayInvoice { office } => format!("pay_invoice {}", alias(office)),
        }
    }

    async fn execute(&mut self, step: &Step) -> Result<String, StepError> {
        let now = self.clock.now();
        match &step.action {
            Action::Advance { by, .. } => match self.clock.advance(*by) {
                Some(now) => Ok(format!("clock at {}", format_jst(now))),
                None => Err(StepError::code(
                    ErrorCode::SpanInvalid,
                    "the clock would pass the year 9999",
                )),
            },
            Action::SetClock { to } => {
                self.clock.set(*to);
                Ok(format!("clock at {}", format_jst(self.clock.now())))
            }
            Action::ExportPlan {
                office,
                to,
                month,
                users,
            } => {
                let provider = self.offices[*to].profile().clone();
                let bundle = self.offices[*office].export_plan(now, *month, &provider, *users)?;
                Ok(describe_bundle(&bundle))
            }
            Action::ExportActuals { office, to, month } => {
                let care_manager = self.offices[*to].profile().clone();
                let bundle = self.offices[*office].export_actuals(now, *month, &care_manager)?;
                Ok(describe_bundle(&bundle))
            }
            Action::Send { .. }
            | Action::Receive { .. }
            | Action::CancelSend { .. }
            | Action::CheckInbox { .. }
            | Action::CheckSent { .. }
            | Action::LoseResponses { .. }
            | Action::EditOutbox { .. } => self.relay_step(&step.action).await,
            Action::Import { office, expect_users } => {
                let report = self.offices[*office].import()?;
                let users = report.users.len();
                match expect_users {
                    Some(expected) if *expected != users => Err(StepError::Assertion(format!(
                        "expected {expected} user(s) in the imported sheets, found {users}"
                    ))),
                    _ => Ok(format!(
                        "{} file(s), {} record(s), {users} user(s) imported",
                        report.files, report.records
                    )),
                }
            }
            Action::AssertDelivered { from, to } => self.assert_delivered(*from, *to),
            Action::UsageLogin { .. }
            | Action::ApplyUsage { .. }
            | Action::CheckLicence { .. }
            | Action::SetAutoRenewal { .. }
            | Action::RenewLicence { .. }
            | Action::CancelLicence { .. }
            | Action::PayInvoice { .. } => self.licence(&step.action).await,
            action => self.identity(action).await,
        }
    }

    /// A secret the office types: the one it knows, or the scenario's literal.
    fn secret(
        &self,
        office: usize,
        secret: &Secret,
        known: fn(&Credentials) -> &Option<String>,
        what: &str,
    ) -> Result<String, StepError> {
        match secret {
            Secret::Literal(text) => Ok(text.clone()),
            Secret::Known => known(&self.credentials[office])
                .clone()
                .ok_or_else(|| StepError::Assertion(format!("{} knows no {what} yet", self.aliases[office]))),
        }
    }

    /// The certificate-issuance password the office types.
    fn issuance_secret(&self, office: usize, typed: &Secret) -> Result<String, StepError> {
        self.secret(
            office,
            typed,
            |known| &known.issuance_password,
            "certificate-issuance password",
        )
    }

    fn session(&self, office: usize) -> u64 {
        // 0 is never a session: an office that has not logged in meets the portal's SESSION_INVALID.
        self.credentials[office].session.unwrap_or(0)
    }

    async fn call(&self, request: PortalRequest) -> Result<PortalResponse, StepError> {
        Ok(self.portal.call(&request).await?)
    }

    fn client(&self, office: usize) -> Result<&LinkageClient, StepError> {
        self.offices[office]
            .linkage_client()
            .ok_or_else(|| StepError::Assertion(format!("{} has no linkage client", self.aliases[office])))
    }

    /// The office's mail, oldest first.
    async fn mailbox(&self, office: usize) -> Result<Vec<WireMailBody>, StepError> {
        let number = self.offices[office].profile().number;
        match self.call(PortalRequest::Mailbox { office: number }).await? {
            PortalResponse::Mail { mail } => Ok(mail.into_iter().map(|m| m.body).collect()),
            other => Err(unexpected(&other)),
        }
    }

    /// The last confirmation code mailed to the office.
    async fn last_code(&self, office: usize) -> Result<String, StepError> {
        self.mailbox(office)
            .await?
            .into_iter()
            .rev()
            .find_map(|m| match m {
                WireMailBody::ConfirmationCode { code } => Some(code),
                _ => None,
            })
            .ok_or_else(|| {
                StepError::Assertion(format!(
                    "no confirmation code was mailed to {}",
                    self.aliases[office]
                ))
            })
    }

    /// Reads the mail delivered since the last look; returns how many pieces arrived and what they were.
    async fn read_mail(&mut self, office: usize) -> Result<(usize, Vec<&'static str>), StepError> {
        let mail = self.mailbox(office).await?;
        let known = &mut self.credentials[office];
        let fresh = mail.get(known.mail_read..).unwrap_or_default();
        let mut kinds = Vec::with_capacity(fresh.len());
        for body in fresh {
            match body {
                WireMailBody::Notice(notice) => {
                    known.user_id = Some(notice.user_id.clone());
                    known.password = Some(notice.temporary_password.clone());
                    known.issuance_password = Some(notice.issuance_password.clone());
                    kinds.push("notice");
                }
                WireMailBody::TemporaryPassword { password } => {
                    known.password = Some(password.clone());
                    kinds.push("temporary password");
                }
                WireMailBody::ConfirmationCode { .. } => kinds.push("confirmation code"),
            }
        }
        known.mail_read = mail.len();
        Ok((fresh.len(), kinds))
    }

    /// The portal, CA and linkage-login actions.
    async fn identity(&mut self, action: &Action) -> Result<String, StepError> {
        fn user_id(known: &Credentials) -> &Option<String> {
            &known.user_id
        }
        fn password(known: &Credentials) -> &Option<String> {
            &known.password
        }
        fn personal_user_id(known: &Credentials) -> &Option<String> {
            &known.personal_user_id
        }
        fn personal_password(known: &Credentials) -> &Option<String> {
            &known.personal_password
        }
        match action {
            Action::IssueUserId { office } => {
                let number = self.offices[*office].profile().number;
                let response = self.call(PortalRequest::IssueUserId { office: number }).await?;
                let PortalResponse::Notice(notice) = response else {
                    return Err(unexpected(&response));
                };
                self.read_mail(*office).await?;
                Ok(format!(
                    "notice: user ID {}, temporary password issued",
                    notice.user_id
                ))
            }
            Action::PortalLogin {
                office,
                password: typed,
            } => {
                let user = self.secret(*office, &Secret::Known, user_id, "user ID")?;
                let typed = self.secret(*office, typed, password, "password")?;
                let response = self
                    .call(PortalRequest::Login {
                        user_id: user,
                        password: typed,
                    })
                    .await?;
                let PortalResponse::Login {
                    session,
                    must_change_password,
                    must_accept_terms,
                } = response
                else {
                    return Err(unexpected(&response));
                };
                self.credentials[*office].session = Some(session);
                Ok(format!(
                    "logged in{}{}",
                    if must_accept_terms {
                        "; the terms must be accepted"
                    } else {
                        ""
                    },
                    if must_change_password {
                        "; the password must be changed"
                    } else {
                        ""
                    }
                ))
            }
            Action::AcceptTerms { office } => {
                let session = self.session(*office);
                self.call(PortalRequest::AcceptTerms { session }).await?;
                Ok("terms of use accepted".to_owned())
            }
            Action::ChangePassword { office, new } => {
                let current = self.secret(*office, &Secret::Known, password, "password")?;
                let session = self.session(*office);
                self.call(PortalRequest::ChangePassword {
                    session,
                    current,
                    new: new.clone(),
                })
                .await?;
                self.credentials[*office].password = Some(new.clone());
                Ok("password changed".to_owned())
            }
            Action::ClientLogin {
                office,
                personal_user_id: typed_personal_id,
                personal_password: typed_personal,
                user_id: typed_id,
                password: typed,
            } => {
                let personal_user_id = match typed_personal_id {
                    Some(id) => id.clone(),
                    None => self.secret(*office, &Secret::Known, personal_user_id, "personal user ID")?,
                };
                let personal_password =
                    self.secret(*office, typed_personal, personal_password, "personal password")?;
                let user_id = match typed_id {
                    Some(id) => id.clone(),
                    None => self.secret(*office, &Secret::Known, user_id, "user ID")?,
                };
                let password = self.secret(*office, typed, password, "password")?;
                let details = LoginDetails {
                    personal_user_id,
                    personal_password,
                    user_id,
                    password,
                };
                let number = self.client(*office)?.login(&details).await?;
                Ok(format!("linkage client logged in as office {number}"))
            }
            Action::RegisterEmail { office, address } => {
                let session = self.session(*office);
                self.call(PortalRequest::RegisterEmail {
                    session,
                    address: address.clone(),
                })
                .await?;
                Ok(format!("confirmation code mailed to {address}"))
            }
            Action::ConfirmEmail { office, code } => {
                let code = match code {
                    Secret::Literal(code) => code.clone(),
                    Secret::Known => self.last_code(*office).await?,
                };
                let session = self.session(*office);
                self.call(PortalRequest::ConfirmEmail { session, code }).await?;
                Ok("security e-mail confirmed".to_owned())
            }
            Action::RequestReset { office, by } => {
                let request = match by {
                    ResetBy::Email(address) => PortalRequest::RequestResetByEmail {
                        user_id: self.secret(*office, &Secret::Known, user_id, "user ID")?,
                        address: address.clone(),
                    },
                    ResetBy::Post => PortalRequest::RequestResetByPost {
                        office: self.offices[*office].profile().number,
                    },
                };
                self.call(request).await?;
                Ok(match by {
                    ResetBy::Email(_) => "confirmation code mailed".to_owned(),
                    ResetBy::Post => "re-issue requested; the notice comes by post".to_owned(),
                })
            }
            Action::CompleteReset { office, code } => {
                let code = match code {
                    Secret::Literal(code) => code.clone(),
                    Secret::Known => self.last_code(*office).await?,
                };
                let user = self.secret(*office, &Secret::Known, user_id, "user ID")?;
                self.call(PortalRequest::CompleteReset { user_id: user, code })
                    .await?;
                self.read_mail(*office).await?;
                Ok("reset complete; a temporary password was mailed".to_owned())
            }
            Action::ReadMail { office, expect_mail } => {
                let (count, kinds) = self.read_mail(*office).await?;
                match expect_mail {
                    Some(expected) if *expected != count => Err(StepError::Assertion(format!(
                        "expected {expected} new piece(s) of mail, found {count}"
                    ))),
                    _ if kinds.is_empty() => Ok("no new mail".to_owned()),
                    _ => Ok(format!("{count} new: {}", kinds.join(", "))),
                }
            }
            Action::ReissueIssuancePassword { office } => {
                let session = self.session(*office);
                let response = self
                    .call(PortalRequest::ReissueIssuancePassword { session })
                    .await?;
                let PortalResponse::IssuancePassword { issuance_password } = response else {
                    return Err(unexpected(&response));
                };
                self.credentials[*office].issuance_password = Some(issuance_password);
                Ok("certificate-issuance password re-issued".to_owned())
            }
            Action::ApplyCertificate {
                office,
                certificate_type,
                issuance_password,
            } => {
                let request = PortalRequest::ApplyForCertificate {
                    session: self.session(*office),
                    certificate_type: certificate_type.as_str().to_owned(),
                    issuance_password: self.issuance_secret(*office, issuance_password)?,
                };
                describe_application(self.call(request).await?)
            }
            Action::RenewCertificate {
                office,
                start,
                issuance_password,
            } => {
                let request = PortalRequest::RenewCertificate {
                    session: self.session(*office),
                    start: start.as_str().to_owned(),
                    issuance_password: self.issuance_secret(*office, issuance_password)?,
                };
                describe_application(self.call(request).await?)
            }
            Action::InstallCertificate {
                office,
                issuance_password,
            } => {
                let typed = self.issuance_secret(*office, issuance_password)?;
                let download = self
                    .call(PortalRequest::DownloadCertificate {
                        session: self.session(*office),
                        issuance_password: typed.clone(),
                    })
                    .await?;
                let bytes = pkcs12_of(&download)?;
                let installed = self.client(*office)?.install_pkcs12(&bytes, &typed)?;
                Ok(format!(
                    "certificate {} (SHA-256 {}) installed, valid {} to {}",
                    installed.serial,
                    installed.fingerprint().sha256,
                    format_jst(installed.not_before),
                    format_jst(installed.not_after)
                ))
            }
            Action::RevokeCertificate { office } => {
                let number = self.offices[*office].profile().number;
                let response = self
                    .call(PortalRequest::RevokeCertificates { office: number })
                    .await?;
                let PortalResponse::Revoked { serials } = response else {
                    return Err(unexpected(&response));
                };
                let crl = crl_of(&self.call(PortalRequest::Crl).await?)?;
                self.relay
                    .load_crl(crl)
                    .map_err(|e| StepError::Assertion(format!("the relay cannot load the CRL: {e}")))?;
                Ok(format!(
                    "revoked {serials:?}; the relay loaded the new revocation list"
                ))
            }
            Action::CheckCertificates {
                office,
                issued,
                pending,
            } => {
                let session = self.session(*office);
                let response = self.call(PortalRequest::CertificatePage { session }).await?;
                let PortalResponse::Certificates {
                    applications,
                    certificates,
                } = response
                else {
                    return Err(unexpected(&response));
                };
                let waiting = applications.iter().filter(|a| a.serial.is_none()).count();
                let seen = format!("{} issued, {waiting} pending", certificates.len());
                if issued.is_some_and(|n| n != certificates.len()) || pending.is_some_and(|n| n != waiting) {
                    let wanted = format!(
                        "{} issued, {} pending",
                        issued.map_or_else(|| "any".to_owned(), |n| n.to_string()),
                        pending.map_or_else(|| "any".to_owned(), |n| n.to_string())
                    );
                    return Err(StepError::Assertion(format!("expected {wanted}, found {seen}")));
                }
                Ok(seen)
            }
            other => Err(StepError::Assertion(format!("not an identity action: {other:?}"))),
        }
    }

    fn assert_delivered(&self, from: usize, to: usize) -> Result<String, StepError> {
        let (sender, receiver) = (&self.offices[from], &self.offices[to]);
        let sent: Vec<_> = sender
            .sent()
            .iter()
            .filter(|f| f.receiver == receiver.profile().number)
            .collect();
        if sent.is_empty() {
            return Err(StepError::Assertion(format!(
                "{} has sent nothing to {}",
                self.aliases[from], self.aliases[to]
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
                        file.name, self.aliases[to]
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

fn unexpected(response: &PortalResponse) -> StepError {
    StepError::code(
        ErrorCode::ProtocolError,
        format!("unexpected answer from the portal: {response:?}"),
    )
}

fn describe_application(response: PortalResponse) -> Result<String, StepError> {
    let PortalResponse::Application(application) = response else {
        return Err(unexpected(&response));
    };
    Ok(format!(
        "{} {} application filed (発行申請中); issued at {}",
        application.certificate_type,
        application.kind,
        format_jst(application.issues_at)
    ))
}

/// How a step's description shows a typed secret: nothing when it is the known one.
fn secret_note(what: &str, secret: &Secret) -> String {
    match secret {
        Secret::Known => String::new(),
        Secret::Literal(text) => format!(" with {what} `{text}`"),
    }
}

fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
}

fn describe_bundle(bundle: &Bundle) -> String {
    bundle
        .files
        .iter()
        .map(|f| format!("{} ({} bytes)", f.name, f.content.len()))
        .collect::<Vec<_>>()
        .join(", ")
}
