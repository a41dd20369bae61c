//! Validating a generated month (≥ 10 MB of plan bundles and actuals, every file kind of the round trip),
//! beside its floor: MS932 decoding plus CSV parsing with no rules. Target: validation keeps at least 50%
//! of the floor's throughput.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use careplan_core::{CareMonth, ServiceKind};
use careplan_office::{CareSoftware, OfficeProfile, OfficeRole};
use careplan_spec::ms932;
use careplan_spec::validate::{Options, validate_files};
use careplan_synth::Deviations;
use careplan_synth::catalogue::{PROVIDER_KINDS, provider_name};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use time::Duration;
use time::macros::datetime;

/// A generated May 2025, as `careplan-sim gen` writes it: plan bundles from one care-management office
/// to ten providers of every kind, and their actuals with deviations, with users added until the
/// files pass 10 MB.
fn month_files() -> Vec<(String, Vec<u8>)> {
    let month: CareMonth = "202505".parse().unwrap();
    let care_manager = OfficeProfile {
        number: "1310000001".parse().unwrap(),
        kind: ServiceKind::CARE_MANAGEMENT,
        role: OfficeRole::CareManagement,
        name: "さくら居宅介護支援事業所".to_owned(),
    };
    let providers: Vec<OfficeProfile> = (0..10)
        .map(|i| {
            let kind = PROVIDER_KINDS[i % PROVIDER_KINDS.len()];
            OfficeProfile {
                number: format!("13100000{:02}", i + 2).parse().unwrap(),
                kind,
                role: OfficeRole::Service,
                name: provider_name(kind, i / PROVIDER_KINDS.len() + 1),
            }
        })
        .collect();
    let plan_at = datetime!(2025-04-24 10:30 +9);
    let plans = CareSoftware::new(care_manager.clone(), 1)
        .export_plans(plan_at, month, &providers, 1_600)
        .unwrap();
    let mut files = Vec::new();
    for (plan, provider) in plans.iter().zip(&providers) {
        let mut software = CareSoftware::new(provider.clone(), 1).with_deviations(Deviations {
            cancelled_percent: 5,
            changed_time_percent: 10,
            extra_visit_percent: 5,
        });
        software.import(&plan.inputs()).unwrap();
        let actuals = software
            .export_actuals(plan_at + Duration::days(40), month, &care_manager)
            .unwrap();
        for file in plan.files.iter().chain(&actuals.files) {
            files.push((file.name.clone(), file.content.clone()));
        }
    }
    files
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
