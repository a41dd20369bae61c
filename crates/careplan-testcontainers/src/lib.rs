//! A testcontainers module for careplan-sim: the whole ecosystem (`careplan-sim serve` — the e-billing
//! portal with its CA, the usage-application site, the relay and the admin endpoint) in a container, in
//! one line, the way a test starts PostgreSQL:
//!
//! ```no_run
//! let ecosystem = careplan_testcontainers::CareplanSim::from_binary("target/release/careplan-sim")
//!     .start()
//!     .expect("the ecosystem starts");
//! let relay = ecosystem.relay(); // a host address, mutual TLS
//! let roster = ecosystem.roster(); // offices.json: logins and PKCS#12 files of the ready offices
//! ```
//!
//! Architecture invariants:
//! - No registry is needed: the image is built locally, `FROM scratch`, from a `careplan-sim` binary and
//!   the shared libraries it links (read with `ldd`), and tagged `careplan-sim:local`.
//! - The container's data directory is a host folder, so the CA certificate, the roster and the PKCS#12
//!   files are plain files for the test; the addresses are the host's ports mapped to the container's.
//! - The container is stopped and removed when the value is dropped (testcontainers' guarantee).
//!
//! It also runs a vendor's product that comes as an image ([`ContainerRunner`], `[container]` in an
//! `adapter.toml`): each call a fresh container of the image, the office's working folder mounted at
//! `/careplan`, bounded by the adapter's time limit.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use careplan_office::{Call, Ran, Runner};
use testcontainers::core::wait::ExitWaitStrategy;
use testcontainers::core::{Host, IntoContainerPort, Mount, WaitFor};
use testcontainers::runners::{SyncBuilder, SyncRunner};
use testcontainers::{Container, GenericBuildableImage, GenericImage, ImageExt};

/// The image's name and tag.
pub const IMAGE: (&str, &str) = ("careplan-sim", "local");

/// The ports `serve` listens on inside the container: relay, portal, usage site, admin.
const PORTS: [u16; 4] = [7000, 7001, 7002, 7003];

/// The data directory inside the container.
const DATA: &str = "/data";

/// What `serve` prints once every party listens.
const READY: &str = "Serving; Ctrl-C stops.";

/// Why the ecosystem could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The binary's libraries could not be listed.
    #[error("cannot list the libraries of {binary}: {message}")]
    Libraries {
        /// The binary.
        binary: PathBuf,
        /// Why.
        message: String,
    },
    /// The data folder could not be made.
    #[error("cannot make the data folder: {0}")]
    DataFolder(std::io::Error),
    /// Docker refused to build or run.
    #[error(transparent)]
    Docker(#[from] testcontainers::TestcontainersError),
}

/// An ecosystem to start: which binary, which seed, how many offices, which clock.
#[derive(Debug, Clone)]
pub struct CareplanSim {
    binary: PathBuf,
    seed: u64,
    offices: u16,
    simulated_start: Option<String>,
    startup_timeout: Duration,
    database: Option<(String, String)>,
    network: Option<String>,
}

impl CareplanSim {
    /// The ecosystem of the `careplan-sim` binary at `binary`: seed 1, four offices (a care manager
    /// and three providers), the system clock.
    pub fn from_binary(binary: impl Into<PathBuf>) -> Self {
        Self {
            binary: binary.into(),
            seed: 1,
            offices: 4,
            simulated_start: None,
            startup_timeout: Duration::from_secs(60),
            database: None,
            network: None,
        }
    }

    /// Keeps the ecosystem in the PostgreSQL database at `url` (as the container reaches it), in `schema`:
    /// several containers on one database and schema are relays of one ecosystem. The host is
    /// `host.docker.internal` inside the container, so a database (or a proxy to it) on the host is
    /// reached as `postgres://…@host.docker.internal:PORT/…`.
    pub fn with_database(mut self, url: impl Into<String>, schema: impl Into<String>) -> Self {
        self.database = Some((url.into(), schema.into()));
        self
    }

    /// Starts the container on the Docker network `name` (created if missing), apart from the default one.
    pub fn on_network(mut self, name: impl Into<String>) -> Self {
        self.network = Some(name.into());
        self
    }

    /// The seed of every password and session.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How many offices the roster holds.
    pub fn with_offices(mut self, offices: u16) -> Self {
        self.offices = offices;
        self
    }

    /// A simulated clock starting at `start` (RFC 3339), moved through the admin endpoint.
    pub fn with_simulated_clock(mut self, start: impl Into<String>) -> Self {
        self.simulated_start = Some(start.into());
        self
    }

    /// Builds the image (if needed) and starts the container; returns when every party listens.
    pub fn start(self) -> Result<RunningEcosystem, StartError> {
        let image = image(&self.binary)?;
        let data = tempfile::Builder::new()
            .prefix("careplan-sim-container-")
            .tempdir()
            .map_err(StartError::DataFolder)?;
        let mut command: Vec<String> = [
            "serve",
            "--data-dir",
            DATA,
            "--listen",
            "0.0.0.0:7000",
            // Reached through the mapped port; the token in the data directory still guards it.
            "--admin-listen",
            "0.0.0.0:7003",
            "--seed",
            &self.seed.to_string(),
            "--offices",
            &self.offices.to_string(),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if let Some(start) = &self.simulated_start {
            command.extend([
                "--clock".to_owned(),
                "simulated".to_owned(),
                "--start".to_owned(),
                start.clone(),
            ]);
        }
        if let Some((url, schema)) = &self.database {
            command.extend([
                "--database-url".to_owned(),
                url.clone(),
                "--database-schema".to_owned(),
                schema.clone(),
            ]);
        }
        let mut image = image.with_wait_for(WaitFor::message_on_stdout(READY));
        for port in PORTS {
            image = image.with_exposed_port(port.tcp());
        }
        let mut request = image.with_host("host.docker.internal", Host::HostGateway);
        if let Some(network) = &self.network {
            request = request.with_network(network);
        }
        let container = request
            .with_mount(Mount::bind_mount(data.path().to_string_lossy(), DATA))
            .with_user(owner_of(data.path()))
            .with_cmd(command)
            .with_startup_timeout(self.startup_timeout)
            .start()?;
        let mapped = |port: u16| -> Result<SocketAddr, StartError> {
            Ok(SocketAddr::from((
                Ipv4Addr::LOCALHOST,
                container.get_host_port_ipv4(port)?,
            )))
        };
        let [relay, portal, usage_site, admin] = [
            mapped(PORTS[0])?,
            mapped(PORTS[1])?,
            mapped(PORTS[2])?,
            mapped(PORTS[3])?,
        ];
        Ok(RunningEcosystem {
            container,
            data,
            relay,
            portal,
            usage_site,
            admin,
        })
    }
}

/// The image of `binary`, built locally from scratch with the libraries it links.
fn image(binary: &Path) -> Result<GenericImage, StartError> {
    build_from_binary(binary, "/careplan-sim", IMAGE, true)
}

/// Builds the image `reference` (name, tag) locally `FROM scratch`: `binary` at `inside` (its
/// entrypoint when `entrypoint`) and the shared libraries it links, at their own paths.
pub fn build_from_binary(
    binary: &Path,
    inside: &str,
    reference: (&str, &str),
    entrypoint: bool,
) -> Result<GenericImage, StartError> {
    let libraries = linked_libraries(binary)?;
    let mut dockerfile = format!("FROM scratch\nCOPY program {inside}\n");
    let mut buildable = GenericBuildableImage::new(reference.0, reference.1).with_file(binary, "program");
    for (index, library) in libraries.iter().enumerate() {
        let staged = format!("lib{index}");
        dockerfile.push_str(&format!("COPY {staged} {}\n", library.display()));
        buildable = buildable.with_file(library, staged);
    }
    if entrypoint {
        dockerfile.push_str(&format!("ENTRYPOINT [\"{inside}\"]\n"));
    }
    Ok(buildable.with_dockerfile_string(dockerfile).build_image()?)
}

/// The shared libraries `binary` loads, as `ldd` lists them (absolute paths only).
fn linked_libraries(binary: &Path) -> Result<Vec<PathBuf>, StartError> {
    let failed = |message: String| StartError::Libraries {
        binary: binary.to_owned(),
        message,
    };
    let output = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|e| failed(e.to_string()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        // A static binary has nothing to copy.
        return if text.contains("not a dynamic executable")
            || String::from_utf8_lossy(&output.stderr).contains("not a dynamic executable")
        {
            Ok(Vec::new())
        } else {
            Err(failed(String::from_utf8_lossy(&output.stderr).into_owned()))
        };
    }
    Ok(text
        .lines()
        .filter_map(|line| {
            // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)` or `/lib64/ld-linux-x86-64.so.2 (0x…)`.
            let path = line.split("=>").last()?.trim().split(' ').next()?;
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect())
}

/// A running ecosystem in its container.
pub struct RunningEcosystem {
    container: Container<GenericImage>,
    data: tempfile::TempDir,
    relay: SocketAddr,
    portal: SocketAddr,
    usage_site: SocketAddr,
    admin: SocketAddr,
}

impl std::fmt::Debug for RunningEcosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEcosystem")
            .field("container", &self.container.id())
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

impl RunningEcosystem {
    /// The relay (mutual TLS; server name `relay.careplan.test` or `localhost`).
    pub fn relay(&self) -> SocketAddr {
        self.relay
    }

    /// The e-billing portal (`portal.careplan.test`).
    pub fn portal(&self) -> SocketAddr {
        self.portal
    }

    /// The usage-application site (`usage.careplan.test`).
    pub fn usage_site(&self) -> SocketAddr {
        self.usage_site
    }

    /// The admin endpoint of the clock.
    pub fn admin(&self) -> SocketAddr {
        self.admin
    }

    /// The admin endpoint's token (`Authorization: Bearer <token>`; `AdminClient::with_token`).
    pub fn admin_token(&self) -> std::io::Result<String> {
        std::fs::read_to_string(self.data.path().join("admin-token")).map(|t| t.trim().to_owned())
    }

    /// The data directory on the host: `ca.pem`, `offices.json`, `offices/*.p12`, `admin-token`.
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// The CA certificate (PEM) that every server certificate chains to.
    pub fn ca_pem(&self) -> std::io::Result<String> {
        std::fs::read_to_string(self.data.path().join("ca.pem"))
    }

    /// The roster (`offices.json`): each ready office's number, kind, logins and PKCS#12 file (relative to
    /// [`data_dir`](Self::data_dir)) with its password.
    pub fn roster(&self) -> std::io::Result<serde_json::Value> {
        let bytes = std::fs::read(self.data.path().join("offices.json"))?;
        serde_json::from_slice(&bytes).map_err(std::io::Error::other)
    }

    /// The container's id.
    pub fn id(&self) -> &str {
        self.container.id()
    }

    /// Stops the container (SIGTERM, then SIGKILL after `grace`); it is removed when the value is dropped.
    pub fn stop(&self, grace: Duration) -> Result<(), StartError> {
        let seconds = i32::try_from(grace.as_secs()).unwrap_or(i32::MAX);
        Ok(self.container.stop_with_timeout(Some(seconds))?)
    }
}

/// `uid:gid` of a folder's owner: the user a container writes into it as, so that what it leaves there
/// belongs to the user whose temporary folder it is (and goes with it).
fn owner_of(folder: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = std::fs::metadata(folder) {
            return format!("{}:{}", meta.uid(), meta.gid());
        }
    }
    "0:0".to_owned()
}

/// Where a product running in a container sees the office's working folder.
pub const WORK_IN_CONTAINER: &str = "/careplan";

/// Runs a product's command lines in containers of its image: each call a fresh container with the
/// office's working folder mounted at [`WORK_IN_CONTAINER`], removed when the call ends. The image must
/// be on this machine (built or loaded): nothing is pulled.
#[derive(Debug, Clone)]
pub struct ContainerRunner {
    name: String,
    tag: String,
}

impl ContainerRunner {
    /// Calls run in containers of `image` (`name:tag`, `latest` when no tag is given).
    pub fn new(image: &str) -> Self {
        let (name, tag) = match image.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, tag),
            _ => (image, "latest"),
        };
        Self {
            name: name.to_owned(),
            tag: tag.to_owned(),
        }
    }
}

/// Calls started in containers by this process, to name each container uniquely.
static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Runner for ContainerRunner {
    fn work_path(&self, _work: &Path) -> PathBuf {
        PathBuf::from(WORK_IN_CONTAINER)
    }

    fn run(&self, call: &Call<'_>) -> Result<Ran, String> {
        // testcontainers would pull a missing image: the product's image must be on this machine.
        let present = Command::new("docker")
            .args(["image", "inspect", &format!("{}:{}", self.name, self.tag)])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("cannot run docker: {e}"))?;
        if !present.success() {
            return Err(format!(
                "the image {}:{} is not on this machine: build or load it (nothing is pulled)",
                self.name, self.tag
            ));
        }
        let image = GenericImage::new(self.name.clone(), self.tag.clone())
            .with_wait_for(WaitFor::exit(ExitWaitStrategy::new()));
        // Named, so that an interrupted bench can remove it (`careplan_office::stop_running_calls`).
        let name = format!(
            "careplan-call-{}-{}",
            std::process::id(),
            CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let _running = careplan_office::RunningCall::container(name.clone());
        let request = image
            .with_container_name(name)
            .with_mount(Mount::bind_mount(call.work.to_string_lossy(), WORK_IN_CONTAINER))
            .with_working_dir(WORK_IN_CONTAINER)
            .with_user(owner_of(call.work))
            .with_env_var("CAREPLAN_ADAPTER_CONTRACT", careplan_office::CONTRACT.to_string())
            .with_cmd(call.argv.to_vec())
            .with_startup_timeout(call.timeout);
        // testcontainers' blocking runner keeps its own runtime: a thread of its own keeps it out of any
        // runtime the caller runs in.
        std::thread::spawn(move || match request.start() {
            Ok(container) => {
                let text = |bytes: testcontainers::core::error::Result<Vec<u8>>| {
                    bytes
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default()
                };
                let status = container
                    .exit_code()
                    .map_err(|e| e.to_string())?
                    .and_then(|code| i32::try_from(code).ok());
                Ok(Ran {
                    status,
                    timed_out: false,
                    stdout: text(container.stdout_to_vec()),
                    stderr: text(container.stderr_to_vec()),
                })
            }
            Err(e) if e.to_string().contains("startup timeout") => Ok(Ran {
                timed_out: true,
                ..Ran::default()
            }),
            Err(e) => Err(format!("cannot run the product's container: {e}")),
        })
        .join()
        .map_err(|_| "the container call panicked".to_owned())?
    }
}
