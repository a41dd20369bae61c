//! The in-memory store: scenarios and benchmarks. Nothing survives the process.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use careplan_core::OfficeNumber;
use careplan_spec::Serial;
use time::OffsetDateTime;

use crate::store::{Decide, Inserted};
use crate::{
    BundleId, BundleRecord, BundleStatus, FileId, FileRecord, NewBundle, RelayError, Store, StoreError,
};

/// Maps hashed with foldhash: keys are office numbers, which the relay hashes on every request.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Send units in maps, indexed for every query the relay makes.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Every send unit; ids are 1-based positions (`id - 1`).
    bundles: Vec<BundleRecord>,
    /// Contents of files whose send unit still holds them; file ids are 1-based positions too.
    contents: Vec<Option<Bytes>>,
    /// The send unit of each file (`id - 1`).
    file_bundle: Vec<BundleId>,
    /// Every receiver's send units in inbox order; also the key of idempotent sends (sender, receiver,
    /// serial): few send units share a receiver and a serial.
    by_receiver: Map<OfficeNumber, BTreeSet<(Serial, BundleId)>>,
    /// Pending send units by (sender, receiver), so that the serial-order check of a download is one
    /// lookup however long the inbox grows.
    pending: Map<(OfficeNumber, OfficeNumber), BTreeSet<(Serial, BundleId)>>,
    by_sender: Map<OfficeNumber, Vec<BundleId>>,
    /// Send units that still hold files, by expiry.
    live: BTreeSet<(OffsetDateTime, BundleId)>,
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
        pending: &mut Map<(OfficeNumber, OfficeNumber), BTreeSet<(Serial, BundleId)>>,
        bundle: &BundleRecord,
        is_pending: bool,
    ) {
        let set = pending.entry((bundle.sender, bundle.receiver)).or_default();
        if is_pending {
            set.insert((bundle.serial, bundle.id));
        } else {
            set.remove(&(bundle.serial, bundle.id));
        }
    }

    /// The stored send unit with the key of `bundle`.
    fn existing(&self, bundle: &NewBundle) -> Option<&BundleRecord> {
        let same_serial = (bundle.serial, BundleId(0))..=(bundle.serial, BundleId(u64::MAX));
        self.by_receiver
            .get(&bundle.receiver)?
            .range(same_serial)
            .filter_map(|(_, id)| self.get(*id))
            .find(|stored| stored.sender == bundle.sender)
    }
}

impl Store for MemoryStore {
    fn insert(&mut self, bundle: NewBundle) -> Result<Inserted, StoreError> {
        if let Some(existing) = self.existing(&bundle) {
            return Ok(Inserted::Existing {
                stored: existing.clone(),
                refused: bundle,
            });
        }
        let id = BundleId(self.bundles.len() as u64 + 1);
        let first_file = self.contents.len() as u64 + 1;
        let files: Arc<[FileRecord]> = (first_file..)
            .zip(&bundle.files)
            .map(|(file_id, file)| FileRecord {
                id: FileId(file_id),
                name: Arc::clone(&file.name),
                size: file.content.len() as u64,
                downloaded: false,
            })
            .collect();
        for file in bundle.files {
            self.contents.push(Some(file.content));
            self.file_bundle.push(id);
        }
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
        self.by_receiver
            .entry(bundle.receiver)
            .or_default()
            .insert((bundle.serial, id));
        self.by_sender.entry(bundle.sender).or_default().push(id);
        self.pending
            .entry((bundle.sender, bundle.receiver))
            .or_default()
            .insert((bundle.serial, id));
        self.live.insert((bundle.expires_at, id));
        self.bundles.push(record.clone());
        Ok(Inserted::Created(record))
    }

    fn bundle(&mut self, id: BundleId) -> Result<Option<BundleRecord>, StoreError> {
        Ok(self.get(id).cloned())
    }

    fn bundle_of_file(&mut self, id: FileId) -> Result<Option<BundleRecord>, StoreError> {
        let bundle = Self::index(id.0).and_then(|i| self.file_bundle.get(i)).copied();
        Ok(bundle.and_then(|b| self.get(b)).cloned())
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

    fn first_pending(
        &mut self,
        sender: OfficeNumber,
        receiver: OfficeNumber,
    ) -> Result<Option<(Serial, BundleId)>, StoreError> {
        Ok(self
            .pending
            .get(&(sender, receiver))
            .and_then(BTreeSet::first)
            .copied())
    }

    fn content(&mut self, id: FileId) -> Result<Option<Bytes>, StoreError> {
        Ok(Self::index(id.0)
            .and_then(|i| self.contents.get(i))
            .cloned()
            .flatten())
    }

    fn update(&mut self, id: BundleId, decide: Decide<'_>) -> Result<BundleRecord, RelayError> {
        let Some(stored) = Self::index(id.0).and_then(|i| self.bundles.get_mut(i)) else {
            return Err(RelayError::BundleNotFound(id));
        };
        // The decision only reads; the store writes what it returns, so a refusal leaves the record as it was.
        let change = decide(stored)?;
        if let Some(file) = change.downloaded
            && let Some(at) = stored.files.iter().position(|f| f.id == file && !f.downloaded)
        {
            // Copies the files only while a listing or an answer still shares them.
            Arc::make_mut(&mut stored.files)[at].downloaded = true;
        }
        if let Some((status, at)) = change.status {
            let was_pending = stored.status.is_pending();
            stored.status = status;
            stored.status_at = at;
            if was_pending != status.is_pending() {
                Self::set_pending(&mut self.pending, stored, status.is_pending());
            }
            if !status.holds_files() && self.live.remove(&(stored.expires_at, id)) {
                Self::drop_contents(&mut self.contents, stored);
            }
        }
        Ok(stored.clone())
    }

    fn expire(&mut self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let mut expired = 0;
        while let Some(&(expires_at, id)) = self.live.first() {
            if expires_at > now {
                break;
            }
            self.live.pop_first();
            if let Some(bundle) = Self::index(id.0).and_then(|i| self.bundles.get_mut(i)) {
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
