//! The in-memory store: scenarios and benchmarks. Nothing survives the process.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use careplan_core::OfficeNumber;
use careplan_spec::Serial;
use time::OffsetDateTime;

use crate::store::{Decide, DecideDownload, Inserted, Listed, Page};
use crate::{
    Change, DownloadedFile, FileId, FileRecord, NewSendUnit, RelayError, SendUnitId, SendUnitRecord,
    SendUnitStatus, Store, StoreError,
};

/// Maps hashed with foldhash: keys are office numbers, which the relay hashes on every request.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Send units in vectors and queues, indexed for every query the relay makes.
///
/// Send units are kept by route (a sender to a receiver), in serial order: that order is at once the key of
/// idempotent sends (sender, receiver, serial), the order in which the receiver must download, and its
/// inbox (the routes to one receiver, merged). Offices and routes are numbered when first seen and every
/// send unit keeps its route's number: a send hashes its two offices once, a download hashes nothing.
///
/// The ordered indexes are sorted queues, not trees: send units arrive almost in serial order and in
/// expiry order, so an insert lands at the end (one comparison). An out-of-order insert shifts the tail,
/// and an inbox with several senders is merged by sorting when it is listed.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Every send unit and its route; ids are 1-based positions (`id - 1`).
    send_units: Vec<(SendUnitRecord, RouteIndex)>,
    /// Every file; ids are 1-based positions too.
    files: Vec<StoredFile>,
    offices: Map<OfficeNumber, usize>,
    /// Each office's routes in and sent list, at its number.
    mailboxes: Vec<Mailbox>,
    route_numbers: Map<(OfficeNumber, OfficeNumber), RouteIndex>,
    routes: Vec<Route>,
    /// Send units by expiry. A send unit cancelled before it is due stays in the queue and is passed over
    /// when it comes due: removing it would cost more than skipping it.
    expiry: VecDeque<(OffsetDateTime, SendUnitId)>,
}

/// The number of a route, a position in [`MemoryStore::routes`].
type RouteIndex = usize;

/// A stored file: its send unit, and its bytes while the send unit holds them.
#[derive(Debug)]
struct StoredFile {
    send_unit: SendUnitId,
    content: Option<Bytes>,
}

/// One office's send units.
#[derive(Debug, Default)]
struct Mailbox {
    /// The routes addressed to it, whose send units make its inbox.
    incoming: Vec<RouteIndex>,
    sent: Vec<SendUnitId>,
}

/// The send units from one sender to one receiver.
#[derive(Debug)]
struct Route {
    sender: usize,
    receiver: usize,
    /// Every one of them by (serial, id).
    send_units: VecDeque<(Serial, SendUnitId)>,
    /// Where the first pending one may be: none before this position is pending. A send unit stops being
    /// pending (downloaded, cancelled, expired) mostly in serial order, so the position moves forward
    /// past settled ones when asked, instead of each change removing an entry from a queue.
    settled: usize,
}

/// Inserts `item` into the sorted `queue` after every item not greater (at the end, as a rule); returns
/// its position.
fn insert_sorted<T: Ord>(queue: &mut VecDeque<T>, item: T) -> usize {
    if queue.back().is_none_or(|last| *last <= item) {
        queue.push_back(item);
        return queue.len() - 1;
    }
    let at = queue.partition_point(|x| *x <= item);
    queue.insert(at, item);
    at
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store with room for `send_units` send units of `files` files in all: a caller that knows
    /// its volume (a simulated month) spares the store the copies, and the doubled peak memory, of growing.
    pub fn with_capacity(send_units: usize, files: usize) -> Self {
        Self {
            send_units: Vec::with_capacity(send_units),
            files: Vec::with_capacity(files),
            expiry: VecDeque::with_capacity(send_units),
            ..Self::default()
        }
    }

    fn index(id: u64) -> Option<usize> {
        usize::try_from(id.checked_sub(1)?).ok()
    }

    fn get(&self, id: SendUnitId) -> Option<&SendUnitRecord> {
        Some(&self.send_units.get(Self::index(id.0)?)?.0)
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
        let number = self.routes.len();
        let route = Route {
            sender: self.office(sender),
            receiver: self.office(receiver),
            send_units: VecDeque::new(),
            settled: 0,
        };
        self.mailboxes[route.receiver].incoming.push(number);
        self.routes.push(route);
        self.route_numbers.insert((sender, receiver), number);
        number
    }

    fn mailbox(&self, office: OfficeNumber) -> Option<&Mailbox> {
        self.mailboxes.get(*self.offices.get(&office)?)
    }

    /// The pending send unit of `route` with the lowest serial, as `(serial, id)`.
    fn first_pending(&mut self, route: RouteIndex) -> Option<(Serial, SendUnitId)> {
        let route = self.routes.get_mut(route)?;
        while let Some(&(serial, id)) = route.send_units.get(route.settled) {
            let pending = Self::index(id.0)
                .and_then(|at| self.send_units.get(at))
                .is_some_and(|(send_unit, _)| send_unit.status.is_pending());
            if pending {
                return Some((serial, id));
            }
            route.settled += 1;
        }
        None
    }

    fn drop_contents(files: &mut [StoredFile], send_unit: &SendUnitRecord) {
        for file in send_unit.files.iter() {
            if let Some(stored) = Self::index(file.id.0).and_then(|i| files.get_mut(i)) {
                stored.content = None;
            }
        }
    }

    /// Writes `change` to the send unit at position `at` (in bounds) and returns it as stored.
    fn apply(&mut self, at: usize, change: Change) -> &SendUnitRecord {
        let (stored, route) = &mut self.send_units[at];
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
            if !was.is_pending()
                && status.is_pending()
                && let Some(route) = self.routes.get_mut(*route)
            {
                // Pending again (no rule of the relay does it, a store allows it): not settled any more.
                let key = (stored.serial, stored.id);
                route.settled = route.settled.min(route.send_units.partition_point(|x| *x < key));
            }
            if was.holds_files() && !status.holds_files() {
                Self::drop_contents(&mut self.files, stored);
            }
        }
        stored
    }
}

impl Store for MemoryStore {
    fn insert(&mut self, send_unit: NewSendUnit) -> Result<Inserted, StoreError> {
        let id = SendUnitId(self.send_units.len() as u64 + 1);
        let number = self.route(send_unit.sender, send_unit.receiver);
        let route = &mut self.routes[number];
        // A send with a later serial than any before it on its route (the rule) is no retry.
        if route
            .send_units
            .back()
            .is_some_and(|(last, _)| *last >= send_unit.serial)
        {
            let same_serial = route
                .send_units
                .partition_point(|(serial, _)| *serial < send_unit.serial);
            if let Some((_, existing)) = route
                .send_units
                .get(same_serial)
                .filter(|(s, _)| *s == send_unit.serial)
                && let Some((stored, _)) = Self::index(existing.0).and_then(|at| self.send_units.get(at))
            {
                return Ok(Inserted::Existing {
                    stored: stored.clone(),
                    refused: send_unit,
                });
            }
        }
        let at = insert_sorted(&mut route.send_units, (send_unit.serial, id));
        // The new send unit is pending.
        route.settled = route.settled.min(at);
        let sender = route.sender;
        self.mailboxes[sender].sent.push(id);
        let first_file = self.files.len() as u64 + 1;
        // One pass moves each upload's name into the record and its bytes into `files`.
        let files: Arc<[FileRecord]> = (first_file..)
            .zip(send_unit.files)
            .map(|(file_id, file)| {
                let size = file.content.len() as u64;
                self.files.push(StoredFile {
                    send_unit: id,
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
        let record = SendUnitRecord {
            id,
            sender: send_unit.sender,
            receiver: send_unit.receiver,
            serial: send_unit.serial,
            sent_at: send_unit.sent_at,
            expires_at: send_unit.expires_at,
            status: SendUnitStatus::Unread,
            status_at: send_unit.sent_at,
            files,
        };
        insert_sorted(&mut self.expiry, (send_unit.expires_at, id));
        self.send_units.push((record.clone(), number));
        Ok(Inserted::Created(record))
    }

    fn send_unit(&mut self, id: SendUnitId) -> Result<Option<SendUnitRecord>, StoreError> {
        Ok(self.get(id).cloned())
    }

    fn inbox(&mut self, receiver: OfficeNumber, page: Page) -> Result<Listed, StoreError> {
        let Some(mailbox) = self.mailbox(receiver) else {
            return Ok(page.of(std::iter::empty()));
        };
        // Only the page's records are cloned: the keys are what is walked (and sorted, for several senders).
        let listed = match mailbox.incoming.as_slice() {
            // One sender, as a rule: its route is the inbox, in order, walked without a copy.
            [route] => page.of(self.routes[*route].send_units.iter()),
            routes => {
                let mut keys: Vec<&(Serial, SendUnitId)> = routes
                    .iter()
                    .flat_map(|route| &self.routes[*route].send_units)
                    .collect();
                keys.sort_unstable();
                page.of(keys.into_iter())
            }
        };
        Ok(Listed {
            items: listed
                .items
                .iter()
                .filter_map(|(_, id)| self.get(*id).cloned())
                .collect(),
            more: listed.more,
        })
    }

    fn sent(&mut self, sender: OfficeNumber, page: Page) -> Result<Listed, StoreError> {
        let listed = page.of(self.mailbox(sender).into_iter().flat_map(|mailbox| &mailbox.sent));
        Ok(Listed {
            items: listed
                .items
                .iter()
                .filter_map(|id| self.get(**id).cloned())
                .collect(),
            more: listed.more,
        })
    }

    fn content(&mut self, id: FileId) -> Result<Option<Bytes>, StoreError> {
        Ok(Self::index(id.0)
            .and_then(|i| self.files.get(i))
            .and_then(|file| file.content.clone()))
    }

    fn update(&mut self, id: SendUnitId, decide: Decide<'_>) -> Result<SendUnitRecord, RelayError> {
        let Some(at) = Self::index(id.0).filter(|&at| at < self.send_units.len()) else {
            return Err(RelayError::SendUnitNotFound(id));
        };
        // The decision only reads; the store writes what it returns, so a refusal leaves the record as it was.
        let change = decide(&self.send_units[at].0)?;
        Ok(self.apply(at, change).clone())
    }

    fn download(&mut self, file: FileId, decide: DecideDownload<'_>) -> Result<DownloadedFile, RelayError> {
        let not_found = || RelayError::FileNotFound(file.0);
        let Some((slot, at)) = Self::index(file.0)
            .and_then(|slot| Some((slot, Self::index(self.files.get(slot)?.send_unit.0)?)))
            .filter(|&(_, at)| at < self.send_units.len())
        else {
            return Err(not_found());
        };
        let first_pending = self.first_pending(self.send_units[at].1);
        let stored = &self.send_units[at].0;
        let change = decide(stored, first_pending)?;
        let (Some(content), Some(record)) = (
            self.files[slot].content.clone(),
            stored.files.iter().find(|f| f.id == file),
        ) else {
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
            if let Some((send_unit, _)) = Self::index(id.0).and_then(|i| self.send_units.get_mut(i))
                && send_unit.status.holds_files()
            {
                send_unit.status = SendUnitStatus::Expired;
                send_unit.status_at = expires_at;
                Self::drop_contents(&mut self.files, send_unit);
                expired += 1;
            }
        }
        Ok(expired)
    }
}
