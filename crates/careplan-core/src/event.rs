//! Typed events: what the parties did, at a simulated instant, in the order they did it. A run's events
//! are its record; printed step lines, reports and determinism checks are views of them.
//!
//! Events carry no wall-clock time, port or key material, so the same scenario with the same seed gives
//! the same sequence, byte for byte once serialised.

use std::sync::{Arc, Mutex, PoisonError};

use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use crate::{ErrorCode, OfficeNumber};

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The party an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The simulated clock.
    Clock,
    /// The scenario runner.
    Runner,
    /// The e-billing portal (電子請求受付システム), with the federation and the CA behind it.
    Portal,
    /// The usage-application site (利用状況Webサイト).
    UsageSite,
    /// The relay (連携基盤).
    Relay,
    /// An office's care software (介護ソフト).
    Office,
}

/// Something a party did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The simulated clock was moved.
    ClockMoved {
        /// The new time.
        #[serde(with = "time::serde::rfc3339")]
        to: OffsetDateTime,
    },
    /// A scenario step started.
    StepStarted {
        /// 1-based step number.
        step: usize,
        /// Its line in the scenario file.
        line: usize,
        /// The action's name.
        action: &'static str,
        /// What the step does, in words.
        description: String,
    },
    /// A scenario step ended.
    StepFinished {
        /// 1-based step number.
        step: usize,
        /// `passed`, `failed` or `skipped`.
        result: &'static str,
        /// The code it met, if it failed with one (expected or not).
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<ErrorCode>,
        /// What happened, or why it failed.
        detail: String,
    },
    /// A web party answered a request that may change it.
    Answered {
        /// The operation, as the request names it (`login`, `apply_for_certificate`, …).
        operation: String,
        /// Whom it concerned, when the request says (an office number or a user ID).
        #[serde(skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
    },
    /// A web party refused a request.
    Refused {
        /// The operation.
        operation: String,
        /// Whom it concerned, when the request says.
        #[serde(skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        /// Its codes, the main one first.
        codes: Vec<ErrorCode>,
    },
    /// The federation issued an office's user ID (発行願).
    UserIdIssued {
        /// The office.
        office: OfficeNumber,
        /// Its `KJ` user ID.
        user_id: String,
    },
    /// The portal filed a certificate application (発行申請).
    CertificateApplied {
        /// `new` or `renewal`.
        kind: String,
        /// The certificate type.
        certificate_type: String,
        /// When the CA issues it.
        #[serde(with = "time::serde::rfc3339")]
        issues_at: OffsetDateTime,
    },
    /// The CA revoked an office's certificates (失効).
    CertificatesRevoked {
        /// The office.
        office: OfficeNumber,
        /// Their serial numbers.
        serials: Vec<u64>,
    },
    /// The usage site registered an office's usage application (利用申請).
    UsageApplied {
        /// The personal user ID it issued.
        personal_user_id: String,
    },
    /// The relay accepted a send unit (送信単位).
    SendAccepted {
        /// The sender.
        sender: OfficeNumber,
        /// The receiver.
        receiver: OfficeNumber,
        /// The send unit's id.
        send_unit: u64,
        /// How many files it holds.
        files: usize,
    },
    /// The relay recognised a repeated send and answered the first receipt.
    SendRepeated {
        /// The sender.
        sender: OfficeNumber,
        /// The send unit's id.
        send_unit: u64,
    },
    /// The relay refused a send; nothing was stored.
    SendRefused {
        /// The sender.
        sender: OfficeNumber,
        /// Why.
        code: ErrorCode,
    },
    /// The receiver accepted (受信) a send unit.
    SendUnitReceived {
        /// The receiver.
        receiver: OfficeNumber,
        /// The send unit's id.
        send_unit: u64,
    },
    /// The receiver downloaded a file.
    FileDownloaded {
        /// The receiver.
        receiver: OfficeNumber,
        /// The file's name.
        name: String,
    },
    /// The sender cancelled (取消) a send unit.
    SendUnitCancelled {
        /// The sender.
        sender: OfficeNumber,
        /// The send unit's id.
        send_unit: u64,
    },
    /// The relay refused to receive, download or cancel.
    RelayRefused {
        /// The office asking.
        office: OfficeNumber,
        /// `receive`, `download` or `cancel`.
        operation: &'static str,
        /// Why.
        code: ErrorCode,
    },
    /// An office's care software exported a send unit into its outbox.
    Exported {
        /// The office.
        office: OfficeNumber,
        /// The receiver.
        receiver: OfficeNumber,
        /// The files, with their sizes and digests, so that a run's record pins the bytes exchanged.
        files: Vec<FileDigest>,
    },
    /// The bench called a vendor's care software through its adapter.
    AdapterCalled {
        /// The office it runs in.
        office: OfficeNumber,
        /// The operation (`export_plan`, `import`, …).
        operation: &'static str,
        /// Its exit status, if it exited.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<i32>,
        /// Whether it was stopped at its time limit.
        timed_out: bool,
        /// What it printed (the first 4 KiB).
        stdout: String,
        /// What it printed on stderr (the first 4 KiB).
        stderr: String,
    },
    /// An office's care software imported downloaded files.
    Imported {
        /// The office.
        office: OfficeNumber,
        /// How many files.
        files: usize,
        /// How many records.
        records: usize,
        /// How many distinct users.
        users: usize,
    },
    /// A care-management office's care software was loaded with a case (its plans of a month).
    Prepared {
        /// The office.
        office: OfficeNumber,
        /// The service month, `YYYYMM`.
        month: String,
        /// How many users the case plans for.
        users: usize,
    },
}

/// A file as a run's record keeps it: its name, size and SHA-256, in lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDigest {
    /// The file name.
    pub name: String,
    /// Its size in bytes.
    pub bytes: usize,
    /// SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
}

/// An event at its simulated instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// When, on the ecosystem's clock.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who.
    pub party: Party,
    /// What.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Where a run's events are collected, in order; shared by every party of one ecosystem. A log that is
/// off (the default, and `serve`'s) records nothing and costs one branch.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    events: Option<Arc<Mutex<Vec<Event>>>>,
}

impl EventLog {
    /// A log that collects.
    pub fn collecting() -> Self {
        Self {
            events: Some(Arc::default()),
        }
    }

    /// Whether it collects.
    pub fn is_on(&self) -> bool {
        self.events.is_some()
    }

    /// Records `kind` from `party` at `at`.
    pub fn record(&self, at: OffsetDateTime, party: Party, kind: EventKind) {
        if let Some(events) = &self.events {
            events
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Event { at, party, kind });
        }
    }

    /// Everything recorded since the last call, in order.
    pub fn take(&self) -> Vec<Event> {
        self.events.as_ref().map_or_else(Vec::new, |events| {
            std::mem::take(&mut *events.lock().unwrap_or_else(PoisonError::into_inner))
        })
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_collecting_log_keeps_order_and_an_idle_one_keeps_nothing() {
        let at = datetime!(2025-05-01 09:00 +9);
        let log = EventLog::collecting();
        let shared = log.clone();
        log.record(at, Party::Clock, EventKind::ClockMoved { to: at });
        shared.record(
            at,
            Party::Relay,
            EventKind::SendRefused {
                sender: "1310000001".parse().unwrap(),
                code: ErrorCode::LicenceRequired,
            },
        );
        let events = log.take();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].party, Party::Clock);
        assert!(log.take().is_empty());
        let json = serde_json::to_string(&events[1]).unwrap();
        assert_eq!(
            json,
            r#"{"at":"2025-05-01T09:00:00+09:00","party":"relay","event":"send_refused","sender":"1310000001","code":"LICENCE_REQUIRED"}"#
        );
        let idle = EventLog::default();
        idle.record(at, Party::Clock, EventKind::ClockMoved { to: at });
        assert!(!idle.is_on());
        assert!(idle.take().is_empty());
    }
}
