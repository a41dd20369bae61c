//! The contract every [`Store`] engine passes: one suite, run by each engine's tests (in-memory here,
//! SQLite and PostgreSQL in `careplan-store`). A failed check panics with what the engine got wrong.
//!
//! [`check`] takes a function that opens an empty store; [`check_durable`] also takes one that reopens the
//! same storage, as a restarted process would.

use std::fmt::Debug;

use careplan_core::OfficeNumber;
use careplan_spec::Serial;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::{
    Change, DownloadState, DownloadedFile, FileId, Inserted, Listed, NewSendUnit, Page, RelayError,
    SendUnitId, SendUnitRecord, SendUnitStatus, Store, Upload,
};

const T0: OffsetDateTime = datetime!(2025-05-01 09:00 +9);

fn ok<T, E: Debug>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("store contract: {what} failed: {e:?}"),
    }
}

fn office(n: u64) -> OfficeNumber {
    ok(format!("13100000{n:02}").parse::<OfficeNumber>(), "office number")
}

fn serial(n: u64) -> Serial {
    ok(
        format!("202504251030{n:02}").parse::<Serial>().map_err(|()| n),
        "serial",
    )
}

/// A send unit of `files` files from office `from` to `to` (test office numbers), serial `serial_n`, accepted
/// at `T0 + at_minutes`: what the contract inserts, for checks of one engine beside it.
pub fn new_send_unit(from: u64, to: u64, serial_n: u64, files: usize, at_minutes: i64) -> NewSendUnit {
    let sent_at = T0 + Duration::minutes(at_minutes);
    NewSendUnit {
        sender: office(from),
        receiver: office(to),
        serial: serial(serial_n),
        sent_at,
        expires_at: sent_at + Duration::days(30),
        files: (0..files)
            .map(|i| {
                Upload::new(
                    format!("FILE{i}_{from}_{to}_{serial_n}.CSV"),
                    // Bytes of every value, so engines that mangle binary data fail.
                    (0..=255u8)
                        .cycle()
                        .skip(i + serial_n as usize)
                        .take(300 + i)
                        .collect::<Vec<u8>>(),
                )
            })
            .collect(),
    }
}

fn created<S: Store>(store: &mut S, send_unit: NewSendUnit) -> SendUnitRecord {
    match ok(store.insert(send_unit), "insert") {
        Inserted::Created(record) => record,
        Inserted::Existing { stored, .. } => {
            panic!("store contract: a new key was reported as existing: {stored:?}")
        }
    }
}

/// What a download shows the relay.
#[derive(Debug, PartialEq)]
struct DownloadView {
    /// The send unit holding the file.
    holder: DownloadState,
    /// The first pending send unit from the same sender to the same receiver.
    first_pending: Option<(Serial, SendUnitId)>,
    /// The file as downloaded.
    file: DownloadedFile,
}

/// What a download of `file` shows the relay, by a decision that writes nothing.
fn download_view<S: Store>(store: &mut S, file: FileId) -> Result<DownloadView, RelayError> {
    let mut seen = None;
    let downloaded = store.download(file, &mut |send_unit, first_pending| {
        seen = Some((*send_unit, first_pending));
        Ok(Change::NONE)
    })?;
    let Some((holder, first_pending)) = seen else {
        panic!("store contract: download answered without asking the relay")
    };
    let stored = ok(store.send_unit(holder.id), "send unit");
    assert_eq!(
        stored.as_ref().map(|record| DownloadState::of(record, file)),
        Some(holder),
        "store contract: a download writing nothing changed the send unit, or was decided on another state"
    );
    Ok(DownloadView {
        holder,
        first_pending,
        file: downloaded,
    })
}

fn ids(send_units: &[SendUnitRecord]) -> Vec<SendUnitId> {
    send_units.iter().map(|b| b.id).collect()
}

/// Runs every check on fresh stores from `open_empty`.
pub fn check<S: Store>(open_empty: &mut dyn FnMut() -> S) {
    insert_is_keyed_and_complete(&mut open_empty());
    listings_are_ordered_and_scoped(&mut open_empty());
    listings_are_paged_in_order(&mut open_empty());
    downloads_see_the_first_pending(&mut open_empty());
    downloads_are_all_or_nothing(&mut open_empty());
    updates_are_all_or_nothing(&mut open_empty());
    expiry_purges_exactly_the_due(&mut open_empty());
}

/// Checks that what was acknowledged survives reopening the storage: `open_empty` gives an empty store,
/// `reopen` opens the same storage again (after the first handle is dropped).
pub fn check_durable<S: Store>(open_empty: &mut dyn FnMut() -> S, reopen: &mut dyn FnMut() -> S) {
    let (first, cancelled, file) = {
        let mut store = open_empty();
        let first = created(&mut store, new_send_unit(1, 2, 1, 3, 0));
        let second = created(&mut store, new_send_unit(1, 2, 2, 1, 1));
        let cancelled = ok(
            store.update(second.id, &mut |_| {
                Ok(Change::status(SendUnitStatus::Cancelled, T0 + Duration::hours(1)))
            }),
            "update",
        );
        let file = first.files[1].id;
        ok(
            store.update(first.id, &mut |b| {
                Ok(Change {
                    status: Some((SendUnitStatus::Received, T0)),
                    downloaded: Some(b.files[1].id),
                })
            }),
            "update",
        );
        (first, cancelled, file)
    };
    let mut store = reopen();
    let again = ok(store.send_unit(first.id), "send unit")
        .unwrap_or_else(|| panic!("store contract: send unit lost"));
    assert_eq!(
        again.status,
        SendUnitStatus::Received,
        "store contract: status not durable"
    );
    assert!(
        again.files[1].downloaded,
        "store contract: downloaded flag not durable"
    );
    assert_eq!(
        ok(store.content(file), "content"),
        Some(new_send_unit(1, 2, 1, 3, 0).files[1].content.clone()),
        "store contract: content not durable"
    );
    assert_eq!(ok(store.send_unit(cancelled.id), "send unit"), Some(cancelled));
    let next = created(&mut store, new_send_unit(1, 2, 3, 1, 2));
    assert!(
        next.id > first.id,
        "store contract: ids restarted after reopening"
    );
}

fn insert_is_keyed_and_complete<S: Store>(store: &mut S) {
    let first = created(store, new_send_unit(1, 2, 1, 3, 0));
    assert_eq!(first.status, SendUnitStatus::Unread);
    assert_eq!(first.status_at, first.sent_at);
    assert_eq!(first.files.len(), 3);
    assert!(first.files.iter().all(|f| !f.downloaded && f.size >= 300));
    // The same key again, even with other files, is reported and writes nothing.
    let retry = new_send_unit(1, 2, 1, 1, 5);
    match ok(store.insert(retry.clone()), "insert") {
        Inserted::Existing { stored, refused } => {
            assert_eq!(stored, first);
            assert_eq!(
                refused.files, retry.files,
                "store contract: the refused files are handed back"
            );
        }
        Inserted::Created(record) => panic!("store contract: duplicate key stored twice: {record:?}"),
    }
    let other_receiver = created(store, new_send_unit(1, 3, 1, 1, 1));
    let other_sender = created(store, new_send_unit(3, 2, 1, 2, 2));
    assert!(first.id < other_receiver.id && other_receiver.id < other_sender.id);
    let mut file_ids: Vec<FileId> = [&first, &other_receiver, &other_sender]
        .iter()
        .flat_map(|b| b.files.iter().map(|f| f.id))
        .collect();
    let count = file_ids.len();
    file_ids.dedup();
    assert_eq!(file_ids.len(), count, "store contract: file ids repeat");
    for (i, file) in first.files.iter().enumerate() {
        let content = ok(store.content(file.id), "content");
        let expected = new_send_unit(1, 2, 1, 3, 0).files[i].content.clone();
        assert_eq!(content.as_ref(), Some(&expected));
        let view = ok(download_view(store, file.id), "download");
        assert_eq!(view.holder, DownloadState::of(&first, file.id));
        assert_eq!((view.file.name, view.file.content), (file.name.clone(), expected));
    }
    assert_eq!(ok(store.send_unit(first.id), "send unit"), Some(first.clone()));
    assert_eq!(ok(store.send_unit(SendUnitId(9_999)), "send unit"), None);
    assert_eq!(
        download_view(store, FileId(9_999)),
        Err(RelayError::FileNotFound(9_999))
    );
    assert_eq!(ok(store.content(FileId(9_999)), "content"), None);
}

fn listings_are_ordered_and_scoped<S: Store>(store: &mut S) {
    let late = created(store, new_send_unit(1, 2, 9, 1, 0));
    let early = created(store, new_send_unit(1, 2, 3, 1, 1));
    let from_other = created(store, new_send_unit(4, 2, 5, 1, 2));
    let elsewhere = created(store, new_send_unit(1, 3, 1, 1, 3));
    let inbox = |store: &mut S, n| ok(store.inbox(office(n), Page::FIRST), "inbox");
    let sent = |store: &mut S, n| ok(store.sent(office(n), Page::FIRST), "sent");
    assert_eq!(
        ids(&inbox(store, 2).items),
        vec![early.id, from_other.id, late.id],
        "store contract: inbox not in serial order"
    );
    assert_eq!(ids(&inbox(store, 3).items), vec![elsewhere.id]);
    assert_eq!(
        inbox(store, 1),
        Listed {
            items: vec![],
            more: false
        }
    );
    assert_eq!(
        ids(&sent(store, 1).items),
        vec![late.id, early.id, elsewhere.id],
        "store contract: sent list not in id order"
    );
    assert_eq!(ids(&sent(store, 4).items), vec![from_other.id]);
    assert!(!sent(store, 1).more);
}

fn listings_are_paged_in_order<S: Store>(store: &mut S) {
    // Five send units to office 2 from two senders, serials interleaved.
    let units: Vec<SendUnitRecord> = [(1, 5), (4, 1), (1, 2), (4, 7), (1, 9)]
        .into_iter()
        .enumerate()
        .map(|(n, (sender, serial))| created(store, new_send_unit(sender, 2, serial, 1, n as i64)))
        .collect();
    let whole = ids(&ok(store.inbox(office(2), Page::FIRST), "inbox").items);
    assert_eq!(whole.len(), 5);
    let mut page = Page { after: 0, limit: 2 };
    let mut walked = Vec::new();
    let mut mores = Vec::new();
    loop {
        let listed = ok(store.inbox(office(2), page), "inbox page");
        assert!(
            listed.items.len() <= 2,
            "store contract: a page is longer than its limit"
        );
        walked.extend(ids(&listed.items));
        mores.push(listed.more);
        if !listed.more {
            break;
        }
        page = page.next();
    }
    assert_eq!(
        walked, whole,
        "store contract: pages do not walk the inbox in order"
    );
    assert_eq!(mores, [true, true, false], "store contract: `more` is wrong");
    let past = ok(store.inbox(office(2), Page { after: 9, limit: 2 }), "inbox page");
    assert_eq!(
        past,
        Listed {
            items: vec![],
            more: false
        }
    );
    let sent = ok(store.sent(office(1), Page { after: 1, limit: 1 }), "sent page");
    assert_eq!(ids(&sent.items), vec![units[2].id]);
    assert!(sent.more);
    let last = ok(store.sent(office(1), Page { after: 2, limit: 5 }), "sent page");
    assert_eq!((ids(&last.items), last.more), (vec![units[4].id], false));
}

fn downloads_see_the_first_pending<S: Store>(store: &mut S) {
    let b = created(store, new_send_unit(1, 2, 7, 1, 0));
    let a = created(store, new_send_unit(1, 2, 4, 1, 1));
    let other_sender = created(store, new_send_unit(5, 2, 1, 1, 2));
    let other_receiver = created(store, new_send_unit(1, 3, 1, 1, 3));
    let pending = |store: &mut S, file| ok(download_view(store, file), "download").first_pending;
    assert_eq!(pending(store, b.files[0].id), Some((serial(4), a.id)));
    assert_eq!(pending(store, a.files[0].id), Some((serial(4), a.id)));
    assert_eq!(
        pending(store, other_sender.files[0].id),
        Some((serial(1), other_sender.id)),
        "store contract: the first pending send unit of another sender"
    );
    assert_eq!(
        pending(store, other_receiver.files[0].id),
        Some((serial(1), other_receiver.id)),
        "store contract: the first pending send unit of another receiver"
    );
    for (status, expect) in [
        (SendUnitStatus::Received, Some((serial(4), a.id))),
        (SendUnitStatus::Downloaded, Some((serial(7), b.id))),
    ] {
        ok(
            store.update(a.id, &mut |_| Ok(Change::status(status, T0))),
            "update",
        );
        assert_eq!(pending(store, b.files[0].id), expect, "after {status}");
    }
    ok(
        store.update(b.id, &mut |_| Ok(Change::status(SendUnitStatus::Cancelled, T0))),
        "update",
    );
    assert_eq!(pending(store, a.files[0].id), None);
    // A late send with an earlier serial is first again; so is a send unit set back to pending.
    let late = created(store, new_send_unit(1, 2, 2, 1, 4));
    assert_eq!(pending(store, a.files[0].id), Some((serial(2), late.id)));
    for (id, status) in [
        (a.id, SendUnitStatus::Received),
        (late.id, SendUnitStatus::Downloaded),
    ] {
        ok(
            store.update(id, &mut |_| Ok(Change::status(status, T0))),
            "update",
        );
    }
    assert_eq!(
        pending(store, late.files[0].id),
        Some((serial(4), a.id)),
        "store contract: a send unit set back to pending"
    );
}

fn downloads_are_all_or_nothing<S: Store>(store: &mut S) {
    let send_unit = created(store, new_send_unit(1, 2, 1, 2, 0));
    let file = send_unit.files[1].id;
    let later = T0 + Duration::hours(1);
    let downloaded = ok(
        store.download(file, &mut |_, _| {
            Ok(Change {
                status: Some((SendUnitStatus::Received, later)),
                downloaded: Some(file),
            })
        }),
        "download",
    );
    assert_eq!(
        downloaded,
        DownloadedFile {
            name: send_unit.files[1].name.clone(),
            content: new_send_unit(1, 2, 1, 2, 0).files[1].content.clone(),
        }
    );
    let updated = ok(store.send_unit(send_unit.id), "send unit")
        .unwrap_or_else(|| panic!("store contract: send unit lost"));
    assert_eq!(
        (updated.status, updated.status_at),
        (SendUnitStatus::Received, later)
    );
    assert_eq!(
        (updated.files[0].downloaded, updated.files[1].downloaded),
        (false, true)
    );
    // The relay decides on the other files' state: the last file left is the one that completes the unit.
    let others = |store: &mut S, file| {
        ok(download_view(store, file), "download")
            .holder
            .others_downloaded
    };
    assert!(
        others(store, send_unit.files[0].id),
        "store contract: file 2 is downloaded"
    );
    assert!(!others(store, file), "store contract: file 1 is not downloaded");
    // A refusal writes nothing.
    let refused = store.download(send_unit.files[0].id, &mut |_, _| {
        Err(RelayError::SerialOrder {
            pending: send_unit.id,
            serial: send_unit.serial,
        })
    });
    assert!(matches!(refused, Err(RelayError::SerialOrder { .. })));
    assert_eq!(ok(store.send_unit(send_unit.id), "send unit"), Some(updated));
    // Bytes gone (cancelled): nothing to answer, so nothing is written either.
    let cancelled = ok(
        store.update(send_unit.id, &mut |_| {
            Ok(Change::status(SendUnitStatus::Cancelled, later))
        }),
        "update",
    );
    let gone = store.download(send_unit.files[0].id, &mut |_, _| {
        Ok(Change {
            status: Some((SendUnitStatus::Downloaded, later)),
            downloaded: Some(send_unit.files[0].id),
        })
    });
    assert_eq!(gone, Err(RelayError::FileNotFound(send_unit.files[0].id.0)));
    assert_eq!(ok(store.send_unit(send_unit.id), "send unit"), Some(cancelled));
}

fn updates_are_all_or_nothing<S: Store>(store: &mut S) {
    let send_unit = created(store, new_send_unit(1, 2, 1, 2, 0));
    let other = created(store, new_send_unit(1, 2, 2, 1, 0));
    let later = T0 + Duration::hours(2);
    let mut seen = None;
    let updated = ok(
        store.update(send_unit.id, &mut |b| {
            seen = Some(b.clone());
            Ok(Change {
                status: Some((SendUnitStatus::Received, later)),
                downloaded: Some(b.files[0].id),
            })
        }),
        "update",
    );
    assert_eq!(
        seen,
        Some(send_unit.clone()),
        "store contract: the decision saw another record"
    );
    assert_eq!(
        (updated.status, updated.status_at),
        (SendUnitStatus::Received, later)
    );
    assert_eq!(
        (updated.files[0].downloaded, updated.files[1].downloaded),
        (true, false)
    );
    assert_eq!(
        ok(store.send_unit(send_unit.id), "send unit"),
        Some(updated.clone())
    );
    // A file of another send unit is not marked through this one; no status keeps status and time.
    let unchanged = ok(
        store.update(send_unit.id, &mut |_| {
            Ok(Change {
                status: None,
                downloaded: Some(other.files[0].id),
            })
        }),
        "update",
    );
    assert_eq!(unchanged, updated);
    assert!(!ok(store.send_unit(other.id), "send unit").is_some_and(|b| b.files[0].downloaded));
    // A refusal writes nothing.
    let refused = store.update(send_unit.id, &mut |_| Err(RelayError::CancelNotAllowed));
    assert_eq!(refused, Err(RelayError::CancelNotAllowed));
    assert_eq!(ok(store.send_unit(send_unit.id), "send unit"), Some(updated));
    assert_eq!(
        store.update(SendUnitId(9_999), &mut |_| Ok(Change::NONE)),
        Err(RelayError::SendUnitNotFound(SendUnitId(9_999)))
    );
    // Cancelling deletes the contents in the same change.
    let cancelled = ok(
        store.update(send_unit.id, &mut |_| {
            Ok(Change::status(SendUnitStatus::Cancelled, later))
        }),
        "update",
    );
    assert_eq!(cancelled.status, SendUnitStatus::Cancelled);
    for file in send_unit.files.iter() {
        assert_eq!(
            ok(store.content(file.id), "content"),
            None,
            "store contract: cancelled content kept"
        );
    }
    assert!(ok(store.content(other.files[0].id), "content").is_some());
}

fn expiry_purges_exactly_the_due<S: Store>(store: &mut S) {
    let old = created(store, new_send_unit(1, 2, 1, 2, 0));
    let newer = created(store, new_send_unit(1, 2, 2, 1, 60));
    let cancelled = created(store, new_send_unit(1, 2, 3, 1, 0));
    ok(
        store.update(cancelled.id, &mut |_| {
            Ok(Change::status(
                SendUnitStatus::Cancelled,
                T0 + Duration::minutes(5),
            ))
        }),
        "update",
    );
    let downloaded = created(store, new_send_unit(3, 2, 1, 1, 0));
    ok(
        store.update(downloaded.id, &mut |b| {
            Ok(Change {
                status: Some((SendUnitStatus::Downloaded, T0)),
                downloaded: Some(b.files[0].id),
            })
        }),
        "update",
    );
    let due = old.expires_at;
    assert_eq!(ok(store.expire(due - Duration::SECOND), "expire"), 0);
    assert_eq!(
        ok(store.expire(due), "expire"),
        2,
        "store contract: the due, non-cancelled send units expire"
    );
    assert_eq!(
        ok(store.expire(due), "expire"),
        0,
        "store contract: expiry is not idempotent"
    );
    for id in [old.id, downloaded.id] {
        let expired = ok(store.send_unit(id), "send unit")
            .unwrap_or_else(|| panic!("store contract: expired send unit lost"));
        assert_eq!(
            (expired.status, expired.status_at),
            (SendUnitStatus::Expired, due)
        );
        for file in expired.files.iter() {
            assert_eq!(
                ok(store.content(file.id), "content"),
                None,
                "store contract: expired content kept"
            );
        }
    }
    assert_eq!(
        ok(download_view(store, newer.files[0].id), "download").first_pending,
        Some((newer.serial, newer.id)),
        "store contract: an expired send unit still holds up the serial order"
    );
    let kept = ok(store.send_unit(newer.id), "send unit");
    assert_eq!(kept.map(|b| b.status), Some(SendUnitStatus::Unread));
    assert!(ok(store.content(newer.files[0].id), "content").is_some());
    let still = ok(store.send_unit(cancelled.id), "send unit").map(|b| b.status);
    assert_eq!(still, Some(SendUnitStatus::Cancelled));
}
