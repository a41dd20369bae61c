//! Checks of two relays sharing one store's storage, for every engine that can be shared.

use std::sync::{Arc, Barrier};

use careplan_core::{LicenceStanding, OfficeNumber};
use careplan_relay::{Page, Relay, RelayConfig, SendUnitStatus, Store, Upload};
use time::macros::datetime;

fn office(s: &str) -> OfficeNumber {
    s.parse().expect("office number")
}

fn licensed(_: OfficeNumber) -> LicenceStanding {
    LicenceStanding::Licensed
}

fn plan(serial: &str) -> Vec<Upload> {
    ["UPPLAN", "UPSIKYU", "UPHOSOKU"]
        .iter()
        .map(|prefix| {
            Upload::new(
                format!("{prefix}_202505_1310000001_43_1310000002_11_{serial}.CSV"),
                format!("{prefix} {serial}").into_bytes(),
            )
        })
        .collect()
}

/// Two relays opened by `open` on the same storage share mailboxes and statuses; racing sends of one
/// send unit from both store it once.
pub(crate) fn two_relays_share_mailboxes<S: Store + 'static>(open: &mut dyn FnMut() -> S) {
    let now = datetime!(2025-05-01 09:00 +9);
    let (cm, hh) = (office("1310000001"), office("1310000002"));
    let mut a = Relay::new(open(), RelayConfig::default());
    let mut b = Relay::new(open(), RelayConfig::default());
    let receipt = a
        .send(now, cm, plan("20250501090000"), &licensed)
        .expect("relay A accepts");
    let inbox = b.inbox(now, hh, Page::FIRST).expect("relay B lists").items;
    assert_eq!(
        inbox.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![receipt.send_unit]
    );
    for file in receipt.files.iter() {
        b.download(now, hh, *file)
            .expect("relay B hands out what relay A accepted");
    }
    let sent = a.sent(now, cm, Page::FIRST).expect("relay A lists").items;
    assert_eq!(
        sent[0].status,
        SendUnitStatus::Downloaded,
        "relay A sees relay B's change"
    );
    let retry = b
        .send(now, cm, plan("20250501090000"), &licensed)
        .expect("a retry through relay B");
    assert_eq!(
        retry, receipt,
        "a retry through the other relay gets the same receipt"
    );

    // The same send unit racing through both relays at once is stored once.
    let barrier = Arc::new(Barrier::new(2));
    let racers: Vec<_> = [open(), open()]
        .into_iter()
        .map(|store| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut relay = Relay::new(store, RelayConfig::default());
                barrier.wait();
                relay.send(now, cm, plan("20250501090001"), &licensed)
            })
        })
        .collect();
    let receipts: Vec<_> = racers
        .into_iter()
        .map(|racer| racer.join().expect("no panic").expect("both sends are answered"))
        .collect();
    assert_eq!(receipts[0], receipts[1], "both racers get the one send unit");
    assert_eq!(a.inbox(now, hh, Page::FIRST).expect("lists").items.len(), 2);
}
