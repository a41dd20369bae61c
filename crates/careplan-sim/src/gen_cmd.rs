//! `careplan-sim gen`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use careplan_core::{CareMonth, ErrorCode, JST, OfficeNumber, ServiceKind};
use careplan_office::{CareSoftware, OfficeProfile, OfficeRole};
use careplan_synth::Deviations;
use careplan_synth::catalogue::{PROVIDER_KINDS, provider_name};
use clap::Args;
use time::{Duration, Time};

use crate::exit::Exit;

/// Arguments of `gen`.
#[derive(Debug, Args)]
pub(crate) struct GenArgs {
    /// Seed of the generated data; the same seed writes the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Service month, YYYYMM or YYYY-MM.
    #[arg(long, value_name = "YYYYMM")]
    month: CareMonth,

    /// Users of the care-management office.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=9999))]
    users: u16,

    /// Service offices receiving a plan bundle each, opened in turn as home help (訪問介護), day care
    /// (通所介護), equipment rental (福祉用具貸与), short stay (短期入所生活介護) and visiting nursing
    /// (訪問看護). At most `--users`, so that every provider has users.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=99))]
    providers: u16,

    /// Percent of planned visits the providers cancel in their actuals.
    #[arg(long, value_name = "PERCENT", default_value_t = 5, value_parser = clap::value_parser!(u8).range(0..=100))]
    cancelled: u8,

    /// Percent of planned visits delivered 30 minutes earlier or later.
    #[arg(long, value_name = "PERCENT", default_value_t = 10, value_parser = clap::value_parser!(u8).range(0..=100))]
    changed_time: u8,

    /// Percent of users given one extra, unplanned visit by each timed provider.
    #[arg(long, value_name = "PERCENT", default_value_t = 5, value_parser = clap::value_parser!(u8).range(0..=100))]
    extra_visits: u8,

    /// Directory to write the files to (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Writes a month: a plan bundle from one care-management office to each provider, and each provider's
/// actuals back, named by the standard.
pub(crate) fn generate(args: &GenArgs) -> Exit {
    if args.providers > args.users {
        eprintln!(
            "error: --providers ({}) exceeds --users ({}): every provider needs at least one user",
            args.providers, args.users
        );
        return Exit::Invalid;
    }
    match write_month(args) {
        Ok(count) => {
            println!("wrote {count} file(s) to {}", args.out.display());
            Exit::Success
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            Exit::Invalid
        }
    }
}

fn write_month(args: &GenArgs) -> Result<usize> {
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let office = |n: u16| -> Result<OfficeNumber> { Ok(format!("13100{n:05}").parse()?) };
    let cm_profile = OfficeProfile {
        number: office(1)?,
        kind: ServiceKind::CARE_MANAGEMENT,
        role: OfficeRole::CareManagement,
        name: "さくら居宅介護支援事業所".to_owned(),
    };
    let mut care_manager = CareSoftware::new(cm_profile.clone(), args.seed);
    // Plans go out a week before the month starts; actuals come back on the 3rd of the month after.
    let plan_day = args.month.first_day() - Duration::days(7);
    let plan_at = plan_day.with_time(Time::from_hms(10, 30, 0)?).assume_offset(JST);
    let actuals_at = args
        .month
        .next()
        .first_day()
        .with_time(Time::from_hms(17, 0, 0)?)
        .assume_offset(JST)
        + Duration::days(2);
    let providers = (1..=args.providers)
        .map(|n| {
            let index = usize::from(n - 1);
            let kind = PROVIDER_KINDS[index % PROVIDER_KINDS.len()];
            Ok(OfficeProfile {
                number: office(n + 1)?,
                kind,
                role: OfficeRole::Service,
                name: provider_name(kind, index / PROVIDER_KINDS.len() + 1),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let deviations = Deviations {
        cancelled_percent: args.cancelled,
        changed_time_percent: args.changed_time,
        extra_visit_percent: args.extra_visits,
    };
    let plans = care_manager.export_plans(plan_at, args.month, &providers, usize::from(args.users))?;
    let mut files = Vec::new();
    for plan in plans {
        let profile = providers
            .iter()
            .find(|p| p.number == plan.receiver)
            .context("a plan bundle for an unknown provider")?;
        let mut provider = CareSoftware::new(profile.clone(), args.seed).with_deviations(deviations);
        provider.import(&plan.inputs())?;
        files.extend(plan.files);
        match provider.export_actuals(actuals_at, args.month, &cm_profile) {
            Ok(actuals) => files.extend(actuals.files),
            // Every visit cancelled: the provider has nothing to report.
            Err(e) if e.code() == ErrorCode::NothingToSend => {}
            Err(e) => return Err(e.into()),
        }
    }
    for file in &files {
        let path = args.out.join(&file.name);
        std::fs::write(&path, &file.content).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(files.len())
}
