//! The in-memory store: scenarios and benchmarks. Nothing survives the process.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use careplan_core::OfficeNumber;
use careplan_spec::Serial;
use time::OffsetDateTime;

use crate::store::{Decide, DecideDownload, Inserted};
use crate::{
    BundleId, BundleRecord, BundleStatus, Change, DownloadedFile, FileId, FileRecord, NewBundle, RelayError,
    Store, StoreError,
};

/// Maps hashed with foldhash: keys are office numbers, which the relay hashes on every request.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Send units in maps, indexed for every query the relay makes.
///
/// The ordered indexes are sorted vectors, not trees: send units arrive almost in serial order and in
/// expiry order, so an insert lands at the end (one comparison), and the serial order makes a download
/// take its send unit from the front of its queue. An out-of-order insert shifts the tail.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Every send unit; ids are 1-based positions (`id - 1`).
    bundles: Vec<BundleRecord>,
    /// Contents of files whose send unit still holds them; file ids are 1-based positions too.
    contents: Vec<Option<Bytes>>,
    /// The send unit of each file (`id - 1`).
    file_bundle: Vec<BundleId>,
    /// Every receiver's send units in inbox order; also the key of idempotent sends (sender, receiver,
    /// serial).
    by_receiver: Map<OfficeNumber, VecDeque<(Serial, BundleId)>>,
    /// Pending send units by (sender, receiver), so that the serial-order check of a download is one
    /// lookup however long the inbox grows.
    pending: Map<(OfficeNumber, OfficeNumber), VecDeque<(Serial, BundleId)>>,
    by_sender: Map<OfficeNumber, Vec<BundleId>>,
    /// Send units by expiry. A send unit cancelled before it is due stays in the queue and is passed over
    /// when it comes due: removing it would cost more than skipping it.
    expiry: VecDeque<(OffsetDateTime, BundleId)>,
}

/// Inserts `item` into the sorted `queue` after every item not greater (at the end, as a rule).
fn insert_sorted<T: Ord>(queue: &mut VecDeque<T>, item: T) {
    if queue.back().is_none_or(|last| *last <= item) {
        queue.push_back(item);
    } else {
        let at = queue.partition_point(|x| *x <= item);
        queue.insert(at, item);
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn index(id: u64) -> Option<usize> {
        usize::try_from(id.checked_sub(1)?).ok()
    }

    fn get(&self, id: BundleId) -> Option<&BundleRecord> {
        self.bundles.get(Self::index(id.0)?)
    }

    fn drop_contents(contents: &mut [Option<Bytes>], bundle: &BundleRecord) {
        for file in bundle.files.iter() {
            if let Some(slot) = Self::index(file.id.0).and_then(|i| contents.get_mut(i)) {
                *slot = None;
            }
        }
    }

    /// Moves `bundle` in or out of the pending index.
    fn set_pending(
        pending: &mut Map<(OfficeNumber, OfficeNumber), VecDeque<(Serial, BundleId)>>,
        bundle: &BundleRecord,
        is_pending: bool,
    ) {
        let queue = pending.entry((bundle.sender, bundle.receiver)).or_default();
        let key = (bundle.serial, bundle.id);
        if is_pending {
            insert_sorted(queue, key);
        } else if let Ok(at) = queue.binary_search(&key) {
            queue.remove(at);
        }
    }

    /// Writes `change` to the send unit at position `at` (in bounds) and returns it as stored.
    fn apply(&mut self, at: usize, change: Change) -> &BundleRecord {
        let stored = &mut self.bundles[at];
        if let Some(file) = change.downloaded
            && let Some(position) = stored.files.iter().position(|f| f.id == file && !f.downloaded)
        {
            // Copies the files only while a listing or an answer still shares them.
            Arc::make_mut(&mut stored.files)[position].downloaded = true;
        }
        if let Some((status, since)) = change.status {
            let was = stored.status;
            stored.status = status;
            stored.status_at = since;
            if was.is_pending() != status.is_pending() {
                Self::set_pending(&mut self.pending, stored, status.is_pending());
            }
            if was.holds_files() && !status.holds_files() {
                Self::drop_contents(&mut self.contents, stored);
            }
        }
        stored
    }
}

impl Store for MemoryStore {
    fn insert(&mut self, bundle: NewBundle) -> Result<Inserted, StoreError> {
        let id = BundleId(self.bundles.len() as u64 + 1);
        // The receiver's inbox holds the key of idempotent sends: few send units share a receiver and a serial.
        let inbox = self.by_receiver.entry(bundle.receiver).or_default();
        let same_serial = inbox.partition_point(|(serial, _)| *serial < bundle.serial);
        let existing = inbox
            .range(same_serial..)
            .take_while(|(serial, _)| *serial == bundle.serial)
            .filter_map(|(_, id)| self.bundles.get(Self::index(id.0)?))
            .find(|stored| stored.sender == bundle.sender);
        if let Some(existing) = existing {
            return Ok(Inserted::Existing {
                stored: existing.clone(),
                refused: bundle,
            });
        }
        insert_sorted(inbox, (bundle.serial, id));
        let first_file = self.contents.len() as u64 + 1;
        // One pass moves each upload's name into the record and its bytes into `contents`.
        let files: Arc<[FileRecord]> = (first_file..)
            .zip(bundle.files)
            .map(|(file_id, file)| {
                let size = file.content.len() as u64;
                self.contents.push(Some(file.content));
                self.file_bundle.push(id);
                FileRecord {
                    id: FileId(file_id),
                    name: file.name,
                    size,
                    downloaded: false,
                }
            })
            .collect();
        let record = BundleRecord {
            id,
            sender: bundle.sender,
            receiver: bundle.receiver,
            serial: bundle.serial,
            sent_at: bundle.sent_at,
            expires_at: bundle.expires_at,
            status: BundleStatus::Unread,
            status_at: bundle.sent_at,
            files,
        };
        self.by_sender.entry(bundle.sender).or_default().push(id);
        Self::set_pending(&mut self.pending, &record, true);
        insert_sorted(&mut self.expiry, (bundle.expires_at, id));
        self.bundles.push(record.clone());
        Ok(Inserted::Created(record))
    }

    fn bundle(&mut self, id: BundleId) -> Result<Option<BundleRecord>, StoreError> {
        Ok(self.get(id).cloned())
    }

    fn inbox(&mut self, receiver: OfficeNumber) -> Result<Vec<BundleRecord>, StoreError> {
        Ok(self
            .by_receiver
            .get(&receiver)
            .into_iter()
            .flatten()
            .filter_map(|(_, id)| self.get(*id).cloned())
            .collect())
    }

    fn sent(&mut self, sender: OfficeNumber) -> Result<Vec<BundleRecord>, StoreError> {
        Ok(self
            .by_sender
            .get(&sender)
            .into_iter()
            .flatten()
            .filter_map(|id| self.get(*id).cloned())
            .collect())
    }

    fn content(&mut self, id: FileId) -> Result<Option<Bytes>, StoreError> {
        Ok(Self::index(id.0)
            .and_then(|i| self.contents.get(i))
            .cloned()
            .flatten())
    }

    fn update(&mut self, id: BundleId, decide: Decide<'_>) -> Result<BundleRecord, RelayError> {
        let Some(at) = Self::index(id.0).filter(|&at| at < self.bundles.len()) else {
            return Err(RelayError::BundleNotFound(id));
        };
        // The decision only reads; the store writes what it returns, so a refusal leaves the record as it was.
        let change = decide(&self.bundles[at])?;
        Ok(self.apply(at, change).clone())
    }

    fn download(&mut self, file: FileId, decide: DecideDownload<'_>) -> Result<DownloadedFile, RelayError> {
        let not_found = RelayError::FileNotFound(file.0);
        let Some((slot, at)) = Self::index(file.0)
            .and_then(|slot| Some((slot, Self::index(self.file_bundle.get(slot)?.0)?)))
            .filter(|&(_, at)| at < self.bundles.len())
        else {
            return Err(not_found);
        };
        let stored = &self.bundles[at];
        let first_pending = self
            .pending
            .get(&(stored.sender, stored.receiver))
            .and_then(VecDeque::front)
            .copied();
        let change = decide(stored, first_pending)?;
        let (Some(content), Some(record)) = (
            self.contents.get(slot).cloned().flatten(),
            stored.files.iter().find(|f| f.id == file),
        ) else {
            return Err(not_found);
        };
        let name = Arc::clone(&record.name);
        self.apply(at, change);
        Ok(DownloadedFile { name, content })
    }

    fn expire(&mut self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let mut expired = 0;
        while let Some(&(expires_at, id)) = self.expiry.front() {
            if expires_at > now {
                break;
            }
            self.expiry.pop_front();
            if let Some(bundle) = Self::index(id.0).and_then(|i| self.bundles.get_mut(i))
                && bundle.status.holds_files()
            {
                if bundle.status.is_pending() {
                    Self::set_pending(&mut self.pending, bundle, false);
                }
                bundle.status = BundleStatus::Expired;
                bundle.status_at = expires_at;
                Self::drop_contents(&mut self.contents, bundle);
                expired += 1;
            }
        }
        Ok(expired)
    }
}
