//! Durable sends per second: the relay on its SQLite store (WAL, `synchronous=FULL`: every send reaches
//! the disk before it is acknowledged) and, when `CAREPLAN_TEST_DATABASE_URL` names a server, on
//! PostgreSQL; beside them the in-memory store, which keeps nothing.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::sync::atomic::{AtomicUsize, Ordering};

use careplan_core::{LicenceStanding, OfficeNumber};
use careplan_relay::{MemoryStore, Relay, RelayConfig, Store, Upload};
use careplan_store::{PostgresStore, SqliteStore};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2025-05-01 09:00 +9);

/// Send unit `n` to one of 20 providers: UPPLAN + UPSIKYU + UPHOSOKU, 8 KiB each.
fn unit(n: usize) -> Vec<Upload> {
    let to = 100 + n % 20;
    let at = NOW + Duration::seconds(i64::try_from(n).unwrap());
    let serial = careplan_spec::Serial::new(time::PrimitiveDateTime::new(at.date(), at.time())).to_string();
    ["UPPLAN", "UPSIKYU", "UPHOSOKU"]
        .iter()
        .map(|part| {
            Upload::new(
                format!("{part}_202505_1310000001_43_13100{to:05}_11_{serial}.CSV"),
                vec![b'x'; 8 * 1024],
            )
        })
        .collect()
}

fn licensed(_: OfficeNumber) -> LicenceStanding {
    LicenceStanding::Licensed
}

fn measure(c: &mut Criterion, name: &str, store: Box<dyn Store>) {
    let mut relay = Relay::new(store, RelayConfig::default());
    let sender: OfficeNumber = "1310000001".parse().unwrap();
    let next = AtomicUsize::new(0);
    let mut group = c.benchmark_group("relay-durable");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter_batched(
            || unit(next.fetch_add(1, Ordering::Relaxed)),
            |uploads| relay.send(NOW, sender, uploads, &licensed).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    measure(c, "memory (not durable)", Box::new(MemoryStore::new()));
    let dir = tempfile::tempdir().unwrap();
    measure(
        c,
        "sqlite",
        Box::new(SqliteStore::open(&dir.path().join("bench.sqlite3")).unwrap()),
    );
    match std::env::var("CAREPLAN_TEST_DATABASE_URL") {
        Ok(url) => {
            let schema = format!("careplan_bench_{}", std::process::id());
            measure(
                c,
                "postgres",
                Box::new(PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap()),
            );
            if let Ok(mut client) = postgres::Client::connect(&url, postgres::NoTls) {
                let _ = client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
            }
        }
        Err(_) => eprintln!("relay-durable/postgres: skipped (CAREPLAN_TEST_DATABASE_URL is not set)"),
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
