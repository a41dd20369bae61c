//! The SQLite store: one file, the embedded default of `serve`.

use std::path::Path;

use bytes::Bytes;
use careplan_core::OfficeNumber;
use careplan_relay::{
    Change, Decide, DecideDownload, DownloadState, DownloadedFile, FileId, Inserted, Listed, NewSendUnit,
    Page, RelayError, SendUnitId, SendUnitRecord, Store, StoreError,
};
use careplan_spec::Serial;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use time::OffsetDateTime;

use crate::rows::{
    FILE_COLUMNS, FileRow, LIVE, PENDING, SEND_UNIT_COLUMNS, SendUnitRow, assemble, limit_offset, listed,
    micros, pending_key, sql_id, status_text,
};

// Send units live in the table `bundles` (and files point at them by `bundle`): the names of the first
// schema, kept so that databases written before the code said "send unit" open unchanged.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bundles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sender TEXT NOT NULL,
    receiver TEXT NOT NULL,
    serial TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    status_at INTEGER NOT NULL,
    UNIQUE (sender, receiver, serial)
);
CREATE INDEX IF NOT EXISTS bundles_by_receiver ON bundles (receiver, serial, id);
CREATE INDEX IF NOT EXISTS bundles_by_sender ON bundles (sender, id);
CREATE INDEX IF NOT EXISTS bundles_by_expiry ON bundles (expires_at)
    WHERE status IN ('unread', 'received', 'downloaded');
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bundle INTEGER NOT NULL REFERENCES bundles (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    downloaded INTEGER NOT NULL DEFAULT 0,
    content BLOB
);
CREATE INDEX IF NOT EXISTS files_by_bundle ON files (bundle, position);
";

/// Opens (or creates) the database file at `path` for durable use. Shared by the store and the journal.
pub(crate) fn open_connection(path: &Path) -> Result<Connection, String> {
    let connection = Connection::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    durable(&connection).map_err(|e| format!("SQLite: {e}"))?;
    Ok(connection)
}

/// WAL lets readers go on while one writer commits; FULL makes every commit reach the disk before it is
/// acknowledged. The busy timeout covers several processes sharing the file.
fn durable(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA busy_timeout = 10000;",
    )
}

/// Send units in one SQLite database file.
#[derive(Debug)]
pub struct SqliteStore {
    connection: Connection,
}

fn backend(error: rusqlite::Error) -> StoreError {
    StoreError::backend(format!("SQLite: {error}"))
}

fn send_unit_row(row: &Row<'_>) -> rusqlite::Result<SendUnitRow> {
    Ok(SendUnitRow {
        id: row.get(0)?,
        sender: row.get(1)?,
        receiver: row.get(2)?,
        serial: row.get(3)?,
        sent_at: row.get(4)?,
        expires_at: row.get(5)?,
        status: row.get(6)?,
        status_at: row.get(7)?,
    })
}

fn file_row(row: &Row<'_>) -> rusqlite::Result<FileRow> {
    Ok(FileRow {
        send_unit: row.get(0)?,
        id: row.get(1)?,
        name: row.get(2)?,
        size: row.get(3)?,
        downloaded: row.get(4)?,
    })
}

impl SqliteStore {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::prepare(open_connection(path).map_err(StoreError::backend)?)
    }

    /// A private database in memory (tests and benchmarks of the SQL itself).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::prepare(Connection::open_in_memory().map_err(backend)?)
    }

    /// How many send units the store holds.
    pub fn send_unit_count(&mut self) -> Result<u64, StoreError> {
        let count: i64 = self
            .connection
            .query_row("SELECT count(*) FROM bundles", [], |row| row.get(0))
            .map_err(backend)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// The bytes its pages take (the database file once its write-ahead log is checkpointed).
    pub fn size_bytes(&mut self) -> Result<u64, StoreError> {
        let size: i64 = self
            .connection
            .query_row(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                [],
                |row| row.get(0),
            )
            .map_err(backend)?;
        Ok(u64::try_from(size).unwrap_or(0))
    }

    fn prepare(connection: Connection) -> Result<Self, StoreError> {
        durable(&connection).map_err(backend)?;
        connection.execute_batch(SCHEMA).map_err(backend)?;
        Ok(Self { connection })
    }

    /// A page of the send units chosen by `filter` (an SQL condition on `bundles` with one parameter), in
    /// `order`.
    fn listed(
        &self,
        filter: &str,
        order: &str,
        value: &dyn rusqlite::ToSql,
        page: Page,
    ) -> Result<Listed, StoreError> {
        Ok(listed(
            records(&self.connection, filter, order, value, page)?,
            page,
        ))
    }
}

/// The send units chosen by `filter` in `order`, as [`limit_offset`] reads `page`: the page's files are
/// read with them, and nothing beyond.
fn records(
    connection: &Connection,
    filter: &str,
    order: &str,
    value: &dyn rusqlite::ToSql,
    page: Page,
) -> Result<Vec<SendUnitRecord>, StoreError> {
    let (limit, offset) = limit_offset(page);
    let chosen =
        format!("SELECT {SEND_UNIT_COLUMNS} FROM bundles WHERE {filter} ORDER BY {order} LIMIT ?2 OFFSET ?3");
    let send_units = connection
        .prepare_cached(&chosen)
        .map_err(backend)?
        .query_map(params![value, limit, offset], send_unit_row)
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    let files = connection
        .prepare_cached(&format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE bundle IN \
             (SELECT id FROM bundles WHERE {filter} ORDER BY {order} LIMIT ?2 OFFSET ?3) \
             ORDER BY bundle, position"
        ))
        .map_err(backend)?
        .query_map(params![value, limit, offset], file_row)
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    assemble(send_units, files)
}

fn one(connection: &Connection, id: i64) -> Result<Option<SendUnitRecord>, StoreError> {
    let page = Page { after: 0, limit: 1 };
    Ok(records(connection, "id = ?1", "id", &id, page)?.pop())
}

impl Store for SqliteStore {
    fn insert(&mut self, send_unit: NewSendUnit) -> Result<Inserted, StoreError> {
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let (sender, receiver, serial) = (
            send_unit.sender.to_string(),
            send_unit.receiver.to_string(),
            send_unit.serial.to_string(),
        );
        let inserted = tx
            .prepare_cached(
                "INSERT INTO bundles (sender, receiver, serial, sent_at, expires_at, status, status_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'unread', ?4) ON CONFLICT (sender, receiver, serial) DO NOTHING",
            )
            .map_err(backend)?
            .execute(params![
                sender,
                receiver,
                serial,
                micros(send_unit.sent_at),
                micros(send_unit.expires_at)
            ])
            .map_err(backend)?;
        if inserted == 0 {
            let id: i64 = tx
                .query_row(
                    "SELECT id FROM bundles WHERE sender = ?1 AND receiver = ?2 AND serial = ?3",
                    params![sender, receiver, serial],
                    |row| row.get(0),
                )
                .map_err(backend)?;
            let existing =
                one(&tx, id)?.ok_or_else(|| StoreError::backend("a conflicting send unit vanished"))?;
            return Ok(Inserted::Existing {
                stored: existing,
                refused: send_unit,
            });
        }
        let id = tx.last_insert_rowid();
        {
            let mut insert_file = tx
                .prepare_cached(
                    "INSERT INTO files (bundle, position, name, size, content) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(backend)?;
            for (position, file) in send_unit.files.iter().enumerate() {
                insert_file
                    .execute(params![
                        id,
                        position as i64,
                        file.name,
                        file.content.len() as i64,
                        &file.content[..]
                    ])
                    .map_err(backend)?;
            }
        }
        let record = one(&tx, id)?.ok_or_else(|| StoreError::backend("the inserted send unit vanished"))?;
        tx.commit().map_err(backend)?;
        Ok(Inserted::Created(record))
    }

    fn send_unit(&mut self, id: SendUnitId) -> Result<Option<SendUnitRecord>, StoreError> {
        one(&self.connection, sql_id(id.0))
    }

    fn inbox(&mut self, receiver: OfficeNumber, page: Page) -> Result<Listed, StoreError> {
        self.listed("receiver = ?1", "serial, id", &receiver.to_string(), page)
    }

    fn sent(&mut self, sender: OfficeNumber, page: Page) -> Result<Listed, StoreError> {
        self.listed("sender = ?1", "id", &sender.to_string(), page)
    }

    fn content(&mut self, id: FileId) -> Result<Option<Bytes>, StoreError> {
        content(&self.connection, id)
    }

    fn update(&mut self, id: SendUnitId, decide: Decide<'_>) -> Result<SendUnitRecord, RelayError> {
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let stored = one(&tx, sql_id(id.0))?.ok_or(RelayError::SendUnitNotFound(id))?;
        // Dropping the transaction on refusal rolls it back: nothing was written anyway.
        let change = decide(&stored)?;
        write_change(&tx, id, change)?;
        let updated = one(&tx, sql_id(id.0))?.ok_or(RelayError::SendUnitNotFound(id))?;
        tx.commit().map_err(backend)?;
        Ok(updated)
    }

    fn download(&mut self, file: FileId, decide: DecideDownload<'_>) -> Result<DownloadedFile, RelayError> {
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let holder: Option<i64> = tx
            .prepare_cached("SELECT bundle FROM files WHERE id = ?1")
            .map_err(backend)?
            .query_row([sql_id(file.0)], |row| row.get(0))
            .optional()
            .map_err(backend)?;
        let Some(stored) = holder.map(|id| one(&tx, id)).transpose()?.flatten() else {
            return Err(RelayError::FileNotFound(file.0));
        };
        let first_pending = first_pending(&tx, stored.sender, stored.receiver)?;
        let change = decide(&DownloadState::of(&stored, file), first_pending)?;
        let name = stored.files.iter().find(|f| f.id == file).map(|f| f.name.clone());
        let (Some(content), Some(name)) = (content(&tx, file)?, name) else {
            return Err(RelayError::FileNotFound(file.0));
        };
        write_change(&tx, stored.id, change)?;
        tx.commit().map_err(backend)?;
        Ok(DownloadedFile { name, content })
    }

    fn expire(&mut self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let now = micros(now);
        // Most calls find nothing due: check with a read before taking the write lock.
        let due: bool = self
            .connection
            .prepare_cached(&format!(
                "SELECT EXISTS (SELECT 1 FROM bundles WHERE status IN {LIVE} AND expires_at <= ?1)"
            ))
            .map_err(backend)?
            .query_row([now], |row| row.get(0))
            .map_err(backend)?;
        if !due {
            return Ok(0);
        }
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        // Send units first, then their files: the lock order of `update` too.
        let ids = tx
            .prepare_cached(&format!(
                "UPDATE bundles SET status = 'expired', status_at = expires_at \
                 WHERE status IN {LIVE} AND expires_at <= ?1 RETURNING id"
            ))
            .map_err(backend)?
            .query_map([now], |row| row.get::<_, i64>(0))
            .map_err(backend)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)?;
        {
            let mut purge = tx
                .prepare_cached("UPDATE files SET content = NULL WHERE bundle = ?1")
                .map_err(backend)?;
            for id in &ids {
                purge.execute([id]).map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)?;
        Ok(ids.len())
    }
}

/// The pending send unit from `sender` to `receiver` with the lowest serial.
fn first_pending(
    connection: &Connection,
    sender: OfficeNumber,
    receiver: OfficeNumber,
) -> Result<Option<(Serial, SendUnitId)>, StoreError> {
    let found: Option<(String, i64)> = connection
        .prepare_cached(&format!(
            "SELECT serial, id FROM bundles WHERE receiver = ?1 AND sender = ?2 \
             AND status IN {PENDING} ORDER BY serial, id LIMIT 1"
        ))
        .map_err(backend)?
        .query_row(params![receiver.to_string(), sender.to_string()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()
        .map_err(backend)?;
    found.map(|(serial, id)| pending_key(&serial, id)).transpose()
}

fn content(connection: &Connection, id: FileId) -> Result<Option<Bytes>, StoreError> {
    let content: Option<Option<Vec<u8>>> = connection
        .prepare_cached("SELECT content FROM files WHERE id = ?1")
        .map_err(backend)?
        .query_row([sql_id(id.0)], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    Ok(content.flatten().map(Bytes::from))
}

/// Writes the relay's `change` to send unit `id` inside a transaction.
fn write_change(connection: &Connection, id: SendUnitId, change: Change) -> Result<(), StoreError> {
    if let Some(file) = change.downloaded {
        connection
            .prepare_cached("UPDATE files SET downloaded = 1 WHERE id = ?1 AND bundle = ?2")
            .map_err(backend)?
            .execute(params![sql_id(file.0), sql_id(id.0)])
            .map_err(backend)?;
    }
    if let Some((status, at)) = change.status {
        connection
            .prepare_cached("UPDATE bundles SET status = ?1, status_at = ?2 WHERE id = ?3")
            .map_err(backend)?
            .execute(params![status_text(status), micros(at), sql_id(id.0)])
            .map_err(backend)?;
        if !status.holds_files() {
            connection
                .prepare_cached("UPDATE files SET content = NULL WHERE bundle = ?1")
                .map_err(backend)?
                .execute([sql_id(id.0)])
                .map_err(backend)?;
        }
    }
    Ok(())
}
