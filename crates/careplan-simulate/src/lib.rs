//! A month of the nation's care plan traffic through the relay's rules: a seeded population of
//! care-management and service offices and their users ([`Population`]), and the send units their month makes
//! — each user's plan to each of its providers in the week before the month, each provider's actuals back in
//! the month's first ten days, in office hours — sent to a [`Relay`] and downloaded by their receivers at the
//! end of their day.
//!
//! Architecture invariants:
//! - Sans-IO and deterministic: time is each event's simulated instant; the same seed and configuration give
//!   the same traffic, the same relay decisions and the same [`Summary`]. Wall-clock figures are the caller's.
//! - The relay is the real one ([`Relay`] over any [`Store`], an [`Exchange`]): every acceptance and refusal
//!   is its rule's. Benchmarks put a floor (a plain map) in its place to drive the same traffic through.
//!   What the relay does not see is the model's: an office on paper sends nothing, and an expired certificate
//!   is refused in the TLS handshake (`CERT_EXPIRED`) before the relay is reached — unless the exchange
//!   reaches that office over real TLS ([`Exchange::judges_certificate`]), whose handshake then refuses it.
//! - Files are a compact stand-in: every file has the size of a real one of its kind for one user, and all of
//!   them share one buffer of bytes (a relay that is not strict never reads contents).
//! - A [`Summary`] balances: every accepted send unit is delivered or still waits at a receiver that cannot
//!   download, and every refusal is one the population model predicts.

mod population;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use bytes::Bytes;
use careplan_core::{CareMonth, ErrorCode, JST, LicenceStanding, OfficeNumber};
use careplan_relay::{FileId, Relay, SendReceipt, SendUnitId, Store, Upload};
use careplan_spec::Serial;
use rand::Rng;
use serde::Serialize;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};

pub use population::{
    NATIONAL_CARE_MANAGERS, NATIONAL_SERVICE_OFFICES, NATIONAL_USERS, Office, Population, PopulationConfig,
    PopulationCounts, Standing, User,
};

/// Sizes of one user's files, bytes: 第6表, 第7表, 補足 of a plan, and the actuals (a stand-in in the order
/// of the generated files).
const PLAN_FILES: [(&str, usize); 3] = [("UPPLAN", 1_300), ("UPSIKYU", 600), ("UPHOSOKU", 200)];
const ACTUALS_FILE: (&str, usize) = ("UPJSK", 1_300);

/// When receivers download what came in during the day: 17:30 JST.
const POLL_AT: Time = time::macros::time!(17:30);

/// What a month's traffic goes through: the relay over a store, or a floor to measure it against. Errors
/// are the codes an office would hear.
pub trait Exchange {
    /// `sender` sends `uploads` at `now`; `standing` tells each office's licence standing.
    fn send(
        &mut self,
        now: OffsetDateTime,
        sender: OfficeNumber,
        uploads: Vec<Upload>,
        standing: &dyn Fn(OfficeNumber) -> LicenceStanding,
    ) -> Result<SendReceipt, ErrorCode>;

    /// `receiver` downloads `file` at `now`.
    fn download(
        &mut self,
        now: OffsetDateTime,
        receiver: OfficeNumber,
        file: FileId,
    ) -> Result<(), ErrorCode>;

    /// Whether `office` reaches the exchange over mutual TLS, where its certificate is judged in the
    /// handshake: the simulation then leaves an expired certificate's refusal to the exchange instead
    /// of refusing in its place.
    fn judges_certificate(&self, _office: OfficeNumber) -> bool {
        false
    }
}

impl<S: Store> Exchange for Relay<S> {
    fn send(
        &mut self,
        now: OffsetDateTime,
        sender: OfficeNumber,
        uploads: Vec<Upload>,
        standing: &dyn Fn(OfficeNumber) -> LicenceStanding,
    ) -> Result<SendReceipt, ErrorCode> {
        Relay::send(self, now, sender, uploads, standing).map_err(|e| e.code())
    }

    fn download(
        &mut self,
        now: OffsetDateTime,
        receiver: OfficeNumber,
        file: FileId,
    ) -> Result<(), ErrorCode> {
        Relay::download(self, now, receiver, file)
            .map(drop)
            .map_err(|e| e.code())
    }
}

/// One send unit the month makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Planned {
    /// Unix seconds of the send.
    at: i64,
    from: u32,
    to: u32,
    /// Actuals (UPJSK) rather than a plan.
    actuals: bool,
}

/// A step of the simulation, for the caller's progress and timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A send unit was sent (or refused).
    Send,
    /// An office downloaded what waited for it.
    Download,
}

/// A day's load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DayLoad {
    /// Send units attempted.
    pub sends: u64,
    /// Send units accepted.
    pub accepted: u64,
    /// Send units downloaded whole.
    pub delivered: u64,
}

/// What a month did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The service month.
    pub month: String,
    /// The population.
    pub population: PopulationCounts,
    /// Send units the month makes between offices using the system.
    pub planned: u64,
    /// Send units accepted by the relay.
    pub accepted: u64,
    /// Accepted send units downloaded whole by their receivers.
    pub delivered: u64,
    /// Accepted send units still waiting at the end: at receivers that cannot download.
    pub waiting: u64,
    /// Files downloaded.
    pub files_downloaded: u64,
    /// Refusals by code, as they happened.
    pub refused: BTreeMap<String, u64>,
    /// Refusals by code, as the population model predicts them.
    pub expected_refusals: BTreeMap<String, u64>,
    /// Send units the model predicts will wait: those to offices whose certificate expired.
    pub expected_waiting: u64,
    /// Downloads refused by code (an office whose certificate expired cannot connect).
    pub download_refusals: BTreeMap<String, u64>,
    /// Load by day (JST dates).
    pub days: BTreeMap<String, DayLoad>,
}

impl Summary {
    /// Whether the month balances: every accepted send unit delivered or waiting, refusals as predicted.
    pub fn balances(&self) -> bool {
        self.accepted == self.delivered + self.waiting
            && self.refused == self.expected_refusals
            && self.waiting == self.expected_waiting
            && self.accepted + self.refused.values().sum::<u64>() == self.planned
    }
}

/// A send unit waiting at its receiver.
#[derive(Debug, Clone)]
struct Waiting {
    serial: Serial,
    id: SendUnitId,
    files: Vec<FileId>,
}

/// A month of traffic through a relay.
#[derive(Debug)]
pub struct Simulation<E: Exchange> {
    population: Population,
    exchange: E,
    month: CareMonth,
    events: Vec<Planned>,
    next: usize,
    polls: BinaryHeap<Reverse<(i64, u32)>>,
    poll_scheduled: Vec<bool>,
    waiting: Vec<Vec<Waiting>>,
    index: HashMap<OfficeNumber, u32>,
    content: Bytes,
    summary: Summary,
}

fn unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

fn instant(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(JST)
}

/// A random instant in office hours (09:00–18:00 JST) of the `days` days from `first`.
fn office_hours(rng: &mut impl Rng, first: Date, days: i64) -> i64 {
    let day = first + Duration::days(rng.random_range(0..days));
    let start = unix(PrimitiveDateTime::new(day, time::macros::time!(09:00)).assume_offset(JST));
    start + rng.random_range(0..9 * 3600)
}

impl<E: Exchange> Simulation<E> {
    /// The month `month` of `population` through `relay`, its send times drawn from `rng`.
    pub fn new(population: Population, relay: E, month: CareMonth, rng: &mut impl Rng) -> Self {
        let first = month.first_day();
        let pairs: usize = population.users.iter().map(|u| usize::from(u.count)).sum();
        let mut events = Vec::with_capacity(2 * pairs);
        let mut summary = Summary {
            month: month.to_string(),
            population: population.counts(),
            ..Summary::default()
        };
        let mut expect = |code: ErrorCode| {
            *summary
                .expected_refusals
                .entry(code.as_str().to_owned())
                .or_default() += 1
        };
        let mut expected_waiting = 0;
        for user in &population.users {
            let care_manager = population.offices[user.care_manager as usize];
            for &provider in user.providers() {
                let office = population.offices[provider as usize];
                if care_manager.standing == Standing::Paper || office.standing == Standing::Paper {
                    continue;
                }
                for (from, to) in [(care_manager, office), (office, care_manager)] {
                    match (from.standing, to.standing) {
                        (Standing::CertificateExpired, _) => expect(ErrorCode::CertExpired),
                        (Standing::Unlicensed, _) => expect(ErrorCode::LicenceRequired),
                        (_, Standing::Unlicensed) => expect(ErrorCode::ReceiverUnlicensed),
                        (_, Standing::CertificateExpired) => expected_waiting += 1,
                        _ => {}
                    }
                }
                let plan_at = office_hours(rng, first - Duration::days(7), 7);
                let actuals_at = office_hours(rng, first, 10);
                events.push(Planned {
                    at: plan_at,
                    from: user.care_manager,
                    to: provider,
                    actuals: false,
                });
                events.push(Planned {
                    at: actuals_at,
                    from: provider,
                    to: user.care_manager,
                    actuals: true,
                });
            }
        }
        summary.expected_waiting = expected_waiting;
        summary.planned = events.len() as u64;
        // One serial per second on a route: a send unit made in the same second as another of its route
        // takes the next free second, as care software numbering its exports does.
        events.sort_unstable_by_key(|e| (e.from, e.to, e.at));
        for i in 1..events.len() {
            let previous = events[i - 1];
            if (previous.from, previous.to) == (events[i].from, events[i].to) && events[i].at <= previous.at {
                events[i].at = previous.at + 1;
            }
        }
        events.sort_unstable();
        let index = population
            .offices
            .iter()
            .enumerate()
            .filter_map(|(i, o)| Some((o.number, u32::try_from(i).ok()?)))
            .collect();
        let largest = PLAN_FILES
            .iter()
            .map(|f| f.1)
            .max()
            .unwrap_or(0)
            .max(ACTUALS_FILE.1);
        let offices = population.offices.len();
        Self {
            population,
            exchange: relay,
            month,
            events,
            next: 0,
            polls: BinaryHeap::new(),
            poll_scheduled: vec![false; offices],
            waiting: vec![Vec::new(); offices],
            index,
            content: Bytes::from(vec![b'x'; largest]),
            summary,
        }
    }

    /// Send units the month makes.
    pub fn planned(&self) -> u64 {
        self.summary.planned
    }

    /// The next step, done; `None` when the month is over.
    pub fn step(&mut self) -> Option<Step> {
        let send_at = self.events.get(self.next).map(|e| e.at);
        let poll_at = self.polls.peek().map(|Reverse((at, _))| *at);
        match (send_at, poll_at) {
            (Some(send), Some(poll)) if poll < send => self.poll(),
            (Some(_), _) => self.send(),
            (None, Some(_)) => self.poll(),
            (None, None) => None,
        }
    }

    fn day(&mut self, at: OffsetDateTime) -> &mut DayLoad {
        self.summary.days.entry(at.date().to_string()).or_default()
    }

    fn send(&mut self) -> Option<Step> {
        let event = *self.events.get(self.next)?;
        self.next += 1;
        let now = instant(event.at);
        self.day(now).sends += 1;
        let (from, to) = (
            self.population.offices[event.from as usize],
            self.population.offices[event.to as usize],
        );
        if from.standing == Standing::CertificateExpired && !self.exchange.judges_certificate(from.number) {
            self.refuse(ErrorCode::CertExpired);
            return Some(Step::Send);
        }
        let local = now.to_offset(JST);
        let serial = Serial::new(PrimitiveDateTime::new(local.date(), local.time()));
        let name = |prefix: &str| {
            format!(
                "{prefix}_{}_{}_{}_{}_{}_{serial}.CSV",
                self.month, from.number, from.kind, to.number, to.kind
            )
        };
        let uploads: Vec<Upload> = if event.actuals {
            vec![Upload::new(
                name(ACTUALS_FILE.0),
                self.content.slice(..ACTUALS_FILE.1),
            )]
        } else {
            PLAN_FILES
                .iter()
                .map(|(prefix, size)| Upload::new(name(prefix), self.content.slice(..*size)))
                .collect()
        };
        let (offices, index) = (&self.population.offices, &self.index);
        let standing = |office: OfficeNumber| {
            index
                .get(&office)
                .map_or(LicenceStanding::Unregistered, |i| offices[*i as usize].licence())
        };
        match self.exchange.send(now, from.number, uploads, &standing) {
            Ok(receipt) => {
                self.summary.accepted += 1;
                self.day(now).accepted += 1;
                self.waiting[event.to as usize].push(Waiting {
                    serial,
                    id: receipt.send_unit,
                    files: receipt.files.to_vec(),
                });
                if !self.poll_scheduled[event.to as usize] {
                    self.poll_scheduled[event.to as usize] = true;
                    let today = PrimitiveDateTime::new(local.date(), POLL_AT).assume_offset(JST);
                    let poll = if today > now {
                        today
                    } else {
                        today + Duration::days(1)
                    };
                    self.polls.push(Reverse((unix(poll), event.to)));
                }
            }
            Err(code) => self.refuse(code),
        }
        Some(Step::Send)
    }

    fn refuse(&mut self, code: ErrorCode) {
        *self.summary.refused.entry(code.as_str().to_owned()).or_default() += 1;
    }

    fn poll(&mut self) -> Option<Step> {
        let Reverse((at, office)) = self.polls.pop()?;
        let now = instant(at);
        let receiver = self.population.offices[office as usize];
        self.poll_scheduled[office as usize] = false;
        if receiver.standing == Standing::CertificateExpired {
            // The office cannot connect: what waits stays waiting. Over TLS it tries, and the handshake
            // tells why it cannot.
            let first = self.waiting[office as usize]
                .first()
                .and_then(|w| w.files.first());
            let code = match first {
                Some(&file) if self.exchange.judges_certificate(receiver.number) => {
                    match self.exchange.download(now, receiver.number, file) {
                        Err(code) => code,
                        // A download the handshake should have refused: counted, so that it shows.
                        Ok(()) => {
                            self.summary.files_downloaded += 1;
                            return Some(Step::Download);
                        }
                    }
                }
                _ => ErrorCode::CertExpired,
            };
            *self
                .summary
                .download_refusals
                .entry(code.as_str().to_owned())
                .or_default() += 1;
            return Some(Step::Download);
        }
        let mut waiting = std::mem::take(&mut self.waiting[office as usize]);
        // In the order the relay lets a receiver download: by serial, then arrival.
        waiting.sort_by_key(|w| (w.serial, w.id));
        let mut delivered = 0;
        for unit in waiting {
            let mut whole = true;
            for file in &unit.files {
                match self.exchange.download(now, receiver.number, *file) {
                    Ok(_) => self.summary.files_downloaded += 1,
                    Err(code) => {
                        whole = false;
                        *self
                            .summary
                            .download_refusals
                            .entry(code.as_str().to_owned())
                            .or_default() += 1;
                    }
                }
            }
            delivered += u64::from(whole);
        }
        self.summary.delivered += delivered;
        self.day(now).delivered += delivered;
        Some(Step::Download)
    }

    /// The exchange, once the month is over (e.g. the relay, to measure its store).
    pub fn into_exchange(self) -> E {
        self.exchange
    }

    /// The summary so far; complete once [`Self::step`] has returned `None`.
    pub fn summary(&self) -> Summary {
        let mut summary = self.summary.clone();
        summary.waiting = self.waiting.iter().map(|w| w.len() as u64).sum();
        summary
    }
}

#[cfg(test)]
mod tests {
    use careplan_relay::RelayConfig;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn month(seed: u64, config: PopulationConfig) -> Summary {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let population = Population::generate(&config, &mut rng);
        let relay = Relay::new(careplan_relay::MemoryStore::new(), RelayConfig::default());
        let mut simulation = Simulation::new(population, relay, "202506".parse().unwrap(), &mut rng);
        while simulation.step().is_some() {}
        simulation.summary()
    }

    #[test]
    fn a_small_month_balances_and_replays() {
        let config = PopulationConfig {
            scale: 0.0005,
            adoption: 0.9,
            unlicensed: 0.05,
            expired_certificates: 0.05,
        };
        let summary = month(3, config);
        assert!(summary.balances(), "{summary:#?}");
        assert!(summary.accepted > 1_000, "{}", summary.accepted);
        // The model's refusals happened, each through the relay's rule or the handshake.
        for code in ["CERT_EXPIRED", "LICENCE_REQUIRED", "RECEIVER_UNLICENSED"] {
            assert!(
                summary.refused.get(code).is_some_and(|n| *n > 0),
                "{code}: {:?}",
                summary.refused
            );
        }
        assert!(summary.waiting > 0);
        assert!(
            summary
                .download_refusals
                .keys()
                .all(|code| code == "CERT_EXPIRED")
        );
        // Plans in the week before June, actuals in its first ten days.
        assert!(
            summary
                .days
                .keys()
                .all(|d| d.as_str() >= "2025-05-25" && d.as_str() <= "2025-06-11"),
            "{:?}",
            summary.days.keys()
        );
        assert_eq!(month(3, config), summary);
    }

    #[test]
    fn everyone_ready_delivers_everything() {
        let config = PopulationConfig {
            scale: 0.0003,
            adoption: 1.0,
            unlicensed: 0.0,
            expired_certificates: 0.0,
        };
        let summary = month(5, config);
        assert!(summary.refused.is_empty(), "{:?}", summary.refused);
        assert_eq!(summary.delivered, summary.planned);
        let counts = summary.population;
        assert_eq!(summary.planned, 2 * counts.user_providers);
    }
}
