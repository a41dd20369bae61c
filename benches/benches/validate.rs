//! Validating a generated month (≥ 10 MB of plan send units and actuals, every file kind of the round trip),
//! beside its floor: MS932 decoding plus CSV parsing with no rules, as the fastest plain reader does it —
//! one decoder into a text buffer kept from file to file, one byte record kept from row to row, nothing
//! allocated per row. Target: validation keeps at least 80% of the floor's throughput. The validator
//! itself does not decode: it checks the bytes as MS932 and reads its records from them.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::hint::black_box;

use careplan_office::{MonthExchange, generated_care_manager, generated_providers};
use careplan_spec::csv_text::{Reader, Record};
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

/// The floor's buffers, kept from file to file.
#[derive(Default)]
struct Floor {
    text: String,
    record: csv::ByteRecord,
}

impl Floor {
    /// Decodes `bytes` (MS932, refused on a malformed sequence) and reads every row; gives the fields.
    fn read(&mut self, bytes: &[u8]) -> usize {
        let mut decoder = encoding_rs::SHIFT_JIS.new_decoder_without_bom_handling();
        self.text.clear();
        self.text.reserve(
            decoder
                .max_utf8_buffer_length_without_replacement(bytes.len())
                .unwrap(),
        );
        let (result, _) = decoder.decode_to_string_without_replacement(bytes, &mut self.text, true);
        assert!(matches!(result, encoding_rs::DecoderResult::InputEmpty));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(self.text.as_bytes());
        let mut fields = 0;
        while reader.read_byte_record(&mut self.record).unwrap() {
            fields += self.record.len();
        }
        fields
    }
}

/// The validator's own passes with no rule run: the MS932 check and the reading of records from the
/// bytes. Gives the fields read.
fn parts(inputs: &[(&str, &[u8])]) -> usize {
    let mut fields = 0;
    let mut record = Record::default();
    for (_, bytes) in inputs {
        ms932::check(black_box(bytes)).unwrap();
        let mut reader = Reader::<[u8]>::new(bytes);
        while reader.read_into(&mut record).unwrap() {
            fields += record.len();
        }
    }
    fields
}

/// The milliseconds `run` takes.
fn millis(run: impl FnOnce()) -> f64 {
    let started = std::time::Instant::now();
    run();
    started.elapsed().as_secs_f64() * 1e3
}

/// With `VALIDATE_ALTERNATE=ROUNDS` set: the floor, the validator and its parts timed one after the other,
/// round after round, so that a machine whose speed drifts (a shared virtual machine) slows all three
/// alike; prints the median of each round's own ratio, and the fastest tenth and the median of each side.
/// Criterion measures each alone, minutes apart, which on such a machine moves a ratio by ten points from
/// run to run.
fn alternate(rounds: usize, inputs: &[(&str, &[u8])]) {
    let mut floor = Floor::default();
    let mut sides: [(&str, Vec<f64>); 3] = [
        ("floor", Vec::new()),
        ("validate_files", Vec::new()),
        ("parts", Vec::new()),
    ];
    for _ in 0..rounds {
        sides[0].1.push(millis(|| {
            black_box(
                inputs
                    .iter()
                    .map(|(_, bytes)| floor.read(black_box(bytes)))
                    .sum::<usize>(),
            );
        }));
        sides[1].1.push(millis(|| {
            black_box(validate_files(black_box(inputs), Options::default()));
        }));
        sides[2].1.push(millis(|| {
            black_box(parts(inputs));
        }));
    }
    // Each round's own ratio, its floor and validation timed back to back: drift between rounds cancels.
    let mut paired: Vec<f64> = sides[0]
        .1
        .iter()
        .zip(&sides[1].1)
        .map(|(floor, validate)| floor / validate)
        .collect();
    paired.sort_by(f64::total_cmp);
    eprintln!(
        "paired rounds: validate_files at {:.0}% of the floor (median of {} rounds; middle half {:.0}–{:.0}%)",
        100.0 * paired[paired.len() / 2],
        paired.len(),
        100.0 * paired[paired.len() / 4],
        100.0 * paired[paired.len() * 3 / 4]
    );
    let mut at = |quantile: usize| -> [f64; 3] {
        sides.each_mut().map(|(_, times)| {
            times.sort_by(f64::total_cmp);
            times[times.len() * quantile / 100]
        })
    };
    for (name, quantile) in [("fastest tenth", 10), ("median", 50)] {
        let [floor, validate, parts] = at(quantile);
        eprintln!(
            "{name}: floor {floor:.1} ms, validate_files {validate:.1} ms ({:.0}% of the floor), parts {parts:.1} ms ({:.0}%), rules {:.1} ms",
            100.0 * floor / validate,
            100.0 * floor / parts,
            validate - parts
        );
    }
}

fn bench(c: &mut Criterion) {
    let files = month_files();
    let inputs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    assert!(bytes >= 10 * 1024 * 1024, "the month has {bytes} bytes");
    for report in validate_files(
        &inputs,
        Options {
            strict: true,
            ..Options::default()
        },
    ) {
        assert_eq!(report.diagnostics, [], "the generated month must be valid");
    }
    if let Some(rounds) = std::env::var("VALIDATE_ALTERNATE")
        .ok()
        .and_then(|r| r.parse().ok())
    {
        alternate(rounds, &inputs);
        return;
    }
    let mut group = c.benchmark_group("validate-month");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    let mut floor = Floor::default();
    group.bench_function("floor: ms932 decode + csv parse, buffers reused", |b| {
        b.iter(|| {
            inputs
                .iter()
                .map(|(_, bytes)| floor.read(black_box(bytes)))
                .sum::<usize>()
        })
    });
    // The validator's own encoding check and reading with no rule run: where its time goes beside the floor.
    group.bench_function("parts: the validator's encoding check + read, no rules", |b| {
        b.iter(|| parts(black_box(&inputs)))
    });
    group.bench_function("validate_files", |b| {
        b.iter(|| validate_files(black_box(&inputs), Options::default()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
