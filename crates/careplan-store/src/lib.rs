//! Durable stores of the relay (連携基盤): [`SqliteStore`], the embedded default of `serve`, and
//! [`PostgresStore`], which several relay processes can share; beside each, the journal of the web
//! parties' requests ([`SqliteJournal`], [`PostgresJournal`]) that `serve` replays at start.
//!
//! Architecture invariants:
//! - Both implement [`careplan_relay::Store`] and pass its [`contract`](careplan_relay::contract); the rules
//!   stay in the relay core.
//! - Every acknowledged change is committed before the call returns (SQLite: WAL with `synchronous=FULL`;
//!   PostgreSQL: its default synchronous commit), and every change is one transaction, so a crash never
//!   leaves half a send unit visible.
//! - A read-modify-write ([`Store::update`](careplan_relay::Store::update)) locks the send unit's row for
//!   its transaction (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: `SELECT … FOR UPDATE`), so relays sharing a
//!   database never lose each other's changes.
//! - The journal is appended under a writer lock taken before reading what others recorded (SQLite: `BEGIN
//!   IMMEDIATE`; PostgreSQL: `LOCK TABLE … IN EXCLUSIVE MODE`), so its order is one total order.
//! - Times are stored as microseconds since the Unix epoch and read back in JST.

mod journal;
pub mod postgres_checks;
mod postgres_store;
mod rows;
mod sqlite_store;

pub use journal::{PostgresJournal, SqliteJournal};
pub use postgres_store::PostgresStore;
pub use sqlite_store::SqliteStore;
