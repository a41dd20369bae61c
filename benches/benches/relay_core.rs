//! The relay core on its in-memory store: send units accepted, listed and downloaded per second, beside
//! the floor of the same bytes pushed through a plain `HashMap`/`VecDeque` mailbox. Target: the relay
//! keeps at least 50% of the floor's throughput.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, VecDeque};
use std::hint::black_box;

use bytes::Bytes;

use careplan_core::{LicenceStanding, OfficeNumber};
use careplan_relay::{FileId, MemoryStore, Page, Relay, RelayConfig, Upload};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// Send units per measured batch: one care-management office to 20 providers, a month of plans.
const UNITS: usize = 200;
const PROVIDERS: u32 = 20;
const NOW: OffsetDateTime = datetime!(2025-05-01 09:00 +9);

fn provider(n: u32) -> OfficeNumber {
    format!("13100{:05}", 100 + n).parse().unwrap()
}

/// Send unit `n`: UPPLAN + UPSIKYU + UPHOSOKU, 8 KiB each (a plan send unit of a few users). The files
/// are slices of one buffer, as the relay server decodes a send (`SendRequest::into_uploads`).
fn unit(n: usize) -> (OfficeNumber, Vec<Upload>) {
    const FILE: usize = 8 * 1024;
    let to = provider(u32::try_from(n).unwrap() % PROVIDERS);
    let at = NOW + Duration::seconds(i64::try_from(n).unwrap());
    let serial = careplan_spec::Serial::new(time::PrimitiveDateTime::new(at.date(), at.time())).to_string();
    let parts = ["UPPLAN", "UPSIKYU", "UPHOSOKU"];
    let decoded = Bytes::from(vec![b'x'; parts.len() * FILE]);
    let uploads = parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            Upload::new(
                format!("{part}_202505_1310000001_43_{to}_11_{serial}.CSV"),
                decoded.slice(i * FILE..(i + 1) * FILE),
            )
        })
        .collect();
    (to, uploads)
}

fn licensed(_: OfficeNumber) -> LicenceStanding {
    LicenceStanding::Licensed
}

/// Every send unit sent, then each provider lists its inbox and downloads every file.
fn relay_round(units: Vec<(OfficeNumber, Vec<Upload>)>) -> usize {
    let mut relay = Relay::new(MemoryStore::new(), RelayConfig::default());
    let sender: OfficeNumber = "1310000001".parse().unwrap();
    for (_, uploads) in units {
        relay.send(NOW, sender, uploads, &licensed).unwrap();
    }
    let mut bytes = 0;
    for n in 0..PROVIDERS {
        let office = provider(n);
        // The listing is read, then let go before the downloads, as in the floor (and as an HTTP client
        // holds only the ids it read from a listing).
        let files: Vec<FileId> = relay
            .inbox(NOW, office, Page::FIRST)
            .unwrap()
            .items
            .iter()
            .flat_map(|send_unit| send_unit.files.iter().map(|file| file.id))
            .collect();
        for file in files {
            bytes += relay.download(NOW, office, file).unwrap().content.len();
        }
    }
    bytes
}

/// The floor: the same bytes into per-receiver queues and out again, with no rule at all. It still
/// reads the one thing a mailbox cannot do without: the receiver, from the first file's name (a send
/// carries no other address).
fn floor_round(units: Vec<(OfficeNumber, Vec<Upload>)>) -> usize {
    let mut mailboxes: HashMap<OfficeNumber, VecDeque<Vec<Upload>>> = HashMap::new();
    for (_, uploads) in units {
        // PREFIX_YYYYMM_from_kind_to_kind_serial.CSV
        let to: OfficeNumber = uploads[0].name.split('_').nth(4).unwrap().parse().unwrap();
        mailboxes.entry(to).or_default().push_back(uploads);
    }
    let mut bytes = 0;
    for n in 0..PROVIDERS {
        let queue = mailboxes.get_mut(&provider(n)).unwrap();
        let listed: Vec<&str> = queue.iter().flat_map(|u| u.iter().map(|f| &*f.name)).collect();
        black_box(listed);
        while let Some(uploads) = queue.pop_front() {
            for file in uploads {
                bytes += black_box(file.content).len();
            }
        }
    }
    bytes
}

fn bench(c: &mut Criterion) {
    let units = || (0..UNITS).map(unit).collect::<Vec<_>>();
    assert_eq!(relay_round(units()), floor_round(units()));
    let mut group = c.benchmark_group("relay-core");
    group.throughput(Throughput::Elements(UNITS as u64));
    group.bench_function("relay (send + inbox + download)", |b| {
        b.iter_batched(units, relay_round, BatchSize::SmallInput)
    });
    group.bench_function("floor (HashMap/VecDeque mailbox)", |b| {
        b.iter_batched(units, floor_round, BatchSize::SmallInput)
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
