//! A vendor's care software behind its adapter (contract 1, `docs/adapter.md`): the bench drives the
//! product through the command lines an `adapter.toml` declares, and exchanges files with it through
//! folders — an outbox it exports into, an inbox it imports from.
//!
//! Each office running an adapter gets its own working folder (state, outbox, inbox, report), removed
//! when the office goes. Every call runs with a time limit, in the adapter file's folder; its exit
//! status and what it printed are recorded as an event.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use careplan_core::{CareMonth, ErrorCode, EventKind, EventLog, Party};
use careplan_relay::Upload;
use careplan_spec::records::UserKey;
use serde::Deserialize;
use time::OffsetDateTime;
use toml::Spanned;
use wait_timeout::ChildExt;

use crate::case::{Case, PreparedMonth};
use crate::software::{
    CareSoftware, DEFAULT_USERS, Export, Holdings, ImportReport, OfficeProfile, OfficeRole, SendUnit,
    SoftwareError, Withdrawn,
};

/// The contract version this bench speaks.
pub const CONTRACT: u32 = 1;

/// How long a call may take unless the adapter says otherwise.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The most of a call's output kept in its event, per stream.
const OUTPUT_KEPT: usize = 4096;

/// An operation the bench asks of the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Load a case (offices, users, planned services) into the product's test database.
    Prepare,
    /// Write a month's plan files for a provider into the outbox.
    ExportPlan,
    /// Write a month's actuals for a care manager into the outbox.
    ExportActuals,
    /// Write a deletion file (DLTPLAN, DLT1KYO or DLTJSK, as `{deletion}` says) into the outbox.
    ExportDeletion,
    /// Write the care plans (tables 1–3 and their supplement) for a provider into the outbox.
    ExportPlanTables,
    /// Write the 介護予防 files (basic information and prevention plan) for a provider into the outbox.
    ExportPrevention,
    /// Import the files in the inbox.
    Import,
    /// Write what the product now holds.
    Dump,
}

/// Every placeholder, and the operations that give it (`*`: all; `exports`: every export).
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("office", "*"),
    ("kind", "*"),
    ("role", "*"),
    ("name", "*"),
    ("seed", "*"),
    ("state", "*"),
    ("bin_dir", "*"),
    ("now", "*"),
    ("month", "exports prepare"),
    ("to", "exports"),
    ("to_kind", "exports"),
    ("to_name", "exports"),
    ("users", "export_plan export_plan_tables export_prevention"),
    ("outbox", "exports"),
    ("deletion", "export_deletion"),
    ("inbox", "import"),
    ("order", "import"),
    ("report", "import"),
    ("case", "prepare"),
    ("dump", "dump"),
];

/// ` (did you mean …?)` with the known name closest to `name` (at most two edits away), written by
/// `shown`; nothing when none is close.
fn did_you_mean<'a>(
    name: &str,
    known: impl Iterator<Item = &'a str>,
    shown: impl Fn(&str) -> String,
) -> String {
    known
        .map(|known| (strsim::levenshtein(name, known), known))
        .filter(|(score, _)| *score <= 2)
        .min_by_key(|(score, _)| *score)
        .map_or_else(String::new, |(_, known)| {
            format!(" (did you mean {}?)", shown(known))
        })
}

/// The names in braces of `arg` that look like placeholders (lower case and `_`); other braces (a shell's
/// `${HOME}`, awk's `{print $1}`) are passed on as they are.
fn placeholder_names(arg: &str) -> impl Iterator<Item = &str> {
    arg.split('{').skip(1).filter_map(|rest| {
        let name = &rest[..rest.find('}')?];
        (!name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')).then_some(name)
    })
}

impl Operation {
    /// Every operation, in the order `adapter.toml` documents them.
    pub const ALL: [Operation; 8] = OPERATIONS;

    /// The placeholders a call of this operation fills.
    fn placeholders(self) -> Vec<&'static str> {
        PLACEHOLDERS
            .iter()
            .filter(|(_, given)| {
                *given == "*"
                    || given
                        .split(' ')
                        .any(|op| op == self.as_str() || (op == "exports" && self.is_export()))
            })
            .map(|(name, _)| *name)
            .collect()
    }

    /// Whether it writes a send unit into the outbox.
    fn is_export(self) -> bool {
        matches!(
            self,
            Operation::ExportPlan
                | Operation::ExportActuals
                | Operation::ExportDeletion
                | Operation::ExportPlanTables
                | Operation::ExportPrevention
        )
    }

    /// The operation of this name in `adapter.toml`.
    pub fn from_name(name: &str) -> Option<Self> {
        OPERATIONS.iter().copied().find(|o| o.as_str() == name)
    }

    /// Its name in `adapter.toml` and in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Prepare => "prepare",
            Operation::ExportPlan => "export_plan",
            Operation::ExportActuals => "export_actuals",
            Operation::ExportDeletion => "export_deletion",
            Operation::ExportPlanTables => "export_plan_tables",
            Operation::ExportPrevention => "export_prevention",
            Operation::Import => "import",
            Operation::Dump => "dump",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdapterFile {
    adapter: Header,
    #[serde(default)]
    operations: BTreeMap<String, CommandLine>,
    #[serde(default)]
    container: Option<ContainerSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContainerSpec {
    image: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    name: String,
    contract: Spanned<u32>,
    #[serde(default)]
    timeout_seconds: Option<Spanned<u64>>,
}

/// A command line, with where it is written (for messages that name the line).
type CommandLine = Spanned<Vec<String>>;

/// An `adapter.toml` that cannot be used, with the file and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct AdapterFileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

/// A product's adapter: its name, time limit and the command line of each operation it supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adapter {
    path: PathBuf,
    name: String,
    timeout: Duration,
    commands: [Option<Vec<String>>; 8],
    image: Option<String>,
}

const OPERATIONS: [Operation; 8] = [
    Operation::Prepare,
    Operation::ExportPlan,
    Operation::ExportActuals,
    Operation::ExportDeletion,
    Operation::ExportPlanTables,
    Operation::ExportPrevention,
    Operation::Import,
    Operation::Dump,
];

impl Adapter {
    /// Reads and checks an `adapter.toml`; a refusal names the line.
    pub fn load(path: &Path) -> Result<Self, AdapterFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| AdapterFileError {
            path: path.to_owned(),
            message: format!("cannot read the file: {e}"),
        })?;
        let line_of = |span: Option<std::ops::Range<usize>>| {
            span.map_or(1, |span| {
                1 + text[..span.start.min(text.len())].matches('\n').count()
            })
        };
        let error = |span: Option<std::ops::Range<usize>>, message: String| AdapterFileError {
            path: path.to_owned(),
            message: format!("line {}: {message}", line_of(span)),
        };
        let file: AdapterFile =
            toml::from_str(&text).map_err(|e| error(e.span(), e.message().trim().to_owned()))?;
        if *file.adapter.contract.get_ref() != CONTRACT {
            return Err(error(
                Some(file.adapter.contract.span()),
                format!(
                    "contract {} is not one this bench speaks; it speaks contract {CONTRACT}",
                    file.adapter.contract.get_ref()
                ),
            ));
        }
        // Operations by name, in the order of [`Operation::ALL`]; a name that is none of them is refused.
        let mut operations = file.operations;
        let declared = OPERATIONS.map(|operation| operations.remove(operation.as_str()));
        if let Some((name, command)) = operations.iter().next() {
            let names = OPERATIONS.map(Operation::as_str);
            let close = did_you_mean(name, names.iter().copied(), |known| format!("`{known}`"));
            return Err(error(
                Some(command.span()),
                format!(
                    "[operations] unknown field `{name}`, expected one of {}{close}",
                    names.join(", ")
                ),
            ));
        }
        for (operation, command) in OPERATIONS.iter().zip(&declared) {
            let Some(command) = command else { continue };
            let at = Some(command.span());
            let Some(program) = command.get_ref().first() else {
                return Err(error(
                    at,
                    format!(
                        "[operations] {} is an empty command; leave it out if the product has no such operation",
                        operation.as_str()
                    ),
                ));
            };
            if program.trim().is_empty() {
                return Err(error(
                    at,
                    format!("[operations] {} has an empty program", operation.as_str()),
                ));
            }
            let given = operation.placeholders();
            for name in command.get_ref().iter().flat_map(|arg| placeholder_names(arg)) {
                if !given.contains(&name) {
                    let known = PLACEHOLDERS.iter().any(|(known, _)| *known == name);
                    return Err(error(
                        at,
                        if known {
                            format!(
                                "[operations] {} uses `{{{name}}}`, which that operation does not give",
                                operation.as_str()
                            )
                        } else {
                            let close =
                                did_you_mean(name, PLACEHOLDERS.iter().map(|(known, _)| *known), |known| {
                                    format!("`{{{known}}}`")
                                });
                            format!(
                                "[operations] {} uses an unknown placeholder `{{{name}}}`{close}; see docs/adapter.md",
                                operation.as_str()
                            )
                        },
                    ));
                }
            }
        }
        if declared.iter().all(Option::is_none) {
            return Err(error(None, "[operations] declares no operation".to_owned()));
        }
        let timeout = match &file.adapter.timeout_seconds {
            Some(seconds) if *seconds.get_ref() == 0 => {
                return Err(error(
                    Some(seconds.span()),
                    "timeout_seconds must be at least 1".to_owned(),
                ));
            }
            Some(seconds) => Duration::from_secs(*seconds.get_ref()),
            None => DEFAULT_TIMEOUT,
        };
        if let Some(image) = file.container.as_ref().map(|c| &c.image)
            && (image.get_ref().is_empty() || image.get_ref().contains(char::is_whitespace))
        {
            return Err(error(
                Some(image.span()),
                format!(
                    "[container] image `{}` is not an image reference",
                    image.get_ref()
                ),
            ));
        }
        Ok(Self {
            // Absolute, so that commands run in its folder and relative programs resolve from it once.
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
            name: file.adapter.name,
            timeout,
            commands: declared.map(|command| command.map(Spanned::into_inner)),
            image: file.container.map(|c| c.image.into_inner()),
        })
    }

    /// The product's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The image the product runs in (`[container] image`), if it runs in a container.
    pub fn image(&self) -> Option<&str> {
        self.image.as_deref()
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The command line of `operation`, if the product supports it.
    pub fn command(&self, operation: Operation) -> Option<&[String]> {
        let index = OPERATIONS.iter().position(|o| *o == operation)?;
        self.commands[index].as_deref()
    }

    /// The folder commands run in: the adapter file's.
    fn folder(&self) -> &Path {
        self.path.parent().unwrap_or_else(|| Path::new("."))
    }
}

/// The folder holding careplan-sim's own programs, for the adapters shipped with it (`{bin_dir}`):
/// `CAREPLAN_BIN_DIR` if set, else the running program's folder (the build folder when the running
/// program is a test, which cargo places one level below it).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CAREPLAN_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// What the product's import reports (`{report}`), contract 1.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportReportFile {
    files: usize,
    records: usize,
    users: Vec<ReportedUser>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportedUser {
    insurer: String,
    insured: String,
}

/// One call of a product's command line.
#[derive(Debug)]
pub struct Call<'a> {
    /// The program and its arguments, placeholders filled in.
    pub argv: &'a [String],
    /// The adapter file's folder, where the call runs.
    pub folder: &'a Path,
    /// The office's working folder (state, outbox, inbox, report, order), which the call must see at the
    /// path its [`Runner::work_path`] gave the placeholders.
    pub work: &'a Path,
    /// Its time limit.
    pub timeout: Duration,
}

/// How a call ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ran {
    /// Its exit status, if it exited.
    pub status: Option<i32>,
    /// Whether it was stopped at its time limit.
    pub timed_out: bool,
    /// What it printed.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

/// Where a product's command lines run: on this machine, or in a container of the product's image.
pub trait Runner: fmt::Debug + Send + Sync {
    /// Where the call sees the office's working folder `work`.
    fn work_path(&self, work: &Path) -> PathBuf;

    /// Runs the call to its end or its time limit; an error when it could not be started at all.
    fn run(&self, call: &Call<'_>) -> Result<Ran, String>;
}

/// Runs command lines as processes of this machine, in the adapter file's folder.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostRunner;

impl Runner for HostRunner {
    fn work_path(&self, work: &Path) -> PathBuf {
        work.to_owned()
    }

    fn run(&self, call: &Call<'_>) -> Result<Ran, String> {
        let Some((program, args)) = call.argv.split_first() else {
            return Err("an empty command line".to_owned());
        };
        // A relative program with a folder in it is the adapter's own; a bare name is looked up in PATH.
        let program = if program.contains('/') && Path::new(program).is_relative() {
            call.folder.join(program)
        } else {
            PathBuf::from(program)
        };
        let mut command = Command::new(&program);
        // Its own process group, so that a call stopped at its time limit takes its children with it.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .args(args)
            .current_dir(call.folder)
            .env("CAREPLAN_ADAPTER_CONTRACT", CONTRACT.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let _running = RunningCall::register(Running::ProcessGroup(child.id()));
        // Drained on their own threads, so a chatty product never blocks on a full pipe.
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        let status = match child.wait_timeout(call.timeout) {
            Ok(Some(status)) => Some(status),
            Ok(None) => {
                stop_group(&mut child);
                None
            }
            Err(e) => {
                let _ = child.kill();
                return Err(format!("waiting for the product: {e}"));
            }
        };
        // A process the call left behind may still hold its output open: it gets a moment, then its
        // group is stopped.
        let grace = Duration::from_secs(1);
        let mut lingered = false;
        let mut collect = |reader: Option<mpsc::Receiver<Vec<u8>>>| {
            let Some(reader) = reader else {
                return String::new();
            };
            let bytes = reader.recv_timeout(grace).or_else(|_| {
                if !lingered {
                    lingered = true;
                    kill_group(child.id());
                }
                reader.recv_timeout(grace)
            });
            bytes
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default()
        };
        let (stdout, stderr) = (collect(stdout), collect(stderr));
        Ok(Ran {
            status: status.and_then(|s| s.code()),
            timed_out: status.is_none(),
            stdout,
            stderr,
        })
    }
}

/// The care software of an office whose product runs behind an [`Adapter`].
pub struct AdapterSoftware {
    adapter: Arc<Adapter>,
    runner: Arc<dyn Runner>,
    profile: OfficeProfile,
    seed: u64,
    work: tempfile::TempDir,
    events: EventLog,
    /// Users of the cases prepared, by month: what `{users}` says when a step does not.
    prepared: BTreeMap<CareMonth, usize>,
}

impl fmt::Debug for AdapterSoftware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdapterSoftware")
            .field("adapter", &self.adapter.name)
            .field("office", &self.profile.number)
            .finish_non_exhaustive()
    }
}

/// The values a command line's placeholders take in one call.
#[derive(Default)]
struct Values {
    month: Option<CareMonth>,
    now: Option<OffsetDateTime>,
    to: Option<OfficeProfile>,
    users: Option<usize>,
    deletion: Option<Withdrawn>,
}

impl AdapterSoftware {
    /// The product of `adapter` in the office `profile`, with a fresh working folder; `seed` is passed
    /// on (`{seed}`) for products that generate test data; `events` records every call.
    pub fn new(
        adapter: Arc<Adapter>,
        profile: OfficeProfile,
        seed: u64,
        events: EventLog,
    ) -> Result<Self, SoftwareError> {
        let work = tempfile::Builder::new()
            .prefix(&format!("careplan-adapter-{}-", profile.number))
            .tempdir()
            .map_err(|e| {
                adapter_error(
                    ErrorCode::AdapterFailed,
                    format!("cannot make a working folder: {e}"),
                )
            })?;
        for folder in ["state", "outbox", "inbox"] {
            std::fs::create_dir_all(work.path().join(folder)).map_err(|e| {
                adapter_error(
                    ErrorCode::AdapterFailed,
                    format!("cannot make the {folder} folder: {e}"),
                )
            })?;
        }
        Ok(Self {
            adapter,
            runner: Arc::new(HostRunner),
            profile,
            seed,
            work,
            events,
            prepared: BTreeMap::new(),
        })
    }

    /// The same product, its calls run by `runner` (a container of the product's image).
    pub fn with_runner(mut self, runner: Arc<dyn Runner>) -> Self {
        self.runner = runner;
        self
    }

    fn folder(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// Where the product's calls see the working folder's entry `name`.
    fn seen(&self, name: &str) -> PathBuf {
        self.runner.work_path(self.work.path()).join(name)
    }

    /// Empties a folder of the working folder, so a call sees only what this step gives it.
    fn empty(&self, name: &str) -> Result<PathBuf, SoftwareError> {
        let folder = self.folder(name);
        let failed =
            |e: std::io::Error| adapter_error(ErrorCode::AdapterFailed, format!("{}: {e}", folder.display()));
        std::fs::remove_dir_all(&folder).or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(()),
            _ => Err(failed(e)),
        })?;
        std::fs::create_dir_all(&folder).map_err(failed)?;
        Ok(folder)
    }

    /// The command line of `operation` with its placeholders filled in.
    fn command_line(&self, operation: Operation, values: &Values) -> Result<Vec<String>, SoftwareError> {
        let command = self.adapter.command(operation).ok_or_else(|| {
            adapter_error(
                ErrorCode::AdapterUnsupported,
                format!(
                    "{} declares no {} operation",
                    self.adapter.name,
                    operation.as_str()
                ),
            )
        })?;
        let path = |p: PathBuf| p.to_string_lossy().into_owned();
        let role = match self.profile.role {
            OfficeRole::CareManagement => "care_management",
            OfficeRole::Service => "service",
        };
        let now = values.now.map(|now| {
            let jst = now.to_offset(careplan_core::JST);
            format!(
                "{:04}{:02}{:02}{:02}{:02}{:02}",
                jst.year(),
                u8::from(jst.month()),
                jst.day(),
                jst.hour(),
                jst.minute(),
                jst.second()
            )
        });
        let value = |name: &str| -> Option<String> {
            Some(match name {
                "state" => path(self.seen("state")),
                "outbox" => path(self.seen("outbox")),
                "inbox" => path(self.seen("inbox")),
                "report" => path(self.seen("report.json")),
                "order" => path(self.seen("order.txt")),
                "case" => path(self.seen("case.json")),
                "dump" => path(self.seen("dump.json")),
                "office" => self.profile.number.to_string(),
                "kind" => self.profile.kind.to_string(),
                "role" => role.to_owned(),
                "name" => self.profile.name.clone(),
                "seed" => self.seed.to_string(),
                "bin_dir" => path(bin_dir()),
                "month" => values.month?.to_string(),
                "now" => now.clone()?,
                "to" => values.to.as_ref()?.number.to_string(),
                "to_kind" => values.to.as_ref()?.kind.to_string(),
                "to_name" => values.to.as_ref()?.name.clone(),
                "users" => values.users?.to_string(),
                "deletion" => values.deletion?.file_kind().prefix().to_owned(),
                _ => return None,
            })
        };
        command
            .iter()
            .map(|arg| fill(arg, &value))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|name| {
                adapter_error(
                    ErrorCode::AdapterUnsupported,
                    format!(
                        "{}: the {} command uses `{{{name}}}`, which this operation does not give",
                        self.adapter.path.display(),
                        operation.as_str()
                    ),
                )
            })
    }

    /// Runs `operation` to its end or its time limit, and records the call.
    fn call(&self, operation: Operation, values: &Values) -> Result<(), SoftwareError> {
        let argv = self.command_line(operation, values)?;
        if argv.is_empty() {
            return Err(adapter_error(
                ErrorCode::AdapterUnsupported,
                "an empty command line".to_owned(),
            ));
        }
        let ran = self
            .runner
            .run(&Call {
                argv: &argv,
                folder: self.adapter.folder(),
                work: self.work.path(),
                timeout: self.adapter.timeout,
            })
            .map_err(|message| {
                adapter_error(
                    ErrorCode::AdapterFailed,
                    format!("{} {}: {message}", self.adapter.name, operation.as_str()),
                )
            })?;
        if let Some(now) = values.now {
            self.events.record(
                now,
                Party::Office,
                EventKind::AdapterCalled {
                    office: self.profile.number,
                    operation: operation.as_str(),
                    status: ran.status,
                    timed_out: ran.timed_out,
                    stdout: kept(&ran.stdout),
                    stderr: kept(&ran.stderr),
                },
            );
        }
        match (ran.timed_out, ran.status) {
            (true, _) => Err(adapter_error(
                ErrorCode::AdapterTimeout,
                format!(
                    "{} {} did not finish within {} s{}",
                    self.adapter.name,
                    operation.as_str(),
                    self.adapter.timeout.as_secs(),
                    tail(&ran.stderr)
                ),
            )),
            (false, Some(0)) => Ok(()),
            (false, status) => Err(adapter_error(
                ErrorCode::AdapterFailed,
                format!(
                    "{} {} exited with {}{}",
                    self.adapter.name,
                    operation.as_str(),
                    status.map_or_else(|| "a signal".to_owned(), |c| format!("status {c}")),
                    tail(&ran.stderr)
                ),
            )),
        }
    }

    /// Runs an export and takes what it wrote into the outbox as one send unit for `to`.
    fn run_export(&mut self, operation: Operation, values: Values) -> Result<SendUnit, SoftwareError> {
        self.empty("outbox")?;
        self.call(operation, &values)?;
        let receiver = values.to.as_ref().map(|to| to.number);
        let outbox = self.folder("outbox");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&outbox)
            .map_err(|e| {
                adapter_error(
                    ErrorCode::AdapterOutputInvalid,
                    format!("{}: {e}", outbox.display()),
                )
            })?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.is_file())
            .collect();
        names.sort();
        if names.is_empty() {
            return Err(adapter_error(
                ErrorCode::AdapterOutputInvalid,
                format!(
                    "{} {} wrote no file into the outbox",
                    self.adapter.name,
                    operation.as_str()
                ),
            ));
        }
        let files = names
            .iter()
            .map(|path| {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let content = std::fs::read(path).map_err(|e| {
                    adapter_error(
                        ErrorCode::AdapterOutputInvalid,
                        format!("{}: {e}", path.display()),
                    )
                })?;
                Ok(Upload::new(name, content))
            })
            .collect::<Result<Vec<_>, SoftwareError>>()?;
        Ok(SendUnit {
            receiver: receiver.unwrap_or(self.profile.number),
            files,
        })
    }
}

impl CareSoftware for AdapterSoftware {
    fn profile(&self) -> &OfficeProfile {
        &self.profile
    }

    /// Writes the case as contract 1's neutral JSON to `{case}` and calls `prepare`.
    fn prepare(&mut self, now: OffsetDateTime, case: &PreparedMonth) -> Result<(), SoftwareError> {
        let path = self.folder("case.json");
        let json = serde_json::to_vec_pretty(&Case::of(case))
            .map_err(|e| adapter_error(ErrorCode::AdapterFailed, format!("case.json: {e}")))?;
        std::fs::write(&path, json)
            .map_err(|e| adapter_error(ErrorCode::AdapterFailed, format!("{}: {e}", path.display())))?;
        self.call(
            Operation::Prepare,
            &Values {
                month: Some(case.month),
                now: Some(now),
                ..Values::default()
            },
        )?;
        self.prepared.insert(case.month, case.users.len());
        Ok(())
    }

    fn export(
        &mut self,
        now: OffsetDateTime,
        export: Export,
        to: &OfficeProfile,
    ) -> Result<SendUnit, SoftwareError> {
        let (operation, users) = match export {
            Export::Plan { users, .. } => (Operation::ExportPlan, Some(users)),
            Export::PlanTables { users, .. } => (Operation::ExportPlanTables, Some(users)),
            Export::Prevention { users, .. } => (Operation::ExportPrevention, Some(users)),
            Export::Deletion { .. } => (Operation::ExportDeletion, None),
            Export::Actuals { .. } => (Operation::ExportActuals, None),
        };
        let month = export.month();
        // `{users}`: the step's count, else the prepared case's, else the default.
        let users = users.map(|users| {
            users
                .or_else(|| self.prepared.get(&month).copied())
                .unwrap_or(DEFAULT_USERS)
        });
        self.run_export(
            operation,
            Values {
                month: Some(month),
                now: Some(now),
                to: Some(to.clone()),
                users,
                deletion: match export {
                    Export::Deletion { of, .. } => Some(of),
                    _ => None,
                },
            },
        )
    }

    fn dump(&mut self, now: OffsetDateTime) -> Result<Holdings, SoftwareError> {
        self.read_dump(now)
    }

    fn import(
        &mut self,
        now: OffsetDateTime,
        files: &[(&str, &[u8])],
    ) -> Result<ImportReport, SoftwareError> {
        let inbox = self.empty("inbox")?;
        let report = self.folder("report.json");
        let _ = std::fs::remove_file(&report);
        for (index, (name, content)) in files.iter().enumerate() {
            // The relay's processing order is kept in the names' order when listed: a numbered prefix
            // would change the standard names, so the order is given in `order.txt` instead.
            let path = inbox.join(safe_name(name, index));
            std::fs::write(&path, content)
                .map_err(|e| adapter_error(ErrorCode::AdapterFailed, format!("{}: {e}", path.display())))?;
        }
        let order: String = files
            .iter()
            .enumerate()
            .map(|(i, (name, _))| format!("{}\n", safe_name(name, i)))
            .collect();
        std::fs::write(self.folder("order.txt"), order)
            .map_err(|e| adapter_error(ErrorCode::AdapterFailed, format!("order.txt: {e}")))?;
        self.call(
            Operation::Import,
            &Values {
                now: Some(now),
                ..Values::default()
            },
        )?;
        let text = match std::fs::read_to_string(&report) {
            Ok(text) => text,
            // Without a report the bench knows only how many files it handed over.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ImportReport {
                    files: files.len(),
                    ..ImportReport::default()
                });
            }
            Err(e) => {
                return Err(adapter_error(
                    ErrorCode::AdapterOutputInvalid,
                    format!("{} import: the report cannot be read: {e}", self.adapter.name),
                ));
            }
        };
        let parsed: ImportReportFile = serde_json::from_str(&text).map_err(|e| {
            adapter_error(
                ErrorCode::AdapterOutputInvalid,
                format!(
                    "{} import: the report is not contract {CONTRACT} JSON: {e}",
                    self.adapter.name
                ),
            )
        })?;
        let users = parsed
            .users
            .iter()
            .map(|u| {
                Ok(UserKey {
                    insurer: u
                        .insurer
                        .parse()
                        .map_err(|_| format!("insurer `{}`", u.insurer))?,
                    insured: u
                        .insured
                        .parse()
                        .map_err(|_| format!("insured `{}`", u.insured))?,
                })
            })
            .collect::<Result<BTreeSet<UserKey>, String>>()
            .map_err(|what| {
                adapter_error(
                    ErrorCode::AdapterOutputInvalid,
                    format!("{} import: the report names an invalid {what}", self.adapter.name),
                )
            })?;
        Ok(ImportReport {
            files: parsed.files,
            records: parsed.records,
            users,
        })
    }
}

impl AdapterSoftware {
    /// Calls the product's `dump` and reads what it wrote to `{dump}`.
    fn read_dump(&mut self, now: OffsetDateTime) -> Result<Holdings, SoftwareError> {
        let dump = self.folder("dump.json");
        let _ = std::fs::remove_file(&dump);
        self.call(
            Operation::Dump,
            &Values {
                now: Some(now),
                ..Values::default()
            },
        )?;
        let text = std::fs::read_to_string(&dump).map_err(|e| {
            adapter_error(
                ErrorCode::AdapterOutputInvalid,
                format!("{} dump wrote no {{dump}} file: {e}", self.adapter.name),
            )
        })?;
        let mut holdings: Holdings = serde_json::from_str(&text).map_err(|e| {
            adapter_error(
                ErrorCode::AdapterOutputInvalid,
                format!("{} dump: not contract {CONTRACT} JSON: {e}", self.adapter.name),
            )
        })?;
        holdings.plans.sort();
        holdings.actuals.sort();
        Ok(holdings)
    }
}

/// A received file's name as written into the inbox: its own name when it is a plain file name.
fn safe_name(name: &str, index: usize) -> String {
    let plain = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
    if plain {
        name.to_owned()
    } else {
        format!("file-{index}")
    }
}

/// `arg` with each `{name}` replaced by its value; the name of a placeholder without one as the error.
fn fill(arg: &str, value: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(arg.len());
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return Ok(out);
        };
        let name = &after[..close];
        if placeholder_names(&rest[open..open + close + 2]).next().is_some() {
            out.push_str(&value(name).ok_or_else(|| name.to_owned())?);
        } else {
            // Not a placeholder: a shell's `${HOME}`, awk's `{print $1}`.
            out.push_str(&rest[open..open + close + 2]);
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Stops a call and whatever it started: its process group, then the call itself.
fn stop_group(child: &mut std::process::Child) {
    kill_group(child.id());
    let _ = child.kill();
    let _ = child.wait();
}

/// What runs a call now, so that an interrupted bench can stop it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Running {
    /// A process group of its own on this machine, by its leader's id: the terminal's interrupt does
    /// not reach it.
    ProcessGroup(u32),
    /// A container, by its name: it would outlive the bench.
    Container(String),
}

/// The calls running now.
static RUNNING: Mutex<BTreeSet<Running>> = Mutex::new(BTreeSet::new());

/// A call listed as running while this value lives; [`stop_running_calls`] stops it.
#[derive(Debug)]
pub struct RunningCall(Running);

impl RunningCall {
    fn register(running: Running) -> Self {
        RUNNING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(running.clone());
        Self(running)
    }

    /// A call running in the container `name` (for [`Runner`]s outside this crate).
    pub fn container(name: impl Into<String>) -> Self {
        Self::register(Running::Container(name.into()))
    }
}

impl Drop for RunningCall {
    fn drop(&mut self) {
        RUNNING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.0);
    }
}

/// Stops every product call running now, with every process it started, and removes the containers
/// of those running in one: what the bench does when it is interrupted (Ctrl-C, SIGTERM). Returns how
/// many calls were stopped.
pub fn stop_running_calls() -> usize {
    let running = std::mem::take(&mut *RUNNING.lock().unwrap_or_else(PoisonError::into_inner));
    for call in &running {
        match call {
            Running::ProcessGroup(leader) => kill_group(*leader),
            Running::Container(name) => {
                let _ = Command::new("docker")
                    .args(["rm", "--force", name])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
    running.len()
}

/// Signals the process group a call leads (see `process_group` above).
fn kill_group(leader: u32) {
    #[cfg(unix)]
    {
        // `kill` with a negative id signals the whole group.
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{leader}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Reads a stream to its end on a thread of its own; the bytes arrive on the receiver.
fn drain(mut stream: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        let _ = sender.send(bytes);
    });
    receiver
}

/// At most [`OUTPUT_KEPT`] bytes of `text`, cut at a character boundary.
fn kept(text: &str) -> String {
    let mut end = text.len().min(OUTPUT_KEPT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// The last line the product printed on stderr, for an error message.
fn tail(stderr: &str) -> String {
    stderr
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .map_or_else(String::new, |line| format!(": {}", line.trim()))
}

fn adapter_error(code: ErrorCode, message: String) -> SoftwareError {
    SoftwareError::Adapter { code, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_an_unknown_one_is_named() {
        let value = |name: &str| match name {
            "month" => Some("202505".to_owned()),
            "outbox" => Some("/tmp/out box".to_owned()),
            _ => None,
        };
        assert_eq!(fill("--month={month}", &value), Ok("--month=202505".to_owned()));
        assert_eq!(
            fill("{outbox}/{month}.csv", &value),
            Ok("/tmp/out box/202505.csv".to_owned())
        );
        assert_eq!(fill("plain", &value), Ok("plain".to_owned()));
        assert_eq!(fill("unclosed {month", &value), Ok("unclosed {month".to_owned()));
        assert_eq!(fill("{users}", &value), Err("users".to_owned()));
    }

    #[test]
    fn received_names_that_would_leave_the_inbox_are_replaced() {
        assert_eq!(safe_name("UPPLAN_202505_1.CSV", 0), "UPPLAN_202505_1.CSV");
        for bad in ["../escape.CSV", "a/b.CSV", "..", ".", "", "c\\d"] {
            assert_eq!(safe_name(bad, 4), "file-4", "{bad:?}");
        }
    }

    #[test]
    fn only_the_first_4_kib_of_output_is_kept_cut_at_a_character() {
        let long = "あ".repeat(2000);
        let cut = kept(&long);
        assert!(cut.len() <= OUTPUT_KEPT && long.starts_with(&cut) && !cut.is_empty());
        assert_eq!(tail("first\nlast line\n\n"), ": last line");
        assert_eq!(tail(""), "");
    }
}
