//! The relay (ケアプランデータ連携基盤): stores send units (送信単位) sent by one office and forwards them
//! to the receiver named in their standard file names, with the receiver's progress visible to both sides.
//!
//! Architecture invariants:
//! - Sans-IO: [`Relay`] is a plain state machine over a [`Store`]. Every operation takes the
//!   authenticated sender or receiver (established by the TLS layer from the client certificate) and
//!   `now`. It never reads a clock or a socket; time-driven changes (expiry) are derived from `now`.
//! - The rules live in [`Relay`]; stores only keep records and apply the relay's decisions atomically
//!   ([`Store::update`]), so every engine behaves the same and passes the same [`contract`].
//! - A refused request changes nothing: all checks run before anything is stored.
//! - The relay routes by file name only; it reads contents only when configured strict.
//! - Data flows only between registered, licensed offices: the usage-application site's answer is passed
//!   into [`Relay::send`] as a function of the office, so the relay holds no licence state of its own.

mod config;
pub mod contract;
mod error;
mod memory;
mod model;
mod relay;
mod store;

pub use config::{CancelUntil, RelayConfig};
pub use error::{Finding, MAX_FINDINGS, RelayError, StoreError};
pub use memory::MemoryStore;
pub use model::{
    DownloadedFile, FileId, FileRecord, NewSendUnit, SendReceipt, SendUnitId, SendUnitRecord, SendUnitStatus,
    Upload,
};
pub use relay::{MAX_ATTACHMENT_NAME_CHARS, Relay};
pub use store::{Change, Decide, DecideDownload, DownloadState, Inserted, Listed, Page, Store};
