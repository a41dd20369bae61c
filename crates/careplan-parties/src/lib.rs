//! The web parties — the e-billing portal (電子請求受付システム, with the federation's ID issuance and the
//! e-seikyu CA behind it) and the usage-application site (利用状況Webサイト) — as one handle over their
//! sans-IO cores: their operations as data ([`api`]), the dispatch of each operation to its core, the
//! journal that lets their state outlive a process, and the provisioning of offices' starting state.
//!
//! Architecture invariants:
//! - No I/O but the [`Journal`](careplan_core::Journal) the caller hands in; no clock: every call takes
//!   `now`. Servers (`careplan-net`) only move these requests and answers between sockets and [`Parties`].
//! - Every request that may change a core is recorded before it is answered when a journal is kept, and
//!   the cores are deterministic, so replaying the journal rebuilds them exactly.
//! - The portal and the site share one lock ([`Parties`]); the relay, which asks the site where offices
//!   stand, takes its own lock first.

pub mod api;
mod dispatch;
mod parties;
mod provision;

pub use parties::{
    CLOCK_PARTY, ClockError, PORTAL_PARTY, Parties, PartyState, Refused, RevocationHook, USAGE_PARTY,
};
pub use provision::{LoginDetails, OfficeSetup, ProvisionError, ProvisionedOffice};
