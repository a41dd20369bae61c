//! What both engines share: rows as read from SQL, and their conversion to the relay's records.

use std::collections::HashMap;

use careplan_core::JST;
use careplan_relay::{
    FileId, FileRecord, Listed, Page, SendUnitId, SendUnitRecord, SendUnitStatus, StoreError,
};
use careplan_spec::Serial;
use time::OffsetDateTime;

/// The statuses whose send units still hold files, as an SQL list.
pub(crate) const LIVE: &str = "('unread', 'received', 'downloaded')";

/// The statuses whose send units the receiver still has to download, as an SQL list.
pub(crate) const PENDING: &str = "('unread', 'received')";

/// An instant as stored: microseconds since the Unix epoch.
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    // Microseconds in an i64 reach ±292,000 years: every instant `time` can hold fits but the extremes.
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// A stored instant, in JST.
pub(crate) fn instant(micros: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map(|at| at.to_offset(JST))
        .map_err(|e| StoreError(format!("stored instant {micros} is out of range: {e}")))
}

/// An id as stored (SQL integers are signed).
pub(crate) fn sql_id(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// A stored id.
pub(crate) fn id_of(stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored).map_err(|_| StoreError(format!("stored id {stored} is negative")))
}

/// The serial-order key of a pending send unit, as stored.
pub(crate) fn pending_key(serial: &str, id: i64) -> Result<(Serial, SendUnitId), StoreError> {
    let serial = serial
        .parse()
        .map_err(|()| StoreError(format!("send unit {id}: stored serial `{serial}` is invalid")))?;
    Ok((serial, SendUnitId(id_of(id)?)))
}

/// One row of `send_units`.
pub(crate) struct SendUnitRow {
    pub(crate) id: i64,
    pub(crate) sender: String,
    pub(crate) receiver: String,
    pub(crate) serial: String,
    pub(crate) sent_at: i64,
    pub(crate) expires_at: i64,
    pub(crate) status: String,
    pub(crate) status_at: i64,
}

/// One row of `files`, without its content.
pub(crate) struct FileRow {
    pub(crate) send_unit: i64,
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) size: i64,
    pub(crate) downloaded: bool,
}

/// The columns of `send_units` in the order [`SendUnitRow`] reads them.
pub(crate) const SEND_UNIT_COLUMNS: &str =
    "id, sender, receiver, serial, sent_at, expires_at, status, status_at";
/// The columns of `files` in the order [`FileRow`] reads them.
pub(crate) const FILE_COLUMNS: &str = "bundle, id, name, size, downloaded";

/// Builds records from send unit rows (in the order wanted) and the file rows of those send units (by
/// position within each send unit).
/// The `LIMIT` and `OFFSET` that read `page`: one send unit more than the page holds, to tell whether
/// more follow.
pub(crate) fn limit_offset(page: Page) -> (i64, i64) {
    let clamp = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    (clamp(page.limit.saturating_add(1)), clamp(page.after))
}

/// The page of send units read with [`limit_offset`].
pub(crate) fn listed(mut read: Vec<SendUnitRecord>, page: Page) -> Listed {
    let more = read.len() > page.limit;
    read.truncate(page.limit);
    Listed { items: read, more }
}

pub(crate) fn assemble(
    send_units: Vec<SendUnitRow>,
    files: Vec<FileRow>,
) -> Result<Vec<SendUnitRecord>, StoreError> {
    let mut by_send_unit: HashMap<i64, Vec<FileRecord>> = HashMap::new();
    for file in files {
        by_send_unit.entry(file.send_unit).or_default().push(FileRecord {
            id: FileId(id_of(file.id)?),
            name: file.name.into(),
            size: id_of(file.size)?,
            downloaded: file.downloaded,
        });
    }
    send_units
        .into_iter()
        .map(|row| {
            let files = by_send_unit.remove(&row.id).unwrap_or_default();
            record(row, files)
        })
        .collect()
}

fn record(row: SendUnitRow, files: Vec<FileRecord>) -> Result<SendUnitRecord, StoreError> {
    let corrupt = |what: &str, value: &str| {
        StoreError(format!(
            "send unit {}: stored {what} `{value}` is invalid",
            row.id
        ))
    };
    Ok(SendUnitRecord {
        id: SendUnitId(id_of(row.id)?),
        sender: row.sender.parse().map_err(|_| corrupt("sender", &row.sender))?,
        receiver: row
            .receiver
            .parse()
            .map_err(|_| corrupt("receiver", &row.receiver))?,
        serial: row.serial.parse().map_err(|()| corrupt("serial", &row.serial))?,
        sent_at: instant(row.sent_at)?,
        expires_at: instant(row.expires_at)?,
        status: row.status.parse().map_err(|_| corrupt("status", &row.status))?,
        status_at: instant(row.status_at)?,
        files: files.into(),
    })
}

/// The status as stored.
pub(crate) fn status_text(status: SendUnitStatus) -> &'static str {
    status.as_str()
}
