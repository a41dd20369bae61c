//! Validating a generated month of service usage sheets (≥ 10 MB), beside its floor: MS932 decoding plus
//! CSV parsing with no rules. Target: validation keeps at least 50% of the floor's throughput.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use careplan_spec::csv_text::write_record;
use careplan_spec::ms932;
use careplan_spec::records::{InsuredNumber, InsurerNumber, ServiceTime, ServiceUsageRecord, UserKey};
use careplan_spec::validate::{Options, validate_file};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const NAME: &str = "UPPLAN_202505_1310000001_43_1310000002_11_20250425103000.CSV";

/// A May 2025 usage sheet: users with visits on every day of the month, until the file passes 10 MB.
fn month_file() -> Vec<u8> {
    let month = "202505".parse().unwrap();
    let mut text = String::new();
    let mut user = 0u64;
    while text.len() < 10 * 1024 * 1024 {
        user += 1;
        for day in 1..=31 {
            let record = ServiceUsageRecord {
                user: UserKey {
                    insurer: InsurerNumber::from_number(131_001),
                    insured: InsuredNumber::from_number(user),
                },
                created_on: time::macros::date!(2025 - 04 - 25),
                month,
                plan_office: "1310000001".parse().unwrap(),
                planner_name: "佐藤 幸子".to_owned(),
                units: 244,
                service_date: time::Date::from_calendar_date(2025, time::Month::May, day).unwrap(),
                start: ServiceTime::At { hour: 9, minute: 0 },
                end: ServiceTime::At { hour: 9, minute: 30 },
                count: 1,
                service_code: "111111".to_owned(),
                provider: "1310000002".parse().unwrap(),
                provider_name: "ひまわり訪問介護ステーション".to_owned(),
                updater: "1310000001".parse().unwrap(),
            };
            write_record(&mut text, &record.to_fields());
        }
    }
    ms932::encode(&text).unwrap()
}

fn floor(bytes: &[u8]) -> usize {
    let text = ms932::decode(bytes).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    reader.records().map(|r| r.unwrap().len()).sum()
}

fn bench(c: &mut Criterion) {
    let bytes = month_file();
    let report = validate_file(NAME, &bytes, Options::default());
    assert_eq!(report.diagnostics, [], "the generated month must be valid");
    let mut group = c.benchmark_group("validate-month");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(10);
    group.bench_function("floor: ms932 decode + csv parse", |b| {
        b.iter(|| floor(black_box(&bytes)))
    });
    group.bench_function("validate_file", |b| {
        b.iter(|| validate_file(NAME, black_box(&bytes), Options::default()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
