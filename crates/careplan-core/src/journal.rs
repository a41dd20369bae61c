//! The journal (記録): an ordered, durable log of the requests that changed the web parties (the e-billing
//! portal, the usage-application site) and the simulated clock. Their cores are deterministic, so replaying
//! the journal in order on a fresh ecosystem rebuilds their state exactly; `serve` keeps it beside the
//! relay's store, and several processes sharing one database stay in step by replaying what the others
//! recorded before each request.

use time::OffsetDateTime;

/// One recorded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// Position in the journal, from 1, gapless per writer lock.
    pub seq: u64,
    /// When the request was handled.
    pub at: OffsetDateTime,
    /// Which party handled it (`"portal"`, `"usage"`, `"clock"`, …).
    pub party: String,
    /// The request as its party reads it (JSON).
    pub request: String,
}

/// A request to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// When the request was handled.
    pub at: OffsetDateTime,
    /// Which party handled it.
    pub party: String,
    /// The request as its party reads it (JSON).
    pub request: String,
}

/// The journal's storage failed; nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("journal: {0}")]
pub struct JournalError(pub String);

/// Where a journal is kept.
pub trait Journal: Send {
    /// Every entry after `after`, in order.
    fn entries_after(&mut self, after: u64) -> Result<Vec<JournalEntry>, JournalError>;

    /// Under the journal's write lock (one writer at a time, across processes): hands `work` the entries
    /// after `after`, then records the entry `work` returns, if any, committed before this returns. Gives
    /// the recorded entry's `seq`.
    fn record_after(
        &mut self,
        after: u64,
        work: &mut dyn FnMut(Vec<JournalEntry>) -> Option<NewEntry>,
    ) -> Result<Option<u64>, JournalError>;
}

impl<J: Journal + ?Sized> Journal for Box<J> {
    fn entries_after(&mut self, after: u64) -> Result<Vec<JournalEntry>, JournalError> {
        (**self).entries_after(after)
    }

    fn record_after(
        &mut self,
        after: u64,
        work: &mut dyn FnMut(Vec<JournalEntry>) -> Option<NewEntry>,
    ) -> Result<Option<u64>, JournalError> {
        (**self).record_after(after, work)
    }
}

/// A journal in memory: for tests of the journalled parties without a database.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    entries: Vec<JournalEntry>,
}

impl Journal for MemoryJournal {
    fn entries_after(&mut self, after: u64) -> Result<Vec<JournalEntry>, JournalError> {
        Ok(self.entries.iter().filter(|e| e.seq > after).cloned().collect())
    }

    fn record_after(
        &mut self,
        after: u64,
        work: &mut dyn FnMut(Vec<JournalEntry>) -> Option<NewEntry>,
    ) -> Result<Option<u64>, JournalError> {
        let pending = self.entries_after(after)?;
        Ok(work(pending).map(|entry| {
            let seq = self.entries.len() as u64 + 1;
            self.entries.push(JournalEntry {
                seq,
                at: entry.at,
                party: entry.party,
                request: entry.request,
            });
            seq
        }))
    }
}
