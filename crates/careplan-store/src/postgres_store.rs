//! The PostgreSQL store: one database shared by several relay processes.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use bytes::Bytes;
use careplan_core::OfficeNumber;
use careplan_relay::{
    Change, Decide, DecideDownload, DownloadState, DownloadedFile, FileId, Inserted, Listed, NewSendUnit,
    Page, RelayError, SendUnitId, SendUnitRecord, Store, StoreError,
};
use careplan_spec::Serial;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls, Row, Statement, Transaction};
use time::OffsetDateTime;

use crate::rows::{
    FILE_COLUMNS, FileRow, LIVE, PENDING, SEND_UNIT_COLUMNS, SendUnitRow, assemble, limit_offset, listed,
    micros, pending_key, sql_id, status_text,
};

// Send units live in the table `bundles` (and files point at them by `bundle`): the names of the first
// schema, kept so that databases written before the code said "send unit" open unchanged.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bundles (
    id BIGSERIAL PRIMARY KEY,
    sender TEXT NOT NULL,
    receiver TEXT NOT NULL,
    serial TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    status_at BIGINT NOT NULL,
    UNIQUE (sender, receiver, serial)
);
CREATE INDEX IF NOT EXISTS bundles_by_receiver ON bundles (receiver, serial, id);
CREATE INDEX IF NOT EXISTS bundles_by_sender ON bundles (sender, id);
CREATE INDEX IF NOT EXISTS bundles_by_expiry ON bundles (expires_at)
    WHERE status IN ('unread', 'received', 'downloaded');
CREATE TABLE IF NOT EXISTS files (
    id BIGSERIAL PRIMARY KEY,
    bundle BIGINT NOT NULL REFERENCES bundles (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    downloaded BOOLEAN NOT NULL DEFAULT FALSE,
    content BYTEA
);
CREATE INDEX IF NOT EXISTS files_by_bundle ON files (bundle, position);
";

/// How long a connection to the database may take before the operation that needed it is refused.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// An arbitrary key for the advisory lock that serialises schema creation between relays starting together.
const SCHEMA_LOCK: i64 = 0x6361_7265_706c_616e;

/// A connection to the database at `url`, working in `schema` (created if missing) or the default one,
/// with the tables of `ddl` created if missing. Shared by the store and the journal.
pub(crate) fn connect_client(url: &str, schema: Option<&str>, ddl: &str) -> Result<Client, String> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
    // A database cut off by the network answers nothing: a relay refuses (STORE_UNAVAILABLE) rather than
    // hanging its clients.
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let mut client = config
        .connect(NoTls)
        .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
    let failed = |e: postgres::Error| format!("PostgreSQL: {e}");
    if let Some(schema) = schema {
        if schema.is_empty() || !schema.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("schema `{schema}`: use letters, digits and _ only"));
        }
        client
            .batch_execute(&format!(
                "SELECT pg_advisory_lock({SCHEMA_LOCK}); CREATE SCHEMA IF NOT EXISTS {schema}; \
                 SELECT pg_advisory_unlock({SCHEMA_LOCK}); SET search_path TO {schema}"
            ))
            .map_err(failed)?;
    }
    client
        .batch_execute(&format!(
            "SELECT pg_advisory_lock({SCHEMA_LOCK}); {ddl} SELECT pg_advisory_unlock({SCHEMA_LOCK});"
        ))
        .map_err(failed)?;
    Ok(client)
}

/// A connection that reconnects when the database closed it, and closes on a thread of its own. The
/// synchronous client closes by blocking on a runtime of its own, which is refused on an async runtime's
/// threads, where servers drop their stores.
pub(crate) struct Detached {
    client: Option<Client>,
    url: String,
    schema: Option<String>,
    /// The tables the connection's user creates if missing.
    ddl: &'static str,
}

impl Detached {
    /// Connects to the database at `url`, in `schema`, with the tables of `ddl` created if missing.
    pub(crate) fn connect(url: &str, schema: Option<&str>, ddl: &'static str) -> Result<Self, String> {
        Ok(Self {
            client: Some(connect_client(url, schema, ddl)?),
            url: url.to_owned(),
            schema: schema.map(str::to_owned),
            ddl,
        })
    }

    /// Connects again if the connection was closed (the server restarted, the network cut it); true when
    /// it did, so that what belonged to the old connection (prepared statements) is forgotten. A failed
    /// attempt is the caller's refusal, and the next call tries again.
    pub(crate) fn reconnect_if_closed(&mut self) -> Result<bool, StoreError> {
        self.reconnect_if(false)
    }

    /// [`Self::reconnect_if_closed`], or connects again anyway when `broken`: the synchronous client
    /// notices a closed connection only once its driver has run, so whoever met a connection error says so.
    pub(crate) fn reconnect_if(&mut self, broken: bool) -> Result<bool, StoreError> {
        if !broken && self.client.as_ref().is_some_and(|client| !client.is_closed()) {
            return Ok(false);
        }
        close_aside(self.client.take());
        let client =
            connect_client(&self.url, self.schema.as_deref(), self.ddl).map_err(StoreError::backend)?;
        self.client = Some(client);
        Ok(true)
    }

    /// The connection, connected again first if it was closed.
    pub(crate) fn get(&mut self) -> Result<&mut Client, StoreError> {
        self.reconnect_if_closed()?;
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::backend("the PostgreSQL connection is closed"))
    }
}

/// Drops `client` on a thread of its own (see [`Detached`]).
fn close_aside(client: Option<Client>) {
    if let Some(client) = client {
        // If no thread can be started, the connection closes with the process.
        let _ = std::thread::Builder::new()
            .name("postgres-close".to_owned())
            .spawn(move || drop(client));
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        close_aside(self.client.take());
    }
}

/// Send units in a PostgreSQL database.
pub struct PostgresStore {
    client: Detached,
    statements: Statements,
}

/// The statements a connection has prepared, by their text: each is parsed once, so that a query costs
/// one round trip (bind and execute) instead of three (parse, execute, close).
#[derive(Default)]
struct Statements {
    prepared: HashMap<String, Statement>,
    /// An operation met a connection error (not an SQL one): the connection is to be made again.
    broken: bool,
}

impl Statements {
    /// `result` as the store reports it, noting a connection error.
    fn checked<T>(&mut self, result: Result<T, postgres::Error>) -> Result<T, StoreError> {
        result.map_err(|e| {
            // A connection error, or the server ending the session (FATAL: a shutdown, a terminated backend).
            self.broken |= e.is_closed()
                || e.as_db_error()
                    .is_none_or(|db| matches!(db.severity(), "FATAL" | "PANIC"));
            backend(e)
        })
    }
}

/// A client (borrowed) or a transaction (owned, to be committed), with its connection's prepared
/// statements.
struct Prepared<'a, C> {
    client: C,
    statements: &'a mut Statements,
}

/// An open transaction, owned by the [`Prepared`] that runs it.
struct Open<'a>(Transaction<'a>);

impl<'a> Deref for Open<'a> {
    type Target = Transaction<'a>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Open<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<C: DerefMut<Target: GenericClient>> Prepared<'_, C> {
    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.statements.checked(self.client.prepare(sql))?;
        self.statements.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StoreError> {
        let statement = self.statement(sql)?;
        self.statements.checked(self.client.query(&statement, params))
    }

    fn query_opt(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>, StoreError> {
        let statement = self.statement(sql)?;
        self.statements.checked(self.client.query_opt(&statement, params))
    }

    fn query_one(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, StoreError> {
        let statement = self.statement(sql)?;
        self.statements.checked(self.client.query_one(&statement, params))
    }

    fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        self.statements.checked(self.client.execute(&statement, params))
    }
}

impl PostgresStore {
    fn forget_statements_of_a_closed_connection(&mut self) -> Result<(), StoreError> {
        if self.client.reconnect_if(self.statements.broken)? {
            self.statements = Statements::default();
        }
        Ok(())
    }

    /// The connection, with its prepared statements.
    fn session(&mut self) -> Result<Prepared<'_, &mut Client>, StoreError> {
        self.forget_statements_of_a_closed_connection()?;
        Ok(Prepared {
            client: self.client.get()?,
            statements: &mut self.statements,
        })
    }

    /// A transaction, with the connection's prepared statements; dropped without a commit, it rolls back.
    fn transaction(&mut self) -> Result<Prepared<'_, Open<'_>>, StoreError> {
        self.forget_statements_of_a_closed_connection()?;
        let begun = self.client.get()?.transaction();
        Ok(Prepared {
            client: Open(self.statements.checked(begun)?),
            statements: &mut self.statements,
        })
    }
}

impl Prepared<'_, Open<'_>> {
    fn commit(self) -> Result<(), StoreError> {
        self.statements.checked(self.client.0.commit())
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

fn backend(error: postgres::Error) -> StoreError {
    StoreError::backend(format!("PostgreSQL: {error}"))
}

fn send_unit_row(row: &Row) -> Result<SendUnitRow, postgres::Error> {
    Ok(SendUnitRow {
        id: row.try_get(0)?,
        sender: row.try_get(1)?,
        receiver: row.try_get(2)?,
        serial: row.try_get(3)?,
        sent_at: row.try_get(4)?,
        expires_at: row.try_get(5)?,
        status: row.try_get(6)?,
        status_at: row.try_get(7)?,
    })
}

fn file_row(row: &Row) -> Result<FileRow, postgres::Error> {
    Ok(FileRow {
        send_unit: row.try_get(0)?,
        id: row.try_get(1)?,
        name: row.try_get(2)?,
        size: row.try_get(3)?,
        downloaded: row.try_get(4)?,
    })
}

impl PostgresStore {
    /// Connects to the database at `url` (e.g. `postgres://user:password@localhost/careplan`) and creates
    /// the tables if they are missing.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_in_schema(url, None)
    }

    /// Like [`connect`](Self::connect), with the tables in their own `schema` (created if missing), so
    /// that several independent relays (or test runs) can share one database.
    pub fn connect_in_schema(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        Ok(Self {
            client: Detached::connect(url, schema, SCHEMA).map_err(StoreError::backend)?,
            statements: Statements::default(),
        })
    }

    /// How many send units the store holds.
    pub fn send_unit_count(&mut self) -> Result<u64, StoreError> {
        let count: i64 = self
            .session()?
            .query_one("SELECT count(*) FROM bundles", &[])?
            .try_get(0)
            .map_err(backend)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// The bytes its tables take on disk, indexes and large values included.
    pub fn size_bytes(&mut self) -> Result<u64, StoreError> {
        let size: i64 = self
            .session()?
            .query_one(
                "SELECT (pg_total_relation_size('bundles') + pg_total_relation_size('files'))::bigint",
                &[],
            )?
            .try_get(0)
            .map_err(backend)?;
        Ok(u64::try_from(size).unwrap_or(0))
    }
}

/// The send units chosen by `filter` (an SQL condition on `bundles` with one parameter) in `order`, as
/// [`limit_offset`] reads `page`: the page's files are read with them, and nothing beyond.
fn records(
    client: &mut Prepared<'_, impl DerefMut<Target: GenericClient>>,
    filter: &str,
    order: &str,
    value: &(dyn ToSql + Sync),
    page: Page,
) -> Result<Vec<SendUnitRecord>, StoreError> {
    let (limit, offset) = limit_offset(page);
    let send_units = client
        .query(
            &format!(
                "SELECT {SEND_UNIT_COLUMNS} FROM bundles WHERE {filter} ORDER BY {order} LIMIT $2 OFFSET $3"
            ),
            &[value, &limit, &offset],
        )?
        .iter()
        .map(send_unit_row)
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    let files = client
        .query(
            &format!(
                "SELECT {FILE_COLUMNS} FROM files WHERE bundle IN \
                 (SELECT id FROM bundles WHERE {filter} ORDER BY {order} LIMIT $2 OFFSET $3) \
                 ORDER BY bundle, position"
            ),
            &[value, &limit, &offset],
        )?
        .iter()
        .map(file_row)
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    assemble(send_units, files)
}

fn one(
    client: &mut Prepared<'_, impl DerefMut<Target: GenericClient>>,
    id: i64,
) -> Result<Option<SendUnitRecord>, StoreError> {
    let page = Page { after: 0, limit: 1 };
    Ok(records(client, "id = $1", "id", &id, page)?.pop())
}

impl Store for PostgresStore {
    fn insert(&mut self, send_unit: NewSendUnit) -> Result<Inserted, StoreError> {
        let mut tx = self.transaction()?;
        let (sender, receiver, serial) = (
            send_unit.sender.to_string(),
            send_unit.receiver.to_string(),
            send_unit.serial.to_string(),
        );
        let inserted = tx.query_opt(
            "INSERT INTO bundles (sender, receiver, serial, sent_at, expires_at, status, status_at) \
             VALUES ($1, $2, $3, $4, $5, 'unread', $4) ON CONFLICT (sender, receiver, serial) DO NOTHING \
             RETURNING id",
            &[
                &sender,
                &receiver,
                &serial,
                &micros(send_unit.sent_at),
                &micros(send_unit.expires_at),
            ],
        )?;
        let Some(inserted) = inserted else {
            let id: i64 = tx
                .query_one(
                    "SELECT id FROM bundles WHERE sender = $1 AND receiver = $2 AND serial = $3",
                    &[&sender, &receiver, &serial],
                )?
                .try_get(0)
                .map_err(backend)?;
            let existing =
                one(&mut tx, id)?.ok_or_else(|| StoreError::backend("a conflicting send unit vanished"))?;
            return Ok(Inserted::Existing {
                stored: existing,
                refused: send_unit,
            });
        };
        let id: i64 = inserted.try_get(0).map_err(backend)?;
        // One statement writes every file; the record is what was written, with the ids the database gave.
        let (mut positions, mut names, mut sizes, mut contents) = (vec![], vec![], vec![], vec![]);
        for (position, file) in send_unit.files.iter().enumerate() {
            positions.push(i32::try_from(position).unwrap_or(i32::MAX));
            names.push(&*file.name);
            sizes.push(file.content.len() as i64);
            contents.push(&file.content[..]);
        }
        let mut ids = vec![0_i64; send_unit.files.len()];
        for row in tx.query(
            "INSERT INTO files (bundle, position, name, size, content) \
             SELECT $1, * FROM unnest($2::int[], $3::text[], $4::bigint[], $5::bytea[]) \
             RETURNING position, id",
            &[&id, &positions, &names, &sizes, &contents],
        )? {
            let (position, file_id): (i32, i64) =
                (row.try_get(0).map_err(backend)?, row.try_get(1).map_err(backend)?);
            let slot = usize::try_from(position)
                .ok()
                .and_then(|p| ids.get_mut(p))
                .ok_or_else(|| StoreError::backend("a file came back at a position not written"))?;
            *slot = file_id;
        }
        tx.commit()?;
        let stored_ids = ids.into_iter().map(|file_id| FileId(file_id as u64));
        Ok(Inserted::Created(send_unit.stored(
            SendUnitId(id as u64),
            stored_ids,
            |_, _, _| {},
        )))
    }

    fn send_unit(&mut self, id: SendUnitId) -> Result<Option<SendUnitRecord>, StoreError> {
        one(&mut self.session()?, sql_id(id.0))
    }

    fn inbox(&mut self, receiver: OfficeNumber, page: Page) -> Result<Listed, StoreError> {
        let read = records(
            &mut self.session()?,
            "receiver = $1",
            "serial, id",
            &receiver.to_string(),
            page,
        )?;
        Ok(listed(read, page))
    }

    fn sent(&mut self, sender: OfficeNumber, page: Page) -> Result<Listed, StoreError> {
        let read = records(
            &mut self.session()?,
            "sender = $1",
            "id",
            &sender.to_string(),
            page,
        )?;
        Ok(listed(read, page))
    }

    fn content(&mut self, id: FileId) -> Result<Option<Bytes>, StoreError> {
        content(&mut self.session()?, id)
    }

    fn update(&mut self, id: SendUnitId, decide: Decide<'_>) -> Result<SendUnitRecord, RelayError> {
        let mut tx = self.transaction()?;
        let stored = lock(&mut tx, "id = $1", sql_id(id.0))?.ok_or(RelayError::SendUnitNotFound(id))?;
        // Dropping the transaction on refusal rolls it back.
        let change = decide(&stored)?;
        write_change(&mut tx, id, change)?;
        let updated = one(&mut tx, sql_id(id.0))?.ok_or(RelayError::SendUnitNotFound(id))?;
        tx.commit()?;
        Ok(updated)
    }

    fn download(&mut self, file: FileId, decide: DecideDownload<'_>) -> Result<DownloadedFile, RelayError> {
        let not_found = || RelayError::FileNotFound(file.0);
        let mut tx = self.transaction()?;
        let holder = "id = (SELECT bundle FROM files WHERE id = $1)";
        let stored = lock(&mut tx, holder, sql_id(file.0))?.ok_or_else(not_found)?;
        let first_pending = first_pending(&mut tx, stored.sender, stored.receiver)?;
        // Dropping the transaction on refusal rolls it back.
        let change = decide(&DownloadState::of(&stored, file), first_pending)?;
        let name = stored.files.iter().find(|f| f.id == file).map(|f| f.name.clone());
        let (Some(content), Some(name)) = (content(&mut tx, file)?, name) else {
            return Err(RelayError::FileNotFound(file.0));
        };
        write_change(&mut tx, stored.id, change)?;
        tx.commit()?;
        Ok(DownloadedFile { name, content })
    }

    fn expire(&mut self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let now = micros(now);
        let due: bool = self
            .session()?
            .query_one(
                &format!("SELECT EXISTS (SELECT 1 FROM bundles WHERE status IN {LIVE} AND expires_at <= $1)"),
                &[&now],
            )?
            .try_get(0)
            .map_err(backend)?;
        if !due {
            return Ok(0);
        }
        let mut tx = self.transaction()?;
        // Send units first, then their files: the lock order of `update`, so the two never deadlock.
        let ids: Vec<i64> = tx
            .query(
                &format!(
                    "UPDATE bundles SET status = 'expired', status_at = expires_at \
                     WHERE status IN {LIVE} AND expires_at <= $1 RETURNING id"
                ),
                &[&now],
            )?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(backend)?;
        tx.execute("UPDATE files SET content = NULL WHERE bundle = ANY($1)", &[&ids])?;
        tx.commit()?;
        Ok(ids.len())
    }
}

/// Locks the send unit chosen by `filter` (one parameter) and reads it: another relay's change to the same
/// send unit waits for this transaction.
fn lock(
    tx: &mut Prepared<'_, impl DerefMut<Target: GenericClient>>,
    filter: &str,
    value: i64,
) -> Result<Option<SendUnitRecord>, StoreError> {
    let Some(row) = tx.query_opt(
        &format!("SELECT {SEND_UNIT_COLUMNS} FROM bundles WHERE {filter} FOR UPDATE"),
        &[&value],
    )?
    else {
        return Ok(None);
    };
    let send_unit = send_unit_row(&row).map_err(backend)?;
    let files = tx
        .query(
            &format!("SELECT {FILE_COLUMNS} FROM files WHERE bundle = $1 ORDER BY position"),
            &[&send_unit.id],
        )?
        .iter()
        .map(file_row)
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    Ok(assemble(vec![send_unit], files)?.pop())
}

/// The pending send unit from `sender` to `receiver` with the lowest serial.
fn first_pending(
    client: &mut Prepared<'_, impl DerefMut<Target: GenericClient>>,
    sender: OfficeNumber,
    receiver: OfficeNumber,
) -> Result<Option<(Serial, SendUnitId)>, StoreError> {
    let row = client.query_opt(
        &format!(
            "SELECT serial, id FROM bundles WHERE receiver = $1 AND sender = $2 \
             AND status IN {PENDING} ORDER BY serial, id LIMIT 1"
        ),
        &[&receiver.to_string(), &sender.to_string()],
    )?;
    let Some(row) = row else { return Ok(None) };
    let serial: String = row.try_get(0).map_err(backend)?;
    let id: i64 = row.try_get(1).map_err(backend)?;
    pending_key(&serial, id).map(Some)
}

fn content(
    client: &mut Prepared<'_, impl DerefMut<Target: GenericClient>>,
    id: FileId,
) -> Result<Option<Bytes>, StoreError> {
    let row = client.query_opt("SELECT content FROM files WHERE id = $1", &[&sql_id(id.0)])?;
    let content: Option<Vec<u8>> = match row {
        Some(row) => row.try_get(0).map_err(backend)?,
        None => None,
    };
    Ok(content.map(Bytes::from))
}

/// Writes the relay's `change` to send unit `id` inside a transaction.
fn write_change(
    tx: &mut Prepared<'_, impl DerefMut<Target: GenericClient>>,
    id: SendUnitId,
    change: Change,
) -> Result<(), StoreError> {
    if let Some(file) = change.downloaded {
        tx.execute(
            "UPDATE files SET downloaded = TRUE WHERE id = $1 AND bundle = $2",
            &[&sql_id(file.0), &sql_id(id.0)],
        )?;
    }
    if let Some((status, at)) = change.status {
        tx.execute(
            "UPDATE bundles SET status = $1, status_at = $2 WHERE id = $3",
            &[&status_text(status), &micros(at), &sql_id(id.0)],
        )?;
        if !status.holds_files() {
            tx.execute(
                "UPDATE files SET content = NULL WHERE bundle = $1",
                &[&sql_id(id.0)],
            )?;
        }
    }
    Ok(())
}
