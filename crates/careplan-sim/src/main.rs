//! The `careplan-sim` command line.
//!
//! Architecture invariants: this binary only parses arguments, calls the library crates and prints;
//! exit statuses are the `Exit` contract (`exit.rs`) and nothing else.

// Printing is this binary's job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod conform_cmd;
mod exit;
mod files;
mod gen_cmd;
mod html;
mod report;
mod run_cmd;
mod serve_cmd;
mod simulate_cmd;
mod simulate_tls;
mod validate_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::Exit;

/// Emulates every party of Japan's care plan data linkage system (ケアプランデータ連携システム) — the
/// e-seikyu CA, the relay and virtual offices with their care software — runs scripted scenarios
/// against them over real TLS on a simulated clock, and serves them for other software to use.
#[derive(Debug, Parser)]
#[command(name = "careplan-sim", version, about, long_about = None)]
#[command(
    after_help = "Exit status: 0 success, 1 a scenario failed or a file has errors, 2 invalid input, 3 environment error.\n\
                        Docs: docs/cli.md, docs/scenarios.md, docs/rules.md, docs/error-codes.md"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenario files (TOML) and report each step.
    ///
    /// Every file is checked before anything runs; an invalid file stops the run with exit status 2
    /// and its file, line and reason. Each scenario then runs in its own ecosystem on its own
    /// simulated clock; a failed step ends its scenario.
    Run(run_cmd::RunArgs),
    /// Check standard CSV files against the care plan CSV standard (V4.1).
    ///
    /// Prints every finding with its stable rule ID (docs/rules.md), file, line and field. Exit status 0
    /// when no file has an error (warnings allowed), 1 when any has, 2 on usage or I/O failure.
    Validate(validate_cmd::ValidateArgs),
    /// Write a month of standard files: a plan send unit (UPPLAN + UPSIKYU + UPHOSOKU) from one care-management
    /// office to each provider, and each provider's actuals (UPJSK), named by the standard.
    ///
    /// The same seed writes the same bytes. Exit status 0 on success, 2 on usage or I/O failure.
    Gen(gen_cmd::GenArgs),
    /// Simulate a month of the nation's traffic through the relay's rules: a seeded population of offices
    /// and users (in proportion to the prefectures), each user's plan to each provider in the week before
    /// the month and the actuals back in its first ten days, downloaded by the receivers at the end of
    /// their day.
    ///
    /// Prints the month's figures (send units accepted, delivered, refused by code, wall time, latency,
    /// peak memory) and writes them as JSON with --summary. Exit status 0 when the month balances (every
    /// accepted send unit delivered or waiting at an office that cannot download, every refusal one the
    /// population model predicts), 1 when it does not, 2 on usage or I/O failure (or a month whose
    /// traffic the relay's certificate does not cover, with --tls-offices), 3 when the store (--store
    /// sqlite|postgres) cannot be opened or the relay server for --tls-offices cannot start.
    Simulate(simulate_cmd::SimulateArgs),
    /// Serve every party over HTTPS with persistent state: the e-billing portal and its CA, the
    /// usage-application site, the relay, and an admin endpoint for the clock.
    ///
    /// A new ecosystem starts with a roster of offices ready to send (logins and PKCS#12 files in
    /// DIR/offices.json); an existing one is resumed from its database. Runs until Ctrl-C. Exit status
    /// 0 after a clean stop, 2 on usage errors, 3 when the database or a port cannot be opened.
    Serve(serve_cmd::ServeArgs),
    /// Run the conformance suite against a vendor's care software behind its adapter.
    ///
    /// Each case (stable ID, docs/adapter.md) runs a scenario with one office's care software replaced by
    /// the product; a line per case says pass, FAIL with its evidence (step, file, line, field, rule and
    /// its source), or n/a when the adapter lacks an operation the case needs. Exit status 0 when every
    /// applicable case passes, 1 when one fails (or none applies), 2 on usage errors, 3 when the
    /// ecosystem cannot be set up.
    Conform(conform_cmd::ConformArgs),
}

/// On Ctrl-C or SIGTERM, stops the vendors' products still running (each call runs in a process group
/// of its own, which the terminal's signal does not reach) and exits with [`Exit::Interrupted`].
fn stop_products_when_interrupted() {
    let watch = || -> std::io::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        runtime.block_on(async {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let mut term = signal(SignalKind::terminate())?;
                tokio::select! {
                    result = tokio::signal::ctrl_c() => result,
                    _ = term.recv() => Ok(()),
                }
            }
            #[cfg(not(unix))]
            tokio::signal::ctrl_c().await
        })
    };
    std::thread::spawn(move || {
        if watch().is_ok() {
            let stopped = careplan_office::stop_running_calls();
            eprintln!("careplan-sim: interrupted; stopped {stopped} running product call(s)");
            std::process::exit(Exit::Interrupted as i32);
        }
    });
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Invalid.into()
            } else {
                Exit::Success.into()
            };
        }
    };
    if matches!(cli.command, Command::Run(_) | Command::Conform(_)) {
        stop_products_when_interrupted();
    }
    match cli.command {
        Command::Run(args) => run_cmd::run(&args).into(),
        Command::Validate(args) => validate_cmd::validate(&args).into(),
        Command::Gen(args) => gen_cmd::generate(&args).into(),
        Command::Simulate(args) => simulate_cmd::simulate(&args).into(),
        Command::Serve(args) => serve_cmd::serve(&args).into(),
        Command::Conform(args) => conform_cmd::conform(&args).into(),
    }
}
