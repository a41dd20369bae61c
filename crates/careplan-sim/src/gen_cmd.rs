//! `careplan-sim gen`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use careplan_core::{CareMonth, JST, OfficeNumber, ServiceKind};
use careplan_office::{CareSoftware, OfficeProfile, OfficeRole};
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

    /// Home-help providers (訪問介護) receiving a plan bundle each.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=99))]
    providers: u16,

    /// Directory to write the files to (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Writes a month: a plan bundle from one care-management office to each provider, and each provider's
/// actuals back, named by the standard.
pub(crate) fn generate(args: &GenArgs) -> Exit {
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
    let mut files = Vec::new();
    for n in 1..=args.providers {
        let profile = OfficeProfile {
            number: office(n + 1)?,
            kind: ServiceKind::HOME_HELP,
            role: OfficeRole::Service,
            name: format!("ひまわり訪問介護ステーション{n}"),
        };
        let plan = care_manager.export_plan(plan_at, args.month, &profile, usize::from(args.users))?;
        let mut provider = CareSoftware::new(profile, args.seed);
        provider.import(&plan.inputs())?;
        let actuals = provider.export_actuals(actuals_at, args.month, &cm_profile)?;
        files.extend(plan.files);
        files.extend(actuals.files);
    }
    for file in &files {
        let path = args.out.join(&file.name);
        std::fs::write(&path, &file.content).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(files.len())
}
