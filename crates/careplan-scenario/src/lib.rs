//! Scenarios: the TOML format ([`Scenario`]), the registry of actions ([`ACTIONS`]) and the runner
//! ([`run`]) that plays a scenario against every party of the ecosystem.
//!
//! Architecture invariants:
//! - A scenario is fully checked when read ([`Scenario::load`]), its offices' adapter files included;
//!   the runner never meets a malformed step. A conformance case is a scenario with a `[case]` table
//!   ([`CaseHeader`]).
//! - Every action is one item owning its parameters, its reference entry, its description and its
//!   execution, listed once in the registry (`actions/mod.rs`); the reference in `docs/scenarios.md` is
//!   generated from [`ACTIONS`].
//! - Each run builds its own ecosystem (CA, relay, offices) on its own
//!   [`SimulatedClock`](careplan_core::SimulatedClock) starting at the scenario's `start`; runs share nothing, so the
//!   same scenario and seed always give the same report.
//! - All traffic between offices and the relay crosses real loopback TLS sockets with client
//!   certificates; the runner reaches the parties only through the offices' public API.

mod action;
mod actions;
mod format;
mod reference;
mod run;

pub use action::{ActionInfo, Group, Param};
pub use actions::{ACTIONS, StepAction};
pub use format::{CaseHeader, OfficeSpec, Scenario, ScenarioFileError, Step};
pub use reference::{actions_markdown, with_current_reference};
pub use run::{
    ExchangedFile, OfficeCertificate, RunError, RunOptions, ScenarioReport, StepOutcome, StepResult, run,
};
