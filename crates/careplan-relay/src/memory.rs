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

/// Send units in vectors, indexed for every query the relay makes.
///
/// Offices and routes (a sender to a receiver) are numbered when first seen, and every send unit keeps its
/// route's number: a send hashes its two offices once, a download hashes nothing.
///
/// The ordered indexes are sorted queues, not trees: send units arrive almost in serial order and in
/// expiry order, so an insert lands at the end (one comparison), and the serial order makes a download
/// take its send unit from the front of its queue. An out-of-order insert shifts the tail.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Every send unit and its route; ids are 1-based positions (`id - 1`).
    bundles: Vec<(BundleRecord, RouteIndex)>,
    /// Every file; ids are 1-based positions too.
    files: Vec<StoredFile>,
    offices: Map<OfficeNumber, usize>,
    /// Each office's inbox and sent list, at its number.
    mailboxes: Vec<Mailbox>,
    route_numbers: Map<(OfficeNumber, OfficeNumber), RouteIndex>,
    routes: Vec<Route>,
    /// Send units by expiry. A send unit cancelled before it is due stays in the queue and is passed over
    /// when it comes due: removing it would cost more than skipping it.
    expiry: VecDeque<(OffsetDateTime, BundleId)>,
}

/// The number of a route, a position in [`MemoryStore::routes`].
type RouteIndex = usize;

/// A stored file: its send unit, and its bytes while the send unit holds them.
#[derive(Debug)]
struct StoredFile {
    bundle: BundleId,
    content: Option<Bytes>,
}

/// One office's send units.
#[derive(Debug, Default)]
struct Mailbox {
    /// Send units addressed to it, in inbox order; also the key of idempotent sends (sender, receiver,
    /// serial).
    inbox: VecDeque<(Serial, BundleId)>,
    sent: Vec<BundleId>,
}

/// Send units from one sender to one receiver.
#[derive(Debug)]
struct Route {
    sender: usize,
    receiver: usize,
    /// The pending ones by serial, so that the serial-order check of a download is one look at the front
    /// however long the inbox grows.
    pending: VecDeque<(Serial, BundleId)>,
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
        Some(&self.bundles.get(Self::index(id.0)?)?.0)
    }

    /// The number of `office`, numbering it when first seen.
    fn office(&mut self, office: OfficeNumber) -> usize {
        *self.offices.entry(office).or_insert_with(|| {
            self.mailboxes.push(Mailbox::default());
            self.mailboxes.len() - 1
        })
    }

    /// The number of the route from `sender` to `receiver`, numbering it when first seen.
    fn route(&mut self, sender: OfficeNumber, receiver: OfficeNumber) -> RouteIndex {
        if let Some(&route) = self.route_numbers.get(&(sender, receiver)) {
            return route;
        }
        let route = Route {
            sender: self.office(sender),
            receiver: self.office(receiver),
            pending: VecDeque::new(),
        };
        self.routes.push(route);
        self.route_numbers
            .insert((sender, receiver), self.routes.len() - 1);
        self.routes.len() - 1
    }

    fn mailbox(&self, office: OfficeNumber) -> Option<&Mailbox> {
        self.mailboxes.get(*self.offices.get(&office)?)
    }

    fn drop_contents(files: &mut [StoredFile], bundle: &BundleRecord) {
        for file in bundle.files.iter() {
            if let Some(stored) = Self::index(file.id.0).and_then(|i| files.get_mut(i)) {
                stored.content = None;
            }
        }
    }

    /// Moves `bundle` in or out of its route's pending queue.
    fn set_pending(route: &mut Route, bundle: &BundleRecord, is_pending: bool) {
        let key = (bundle.serial, bundle.id);
        if is_pending {
            insert_sorted(&mut route.pending, key);
        } else if let Ok(at) = route.pending.binary_search(&key) {
            route.pending.remove(at);
        }
    }

    /// Writes `change` to the send unit at position `at` (in bounds) and returns it as stored.
    fn apply(&mut self, at: usize, change: Change) -> &BundleRecord {
        let (stored, route) = &mut self.bundles[at];
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
            if was.is_pending() != status.is_pending()
                && let Some(route) = self.routes.get_mut(*route)
            {
                Self::set_pending(route, stored, status.is_pending());
            }
            if was.holds_files() && !status.holds_files() {
                Self::drop_contents(&mut self.files, stored);
            }
        }
        stored
    }
}

impl Store for MemoryStore {
    fn insert(&mut self, bundle: NewBundle) -> Result<Inserted, StoreError> {
        let id = BundleId(self.bundles.len() as u64 + 1);
        let route = self.route(bundle.sender, bundle.receiver);
        let (sender, receiver) = (self.routes[route].sender, self.routes[route].receiver);
        // The receiver's inbox holds the key of idempotent sends: few send units share a receiver and a
        // serial, and a send with a later serial than any before it (the rule) shares it with none.
        let inbox = &mut self.mailboxes[receiver].inbox;
        if inbox.back().is_some_and(|(last, _)| *last >= bundle.serial) {
            let same_serial = inbox.partition_point(|(serial, _)| *serial < bundle.serial);
            let existing = inbox
                .range(same_serial..)
                .take_while(|(serial, _)| *serial == bundle.serial)
                .filter_map(|(_, id)| Some(&self.bundles.get(Self::index(id.0)?)?.0))
                .find(|stored| stored.sender == bundle.sender);
            if let Some(existing) = existing {
                return Ok(Inserted::Existing {
                    stored: existing.clone(),
                    refused: bundle,
                });
            }
        }
        insert_sorted(inbox, (bundle.serial, id));
        self.mailboxes[sender].sent.push(id);
        let first_file = self.files.len() as u64 + 1;
        // One pass moves each upload's name into the record and its bytes into `files`.
        let files: Arc<[FileRecord]> = (first_file..)
            .zip(bundle.files)
            .map(|(file_id, file)| {
                let size = file.content.len() as u64;
                self.files.push(StoredFile {
                    bundle: id,
                    content: Some(file.content),
                });
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
        Self::set_pending(&mut self.routes[route], &record, true);
        insert_sorted(&mut self.expiry, (bundle.expires_at, id));
        self.bundles.push((record.clone(), route));
        Ok(Inserted::Created(record))
    }

    fn bundle(&mut self, id: BundleId) -> Result<Option<BundleRecord>, StoreError> {
        Ok(self.get(id).cloned())
    }

    fn inbox(&mut self, receiver: OfficeNumber) -> Result<Vec<BundleRecord>, StoreError> {
        Ok(self
            .mailbox(receiver)
            .into_iter()
            .flat_map(|mailbox| &mailbox.inbox)
            .filter_map(|(_, id)| self.get(*id).cloned())
            .collect())
    }

    fn sent(&mut self, sender: OfficeNumber) -> Result<Vec<BundleRecord>, StoreError> {
        Ok(self
            .mailbox(sender)
            .into_iter()
            .flat_map(|mailbox| &mailbox.sent)
            .filter_map(|id| self.get(*id).cloned())
            .collect())
    }

    fn content(&mut self, id: FileId) -> Result<Option<Bytes>, StoreError> {
        Ok(Self::index(id.0)
            .and_then(|i| self.files.get(i))
            .and_then(|file| file.content.clone()))
    }

    fn update(&mut self, id: BundleId, decide: Decide<'_>) -> Result<BundleRecord, RelayError> {
        let Some(at) = Self::index(id.0).filter(|&at| at < self.bundles.len()) else {
            return Err(RelayError::BundleNotFound(id));
        };
        // The decision only reads; the store writes what it returns, so a refusal leaves the record as it was.
        let change = decide(&self.bundles[at].0)?;
        Ok(self.apply(at, change).clone())
    }

    fn download(&mut self, file: FileId, decide: DecideDownload<'_>) -> Result<DownloadedFile, RelayError> {
        let not_found = || RelayError::FileNotFound(file.0);
        let Some((content, at)) = Self::index(file.0)
            .and_then(|slot| self.files.get(slot))
            .and_then(|stored| Some((&stored.content, Self::index(stored.bundle.0)?)))
            .filter(|&(_, at)| at < self.bundles.len())
        else {
            return Err(not_found());
        };
        let (stored, route) = &self.bundles[at];
        let first_pending = self.routes.get(*route).and_then(|r| r.pending.front()).copied();
        let change = decide(stored, first_pending)?;
        let (Some(content), Some(record)) = (content.clone(), stored.files.iter().find(|f| f.id == file))
        else {
            return Err(not_found());
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
            if let Some((bundle, route)) = Self::index(id.0).and_then(|i| self.bundles.get_mut(i))
                && bundle.status.holds_files()
            {
                if bundle.status.is_pending()
                    && let Some(route) = self.routes.get_mut(*route)
                {
                    Self::set_pending(route, bundle, false);
                }
                bundle.status = BundleStatus::Expired;
                bundle.status_at = expires_at;
                Self::drop_contents(&mut self.files, bundle);
                expired += 1;
            }
        }
        Ok(expired)
    }
}
