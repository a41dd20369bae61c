//! `careplan-sim serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use careplan_core::format_jst;
use careplan_relay::{CancelUntil, RelayConfig};
use careplan_serve::{Database, Ecosystem, SQLITE_FILE, ServeError, ServeOptions, TimeSource};
use clap::{Args, ValueEnum};
use time::OffsetDateTime;

use crate::exit::Exit;

/// Which clock `serve` runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ClockArg {
    /// The system clock.
    System,
    /// A simulated clock, moved with `POST /v1/clock` on the admin endpoint.
    Simulated,
}

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Directory for the SQLite database and the files clients need (CA certificate, office roster,
    /// PKCS#12 files, addresses). Created if missing.
    #[arg(long, value_name = "DIR", default_value = "careplan-data")]
    data_dir: PathBuf,

    /// Keep the state in this PostgreSQL database instead of SQLite; several `serve` processes pointed
    /// at one database share one ecosystem (postgres://user:password@host/database).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,

    /// With --database-url: keep the tables in this schema (created if missing), so that several
    /// ecosystems share one database.
    #[arg(long, value_name = "NAME", requires = "database_url")]
    database_schema: Option<String>,

    /// The relay's address; the portal and the usage site listen on the next two ports, the admin
    /// endpoint on the third (on loopback unless --admin-listen says otherwise). Port 0 picks free ports.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7443")]
    listen: SocketAddr,

    /// The admin endpoint's address, when it must be reached from another machine (e.g. out of a
    /// container); it always needs the data directory's admin-token.
    #[arg(long, value_name = "ADDR")]
    admin_listen: Option<SocketAddr>,

    /// The clock: the system's, or a simulated one moved through the admin endpoint.
    #[arg(long, value_enum, default_value_t = ClockArg::System)]
    clock: ClockArg,

    /// With --clock simulated: when a new ecosystem starts (RFC 3339, e.g. 2026-04-01T09:00:00+09:00).
    #[arg(long, value_name = "TIME", value_parser = parse_instant, requires = "clock")]
    start: Option<OffsetDateTime>,

    /// Seed of a new ecosystem's passwords, codes and sessions [default: random]. Give one only for a
    /// reproducible test ecosystem: anyone who knows it can work them out.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// Offices a new ecosystem starts with, ready to send: one care-management office and N-1 service
    /// offices [default: 4].
    #[arg(long, value_name = "N")]
    offices: Option<u16>,

    /// Days the relay keeps files after they are sent.
    #[arg(long, value_name = "DAYS", default_value_t = RelayConfig::DEFAULT_RETENTION_DAYS)]
    retention_days: i64,

    /// Largest send unit in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = RelayConfig::DEFAULT_MAX_SEND_BYTES)]
    max_send_bytes: u64,

    /// Until when a sender may cancel: downloaded, received or never.
    #[arg(long, value_name = "WHEN", default_value = "downloaded", value_parser = parse_cancel_until)]
    cancel_until: CancelUntil,

    /// Also validate the CSV files of every send and refuse non-conformant send units.
    #[arg(long)]
    strict: bool,
}

fn parse_instant(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("`{text}` is not an RFC 3339 instant: {e}"))
}

fn parse_cancel_until(text: &str) -> Result<CancelUntil, String> {
    text.parse()
}

impl ServeArgs {
    fn options(&self) -> ServeOptions {
        ServeOptions {
            data_dir: self.data_dir.clone(),
            database: match &self.database_url {
                Some(url) => Database::Postgres {
                    url: url.clone(),
                    schema: self.database_schema.clone(),
                },
                None => Database::Sqlite,
            },
            listen: self.listen,
            admin_listen: self.admin_listen,
            time: match self.clock {
                ClockArg::System => TimeSource::System,
                ClockArg::Simulated => TimeSource::Simulated { start: self.start },
            },
            seed: self.seed,
            offices: self.offices,
            relay: RelayConfig {
                retention: time::Duration::days(self.retention_days),
                max_send_bytes: self.max_send_bytes,
                cancel_until: self.cancel_until,
                strict: self.strict,
            },
        }
    }
}

/// Serves until Ctrl-C (or SIGTERM).
pub(crate) fn serve(args: &ServeArgs) -> Exit {
    if args.start.is_some() && args.clock != ClockArg::Simulated {
        eprintln!("error: --start needs --clock simulated");
        return Exit::Invalid;
    }
    if let Some(Err(e)) = args.start.map(careplan_core::within_clock_range) {
        eprintln!("error: --start: {e}");
        return Exit::Invalid;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return Exit::Environment;
        }
    };
    runtime.block_on(serve_async(args))
}

async fn serve_async(args: &ServeArgs) -> Exit {
    let options = args.options();
    let ecosystem = match Ecosystem::start(&options).await {
        Ok(ecosystem) => ecosystem,
        Err(e) => {
            eprintln!("error: {e}");
            return match e {
                ServeError::Mismatch { .. } => Exit::Invalid,
                _ => Exit::Environment,
            };
        }
    };
    let addresses = ecosystem.addresses();
    let state = match &options.database {
        Database::Sqlite => options.data_dir.join(SQLITE_FILE).display().to_string(),
        Database::Postgres { schema, .. } => match schema {
            Some(schema) => format!("PostgreSQL (schema {schema})"),
            None => "PostgreSQL".to_owned(),
        },
    };
    let genesis = ecosystem.genesis();
    println!(
        "careplan-sim serve: state in {state}; ecosystem born {}, {} office(s)",
        format_jst(genesis.start),
        genesis.offices.len()
    );
    println!("  relay        https://{}  (mutual TLS)", addresses.relay);
    println!("  portal       https://{}/v1/portal", addresses.portal);
    println!("  usage site   https://{}/v1/usage", addresses.usage_site);
    println!(
        "  admin        https://{}/v1/clock  ({} clock)",
        addresses.admin,
        if ecosystem.simulated() {
            "simulated"
        } else {
            "system"
        }
    );
    let dir = options.data_dir.display();
    println!("  CA certificate  {dir}/ca.pem");
    println!("  offices         {dir}/offices.json (logins, PKCS#12 files under {dir}/offices/)");
    println!("  addresses       {dir}/endpoints.json");
    println!("Serving; Ctrl-C stops.");
    stopped().await;
    ecosystem.shutdown().await;
    println!("careplan-sim serve: stopped.");
    Exit::Success
}

/// Waits for Ctrl-C, or SIGTERM on Unix (how service managers and containers stop a process).
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
