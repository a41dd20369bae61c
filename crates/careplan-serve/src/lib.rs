//! `careplan-sim serve`: every party of the ecosystem — the e-billing portal with its CA, the
//! usage-application site, the relay, and an admin endpoint for the clock — as HTTPS servers whose state
//! outlives the process.
//!
//! Architecture invariants:
//! - State lives in one database: the relay's send units in its [`Store`](careplan_relay::Store), the web
//!   parties' requests in the [`Journal`](careplan_core::Journal). The file `careplan.sqlite3` in the data directory by default;
//!   a PostgreSQL database when several processes share one ecosystem.
//! - An ecosystem is born once, from its [`Genesis`] (seed, start, roster of offices), recorded as the
//!   journal's first entry; every process rebuilds the same starting state from it, then replays the
//!   journal. The cores and the key pool are deterministic, so rebuilt state is identical, down to
//!   certificates and passwords.
//! - Nothing here decides a rule: this crate opens the database, keeps the genesis, writes the files for
//!   clients, and hands the rest to the ecosystem builder (`careplan-ecosystem`).

mod ecosystem;
mod genesis;

pub use ecosystem::{
    ADMIN_TOKEN_FILE, Addresses, DEFAULT_OFFICES, Database, Ecosystem, SQLITE_FILE, ServeError, ServeOptions,
    TimeSource,
};
pub use genesis::{Genesis, RosterOffice};

/// The journal's party name of the genesis entry.
pub const GENESIS_PARTY: &str = "genesis";
