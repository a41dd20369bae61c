//! `careplan-reference-adapter`: the synthetic care software as a separate program speaking the adapter
//! contract (`docs/adapter.md`), the way a vendor's product is driven. `adapters/reference/adapter.toml`
//! declares it; the conformance cases and the vendor scenarios run against it.
//!
//! Each call is a new process. What the product holds lives in its state folder as the log of the
//! operations that changed it (with copies of the files it imported); a call rebuilds the software by
//! replaying the log, then does its operation and appends it. The software is deterministic, so the
//! replay gives exactly the state the earlier calls left.
//!
//! With `--defect`, it misbehaves in one way a vendor's product might (`adapters/faulty/`), so that the
//! conformance suite can be shown to catch each defect by a case that names it.
//!
//! Exit status: 0 done, 1 the operation was refused (the reason on stderr), 2 invalid arguments.

// Printing is this program's job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use careplan_core::{CareMonth, JST, OfficeNumber, ServiceKind};
use careplan_office::{CareSoftware, Export, OfficeProfile, OfficeRole, SyntheticSoftware, Withdrawn};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, PrimitiveDateTime};

/// The synthetic care software behind the adapter contract.
#[derive(Debug, Parser)]
#[command(name = "careplan-reference-adapter", version)]
struct Cli {
    #[command(flatten)]
    office: OfficeArgs,
    #[command(subcommand)]
    operation: Op,
}

/// Who the product runs for, and where it keeps its state.
#[derive(Debug, Args)]
struct OfficeArgs {
    /// The state folder (`{state}`).
    #[arg(long)]
    state: PathBuf,
    /// Office number (`{office}`).
    #[arg(long)]
    office: OfficeNumber,
    /// Service kind (`{kind}`).
    #[arg(long)]
    kind: ServiceKind,
    /// Role (`{role}`).
    #[arg(long, value_enum)]
    role: Role,
    /// Office name (`{name}`).
    #[arg(long)]
    name: String,
    /// Seed of the generated data (`{seed}`).
    #[arg(long)]
    seed: u64,
    /// Misbehave in one way, as a faulty product would.
    #[arg(long, value_enum)]
    defect: Option<Defect>,
}

/// The ways the faulty adapter departs from the standard, one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "kebab-case")]
enum Defect {
    /// Exports are written in UTF-8 instead of MS932.
    Utf8,
    /// A plan export leaves out its annex (UPSIKYU).
    MissingFile,
    /// The first record of the service usage sheet loses its last field.
    FieldDropped,
    /// Free text is written without its double quotes.
    UnquotedText,
    /// Plan files are named for the month after the one exported.
    WrongMonth,
    /// A plan re-sent for a month is kept beside the first: the actuals repeat every visit.
    ResentPlanDoubled,
    /// The import loses the last visit of each service usage sheet it reads, and says nothing.
    DropsAVisit,
    /// A character MS932 cannot write is exported as a 外字 (user-defined area, F040) instead of being
    /// converted.
    GaijiKept,
    /// The annex (第7表) leaves out the kind+AAAA subtotal rows.
    NoSubtotal,
    /// A plan export leaves out the last visit of the service usage sheet (the files stay valid).
    ExportDropsAVisit,
    /// The import takes deletion files (DLTPLAN, DLT1KYO, DLTJSK) without deleting anything.
    DeletionsIgnored,
    /// The user supplement sent with plan tables is linked to the month (field 63) instead of `000000`.
    SupplementMonthLinked,
    /// The 介護予防 export leaves out the basic information (UPKIHON) its annexes belong to.
    PreventionParentMissing,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
enum Role {
    CareManagement,
    Service,
}

#[derive(Debug, Subcommand)]
enum Op {
    /// Loads a case (contract 1's neutral JSON): the month's plans are the case's from now on.
    Prepare {
        /// The case (`{case}`).
        #[arg(long)]
        case: PathBuf,
        /// When (`{now}`, YYYYMMDDHHMMSS in JST).
        #[arg(long)]
        now: String,
    },
    /// Writes a month's plan send unit for a provider into the outbox.
    ExportPlan {
        #[command(flatten)]
        to: Counterpart,
        /// Users the plans cover (`{users}`).
        #[arg(long)]
        users: usize,
    },
    /// Writes a month's actuals for the care manager into the outbox.
    ExportActuals {
        #[command(flatten)]
        to: Counterpart,
    },
    /// Writes a deletion file (DLTPLAN, DLT1KYO or DLTJSK) into the outbox.
    ExportDeletion {
        #[command(flatten)]
        to: Counterpart,
        /// The deletion file's prefix (`{deletion}`).
        #[arg(long)]
        deletion: String,
    },
    /// Writes the care plans (tables 1–3 and their supplement) for a provider into the outbox.
    ExportPlanTables {
        #[command(flatten)]
        to: Counterpart,
        /// Users the plans cover (`{users}`).
        #[arg(long)]
        users: usize,
    },
    /// Writes the 介護予防 files for a provider into the outbox.
    ExportPrevention {
        #[command(flatten)]
        to: Counterpart,
        /// Users the files cover (`{users}`).
        #[arg(long)]
        users: usize,
    },
    /// Imports the inbox, in the order `--order` lists, and writes the report.
    Import {
        /// The inbox (`{inbox}`).
        #[arg(long)]
        inbox: PathBuf,
        /// The order of the files (`{order}`).
        #[arg(long)]
        order: PathBuf,
        /// Where the report goes (`{report}`).
        #[arg(long)]
        report: PathBuf,
        /// When (`{now}`, YYYYMMDDHHMMSS in JST).
        #[arg(long)]
        now: String,
    },
    /// Writes what the software holds, as the neutral dump of contract 1.
    Dump {
        /// Where the dump goes (`{dump}`).
        #[arg(long)]
        dump: PathBuf,
        /// When (`{now}`, YYYYMMDDHHMMSS in JST).
        #[arg(long)]
        now: String,
    },
}

/// The other office of an export and the month.
#[derive(Debug, Args)]
struct Counterpart {
    /// The month (`{month}`).
    #[arg(long)]
    month: CareMonth,
    /// The receiver (`{to}`).
    #[arg(long)]
    to: OfficeNumber,
    /// Its service kind (`{to_kind}`).
    #[arg(long)]
    to_kind: ServiceKind,
    /// Its name (`{to_name}`).
    #[arg(long)]
    to_name: String,
    /// When (`{now}`, YYYYMMDDHHMMSS in JST).
    #[arg(long)]
    now: String,
    /// The outbox (`{outbox}`).
    #[arg(long)]
    outbox: PathBuf,
}

/// One operation that changed what the product holds, as the log keeps it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Logged {
    Export {
        what: Export,
        to: String,
        to_kind: String,
        to_name: String,
        now: String,
    },
    /// The files are kept under `imported/<entry>/`.
    Import { now: String, files: Vec<String> },
    /// The case is kept as `prepared/<entry>.json`.
    Prepare { now: String },
}

/// The import report of contract 1.
#[derive(Serialize)]
struct Report {
    files: usize,
    records: usize,
    users: Vec<ReportedUser>,
}

#[derive(Serialize)]
struct ReportedUser {
    insurer: String,
    insured: String,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("careplan-reference-adapter: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: &Cli) -> Result<()> {
    let state = &cli.office.state;
    std::fs::create_dir_all(state).with_context(|| format!("{}", state.display()))?;
    let mut software = replayed(&cli.office)?;
    match &cli.operation {
        Op::Prepare { case, now } => {
            let text = std::fs::read_to_string(case).with_context(|| format!("{}", case.display()))?;
            let prepared = parse_case(&text).with_context(|| format!("{}", case.display()))?;
            software
                .prepare(instant(now)?, &prepared)
                .map_err(|e| anyhow!("{e}"))?;
            let entry = log_entries(state)?.len();
            let kept = state.join("prepared");
            std::fs::create_dir_all(&kept).with_context(|| format!("{}", kept.display()))?;
            std::fs::write(kept.join(format!("{entry}.json")), &text)
                .with_context(|| format!("{}", kept.display()))?;
            append(state, &Logged::Prepare { now: now.clone() })
        }
        Op::Dump { dump, now } => {
            let holdings = software.dump(instant(now)?).map_err(|e| anyhow!("{e}"))?;
            std::fs::write(dump, serde_json::to_vec_pretty(&holdings)?)
                .with_context(|| format!("{}", dump.display()))
        }
        Op::ExportPlan { to, users } => {
            let what = Export::Plan {
                month: to.month,
                users: Some(*users),
            };
            export(cli, &mut software, what, to)
        }
        Op::ExportActuals { to } => export(cli, &mut software, Export::Actuals { month: to.month }, to),
        Op::ExportDeletion { to, deletion } => {
            let of = Withdrawn::from_prefix(deletion)
                .ok_or_else(|| anyhow!("`{deletion}` is not a deletion file this product writes"))?;
            export(cli, &mut software, Export::Deletion { of, month: to.month }, to)
        }
        Op::ExportPlanTables { to, users } => {
            let what = Export::PlanTables {
                month: to.month,
                users: Some(*users),
            };
            export(cli, &mut software, what, to)
        }
        Op::ExportPrevention { to, users } => {
            let what = Export::Prevention {
                month: to.month,
                users: Some(*users),
            };
            export(cli, &mut software, what, to)
        }
        Op::Import {
            inbox,
            order,
            report,
            now,
        } => {
            let mut names = ordered(inbox, order)?;
            if cli.office.defect == Some(Defect::DeletionsIgnored) {
                names.retain(|name| !name.starts_with("DLT"));
            }
            let mut contents = read_all(inbox, &names)?;
            if cli.office.defect == Some(Defect::DropsAVisit) {
                for (name, content) in names.iter().zip(&mut contents) {
                    if name.starts_with("UPPLAN_") {
                        drop_last_record(content);
                    }
                }
            }
            let files = as_inputs(&names, &contents);
            let imported = software
                .import(instant(now)?, &files)
                .map_err(|e| anyhow!("{e}"))?;
            // Kept before the log names them, so a log entry never points at missing files.
            let entry = log_entries(state)?.len();
            let kept = state.join("imported").join(entry.to_string());
            std::fs::create_dir_all(&kept).with_context(|| format!("{}", kept.display()))?;
            for (name, content) in &files {
                std::fs::write(kept.join(name), content).with_context(|| name.to_string())?;
            }
            append(
                state,
                &Logged::Import {
                    now: now.clone(),
                    files: names.clone(),
                },
            )?;
            let report_body = Report {
                files: imported.files,
                records: imported.records,
                users: imported
                    .users
                    .iter()
                    .map(|u| ReportedUser {
                        insurer: u.insurer.to_string(),
                        insured: u.insured.to_string(),
                    })
                    .collect(),
            };
            std::fs::write(report, serde_json::to_vec_pretty(&report_body)?)
                .with_context(|| format!("{}", report.display()))
        }
    }
}

/// Runs an export, writes what the defect leaves of it into the outbox, and logs it.
fn export(cli: &Cli, software: &mut SyntheticSoftware, what: Export, to: &Counterpart) -> Result<()> {
    let state = &cli.office.state;
    let unit = software
        .export(instant(&to.now)?, what, &counterpart(to, what.receiver_role()))
        .map_err(|e| anyhow!("{e}"))?;
    let plans = match what {
        Export::Actuals { .. } => plans_imported(state, to.month)?,
        Export::Plan { .. }
        | Export::Deletion { .. }
        | Export::PlanTables { .. }
        | Export::Prevention { .. } => 0,
    };
    let files = faulty(cli.office.defect, owned(&unit.inputs()), to.month, plans)?;
    write_outbox(&to.outbox, &files)?;
    append(
        state,
        &Logged::Export {
            what,
            to: to.to.to_string(),
            to_kind: to.to_kind.to_string(),
            to_name: to.to_name.clone(),
            now: to.now.clone(),
        },
    )
}

/// The software as the logged operations left it.
fn replayed(office: &OfficeArgs) -> Result<SyntheticSoftware> {
    let profile = OfficeProfile {
        number: office.office,
        kind: office.kind,
        role: match office.role {
            Role::CareManagement => OfficeRole::CareManagement,
            Role::Service => OfficeRole::Service,
        },
        name: office.name.clone(),
    };
    let mut software = SyntheticSoftware::new(profile, office.seed);
    for (entry, logged) in log_entries(&office.state)?.into_iter().enumerate() {
        let replay = |e: careplan_office::SoftwareError| anyhow!("replaying entry {entry} of the log: {e}");
        match logged {
            Logged::Export {
                what,
                to,
                to_kind,
                to_name,
                now,
            } => {
                let receiver = profile_of(&to, &to_kind, &to_name, what.receiver_role())?;
                software.export(instant(&now)?, what, &receiver).map_err(replay)?;
            }
            Logged::Prepare { now } => {
                let kept = office.state.join("prepared").join(format!("{entry}.json"));
                let text = std::fs::read_to_string(&kept).with_context(|| format!("{}", kept.display()))?;
                software
                    .prepare(instant(&now)?, &parse_case(&text)?)
                    .map_err(replay)?;
            }
            Logged::Import { now, files } => {
                let kept = office.state.join("imported").join(entry.to_string());
                let contents = read_all(&kept, &files)?;
                software
                    .import(instant(&now)?, &as_inputs(&files, &contents))
                    .map_err(replay)?;
            }
        }
    }
    Ok(software)
}

/// A case in contract 1's neutral JSON, parsed.
fn parse_case(text: &str) -> Result<careplan_office::PreparedMonth> {
    let case: careplan_office::Case = serde_json::from_str(text)?;
    Ok(case.parse()?)
}

/// Removes the last CRLF-terminated record of a file.
fn drop_last_record(content: &mut Vec<u8>) {
    let body = content.strip_suffix(b"\r\n").unwrap_or(content);
    let cut = body.windows(2).rposition(|w| w == b"\r\n").map_or(0, |at| at + 2);
    content.truncate(cut);
}

/// The bytes of the files `names` in `folder`.
fn read_all(folder: &Path, names: &[String]) -> Result<Vec<Vec<u8>>> {
    names
        .iter()
        .map(|name| std::fs::read(folder.join(name)).with_context(|| name.clone()))
        .collect()
}

/// Names and contents as the software's import takes them.
fn as_inputs<'a>(names: &'a [String], contents: &'a [Vec<u8>]) -> Vec<(&'a str, &'a [u8])> {
    names
        .iter()
        .map(String::as_str)
        .zip(contents.iter().map(Vec::as_slice))
        .collect()
}

fn log_entries(state: &Path) -> Result<Vec<Logged>> {
    let path = state.join("log.jsonl");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
    };
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).with_context(|| format!("{}: `{line}`", path.display())))
        .collect()
}

fn append(state: &Path, logged: &Logged) -> Result<()> {
    use std::io::Write;
    let path = state.join("log.jsonl");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("{}", path.display()))?;
    writeln!(file, "{}", serde_json::to_string(logged)?).with_context(|| format!("{}", path.display()))
}

fn counterpart(to: &Counterpart, role: OfficeRole) -> OfficeProfile {
    OfficeProfile {
        number: to.to,
        kind: to.to_kind,
        role,
        name: to.to_name.clone(),
    }
}

fn profile_of(number: &str, kind: &str, name: &str, role: OfficeRole) -> Result<OfficeProfile> {
    Ok(OfficeProfile {
        number: number.parse()?,
        kind: kind.parse()?,
        role,
        name: name.to_owned(),
    })
}

/// `YYYYMMDDHHMMSS` in JST.
fn instant(text: &str) -> Result<OffsetDateTime> {
    let format = time::macros::format_description!("[year][month][day][hour][minute][second]");
    let local =
        PrimitiveDateTime::parse(text, format).with_context(|| format!("`{text}` is not YYYYMMDDHHMMSS"))?;
    Ok(local.assume_offset(JST))
}

/// The inbox's files in the order the bench lists, or by name without a list.
fn ordered(inbox: &Path, order: &Path) -> Result<Vec<String>> {
    if let Ok(text) = std::fs::read_to_string(order) {
        return Ok(text
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect());
    }
    let mut names: Vec<String> = std::fs::read_dir(inbox)
        .with_context(|| format!("{}", inbox.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

fn write_outbox(outbox: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    std::fs::create_dir_all(outbox).with_context(|| format!("{}", outbox.display()))?;
    for (name, content) in files {
        std::fs::write(outbox.join(name), content).with_context(|| name.clone())?;
    }
    Ok(())
}

fn owned(files: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
    files
        .iter()
        .map(|(name, content)| ((*name).to_owned(), content.to_vec()))
        .collect()
}

/// How many service usage sheets (UPPLAN) for `month` the product imported, over all its imports.
fn plans_imported(state: &Path, month: CareMonth) -> Result<usize> {
    let prefix = format!("UPPLAN_{month}_");
    Ok(log_entries(state)?
        .iter()
        .map(|logged| match logged {
            Logged::Import { files, .. } => files.iter().filter(|f| f.starts_with(&prefix)).count(),
            _ => 0,
        })
        .sum())
}

/// The exported files as the `defect` spoils them; `plans` is how many sheets for the month the product
/// imported (for an actuals export).
fn faulty(
    defect: Option<Defect>,
    mut files: Vec<(String, Vec<u8>)>,
    month: CareMonth,
    plans: usize,
) -> Result<Vec<(String, Vec<u8>)>> {
    let Some(defect) = defect else {
        return Ok(files);
    };
    match defect {
        Defect::Utf8 => {
            for (name, content) in &mut files {
                let text = careplan_spec::ms932::decode(content).map_err(|e| anyhow!("{name}: {e}"))?;
                *content = text.into_bytes();
            }
        }
        Defect::MissingFile => files.retain(|(name, _)| !name.starts_with("UPSIKYU_")),
        Defect::FieldDropped => {
            if let Some((_, content)) = files.iter_mut().find(|(name, _)| name.starts_with("UPPLAN_")) {
                let end = content
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .unwrap_or(content.len());
                if let Some(comma) = content[..end].iter().rposition(|&b| b == b',') {
                    content.drain(comma..end);
                }
            }
        }
        Defect::UnquotedText => {
            for (_, content) in &mut files {
                content.retain(|&b| b != b'"');
            }
        }
        Defect::WrongMonth => {
            let next = month.next();
            for (name, _) in &mut files {
                *name = name.replacen(&format!("_{month}_"), &format!("_{next}_"), 1);
            }
        }
        Defect::ResentPlanDoubled if plans > 1 => {
            for (name, content) in &mut files {
                if name.starts_with("UPJSK_") {
                    // Every record again, as a product holding the re-sent sheet beside the first would.
                    let records = content.clone();
                    content.extend_from_slice(&records);
                }
            }
        }
        Defect::GaijiKept => {
            // 〓 is where the software converted a character it could not write: put the 外字 back.
            for (_, content) in &mut files {
                let mut at = 0;
                while at + 1 < content.len() {
                    let lead = content[at];
                    let wide = (0x81..=0x9F).contains(&lead) || (0xE0..=0xFC).contains(&lead);
                    if wide && content[at + 1] == 0xAC && lead == 0x81 {
                        content[at] = 0xF0;
                        content[at + 1] = 0x40;
                    }
                    at += if wide { 2 } else { 1 };
                }
            }
        }
        Defect::NoSubtotal => {
            if let Some((_, content)) = files.iter_mut().find(|(name, _)| name.starts_with("UPSIKYU_")) {
                let kept: Vec<&[u8]> = content
                    .split_inclusive(|&b| b == b'\n')
                    .filter(|record| !record.windows(4).any(|w| w == b"AAAA"))
                    .collect();
                *content = kept.concat();
            }
        }
        Defect::ExportDropsAVisit => {
            if let Some((_, content)) = files.iter_mut().find(|(name, _)| name.starts_with("UPPLAN_")) {
                drop_last_record(content);
            }
        }
        Defect::SupplementMonthLinked => {
            // Field 63 ends each record; the month is ASCII, so the bytes can be swapped in place.
            let linked = format!(",{month}\r\n");
            for (name, content) in &mut files {
                if name.starts_with("UPHOSOKU_000000_") {
                    let mut at = 0;
                    while let Some(found) = content[at..].windows(9).position(|w| w == b",000000\r\n") {
                        let start = at + found;
                        content[start..start + 9].copy_from_slice(linked.as_bytes());
                        at = start + 9;
                    }
                }
            }
        }
        Defect::PreventionParentMissing => {
            files.retain(|(name, _)| !name.starts_with("UPKIHON_") || name.starts_with("UPKIHON_SUB"));
        }
        Defect::ResentPlanDoubled | Defect::DropsAVisit | Defect::DeletionsIgnored => {}
    }
    Ok(files)
}
