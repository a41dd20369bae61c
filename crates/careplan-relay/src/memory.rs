//! The in-memory store: scenarios and benchmarks. Nothing survives the process.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use careplan_core::OfficeNumber;
use careplan_spec::Serial;
use time::OffsetDateTime;

use crate::store::{Decide, DecideDownload, DownloadState, Inserted, Listed, Page};
use crate::{
    Change, DownloadedFile, FileId, FileRecord, NewSendUnit, RelayError, SendUnitId, SendUnitRecord,
    SendUnitStatus, Store, StoreError,
};

/// Maps hashed with foldhash: keys are office numbers, which the relay hashes on every request.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Send units in vectors and queues, indexed for every query the relay makes, in a compact form: a
/// national month is some fifteen million send units, and the store holds every one of them.
///
/// Send units are kept by route (a sender to a receiver), in serial order: that order is at once the key of
/// idempotent sends (sender, receiver, serial), the order in which the receiver must download, and its
/// inbox (the routes to one receiver, merged). Offices and routes are numbered when first seen and every
/// send unit keeps its route's number: a send hashes its two offices once, a download hashes nothing.
///
/// The ordered indexes are sorted queues of ids, not trees: send units arrive almost in serial order and in
/// expiry order, so an insert lands at the end (one comparison). An out-of-order insert shifts the tail,
/// and an inbox with several senders is merged by sorting when it is listed. The indexes hold ids only;
/// what they are ordered by (serial, expiry) is read from the send unit.
///
/// A [`SendUnitRecord`] is made when one is asked for, not kept: the stored form numbers its offices,
/// keeps its files' names in one arena and its files' fields beside their bytes, so a send unit costs a
/// few hundred bytes rather than a dozen allocations.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Every send unit; ids are 1-based positions (`id - 1`).
    send_units: Vec<StoredSendUnit>,
    /// Every file; ids are 1-based positions too. A send unit's files are consecutive.
    files: Vec<StoredFile>,
    /// Every file's name, one after the other.
    names: String,
    offices: Map<OfficeNumber, OfficeIndex>,
    /// Each office's number, routes in and sent list, at its index.
    mailboxes: Vec<Mailbox>,
    route_numbers: Map<(OfficeIndex, OfficeIndex), RouteIndex>,
    routes: Vec<Route>,
    /// Send units by expiry. A send unit cancelled before it is due stays in the queue and is passed over
    /// when it comes due: removing it would cost more than skipping it.
    expiry: VecDeque<SendUnitId>,
}

/// The index of an office, a position in [`MemoryStore::mailboxes`].
type OfficeIndex = u32;

/// The number of a route, a position in [`MemoryStore::routes`].
type RouteIndex = u32;

/// A send unit as kept: a [`SendUnitRecord`] without its offices (its route's) and files (a range of
/// [`MemoryStore::files`]).
#[derive(Debug, Clone, Copy)]
struct StoredSendUnit {
    route: RouteIndex,
    status: SendUnitStatus,
    serial: Serial,
    sent_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    status_at: OffsetDateTime,
    /// Position of its first file in [`MemoryStore::files`].
    first_file: usize,
    file_count: u32,
}

impl StoredSendUnit {
    fn files(&self) -> std::ops::Range<usize> {
        self.first_file..self.first_file + self.file_count as usize
    }
}

/// A stored file: its send unit, its name in [`MemoryStore::names`], and its bytes while the send unit
/// holds them.
#[derive(Debug)]
struct StoredFile {
    send_unit: SendUnitId,
    content: Option<Bytes>,
    name_start: usize,
    name_len: u32,
    downloaded: bool,
    size: u64,
}

/// One office's send units.
#[derive(Debug)]
struct Mailbox {
    number: OfficeNumber,
    /// The routes addressed to it, whose send units make its inbox.
    incoming: Vec<RouteIndex>,
    sent: Vec<SendUnitId>,
}

/// The send units from one sender to one receiver.
#[derive(Debug)]
struct Route {
    sender: OfficeIndex,
    receiver: OfficeIndex,
    /// Every one of them by (serial, id).
    send_units: VecDeque<SendUnitId>,
    /// Where the first pending one may be: none before this position is pending. A send unit stops being
    /// pending (downloaded, cancelled, expired) mostly in serial order, so the position moves forward
    /// past settled ones when asked, instead of each change removing an entry from a queue.
    settled: usize,
}

/// Inserts `item` into `queue`, sorted by `key`, after every item whose key is not greater (at the end,
/// as a rule); returns its position.
fn insert_sorted<T: Copy, K: Ord>(queue: &mut VecDeque<T>, item: T, key: impl Fn(T) -> K) -> usize {
    let new = key(item);
    if queue.back().is_none_or(|last| key(*last) <= new) {
        queue.push_back(item);
        return queue.len() - 1;
    }
    let at = queue.partition_point(|x| key(*x) <= new);
    queue.insert(at, item);
    at
}

/// Send unit `id` of an index (a route's, the expiry queue): the indexes hold only ids handed out by
/// [`Store::insert`], positions of `send_units` plus one, and nothing is ever removed from it.
fn indexed(send_units: &[StoredSendUnit], id: SendUnitId) -> &StoredSendUnit {
    &send_units[(id.0 - 1) as usize]
}

/// A position of a vector as an index of 32 bits: a store of four billion offices or routes is full.
fn index32(len: usize) -> Result<u32, StoreError> {
    u32::try_from(len).map_err(|_| StoreError::backend("the memory store is full: 2^32 offices or routes"))
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

    /// The (serial, id) key a send unit is ordered by on its route and in an inbox. Only for the ids the
    /// indexes hold, which are those of stored send units.
    fn key(&self, id: SendUnitId) -> (Serial, SendUnitId) {
        (indexed(&self.send_units, id).serial, id)
    }

    fn name(&self, file: &StoredFile) -> &str {
        &self.names[file.name_start..file.name_start + file.name_len as usize]
    }

    /// The record of the send unit at position `at` (in bounds), as the relay sees it.
    fn record(&self, at: usize) -> SendUnitRecord {
        let stored = &self.send_units[at];
        let route = &self.routes[stored.route as usize];
        let files = self.files[stored.files()]
            .iter()
            .zip(stored.first_file as u64 + 1..)
            .map(|(file, id)| FileRecord {
                id: FileId(id),
                name: Arc::from(self.name(file)),
                size: file.size,
                downloaded: file.downloaded,
            })
            .collect();
        SendUnitRecord {
            id: SendUnitId(at as u64 + 1),
            sender: self.mailboxes[route.sender as usize].number,
            receiver: self.mailboxes[route.receiver as usize].number,
            serial: stored.serial,
            sent_at: stored.sent_at,
            expires_at: stored.expires_at,
            status: stored.status,
            status_at: stored.status_at,
            files,
        }
    }

    /// What the relay decides a download of `file` from the send unit at `at` on, read in place.
    fn download_state(&self, at: usize, file: FileId) -> DownloadState {
        let stored = &self.send_units[at];
        DownloadState {
            id: SendUnitId(at as u64 + 1),
            receiver: self.mailboxes[self.routes[stored.route as usize].receiver as usize].number,
            serial: stored.serial,
            status: stored.status,
            others_downloaded: self.files[stored.files()]
                .iter()
                .zip(stored.first_file as u64 + 1..)
                .all(|(f, id)| f.downloaded || id == file.0),
        }
    }

    fn get(&self, id: SendUnitId) -> Option<SendUnitRecord> {
        let at = Self::index(id.0).filter(|&at| at < self.send_units.len())?;
        Some(self.record(at))
    }

    /// The index of `office`, numbering it when first seen.
    fn office(&mut self, office: OfficeNumber) -> Result<OfficeIndex, StoreError> {
        if let Some(&index) = self.offices.get(&office) {
            return Ok(index);
        }
        let index = index32(self.mailboxes.len())?;
        self.mailboxes.push(Mailbox {
            number: office,
            incoming: Vec::new(),
            sent: Vec::new(),
        });
        self.offices.insert(office, index);
        Ok(index)
    }

    /// The number of the route from `sender` to `receiver`, numbering it when first seen.
    fn route(&mut self, sender: OfficeNumber, receiver: OfficeNumber) -> Result<RouteIndex, StoreError> {
        let (sender, receiver) = (self.office(sender)?, self.office(receiver)?);
        if let Some(&route) = self.route_numbers.get(&(sender, receiver)) {
            return Ok(route);
        }
        let number = index32(self.routes.len())?;
        self.mailboxes[receiver as usize].incoming.push(number);
        self.routes.push(Route {
            sender,
            receiver,
            send_units: VecDeque::new(),
            settled: 0,
        });
        self.route_numbers.insert((sender, receiver), number);
        Ok(number)
    }

    fn mailbox(&self, office: OfficeNumber) -> Option<&Mailbox> {
        self.mailboxes.get(*self.offices.get(&office)? as usize)
    }

    /// The pending send unit of `route` with the lowest serial, as `(serial, id)`.
    fn first_pending(&mut self, route: RouteIndex) -> Option<(Serial, SendUnitId)> {
        let route = self.routes.get_mut(route as usize)?;
        while let Some(&id) = route.send_units.get(route.settled) {
            let stored = Self::index(id.0).and_then(|at| self.send_units.get(at));
            if let Some(stored) = stored.filter(|s| s.status.is_pending()) {
                return Some((stored.serial, id));
            }
            route.settled += 1;
        }
        None
    }

    fn drop_contents(files: &mut [StoredFile], send_unit: &StoredSendUnit) {
        for file in &mut files[send_unit.files()] {
            file.content = None;
        }
    }

    /// Writes `change` to the send unit at position `at` (in bounds).
    fn apply(&mut self, at: usize, change: Change) {
        let stored = &mut self.send_units[at];
        if let Some(file) = change.downloaded
            && let Some(slot) = Self::index(file.0).filter(|slot| stored.files().contains(slot))
        {
            self.files[slot].downloaded = true;
        }
        if let Some((status, since)) = change.status {
            let was = stored.status;
            stored.status = status;
            stored.status_at = since;
            let stored = *stored;
            if !was.is_pending() && status.is_pending() {
                // Pending again (no rule of the relay does it, a store allows it): not settled any more.
                let key = (stored.serial, SendUnitId(at as u64 + 1));
                let position = self.routes[stored.route as usize]
                    .send_units
                    .partition_point(|id| self.key(*id) < key);
                let route = &mut self.routes[stored.route as usize];
                route.settled = route.settled.min(position);
            }
            if was.holds_files() && !status.holds_files() {
                Self::drop_contents(&mut self.files, &stored);
            }
        }
    }
}

impl Store for MemoryStore {
    fn insert(&mut self, send_unit: NewSendUnit) -> Result<Inserted, StoreError> {
        let id = SendUnitId(self.send_units.len() as u64 + 1);
        let number = self.route(send_unit.sender, send_unit.receiver)?;
        let route = &self.routes[number as usize];
        // A send with a later serial than any before it on its route (the rule) is no retry.
        if route
            .send_units
            .back()
            .is_some_and(|last| self.key(*last).0 >= send_unit.serial)
        {
            let same_serial = route
                .send_units
                .partition_point(|id| self.key(*id).0 < send_unit.serial);
            if let Some(existing) = route
                .send_units
                .get(same_serial)
                .filter(|id| self.key(**id).0 == send_unit.serial)
                && let Some(stored) = self.get(*existing)
            {
                return Ok(Inserted::Existing {
                    stored,
                    refused: send_unit,
                });
            }
        }
        let stored = StoredSendUnit {
            route: number,
            status: SendUnitStatus::Unread,
            serial: send_unit.serial,
            sent_at: send_unit.sent_at,
            expires_at: send_unit.expires_at,
            status_at: send_unit.sent_at,
            first_file: self.files.len(),
            file_count: u32::try_from(send_unit.files.len())
                .map_err(|_| StoreError::backend("more than 2^32 files in one send unit"))?,
        };
        self.send_units.push(stored);
        let (send_units, routes) = (&self.send_units, &mut self.routes);
        let route = &mut routes[number as usize];
        let at = insert_sorted(&mut route.send_units, id, |id| {
            (indexed(send_units, id).serial, id)
        });
        // The new send unit is pending.
        route.settled = route.settled.min(at);
        let sender = route.sender;
        // Indexed like `serial_of`: the queue holds ids of stored send units only.
        insert_sorted(&mut self.expiry, id, |id| {
            (send_units[(id.0 - 1) as usize].expires_at, id)
        });
        self.mailboxes[sender as usize].sent.push(id);
        // One pass copies each upload's name into the arena and moves its bytes into `files`, and its
        // name into the record returned.
        let first_file = self.files.len() as u64 + 1;
        let (files, names) = (&mut self.files, &mut self.names);
        let record = send_unit.stored(id, (first_file..).map(FileId), |_, name, content| {
            files.push(StoredFile {
                send_unit: id,
                size: content.len() as u64,
                content: Some(content),
                name_start: names.len(),
                name_len: name.len() as u32,
                downloaded: false,
            });
            names.push_str(name);
        });
        Ok(Inserted::Created(record))
    }

    fn send_unit(&mut self, id: SendUnitId) -> Result<Option<SendUnitRecord>, StoreError> {
        Ok(self.get(id))
    }

    fn inbox(&mut self, receiver: OfficeNumber, page: Page) -> Result<Listed, StoreError> {
        let Some(mailbox) = self.mailbox(receiver) else {
            return Ok(page.of(std::iter::empty()));
        };
        // Only the page's records are made: the ids are what is walked (and sorted, for several senders).
        let listed = match mailbox.incoming.as_slice() {
            // One sender, as a rule: its route is the inbox, in order, walked without a copy.
            [route] => page.of(self.routes[*route as usize].send_units.iter().copied()),
            routes => {
                let mut keys: Vec<(Serial, SendUnitId)> = routes
                    .iter()
                    .flat_map(|route| &self.routes[*route as usize].send_units)
                    .map(|id| self.key(*id))
                    .collect();
                keys.sort_unstable();
                page.of(keys.into_iter().map(|(_, id)| id))
            }
        };
        Ok(Listed {
            items: listed.items.iter().filter_map(|id| self.get(*id)).collect(),
            more: listed.more,
        })
    }

    fn sent(&mut self, sender: OfficeNumber, page: Page) -> Result<Listed, StoreError> {
        let listed = page.of(self.mailbox(sender).into_iter().flat_map(|mailbox| &mailbox.sent));
        Ok(Listed {
            items: listed.items.iter().filter_map(|id| self.get(**id)).collect(),
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
        let change = decide(&self.record(at))?;
        self.apply(at, change);
        Ok(self.record(at))
    }

    fn download(&mut self, file: FileId, decide: DecideDownload<'_>) -> Result<DownloadedFile, RelayError> {
        let not_found = || RelayError::FileNotFound(file.0);
        let Some((slot, at)) = Self::index(file.0)
            .and_then(|slot| Some((slot, Self::index(self.files.get(slot)?.send_unit.0)?)))
            .filter(|&(_, at)| at < self.send_units.len())
        else {
            return Err(not_found());
        };
        let first_pending = self.first_pending(self.send_units[at].route);
        let change = decide(&self.download_state(at, file), first_pending)?;
        let stored = &self.files[slot];
        let Some(content) = stored.content.clone() else {
            return Err(not_found());
        };
        let name = Arc::from(self.name(stored));
        self.apply(at, change);
        Ok(DownloadedFile { name, content })
    }

    fn expire(&mut self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let mut expired = 0;
        while let Some(&id) = self.expiry.front() {
            if indexed(&self.send_units, id).expires_at > now {
                break;
            }
            self.expiry.pop_front();
            // In bounds: `indexed` read it above.
            let send_unit = &mut self.send_units[(id.0 - 1) as usize];
            if send_unit.status.holds_files() {
                send_unit.status = SendUnitStatus::Expired;
                send_unit.status_at = send_unit.expires_at;
                let send_unit = *send_unit;
                Self::drop_contents(&mut self.files, &send_unit);
                expired += 1;
            }
        }
        Ok(expired)
    }
}
