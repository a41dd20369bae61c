//! Scenarios: the TOML format ([`Scenario`]) and the runner ([`run`])
//! that plays a scenario against every party of the ecosystem.
//!
//! Architecture invariants:
//! - A scenario is fully checked when read ([`Scenario::load`]); the runner never meets a malformed step.
//! - Each run builds its own ecosystem (CA, relay, offices) on its own [`SimulatedClock`]
//!   (careplan_core::SimulatedClock) starting at the scenario's `start`; runs share nothing, so the
//!   same scenario and seed always give the same report.
//! - All traffic between offices and the relay crosses real loopback TLS sockets with client
//!   certificates; the runner reaches the parties only through the offices' public API.

mod format;
mod run;

pub use format::{Action, OfficeSpec, ResetBy, Scenario, ScenarioFileError, Secret, Step};
pub use run::{RunError, RunOptions, ScenarioReport, StepOutcome, StepResult, run};
