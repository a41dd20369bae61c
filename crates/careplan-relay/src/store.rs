//! Where the relay keeps send units: one trait, several engines, one contract
//! ([`contract`](crate::contract), run by every engine's tests).
//!
//! A store is deliberately dumb: it keeps records and answers queries atomically; every decision (who may
//! see what, which status follows which) is the [`Relay`](crate::Relay)'s, passed in as a closure to
//! [`Store::update`]. That keeps the rules in one place for every engine, and makes a store shared by
//! several relay processes (PostgreSQL) safe: each change is a read-modify-write in one transaction.

use bytes::Bytes;
use careplan_core::OfficeNumber;
use careplan_spec::Serial;
use time::OffsetDateTime;

use crate::{
    DownloadedFile, FileId, NewSendUnit, RelayError, SendUnitId, SendUnitRecord, SendUnitStatus, StoreError,
};

/// The outcome of [`Store::insert`].
#[derive(Debug, Clone)]
pub enum Inserted {
    /// The send unit was stored now.
    Created(SendUnitRecord),
    /// A send unit with the same sender, receiver and serial was already stored (a retried send, or a
    /// reused serial): it is returned untouched, nothing was written, and the refused send unit is handed
    /// back so that the relay can compare the two.
    Existing {
        /// The send unit stored under the key.
        stored: SendUnitRecord,
        /// The send unit that was not stored.
        refused: NewSendUnit,
    },
}

/// A page of a listing: `after` send units skipped (a position in the list), at most `limit` given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Send units before the page.
    pub after: usize,
    /// Send units in the page, at least 1.
    pub limit: usize,
}

impl Page {
    /// The most send units a page holds, and the size of a page unless one is asked for.
    pub const MAX: usize = 1_000;

    /// The first page of [`Page::MAX`] send units.
    pub const FIRST: Page = Page {
        after: 0,
        limit: Page::MAX,
    };

    /// The page after this one.
    pub fn next(self) -> Page {
        Page {
            after: self.after.saturating_add(self.limit),
            limit: self.limit,
        }
    }

    /// This page of an ordered sequence, and whether more follow it: the one way every engine that
    /// lists in memory pages.
    pub fn of<T>(self, items: impl Iterator<Item = T>) -> Listed<T> {
        let mut items = items.skip(self.after);
        let page: Vec<T> = items.by_ref().take(self.limit).collect();
        let more = items.next().is_some();
        Listed { items: page, more }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<T = SendUnitRecord> {
    /// The page's items, in the listing's order.
    pub items: Vec<T>,
    /// Whether items follow the page.
    pub more: bool,
}

/// What the relay may write to a stored send unit: a new status (with when it was taken) and a file
/// now downloaded. Everything else about a send unit is fixed once it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The new status and its time; `None` keeps both.
    pub status: Option<(SendUnitStatus, OffsetDateTime)>,
    /// A file of the send unit the receiver has now downloaded (a file of another send unit is ignored).
    pub downloaded: Option<FileId>,
}

impl Change {
    /// Writes nothing.
    pub const NONE: Change = Change {
        status: None,
        downloaded: None,
    };

    /// Sets the status, taken at `at`.
    pub fn status(status: SendUnitStatus, at: OffsetDateTime) -> Self {
        Self {
            status: Some((status, at)),
            downloaded: None,
        }
    }
}

/// The relay's decision about one send unit, given it as stored: the [`Change`] to write, or a refusal
/// (nothing is written).
pub type Decide<'a> = &'a mut dyn FnMut(&SendUnitRecord) -> Result<Change, RelayError>;

/// What the relay decides a download on: the state of the send unit holding the file, without its files'
/// names and sizes, which a store keeping them compactly would build for every download for nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadState {
    /// The send unit holding the file.
    pub id: SendUnitId,
    /// Its receiver.
    pub receiver: OfficeNumber,
    /// Its file serial.
    pub serial: Serial,
    /// Where it stands.
    pub status: SendUnitStatus,
    /// Whether every other file of the send unit is downloaded already.
    pub others_downloaded: bool,
}

impl DownloadState {
    /// The state of `send_unit` for a download of its file `file`.
    pub fn of(send_unit: &SendUnitRecord, file: FileId) -> Self {
        Self {
            id: send_unit.id,
            receiver: send_unit.receiver,
            serial: send_unit.serial,
            status: send_unit.status,
            others_downloaded: send_unit.files.iter().all(|f| f.downloaded || f.id == file),
        }
    }
}

/// The relay's decision about a download, given the state of the send unit holding the file and the
/// pending (unread or received) send unit from the same sender to the same receiver with the lowest
/// serial, as `(serial, id)`: the one the serial order lets the receiver download.
pub type DecideDownload<'a> =
    &'a mut dyn FnMut(&DownloadState, Option<(Serial, SendUnitId)>) -> Result<Change, RelayError>;

/// Durable (or in-memory) storage of send units.
///
/// Contract (checked by [`contract::check`](crate::contract::check) for every engine):
/// - [`insert`](Store::insert) is atomic and keyed by (sender, receiver, serial): at most one send unit
///   per key, all of its files or none visible, ids increasing;
/// - [`update`](Store::update) and [`download`](Store::download) read, ask the relay and write in one
///   transaction; a refusal (or a file whose bytes are gone) writes nothing;
/// - once `insert`, `update` or `download` returned, the change survives a crash of the process (for durable
///   engines);
/// - a send unit whose status no longer holds files (cancelled, expired) has its contents deleted in the
///   same transaction;
/// - listings are ordered: inbox by (serial, id), sent list by id, and paged by the store, so that a long
///   history is never read whole to answer one page.
pub trait Store: Send {
    /// Stores a send unit unless one with the same sender, receiver and serial exists. The send unit is
    /// moved in: a store that keeps files in memory keeps the uploaded names and bytes themselves.
    fn insert(&mut self, send_unit: NewSendUnit) -> Result<Inserted, StoreError>;

    /// One send unit.
    fn send_unit(&mut self, id: SendUnitId) -> Result<Option<SendUnitRecord>, StoreError>;

    /// A page of the send units addressed to `receiver`, by serial then id.
    fn inbox(&mut self, receiver: OfficeNumber, page: Page) -> Result<Listed, StoreError>;

    /// A page of the send units `sender` sent, by id.
    fn sent(&mut self, sender: OfficeNumber, page: Page) -> Result<Listed, StoreError>;

    /// A file's bytes, while its send unit holds them.
    fn content(&mut self, id: FileId) -> Result<Option<Bytes>, StoreError>;

    /// Reads send unit `id`, asks `decide` what to change and writes it, in one transaction; returns the
    /// record as stored. A refusal writes nothing. `SendUnitNotFound` when there is no such send unit.
    fn update(&mut self, id: SendUnitId, decide: Decide<'_>) -> Result<SendUnitRecord, RelayError>;

    /// Reads the send unit holding `file` and the first pending send unit from its sender to its
    /// receiver, asks `decide` what to change and writes it, in one transaction; returns the file. `FileNotFound` (nothing written) when no send unit holds such a file
    /// or its bytes are gone.
    fn download(&mut self, file: FileId, decide: DecideDownload<'_>) -> Result<DownloadedFile, RelayError>;

    /// Marks every send unit that still holds files and whose `expires_at` is at or before `now` as
    /// expired (status time = its `expires_at`) and deletes its contents. Returns how many.
    fn expire(&mut self, now: OffsetDateTime) -> Result<usize, StoreError>;
}

impl<S: Store + ?Sized> Store for Box<S> {
    fn insert(&mut self, send_unit: NewSendUnit) -> Result<Inserted, StoreError> {
        (**self).insert(send_unit)
    }

    fn send_unit(&mut self, id: SendUnitId) -> Result<Option<SendUnitRecord>, StoreError> {
        (**self).send_unit(id)
    }

    fn inbox(&mut self, receiver: OfficeNumber, page: Page) -> Result<Listed, StoreError> {
        (**self).inbox(receiver, page)
    }

    fn sent(&mut self, sender: OfficeNumber, page: Page) -> Result<Listed, StoreError> {
        (**self).sent(sender, page)
    }

    fn content(&mut self, id: FileId) -> Result<Option<Bytes>, StoreError> {
        (**self).content(id)
    }

    fn update(&mut self, id: SendUnitId, decide: Decide<'_>) -> Result<SendUnitRecord, RelayError> {
        (**self).update(id, decide)
    }

    fn download(&mut self, file: FileId, decide: DecideDownload<'_>) -> Result<DownloadedFile, RelayError> {
        (**self).download(file, decide)
    }

    fn expire(&mut self, now: OffsetDateTime) -> Result<usize, StoreError> {
        (**self).expire(now)
    }
}
