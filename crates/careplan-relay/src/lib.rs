//! The relay (ケアプランデータ連携基盤): stores files sent by one office and forwards them to the receiver
//! named in their standard file names.
//!
//! Architecture invariants:
//! - Sans-IO: [`Relay`] is a plain state machine. Every operation takes the authenticated sender or
//!   receiver (established by the TLS layer from the client certificate) and, where time matters, `now`.
//!   It never reads a clock, a socket or a file.
//! - A refused send changes nothing: all checks run before any file is stored.
//! - The relay never reads or edits file contents; it routes by file name only.
//! - Data flows only between registered, licensed offices: the usage-application site's answer is passed
//!   into [`Relay::send`] as a function of the office, so the relay holds no licence state of its own.

use std::collections::BTreeMap;

use careplan_core::{ErrorCode, LicenceStanding, OfficeNumber};
use careplan_spec::{FileName, FileNameError, PlanTable3, SendUnitError, Serial, check_send_unit};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Identifies a stored file within the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FileId(pub u64);

/// Identifies an accepted send unit (送信単位).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BundleId(pub u64);

/// A file as uploaded by a linkage client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The standard file name.
    pub name: String,
    /// The bytes, untouched.
    pub content: Vec<u8>,
}

/// Why the relay refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    /// A file name is not a standard name.
    #[error(transparent)]
    FileName(#[from] FileNameError),
    /// The files do not form one send unit (添付いただいたファイルの組み合わせが正しくありません).
    #[error("the files do not form one send unit: {0}")]
    FileSet(#[from] SendUnitError),
    /// The sender in a file name is not the authenticated office.
    #[error("`{name}` names sender {named}, but the client certificate belongs to office {certified}")]
    SenderMismatch {
        /// The file name.
        name: String,
        /// The sender named in it.
        named: OfficeNumber,
        /// The office of the certificate.
        certified: OfficeNumber,
    },
    /// The receiver is the sender's own office number.
    #[error("`{0}` is addressed to the sender's own office number")]
    SameOffice(String),
    /// The sender has no usage application or its licence has lapsed.
    #[error("office {0} has no valid licence (利用申請・ライセンス): nothing can be sent")]
    LicenseRequired(OfficeNumber),
    /// The receiver never filed a usage application.
    #[error("receiver {0} is not registered with the care plan data linkage system")]
    ReceiverUnregistered(OfficeNumber),
    /// The receiver is registered but holds no valid licence.
    #[error("receiver {0} is registered but its licence is not valid (lapsed or not renewed)")]
    ReceiverUnlicensed(OfficeNumber),
    /// No such file in the office's inbox.
    #[error("file {0} is not in this office's inbox")]
    FileNotFound(u64),
}

impl RelayError {
    /// The stable code of this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            RelayError::FileName(e) => e.code(),
            RelayError::FileSet(_) => ErrorCode::FileSetInvalid,
            RelayError::SenderMismatch { .. } => ErrorCode::SenderMismatch,
            RelayError::SameOffice(_) => ErrorCode::SameOffice,
            RelayError::LicenseRequired(_) => ErrorCode::LicenseRequired,
            RelayError::ReceiverUnregistered(_) => ErrorCode::ReceiverUnregistered,
            RelayError::ReceiverUnlicensed(_) => ErrorCode::ReceiverUnlicensed,
            RelayError::FileNotFound(_) => ErrorCode::FileNotFound,
        }
    }
}

/// What the relay tells a receiver about a file in its inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    /// The file's id, for download.
    pub id: FileId,
    /// The send unit it arrived in.
    pub bundle: BundleId,
    /// The standard file name.
    pub name: String,
    /// The sender office.
    pub sender: OfficeNumber,
    /// Size in bytes.
    pub size: u64,
    /// When the relay accepted it.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

/// The relay's acknowledgement of an accepted send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendReceipt {
    /// The accepted send unit.
    pub bundle: BundleId,
    /// The receiver office.
    pub receiver: OfficeNumber,
    /// The stored files, in upload order.
    pub files: Vec<FileId>,
}

#[derive(Debug)]
struct StoredFile {
    entry: InboxEntry,
    serial: Serial,
    content: Vec<u8>,
}

/// The relay's state: one inbox per receiver office.
#[derive(Debug, Default)]
pub struct Relay {
    inboxes: BTreeMap<OfficeNumber, Vec<StoredFile>>,
    next_file: u64,
    next_bundle: u64,
}

impl Relay {
    /// An empty relay.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts a send unit from the authenticated `sender`, or refuses it without storing anything.
    /// `standing` answers where an office stands with the usage-application site at `now`: the sender
    /// and the receiver must both be licensed.
    pub fn send(
        &mut self,
        now: OffsetDateTime,
        sender: OfficeNumber,
        uploads: Vec<Upload>,
        standing: &dyn Fn(OfficeNumber) -> LicenceStanding,
    ) -> Result<SendReceipt, RelayError> {
        if standing(sender) != LicenceStanding::Licensed {
            return Err(RelayError::LicenseRequired(sender));
        }
        let names = uploads
            .iter()
            .map(|u| u.name.parse::<FileName>())
            .collect::<Result<Vec<_>, _>>()?;
        for (name, upload) in names.iter().zip(&uploads) {
            if name.from != sender {
                return Err(RelayError::SenderMismatch {
                    name: upload.name.clone(),
                    named: name.from,
                    certified: sender,
                });
            }
            if name.to == sender {
                return Err(RelayError::SameOffice(upload.name.clone()));
            }
        }
        // The relay does not read contents, so it cannot tell a V3 sender's plan tables (without 3表) apart.
        check_send_unit(&names, PlanTable3::Optional)?;
        let Some(first) = names.first() else {
            return Err(SendUnitError::Empty.into());
        };
        let receiver = first.to;
        match standing(receiver) {
            LicenceStanding::Licensed => {}
            LicenceStanding::Unlicensed => return Err(RelayError::ReceiverUnlicensed(receiver)),
            LicenceStanding::Unregistered => return Err(RelayError::ReceiverUnregistered(receiver)),
        }
        let bundle = BundleId(self.next_bundle);
        self.next_bundle += 1;
        let inbox = self.inboxes.entry(receiver).or_default();
        let mut files = Vec::with_capacity(uploads.len());
        for (name, upload) in names.into_iter().zip(uploads) {
            let id = FileId(self.next_file);
            self.next_file += 1;
            files.push(id);
            inbox.push(StoredFile {
                entry: InboxEntry {
                    id,
                    bundle,
                    name: upload.name,
                    sender,
                    size: upload.content.len() as u64,
                    received_at: now,
                },
                serial: name.serial,
                content: upload.content,
            });
        }
        Ok(SendReceipt {
            bundle,
            receiver,
            files,
        })
    }

    /// The receiver's inbox, ordered by file serial (ファイル連番), the order the receiver must process
    /// send units in, then by arrival.
    pub fn inbox(&self, receiver: OfficeNumber) -> Vec<InboxEntry> {
        let mut files: Vec<&StoredFile> = self.inboxes.get(&receiver).into_iter().flatten().collect();
        files.sort_by_key(|f| (f.serial, f.entry.id));
        files.into_iter().map(|f| f.entry.clone()).collect()
    }

    /// A file of the receiver's inbox and its bytes.
    pub fn download(&self, receiver: OfficeNumber, id: FileId) -> Result<(&InboxEntry, &[u8]), RelayError> {
        self.inboxes
            .get(&receiver)
            .and_then(|files| files.iter().find(|f| f.entry.id == id))
            .map(|f| (&f.entry, f.content.as_slice()))
            .ok_or(RelayError::FileNotFound(id.0))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const CM: &str = "1310000001";
    const HH: &str = "1310000002";

    fn office(s: &str) -> OfficeNumber {
        s.parse().unwrap()
    }

    fn everyone_licensed(_: OfficeNumber) -> LicenceStanding {
        LicenceStanding::Licensed
    }

    fn upload(prefix: &str, from: &str, to: &str, serial: &str) -> Upload {
        Upload {
            name: format!("{prefix}_202505_{from}_43_{to}_11_{serial}.CSV"),
            content: prefix.as_bytes().to_vec(),
        }
    }

    fn bundle(serial: &str) -> Vec<Upload> {
        ["UPPLAN", "UPSIKYU", "UPHOSOKU"]
            .iter()
            .map(|p| upload(p, CM, HH, serial))
            .collect()
    }

    #[test]
    fn a_bundle_reaches_only_its_receiver_in_serial_order() {
        let mut relay = Relay::new();
        let now = datetime!(2025-05-01 09:00 +9);
        let late = relay
            .send(now, office(CM), bundle("20250425103001"), &everyone_licensed)
            .unwrap();
        let early = relay
            .send(now, office(CM), bundle("20250425103000"), &everyone_licensed)
            .unwrap();
        assert_eq!(late.receiver, office(HH));
        assert!(relay.inbox(office(CM)).is_empty());
        let inbox = relay.inbox(office(HH));
        assert_eq!(inbox.len(), 6);
        assert!(inbox[..3].iter().all(|e| e.bundle == early.bundle));
        let (entry, bytes) = relay.download(office(HH), late.files[0]).unwrap();
        assert_eq!(
            (entry.name.as_str(), bytes),
            (
                "UPPLAN_202505_1310000001_43_1310000002_11_20250425103001.CSV",
                &b"UPPLAN"[..]
            )
        );
        assert_eq!(
            relay.download(office(CM), late.files[0]).unwrap_err().code(),
            ErrorCode::FileNotFound
        );
    }

    #[test]
    fn refused_sends_store_nothing() {
        let mut relay = Relay::new();
        let now = datetime!(2025-05-01 09:00 +9);
        let mut mixed = bundle("20250425103000");
        mixed.push(upload("UPSIKYU", CM, HH, "20250425103009"));
        let other = "1310000003";
        let cases: Vec<(Vec<Upload>, OfficeNumber, ErrorCode)> = vec![
            (bundle("20250425103000"), office(other), ErrorCode::SenderMismatch),
            (
                vec![upload("UPPLAN", CM, CM, "20250425103000")],
                office(CM),
                ErrorCode::SameOffice,
            ),
            (mixed, office(CM), ErrorCode::FileSetInvalid),
            (vec![], office(CM), ErrorCode::FileSetInvalid),
            (
                ["UPPLAN", "UPHOSOKU"]
                    .iter()
                    .map(|p| upload(p, CM, HH, "20250425103000"))
                    .collect(),
                office(CM),
                ErrorCode::FileSetInvalid,
            ),
            (
                vec![Upload {
                    name: "plan.csv".into(),
                    content: vec![],
                }],
                office(CM),
                ErrorCode::FileNameInvalid,
            ),
        ];
        for (uploads, sender, code) in cases {
            assert_eq!(
                relay
                    .send(now, sender, uploads, &everyone_licensed)
                    .unwrap_err()
                    .code(),
                code
            );
        }
        assert!(relay.inbox(office(HH)).is_empty() && relay.inbox(office(CM)).is_empty());
    }

    #[test]
    fn data_flows_only_between_licensed_offices() {
        let mut relay = Relay::new();
        let now = datetime!(2025-05-01 09:00 +9);
        let standing_of = |sender: LicenceStanding, receiver: LicenceStanding| {
            move |o: OfficeNumber| if o == office(CM) { sender } else { receiver }
        };
        use LicenceStanding::{Licensed, Unlicensed, Unregistered};
        let cases = [
            (Unlicensed, Licensed, ErrorCode::LicenseRequired),
            (Unregistered, Licensed, ErrorCode::LicenseRequired),
            (Licensed, Unregistered, ErrorCode::ReceiverUnregistered),
            (Licensed, Unlicensed, ErrorCode::ReceiverUnlicensed),
        ];
        for (sender, receiver, code) in cases {
            let refused = relay.send(
                now,
                office(CM),
                bundle("20250425103000"),
                &standing_of(sender, receiver),
            );
            assert_eq!(refused.unwrap_err().code(), code);
        }
        assert!(
            relay.inbox(office(HH)).is_empty(),
            "nothing is stored for a refused send"
        );
        // An unlicensed sender is refused before anything else is looked at, even a same-office send.
        let own = vec![upload("UPPLAN", CM, CM, "20250425103000")];
        let refused = relay.send(now, office(CM), own, &standing_of(Unlicensed, Licensed));
        assert_eq!(refused.unwrap_err().code(), ErrorCode::LicenseRequired);
        let accepted = relay.send(
            now,
            office(CM),
            bundle("20250425103000"),
            &standing_of(Licensed, Licensed),
        );
        assert_eq!(accepted.unwrap().files.len(), 3);
    }
}
