//! One builder for a whole ecosystem: the clock, the e-seikyu CA with the servers' certificates, the
//! e-billing portal and the usage-application site ([`Parties`], journalled or not), the relay over any
//! [`Store`], their HTTPS servers, and the offices with their starting state, linkage clients and care
//! software. The scenario runner, `serve`, the tests and the benchmarks all assemble ecosystems here.
//!
//! Architecture invariants:
//! - Building is two steps: [`EcosystemBuilder::prepare`] sets up the starting state (deterministic for
//!   the seed: same certificates, passwords and sessions) and replays a journal if there is one, without
//!   any socket; [`Prepared::start`] starts the servers. Callers that must write files between the two
//!   (`serve`'s roster) can.
//! - Offices start as they would have after doing it by hand through the parties' own operations
//!   ([`OfficeSetup`]); nothing reaches into a core's state.
//! - Whenever the portal revokes a certificate (here, or in another process sharing the journal), the
//!   relay loads the CA's new revocation list before the revocation is answered.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use careplan_ca::{
    CaConfig, CaError, CertificateAuthority, CertificateDer, CertificateRevocationListDer, CertificateType,
    IssuedCertificate, KeySource,
};
use careplan_core::{Clock, EventLog, Journal, JournalError, SimulatedClock};
use careplan_eseikyu::PortalConfig;
use careplan_licence::{LicenceConfig, PaymentMethod, UsageApplication};
use careplan_net::{
    ClientError, EcosystemClock, Endpoints, LinkageClient, PartyServer, PortalClient, RelayServer, RelayTls,
    ServerError, ServerLimits, TlsError, UsageSiteClient, serve_admin, serve_portal, serve_usage_site,
};
use careplan_office::{CareSoftware, OfficeProfile, VirtualOffice};
use careplan_parties::{OfficeSetup, Parties, PartyState, ProvisionError, ProvisionedOffice};
use careplan_relay::{MemoryStore, Relay, RelayConfig, Store};
use time::OffsetDateTime;
use tokio::task::JoinHandle;

/// How often a journalled ecosystem replays what other processes sharing the journal recorded, so that
/// its relay sees their revocations. Wall-clock housekeeping, not simulated time.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// Why an ecosystem could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The CA could not issue the servers' certificates.
    #[error(transparent)]
    Ca(#[from] CaError),
    /// An office's starting state could not be set up.
    #[error("cannot set up office {office}: {source}")]
    Provision {
        /// The office.
        office: careplan_core::OfficeNumber,
        /// Why.
        source: ProvisionError,
    },
    /// The journal could not be replayed, or the revocation list not drawn from it.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A server could not start.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// A TLS configuration failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// An office's linkage client could not log in.
    #[error("office {office}'s linkage client cannot log in: {source}")]
    Login {
        /// The office.
        office: careplan_core::OfficeNumber,
        /// Why.
        source: ClientError,
    },
}

/// An office of the ecosystem and the state it starts in.
#[derive(Debug, Clone)]
pub struct OfficeDescription {
    /// Who it is.
    pub profile: OfficeProfile,
    /// How far it got before the start: account, usage application, certificate.
    pub setup: OfficeSetup,
}

impl OfficeDescription {
    /// An office ready to send: account with `password`, licensed since `since` (valid form fields, fee by
    /// deduction), holding a care-insurance certificate.
    pub fn ready(profile: OfficeProfile, password: impl Into<String>, since: OffsetDateTime) -> Self {
        let application = UsageApplication::typical(&profile.name, profile.number, PaymentMethod::Deduction);
        Self {
            profile,
            setup: OfficeSetup {
                account: Some(password.into()),
                licence: Some((since, application)),
                certificate: Some(CertificateType::CareInsurance),
            },
        }
    }
}

/// Where the servers listen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    /// The relay; the portal and the usage site take the next two ports (all pick free ports if the port
    /// is 0).
    pub relay: SocketAddr,
    /// The admin endpoint; by default loopback, on the port three after the relay's (a free one if the
    /// relay's is 0), whatever address the parties listen on: only the machine moves the clock.
    pub admin: Option<SocketAddr>,
}

impl Default for Listen {
    fn default() -> Self {
        Self {
            relay: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin: None,
        }
    }
}

impl Listen {
    /// The address `offset` places after the relay's (all free ports if the relay's port is 0).
    fn nth(self, offset: u16) -> SocketAddr {
        let mut address = self.relay;
        if address.port() != 0 {
            address.set_port(address.port().saturating_add(offset));
        }
        address
    }
}

/// Describes an ecosystem; [`prepare`](Self::prepare) sets it up.
pub struct EcosystemBuilder {
    seed: u64,
    start: OffsetDateTime,
    clock: Option<EcosystemClock>,
    licences: LicenceConfig,
    relay: RelayConfig,
    store: Option<Box<dyn Store>>,
    journal: Option<(Box<dyn Journal>, u64)>,
    listen: Listen,
    admin: Option<Arc<str>>,
    server_limits: ServerLimits,
    keys: KeySource,
    offices: Vec<OfficeDescription>,
    events: EventLog,
    resume_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for EcosystemBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcosystemBuilder")
            .field("seed", &self.seed)
            .field("start", &self.start)
            .field("offices", &self.offices.len())
            .finish_non_exhaustive()
    }
}

impl EcosystemBuilder {
    /// An ecosystem born at `start`, drawing every password and session from `seed`: on a simulated
    /// clock at `start`, default configurations, an in-memory relay store, no journal, no offices, free
    /// loopback ports, no admin endpoint.
    pub fn new(seed: u64, start: OffsetDateTime) -> Self {
        Self {
            seed,
            start,
            clock: None,
            licences: LicenceConfig::default(),
            relay: RelayConfig::default(),
            store: None,
            journal: None,
            listen: Listen::default(),
            admin: None,
            server_limits: ServerLimits::default(),
            keys: KeySource::CommittedPool,
            offices: Vec::new(),
            events: EventLog::default(),
            resume_at: None,
        }
    }

    /// With a journal and a simulated clock: after the replay, moves the clock on to `instant` (when the
    /// last recorded request happened) if the recorded settings left it earlier.
    pub fn resume_clock_at(mut self, instant: OffsetDateTime) -> Self {
        self.resume_at = Some(instant);
        self
    }

    /// Where the parties record what they do (nowhere by default).
    pub fn events(mut self, events: EventLog) -> Self {
        self.events = events;
        self
    }

    /// The clock the parties run on (a simulated one at the start by default).
    pub fn clock(mut self, clock: EcosystemClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The usage site's licence settings.
    pub fn licence_config(mut self, config: LicenceConfig) -> Self {
        self.licences = config;
        self
    }

    /// The relay's settings.
    pub fn relay_config(mut self, config: RelayConfig) -> Self {
        self.relay = config;
        self
    }

    /// The relay's store (in memory by default).
    pub fn store(mut self, store: Box<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Records the web parties' requests in `journal`, whose entries after `after` (the genesis) are
    /// replayed while preparing.
    pub fn journal(mut self, journal: Box<dyn Journal>, after: u64) -> Self {
        self.journal = Some((journal, after));
        self
    }

    /// Where the servers listen.
    pub fn listen(mut self, listen: Listen) -> Self {
        self.listen = listen;
        self
    }

    /// The limits every party server applies (timeouts, connection caps); the documented defaults
    /// otherwise.
    pub fn server_limits(mut self, limits: ServerLimits) -> Self {
        self.server_limits = limits;
        self
    }

    /// Where the CA's keys come from: the committed pool by default (reproducible certificates), keys
    /// derived from a secret for an ecosystem others can reach.
    pub fn keys(mut self, keys: KeySource) -> Self {
        self.keys = keys;
        self
    }

    /// Also serves the admin endpoint of the clock, answering only requests that carry `token`.
    pub fn with_admin(mut self, token: &str) -> Self {
        self.admin = Some(Arc::from(token));
        self
    }

    /// Adds an office.
    pub fn office(mut self, office: OfficeDescription) -> Self {
        self.offices.push(office);
        self
    }

    /// Adds offices.
    pub fn offices(mut self, offices: impl IntoIterator<Item = OfficeDescription>) -> Self {
        self.offices.extend(offices);
        self
    }

    /// Sets up the starting state: the CA and the servers' certificates, the cores, every office as
    /// described, then the journal's replay. Blocks on the journal, if there is one.
    pub fn prepare(self) -> Result<Prepared, BuildError> {
        let ca = CertificateAuthority::with_keys(CaConfig::default(), self.keys.clone())?;
        let root = ca.root().clone();
        let certificates = Certificates {
            relay: ca.issue_relay_certificate()?,
            portal: ca.issue_portal_certificate()?,
            usage_site: ca.issue_usage_site_certificate()?,
        };
        let mut state = PartyState::new(PortalConfig::default(), self.licences, ca, self.seed);
        let offices = self
            .offices
            .iter()
            .map(|office| {
                state
                    .provision(self.start, office.profile.number, &office.setup)
                    .map_err(|source| BuildError::Provision {
                        office: office.profile.number,
                        source,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let clock = self
            .clock
            .unwrap_or_else(|| EcosystemClock::Simulated(Arc::new(SimulatedClock::new(self.start))));
        let journalled = self.journal.is_some();
        let parties = match self.journal {
            None => Parties::new(state),
            Some((journal, after)) => {
                let simulated = match &clock {
                    EcosystemClock::Simulated(clock) => Some(clock.clone()),
                    EcosystemClock::System(_) => None,
                };
                Parties::journalled(state, journal, after, simulated)?
            }
        }
        .with_events(self.events.clone());
        if let (EcosystemClock::Simulated(simulated), Some(resume_at)) = (&clock, self.resume_at)
            && simulated.now() < resume_at
        {
            // A resume point out of range (an old journal's) leaves the clock where replay left it.
            let _ = simulated.set(resume_at);
        }
        // The revocation list is a recorded portal request: drawn here, where blocking on the journal is
        // allowed, not in `start`.
        let crl = parties.crl(clock.as_clock().now()).map_err(JournalError)?;
        Ok(Prepared {
            clock,
            root,
            certificates,
            crl,
            parties: Arc::new(parties),
            relay: Relay::new(
                self.store.unwrap_or_else(|| Box::new(MemoryStore::new())),
                self.relay,
            )
            .with_events(self.events.clone()),
            events: self.events,
            listen: self.listen,
            admin: self.admin,
            server_limits: self.server_limits,
            journalled,
            descriptions: self.offices,
            offices,
        })
    }
}

struct Certificates {
    relay: IssuedCertificate,
    portal: IssuedCertificate,
    usage_site: IssuedCertificate,
}

/// An ecosystem's starting state, ready to serve.
pub struct Prepared {
    events: EventLog,
    clock: EcosystemClock,
    root: CertificateDer<'static>,
    certificates: Certificates,
    crl: CertificateRevocationListDer<'static>,
    parties: Arc<Parties>,
    relay: Relay<Box<dyn Store>>,
    listen: Listen,
    admin: Option<Arc<str>>,
    server_limits: ServerLimits,
    journalled: bool,
    descriptions: Vec<OfficeDescription>,
    offices: Vec<ProvisionedOffice>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("offices", &self.offices.len())
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// What each office knows, in the order they were described.
    pub fn offices(&self) -> &[ProvisionedOffice] {
        &self.offices
    }

    /// The web parties.
    pub fn parties(&self) -> &Arc<Parties> {
        &self.parties
    }

    /// The CA's root certificate.
    pub fn root(&self) -> &CertificateDer<'static> {
        &self.root
    }

    /// The clock.
    pub fn clock(&self) -> &EcosystemClock {
        &self.clock
    }

    /// Starts every server.
    pub async fn start(self) -> Result<Ecosystem, BuildError> {
        let clock = self.clock.as_clock();
        let relay = Arc::new(
            RelayServer::start(
                self.listen.relay,
                self.server_limits,
                Arc::new(Mutex::new(self.relay)),
                self.parties.clone(),
                clock.clone(),
                RelayTls {
                    ca_root: self.root.clone(),
                    certificate: self.certificates.relay,
                    crl: Some(self.crl),
                },
            )
            .await?,
        );
        // The letterbox shares the admin endpoint's token: whoever may move the clock may read the mail.
        let portal = serve_portal(
            self.listen.nth(1),
            self.server_limits,
            self.parties.clone(),
            clock.clone(),
            &self.certificates.portal,
            self.admin.clone(),
        )
        .await?;
        let usage_site = serve_usage_site(
            self.listen.nth(2),
            self.server_limits,
            self.parties.clone(),
            clock.clone(),
            &self.certificates.usage_site,
        )
        .await?;
        let admin = match self.admin {
            Some(token) => Some(
                serve_admin(
                    self.listen.admin.unwrap_or_else(|| {
                        let port = self.listen.nth(3).port();
                        SocketAddr::from(([127, 0, 0, 1], port))
                    }),
                    self.server_limits,
                    self.parties.clone(),
                    self.clock.clone(),
                    &self.certificates.portal,
                    token,
                )
                .await?,
            ),
            None => None,
        };
        let weak = Arc::downgrade(&relay);
        let hook_clock = clock.clone();
        self.parties.on_revocation(Box::new(move |parties| {
            let Some(relay) = weak.upgrade() else { return };
            // A list that cannot be fetched now is fetched at the next revocation or restart.
            if let Ok(crl) = parties.crl(hook_clock.now()) {
                let _ = relay.load_crl(crl);
            }
        }));
        let sync = self.journalled.then(|| {
            let parties = self.parties.clone();
            SyncTask(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(SYNC_EVERY).await;
                    let parties = parties.clone();
                    // A failed replay is reported to the next request that needs the parties.
                    let _ = tokio::task::spawn_blocking(move || parties.catch_up()).await;
                }
            }))
        });
        Ok(Ecosystem {
            events: self.events,
            endpoints: Endpoints {
                relay: relay.local_addr(),
                portal: portal.local_addr(),
                usage_site: usage_site.local_addr(),
            },
            clock: self.clock,
            root: self.root,
            parties: self.parties,
            relay,
            portal,
            usage_site,
            admin,
            _sync: sync,
            descriptions: self.descriptions,
            offices: self.offices,
        })
    }
}

/// A running ecosystem. Dropping it stops its servers.
#[derive(Debug)]
pub struct Ecosystem {
    events: EventLog,
    endpoints: Endpoints,
    clock: EcosystemClock,
    root: CertificateDer<'static>,
    parties: Arc<Parties>,
    relay: Arc<RelayServer>,
    portal: PartyServer,
    usage_site: PartyServer,
    admin: Option<PartyServer>,
    _sync: Option<SyncTask>,
    descriptions: Vec<OfficeDescription>,
    offices: Vec<ProvisionedOffice>,
}

impl Ecosystem {
    /// Where the relay, the portal and the usage site listen.
    pub fn endpoints(&self) -> Endpoints {
        self.endpoints
    }

    /// Where the admin endpoint listens, if it is served.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(PartyServer::local_addr)
    }

    /// The clock.
    pub fn clock(&self) -> &EcosystemClock {
        &self.clock
    }

    /// The CA's root certificate.
    pub fn root(&self) -> &CertificateDer<'static> {
        &self.root
    }

    /// The web parties.
    pub fn parties(&self) -> &Arc<Parties> {
        &self.parties
    }

    /// The relay's server (fault injection, revocation lists).
    pub fn relay(&self) -> &RelayServer {
        &self.relay
    }

    /// What each office knew at the start, in the order they were described.
    pub fn offices(&self) -> &[ProvisionedOffice] {
        &self.offices
    }

    /// A browser on the portal.
    pub fn portal_client(&self) -> Result<PortalClient, TlsError> {
        PortalClient::new(self.endpoints.portal, &self.root, self.clock.as_clock())
    }

    /// A browser on the usage-application site.
    pub fn usage_site_client(&self) -> Result<UsageSiteClient, TlsError> {
        UsageSiteClient::new(self.endpoints.usage_site, &self.root, self.clock.as_clock())
    }

    /// A linkage client with nothing installed.
    pub fn linkage_client(&self) -> Result<LinkageClient, TlsError> {
        LinkageClient::new(self.endpoints, &self.root, self.clock.as_clock())
    }

    /// Office `index`'s linkage client as it starts: its certificate installed and, when it knows every
    /// login detail, logged in.
    pub async fn client_of(&self, index: usize) -> Result<LinkageClient, BuildError> {
        let known = &self.offices[index];
        let client = self.linkage_client()?;
        if let Some(certificate) = &known.certificate {
            client.install_certificate(certificate)?;
        }
        if let Some(details) = known.login_details() {
            client.login(&details).await.map_err(|source| BuildError::Login {
                office: self.descriptions[index].profile.number,
                source,
            })?;
        }
        Ok(client)
    }

    /// Office `index` with its care `software` and its linkage client as it starts.
    pub async fn virtual_office(
        &self,
        index: usize,
        software: Box<dyn CareSoftware>,
    ) -> Result<VirtualOffice, BuildError> {
        let mut office = VirtualOffice::new(software).with_events(self.events.clone());
        office.install_client(self.client_of(index).await?);
        Ok(office)
    }

    /// The profile of office `index`.
    pub fn profile(&self, index: usize) -> &OfficeProfile {
        &self.descriptions[index].profile
    }

    /// Stops every server; requests under way are answered first.
    pub async fn shutdown(self) {
        drop(self._sync);
        if let Some(admin) = self.admin {
            admin.shutdown().await;
        }
        self.usage_site.shutdown().await;
        self.portal.shutdown().await;
        if let Ok(relay) = Arc::try_unwrap(self.relay) {
            relay.shutdown().await;
        }
    }
}

/// The journal's replay task, stopped with the ecosystem.
#[derive(Debug)]
struct SyncTask(JoinHandle<()>);

impl Drop for SyncTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}
