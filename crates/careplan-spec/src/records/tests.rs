use proptest::prelude::*;
use time::macros::date;

use super::*;
use crate::csv_text::{read_records, write_record};

fn user() -> UserKey {
    UserKey {
        insurer: "131001".parse().unwrap(),
        insured: "0000012345".parse().unwrap(),
    }
}

fn usage() -> ServiceUsageRecord {
    ServiceUsageRecord {
        version: CsvVersion::V202407,
        user: user(),
        created_on: date!(2025 - 04 - 25),
        month: "202505".parse().unwrap(),
        plan_office: Some("1310000001".parse().unwrap()),
        planner_name: "山田 花子".into(),
        units: Some(250),
        short_stay_days_before: None,
        service_date: date!(2025 - 05 - 01),
        proration: None,
        start: ServiceTime::At { hour: 9, minute: 0 },
        end: ServiceTime::At { hour: 9, minute: 30 },
        count: 1,
        service_code: "111111".parse().unwrap(),
        equipment: EquipmentItem::default(),
        detail_code: None,
        provider: "1310000002".parse().unwrap(),
        provider_name: "訪問介護ステーションA".into(),
        satellite: String::new(),
        over_30_days: false,
        updater: Some("1310000001".parse().unwrap()),
    }
}

fn text_of(fields: &[Field]) -> String {
    let mut text = String::new();
    write_record(&mut text, fields);
    text
}

/// Reads one line with `read` and writes it back with `write`.
fn round_trip<T>(
    line: &str,
    read: impl Fn(&[&str]) -> Result<T, RecordError>,
    write: impl Fn(&T) -> Vec<Field>,
) -> String {
    let records = read_records(line).unwrap();
    let record = read(&records[0].fields()).unwrap();
    text_of(&write(&record))
}

#[test]
fn usage_record_matches_the_spec_example_and_round_trips() {
    let text = text_of(&usage().to_fields());
    assert_eq!(
        text,
        "202407,131001,0000012345,20250425,202505,1310000001,\"山田 花子\",250,,20250501,,0900,0930,1,111111,,,,,\
         1310000002,\"訪問介護ステーションA\",,0,1310000001,\r\n"
    );
    let records = read_records(&text).unwrap();
    assert_eq!(
        ServiceUsageRecord::from_fields(&records[0].fields()).unwrap(),
        usage()
    );
}

#[test]
fn every_field_of_the_usage_sheet_survives_a_round_trip() {
    let rental = "202407,131001,0000012345,20250425,202505,1310000001,\"山田 花子\",300,,20250501,\
                  1111100000000000000000000000000,9999,9999,1,171007,00170-000123,,\"手すり, 廊下\",2,1310000003,\
                  \"福祉用具あおば\",1,0,1310000001,\r\n";
    assert_eq!(
        round_trip(
            rental,
            ServiceUsageRecord::from_fields,
            ServiceUsageRecord::to_fields
        ),
        rental
    );
    let v3 = "202208,131001,0000012345,20250225,202503,1310000001,\"山田 花子\",250,3,20250301,,0900,0930,1,\
              111111,,1310000002,\"A\",,0,1310000001,\r\n";
    assert_eq!(
        round_trip(v3, ServiceUsageRecord::from_fields, ServiceUsageRecord::to_fields),
        v3
    );
    let records = read_records(rental).unwrap();
    let record = ServiceUsageRecord::from_fields(&records[0].fields()).unwrap();
    assert_eq!(
        record.proration.unwrap().days().collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(record.equipment.product_name, "手すり, 廊下");
    assert_eq!(record.detail_code, Some(2));
}

#[test]
fn the_annex_total_row_of_the_spec_round_trips() {
    let total = "202407,131001,0000012345,20250425,202505,,9999999999,,999999,,,,0,,,0,5000,5000,0,5000,0,5000,\
                 11.40,57000,90,51300,0,5700,0,,,,0,9999999999,,1310000001,\r\n";
    assert_eq!(
        round_trip(total, UsageAnnexRecord::from_fields, UsageAnnexRecord::to_fields),
        total
    );
    let records = read_records(total).unwrap();
    let record = UsageAnnexRecord::from_fields(&records[0].fields()).unwrap();
    assert_eq!(record.code, AnnexCode::GrandTotal);
    assert_eq!(record.unit_price.map(UnitPrice::hundredths), Some(1140));
    assert_eq!((record.claim, record.copay), (Some(51_300), Some(5_700)));
}

#[test]
fn annex_codes_tell_lines_subtotals_and_totals_apart() {
    assert_eq!(
        "15AAAA".parse(),
        Ok(AnnexCode::Subtotal {
            kind: "15".parse().unwrap(),
            part: AnnexSubtotal::WithinLimit
        })
    );
    assert_eq!("21ZZZZ".parse::<AnnexCode>().unwrap().to_string(), "21ZZZZ");
    assert!(matches!("151111".parse(), Ok(AnnexCode::Service(_))));
    assert!("15AAA".parse::<AnnexCode>().is_err());
    assert!("09.50".parse::<UnitPrice>().is_err());
    assert_eq!("9.50".parse::<UnitPrice>().unwrap().to_string(), "9.50");
}

#[test]
fn a_full_supplement_round_trips() {
    let mut supplement = UserSupplementRecord::for_month(user(), "202505".parse().unwrap());
    supplement.name_kana = "ヤマダ タロウ".into();
    supplement.name = "山田 太郎".into();
    supplement.sex = Some(Sex::Male);
    supplement.birth_date = Some(date!(1940 - 01 - 15));
    supplement.postal_code = "100-0001".into();
    supplement.address1 = "東京都千代田区千代田1-1".into();
    supplement.phone = "03-0000-0000".into();
    supplement.certification = Some(CertificationStatus::Certified);
    supplement.care_level = Some(CareLevel::Care2);
    supplement.benefit_limit = Some(19_705);
    supplement.kind_limits = vec![KindLimit {
        kind: "17".parse().unwrap(),
        limit: Some(5000),
        total: Some(800),
        over: Some(0),
    }];
    supplement.short_stay_days_before = Some(4);
    supplement.short_stay_days_cumulative = Some(9);
    supplement.updater = Some("1310000001".parse().unwrap());
    let fields = supplement.to_fields();
    assert_eq!(fields.len(), 63);
    let text = text_of(&fields);
    assert!(text.starts_with(
        "202407,131001,0000012345,00000000,\"ヤマダ タロウ\",\"山田 太郎\",1,19400115,100-0001,"
    ));
    assert!(text.ends_with(",1310000001,,202505\r\n"));
    let records = read_records(&text).unwrap();
    assert_eq!(
        UserSupplementRecord::from_fields(&records[0].fields()).unwrap(),
        supplement
    );
}

#[test]
fn a_plan_deletion_round_trips_and_names_a_bad_month() {
    let line = "202407,131001,0000012345,202505\r\n";
    assert_eq!(
        round_trip(
            line,
            PlanDeletionRecord::from_fields,
            PlanDeletionRecord::to_fields
        ),
        line
    );
    let set = RecordSet::read(crate::FileKind::UsagePlanDeletion, line).unwrap();
    assert_eq!((set.len(), set.write()), (1, line.to_owned()));
    let err = PlanDeletionRecord::from_fields(&["202407", "131001", "0000012345", "202513"]).unwrap_err();
    assert!(err.to_string().contains("削除対象年月"), "{err}");
    assert!(PlanDeletionRecord::from_fields(&["202407", "131001", "0000012345"]).is_err());
}

#[test]
fn records_are_written_with_the_official_field_counts() {
    assert_eq!(usage().to_fields().len(), 25);
    let v3 = ServiceUsageRecord {
        version: CsvVersion::V202208,
        ..usage()
    };
    assert_eq!(v3.to_fields().len(), 22);
    let annex = UsageAnnexRecord::new(
        user(),
        date!(2025 - 04 - 25),
        "202505".parse().unwrap(),
        AnnexOffice::Office("1310000002".parse().unwrap()),
        AnnexCode::Service("111111".parse().unwrap()),
    );
    assert_eq!(annex.to_fields().len(), 37);
    let v3 = UsageAnnexRecord {
        version: CsvVersion::V202208,
        ..annex
    };
    assert_eq!(v3.to_fields().len(), 34);
}

#[test]
fn reading_names_the_offending_field() {
    let empty = vec![""; 24];
    assert_eq!(
        ServiceUsageRecord::from_fields(&empty).unwrap_err().to_string(),
        "field 1 CSVバージョン: `` must be a published CSVバージョン"
    );
    let mut short = empty.clone();
    short[0] = "202407";
    assert_eq!(
        ServiceUsageRecord::from_fields(&short).unwrap_err(),
        RecordError::FieldCount {
            expected: 25,
            found: 24
        }
    );
    let text = text_of(&usage().to_fields());
    let record = read_records(&text).unwrap().remove(0);
    let mut fields = record.fields();
    fields[9] = "20250532";
    assert_eq!(
        ServiceUsageRecord::from_fields(&fields).unwrap_err().to_string(),
        "field 10 サービス利用日: `20250532` must be a YYYYMMDD date"
    );
    fields[9] = "20250501";
    fields[11] = "2460";
    assert!(
        ServiceUsageRecord::from_fields(&fields)
            .unwrap_err()
            .to_string()
            .contains("サービス開始時刻")
    );
}

#[test]
fn service_codes_and_levels_parse_and_print() {
    let code: ServiceCode = "17A007".parse().unwrap();
    assert_eq!(
        (code.kind().as_str(), code.to_string()),
        ("17", "17A007".to_owned())
    );
    assert!("17a007".parse::<ServiceCode>().is_err());
    assert!("1700".parse::<ServiceCode>().is_err());
    assert_eq!("22".parse::<CareLevel>(), Ok(CareLevel::Care2));
    assert!("01".parse::<CareLevel>().is_err());
    assert_eq!(ServiceTime::from_minutes(9 * 60 + 5).to_string(), "0905");
    assert_eq!(ServiceTime::from_minutes(24 * 60 + 30).to_string(), "0030");
}

#[test]
fn integers_refuse_forms_that_would_not_write_back() {
    let text = text_of(&usage().to_fields());
    let record = read_records(&text).unwrap().remove(0);
    let mut fields = record.fields();
    let units = crate::layout::position(FileKind::UsagePlan, true, "単位数").unwrap();
    let mut read = |value| {
        fields[units] = value;
        let (_, reader) = FieldReader::open(FileKind::UsagePlan, &fields).unwrap();
        (
            reader.integer::<u32>("単位数"),
            reader.optional_integer::<u32>("単位数"),
        )
    };
    for refused in ["0250", "-1", "", "+1", "1.0"] {
        assert!(read(refused).0.is_err(), "{refused}");
    }
    assert_eq!(read("").1, Ok(None));
    assert_eq!(read("0").0, Ok(0));
    assert_eq!(read("250").0, Ok(250));
}

proptest! {
    #[test]
    fn typed_readers_never_panic(
        version in prop::sample::select(vec!["202407", "202208", "202504", "x"]),
        fields in proptest::collection::vec("[0-9A-Z\"H,.]{0,12}", 20..64),
    ) {
        let mut all = vec![version];
        all.extend(fields.iter().map(String::as_str));
        for count in [4, 22, 25, 34, 37, 63] {
            let fields = &all[..count.min(all.len())];
            let _ = PlanDeletionRecord::from_fields(fields);
            let _ = ServiceUsageRecord::from_fields(fields);
            let _ = UsageAnnexRecord::from_fields(fields);
            let _ = UserSupplementRecord::from_fields(fields);
        }
    }
}
