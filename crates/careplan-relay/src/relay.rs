//! The relay's rules over any [`Store`].

use careplan_core::{EventKind, EventLog, LicenceStanding, OfficeNumber, Party, SERVICE_START};
use careplan_spec::validate::{Options, Severity, validate_files};
use careplan_spec::{FileName, PlanTable3, SendUnitNames, check_send_unit};
use smallvec::SmallVec;
use time::OffsetDateTime;

use crate::store::{Inserted, Listed, Page};
use crate::{
    CancelUntil, Change, DownloadedFile, FileId, Finding, MAX_FINDINGS, MemoryStore, NewSendUnit,
    RelayConfig, RelayError, SendReceipt, SendUnitId, SendUnitRecord, SendUnitStatus, Store, Upload,
};

/// The longest PDF attachment name the relay accepts, in characters (assumed).
pub const MAX_ATTACHMENT_NAME_CHARS: usize = 100;

/// The relay: its rules, its settings and its store.
#[derive(Debug)]
pub struct Relay<S = MemoryStore> {
    store: S,
    config: RelayConfig,
    events: EventLog,
}

impl Relay<MemoryStore> {
    /// A relay with the default settings over an empty in-memory store.
    pub fn in_memory() -> Self {
        Self::new(MemoryStore::new(), RelayConfig::default())
    }
}

impl<S: Store> Relay<S> {
    /// A relay over `store`.
    pub fn new(store: S, config: RelayConfig) -> Self {
        Self {
            store,
            config,
            events: EventLog::default(),
        }
    }

    /// The store, once the relay is done with it (e.g. to measure it).
    pub fn into_store(self) -> S {
        self.store
    }

    /// Records what the relay decides (sends accepted, repeated or refused, send units received and
    /// cancelled, files downloaded, and refusals) in `events`.
    pub fn with_events(mut self, events: EventLog) -> Self {
        self.events = events;
        self
    }

    fn record(&self, at: OffsetDateTime, kind: EventKind) {
        self.events.record(at, Party::Relay, kind);
    }

    /// Records the outcome of a receiver's or sender's operation: `done` when it succeeded, a refusal
    /// with its code when not.
    fn note<T>(
        &self,
        at: OffsetDateTime,
        office: OfficeNumber,
        operation: &'static str,
        outcome: &Result<T, RelayError>,
        done: impl FnOnce(&T) -> EventKind,
    ) {
        if self.events.is_on() {
            let kind = match outcome {
                Ok(value) => done(value),
                Err(e) => EventKind::RelayRefused {
                    office,
                    operation,
                    code: e.code(),
                },
            };
            self.record(at, kind);
        }
    }

    /// The settings.
    pub fn config(&self) -> &RelayConfig {
        &self.config
    }

    /// Accepts a send unit from the authenticated `sender`, or refuses it without storing anything.
    /// `standing` answers where an office stands with the usage-application site at `now`: the sender
    /// and the receiver must both be licensed. A send repeated with the same files (a client retrying
    /// after a lost answer) is answered with the receipt of the first one.
    pub fn send(
        &mut self,
        now: OffsetDateTime,
        sender: OfficeNumber,
        uploads: Vec<Upload>,
        standing: &dyn Fn(OfficeNumber) -> LicenceStanding,
    ) -> Result<SendReceipt, RelayError> {
        let files = uploads.len();
        let outcome = in_service(now).and_then(|()| self.accept(now, sender, uploads, standing));
        if self.events.is_on() {
            let kind = match &outcome {
                Ok((receipt, true)) => EventKind::SendAccepted {
                    sender,
                    receiver: receipt.receiver,
                    send_unit: receipt.send_unit.0,
                    files,
                },
                Ok((receipt, false)) => EventKind::SendRepeated {
                    sender,
                    send_unit: receipt.send_unit.0,
                },
                Err(e) => EventKind::SendRefused {
                    sender,
                    code: e.code(),
                },
            };
            self.record(now, kind);
        }
        outcome.map(|(receipt, _)| receipt)
    }

    /// [`send`](Self::send)'s rules; the receipt says whether the send unit is new.
    fn accept(
        &mut self,
        now: OffsetDateTime,
        sender: OfficeNumber,
        uploads: Vec<Upload>,
        standing: &dyn Fn(OfficeNumber) -> LicenceStanding,
    ) -> Result<(SendReceipt, bool), RelayError> {
        if standing(sender) != LicenceStanding::Licensed {
            return Err(RelayError::LicenceRequired(sender));
        }
        let size = uploads.iter().map(|u| u.content.len() as u64).sum::<u64>();
        if size > self.config.max_send_bytes {
            return Err(RelayError::TooLarge {
                size,
                limit: self.config.max_send_bytes,
            });
        }
        // Inline: a send unit has three or four standard files as a rule.
        let mut names: SmallVec<[FileName; 4]> = SmallVec::new();
        let mut parser = SendUnitNames::new();
        for upload in &uploads {
            let Some(name) = standard_name(upload, &mut parser)? else {
                continue;
            };
            if name.from != sender {
                return Err(RelayError::SenderMismatch {
                    name: upload.name.to_string(),
                    named: name.from,
                    certified: sender,
                });
            }
            if name.to == sender {
                return Err(RelayError::SameOffice(upload.name.to_string()));
            }
            names.push(name);
        }
        check_attachment_names(&uploads)?;
        let Some(first) = names.first() else {
            return Err(if uploads.is_empty() {
                careplan_spec::SendUnitError::Empty.into()
            } else {
                RelayError::AttachmentsAlone
            });
        };
        // The relay does not read contents, so it cannot tell a V3 sender's plan tables (without 3表) apart.
        check_send_unit(&names, PlanTable3::Optional)?;
        let (receiver, serial) = (first.to, first.serial);
        match standing(receiver) {
            LicenceStanding::Licensed => {}
            LicenceStanding::Unlicensed => return Err(RelayError::ReceiverUnlicensed(receiver)),
            LicenceStanding::Unregistered => return Err(RelayError::ReceiverUnregistered(receiver)),
        }
        if self.config.strict {
            strict_check(&uploads)?;
        }
        self.store.expire(now)?;
        let new = NewSendUnit {
            sender,
            receiver,
            serial,
            sent_at: now,
            expires_at: now + self.config.retention,
            files: uploads,
        };
        match self.store.insert(new)? {
            Inserted::Created(send_unit) => Ok((SendReceipt::of(&send_unit), true)),
            Inserted::Existing { stored, refused } if self.same_files(&stored, &refused.files)? => {
                Ok((SendReceipt::of(&stored), false))
            }
            Inserted::Existing { stored, .. } => Err(RelayError::SerialReused {
                existing: stored.id,
                serial,
            }),
        }
    }

    /// Whether a stored send unit holds exactly `files`: names and sizes always, bytes while it holds
    /// them (a retry of a purged send unit is recognised by names and sizes).
    fn same_files(&mut self, send_unit: &SendUnitRecord, files: &[Upload]) -> Result<bool, RelayError> {
        if send_unit.files.len() != files.len()
            || send_unit
                .files
                .iter()
                .zip(files)
                .any(|(stored, new)| stored.name != new.name || stored.size != new.content.len() as u64)
        {
            return Ok(false);
        }
        for (stored, new) in send_unit.files.iter().zip(files) {
            if let Some(content) = self.store.content(stored.id)?
                && content != new.content
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// A page of the receiver's inbox (受信一覧), in the order the receiver must process send units: by
    /// file serial (ファイル連番), then arrival.
    pub fn inbox(
        &mut self,
        now: OffsetDateTime,
        receiver: OfficeNumber,
        page: Page,
    ) -> Result<Listed, RelayError> {
        in_service(now)?;
        self.store.expire(now)?;
        Ok(self.store.inbox(receiver, page)?)
    }

    /// A page of the sender's sent list (送信一覧), showing how far each receiver got.
    pub fn sent(
        &mut self,
        now: OffsetDateTime,
        sender: OfficeNumber,
        page: Page,
    ) -> Result<Listed, RelayError> {
        in_service(now)?;
        self.store.expire(now)?;
        Ok(self.store.sent(sender, page)?)
    }

    /// The receiver accepts (受信) a send unit of its inbox: unread → received. Accepting again changes
    /// nothing.
    pub fn receive(
        &mut self,
        now: OffsetDateTime,
        receiver: OfficeNumber,
        id: SendUnitId,
    ) -> Result<SendUnitRecord, RelayError> {
        let outcome = in_service(now).and_then(|()| self.accept_unit(now, receiver, id));
        self.note(now, receiver, "receive", &outcome, |record| {
            EventKind::SendUnitReceived {
                receiver,
                send_unit: record.id.0,
            }
        });
        outcome
    }

    fn accept_unit(
        &mut self,
        now: OffsetDateTime,
        receiver: OfficeNumber,
        id: SendUnitId,
    ) -> Result<SendUnitRecord, RelayError> {
        self.store.expire(now)?;
        self.own_send_unit(id, |b| b.receiver == receiver)?;
        self.store.update(id, &mut |send_unit| {
            usable(send_unit.id, send_unit.status)?;
            Ok(if send_unit.status == SendUnitStatus::Unread {
                Change::status(SendUnitStatus::Received, now)
            } else {
                Change::NONE
            })
        })
    }

    /// A file of the receiver's inbox and its bytes. Send units from one sender are downloaded in serial
    /// order; once every file of a send unit is downloaded it shows as downloaded.
    pub fn download(
        &mut self,
        now: OffsetDateTime,
        receiver: OfficeNumber,
        file: FileId,
    ) -> Result<DownloadedFile, RelayError> {
        let outcome = in_service(now).and_then(|()| self.hand_over(now, receiver, file));
        self.note(now, receiver, "download", &outcome, |downloaded| {
            EventKind::FileDownloaded {
                receiver,
                name: downloaded.name.to_string(),
            }
        });
        outcome
    }

    fn hand_over(
        &mut self,
        now: OffsetDateTime,
        receiver: OfficeNumber,
        file: FileId,
    ) -> Result<DownloadedFile, RelayError> {
        self.store.expire(now)?;
        self.store.download(file, &mut |send_unit, first_pending| {
            if send_unit.receiver != receiver {
                return Err(RelayError::FileNotFound(file.0));
            }
            usable(send_unit.id, send_unit.status)?;
            if let Some((serial, pending)) = first_pending
                && pending != send_unit.id
                && serial < send_unit.serial
            {
                return Err(RelayError::SerialOrder { pending, serial });
            }
            let status = if send_unit.others_downloaded {
                SendUnitStatus::Downloaded
            } else {
                SendUnitStatus::Received
            };
            Ok(Change {
                status: (send_unit.status != status).then_some((status, now)),
                downloaded: Some(file),
            })
        })
    }

    /// The sender cancels (取消) a send unit it sent, within [`RelayConfig::cancel_until`]; its files
    /// are deleted at once. Cancelling again changes nothing.
    pub fn cancel(
        &mut self,
        now: OffsetDateTime,
        sender: OfficeNumber,
        id: SendUnitId,
    ) -> Result<SendUnitRecord, RelayError> {
        let outcome = in_service(now).and_then(|()| self.withdraw(now, sender, id));
        self.note(now, sender, "cancel", &outcome, |record| {
            EventKind::SendUnitCancelled {
                sender,
                send_unit: record.id.0,
            }
        });
        outcome
    }

    fn withdraw(
        &mut self,
        now: OffsetDateTime,
        sender: OfficeNumber,
        id: SendUnitId,
    ) -> Result<SendUnitRecord, RelayError> {
        self.store.expire(now)?;
        self.own_send_unit(id, |b| b.sender == sender)?;
        let until = self.config.cancel_until;
        self.store.update(id, &mut |send_unit| {
            let allowed = match (until, send_unit.status) {
                (_, SendUnitStatus::Cancelled) => return Ok(Change::NONE),
                (_, SendUnitStatus::Expired) => return Err(RelayError::Expired(send_unit.id)),
                (CancelUntil::Never, _) => return Err(RelayError::CancelNotAllowed),
                (CancelUntil::Downloaded, status) => status.is_pending(),
                (CancelUntil::Received, status) => status == SendUnitStatus::Unread,
            };
            if !allowed {
                return Err(RelayError::TooLateToCancel {
                    send_unit: send_unit.id,
                    status: send_unit.status,
                });
            }
            Ok(Change::status(SendUnitStatus::Cancelled, now))
        })
    }

    /// Checks that send unit `id` exists and belongs to the caller.
    fn own_send_unit(
        &mut self,
        id: SendUnitId,
        mine: impl Fn(&SendUnitRecord) -> bool,
    ) -> Result<(), RelayError> {
        match self.store.send_unit(id)? {
            Some(send_unit) if mine(&send_unit) => Ok(()),
            _ => Err(RelayError::SendUnitNotFound(id)),
        }
    }
}

/// Whether send unit `id`, standing at `status`, still has its files.
fn usable(id: SendUnitId, status: SendUnitStatus) -> Result<(), RelayError> {
    match status {
        SendUnitStatus::Cancelled => Err(RelayError::Cancelled(id)),
        SendUnitStatus::Expired => Err(RelayError::Expired(id)),
        _ => Ok(()),
    }
}

fn is_pdf_name(name: &str) -> bool {
    name.len() > 4
        && name.is_char_boundary(name.len() - 4)
        && name[name.len() - 4..].eq_ignore_ascii_case(".pdf")
}

/// Sorts out one upload of a send: a standard file and its name, or a PDF attachment (`None`).
fn standard_name<'a>(
    upload: &'a Upload,
    parser: &mut SendUnitNames<'a>,
) -> Result<Option<FileName>, RelayError> {
    if !is_pdf_name(&upload.name) {
        return Ok(Some(parser.parse(&upload.name)?));
    }
    let refuse = |reason| RelayError::Attachment {
        name: upload.name.to_string(),
        reason,
    };
    if upload.name.chars().count() > MAX_ATTACHMENT_NAME_CHARS {
        return Err(refuse("the name is longer than 100 characters"));
    }
    if upload
        .name
        .chars()
        .any(|c| c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|'))
    {
        return Err(refuse(
            "the name holds a path separator, a control character or one of : * ? \" < > |",
        ));
    }
    if !upload.content.starts_with(b"%PDF-") {
        return Err(refuse(
            "the content is not a PDF file (it does not start with %PDF-)",
        ));
    }
    Ok(None)
}

/// Two attachments of one send cannot share a name.
fn check_attachment_names(uploads: &[Upload]) -> Result<(), RelayError> {
    let mut seen = std::collections::BTreeSet::new();
    for upload in uploads.iter().filter(|u| is_pdf_name(&u.name)) {
        if !seen.insert(upload.name.to_lowercase()) {
            return Err(RelayError::Attachment {
                name: upload.name.to_string(),
                reason: "two attachments of one send share this name",
            });
        }
    }
    Ok(())
}

/// The strict relay's reading: the validator over the CSV files of the send unit; errors refuse it.
fn strict_check(uploads: &[Upload]) -> Result<(), RelayError> {
    let files: Vec<(&str, &[u8])> = uploads
        .iter()
        .filter(|u| !is_pdf_name(&u.name))
        .map(|u| (&*u.name, &*u.content))
        .collect();
    let reports = validate_files(&files, Options::default());
    let errors = files.iter().zip(&reports).flat_map(|((name, _), report)| {
        report
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(move |d| (name, d))
    });
    let total = errors.clone().count();
    let findings: Vec<Finding> = errors
        .take(MAX_FINDINGS)
        .map(|(name, d)| Finding {
            file: (*name).to_owned(),
            rule: d.rule.id().to_owned(),
            line: d.line,
            field: d.field,
            message: d.message.clone(),
        })
        .collect();
    if total == 0 {
        Ok(())
    } else {
        Err(RelayError::ContentInvalid { findings, total })
    }
}

/// Refuses every relay operation before the system went into production.
fn in_service(now: OffsetDateTime) -> Result<(), RelayError> {
    if now < SERVICE_START {
        return Err(RelayError::NotInService);
    }
    Ok(())
}
