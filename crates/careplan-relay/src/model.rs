//! What the relay stores and shows: send units (送信単位) with their files and status.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use bytes::Bytes;
use careplan_core::OfficeNumber;
use careplan_spec::Serial;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use time::OffsetDateTime;

/// Identifies a stored file within the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FileId(pub u64);

/// Identifies an accepted send unit (送信単位).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SendUnitId(pub u64);

impl fmt::Display for SendUnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A file as uploaded by a linkage client. Made once where the request is read and moved into the store
/// as is: the name is shared by every listing that shows it, the bytes by every download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The standard file name, or the name of a PDF attachment.
    pub name: Arc<str>,
    /// The bytes, untouched.
    pub content: Bytes,
}

impl Upload {
    /// An upload of `name` holding `content`.
    pub fn new(name: impl Into<Arc<str>>, content: impl Into<Bytes>) -> Self {
        Self {
            name: name.into(),
            content: content.into(),
        }
    }
}

/// Where a send unit stands, as both sides see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendUnitStatus {
    /// Unread (未読): delivered to the receiver's inbox, not opened yet.
    Unread,
    /// Received (受信済): the receiver accepted it, some files may not be downloaded yet.
    Received,
    /// Downloaded (ダウンロード済): the receiver downloaded every file.
    Downloaded,
    /// Cancelled (取消): the sender withdrew it before it was downloaded; its files are gone.
    Cancelled,
    /// Expired (保存期間切れ): the retention period passed; its files were purged.
    Expired,
}

impl SendUnitStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [SendUnitStatus; 5] = [
        SendUnitStatus::Unread,
        SendUnitStatus::Received,
        SendUnitStatus::Downloaded,
        SendUnitStatus::Cancelled,
        SendUnitStatus::Expired,
    ];

    /// The status as written in scenarios, reports and the HTTP API.
    pub fn as_str(self) -> &'static str {
        match self {
            SendUnitStatus::Unread => "unread",
            SendUnitStatus::Received => "received",
            SendUnitStatus::Downloaded => "downloaded",
            SendUnitStatus::Cancelled => "cancelled",
            SendUnitStatus::Expired => "expired",
        }
    }

    /// Whether the files are still held (not cancelled, not expired).
    pub fn holds_files(self) -> bool {
        matches!(
            self,
            SendUnitStatus::Unread | SendUnitStatus::Received | SendUnitStatus::Downloaded
        )
    }

    /// Whether the receiver still has to download it (unread or received).
    pub fn is_pending(self) -> bool {
        matches!(self, SendUnitStatus::Unread | SendUnitStatus::Received)
    }
}

impl fmt::Display for SendUnitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SendUnitStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                format!("status `{s}`: expected unread, received, downloaded, cancelled or expired")
            })
    }
}

/// One file of a stored send unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// The file's id, for download.
    pub id: FileId,
    /// The standard file name (or the PDF attachment's name). Shared: every listing and status answer
    /// carries it, and it never changes.
    pub name: Arc<str>,
    /// Size in bytes.
    pub size: u64,
    /// Whether the receiver has downloaded it.
    pub downloaded: bool,
}

/// A stored send unit: what the receiver's inbox and the sender's sent list show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendUnitRecord {
    /// The send unit's id.
    pub id: SendUnitId,
    /// The sender office.
    pub sender: OfficeNumber,
    /// The receiver office.
    pub receiver: OfficeNumber,
    /// The file serial (ファイル連番) its files share; receivers process send units in this order.
    #[serde(with = "serial_text")]
    pub serial: Serial,
    /// When the relay accepted it.
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    /// When the retention period ends and its files are purged.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Where it stands.
    pub status: SendUnitStatus,
    /// When it took that status.
    #[serde(with = "time::serde::rfc3339")]
    pub status_at: OffsetDateTime,
    /// Its files, in upload order. Shared: listings and answers copy a send unit without copying its
    /// files; a store copies them only to change a shared record.
    pub files: Arc<[FileRecord]>,
}

impl SendUnitRecord {
    /// Total size of its files in bytes.
    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// A file as the receiver downloads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedFile {
    /// Its name.
    pub name: Arc<str>,
    /// Its bytes.
    pub content: Bytes,
}

/// The relay's acknowledgement of an accepted send. A retried send is answered with the same receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendReceipt {
    /// The accepted send unit (`bundle` on the wire, its spelling since v1 of the HTTP API).
    #[serde(rename = "bundle")]
    pub send_unit: SendUnitId,
    /// The receiver office.
    pub receiver: OfficeNumber,
    /// The stored files, in upload order (inline: a send unit has three or four files as a rule).
    pub files: SmallVec<[FileId; 4]>,
    /// When the files will be purged.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl SendReceipt {
    pub(crate) fn of(send_unit: &SendUnitRecord) -> Self {
        Self {
            send_unit: send_unit.id,
            receiver: send_unit.receiver,
            files: send_unit.files.iter().map(|f| f.id).collect(),
            expires_at: send_unit.expires_at,
        }
    }
}

/// A send unit the relay has checked and hands to its store.
#[derive(Debug, Clone)]
pub struct NewSendUnit {
    /// The sender office.
    pub sender: OfficeNumber,
    /// The receiver office.
    pub receiver: OfficeNumber,
    /// The shared file serial.
    pub serial: Serial,
    /// When the relay accepted it.
    pub sent_at: OffsetDateTime,
    /// When its files are purged.
    pub expires_at: OffsetDateTime,
    /// The files, in upload order.
    pub files: Vec<Upload>,
}

impl NewSendUnit {
    /// The record of this send unit as stored under `id`, its files under `file_ids` (in upload order):
    /// unread since it was sent, as every send unit starts. Each upload's id, name and bytes are handed to
    /// `keep` as the record takes its name.
    pub fn stored(
        self,
        id: SendUnitId,
        file_ids: impl IntoIterator<Item = FileId>,
        mut keep: impl FnMut(FileId, &str, Bytes),
    ) -> SendUnitRecord {
        let files = file_ids
            .into_iter()
            .zip(self.files)
            .map(|(file_id, upload)| {
                let size = upload.content.len() as u64;
                keep(file_id, &upload.name, upload.content);
                FileRecord {
                    id: file_id,
                    name: upload.name,
                    size,
                    downloaded: false,
                }
            })
            .collect();
        SendUnitRecord {
            id,
            sender: self.sender,
            receiver: self.receiver,
            serial: self.serial,
            sent_at: self.sent_at,
            expires_at: self.expires_at,
            status: SendUnitStatus::Unread,
            status_at: self.sent_at,
            files,
        }
    }
}

/// A serial as its 14 digits on the wire.
mod serial_text {
    use careplan_spec::Serial;
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub(super) fn serialize<S: Serializer>(serial: &Serial, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(serial)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Serial, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|()| de::Error::custom(format!("`{text}` is not a 14-digit file serial")))
    }
}
