//! The journal of the web parties' requests ([`careplan_core::Journal`]) in the same database as the
//! relay's store: [`SqliteJournal`] and [`PostgresJournal`].

use std::path::Path;

use careplan_core::{Journal, JournalEntry, JournalError, NewEntry};
use rusqlite::{Connection, TransactionBehavior, params};

use crate::postgres_store::Detached;
use crate::rows::{id_of, instant, micros, sql_id};
use crate::sqlite_store::open_connection;

const SQLITE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    party TEXT NOT NULL,
    request TEXT NOT NULL
);
";

const POSTGRES_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS journal (
    seq BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    party TEXT NOT NULL,
    request TEXT NOT NULL
);
";

const SELECT_AFTER: &str = "SELECT seq, at, party, request FROM journal WHERE seq > $1 ORDER BY seq";

fn entry(seq: i64, at: i64, party: String, request: String) -> Result<JournalEntry, JournalError> {
    let failed = |e: careplan_relay::StoreError| JournalError(e.0);
    Ok(JournalEntry {
        seq: id_of(seq).map_err(failed)?,
        at: instant(at).map_err(failed)?,
        party,
        request,
    })
}

/// The journal in the SQLite file of [`SqliteStore`](crate::SqliteStore).
#[derive(Debug)]
pub struct SqliteJournal {
    connection: Connection,
}

fn sqlite(error: rusqlite::Error) -> JournalError {
    JournalError(format!("SQLite: {error}"))
}

impl SqliteJournal {
    /// Opens (or creates) the journal in the database file at `path`.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        let connection = open_connection(path).map_err(JournalError)?;
        connection.execute_batch(SQLITE_SCHEMA).map_err(sqlite)?;
        Ok(Self { connection })
    }
}

fn sqlite_after(connection: &Connection, after: u64) -> Result<Vec<JournalEntry>, JournalError> {
    let mut statement = connection
        .prepare_cached(&SELECT_AFTER.replace("$1", "?1"))
        .map_err(sqlite)?;
    let rows = statement
        .query_map([sql_id(after)], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .map_err(sqlite)?;
    rows.map(|row| {
        let (seq, at, party, request) = row.map_err(sqlite)?;
        entry(seq, at, party, request)
    })
    .collect()
}

impl Journal for SqliteJournal {
    fn entries_after(&mut self, after: u64) -> Result<Vec<JournalEntry>, JournalError> {
        sqlite_after(&self.connection, after)
    }

    fn record_after(
        &mut self,
        after: u64,
        work: &mut dyn FnMut(Vec<JournalEntry>) -> Option<NewEntry>,
    ) -> Result<Option<u64>, JournalError> {
        // IMMEDIATE takes the write lock before reading, so no other process records in between.
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        let Some(new) = work(sqlite_after(&tx, after)?) else {
            return Ok(None);
        };
        tx.prepare_cached("INSERT INTO journal (at, party, request) VALUES (?1, ?2, ?3)")
            .map_err(sqlite)?
            .execute(params![micros(new.at), new.party, new.request])
            .map_err(sqlite)?;
        let seq = tx.last_insert_rowid();
        tx.commit().map_err(sqlite)?;
        id_of(seq).map(Some).map_err(|e| JournalError(e.0))
    }
}

/// The journal in a PostgreSQL database, shared by every `serve` process using it.
pub struct PostgresJournal {
    client: Detached,
    /// The last operation failed: the connection is made again before the next (a failed query is rare,
    /// and a connection that broke is not always known closed yet).
    failed: bool,
}

impl std::fmt::Debug for PostgresJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresJournal").finish_non_exhaustive()
    }
}

fn postgres(error: postgres::Error) -> JournalError {
    JournalError(format!("PostgreSQL: {error}"))
}

impl PostgresJournal {
    /// Connects to the journal in the database at `url`, in `schema` if given (created if missing).
    pub fn connect(url: &str, schema: Option<&str>) -> Result<Self, JournalError> {
        Ok(Self {
            client: Detached::connect(url, schema, POSTGRES_SCHEMA).map_err(JournalError)?,
            failed: false,
        })
    }

    /// The connection, made again if the last operation failed.
    fn client(&mut self) -> Result<&mut postgres::Client, JournalError> {
        self.client
            .reconnect_if(std::mem::take(&mut self.failed))
            .map_err(|e| JournalError(e.0))?;
        self.client.get().map_err(|e| JournalError(e.0))
    }

    /// Notes the outcome of an operation.
    fn noted<T>(&mut self, outcome: Result<T, JournalError>) -> Result<T, JournalError> {
        self.failed = outcome.is_err();
        outcome
    }
}

fn postgres_after(
    client: &mut impl postgres::GenericClient,
    after: u64,
) -> Result<Vec<JournalEntry>, JournalError> {
    client
        .query(SELECT_AFTER, &[&sql_id(after)])
        .map_err(postgres)?
        .iter()
        .map(|row| {
            entry(
                row.try_get(0).map_err(postgres)?,
                row.try_get(1).map_err(postgres)?,
                row.try_get(2).map_err(postgres)?,
                row.try_get(3).map_err(postgres)?,
            )
        })
        .collect()
}

impl Journal for PostgresJournal {
    fn entries_after(&mut self, after: u64) -> Result<Vec<JournalEntry>, JournalError> {
        let outcome = self.client().and_then(|client| postgres_after(client, after));
        self.noted(outcome)
    }

    fn record_after(
        &mut self,
        after: u64,
        work: &mut dyn FnMut(Vec<JournalEntry>) -> Option<NewEntry>,
    ) -> Result<Option<u64>, JournalError> {
        let outcome = self.client().and_then(|client| record(client, after, work));
        self.noted(outcome)
    }
}

/// Appends the entry `work` makes of the entries after `after`, if it makes one, under the writer lock.
fn record(
    client: &mut postgres::Client,
    after: u64,
    work: &mut dyn FnMut(Vec<JournalEntry>) -> Option<NewEntry>,
) -> Result<Option<u64>, JournalError> {
    let mut tx = client.transaction().map_err(postgres)?;
    // One writer at a time: readers go on, and sequence numbers commit in order, so no process ever
    // reads past an entry another has yet to commit.
    tx.batch_execute("LOCK TABLE journal IN EXCLUSIVE MODE")
        .map_err(postgres)?;
    let Some(new) = work(postgres_after(&mut tx, after)?) else {
        return Ok(None);
    };
    let seq: i64 = tx
        .query_one(
            "INSERT INTO journal (at, party, request) VALUES ($1, $2, $3) RETURNING seq",
            &[&micros(new.at), &new.party, &new.request],
        )
        .and_then(|row| row.try_get(0))
        .map_err(postgres)?;
    tx.commit().map_err(postgres)?;
    id_of(seq).map(Some).map_err(|e| JournalError(e.0))
}
