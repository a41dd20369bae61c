//! `careplan-sim simulate`: a month of the nation's traffic through the relay's rules, with its figures.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use careplan_core::CareMonth;
use careplan_relay::{MemoryStore, Relay, RelayConfig, Store, StoreError};
use careplan_simulate::{Exchange, Population, PopulationConfig, Simulation, Step, Summary};
use careplan_store::{PostgresStore, SqliteStore};
use clap::Args;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::exit::Exit;
use crate::simulate_tls::{OverTls, TlsFigures};

/// How much of the nation to simulate.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scale(f64);

impl std::str::FromStr for Scale {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "national" {
            return Ok(Scale(1.0));
        }
        match s.parse::<f64>() {
            Ok(share) if share > 0.0 && share <= 1.0 => Ok(Scale(share)),
            _ => Err(format!(
                "`{s}`: expected `national` or a share of the nation, 0 < share ≤ 1"
            )),
        }
    }
}

/// A share between 0 and 1.
fn share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}`: expected a share from 0 to 1")),
    }
}

#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// `national` (38,000 care-management offices, 290,000 service offices, 3,000,000 users) or a share of it,
    /// e.g. 0.01.
    #[arg(long, default_value = "0.001", value_name = "national|SHARE")]
    scale: Scale,

    /// The service month: plans are sent in the week before it, actuals in its first ten days.
    #[arg(long, default_value = "202506", value_name = "YYYYMM")]
    month: CareMonth,

    /// Seed of the population and of the send times; the same seed gives the same month.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Share of offices using the linkage system (the others exchange on paper).
    #[arg(long, default_value = "1", value_parser = share, value_name = "SHARE")]
    adoption: f64,

    /// Share of adopting offices whose licence has lapsed.
    #[arg(long, default_value = "0.02", value_parser = share, value_name = "SHARE")]
    unlicensed: f64,

    /// Share of adopting offices whose certificate has expired.
    #[arg(long, default_value = "0.01", value_parser = share, value_name = "SHARE")]
    expired_certificates: f64,

    /// Where the relay keeps the month's send units: `memory`, `sqlite` (a durable file, as `serve` keeps
    /// them) or `postgres` (--database-url; the store several relays share).
    #[arg(long, value_enum, default_value_t = StoreKind::Memory)]
    store: StoreKind,

    /// With --store sqlite: the database file, which must hold no send units yet (default: a new file in
    /// the system's temporary folder, removed at the end).
    #[arg(long, value_name = "FILE")]
    sqlite_file: Option<PathBuf>,

    /// With --store postgres: the database (postgres://user:password@host/database).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,

    /// With --store postgres: the schema of the month's tables (created if missing), which must hold no
    /// send units yet.
    #[arg(long, value_name = "NAME", default_value = "careplan_simulate")]
    database_schema: String,

    /// Share of the offices using the system that talk to the relay over mutual TLS, as the linkage
    /// client does (a loopback relay server over the same store, a certificate per office from the CA,
    /// a fresh connection per request); the others call the relay directly. The same seed gives the
    /// same month with or without a sample.
    #[arg(long, default_value = "0", value_parser = share, value_name = "SHARE")]
    tls_offices: f64,

    /// Write the summary (JSON) to this file.
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,

    /// Write a self-contained HTML page of the month (figures and a chart of the load by day) to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// Where the relay keeps send units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StoreKind {
    /// In memory: the national month's engine.
    Memory,
    /// A SQLite file with every change committed to disk, as `serve` keeps it.
    Sqlite,
    /// A PostgreSQL database, as relays sharing one keep it.
    Postgres,
}

impl StoreKind {
    fn as_str(self) -> &'static str {
        match self {
            StoreKind::Memory => "memory",
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
        }
    }
}

/// The store a month runs on, empty.
enum OpenStore {
    Memory(MemoryStore),
    Sqlite {
        store: SqliteStore,
        /// The temporary folder of a default file, removed with it once the month's figures are taken.
        _folder: Option<tempfile::TempDir>,
    },
    Postgres(Box<PostgresStore>),
}

/// Opens the store `args` chose, empty: a month on top of another's send units would find its serials
/// taken.
fn open_store(args: &SimulateArgs, pairs: usize) -> Result<OpenStore, (Exit, String)> {
    match args.store {
        // A plan (three files) and actuals (one) per user–provider pair, at most: room from the start.
        StoreKind::Memory => Ok(OpenStore::Memory(MemoryStore::with_capacity(
            2 * pairs,
            4 * pairs,
        ))),
        StoreKind::Sqlite => {
            let (path, temporary) = match &args.sqlite_file {
                Some(path) => (path.clone(), None),
                None => {
                    let dir = tempfile::tempdir()
                        .map_err(|e| (Exit::Environment, format!("a temporary folder: {e}")))?;
                    (dir.path().join("simulate.sqlite"), Some(dir))
                }
            };
            let mut store = SqliteStore::open(&path)
                .map_err(|e| (Exit::Environment, format!("{}: {e}", path.display())))?;
            unused(
                store.send_unit_count(),
                &path.display().to_string(),
                "a new file with --sqlite-file",
            )?;
            Ok(OpenStore::Sqlite {
                store,
                _folder: temporary,
            })
        }
        StoreKind::Postgres => {
            let url = args
                .database_url
                .as_deref()
                .ok_or((Exit::Invalid, "--store postgres needs --database-url".to_owned()))?;
            let mut store = PostgresStore::connect_in_schema(url, Some(args.database_schema.as_str()))
                .map_err(|e| (Exit::Environment, e.to_string()))?;
            unused(
                store.send_unit_count(),
                &format!("schema `{}`", args.database_schema),
                "a new one with --database-schema",
            )?;
            Ok(OpenStore::Postgres(Box::new(store)))
        }
    }
}

/// Refuses a store that already holds send units (`held`), naming `what` it is and what to do.
fn unused(held: Result<u64, StoreError>, what: &str, instead: &str) -> Result<(), (Exit, String)> {
    match held {
        Ok(0) => Ok(()),
        Ok(held) => Err((
            Exit::Invalid,
            format!("{what}: already holds {held} send units; name {instead}"),
        )),
        Err(e) => Err((Exit::Environment, format!("{what}: {e}"))),
    }
}

/// What a month on one store leaves: its summary, each step's wall time (µs), the bytes the store's data
/// takes on disk (none for the memory store: see peak memory), and what went over TLS.
struct Ran {
    month: Summary,
    sends: Vec<u32>,
    downloads: Vec<u32>,
    store_bytes: Option<u64>,
    tls: Option<TlsFigures>,
}

/// The month's steps, each timed: the summary, the wall time of each send and each download (µs), and the
/// exchange.
fn drive<E: Exchange>(mut simulation: Simulation<E>) -> (Summary, Vec<u32>, Vec<u32>, E) {
    let planned = simulation.planned();
    let progress = indicatif::ProgressBar::hidden();
    progress.set_length(planned);
    progress.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} send units {elapsed} (eta {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (mut sends, mut downloads) = (Vec::new(), Vec::new());
    let mut shown = Instant::now();
    loop {
        let step_started = Instant::now();
        let Some(step) = simulation.step() else { break };
        let took = micros(step_started);
        match step {
            Step::Send => {
                sends.push(took);
                if sends.len() % 4096 == 0 {
                    progress.set_position(sends.len() as u64);
                }
            }
            Step::Download => downloads.push(took),
        }
        // Only on a terminal (indicatif draws nothing into a pipe or a CI log), only for long runs.
        if progress.is_hidden() && shown.elapsed() > Duration::from_secs(1) {
            progress.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            shown = Instant::now();
        }
    }
    progress.finish_and_clear();
    (simulation.summary(), sends, downloads, simulation.into_exchange())
}

/// Runs the month of `population` through a relay over `store`, a sample of offices over TLS if
/// `tls_offices` is above 0, then measures the store with `size`.
fn run_month<S: Store + 'static>(
    store: S,
    population: Population,
    args: &SimulateArgs,
    rng: &mut ChaCha8Rng,
    size: impl FnOnce(&mut S) -> Option<u64>,
) -> Result<Ran, (Exit, String)> {
    let relay = Relay::new(store, RelayConfig::default());
    let (month, sends, downloads, relay, tls) = if args.tls_offices > 0.0 {
        let wire = OverTls::start(relay, &population, args.month, args.tls_offices, args.seed)?;
        let (month, sends, downloads, wire) = drive(Simulation::new(population, wire, args.month, rng));
        let (relay, figures) = wire.finish()?;
        (month, sends, downloads, relay, Some(figures))
    } else {
        let (month, sends, downloads, relay) = drive(Simulation::new(population, relay, args.month, rng));
        (month, sends, downloads, relay, None)
    };
    let mut store = relay.into_store();
    Ok(Ran {
        month,
        sends,
        downloads,
        store_bytes: size(&mut store),
        tls,
    })
}

/// Microseconds since `started`, saturated.
pub(crate) fn micros(started: Instant) -> u32 {
    u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX)
}

/// Percentiles of a step's wall time, microseconds.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Latency {
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
}

impl Latency {
    pub(crate) fn of(mut samples: Vec<u32>) -> Self {
        samples.sort_unstable();
        let at = |p: usize| {
            samples
                .get((samples.len() * p / 100).min(samples.len().saturating_sub(1)))
                .map_or(0, |v| u64::from(*v))
        };
        Self {
            p50_us: at(50),
            p99_us: at(99),
            max_us: samples.last().map_or(0, |v| u64::from(*v)),
        }
    }
}

/// The summary file: the month's figures, and how the machine ran it.
#[derive(Debug, Serialize)]
struct Report<'a> {
    seed: u64,
    scale: f64,
    config: PopulationConfig,
    store: &'static str,
    #[serde(flatten)]
    month: &'a Summary,
    balances: bool,
    wall_seconds: f64,
    send_units_per_wall_second: f64,
    send_latency: Latency,
    download_latency: Latency,
    peak_memory_bytes: Option<u64>,
    /// The bytes the durable store's data takes at the end of the month.
    store_bytes: Option<u64>,
    /// The requests made over TLS, with `--tls-offices`.
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<TlsFigures>,
}

/// The process's peak resident memory (Linux), bytes.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

pub(crate) fn simulate(args: &SimulateArgs) -> Exit {
    let config = PopulationConfig {
        scale: args.scale.0,
        adoption: args.adoption,
        unlicensed: args.unlicensed,
        expired_certificates: args.expired_certificates,
    };
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let population = Population::generate(&config, &mut rng);
    let pairs = usize::try_from(population.counts().user_providers).unwrap_or(0);
    let opened = match open_store(args, pairs) {
        Ok(opened) => opened,
        Err((exit, e)) => {
            eprintln!("error: --store {}: {e}", args.store.as_str());
            return exit;
        }
    };
    // The month runs on the store's own type, and the same handle measures it afterwards.
    let ran = match opened {
        OpenStore::Memory(store) => run_month(store, population, args, &mut rng, |_| None),
        OpenStore::Sqlite { store, _folder } => {
            run_month(store, population, args, &mut rng, |s| s.size_bytes().ok())
        }
        OpenStore::Postgres(store) => run_month(*store, population, args, &mut rng, |s| s.size_bytes().ok()),
    };
    let ran = match ran {
        Ok(ran) => ran,
        Err((exit, e)) => {
            eprintln!("error: --tls-offices: {e}");
            return exit;
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let month = ran.month;
    let planned = month.planned;
    #[allow(clippy::cast_precision_loss)]
    let report = Report {
        seed: args.seed,
        scale: args.scale.0,
        config,
        store: args.store.as_str(),
        month: &month,
        balances: month.balances(),
        wall_seconds: wall,
        send_units_per_wall_second: planned as f64 / wall.max(1e-9),
        send_latency: Latency::of(ran.sends),
        download_latency: Latency::of(ran.downloads),
        peak_memory_bytes: peak_memory(),
        store_bytes: ran.store_bytes,
        tls: ran.tls,
    };
    let counts = month.population;
    println!(
        "month {}: {} care managers, {} service offices, {} users ({} user–provider pairs)",
        month.month, counts.care_managers, counts.service_offices, counts.users, counts.user_providers
    );
    println!(
        "{} send units: {} accepted, {} delivered, {} waiting, {} refused {:?}",
        month.planned,
        month.accepted,
        month.delivered,
        month.waiting,
        month.refused.values().sum::<u64>(),
        month.refused
    );
    println!(
        "{wall:.1} s wall, {:.0} send units/s; send p50 {} µs, p99 {} µs; peak memory {} MiB; store {}{}; {}",
        report.send_units_per_wall_second,
        report.send_latency.p50_us,
        report.send_latency.p99_us,
        report.peak_memory_bytes.map_or(0, |b| b / (1024 * 1024)),
        report.store,
        report
            .store_bytes
            .map_or(String::new(), |b| format!(" ({} MiB)", b / (1024 * 1024))),
        if report.balances {
            "balances"
        } else {
            "DOES NOT BALANCE"
        }
    );
    if let Some(tls) = &report.tls {
        println!(
            "over TLS: {} offices, {} sends (p50 {} µs, p99 {} µs), {} downloads (p50 {} µs, p99 {} µs), refused {:?}",
            tls.offices,
            tls.sends,
            tls.send_latency.p50_us,
            tls.send_latency.p99_us,
            tls.downloads,
            tls.download_latency.p50_us,
            tls.download_latency.p99_us,
            tls.refused
        );
    }
    if let Some(path) = &args.summary {
        let json = match serde_json::to_vec_pretty(&report) {
            Ok(json) => json,
            Err(e) => {
                eprintln!("error: the summary cannot be written as JSON: {e}");
                return Exit::Environment;
            }
        };
        if let Err(e) = std::fs::write(path, json) {
            eprintln!("error: {}: {e}", path.display());
            return Exit::Invalid;
        }
    }
    if let Some(path) = &args.html
        && let Err(e) = std::fs::write(path, page(&report))
    {
        eprintln!("error: {}: {e}", path.display());
        return Exit::Invalid;
    }
    if report.balances {
        Exit::Success
    } else {
        Exit::Failed
    }
}

/// The month as one self-contained page: no script, no external asset; the chart is inline SVG.
fn page(report: &Report<'_>) -> String {
    use crate::html::escape;
    let month = report.month;
    let counts = month.population;
    let mut figures = String::new();
    for (name, value) in [
        ("care-management offices", counts.care_managers.to_string()),
        ("service offices", counts.service_offices.to_string()),
        (
            "users (user–provider pairs)",
            format!("{} ({})", counts.users, counts.user_providers),
        ),
        (
            "on paper / lapsed licence / expired certificate",
            format!(
                "{} / {} / {}",
                counts.on_paper, counts.unlicensed, counts.certificates_expired
            ),
        ),
        ("send units planned", month.planned.to_string()),
        ("accepted", month.accepted.to_string()),
        ("delivered", month.delivered.to_string()),
        ("waiting (receiver cannot download)", month.waiting.to_string()),
        ("balances", report.balances.to_string()),
        (
            "wall time",
            format!(
                "{:.1} s ({:.0} send units/s)",
                report.wall_seconds, report.send_units_per_wall_second
            ),
        ),
        (
            "a send: p50 / p99 / max",
            format!(
                "{} / {} / {} µs",
                report.send_latency.p50_us, report.send_latency.p99_us, report.send_latency.max_us
            ),
        ),
        (
            "store (its size on disk)",
            format!(
                "{}{}",
                report.store,
                report
                    .store_bytes
                    .map_or(String::new(), |b| format!(" ({} MiB)", b / (1024 * 1024)))
            ),
        ),
        (
            "peak memory",
            report
                .peak_memory_bytes
                .map_or("-".to_owned(), |b| format!("{} MiB", b / (1024 * 1024))),
        ),
    ]
    .into_iter()
    .chain(report.tls.as_ref().map(|tls| {
        (
            "over TLS: offices, sends (p50 / p99), downloads (p50 / p99)",
            format!(
                "{} offices ({} of those using the system); {} sends ({} / {} µs); {} downloads ({} / {} µs)",
                tls.offices,
                tls.share,
                tls.sends,
                tls.send_latency.p50_us,
                tls.send_latency.p99_us,
                tls.downloads,
                tls.download_latency.p50_us,
                tls.download_latency.p99_us
            ),
        )
    })) {
        figures.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(name),
            escape(&value)
        ));
    }
    let mut refusals = String::new();
    for (code, count) in &month.refused {
        let expected = month.expected_refusals.get(code).copied().unwrap_or(0);
        refusals.push_str(&format!(
            "<tr><td class=\"code\">{}</td><td>{count}</td><td>{expected}</td></tr>",
            escape(code)
        ));
    }
    // The load by day: send units sent (light) and delivered (dark), one pair of bars a day.
    let days: Vec<(&String, &careplan_simulate::DayLoad)> = month.days.iter().collect();
    let most = days
        .iter()
        .map(|(_, d)| d.sends.max(d.delivered))
        .max()
        .unwrap_or(1)
        .max(1);
    let (bar, height, top) = (28u64, 200u64, 20u64);
    let width = bar * days.len() as u64 + 60;
    let mut chart = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{}\" role=\"img\" aria-label=\"send units by day\">",
        height + top + 70
    );
    for (i, (date, load)) in days.iter().enumerate() {
        let x = 50 + bar * i as u64;
        let scaled = |n: u64| n * height / most;
        for (n, class, offset) in [(load.sends, "sends", 0), (load.delivered, "delivered", bar / 2)] {
            chart.push_str(&format!(
                "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{} {class}: {n}</title></rect>",
                x + offset,
                top + height - scaled(n),
                bar / 2 - 2,
                scaled(n),
                escape(date)
            ));
        }
        let y = top + height + 12;
        chart.push_str(&format!(
            "<text x=\"{x}\" y=\"{y}\" transform=\"rotate(60 {x} {y})\" font-size=\"10\">{}</text>",
            escape(date.get(5..).unwrap_or(date))
        ));
    }
    chart.push_str(&format!(
        "<text x=\"0\" y=\"{}\" font-size=\"10\">{most}</text><text x=\"0\" y=\"{}\" font-size=\"10\">0</text></svg>",
        top + 4,
        top + height
    ));
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>careplan-sim simulate {month_name}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         th,td{{border:1px solid #ccc;padding:.2em .6em;text-align:left}}rect.sends{{fill:#9ec5fe}}\
         rect.delivered{{fill:#0b5ed7}}.code{{font-family:monospace;font-weight:bold;color:#b00020}}</style></head><body>\
         <h1>A simulated month: {month_name}</h1><p>Seed {seed}, scale {scale}, store {store}.</p>\
         <h2>Figures</h2><table>{figures}</table>\
         <h2>Load by day</h2><p>Send units sent (light) and delivered (dark) per day, JST.</p>{chart}\
         <h2>Refusals</h2><table><tr><th>code</th><th>refused</th><th>the model predicts</th></tr>{refusals}</table>\
         </body></html>\n",
        month_name = escape(&month.month),
        seed = report.seed,
        scale = report.scale,
        store = report.store,
    )
}
