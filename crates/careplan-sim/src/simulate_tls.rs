//! `simulate --tls-offices`: a sample of the population's offices talks to the relay over mutual TLS.
//!
//! The relay is served on a loopback port by the real relay server, over the same store the rest of the
//! month uses directly; each sampled office holds a client certificate from the e-seikyu CA (one that
//! expired before the month when the population says so) and a [`RelayClient`], which makes every request
//! on a fresh connection as the linkage client does. The server asks the population for licences. Time is
//! the simulation's: a simulated clock set to each request's instant, so certificates are judged in real
//! handshakes at simulated time. Whether an office is sampled is drawn from its own random stream, so a
//! seed gives the same month with or without a sample.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use careplan_ca::{CertificateAuthority, CertificateType};
use careplan_core::{CareMonth, Clock, ErrorCode, JST, LicenceStanding, OfficeNumber, SimulatedClock};
use careplan_net::{LicenceRegister, RelayClient, RelayServer, RelayTls, ServerLimits};
use careplan_relay::{FileId, Relay, SendReceipt, Store, Upload};
use careplan_simulate::{Exchange, Population, Standing};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use time::{Duration, OffsetDateTime, PrimitiveDateTime, Time};

use crate::exit::Exit;
use crate::simulate_cmd::{Latency, micros};

/// Every office's licence standing, as the population has it: the register the relay server asks.
struct PopulationLicences(HashMap<OfficeNumber, LicenceStanding>);

impl LicenceRegister for PopulationLicences {
    fn standing(&self, _now: OffsetDateTime, office: OfficeNumber) -> LicenceStanding {
        self.0
            .get(&office)
            .copied()
            .unwrap_or(LicenceStanding::Unregistered)
    }
}

/// What the requests over TLS did.
#[derive(Debug, Serialize)]
pub(crate) struct TlsFigures {
    /// The share of offices using the system asked to talk over TLS.
    pub(crate) share: f64,
    /// Offices talking over TLS.
    pub(crate) offices: u64,
    /// Sends made over TLS, refused ones included.
    pub(crate) sends: u64,
    /// Downloads made over TLS, refused ones included.
    pub(crate) downloads: u64,
    /// Refusals the wire gave, by code (sends and downloads).
    pub(crate) refused: BTreeMap<String, u64>,
    /// Wall time of a send over TLS: connection, handshake, request and answer.
    pub(crate) send_latency: Latency,
    /// Wall time of a download over TLS.
    pub(crate) download_latency: Latency,
}

/// The month's exchange with a sample of offices over TLS and the others calling the relay directly.
pub(crate) struct OverTls<S: Store> {
    relay: Arc<Mutex<Relay<S>>>,
    clock: Arc<SimulatedClock>,
    runtime: tokio::runtime::Runtime,
    server: RelayServer,
    clients: HashMap<OfficeNumber, RelayClient>,
    share: f64,
    sends: Vec<u32>,
    downloads: Vec<u32>,
    refused: BTreeMap<String, u64>,
}

/// A part of the TLS sample that could not be made: `what`, and why.
fn environment(what: impl std::fmt::Display, error: impl std::fmt::Display) -> (Exit, String) {
    (Exit::Environment, format!("{what}: {error}"))
}

impl<S: Store + 'static> OverTls<S> {
    /// Serves `relay` on a loopback port and gives each sampled office of `population` (a `share` of
    /// those using the system, drawn from `seed`'s own stream) a certificate and a client. A month whose
    /// traffic the relay's certificate does not cover is refused ([`Exit::Invalid`]); a server or
    /// certificate that cannot be made is [`Exit::Environment`].
    pub(crate) fn start(
        relay: Relay<S>,
        population: &Population,
        month: CareMonth,
        share: f64,
        seed: u64,
    ) -> Result<Self, (Exit, String)> {
        let mut sampling = ChaCha8Rng::seed_from_u64(seed);
        sampling.set_stream(1);
        let sampled: Vec<_> = population
            .offices
            .iter()
            .filter(|office| office.standing != Standing::Paper)
            .filter(|_| sampling.random_bool(share))
            .copied()
            .collect();
        let month_starts = PrimitiveDateTime::new(month.first_day(), Time::MIDNIGHT).assume_offset(JST);
        let clock = Arc::new(SimulatedClock::new(month_starts));
        let mut ca = CertificateAuthority::new().map_err(|e| environment("the CA", e))?;
        let years = i64::from(ca.config().validity_years);
        // The server's tasks on a worker thread of their own, the clients' requests on the caller's
        // thread (`block_on`), as a server and its clients run apart.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| environment("a runtime for the relay server", e))?;
        let relay = Arc::new(Mutex::new(relay));
        let licences = PopulationLicences(
            population
                .offices
                .iter()
                .map(|office| (office.number, office.licence()))
                .collect(),
        );
        let certificate = ca
            .issue_relay_certificate()
            .map_err(|e| environment("the relay's certificate", e))?;
        // Plans go out from a week before the month, the last actuals are downloaded on its 11th.
        let (first, last) = (
            month_starts - Duration::days(7),
            month_starts + Duration::days(12),
        );
        if first < certificate.not_before || certificate.not_after < last {
            return Err((
                Exit::Invalid,
                format!(
                    "month {month}: its traffic ({} to {}) falls outside the relay certificate's validity ({} to {})",
                    first.date(),
                    last.date(),
                    certificate.not_before.date(),
                    certificate.not_after.date()
                ),
            ));
        }
        let tls = RelayTls {
            ca_root: ca.root().clone(),
            certificate,
            crl: None,
        };
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let server = runtime
            .block_on(RelayServer::start(
                loopback,
                ServerLimits::default(),
                relay.clone(),
                Arc::new(licences),
                clock.clone() as Arc<dyn Clock>,
                tls,
            ))
            .map_err(|e| environment("the relay server", e))?;
        let mut clients = HashMap::with_capacity(sampled.len());
        for office in sampled {
            // Valid through the month, or expired a year before it.
            let not_before = match office.standing {
                Standing::CertificateExpired => month_starts - Duration::days(366 * (years + 1)),
                _ => month_starts - Duration::days(60),
            };
            let certificate = ca
                .issue_office_certificate(not_before, office.number, CertificateType::CareInsurance)
                .map_err(|e| environment(format_args!("office {}'s certificate", office.number), e))?;
            let client = RelayClient::new(server.local_addr(), ca.root(), clock.clone() as Arc<dyn Clock>)
                .map_err(|e| environment(format_args!("office {}'s client", office.number), e))?;
            client
                .install_certificate(&certificate)
                .map_err(|e| environment(format_args!("office {}'s certificate", office.number), e))?;
            clients.insert(office.number, client);
        }
        Ok(Self {
            relay,
            clock,
            runtime,
            server,
            clients,
            share,
            sends: Vec::new(),
            downloads: Vec::new(),
            refused: BTreeMap::new(),
        })
    }

    /// Stops the server; gives the relay back with the figures of the requests made over TLS.
    pub(crate) fn finish(self) -> Result<(Relay<S>, TlsFigures), (Exit, String)> {
        let Self {
            relay,
            runtime,
            server,
            clients,
            share,
            sends,
            downloads,
            refused,
            ..
        } = self;
        runtime.block_on(server.shutdown());
        drop(runtime);
        let figures = TlsFigures {
            share,
            offices: clients.len() as u64,
            sends: sends.len() as u64,
            downloads: downloads.len() as u64,
            refused,
            send_latency: Latency::of(sends),
            download_latency: Latency::of(downloads),
        };
        let relay = Arc::try_unwrap(relay)
            .map_err(|_| {
                (
                    Exit::Environment,
                    "the relay server still holds the relay after stopping".to_owned(),
                )
            })?
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        Ok((relay, figures))
    }

    fn refuse(&mut self, code: ErrorCode) {
        *self.refused.entry(code.as_str().to_owned()).or_default() += 1;
    }
}

impl<S: Store + 'static> Exchange for OverTls<S> {
    fn send(
        &mut self,
        now: OffsetDateTime,
        sender: OfficeNumber,
        uploads: Vec<Upload>,
        standing: &dyn Fn(OfficeNumber) -> LicenceStanding,
    ) -> Result<SendReceipt, ErrorCode> {
        // Over TLS the server asks `PopulationLicences`, which holds what `standing` tells.
        let Some(client) = self.clients.get(&sender) else {
            let mut relay = self.relay.lock().unwrap_or_else(PoisonError::into_inner);
            return Exchange::send(&mut *relay, now, sender, uploads, standing);
        };
        self.clock.set(now).map_err(|e| e.code())?;
        let started = Instant::now();
        let answer = self.runtime.block_on(client.send(&uploads)).map_err(|e| e.code());
        self.sends.push(micros(started));
        if let Err(code) = answer {
            self.refuse(code);
        }
        answer
    }

    fn download(
        &mut self,
        now: OffsetDateTime,
        receiver: OfficeNumber,
        file: FileId,
    ) -> Result<(), ErrorCode> {
        let Some(client) = self.clients.get(&receiver) else {
            let mut relay = self.relay.lock().unwrap_or_else(PoisonError::into_inner);
            return Exchange::download(&mut *relay, now, receiver, file);
        };
        self.clock.set(now).map_err(|e| e.code())?;
        let started = Instant::now();
        let answer = self
            .runtime
            .block_on(client.download(file))
            .map(drop)
            .map_err(|e| e.code());
        self.downloads.push(micros(started));
        if let Err(code) = answer {
            self.refuse(code);
        }
        answer
    }

    fn judges_certificate(&self, office: OfficeNumber) -> bool {
        self.clients.contains_key(&office)
    }
}
