//! The simulate loop — a month of a population's traffic, its sends and its receivers' downloads — through
//! the relay on each store, beside its floor: the same traffic through a plain map (send units in a hash
//! map keyed by sender, receiver and serial, files in a vector, the licence check and nothing else). The
//! population is small (a ten-thousandth of the nation, ≈ 1,500 send units) so that the durable stores,
//! which commit every change to disk, finish an iteration in seconds; PostgreSQL is measured when
//! `CAREPLAN_TEST_DATABASE_URL` names a server.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use careplan_core::{CareMonth, ErrorCode, LicenceStanding, OfficeNumber};
use careplan_relay::{FileId, MemoryStore, Relay, RelayConfig, SendReceipt, SendUnitId, Store, Upload};
use careplan_simulate::{Exchange, Population, PopulationConfig, Simulation};
use careplan_store::{PostgresStore, SqliteStore};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use time::OffsetDateTime;

const CONFIG: PopulationConfig = PopulationConfig {
    scale: 0.0001,
    adoption: 1.0,
    unlicensed: 0.02,
    expired_certificates: 0.01,
};

/// The floor: what a plain program keeping the same send units would do.
#[derive(Default)]
struct PlainMap {
    send_units: HashMap<(OfficeNumber, OfficeNumber, String), SendReceipt>,
    files: Vec<Option<Bytes>>,
}

impl Exchange for PlainMap {
    fn send(
        &mut self,
        now: OffsetDateTime,
        sender: OfficeNumber,
        uploads: Vec<Upload>,
        standing: &dyn Fn(OfficeNumber) -> LicenceStanding,
    ) -> Result<SendReceipt, ErrorCode> {
        // `KIND_MONTH_SENDER_KIND_RECEIVER_KIND_SERIAL.CSV`: the receiver and the serial.
        let name = uploads.first().ok_or(ErrorCode::FileNameInvalid)?.name.clone();
        let mut parts = name.split('_').skip(4);
        let receiver: OfficeNumber = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or(ErrorCode::FileNameInvalid)?;
        let serial = parts.nth(1).ok_or(ErrorCode::FileNameInvalid)?;
        if standing(sender) != LicenceStanding::Licensed {
            return Err(ErrorCode::LicenceRequired);
        }
        if standing(receiver) != LicenceStanding::Licensed {
            return Err(ErrorCode::ReceiverUnlicensed);
        }
        let next = self.send_units.len() as u64 + 1;
        let files = &mut self.files;
        let receipt = self
            .send_units
            .entry((sender, receiver, serial.to_owned()))
            .or_insert_with(|| SendReceipt {
                send_unit: SendUnitId(next),
                receiver,
                files: uploads
                    .into_iter()
                    .map(|upload| {
                        files.push(Some(upload.content));
                        FileId(files.len() as u64)
                    })
                    .collect(),
                expires_at: now,
            });
        Ok(receipt.clone())
    }

    fn download(&mut self, _: OffsetDateTime, _: OfficeNumber, file: FileId) -> Result<(), ErrorCode> {
        let slot = usize::try_from(file.0 - 1).map_err(|_| ErrorCode::FileNotFound)?;
        match self.files.get(slot) {
            Some(Some(_)) => Ok(()),
            _ => Err(ErrorCode::FileNotFound),
        }
    }
}

/// The month's simulation through `exchange`, ready to run.
fn month<E: Exchange>(exchange: E) -> Simulation<E> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let population = Population::generate(&CONFIG, &mut rng);
    let month: CareMonth = "202506".parse().unwrap();
    Simulation::new(population, exchange, month, &mut rng)
}

fn run<E: Exchange>(mut simulation: Simulation<E>) -> u64 {
    while simulation.step().is_some() {}
    let summary = simulation.summary();
    assert!(summary.balances(), "{summary:?}");
    summary.delivered
}

fn relay(store: Box<dyn Store>) -> Relay<Box<dyn Store>> {
    Relay::new(store, RelayConfig::default())
}

fn bench(c: &mut Criterion) {
    let planned = month(PlainMap::default()).planned();
    let mut group = c.benchmark_group("simulate-month");
    group.throughput(Throughput::Elements(planned));
    group.sample_size(10);
    group.bench_function("floor: plain map", |b| {
        b.iter_batched(|| month(PlainMap::default()), run, BatchSize::PerIteration)
    });
    group.bench_function("memory", |b| {
        b.iter_batched(
            || month(relay(Box::new(MemoryStore::new()))),
            run,
            BatchSize::PerIteration,
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let files = AtomicUsize::new(0);
    group.bench_function("sqlite", |b| {
        b.iter_batched(
            || {
                let n = files.fetch_add(1, Ordering::Relaxed);
                let path = dir.path().join(format!("month-{n}.sqlite"));
                month(relay(Box::new(SqliteStore::open(&path).unwrap())))
            },
            run,
            BatchSize::PerIteration,
        )
    });
    if let Ok(url) = std::env::var("CAREPLAN_TEST_DATABASE_URL") {
        let schemas = AtomicUsize::new(0);
        let prefix = format!("careplan_bench_simulate_{}", std::process::id());
        group.bench_function("postgres", |b| {
            b.iter_batched(
                || {
                    let n = schemas.fetch_add(1, Ordering::Relaxed);
                    let schema = format!("{prefix}_{n}");
                    month(relay(Box::new(
                        PostgresStore::connect_in_schema(&url, Some(&schema)).unwrap(),
                    )))
                },
                run,
                BatchSize::PerIteration,
            )
        });
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        for n in 0..schemas.load(Ordering::Relaxed) {
            client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {prefix}_{n} CASCADE"))
                .unwrap();
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
