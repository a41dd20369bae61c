//! The relay's rules, on the in-memory store.

// Helpers outside #[test] functions unwrap too: a failing set-up is a failing test.
#![allow(clippy::unwrap_used)]

use careplan_core::{ErrorCode, LicenceStanding, OfficeNumber};
use careplan_relay::{
    CancelUntil, Decide, DecideDownload, DownloadedFile, FileId, Inserted, Listed, MemoryStore, NewSendUnit,
    Page, Relay, RelayConfig, RelayError, SendReceipt, SendUnitId, SendUnitRecord, SendUnitStatus, Store,
    StoreError, Upload,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const CM: &str = "1310000001";
const HH: &str = "1310000002";
const NOW: OffsetDateTime = datetime!(2025-05-01 09:00 +9);

fn office(s: &str) -> OfficeNumber {
    s.parse().unwrap()
}

fn everyone_licensed(_: OfficeNumber) -> LicenceStanding {
    LicenceStanding::Licensed
}

fn upload(prefix: &str, from: &str, to: &str, serial: &str) -> Upload {
    Upload::new(
        format!("{prefix}_202505_{from}_43_{to}_11_{serial}.CSV"),
        format!("{prefix}{serial}"),
    )
}

fn send_unit(serial: &str) -> Vec<Upload> {
    ["UPPLAN", "UPSIKYU", "UPHOSOKU"]
        .iter()
        .map(|p| upload(p, CM, HH, serial))
        .collect()
}

fn relay(config: RelayConfig) -> Relay {
    Relay::new(MemoryStore::new(), config)
}

fn send(relay: &mut Relay, at: OffsetDateTime, serial: &str) -> SendReceipt {
    relay
        .send(at, office(CM), send_unit(serial), &everyone_licensed)
        .unwrap()
}

fn statuses(relay: &mut Relay, at: OffsetDateTime) -> Vec<SendUnitStatus> {
    relay
        .inbox(at, office(HH), Page::FIRST)
        .unwrap()
        .items
        .iter()
        .map(|b| b.status)
        .collect()
}

fn download_all(relay: &mut Relay, at: OffsetDateTime, receipt: &SendReceipt) -> Result<(), RelayError> {
    for file in receipt.files.iter() {
        relay.download(at, office(HH), *file)?;
    }
    Ok(())
}

#[test]
fn a_send_unit_reaches_only_its_receiver_in_serial_order() {
    let mut relay = Relay::in_memory();
    let late = send(&mut relay, NOW, "20250425103001");
    let early = send(&mut relay, NOW, "20250425103000");
    assert_eq!(late.receiver, office(HH));
    assert!(
        relay
            .inbox(NOW, office(CM), Page::FIRST)
            .unwrap()
            .items
            .is_empty()
    );
    let inbox = relay.inbox(NOW, office(HH), Page::FIRST).unwrap().items;
    assert_eq!(
        inbox.iter().map(|b| b.id).collect::<Vec<_>>(),
        vec![early.send_unit, late.send_unit]
    );
    assert_eq!(inbox[0].files.len(), 3);
    assert_eq!(
        relay.download(NOW, office(CM), late.files[0]).unwrap_err().code(),
        ErrorCode::FileNotFound
    );
    // The later serial waits for the earlier one from the same sender.
    let refused = relay.download(NOW, office(HH), late.files[0]).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::SerialOrder);
    download_all(&mut relay, NOW, &early).unwrap();
    let file = relay.download(NOW, office(HH), late.files[0]).unwrap();
    assert_eq!(
        (&*file.name, &file.content[..]),
        (
            "UPPLAN_202505_1310000001_43_1310000002_11_20250425103001.CSV",
            &b"UPPLAN20250425103001"[..]
        )
    );
}

#[test]
fn serial_order_binds_one_sender_only() {
    let mut relay = Relay::in_memory();
    let other = "1310000003";
    let late = send(&mut relay, NOW, "20250425103005");
    let from_other = relay
        .send(
            NOW,
            office(other),
            vec![upload("UPJSK", other, HH, "20250425103001")],
            &everyone_licensed,
        )
        .unwrap();
    // Another sender's earlier serial does not hold back this sender's send unit, nor the reverse.
    download_all(&mut relay, NOW, &late).unwrap();
    download_all(&mut relay, NOW, &from_other).unwrap();
}

#[test]
fn statuses_run_unread_received_downloaded_for_both_sides() {
    let mut relay = Relay::in_memory();
    let receipt = send(&mut relay, NOW, "20250425103000");
    assert_eq!(statuses(&mut relay, NOW), [SendUnitStatus::Unread]);
    let later = NOW + Duration::minutes(5);
    let received = relay.receive(later, office(HH), receipt.send_unit).unwrap();
    assert_eq!(
        (received.status, received.status_at),
        (SendUnitStatus::Received, later)
    );
    // Receiving again changes nothing, not even the time.
    let again = relay
        .receive(later + Duration::minutes(1), office(HH), receipt.send_unit)
        .unwrap();
    assert_eq!(again, received);
    relay.download(later, office(HH), receipt.files[0]).unwrap();
    assert_eq!(statuses(&mut relay, later), [SendUnitStatus::Received]);
    relay.download(later, office(HH), receipt.files[1]).unwrap();
    relay.download(later, office(HH), receipt.files[2]).unwrap();
    let sent = relay.sent(later, office(CM), Page::FIRST).unwrap().items;
    assert_eq!(sent[0].status, SendUnitStatus::Downloaded);
    assert!(sent[0].files.iter().all(|f| f.downloaded));
    // Downloading again is allowed and keeps the status.
    relay.download(later, office(HH), receipt.files[0]).unwrap();
    assert_eq!(statuses(&mut relay, later), [SendUnitStatus::Downloaded]);
    // Only the receiver accepts.
    let code = relay
        .receive(later, office(CM), receipt.send_unit)
        .unwrap_err()
        .code();
    assert_eq!(code, ErrorCode::SendUnitNotFound);
}

#[test]
fn a_sender_cancels_until_the_receiver_downloads() {
    let mut relay = Relay::in_memory();
    let unread = send(&mut relay, NOW, "20250425103000");
    let received = send(&mut relay, NOW, "20250425103001");
    let downloaded = send(&mut relay, NOW, "20250425103002");
    relay.receive(NOW, office(HH), received.send_unit).unwrap();
    let code = relay
        .cancel(NOW, office(HH), unread.send_unit)
        .unwrap_err()
        .code();
    assert_eq!(code, ErrorCode::SendUnitNotFound, "only the sender cancels");
    let cancelled = relay.cancel(NOW, office(CM), unread.send_unit).unwrap();
    assert_eq!(cancelled.status, SendUnitStatus::Cancelled);
    assert_eq!(
        relay.cancel(NOW, office(CM), unread.send_unit).unwrap(),
        cancelled
    );
    relay.cancel(NOW, office(CM), received.send_unit).unwrap();
    // Cancelled send units no longer hold back later serials, and their files are gone.
    download_all(&mut relay, NOW, &downloaded).unwrap();
    let code = relay
        .download(NOW, office(HH), unread.files[0])
        .unwrap_err()
        .code();
    assert_eq!(code, ErrorCode::SendUnitCancelled);
    let code = relay
        .cancel(NOW, office(CM), downloaded.send_unit)
        .unwrap_err()
        .code();
    assert_eq!(code, ErrorCode::SendUnitAlreadyDownloaded);
    assert_eq!(
        statuses(&mut relay, NOW),
        [
            SendUnitStatus::Cancelled,
            SendUnitStatus::Cancelled,
            SendUnitStatus::Downloaded
        ]
    );
}

#[test]
fn cancelling_can_be_limited_or_switched_off() {
    let config = |cancel_until| RelayConfig {
        cancel_until,
        ..RelayConfig::default()
    };
    let mut relay = relay(config(CancelUntil::Received));
    let receipt = send(&mut relay, NOW, "20250425103000");
    relay.receive(NOW, office(HH), receipt.send_unit).unwrap();
    let code = relay
        .cancel(NOW, office(CM), receipt.send_unit)
        .unwrap_err()
        .code();
    assert_eq!(code, ErrorCode::SendUnitAlreadyReceived);
    let mut relay = self::relay(config(CancelUntil::Never));
    let receipt = send(&mut relay, NOW, "20250425103000");
    let code = relay
        .cancel(NOW, office(CM), receipt.send_unit)
        .unwrap_err()
        .code();
    assert_eq!(code, ErrorCode::CancelNotAllowed);
    assert_eq!(statuses(&mut relay, NOW), [SendUnitStatus::Unread]);
}

#[test]
fn files_expire_after_the_retention_period_to_the_second() {
    let mut relay = relay(RelayConfig {
        retention: Duration::days(7),
        ..RelayConfig::default()
    });
    let receipt = send(&mut relay, NOW, "20250425103000");
    assert_eq!(receipt.expires_at, NOW + Duration::days(7));
    let before = receipt.expires_at - Duration::SECOND;
    assert_eq!(statuses(&mut relay, before), [SendUnitStatus::Unread]);
    assert_eq!(
        statuses(&mut relay, receipt.expires_at),
        [SendUnitStatus::Expired]
    );
    let sent = relay
        .sent(receipt.expires_at, office(CM), Page::FIRST)
        .unwrap()
        .items;
    assert_eq!(
        (sent[0].status, sent[0].status_at),
        (SendUnitStatus::Expired, receipt.expires_at)
    );
    let code = relay
        .download(receipt.expires_at, office(HH), receipt.files[0])
        .unwrap_err()
        .code();
    assert_eq!(code, ErrorCode::SendUnitExpired);
    let code = relay
        .cancel(receipt.expires_at, office(CM), receipt.send_unit)
        .unwrap_err()
        .code();
    assert_eq!(code, ErrorCode::SendUnitExpired);
}

#[test]
fn a_retried_send_gets_the_same_receipt_and_a_reused_serial_is_refused() {
    let mut relay = Relay::in_memory();
    let first = send(&mut relay, NOW, "20250425103000");
    let retry = send(&mut relay, NOW + Duration::SECOND, "20250425103000");
    assert_eq!(retry, first);
    assert_eq!(relay.inbox(NOW, office(HH), Page::FIRST).unwrap().items.len(), 1);
    let mut changed = send_unit("20250425103000");
    changed[0].content = [&changed[0].content[..], b"!"].concat().into();
    let refused = relay
        .send(NOW, office(CM), changed, &everyone_licensed)
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::SerialReused);
    let mut same_size = send_unit("20250425103000");
    let mut replaced = same_size[0].content.to_vec();
    replaced[0] = b'X';
    same_size[0].content = replaced.into();
    let refused = relay
        .send(NOW, office(CM), same_size, &everyone_licensed)
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::SerialReused);
    // Still recognised after the receiver downloaded it.
    download_all(&mut relay, NOW, &first).unwrap();
    assert_eq!(send(&mut relay, NOW, "20250425103000"), first);
}

fn pdf(name: &str) -> Upload {
    Upload::new(name, &b"%PDF-1.4\n%%EOF\n"[..])
}

#[test]
fn pdf_attachments_travel_beside_the_csv_files() {
    let mut relay = Relay::in_memory();
    let mut with_pdf = send_unit("20250425103000");
    with_pdf.push(pdf("第3表_週間サービス計画表.pdf"));
    let receipt = relay.send(NOW, office(CM), with_pdf, &everyone_licensed).unwrap();
    assert_eq!(receipt.files.len(), 4);
    let attachment = relay.download(NOW, office(HH), receipt.files[3]).unwrap();
    assert_eq!(&*attachment.name, "第3表_週間サービス計画表.pdf");
    assert!(attachment.content.starts_with(b"%PDF-"));
    let cases: Vec<(Vec<Upload>, ErrorCode)> = vec![
        (vec![pdf("a.pdf")], ErrorCode::FileSetInvalid),
        (
            [
                send_unit("20250425103001"),
                vec![Upload::new("a.PDF", &b"PK\x03\x04"[..])],
            ]
            .concat(),
            ErrorCode::AttachmentInvalid,
        ),
        (
            [send_unit("20250425103001"), vec![pdf("a.pdf"), pdf("A.PDF")]].concat(),
            ErrorCode::AttachmentInvalid,
        ),
        (
            [send_unit("20250425103001"), vec![pdf("../a.pdf")]].concat(),
            ErrorCode::AttachmentInvalid,
        ),
        (
            [
                send_unit("20250425103001"),
                vec![pdf(&format!("{}.pdf", "あ".repeat(97)))],
            ]
            .concat(),
            ErrorCode::AttachmentInvalid,
        ),
        (
            [send_unit("20250425103001"), vec![pdf("plan.xlsx")]].concat(),
            ErrorCode::FileNameInvalid,
        ),
    ];
    for (uploads, code) in cases {
        let names: Vec<_> = uploads.iter().map(|u| u.name.clone()).collect();
        let refused = relay
            .send(NOW, office(CM), uploads, &everyone_licensed)
            .unwrap_err();
        assert_eq!(refused.code(), code, "{names:?}");
    }
    assert_eq!(relay.inbox(NOW, office(HH), Page::FIRST).unwrap().items.len(), 1);
    // A 96-character name (+ .pdf) is accepted.
    let mut long = send_unit("20250425103002");
    long.push(pdf(&format!("{}.pdf", "あ".repeat(96))));
    relay.send(NOW, office(CM), long, &everyone_licensed).unwrap();
}

#[test]
fn the_size_limit_counts_every_file_of_the_send() {
    let files = send_unit("20250425103000");
    let size: u64 = files.iter().map(|f| f.content.len() as u64).sum();
    let mut relay = relay(RelayConfig {
        max_send_bytes: size - 1,
        ..RelayConfig::default()
    });
    let refused = relay
        .send(NOW, office(CM), files.clone(), &everyone_licensed)
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::SendTooLarge);
    let mut relay = self::relay(RelayConfig {
        max_send_bytes: size,
        ..RelayConfig::default()
    });
    relay.send(NOW, office(CM), files, &everyone_licensed).unwrap();
}

#[test]
fn the_strict_relay_reads_the_csv_files() {
    let garbage = send_unit("20250425103000");
    let mut lenient = Relay::in_memory();
    lenient
        .send(NOW, office(CM), garbage.clone(), &everyone_licensed)
        .unwrap();
    let mut strict = relay(RelayConfig {
        strict: true,
        ..RelayConfig::default()
    });
    let refused = strict
        .send(NOW, office(CM), garbage, &everyone_licensed)
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::ContentInvalid);
    let files: std::collections::BTreeSet<&str> =
        refused.findings().iter().map(|f| f.file.as_str()).collect();
    assert_eq!(files.len(), 3, "every broken file is reported: {refused}");
    assert!(
        strict
            .inbox(NOW, office(HH), Page::FIRST)
            .unwrap()
            .items
            .is_empty()
    );
}

#[test]
fn refused_sends_store_nothing() {
    let mut relay = Relay::in_memory();
    let mut mixed = send_unit("20250425103000");
    mixed.push(upload("UPSIKYU", CM, HH, "20250425103009"));
    let other = "1310000003";
    let cases: Vec<(Vec<Upload>, OfficeNumber, ErrorCode)> = vec![
        (
            send_unit("20250425103000"),
            office(other),
            ErrorCode::SenderMismatch,
        ),
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
            vec![Upload::new("plan.csv", Vec::new())],
            office(CM),
            ErrorCode::FileNameInvalid,
        ),
    ];
    for (uploads, sender, code) in cases {
        assert_eq!(
            relay
                .send(NOW, sender, uploads, &everyone_licensed)
                .unwrap_err()
                .code(),
            code
        );
    }
    assert!(
        relay
            .inbox(NOW, office(HH), Page::FIRST)
            .unwrap()
            .items
            .is_empty()
            && relay
                .inbox(NOW, office(CM), Page::FIRST)
                .unwrap()
                .items
                .is_empty()
    );
    assert_eq!(
        relay.download(NOW, office(HH), FileId(1)).unwrap_err().code(),
        ErrorCode::FileNotFound
    );
}

#[test]
fn data_flows_only_between_licensed_offices() {
    let mut relay = Relay::in_memory();
    let standing_of = |sender: LicenceStanding, receiver: LicenceStanding| {
        move |o: OfficeNumber| if o == office(CM) { sender } else { receiver }
    };
    use LicenceStanding::{Licensed, Unlicensed, Unregistered};
    let cases = [
        (Unlicensed, Licensed, ErrorCode::LicenceRequired),
        (Unregistered, Licensed, ErrorCode::LicenceRequired),
        (Licensed, Unregistered, ErrorCode::ReceiverUnregistered),
        (Licensed, Unlicensed, ErrorCode::ReceiverUnlicensed),
    ];
    for (sender, receiver, code) in cases {
        let refused = relay.send(
            NOW,
            office(CM),
            send_unit("20250425103000"),
            &standing_of(sender, receiver),
        );
        assert_eq!(refused.unwrap_err().code(), code);
    }
    assert!(
        relay
            .inbox(NOW, office(HH), Page::FIRST)
            .unwrap()
            .items
            .is_empty(),
        "nothing is stored for a refused send"
    );
    // An unlicensed sender is refused before anything else is looked at, even a same-office send.
    let own = vec![upload("UPPLAN", CM, CM, "20250425103000")];
    let refused = relay.send(NOW, office(CM), own, &standing_of(Unlicensed, Licensed));
    assert_eq!(refused.unwrap_err().code(), ErrorCode::LicenceRequired);
    let accepted = relay.send(
        NOW,
        office(CM),
        send_unit("20250425103000"),
        &standing_of(Licensed, Licensed),
    );
    assert_eq!(accepted.unwrap().files.len(), 3);
}

#[test]
fn the_memory_store_keeps_the_contract() {
    careplan_relay::contract::check(&mut MemoryStore::new);
    // Room made beforehand changes nothing of what the store keeps.
    careplan_relay::contract::check(&mut || MemoryStore::with_capacity(3, 7));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever the names and bytes, a send is accepted or refused with a code, never a panic, and a
        /// refused send leaves the inbox as it was.
        #[test]
        fn arbitrary_sends_never_panic(files in proptest::collection::vec((".{0,80}", proptest::collection::vec(any::<u8>(), 0..64)), 0..5)) {
            let mut relay = Relay::in_memory();
            let uploads: Vec<Upload> = files.into_iter().map(|(name, content)| Upload::new(name, content)).collect();
            let result = relay.send(NOW, office(CM), uploads, &everyone_licensed);
            let stored = relay.sent(NOW, office(CM), Page::FIRST).unwrap().items.len();
            prop_assert_eq!(stored, usize::from(result.is_ok()));
        }
    }
}

/// A store whose engine can be made to fail (a database gone away).
struct FailingStore {
    inner: MemoryStore,
    failing: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl FailingStore {
    fn check(&self) -> Result<(), StoreError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            Err(StoreError::backend("the database went away"))
        } else {
            Ok(())
        }
    }
}

impl Store for FailingStore {
    fn insert(&mut self, send_unit: NewSendUnit) -> Result<Inserted, StoreError> {
        self.check()?;
        self.inner.insert(send_unit)
    }
    fn send_unit(&mut self, id: SendUnitId) -> Result<Option<SendUnitRecord>, StoreError> {
        self.check()?;
        self.inner.send_unit(id)
    }
    fn inbox(&mut self, receiver: OfficeNumber, page: Page) -> Result<Listed, StoreError> {
        self.check()?;
        self.inner.inbox(receiver, page)
    }
    fn sent(&mut self, sender: OfficeNumber, page: Page) -> Result<Listed, StoreError> {
        self.check()?;
        self.inner.sent(sender, page)
    }
    fn content(&mut self, id: FileId) -> Result<Option<bytes::Bytes>, StoreError> {
        self.check()?;
        self.inner.content(id)
    }
    fn update(&mut self, id: SendUnitId, decide: Decide<'_>) -> Result<SendUnitRecord, RelayError> {
        self.check()?;
        self.inner.update(id, decide)
    }
    fn download(&mut self, file: FileId, decide: DecideDownload<'_>) -> Result<DownloadedFile, RelayError> {
        self.check()?;
        self.inner.download(file, decide)
    }
    fn expire(&mut self, now: OffsetDateTime) -> Result<usize, StoreError> {
        self.check()?;
        self.inner.expire(now)
    }
}

#[test]
fn a_failing_store_refuses_with_store_unavailable_and_changes_nothing() {
    let failing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut relay = Relay::new(
        FailingStore {
            inner: MemoryStore::new(),
            failing: failing.clone(),
        },
        RelayConfig::default(),
    );
    let first = relay
        .send(NOW, office(CM), send_unit("20250501090000"), &everyone_licensed)
        .unwrap();
    failing.store(true, std::sync::atomic::Ordering::SeqCst);
    let code = |e: RelayError| e.code();
    let refused = relay.send(NOW, office(CM), send_unit("20250501090001"), &everyone_licensed);
    assert_eq!(refused.map_err(code).unwrap_err(), ErrorCode::StoreUnavailable);
    assert_eq!(
        relay
            .inbox(NOW, office(HH), Page::FIRST)
            .map_err(code)
            .unwrap_err(),
        ErrorCode::StoreUnavailable
    );
    let download = relay.download(NOW, office(HH), first.files[0]);
    assert_eq!(download.map_err(code).unwrap_err(), ErrorCode::StoreUnavailable);
    assert_eq!(
        relay
            .cancel(NOW, office(CM), first.send_unit)
            .map_err(code)
            .unwrap_err(),
        ErrorCode::StoreUnavailable
    );

    failing.store(false, std::sync::atomic::Ordering::SeqCst);
    let inbox = relay.inbox(NOW, office(HH), Page::FIRST).unwrap().items;
    assert_eq!(inbox.len(), 1, "the refused send left nothing behind");
    assert_eq!(inbox[0].id, first.send_unit);
    assert_eq!(inbox[0].status, SendUnitStatus::Unread);
    assert!(inbox[0].files.iter().all(|f| !f.downloaded));
}

#[test]
fn decisions_are_recorded_as_events_in_order_and_refusals_with_their_code() {
    use careplan_core::{EventKind, EventLog, Party};
    let log = EventLog::collecting();
    let mut relay = relay(RelayConfig::default()).with_events(log.clone());
    let receipt = send(&mut relay, NOW, "20250501090000");
    send(&mut relay, NOW, "20250501090000");
    let refused = relay.send(NOW, office(HH), send_unit("20250501090001"), &everyone_licensed);
    assert!(refused.is_err());
    relay.receive(NOW, office(HH), receipt.send_unit).unwrap();
    download_all(&mut relay, NOW, &receipt).unwrap();
    relay.cancel(NOW, office(CM), receipt.send_unit).unwrap_err();
    let events = log.take();
    assert!(events.iter().all(|e| e.party == Party::Relay && e.at == NOW));
    let kinds: Vec<EventKind> = events.into_iter().map(|e| e.kind).collect();
    let sent = EventKind::SendAccepted {
        sender: office(CM),
        receiver: office(HH),
        send_unit: receipt.send_unit.0,
        files: 3,
    };
    assert_eq!(kinds[0], sent);
    assert_eq!(
        kinds[1],
        EventKind::SendRepeated {
            sender: office(CM),
            send_unit: receipt.send_unit.0
        }
    );
    assert_eq!(
        kinds[2],
        EventKind::SendRefused {
            sender: office(HH),
            code: ErrorCode::SenderMismatch
        }
    );
    assert_eq!(
        kinds[3],
        EventKind::SendUnitReceived {
            receiver: office(HH),
            send_unit: receipt.send_unit.0
        }
    );
    let downloaded: Vec<&EventKind> = kinds[4..7].iter().collect();
    assert!(
        downloaded
            .iter()
            .all(|k| matches!(k, EventKind::FileDownloaded { receiver, .. } if *receiver == office(HH))),
        "{downloaded:?}"
    );
    assert!(matches!(
        kinds[7],
        EventKind::RelayRefused {
            operation: "cancel",
            code: ErrorCode::SendUnitAlreadyDownloaded,
            ..
        }
    ));
    assert_eq!(kinds.len(), 8);
}

#[test]
fn the_strict_relay_lists_at_most_its_limit_of_findings_and_says_how_many_there_were() {
    // A usage sheet of 1,000 records of one field each: a finding per record, and more.
    let mut files = send_unit("20250425103000");
    files[0] = Upload::new(files[0].name.to_string(), "x\r\n".repeat(1_000).into_bytes());
    let mut strict = relay(RelayConfig {
        strict: true,
        ..RelayConfig::default()
    });
    let refused = strict
        .send(NOW, office(CM), files, &everyone_licensed)
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::ContentInvalid);
    assert_eq!(refused.findings().len(), careplan_relay::MAX_FINDINGS);
    let message = refused.to_string();
    assert!(
        message.contains(&format!("(the first {} listed)", careplan_relay::MAX_FINDINGS)),
        "{message}"
    );
    let total: usize = message
        .split("found ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(total >= 1_000, "{message}");
}

#[test]
fn nothing_moves_before_production_on_20_april_2023() {
    let mut relay = Relay::in_memory();
    let before = datetime!(2023-04-19 23:59:59 +9);
    let refused = relay
        .send(
            before,
            office(CM),
            send_unit("20230419235959"),
            &everyone_licensed,
        )
        .unwrap_err();
    assert_eq!(refused.code(), careplan_core::ErrorCode::ServiceNotStarted);
    assert_eq!(
        relay.inbox(before, office(HH), Page::FIRST).unwrap_err().code(),
        careplan_core::ErrorCode::ServiceNotStarted
    );
    let opened = before + time::Duration::seconds(1);
    let receipt = send(&mut relay, opened, "20230420000000");
    assert_eq!(
        relay
            .download(before, office(HH), receipt.files[0])
            .unwrap_err()
            .code(),
        careplan_core::ErrorCode::ServiceNotStarted
    );
    assert_eq!(statuses(&mut relay, opened), [SendUnitStatus::Unread]);
}
