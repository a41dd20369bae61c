//! A virtual office: care software, local folders and a linkage client.

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;

use careplan_core::OfficeNumber;
use careplan_net::LinkageClient;
use careplan_relay::{FileId, SendReceipt, SendUnitId, SendUnitRecord, SendUnitStatus};
use time::OffsetDateTime;

use careplan_core::{ErrorCode, EventKind, EventLog, FileDigest, Party};
use careplan_net::ClientError;

use crate::case::PreparedMonth;
use crate::software::{CareSoftware, Export, Holdings, ImportReport, OfficeProfile, SendUnit, SoftwareError};

/// A file the office sent, as the relay acknowledged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFile {
    /// The receiver office.
    pub receiver: OfficeNumber,
    /// The relay's send-unit id.
    pub send_unit: SendUnitId,
    /// The standard file name.
    pub name: Arc<str>,
    /// The bytes sent.
    pub content: Bytes,
}

/// A file the office downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedFile {
    /// The relay's file id.
    pub id: FileId,
    /// The sender office.
    pub sender: OfficeNumber,
    /// The standard file name.
    pub name: String,
    /// The bytes received.
    pub content: Vec<u8>,
    /// Whether the care software has imported it.
    pub imported: bool,
}

/// What one [`VirtualOffice::receive`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Received {
    /// Send units accepted or downloaded.
    pub send_units: usize,
    /// Files downloaded.
    pub files: usize,
}

/// Why an office operation failed. Every variant carries a stable [`ErrorCode`].
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// The care software failed.
    #[error(transparent)]
    Software(#[from] SoftwareError),
    /// The linkage client failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The outbox holds nothing for the receiver.
    #[error("{0}")]
    NothingToSend(String),
}

impl OfficeError {
    /// The stable code of this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            OfficeError::Software(e) => e.code(),
            OfficeError::Client(e) => e.code(),
            OfficeError::NothingToSend(_) => ErrorCode::NothingToSend,
        }
    }
}

/// An office in a scenario.
#[derive(Debug)]
pub struct VirtualOffice {
    software: Box<dyn CareSoftware>,
    client: Option<LinkageClient>,
    outbox: Vec<SendUnit>,
    sent: Vec<SentFile>,
    received: Vec<ReceivedFile>,
    events: EventLog,
}

impl VirtualOffice {
    /// An office with its care software; it can reach the relay once a client is installed.
    pub fn new(software: Box<dyn CareSoftware>) -> Self {
        Self {
            software,
            client: None,
            outbox: Vec::new(),
            sent: Vec::new(),
            received: Vec::new(),
            events: EventLog::default(),
        }
    }

    /// Records the office's exports and imports in `events`.
    pub fn with_events(mut self, events: EventLog) -> Self {
        self.events = events;
        self
    }

    /// The office.
    pub fn profile(&self) -> &OfficeProfile {
        self.software.profile()
    }

    /// The care software.
    pub fn software(&self) -> &dyn CareSoftware {
        self.software.as_ref()
    }

    /// Installs the linkage client (with the office certificate).
    pub fn install_client(&mut self, client: LinkageClient) {
        self.client = Some(client);
    }

    /// The installed linkage client, if any.
    pub fn linkage_client(&self) -> Option<&LinkageClient> {
        self.client.as_ref()
    }

    fn client(&self) -> Result<&LinkageClient, OfficeError> {
        self.client.as_ref().ok_or_else(|| {
            OfficeError::Client(ClientError::Connection {
                code: ErrorCode::CertRequired,
                detail: format!("office {} has no certificate installed", self.profile().number),
            })
        })
    }

    /// Loads a case into the care software: the month's plans are the case's from now on.
    pub fn prepare(&mut self, now: OffsetDateTime, case: &PreparedMonth) -> Result<(), OfficeError> {
        self.software.prepare(now, case)?;
        self.events.record(
            now,
            Party::Office,
            EventKind::Prepared {
                office: self.profile().number,
                month: case.month.to_string(),
                users: case.users.len(),
            },
        );
        Ok(())
    }

    /// Exports a send unit for `to` into the outbox (upload to the client): plans ①, care plans, a plan
    /// deletion or actuals ⑦, as [`Export`] says.
    pub fn export(
        &mut self,
        now: OffsetDateTime,
        export: Export,
        to: &OfficeProfile,
    ) -> Result<SendUnit, OfficeError> {
        let send_unit = self.software.export(now, export, to)?;
        Ok(self.queue(now, send_unit))
    }

    /// Puts an exported send unit into the outbox and records the export.
    fn queue(&mut self, now: OffsetDateTime, send_unit: SendUnit) -> SendUnit {
        self.events.record(
            now,
            Party::Office,
            EventKind::Exported {
                office: self.profile().number,
                receiver: send_unit.receiver,
                files: send_unit
                    .files
                    .iter()
                    .map(|f| {
                        use sha2::Digest;
                        let digest = sha2::Sha256::digest(&f.content);
                        FileDigest {
                            name: f.name.to_string(),
                            bytes: f.content.len(),
                            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
                        }
                    })
                    .collect(),
            },
        );
        self.outbox.push(send_unit.clone());
        send_unit
    }

    /// ③ Sends every outbox send unit addressed to `receiver`, oldest first, or with `latest_only` just the
    /// most recent one (a user picking the newest files). A send unit leaves the outbox only when the relay
    /// acknowledged it; on failure the rest stay queued.
    pub async fn send_to(
        &mut self,
        receiver: OfficeNumber,
        latest_only: bool,
    ) -> Result<Vec<SendReceipt>, OfficeError> {
        let queued = |outbox: &[SendUnit]| {
            let mut addressed = outbox.iter().enumerate().filter(|(_, b)| b.receiver == receiver);
            if latest_only {
                addressed.next_back().map(|(i, _)| i)
            } else {
                addressed.next().map(|(i, _)| i)
            }
        };
        if queued(&self.outbox).is_none() {
            return Err(OfficeError::NothingToSend(format!(
                "office {} has no exported files for office {receiver}",
                self.profile().number
            )));
        }
        let mut receipts = Vec::new();
        while let Some(index) = queued(&self.outbox) {
            let receipt = self.client()?.send(&self.outbox[index].files).await?;
            let send_unit = self.outbox.remove(index);
            self.sent.extend(send_unit.files.into_iter().map(|f| SentFile {
                receiver,
                send_unit: receipt.send_unit,
                name: f.name,
                content: f.content,
            }));
            receipts.push(receipt);
            if latest_only {
                break;
            }
        }
        Ok(receipts)
    }

    /// ④⑤ Lists the inbox and, send unit by send unit in serial order, downloads every file not
    /// downloaded yet; with `download` off it only accepts (受信) the unread send units. Cancelled and
    /// expired send units are passed over. `only` picks one send unit by its 1-based place in the
    /// listing, as a user clicking one line would.
    pub async fn receive(&mut self, download: bool, only: Option<usize>) -> Result<Received, OfficeError> {
        let client = self.client()?.clone();
        let have: BTreeSet<FileId> = self.received.iter().map(|f| f.id).collect();
        let mut received = Received::default();
        let inbox = client.inbox().await?;
        let picked = match only {
            None => inbox,
            Some(place) => inbox.into_iter().skip(place.saturating_sub(1)).take(1).collect(),
        };
        for send_unit in picked {
            if !send_unit.status.holds_files() || send_unit.files.iter().all(|f| have.contains(&f.id)) {
                continue;
            }
            if !download {
                if send_unit.status == SendUnitStatus::Unread {
                    client.receive(send_unit.id).await?;
                    received.send_units += 1;
                }
                continue;
            }
            received.send_units += 1;
            for file in send_unit.files.iter().filter(|f| !have.contains(&f.id)) {
                let content = client.download(file.id).await?;
                self.received.push(ReceivedFile {
                    id: file.id,
                    sender: send_unit.sender,
                    name: file.name.to_string(),
                    content,
                    imported: false,
                });
                received.files += 1;
            }
        }
        Ok(received)
    }

    /// Cancels (取消) a send unit the office sent.
    pub async fn cancel(&mut self, send_unit: SendUnitId) -> Result<SendUnitRecord, OfficeError> {
        Ok(self.client()?.cancel(send_unit).await?)
    }

    /// The send unit most recently sent to `receiver`, if any.
    pub fn last_sent_to(&self, receiver: OfficeNumber) -> Option<SendUnitId> {
        self.sent
            .iter()
            .rev()
            .find(|f| f.receiver == receiver)
            .map(|f| f.send_unit)
    }

    /// ⑥ Imports every downloaded file not imported yet into the care software, all or nothing.
    pub fn import(&mut self, now: OffsetDateTime) -> Result<ImportReport, OfficeError> {
        let pending: Vec<(&str, &[u8])> = self
            .received
            .iter()
            .filter(|f| !f.imported)
            .map(|f| (f.name.as_str(), f.content.as_slice()))
            .collect();
        let report = self.software.import(now, &pending)?;
        self.events.record(
            now,
            Party::Office,
            EventKind::Imported {
                office: self.profile().number,
                files: report.files,
                records: report.records,
                users: report.users.len(),
            },
        );
        self.received.iter_mut().for_each(|f| f.imported = true);
        Ok(report)
    }

    /// What the care software holds now, as neutral visits.
    pub fn dump(&mut self, now: OffsetDateTime) -> Result<Holdings, OfficeError> {
        Ok(self.software.dump(now)?)
    }

    /// Files sent so far.
    pub fn sent(&self) -> &[SentFile] {
        &self.sent
    }

    /// Files received so far.
    pub fn received(&self) -> &[ReceivedFile] {
        &self.received
    }

    /// Send units exported but not sent yet.
    pub fn outbox(&self) -> &[SendUnit] {
        &self.outbox
    }

    /// The outbox, to edit by hand before sending (a file taken out, another attached, one damaged).
    pub fn outbox_mut(&mut self) -> &mut Vec<SendUnit> {
        &mut self.outbox
    }
}
