//! Validating a generated month (≥ 10 MB of plan send units and actuals, every file kind of the round trip),
//! beside its floor: MS932 decoding plus CSV parsing with no rules. Target: validation keeps at least 50%
//! of the floor's throughput.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use careplan_office::{MonthExchange, generated_care_manager, generated_providers};
use careplan_spec::ms932;
use careplan_spec::validate::{Options, validate_files};
use careplan_synth::Deviations;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use time::Duration;
use time::macros::datetime;

/// A generated May 2025, as `careplan-sim gen` writes it: plan send units from one care-management office
/// to ten providers of every kind, and their actuals with deviations, with users added until the
/// files pass 10 MB.
fn month_files() -> Vec<(String, Vec<u8>)> {
    let care_manager = generated_care_manager().unwrap();
    let providers = generated_providers(10);
    let plans_at = datetime!(2025-04-24 10:30 +9);
    MonthExchange {
        care_manager: &care_manager,
        providers: &providers,
        month: "202505".parse().unwrap(),
        users: 1_600,
        seed: 1,
        deviations: Deviations {
            cancelled_percent: 5,
            changed_time_percent: 10,
            extra_visit_percent: 5,
        },
        plans_at,
        actuals_at: plans_at + Duration::days(40),
    }
    .run()
    .unwrap()
    .into_iter()
    .flat_map(|send_unit| send_unit.files)
    .map(|file| (file.name.to_string(), file.content.to_vec()))
    .collect()
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
    let files = month_files();
    let inputs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    assert!(bytes >= 10 * 1024 * 1024, "the month has {bytes} bytes");
    for report in validate_files(&inputs, Options { strict: true }) {
        assert_eq!(report.diagnostics, [], "the generated month must be valid");
    }
    let mut group = c.benchmark_group("validate-month");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    group.bench_function("floor: ms932 decode + csv parse", |b| {
        b.iter(|| {
            inputs
                .iter()
                .map(|(_, bytes)| floor(black_box(bytes)))
                .sum::<usize>()
        })
    });
    group.bench_function("validate_files", |b| {
        b.iter(|| validate_files(black_box(&inputs), Options::default()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
