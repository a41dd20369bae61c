//! Care software (介護ソフト): exports a month's standard files from its records and imports received
//! files into them.

use std::collections::{BTreeMap, BTreeSet};

use careplan_core::{CareMonth, ErrorCode, OfficeNumber, ServiceKind};
use careplan_net::ClientError;
use careplan_relay::Upload;
use careplan_spec::csv_text::{CsvError, read_records, write_record};
use careplan_spec::ms932::{self, EncodingError};
use careplan_spec::records::{
    AnnexRow, RecordError, ServiceTime, ServiceUsageRecord, UsageAnnexRecord, UserKey, UserSupplementRecord,
    user_of,
};
use careplan_spec::{FileKind, FileName, FileNameError, MonthSegment, Serial};
use serde::Deserialize;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::roster::{CareUser, Roster};

/// What an office does in the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfficeRole {
    /// Care-management office (居宅介護支援事業所): writes plans, receives actuals.
    CareManagement,
    /// Service office (介護サービス事業所): receives plans, sends actuals.
    Service,
}

/// Who an office is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeProfile {
    /// Office number (事業所番号).
    pub number: OfficeNumber,
    /// Its service kind (43 for care management).
    pub kind: ServiceKind,
    /// Its role.
    pub role: OfficeRole,
    /// Its name (事業所名).
    pub name: String,
}

/// Why an office operation failed. Every variant carries a stable [`ErrorCode`].
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// A received file's name is not standard.
    #[error(transparent)]
    FileName(#[from] FileNameError),
    /// A file is not MS932, or text could not be written as MS932.
    #[error("{file}: {source}")]
    Encoding {
        /// The file.
        file: String,
        /// The cause.
        source: EncodingError,
    },
    /// A file's CSV structure is broken.
    #[error("{file}: {source}")]
    Csv {
        /// The file.
        file: String,
        /// The cause.
        source: CsvError,
    },
    /// A record is invalid.
    #[error("{file} line {line}: {source}")]
    Record {
        /// The file.
        file: String,
        /// 1-based line of the record.
        line: u64,
        /// The cause.
        source: RecordError,
    },
    /// This care software does not import the file's kind in this role.
    #[error("{file}: this care software does not import {kind} files as a {role:?} office")]
    Unsupported {
        /// The file.
        file: String,
        /// Its kind.
        kind: FileKind,
        /// The importing office's role.
        role: OfficeRole,
    },
    /// Actuals name a user without a plan for that month.
    #[error(
        "{file} line {line}: no plan for user {user} in {month}; actuals can only be imported for planned users"
    )]
    UnknownUser {
        /// The file.
        file: String,
        /// 1-based line of the record.
        line: u64,
        /// The user.
        user: UserKey,
        /// The month.
        month: CareMonth,
    },
    /// Nothing to export or send.
    #[error("{0}")]
    NothingToSend(String),
    /// The linkage client failed.
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl OfficeError {
    /// The stable code of this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            OfficeError::FileName(e) => e.code(),
            OfficeError::Encoding { source, .. } => source.code(),
            OfficeError::Csv { source, .. } => source.code(),
            OfficeError::Record { source, .. } => source.code(),
            OfficeError::Unsupported { .. } => ErrorCode::ImportUnsupported,
            OfficeError::UnknownUser { .. } => ErrorCode::ActualUserUnknown,
            OfficeError::NothingToSend(_) => ErrorCode::NothingToSend,
            OfficeError::Client(e) => e.code(),
        }
    }
}

/// An exported send unit (送信単位), addressed to one receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The receiver office.
    pub receiver: OfficeNumber,
    /// The files, all sharing one serial.
    pub files: Vec<Upload>,
}

impl Bundle {
    /// The files as `(name, bytes)` pairs, the input of [`CareSoftware::import`] and of the validator.
    pub fn inputs(&self) -> Vec<(&str, &[u8])> {
        self.files
            .iter()
            .map(|f| (f.name.as_str(), f.content.as_slice()))
            .collect()
    }
}

/// What an import brought in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Files imported.
    pub files: usize,
    /// Records imported.
    pub records: usize,
    /// Users of the imported service usage sheets (plans or actuals).
    pub users: BTreeSet<UserKey>,
}

/// The service a provider of a given kind delivers in generated plans: (service code, units, minutes).
///
/// Home help (11) uses 身体介護1; other kinds use the kind's first item code. The full code tables are
/// the data generator's business.
fn service_for(kind: ServiceKind) -> (String, u32, i64) {
    if kind == ServiceKind::HOME_HELP {
        ("111111".to_owned(), 244, 30)
    } else {
        (format!("{kind}1111"), 100, 60)
    }
}

type PlanKey = (CareMonth, UserKey);

/// One office's care software and its records.
#[derive(Debug)]
pub struct CareSoftware {
    profile: OfficeProfile,
    seed: u64,
    planner: String,
    /// Plans: written here (care management) or imported rows of this provider (service).
    plans: BTreeMap<PlanKey, Vec<ServiceUsageRecord>>,
    /// Actuals imported from providers (care management).
    actuals: BTreeMap<PlanKey, Vec<ServiceUsageRecord>>,
    last_serial: Option<Serial>,
}

impl CareSoftware {
    /// Software for `profile`, generating its data from `seed`.
    pub fn new(profile: OfficeProfile, seed: u64) -> Self {
        let planner = Roster::generate(seed ^ 0x5a5a, profile.number, 1)
            .users()
            .first()
            .map_or_else(|| "ケアマネ 太郎".to_owned(), |u| u.name.clone());
        Self {
            profile,
            seed,
            planner,
            plans: BTreeMap::new(),
            actuals: BTreeMap::new(),
            last_serial: None,
        }
    }

    /// The office.
    pub fn profile(&self) -> &OfficeProfile {
        &self.profile
    }

    /// Users with imported actuals for `month`.
    pub fn users_with_actuals(&self, month: CareMonth) -> BTreeSet<UserKey> {
        self.actuals
            .keys()
            .filter(|(m, _)| *m == month)
            .map(|(_, u)| u.clone())
            .collect()
    }

    /// A serial for an export at `now`: the current second, or one past the last serial, so that send
    /// units made within one (simulated) second stay distinct and ordered.
    fn next_serial(&mut self, now: OffsetDateTime) -> Serial {
        let local = now.to_offset(careplan_core::JST);
        let mut serial = Serial::new(PrimitiveDateTime::new(local.date(), local.time()));
        if let Some(last) = self.last_serial
            && serial <= last
        {
            serial = last.next();
        }
        self.last_serial = Some(serial);
        serial
    }

    /// Exports a month's plan bundle for the first `users` users to `provider`: the service usage sheet
    /// (UPPLAN), its annex (UPSIKYU) and the user supplement (UPHOSOKU).
    pub fn export_plan(
        &mut self,
        now: OffsetDateTime,
        month: CareMonth,
        provider: &OfficeProfile,
        users: usize,
    ) -> Result<Bundle, OfficeError> {
        if users == 0 {
            return Err(OfficeError::NothingToSend(
                "a plan needs at least one user".to_owned(),
            ));
        }
        let roster = Roster::generate(self.seed, self.profile.number, users);
        let created_on = now.to_offset(careplan_core::JST).date();
        let (mut usage, mut annex, mut supplement) = (String::new(), String::new(), String::new());
        for user in roster.users() {
            let rows = self.plan_rows(created_on, month, provider, user);
            for row in &rows {
                write_record(&mut usage, &row.to_fields());
            }
            let units_per_visit = rows.first().map_or(0, |r| r.units);
            let visits = u16::try_from(rows.len()).unwrap_or(u16::MAX);
            let annex_row = |row| UsageAnnexRecord {
                user: user.key.clone(),
                created_on,
                month,
                row,
                updater: self.profile.number,
            };
            write_record(
                &mut annex,
                &annex_row(AnnexRow::Service {
                    office_name: provider.name.clone(),
                    office: provider.number,
                    service_code: rows.first().map(|r| r.service_code.clone()).unwrap_or_default(),
                    units: units_per_visit,
                    count: visits,
                })
                .to_fields(),
            );
            write_record(
                &mut annex,
                &annex_row(AnnexRow::Total {
                    units: units_per_visit * u32::from(visits),
                })
                .to_fields(),
            );
            write_record(
                &mut supplement,
                &UserSupplementRecord {
                    user: user.key.clone(),
                    name_kana: user.name_kana.clone(),
                    name: user.name.clone(),
                    sex: user.sex,
                    birth_date: user.birth_date,
                    care_level: user.care_level,
                    benefit_limit: user.benefit_limit,
                    updater: self.profile.number,
                    month,
                }
                .to_fields(),
            );
            self.plans.insert((month, user.key.clone()), rows);
        }
        let serial = self.next_serial(now);
        let files = [
            (FileKind::UsagePlan, usage),
            (FileKind::UsageAnnex, annex),
            (FileKind::UserSupplement, supplement),
        ]
        .into_iter()
        .map(|(kind, text)| self.encode_file(kind, month, provider, serial, &text))
        .collect::<Result<Vec<_>, _>>()?;
        Ok(Bundle {
            receiver: provider.number,
            files,
        })
    }

    fn plan_rows(
        &self,
        created_on: time::Date,
        month: CareMonth,
        provider: &OfficeProfile,
        user: &CareUser,
    ) -> Vec<ServiceUsageRecord> {
        let (service_code, units, minutes) = service_for(provider.kind);
        let start = time::Time::from_hms(user.visit_hour, 0, 0).unwrap_or(time::Time::MIDNIGHT);
        let end = start + Duration::minutes(minutes);
        (1..=month.days())
            .filter_map(|day| month.day(day))
            .filter(|date| user.visit_days.contains(&date.weekday().number_from_monday()))
            .map(|service_date| ServiceUsageRecord {
                user: user.key.clone(),
                created_on,
                month,
                plan_office: self.profile.number,
                planner_name: self.planner.clone(),
                units,
                service_date,
                start: ServiceTime::At {
                    hour: start.hour(),
                    minute: start.minute(),
                },
                end: ServiceTime::At {
                    hour: end.hour(),
                    minute: end.minute(),
                },
                count: 1,
                service_code: service_code.clone(),
                provider: provider.number,
                provider_name: provider.name.clone(),
                updater: self.profile.number,
            })
            .collect()
    }

    /// Exports the actuals (UPJSK) of `month` for the plans imported from `care_manager`: what was
    /// delivered, here exactly as planned.
    pub fn export_actuals(
        &mut self,
        now: OffsetDateTime,
        month: CareMonth,
        care_manager: &OfficeProfile,
    ) -> Result<Bundle, OfficeError> {
        let mut text = String::new();
        for ((plan_month, _), rows) in &self.plans {
            for row in rows
                .iter()
                .filter(|r| *plan_month == month && r.plan_office == care_manager.number)
            {
                let actual = ServiceUsageRecord {
                    updater: self.profile.number,
                    ..row.clone()
                };
                write_record(&mut text, &actual.to_fields());
            }
        }
        if text.is_empty() {
            return Err(OfficeError::NothingToSend(format!(
                "no imported plan from office {} for {month}: nothing to report as actuals",
                care_manager.number
            )));
        }
        let serial = self.next_serial(now);
        let file = self.encode_file(FileKind::UsageActual, month, care_manager, serial, &text)?;
        Ok(Bundle {
            receiver: care_manager.number,
            files: vec![file],
        })
    }

    fn encode_file(
        &self,
        kind: FileKind,
        month: CareMonth,
        receiver: &OfficeProfile,
        serial: Serial,
        text: &str,
    ) -> Result<Upload, OfficeError> {
        let name = FileName {
            kind,
            month: Some(MonthSegment::Month(month)),
            from: self.profile.number,
            service_kinds: Some((self.profile.kind, receiver.kind)),
            to: receiver.number,
            serial,
        }
        .to_string();
        let content = ms932::encode(text).map_err(|source| OfficeError::Encoding {
            file: name.clone(),
            source,
        })?;
        Ok(Upload { name, content })
    }

    /// Imports received files, in the given order (the relay's processing order). Either every file
    /// is imported or, on the first error, none is.
    pub fn import(&mut self, files: &[(&str, &[u8])]) -> Result<ImportReport, OfficeError> {
        let mut report = ImportReport::default();
        let mut plans: Vec<(PlanKey, ServiceUsageRecord)> = Vec::new();
        let mut actuals: Vec<(PlanKey, ServiceUsageRecord)> = Vec::new();
        for &(name, bytes) in files {
            let file_name: FileName = name.parse()?;
            let text = ms932::decode(bytes).map_err(|source| OfficeError::Encoding {
                file: name.to_owned(),
                source,
            })?;
            let records = read_records(&text).map_err(|source| OfficeError::Csv {
                file: name.to_owned(),
                source,
            })?;
            let record_error = |line, source| OfficeError::Record {
                file: name.to_owned(),
                line,
                source,
            };
            let role = self.profile.role;
            for record in &records {
                match (file_name.kind, role) {
                    (FileKind::UsagePlan, OfficeRole::Service)
                    | (FileKind::UsageActual, OfficeRole::CareManagement) => {
                        let row = ServiceUsageRecord::from_fields(&record.fields())
                            .map_err(|e| record_error(record.line, e))?;
                        report.users.insert(row.user.clone());
                        let key = (row.month, row.user.clone());
                        if file_name.kind == FileKind::UsageActual {
                            if !self.plans.contains_key(&key) {
                                return Err(OfficeError::UnknownUser {
                                    file: name.to_owned(),
                                    line: record.line,
                                    user: row.user,
                                    month: row.month,
                                });
                            }
                            actuals.push((key, row));
                        } else if row.provider == self.profile.number {
                            plans.push((key, row));
                        }
                    }
                    (FileKind::UsageAnnex, OfficeRole::Service) => {
                        user_of(&record.fields(), UsageAnnexRecord::FIELD_COUNT)
                            .map_err(|e| record_error(record.line, e))?;
                    }
                    (FileKind::UserSupplement, OfficeRole::Service) => {
                        user_of(&record.fields(), UserSupplementRecord::FIELD_COUNT)
                            .map_err(|e| record_error(record.line, e))?;
                    }
                    (kind, role) => {
                        return Err(OfficeError::Unsupported {
                            file: name.to_owned(),
                            kind,
                            role,
                        });
                    }
                }
            }
            report.files += 1;
            report.records += records.len();
        }
        replace_sheets(&mut self.plans, plans);
        replace_sheets(&mut self.actuals, actuals);
        Ok(report)
    }
}

/// Stores imported rows: a re-sent sheet replaces the earlier one for that user and month, with no
/// delete needed first (spec §8.1).
fn replace_sheets(
    sheets: &mut BTreeMap<PlanKey, Vec<ServiceUsageRecord>>,
    rows: Vec<(PlanKey, ServiceUsageRecord)>,
) {
    let replaced: BTreeSet<&PlanKey> = rows.iter().map(|(key, _)| key).collect();
    sheets.retain(|key, _| !replaced.contains(key));
    for (key, row) in rows {
        sheets.entry(key).or_default().push(row);
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn profile(number: &str, kind: ServiceKind, role: OfficeRole) -> OfficeProfile {
        OfficeProfile {
            number: number.parse().unwrap(),
            kind,
            role,
            name: format!("事業所{number}"),
        }
    }

    #[test]
    fn plans_and_actuals_round_trip_between_two_softwares() {
        let cm_profile = profile(
            "1310000001",
            ServiceKind::CARE_MANAGEMENT,
            OfficeRole::CareManagement,
        );
        let hh_profile = profile("1310000002", ServiceKind::HOME_HELP, OfficeRole::Service);
        let mut cm = CareSoftware::new(cm_profile.clone(), 42);
        let mut hh = CareSoftware::new(hh_profile.clone(), 42);
        let now = datetime!(2025-04-25 10:30 +9);
        let month: CareMonth = "202505".parse().unwrap();

        let plan = cm.export_plan(now, month, &hh_profile, 3).unwrap();
        let names: Vec<&str> = plan.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "UPPLAN_202505_1310000001_43_1310000002_11_20250425103000.CSV",
                "UPSIKYU_202505_1310000001_43_1310000002_11_20250425103000.CSV",
                "UPHOSOKU_202505_1310000001_43_1310000002_11_20250425103000.CSV",
            ]
        );
        let received = plan.inputs();
        let report = hh.import(&received).unwrap();
        assert_eq!((report.files, report.users.len()), (3, 3));

        let actuals = hh
            .export_actuals(now + Duration::days(40), month, &cm_profile)
            .unwrap();
        assert_eq!(
            actuals.files[0].name,
            "UPJSK_202505_1310000002_11_1310000001_43_20250604103000.CSV"
        );
        let received = actuals.inputs();
        let report = cm.import(&received).unwrap();
        assert_eq!(report.users, cm.users_with_actuals(month));
        assert_eq!(report.users.len(), 3);
    }

    #[test]
    fn every_exported_file_validates_without_findings() {
        use careplan_spec::validate::{Options, validate_files};
        let cm_profile = profile(
            "1310000001",
            ServiceKind::CARE_MANAGEMENT,
            OfficeRole::CareManagement,
        );
        let hh_profile = profile("1310000002", ServiceKind::HOME_HELP, OfficeRole::Service);
        for seed in 0..20 {
            let mut cm = CareSoftware::new(cm_profile.clone(), seed);
            let mut hh = CareSoftware::new(hh_profile.clone(), seed);
            let now = datetime!(2025-04-25 10:30 +9);
            let month: CareMonth = "202505".parse().unwrap();
            let plan = cm.export_plan(now, month, &hh_profile, 5).unwrap();
            let files = plan.inputs();
            hh.import(&files).unwrap();
            let actuals = hh.export_actuals(now, month, &cm_profile).unwrap();
            // Both send units together: each file, each unit's combination and its parent records.
            let all: Vec<(&str, &[u8])> = plan
                .files
                .iter()
                .chain(&actuals.files)
                .map(|f| (f.name.as_str(), f.content.as_slice()))
                .collect();
            for ((name, _), report) in all.iter().zip(validate_files(&all, Options { strict: true })) {
                assert_eq!(report.diagnostics, [], "seed {seed}: {name}");
                assert!(report.records > 0 && !report.users.is_empty());
            }
        }
    }

    #[test]
    fn a_bad_file_imports_nothing() {
        let cm_profile = profile(
            "1310000001",
            ServiceKind::CARE_MANAGEMENT,
            OfficeRole::CareManagement,
        );
        let hh_profile = profile("1310000002", ServiceKind::HOME_HELP, OfficeRole::Service);
        let mut cm = CareSoftware::new(cm_profile.clone(), 1);
        let mut other_cm = CareSoftware::new(
            profile(
                "1310000003",
                ServiceKind::CARE_MANAGEMENT,
                OfficeRole::CareManagement,
            ),
            1,
        );
        let mut hh = CareSoftware::new(hh_profile.clone(), 1);
        let now = datetime!(2025-04-25 10:30 +9);
        let month: CareMonth = "202505".parse().unwrap();
        let plan = other_cm.export_plan(now, month, &hh_profile, 2).unwrap();
        let files = plan.inputs();
        hh.import(&files).unwrap();
        // Actuals of users the care manager never planned for are refused, and nothing is stored.
        let actuals = hh.export_actuals(now, month, other_cm.profile()).unwrap();
        let renamed = actuals.files[0].name.replace("1310000003", "1310000001");
        let mut content = actuals.files[0].content.clone();
        let err = cm.import(&[(&renamed, &content)]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ActualUserUnknown);
        assert!(cm.users_with_actuals(month).is_empty());

        content.extend_from_slice(&[0x81, 0x20]);
        assert_eq!(
            cm.import(&[(&renamed, &content)]).unwrap_err().code(),
            ErrorCode::EncodingInvalid
        );
        assert_eq!(
            cm.import(&plan.inputs()[..1]).unwrap_err().code(),
            ErrorCode::ImportUnsupported
        );
        assert_eq!(
            hh.export_actuals(now, "202506".parse().unwrap(), &cm_profile)
                .unwrap_err()
                .code(),
            ErrorCode::NothingToSend
        );
    }
}
