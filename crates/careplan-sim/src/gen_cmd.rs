//! `careplan-sim gen`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use careplan_core::{CareMonth, JST};
use careplan_office::{MonthExchange, generated_care_manager, generated_providers};
use careplan_synth::Deviations;
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

    /// Service offices receiving a plan send unit each, opened in turn as home help (訪問介護), day care
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

/// Writes a month: a plan send unit from one care-management office to each provider, and each provider's
/// actuals back, named by the standard.
pub(crate) fn generate(args: &GenArgs) -> Exit {
    if args.month < CareMonth::FIRST_V4 {
        eprintln!(
            "error: --month {}: gen writes the V4.1 standard (CSVバージョン 202407), which applies to service months from {}; earlier months are exchanged in the V3 layouts, which gen does not write",
            args.month,
            CareMonth::FIRST_V4
        );
        return Exit::Invalid;
    }
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
    let care_manager = generated_care_manager().context("the generated care-management office")?;
    let providers = generated_providers(args.providers);
    // Plans go out a week before the month starts; actuals come back on the 3rd of the month after.
    let plans_at = (args.month.first_day() - Duration::days(7))
        .with_time(Time::from_hms(10, 30, 0)?)
        .assume_offset(JST);
    let actuals_at = (args.month.next().first_day() + Duration::days(2))
        .with_time(Time::from_hms(17, 0, 0)?)
        .assume_offset(JST);
    let send_units = MonthExchange {
        care_manager: &care_manager,
        providers: &providers,
        month: args.month,
        users: usize::from(args.users),
        seed: args.seed,
        deviations: Deviations {
            cancelled_percent: args.cancelled,
            changed_time_percent: args.changed_time,
            extra_visit_percent: args.extra_visits,
        },
        plans_at,
        actuals_at,
    }
    .run()?;
    let mut count = 0;
    for file in send_units.iter().flat_map(|b| &b.files) {
        let path = args.out.join(&*file.name);
        std::fs::write(&path, &file.content).with_context(|| format!("cannot write {}", path.display()))?;
        count += 1;
    }
    Ok(count)
}
