//! Why the relay refuses a request.

use careplan_core::{ErrorCode, OfficeNumber};
use careplan_spec::{FileNameError, SendUnitError, Serial};
use serde::{Deserialize, Serialize};

use crate::{SendUnitId, SendUnitStatus};

/// One error the strict relay's validator found in a file of a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The file.
    pub file: String,
    /// The validator's rule ID (see `docs/rules.md`).
    pub rule: String,
    /// 1-based line, when the finding concerns one record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based field number (項目No), when it concerns one field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = self.field {
            write!(f, " field {field}")?;
        }
        write!(f, ": {} {}", self.rule, self.message)
    }
}

/// A store that failed: the request changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the relay's store failed: {0}")]
pub struct StoreError(pub String);

impl StoreError {
    /// Wraps any backend error.
    pub fn backend(error: impl std::fmt::Display) -> Self {
        Self(error.to_string())
    }
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
    /// Only PDF attachments, no standard CSV file to travel with.
    #[error("PDF attachments travel with the CSV files of a send unit; this send has none")]
    AttachmentsAlone,
    /// A PDF attachment with an unusable name or content.
    #[error("attachment `{name}`: {reason}")]
    Attachment {
        /// The attachment's name.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The send is larger than the relay accepts.
    #[error("the send unit holds {size} bytes; this relay accepts at most {limit}")]
    TooLarge {
        /// The send's size in bytes.
        size: u64,
        /// The limit.
        limit: u64,
    },
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
    LicenceRequired(OfficeNumber),
    /// The receiver never filed a usage application.
    #[error("receiver {0} is not registered with the care plan data linkage system")]
    ReceiverUnregistered(OfficeNumber),
    /// The receiver is registered but holds no valid licence.
    #[error("receiver {0} is registered but its licence is not valid (lapsed or not renewed)")]
    ReceiverUnlicensed(OfficeNumber),
    /// The strict relay found errors in the CSV files: the first [`MAX_FINDINGS`] of them, and how many
    /// there were.
    #[error("the strict relay found {total} error(s) in the CSV files{}: {}", listed(findings.len(), *total), first(findings))]
    ContentInvalid {
        /// The first findings, in file and line order.
        findings: Vec<Finding>,
        /// Every finding, listed or not.
        total: usize,
    },
    /// Another send unit with the same sender, receiver and serial was accepted before, with other files.
    #[error(
        "send unit {existing} with serial {serial} was already accepted with other files; export again for a new serial (ファイル連番)"
    )]
    SerialReused {
        /// The send unit holding the serial.
        existing: SendUnitId,
        /// The serial.
        serial: Serial,
    },
    /// An earlier send unit of the same sender waits to be downloaded first.
    #[error(
        "send unit {pending} (serial {serial}) from the same sender comes first; download send units in serial order"
    )]
    SerialOrder {
        /// The send unit to download first.
        pending: SendUnitId,
        /// Its serial.
        serial: Serial,
    },
    /// No such file in the office's inbox.
    #[error("file {0} is not in this office's inbox")]
    FileNotFound(u64),
    /// No such send unit in the office's inbox or sent list.
    #[error("send unit {0} is not in this office's inbox or sent list")]
    SendUnitNotFound(SendUnitId),
    /// The sender cancelled it.
    #[error("send unit {0} was cancelled by its sender; its files are gone")]
    Cancelled(SendUnitId),
    /// The retention period passed.
    #[error("send unit {0} passed its retention period; its files were purged")]
    Expired(SendUnitId),
    /// Too late to cancel: the receiver has gone too far.
    #[error("send unit {send_unit} is already {status} by the receiver; it can no longer be cancelled")]
    TooLateToCancel {
        /// The send unit.
        send_unit: SendUnitId,
        /// Its status.
        status: SendUnitStatus,
    },
    /// This relay does not let senders cancel.
    #[error("this relay does not let senders cancel a send")]
    CancelNotAllowed,
    /// Before the system went into production.
    #[error(
        "the care plan data linkage system goes into production at 2023-04-20 00:00:00 JST; nothing is sent or received before"
    )]
    NotInService,
    /// The store failed; nothing changed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The most findings a strict refusal lists: a large broken send must not make a larger answer.
pub const MAX_FINDINGS: usize = 100;

fn listed(shown: usize, total: usize) -> String {
    if shown < total {
        format!(" (the first {shown} listed)")
    } else {
        String::new()
    }
}

fn first(findings: &[Finding]) -> String {
    match findings {
        [] => String::new(),
        [one] => one.to_string(),
        [one, rest @ ..] => format!("{one} (and {} more)", rest.len()),
    }
}

impl RelayError {
    /// The stable code of this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            RelayError::FileName(e) => e.code(),
            RelayError::NotInService => ErrorCode::ServiceNotStarted,
            RelayError::FileSet(_) | RelayError::AttachmentsAlone => ErrorCode::FileSetInvalid,
            RelayError::Attachment { .. } => ErrorCode::AttachmentInvalid,
            RelayError::TooLarge { .. } => ErrorCode::SendTooLarge,
            RelayError::SenderMismatch { .. } => ErrorCode::SenderMismatch,
            RelayError::SameOffice(_) => ErrorCode::SameOffice,
            RelayError::LicenceRequired(_) => ErrorCode::LicenceRequired,
            RelayError::ReceiverUnregistered(_) => ErrorCode::ReceiverUnregistered,
            RelayError::ReceiverUnlicensed(_) => ErrorCode::ReceiverUnlicensed,
            RelayError::ContentInvalid { .. } => ErrorCode::ContentInvalid,
            RelayError::SerialReused { .. } => ErrorCode::SerialReused,
            RelayError::SerialOrder { .. } => ErrorCode::SerialOrder,
            RelayError::FileNotFound(_) => ErrorCode::FileNotFound,
            RelayError::SendUnitNotFound(_) => ErrorCode::SendUnitNotFound,
            RelayError::Cancelled(_) => ErrorCode::SendUnitCancelled,
            RelayError::Expired(_) => ErrorCode::SendUnitExpired,
            RelayError::TooLateToCancel {
                status: SendUnitStatus::Received,
                ..
            } => ErrorCode::SendUnitAlreadyReceived,
            RelayError::TooLateToCancel { .. } => ErrorCode::SendUnitAlreadyDownloaded,
            RelayError::CancelNotAllowed => ErrorCode::CancelNotAllowed,
            RelayError::Store(_) => ErrorCode::StoreUnavailable,
        }
    }

    /// The strict relay's findings, when that is the refusal.
    pub fn findings(&self) -> &[Finding] {
        match self {
            RelayError::ContentInvalid { findings, .. } => findings,
            _ => &[],
        }
    }
}
