//! Starting and stopping a served ecosystem.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use careplan_ca::{CertificateAuthority, KeySecret};
use careplan_core::{Clock, Journal, JournalError, NewEntry, SimulatedClock, SystemClock};
use careplan_ecosystem::{BuildError, Listen, Prepared};
use careplan_net::EcosystemClock;
use careplan_parties::ProvisionedOffice;
use careplan_relay::{RelayConfig, Store, StoreError};
use careplan_store::{PostgresJournal, PostgresStore, SqliteJournal, SqliteStore};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{GENESIS_PARTY, Genesis, RosterOffice};

/// The database file in the data directory.
pub const SQLITE_FILE: &str = "careplan.sqlite3";

/// The file of the data directory holding the admin endpoint's token (0600).
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// Where the ecosystem's state is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// The SQLite file `careplan.sqlite3` in the data directory (the default).
    Sqlite,
    /// A PostgreSQL database, optionally in a schema of its own.
    Postgres {
        /// `postgres://user:password@host/database`.
        url: String,
        /// The schema holding the tables (created if missing); the default schema if `None`.
        schema: Option<String>,
    },
}

/// What time the ecosystem runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSource {
    /// The system clock.
    System,
    /// A simulated clock moved through the admin endpoint. A new ecosystem starts at `start` (the system
    /// time if `None`); an existing one resumes where its last recorded request left it.
    Simulated {
        /// The starting instant of a new ecosystem.
        start: Option<OffsetDateTime>,
    },
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where the files for clients go (CA certificate, roster, PKCS#12 files, addresses) and, with
    /// [`Database::Sqlite`], the database.
    pub data_dir: PathBuf,
    /// Where the state is kept.
    pub database: Database,
    /// The relay's address; the portal and the usage site take the next two ports (all pick free ports
    /// if the port is 0).
    pub listen: SocketAddr,
    /// The admin endpoint's address; by default loopback on the port three after the relay's.
    pub admin_listen: Option<SocketAddr>,
    /// What time it is.
    pub time: TimeSource,
    /// The seed of a new ecosystem (an existing one keeps its own; a different one is refused).
    pub seed: Option<u64>,
    /// The number of offices a new ecosystem starts with (likewise).
    pub offices: Option<u16>,
    /// The relay's settings.
    pub relay: RelayConfig,
}

/// The roster size of a new ecosystem unless told otherwise: a care manager and three providers.
pub const DEFAULT_OFFICES: u16 = 4;

/// Why an ecosystem could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The data directory or a file in it could not be written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The relay's store could not be opened.
    #[error("the relay's store: {0}")]
    Store(#[from] StoreError),
    /// The journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The database holds another ecosystem than the options ask for.
    #[error(
        "the database holds an ecosystem with {what} {held}, not {asked}; use another data directory or database, or leave the option out"
    )]
    Mismatch {
        /// Which option.
        what: &'static str,
        /// What the database holds.
        held: String,
        /// What was asked.
        asked: String,
    },
    /// The starting state could not be built.
    #[error("cannot build the starting state: {0}")]
    Genesis(String),
    /// A server could not start.
    #[error(transparent)]
    Server(#[from] careplan_net::ServerError),
}

impl From<BuildError> for ServeError {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Journal(e) => ServeError::Journal(e),
            BuildError::Server(e) => ServeError::Server(e),
            other => ServeError::Genesis(other.to_string()),
        }
    }
}

/// Where each party listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Addresses {
    /// The relay (mutual TLS, `relay.careplan.test` or `localhost`).
    pub relay: SocketAddr,
    /// The e-billing portal (`portal.careplan.test` or `localhost`).
    pub portal: SocketAddr,
    /// The usage-application site (`usage.careplan.test` or `localhost`).
    pub usage_site: SocketAddr,
    /// The admin endpoint (the portal's certificate).
    pub admin: SocketAddr,
}

/// One roster office as written to `offices.json`: what its linkage client needs.
#[derive(Debug, Serialize)]
struct RosterEntry<'a> {
    #[serde(flatten)]
    office: &'a RosterOffice,
    user_id: Option<&'a str>,
    password: Option<&'a str>,
    personal_user_id: Option<&'a str>,
    personal_password: Option<&'a str>,
    /// The PKCS#12 file, relative to the data directory.
    certificate: String,
    /// Its password: the certificate-issuance password.
    certificate_password: Option<&'a str>,
}

/// A running ecosystem.
#[derive(Debug)]
pub struct Ecosystem {
    addresses: Addresses,
    running: careplan_ecosystem::Ecosystem,
    genesis: Genesis,
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> ServeError + '_ {
    move |source| ServeError::File {
        path: path.to_owned(),
        source,
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ServeError> {
    std::fs::write(path, bytes).map_err(file_error(path))
}

/// The admin endpoint's token: the file `admin-token` of the data directory, made with 32 random bytes
/// (hex) when the ecosystem first starts and kept across restarts, so that scripts read it once.
fn admin_token(data_dir: &Path) -> Result<String, ServeError> {
    let path = data_dir.join(ADMIN_TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(token) if token.trim().len() >= 32 => {
            restrict(&path, 0o600)?;
            return Ok(token.trim().to_owned());
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(file_error(&path)(e)),
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ServeError::Genesis(format!("no randomness for the admin token: {e}")))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_secret(&path, format!("{token}\n").as_bytes())?;
    Ok(token)
}

/// Writes a file only its owner may read (passwords, private keys).
fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), ServeError> {
    write(path, bytes)?;
    restrict(path, 0o600)
}

/// Creates a folder (and its parents) only its owner may enter.
fn create_private_dir(path: &Path) -> Result<(), ServeError> {
    std::fs::create_dir_all(path).map_err(file_error(path))?;
    restrict(path, 0o700)
}

/// Sets `path`'s permission bits (on Unix; elsewhere the platform's defaults stay).
fn restrict(path: &Path, mode: u32) -> Result<(), ServeError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(file_error(path))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

impl Ecosystem {
    /// Opens (or creates) the ecosystem `options` describe and starts every party.
    pub async fn start(options: &ServeOptions) -> Result<Self, ServeError> {
        // Opening the database and replaying the journal block (the PostgreSQL client runs its own
        // runtime), so they run on the blocking pool.
        let prepare = options.clone();
        let (prepared, genesis) = tokio::task::spawn_blocking(move || prepare_state(&prepare))
            .await
            .map_err(|e| ServeError::Genesis(format!("the start-up task failed: {e}")))??;
        let running = prepared.start().await?;
        let endpoints = running.endpoints();
        let addresses = Addresses {
            relay: endpoints.relay,
            portal: endpoints.portal,
            usage_site: endpoints.usage_site,
            admin: running
                .admin_addr()
                .ok_or_else(|| ServeError::Genesis("the admin endpoint did not start".to_owned()))?,
        };
        let json = serde_json::to_vec_pretty(&addresses).unwrap_or_default();
        // Written whole, then renamed: a tool waiting for the file never reads half of it.
        let (partial, file) = (
            options.data_dir.join("endpoints.json.partial"),
            options.data_dir.join("endpoints.json"),
        );
        write(&partial, &json)?;
        std::fs::rename(&partial, &file).map_err(file_error(&file))?;
        Ok(Self {
            addresses,
            running,
            genesis,
        })
    }

    /// Where each party listens.
    pub fn addresses(&self) -> Addresses {
        self.addresses
    }

    /// What the ecosystem was born with.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// Whether the clock is simulated.
    pub fn simulated(&self) -> bool {
        matches!(self.running.clock(), EcosystemClock::Simulated(_))
    }

    /// Stops every server; requests under way are answered first.
    pub async fn shutdown(self) {
        self.running.shutdown().await;
    }
}

/// Opens the database, records or reads the genesis, sets up the starting state and replays the journal,
/// and writes the files for clients.
fn prepare_state(options: &ServeOptions) -> Result<(Prepared, Genesis), ServeError> {
    // The data directory holds the roster's passwords, the offices' keys and the journal: its owner's only.
    create_private_dir(&options.data_dir)?;
    let (store, mut journal): (Box<dyn Store>, Box<dyn Journal>) = match &options.database {
        Database::Sqlite => {
            let path = options.data_dir.join(SQLITE_FILE);
            let opened: (Box<dyn Store>, Box<dyn Journal>) = (
                Box::new(SqliteStore::open(&path)?),
                Box::new(SqliteJournal::open(&path)?),
            );
            restrict(&path, 0o600)?;
            opened
        }
        Database::Postgres { url, schema } => (
            Box::new(PostgresStore::connect_in_schema(url, schema.as_deref())?),
            Box::new(PostgresJournal::connect(url, schema.as_deref())?),
        ),
    };
    let system = SystemClock;
    let born = match options.time {
        TimeSource::Simulated { start: Some(start) } => start,
        _ => system.now(),
    };
    // Without --seed a new ecosystem's passwords, codes and sessions come from a random seed, and its CA
    // and offices' keys from a random secret: no one can work them out from a published default, or sign
    // with the committed test keys. With --seed it is reproducible, and predictable, for tests. An
    // existing ecosystem keeps what it was born with.
    let offices = options.offices.unwrap_or(DEFAULT_OFFICES);
    let proposal = match options.seed {
        Some(seed) => Genesis::new(seed, born, offices),
        None => {
            let mut seed = [0u8; 8];
            let mut secret = [0u8; 32];
            getrandom::fill(&mut seed)
                .and_then(|()| getrandom::fill(&mut secret))
                .map_err(|e| ServeError::Genesis(format!("no randomness for the seed: {e}")))?;
            Genesis::new(u64::from_le_bytes(seed), born, offices)
                .with_key_secret(KeySecret::from_bytes(secret))
        }
    };
    let Born {
        genesis,
        seq: genesis_seq,
        last_at,
    } = genesis(journal.as_mut(), &proposal)?;
    check(&genesis, options)?;
    let clock = match options.time {
        TimeSource::System => EcosystemClock::System(Arc::new(system)),
        TimeSource::Simulated { .. } => EcosystemClock::Simulated(Arc::new(SimulatedClock::new(last_at))),
    };
    let prepared = genesis
        .builder()
        .clock(clock.clone())
        .relay_config(options.relay)
        .store(store)
        .journal(journal, genesis_seq)
        .listen(Listen {
            relay: options.listen,
            admin: options.admin_listen,
        })
        .with_admin(&admin_token(&options.data_dir)?)
        // Replay leaves the clock at its last setting; requests recorded after it moved on from there.
        .resume_clock_at(last_at)
        .prepare()?;
    let root = prepared.root().clone();
    prepared
        .parties()
        .with(|state| write_roster(&options.data_dir, &genesis, prepared.offices(), state.portal.ca()))?;
    let ca_path = options.data_dir.join("ca.pem");
    write(
        &ca_path,
        pem::encode(&pem::Pem::new("CERTIFICATE", root.to_vec())).as_bytes(),
    )?;
    Ok((prepared, genesis))
}

/// An ecosystem's genesis as the journal holds it.
struct Born {
    genesis: Genesis,
    /// Its entry in the journal: replay starts after it.
    seq: u64,
    /// When the last recorded entry happened: where a simulated clock resumes.
    last_at: OffsetDateTime,
}

/// The ecosystem's genesis: the one recorded, or `proposal`, recorded now if the journal is empty.
fn genesis(journal: &mut dyn Journal, proposal: &Genesis) -> Result<Born, ServeError> {
    let text = serde_json::to_string(proposal).map_err(|e| ServeError::Genesis(e.to_string()))?;
    // One read of the journal: the entries seen under the writer lock are kept for what follows.
    let mut seen = Vec::new();
    let recorded = journal.record_after(0, &mut |entries| {
        seen = entries;
        (!seen.iter().any(|e| e.party == GENESIS_PARTY)).then(|| NewEntry {
            at: proposal.start,
            party: GENESIS_PARTY.to_owned(),
            request: text.clone(),
        })
    })?;
    if let Some(seq) = recorded {
        return Ok(Born {
            genesis: proposal.clone(),
            seq,
            last_at: proposal.start,
        });
    }
    let entry = seen
        .iter()
        .find(|e| e.party == GENESIS_PARTY)
        .ok_or_else(|| ServeError::Genesis("the journal lost its genesis".to_owned()))?;
    Ok(Born {
        genesis: serde_json::from_str(&entry.request)
            .map_err(|e| ServeError::Genesis(format!("the recorded genesis cannot be read: {e}")))?,
        seq: entry.seq,
        last_at: seen.last().map_or(proposal.start, |e| e.at),
    })
}

/// Refuses options that contradict the ecosystem the database holds.
fn check(genesis: &Genesis, options: &ServeOptions) -> Result<(), ServeError> {
    if let Some(seed) = options.seed.filter(|s| *s != genesis.seed) {
        return Err(ServeError::Mismatch {
            what: "seed",
            held: genesis.seed.to_string(),
            asked: seed.to_string(),
        });
    }
    let held = genesis.offices.len();
    if let Some(offices) = options.offices.filter(|n| usize::from(*n) != held) {
        return Err(ServeError::Mismatch {
            what: "offices",
            held: held.to_string(),
            asked: offices.to_string(),
        });
    }
    Ok(())
}

/// Writes `offices.json` and each office's PKCS#12 file under `offices/`.
fn write_roster(
    data_dir: &Path,
    genesis: &Genesis,
    known: &[ProvisionedOffice],
    ca: &CertificateAuthority,
) -> Result<(), ServeError> {
    let folder = data_dir.join("offices");
    create_private_dir(&folder)?;
    let mut entries = Vec::with_capacity(known.len());
    for (office, known) in genesis.offices.iter().zip(known) {
        let certificate = format!("offices/{}.p12", office.number);
        if let (Some(issued), Some(password)) = (&known.certificate, &known.issuance_password) {
            let bytes = ca
                .export_pkcs12(issued, password)
                .map_err(|e| ServeError::Genesis(e.to_string()))?;
            write_secret(&data_dir.join(&certificate), &bytes)?;
        }
        entries.push(RosterEntry {
            office,
            user_id: known.user_id.as_deref(),
            password: known.password.as_deref(),
            personal_user_id: known.personal_user_id.as_deref(),
            personal_password: known.personal_password.as_deref(),
            certificate,
            certificate_password: known.issuance_password.as_deref(),
        });
    }
    let json = serde_json::to_vec_pretty(&entries).map_err(|e| ServeError::Genesis(e.to_string()))?;
    write_secret(&data_dir.join("offices.json"), &json)
}
