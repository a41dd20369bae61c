//! A virtual office: care software, local folders and a linkage client.

use std::collections::BTreeSet;

use careplan_core::{CareMonth, OfficeNumber};
use careplan_net::LinkageClient;
use careplan_relay::{BundleId, FileId, SendReceipt};
use time::OffsetDateTime;

use crate::software::{Bundle, CareSoftware, ImportReport, OfficeError, OfficeProfile};

/// A file the office sent, as the relay acknowledged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFile {
    /// The receiver office.
    pub receiver: OfficeNumber,
    /// The relay's send-unit id.
    pub bundle: BundleId,
    /// The standard file name.
    pub name: String,
    /// The bytes sent.
    pub content: Vec<u8>,
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

/// An office in a scenario.
#[derive(Debug)]
pub struct VirtualOffice {
    software: CareSoftware,
    client: Option<LinkageClient>,
    outbox: Vec<Bundle>,
    sent: Vec<SentFile>,
    received: Vec<ReceivedFile>,
}

impl VirtualOffice {
    /// An office with its care software; it can reach the relay once a client is installed.
    pub fn new(software: CareSoftware) -> Self {
        Self {
            software,
            client: None,
            outbox: Vec::new(),
            sent: Vec::new(),
            received: Vec::new(),
        }
    }

    /// The office.
    pub fn profile(&self) -> &OfficeProfile {
        self.software.profile()
    }

    /// The care software.
    pub fn software(&self) -> &CareSoftware {
        &self.software
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
            OfficeError::Client(careplan_net::ClientError::Connection {
                code: careplan_core::ErrorCode::CertRequired,
                detail: format!("office {} has no certificate installed", self.profile().number),
            })
        })
    }

    /// ① Exports a month's plan bundle to `provider` into the outbox (upload to the client).
    pub fn export_plan(
        &mut self,
        now: OffsetDateTime,
        month: CareMonth,
        provider: &OfficeProfile,
        users: usize,
    ) -> Result<Bundle, OfficeError> {
        let bundle = self.software.export_plan(now, month, provider, users)?;
        self.outbox.push(bundle.clone());
        Ok(bundle)
    }

    /// ⑦ Exports a month's actuals to `care_manager` into the outbox.
    pub fn export_actuals(
        &mut self,
        now: OffsetDateTime,
        month: CareMonth,
        care_manager: &OfficeProfile,
    ) -> Result<Bundle, OfficeError> {
        let bundle = self.software.export_actuals(now, month, care_manager)?;
        self.outbox.push(bundle.clone());
        Ok(bundle)
    }

    /// ③ Sends every outbox bundle addressed to `receiver`, oldest first. A bundle leaves the outbox only
    /// when the relay acknowledged it; on failure the rest stay queued.
    pub async fn send_to(&mut self, receiver: OfficeNumber) -> Result<Vec<SendReceipt>, OfficeError> {
        if !self.outbox.iter().any(|b| b.receiver == receiver) {
            return Err(OfficeError::NothingToSend(format!(
                "office {} has no exported files for office {receiver}",
                self.profile().number
            )));
        }
        let mut receipts = Vec::new();
        while let Some(index) = self.outbox.iter().position(|b| b.receiver == receiver) {
            let receipt = self.client()?.send(&self.outbox[index].files).await?;
            let bundle = self.outbox.remove(index);
            self.sent.extend(bundle.files.into_iter().map(|f| SentFile {
                receiver,
                bundle: receipt.bundle,
                name: f.name,
                content: f.content,
            }));
            receipts.push(receipt);
        }
        Ok(receipts)
    }

    /// ④⑤ Lists the inbox and downloads every file not downloaded yet, in the relay's order; returns how
    /// many files arrived.
    pub async fn receive(&mut self) -> Result<usize, OfficeError> {
        let client = self.client()?.clone();
        let have: BTreeSet<FileId> = self.received.iter().map(|f| f.id).collect();
        let mut count = 0;
        for entry in client
            .inbox()
            .await?
            .into_iter()
            .filter(|e| !have.contains(&e.id))
        {
            let content = client.download(entry.id).await?;
            self.received.push(ReceivedFile {
                id: entry.id,
                sender: entry.sender,
                name: entry.name,
                content,
                imported: false,
            });
            count += 1;
        }
        Ok(count)
    }

    /// ⑥ Imports every downloaded file not imported yet into the care software, all or nothing.
    pub fn import(&mut self) -> Result<ImportReport, OfficeError> {
        let pending: Vec<(&str, &[u8])> = self
            .received
            .iter()
            .filter(|f| !f.imported)
            .map(|f| (f.name.as_str(), f.content.as_slice()))
            .collect();
        let report = self.software.import(&pending)?;
        self.received.iter_mut().for_each(|f| f.imported = true);
        Ok(report)
    }

    /// Files sent so far.
    pub fn sent(&self) -> &[SentFile] {
        &self.sent
    }

    /// Files received so far.
    pub fn received(&self) -> &[ReceivedFile] {
        &self.received
    }

    /// Bundles exported but not sent yet.
    pub fn outbox(&self) -> &[Bundle] {
        &self.outbox
    }
}
