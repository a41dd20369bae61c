//! The runner: builds the ecosystem of one scenario (CA, relay, offices) on a simulated clock and plays
//! its steps over real loopback TLS.

use std::sync::{Arc, Mutex};

use careplan_ca::{CertificateAuthority, CertificateType};
use careplan_core::{Clock, ErrorCode, SimulatedClock};
use careplan_net::{LinkageClient, RelayServer, relay_server_config};
use careplan_office::{Bundle, CareSoftware, OfficeError, OfficeProfile, VirtualOffice};
use careplan_relay::Relay;
use time::OffsetDateTime;

use crate::format::{Action, InitialCertificate, Scenario, Step};

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
    /// The relay could not listen.
    #[error(transparent)]
    Server(#[from] careplan_net::ServerError),
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
    Code(ErrorCode, String),
    Assertion(String),
}

impl From<OfficeError> for StepError {
    fn from(e: OfficeError) -> Self {
        StepError::Code(e.code(), e.to_string())
    }
}

struct World {
    clock: Arc<SimulatedClock>,
    offices: Vec<VirtualOffice>,
    aliases: Vec<String>,
    _relay: RelayServer,
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
        (Err(StepError::Code(code, message)), Some(expected)) if code == expected => (
            Some(code),
            StepResult::Passed {
                detail: format!("failed as expected with {code}: {message}"),
            },
        ),
        (Err(StepError::Code(code, message)), expected) => {
            let wanted = expected.map_or_else(String::new, |e| format!("expected {e}, but "));
            (
                Some(code),
                StepResult::Failed {
                    reason: format!("{wanted}failed with {code}: {message}"),
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
        let mut ca = CertificateAuthority::new()?;
        let relay_certificate = ca.issue_relay_certificate()?;
        let tls = relay_server_config(ca.root(), &relay_certificate, dyn_clock.clone())?;
        let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let relay =
            RelayServer::start(listen, Arc::new(Mutex::new(Relay::new())), dyn_clock.clone(), tls).await?;
        let mut offices = Vec::with_capacity(scenario.offices.len());
        for spec in &scenario.offices {
            let profile = OfficeProfile {
                number: spec.number,
                kind: spec.kind,
                role: spec.role,
                name: spec.name.clone(),
            };
            let mut office = VirtualOffice::new(CareSoftware::new(profile, seed));
            let certificate_type = match spec.certificate {
                InitialCertificate::CareInsurance => Some(CertificateType::CareInsurance),
                InitialCertificate::CareDx => Some(CertificateType::CareDx),
                InitialCertificate::None => None,
            };
            if let Some(certificate_type) = certificate_type {
                let certificate =
                    ca.issue_office_certificate(scenario.start, spec.number, certificate_type)?;
                let client =
                    LinkageClient::new(relay.local_addr(), ca.root(), &certificate, dyn_clock.clone())?;
                office.install_client(client);
            }
            offices.push(office);
        }
        let aliases = scenario.offices.iter().map(|o| o.id.clone()).collect();
        Ok(Self {
            clock,
            offices,
            aliases,
            _relay: relay,
        })
    }

    fn describe(&self, action: &Action) -> String {
        let alias = |i: &usize| self.aliases[*i].as_str();
        match action {
            Action::Advance { text, .. } => format!("advance {text}"),
            Action::SetClock { to } => format!("set_clock {}", format_time(*to)),
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
            Action::Send { office, to } => format!("send {} → {}", alias(office), alias(to)),
            Action::Receive { office, .. } => format!("receive {}", alias(office)),
            Action::Import { office, .. } => format!("import {}", alias(office)),
            Action::AssertDelivered { from, to } => {
                format!("assert_delivered {} → {}", alias(from), alias(to))
            }
        }
    }

    async fn execute(&mut self, step: &Step) -> Result<String, StepError> {
        let now = self.clock.now();
        match &step.action {
            Action::Advance { by, .. } => match self.clock.advance(*by) {
                Some(now) => Ok(format!("clock at {}", format_time(now))),
                None => Err(StepError::Code(
                    ErrorCode::SpanInvalid,
                    "the clock would pass the year 9999".into(),
                )),
            },
            Action::SetClock { to } => {
                self.clock.set(*to);
                Ok(format!("clock at {}", format_time(self.clock.now())))
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
            Action::Send { office, to } => {
                let receiver = self.offices[*to].profile().number;
                let receipts = self.offices[*office].send_to(receiver).await?;
                let files: usize = receipts.iter().map(|r| r.files.len()).sum();
                Ok(format!(
                    "{} send unit(s), {files} file(s) accepted by the relay",
                    receipts.len()
                ))
            }
            Action::Receive { office, expect_files } => {
                let count = self.offices[*office].receive().await?;
                match expect_files {
                    Some(expected) if *expected != count => Err(StepError::Assertion(format!(
                        "expected {expected} new file(s), received {count}"
                    ))),
                    _ => Ok(format!("{count} new file(s) downloaded")),
                }
            }
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
                .find(|r| r.name == file.name && r.sender == sender.profile().number)
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

/// Formats a simulated instant as `YYYY-MM-DD HH:MM:SS` JST.
pub fn format_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(careplan_core::JST);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}
