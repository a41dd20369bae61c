//! The in-memory store: scenarios and benchmarks. Nothing survives the process.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bytes::Bytes;
use careplan_core::OfficeNumber;
use careplan_spec::Serial;
use time::OffsetDateTime;

use crate::store::{Change, Inserted};
use crate::{
    BundleId, BundleRecord, BundleStatus, FileId, FileRecord, NewBundle, RelayError, Store, StoreError,
};

/// Send units in maps, indexed for every query the relay makes.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Every send unit; ids are 1-based positions (`id - 1`).
    bundles: Vec<BundleRecord>,
    /// Contents of files whose send unit still holds them; file ids are 1-based positions too.
    contents: Vec<Option<Bytes>>,
    /// The send unit of each file (`id - 1`).
    file_bundle: Vec<BundleId>,
    by_key: HashMap<(OfficeNumber, OfficeNumber, Serial), BundleId>,
    by_receiver: BTreeMap<OfficeNumber, BTreeSet<(Serial, BundleId)>>,
    by_sender: BTreeMap<OfficeNumber, Vec<BundleId>>,
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
        for file in &bundle.files {
            if let Some(slot) = Self::index(file.id.0).and_then(|i| contents.get_mut(i)) {
                *slot = None;
            }
        }
    }
}

impl Store for MemoryStore {
    fn insert(&mut self, bundle: NewBundle) -> Result<Inserted, StoreError> {
        let key = (bundle.sender, bundle.receiver, bundle.serial);
        if let Some(existing) = self.by_key.get(&key).and_then(|id| self.get(*id)) {
            return Ok(Inserted::Existing(existing.clone()));
        }
        let id = BundleId(self.bundles.len() as u64 + 1);
        let mut files = Vec::with_capacity(bundle.files.len());
        for file in bundle.files {
            let file_id = FileId(self.contents.len() as u64 + 1);
            files.push(FileRecord {
                id: file_id,
                name: file.name,
                size: file.content.len() as u64,
                downloaded: false,
            });
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
        self.by_key.insert(key, id);
        self.by_receiver
            .entry(bundle.receiver)
            .or_default()
            .insert((bundle.serial, id));
        self.by_sender.entry(bundle.sender).or_default().push(id);
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
            .by_receiver
            .get(&receiver)
            .into_iter()
            .flatten()
            .find(|(_, id)| {
                self.get(*id)
                    .is_some_and(|b| b.sender == sender && b.status.is_pending())
            })
            .copied())
    }

    fn content(&mut self, id: FileId) -> Result<Option<Bytes>, StoreError> {
        Ok(Self::index(id.0)
            .and_then(|i| self.contents.get(i))
            .cloned()
            .flatten())
    }

    fn update(&mut self, id: BundleId, change: Change<'_>) -> Result<BundleRecord, RelayError> {
        let Some(stored) = Self::index(id.0).and_then(|i| self.bundles.get_mut(i)) else {
            return Err(RelayError::BundleNotFound(id));
        };
        // Work on a copy so that a refused change leaves the record untouched.
        let mut changed = stored.clone();
        change(&mut changed)?;
        stored.status = changed.status;
        stored.status_at = changed.status_at;
        for (file, new) in stored.files.iter_mut().zip(&changed.files) {
            file.downloaded = new.downloaded;
        }
        if !stored.status.holds_files() && self.live.remove(&(stored.expires_at, id)) {
            Self::drop_contents(&mut self.contents, stored);
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
                bundle.status = BundleStatus::Expired;
                bundle.status_at = expires_at;
                Self::drop_contents(&mut self.contents, bundle);
                expired += 1;
            }
        }
        Ok(expired)
    }
}
