//! The runner: builds the ecosystem of one scenario (CA, portal, usage site, relay, offices) on a
//! simulated clock and plays its steps over real loopback TLS.

use std::collections::BTreeMap;
use std::sync::Arc;

use careplan_core::{
    CareMonth, Clock, ErrorCode, Event, EventKind, EventLog, OfficeNumber, Party, SimulatedClock,
};
use careplan_ecosystem::{BuildError, Ecosystem, EcosystemBuilder, OfficeDescription};
use careplan_licence::LicenceView;
use careplan_net::{ClientError, EcosystemClock, LinkageClient, PortalClient, UsageSiteClient};
use careplan_office::{
    AdapterSoftware, CareSoftware, OfficeError, PreparedMonth, SoftwareError, SyntheticSoftware,
    VirtualOffice,
};
use careplan_parties::api::{PortalRequest, PortalResponse, UsageRequest, UsageResponse, WireMailBody};
use careplan_parties::{OfficeSetup, ProvisionedOffice};
use careplan_testcontainers::ContainerRunner;
use time::OffsetDateTime;

use crate::action::Secret;
use crate::format::{Scenario, Step};

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
    /// What every party did, in order: the run's record.
    pub events: Vec<Event>,
    /// Every file that crossed the relay, in the order each office sent them (offices in file order).
    pub files: Vec<ExchangedFile>,
    /// The client certificates the offices started with (offices in file order).
    pub certificates: Vec<OfficeCertificate>,
}

/// An office's client certificate, as the e-seikyu CA issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeCertificate {
    /// The office.
    pub office: OfficeNumber,
    /// The CA's serial number.
    pub serial: u64,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The certificate, DER.
    pub der: Vec<u8>,
}

/// A file one office sent another through the relay, as the relay acknowledged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangedFile {
    /// The sender.
    pub from: OfficeNumber,
    /// The receiver.
    pub to: OfficeNumber,
    /// The standard file name.
    pub name: String,
    /// Its bytes.
    pub content: Vec<u8>,
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
    /// The ecosystem could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A browser could not be set up.
    #[error(transparent)]
    Tls(#[from] careplan_net::TlsError),
    /// An office's care software could not be set up.
    #[error("office {office}'s care software: {source}")]
    Software {
        /// The office.
        office: OfficeNumber,
        /// Why.
        source: SoftwareError,
    },
}

/// Options of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Replaces the scenario's seed.
    pub seed: Option<u64>,
}

/// Runs a scenario, calling `observe` with each event as its step ends; steps after the first failed one
/// are skipped.
pub fn run(
    scenario: &Scenario,
    options: RunOptions,
    observe: &mut dyn FnMut(&Event),
) -> Result<ScenarioReport, RunError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    runtime.block_on(run_async(scenario, options, observe))
}

/// Why a step did not do what it should.
pub(crate) enum StepError {
    /// A refusal: its codes (the main one first; several when a password breaks several rules).
    Code(Vec<ErrorCode>, String),
    Assertion(String),
}

impl StepError {
    /// A refusal with one code.
    pub(crate) fn code(code: ErrorCode, message: impl Into<String>) -> Self {
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
pub(crate) struct Credentials {
    pub(crate) user_id: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) issuance_password: Option<String>,
    /// The portal session.
    pub(crate) session: Option<u64>,
    /// How many pieces of mail the office has read.
    mail_read: usize,
    /// The personal user ID the usage site issued.
    pub(crate) personal_user_id: Option<String>,
    /// Its password.
    pub(crate) personal_password: Option<String>,
    /// The usage-site session.
    pub(crate) usage_session: Option<u64>,
}

/// A secret an office may know.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Known {
    /// Its `KJ` user ID.
    UserId,
    /// Its portal password.
    Password,
    /// Its certificate-issuance password.
    IssuancePassword,
    /// The personal user ID from the usage site.
    PersonalUserId,
    /// Its password.
    PersonalPassword,
}

impl Known {
    fn of(self, credentials: &Credentials) -> &Option<String> {
        match self {
            Known::UserId => &credentials.user_id,
            Known::Password => &credentials.password,
            Known::IssuancePassword => &credentials.issuance_password,
            Known::PersonalUserId => &credentials.personal_user_id,
            Known::PersonalPassword => &credentials.personal_password,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Known::UserId => "user ID",
            Known::Password => "password",
            Known::IssuancePassword => "certificate-issuance password",
            Known::PersonalUserId => "personal user ID",
            Known::PersonalPassword => "personal password",
        }
    }
}

/// The fields an `apply_usage` step writes into the usage application form; the rest come from the
/// office (its name) and valid defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FormFields {
    pub(crate) office_name: Option<String>,
    pub(crate) representative_family: Option<String>,
    pub(crate) representative_given: Option<String>,
    pub(crate) contact_family: Option<String>,
    pub(crate) contact_given: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) email_confirmation: Option<String>,
    pub(crate) agree_terms: Option<bool>,
    pub(crate) agree_privacy: Option<bool>,
    pub(crate) payment: Option<careplan_licence::PaymentMethod>,
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
pub(crate) fn usage_form(
    name: &str,
    number: OfficeNumber,
    fields: &FormFields,
    payment: careplan_licence::PaymentMethod,
) -> careplan_licence::UsageApplication {
    let typical = careplan_licence::UsageApplication::typical(name, number, payment);
    let text = |field: &Option<String>, typical: String| field.clone().unwrap_or(typical);
    let email = text(&fields.email, typical.email);
    careplan_licence::UsageApplication {
        office_name: text(&fields.office_name, typical.office_name),
        representative: careplan_licence::PersonName {
            family: text(&fields.representative_family, typical.representative.family),
            given: text(&fields.representative_given, typical.representative.given),
        },
        contact: careplan_licence::PersonName {
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

/// The running ecosystem of one scenario, as its steps reach it.
pub(crate) struct World {
    pub(crate) clock: Arc<SimulatedClock>,
    pub(crate) offices: Vec<VirtualOffice>,
    aliases: Vec<String>,
    pub(crate) credentials: Vec<Credentials>,
    portal: PortalClient,
    site: UsageSiteClient,
    /// The parties and their servers, which live as long as the run.
    pub(crate) ecosystem: Ecosystem,
    /// The run's record.
    events: EventLog,
    /// The run's seed.
    pub(crate) seed: u64,
    /// The cases prepared, by office and month: what `check_export … prepared = true` compares with.
    pub(crate) prepared: BTreeMap<(usize, CareMonth), PreparedMonth>,
}

async fn run_async(
    scenario: &Scenario,
    options: RunOptions,
    observe: &mut dyn FnMut(&Event),
) -> Result<ScenarioReport, RunError> {
    let seed = options.seed.unwrap_or(scenario.seed);
    let log = EventLog::collecting();
    let mut world = World::build(scenario, seed, log.clone()).await?;
    let mut events = log.take();
    events.iter().for_each(&mut *observe);
    let mut steps = Vec::with_capacity(scenario.steps.len());
    let mut failed = false;
    for step in &scenario.steps {
        let at = world.clock.now();
        let description = step.label.clone().unwrap_or_else(|| step.action.describe());
        world.record(
            Party::Runner,
            EventKind::StepStarted {
                step: step.number,
                line: step.line,
                action: step.action.info().name,
                description: description.clone(),
            },
        );
        let (code, result) = if failed {
            (None, StepResult::Skipped)
        } else {
            let outcome = step.action.execute(&mut world).await;
            judge(step, outcome)
        };
        failed |= matches!(result, StepResult::Failed { .. });
        let (name, detail) = match &result {
            StepResult::Passed { detail } => ("passed", detail.clone()),
            StepResult::Failed { reason } => ("failed", reason.clone()),
            StepResult::Skipped => ("skipped", String::new()),
        };
        world.record(
            Party::Runner,
            EventKind::StepFinished {
                step: step.number,
                result: name,
                code,
                detail,
            },
        );
        for event in log.take() {
            observe(&event);
            events.push(event);
        }
        steps.push(StepOutcome {
            number: step.number,
            line: step.line,
            description,
            at,
            code,
            result,
        });
    }
    let files = world
        .offices
        .iter()
        .flat_map(|office| {
            let from = office.profile().number;
            office.sent().iter().map(move |file| ExchangedFile {
                from,
                to: file.receiver,
                name: file.name.to_string(),
                content: file.content.to_vec(),
            })
        })
        .collect();
    let certificates = world
        .offices
        .iter()
        .zip(world.ecosystem.offices())
        .filter_map(|(office, provisioned)| {
            let issued = provisioned.certificate.as_ref()?;
            Some(OfficeCertificate {
                office: office.profile().number,
                serial: issued.serial,
                not_before: issued.not_before,
                not_after: issued.not_after,
                der: issued.certificate.to_vec(),
            })
        })
        .collect();
    Ok(ScenarioReport {
        name: scenario.name.clone(),
        seed,
        steps,
        events,
        files,
        certificates,
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
    async fn build(scenario: &Scenario, seed: u64, events: EventLog) -> Result<Self, RunError> {
        let clock = Arc::new(SimulatedClock::new(scenario.start));
        let descriptions = scenario.offices.iter().map(|spec| OfficeDescription {
            profile: spec.profile(),
            setup: OfficeSetup {
                account: spec.account_ready.then(|| starting_password(spec.number)),
                licence: spec.licence.map(|licence| {
                    let form = usage_form(&spec.name, spec.number, &FormFields::default(), licence.payment);
                    (licence.applied_at, form)
                }),
                certificate: spec.certificate,
            },
        });
        let ecosystem = EcosystemBuilder::new(seed, scenario.start)
            .events(events.clone())
            .clock(EcosystemClock::Simulated(clock.clone()))
            .relay_config(scenario.relay)
            .offices(descriptions)
            .prepare()?
            .start()
            .await?;
        // A care manager plans each month once with every provider of the scenario.
        let providers: Vec<_> = scenario
            .offices
            .iter()
            .filter(|o| o.role == careplan_office::OfficeRole::Service)
            .map(|o| o.profile())
            .collect();
        let mut offices = Vec::with_capacity(scenario.offices.len());
        for (index, spec) in scenario.offices.iter().enumerate() {
            let software: Box<dyn CareSoftware> = match &spec.adapter {
                None => {
                    Box::new(SyntheticSoftware::new(spec.profile(), seed).with_partners(providers.clone()))
                }
                Some(adapter) => {
                    let software =
                        AdapterSoftware::new(adapter.clone(), spec.profile(), seed, events.clone()).map_err(
                            |e| RunError::Software {
                                office: spec.number,
                                source: e,
                            },
                        )?;
                    Box::new(match adapter.image() {
                        Some(image) => software.with_runner(Arc::new(ContainerRunner::new(image))),
                        None => software,
                    })
                }
            };
            offices.push(ecosystem.virtual_office(index, software).await?);
        }
        Ok(Self {
            clock,
            offices,
            aliases: scenario.offices.iter().map(|o| o.id.clone()).collect(),
            credentials: ecosystem
                .offices()
                .iter()
                .cloned()
                .map(Credentials::from)
                .collect(),
            portal: ecosystem.portal_client()?,
            site: ecosystem.usage_site_client()?,
            ecosystem,
            events,
            seed,
            prepared: BTreeMap::new(),
        })
    }

    /// The simulated time.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Records what `party` did, now.
    pub(crate) fn record(&self, party: Party, kind: EventKind) {
        self.events.record(self.now(), party, kind);
    }

    /// The office number of an office.
    pub(crate) fn number(&self, office: usize) -> OfficeNumber {
        self.offices[office].profile().number
    }

    /// A secret the office knows.
    pub(crate) fn known(&self, office: usize, what: Known) -> Result<String, StepError> {
        what.of(&self.credentials[office]).clone().ok_or_else(|| {
            StepError::Assertion(format!("{} knows no {} yet", self.aliases[office], what.name()))
        })
    }

    /// What the office types for a secret: the scenario's literal, or the one it knows.
    pub(crate) fn typed(&self, office: usize, secret: &Secret, what: Known) -> Result<String, StepError> {
        match secret {
            Secret::Literal(text) => Ok(text.clone()),
            Secret::Known => self.known(office, what),
        }
    }

    /// The confirmation code the office types: the scenario's literal, or the last one mailed.
    pub(crate) async fn code(&self, office: usize, code: &Secret) -> Result<String, StepError> {
        match code {
            Secret::Literal(code) => Ok(code.clone()),
            Secret::Known => self.last_code(office).await,
        }
    }

    /// The office's portal session.
    pub(crate) fn session(&self, office: usize) -> u64 {
        // 0 is never a session: an office that has not logged in meets the portal's SESSION_INVALID.
        self.credentials[office].session.unwrap_or(0)
    }

    /// Asks the e-billing portal.
    pub(crate) async fn portal(&self, request: PortalRequest) -> Result<PortalResponse, StepError> {
        Ok(self.portal.call(&request).await?)
    }

    /// The office's usage-site session.
    pub(crate) fn usage_session(&self, office: usize) -> u64 {
        // 0 is never a session: an office that has not logged in meets SESSION_INVALID.
        self.credentials[office].usage_session.unwrap_or(0)
    }

    /// Asks the usage-application site.
    pub(crate) async fn usage(&self, request: UsageRequest) -> Result<UsageResponse, StepError> {
        Ok(self.site.call(&request).await?)
    }

    /// Asks the usage-application site for a licence page.
    pub(crate) async fn licence_page(&self, request: UsageRequest) -> Result<LicenceView, StepError> {
        match self.usage(request).await? {
            UsageResponse::Licence(view) => Ok(view),
            other => Err(StepError::code(
                ErrorCode::ProtocolError,
                format!("unexpected answer from the usage-application site: {other:?}"),
            )),
        }
    }

    /// The office's linkage client.
    pub(crate) fn client(&self, office: usize) -> Result<&LinkageClient, StepError> {
        self.offices[office]
            .linkage_client()
            .ok_or_else(|| StepError::Assertion(format!("{} has no linkage client", self.aliases[office])))
    }

    /// The office's mail, oldest first.
    async fn mailbox(&self, office: usize) -> Result<Vec<WireMailBody>, StepError> {
        let number = self.offices[office].profile().number;
        match self.portal(PortalRequest::Mailbox { office: number }).await? {
            PortalResponse::Mail { mail } => Ok(mail.into_iter().map(|m| m.body).collect()),
            other => Err(unexpected_portal_answer(&other)),
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
    pub(crate) async fn read_mail(&mut self, office: usize) -> Result<(usize, Vec<&'static str>), StepError> {
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
}

/// A portal answer that does not fit the request.
pub(crate) fn unexpected_portal_answer(response: &PortalResponse) -> StepError {
    StepError::code(
        ErrorCode::ProtocolError,
        format!("unexpected answer from the portal: {response:?}"),
    )
}
