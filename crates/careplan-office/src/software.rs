//! Care software (介護ソフト): exports a month's standard files from its records and imports received
//! files into them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use careplan_core::{CareMonth, ErrorCode, OfficeNumber, ServiceKind};
use careplan_relay::Upload;
use careplan_spec::csv_text::{Field, write_record};
use careplan_spec::ms932::{self, EncodingError};
use careplan_spec::records::{
    CsvVersion, PlanDeletionRecord, ReadError, RecordSet, RecordWriter, ServiceUsageRecord, UserKey,
};
use careplan_spec::{FileKind, FileName, FileNameError, MonthSegment, Serial};
use careplan_synth::{
    CareUser, Deviations, Office, PlanContext, PlannedService, Roster, TableContext, UserMonth, actuals,
    plan_services, plan_tables, prevention_files, providers_of, staff_name, write_month,
};
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::case::PreparedMonth;

/// 居宅サービス計画作成（変更）日: the key of a user's plan tables, in each table and in their deletion.
const PLAN_DATE: &str = "居宅サービス計画作成（変更）日";
/// 削除対象年月 of an actuals deletion (実績削除).
const DELETED_MONTH: &str = "削除対象年月";
/// サービス事業者コード of an actuals deletion: the provider whose actuals are withdrawn.
const PROVIDER: &str = "サービス事業者コード";

/// How many users a month's plans cover when neither a case nor the step says.
pub const DEFAULT_USERS: usize = 3;

/// What an office does in the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

impl OfficeProfile {
    /// The office as the data generator sees it.
    pub fn as_generated(&self) -> Office {
        Office {
            number: self.number,
            kind: self.kind,
            name: self.name.clone(),
        }
    }
}

/// Why the care software failed. Every variant carries a stable [`ErrorCode`].
#[derive(Debug, thiserror::Error)]
pub enum SoftwareError {
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
    /// A file's CSV structure or one of its records is broken.
    #[error("{file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// The cause.
        source: ReadError,
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
        "{file} record {record}: no plan for user {user} in {month}; actuals can only be imported for planned users"
    )]
    UnknownUser {
        /// The file.
        file: String,
        /// 1-based number of the record.
        record: usize,
        /// The user.
        user: UserKey,
        /// The month.
        month: CareMonth,
    },
    /// Nothing to export.
    #[error("{0}")]
    NothingToSend(String),
    /// A case to prepare was refused.
    #[error(transparent)]
    Case(#[from] crate::case::CaseError),
    /// A vendor's product, driven through its adapter, failed, timed out, lacks the operation or left
    /// unusable output.
    #[error("{message}")]
    Adapter {
        /// `ADAPTER_FAILED`, `ADAPTER_TIMEOUT`, `ADAPTER_UNSUPPORTED` or `ADAPTER_OUTPUT_INVALID`.
        code: ErrorCode,
        /// What happened, with the product's last line on stderr.
        message: String,
    },
}

impl SoftwareError {
    /// The stable code of this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            SoftwareError::FileName(e) => e.code(),
            SoftwareError::Encoding { source, .. } => source.code(),
            SoftwareError::Read { source, .. } => source.code(),
            SoftwareError::Unsupported { .. } => ErrorCode::ImportUnsupported,
            SoftwareError::UnknownUser { .. } => ErrorCode::ActualUserUnknown,
            SoftwareError::NothingToSend(_) => ErrorCode::NothingToSend,
            SoftwareError::Case(e) => e.code(),
            SoftwareError::Adapter { code, .. } => *code,
        }
    }
}

/// An exported send unit (送信単位), addressed to one receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendUnit {
    /// The receiver office.
    pub receiver: OfficeNumber,
    /// The files, all sharing one serial.
    pub files: Vec<Upload>,
}

impl SendUnit {
    /// The files as `(name, bytes)` pairs, the input of [`CareSoftware::import`] and of the validator.
    pub fn inputs(&self) -> Vec<(&str, &[u8])> {
        self.files.iter().map(|f| (&*f.name, &*f.content)).collect()
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

type PlanKey = (CareMonth, UserKey);

/// One visit of a service usage sheet (第6表) as the neutral dump (contract 1) says it: a user, a
/// provider, a service on a date and time. Plans and actuals are lists of visits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    /// 保険者番号.
    pub insurer: String,
    /// 被保険者番号.
    pub insured: String,
    /// 対象年月, `YYYYMM`.
    pub month: String,
    /// サービス事業者コード: the provider.
    pub provider: String,
    /// サービスコード.
    pub service_code: String,
    /// サービス利用日, `YYYY-MM-DD`.
    pub date: String,
    /// サービス開始時刻, `HHMM` (or `9999`).
    pub start: String,
    /// サービス終了時刻, `HHMM` (or `9999`).
    pub end: String,
    /// サービス回数.
    pub count: u8,
}

impl Visit {
    /// The visit of a 第6表 row.
    pub fn of(row: &ServiceUsageRecord) -> Self {
        Self {
            insurer: row.user.insurer.to_string(),
            insured: row.user.insured.to_string(),
            month: row.month.to_string(),
            provider: row.provider.to_string(),
            service_code: row.service_code.to_string(),
            date: row.service_date.to_string(),
            start: row.start.to_string(),
            end: row.end.to_string(),
            count: row.count,
        }
    }
}

impl fmt::Display for Visit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "user {}/{} on {} {}–{}: {} ×{} by {}",
            self.insurer,
            self.insured,
            self.date,
            self.start,
            self.end,
            self.service_code,
            self.count,
            self.provider
        )
    }
}

/// What a care software holds, in the neutral dump of contract 1 (`docs/schemas/dump.v1.json`): the
/// visits of the plans and of the actuals it keeps, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holdings {
    /// Planned visits (予定).
    pub plans: Vec<Visit>,
    /// Actual visits (実績).
    pub actuals: Vec<Visit>,
    /// Care plans (居宅サービス計画, tables 1–3): optional in the dump, for products that keep them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<HeldTables>,
}

/// A user's care plan (居宅サービス計画) as the neutral dump says it: the plan's date and how many
/// service lines (第2表) and weekly-schedule rows (第3表) it has.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldTables {
    /// 保険者番号.
    pub insurer: String,
    /// 被保険者番号.
    pub insured: String,
    /// 居宅サービス計画作成（変更）日, `YYYYMMDD`.
    pub plan_date: String,
    /// 第2表 rows.
    pub lines: usize,
    /// 第3表 rows.
    pub schedule: usize,
}

impl fmt::Display for HeldTables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "user {}/{} plan of {}: {} line(s) in table 2, {} row(s) in table 3",
            self.insurer, self.insured, self.plan_date, self.lines, self.schedule
        )
    }
}

/// What a care software is asked to export for one receiver, of one service month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Export {
    /// ① A month's plans for a provider: the service usage sheet (UPPLAN), its annex (UPSIKYU) and the
    /// user supplement (UPHOSOKU). The plans are those of the month's prepared case, or else of the
    /// software's own data; `users` takes the first users only (own data: 3 when not given).
    Plan {
        /// 対象年月.
        month: CareMonth,
        /// The first users only.
        users: Option<usize>,
    },
    /// The care plans (居宅サービス計画: tables 1–3 and their user supplement) of the users whose plan of
    /// `month` names the provider; `users` as for [`Export::Plan`].
    PlanTables {
        /// The month whose planned services the plans describe.
        month: CareMonth,
        /// The first users only.
        users: Option<usize>,
    },
    /// The 介護予防 files of the users whose plan of `month` names the provider: the basic information
    /// (`UPKIHON` with its annexes `UPKIHON_SUB1`, `UPKIHON_SUB2`) and the prevention plan (`UPYOBO` with
    /// `UPYOBO_SUB`), one send unit (spec §3.2, §5.2); `users` as for [`Export::Plan`].
    Prevention {
        /// The month whose planned services the plans describe.
        month: CareMonth,
        /// The first users only.
        users: Option<usize>,
    },
    /// A deletion file withdrawing what was sent (spec §8.1): a month's plans or the care plans from a
    /// provider, or a month's actuals from the care manager. A file of its own in its send unit.
    Deletion {
        /// What is withdrawn.
        of: Withdrawn,
        /// The service month (for care plans: the month whose planned users are withdrawn).
        month: CareMonth,
    },
    /// ⑦ A month's actuals (UPJSK) of the plans imported from the care manager.
    Actuals {
        /// 対象年月.
        month: CareMonth,
    },
}

impl Export {
    /// The service month.
    pub fn month(self) -> CareMonth {
        match self {
            Export::Plan { month, .. }
            | Export::PlanTables { month, .. }
            | Export::Prevention { month, .. }
            | Export::Deletion { month, .. }
            | Export::Actuals { month } => month,
        }
    }

    /// The role of the office the export is for.
    pub fn receiver_role(self) -> OfficeRole {
        match self {
            Export::Actuals { .. }
            | Export::Deletion {
                of: Withdrawn::Actuals,
                ..
            } => OfficeRole::CareManagement,
            Export::Plan { .. }
            | Export::PlanTables { .. }
            | Export::Prevention { .. }
            | Export::Deletion { .. } => OfficeRole::Service,
        }
    }
}

/// What a deletion file withdraws (spec §8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Withdrawn {
    /// A month's service usage sheets, from a provider: 第6表 予定削除 (`DLTPLAN`), one record per user whose
    /// plan of the month names the provider; the care manager then no longer plans them with it.
    Plans,
    /// The care plans (tables 1–3), from a provider: 居宅サービス計画1表_削除 (`DLT1KYO`), one record per
    /// user planned with it in the month, by the plan's date; the provider deletes tables 1, 2 and 3.
    CarePlans,
    /// A month's actuals, from the care manager: 実績情報削除 (`DLTJSK`), one record per user of the plans
    /// imported from it, for the sending provider and its kind.
    Actuals,
}

impl Withdrawn {
    /// Every kind of withdrawal.
    pub const ALL: [Withdrawn; 3] = [Withdrawn::Plans, Withdrawn::CarePlans, Withdrawn::Actuals];

    /// The deletion file's kind.
    pub fn file_kind(self) -> FileKind {
        match self {
            Withdrawn::Plans => FileKind::UsagePlanDeletion,
            Withdrawn::CarePlans => FileKind::PlanTable1Deletion,
            Withdrawn::Actuals => FileKind::UsageActualDeletion,
        }
    }

    /// The withdrawal a deletion file's prefix names (`DLTPLAN`, `DLT1KYO`, `DLTJSK`).
    pub fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.file_kind().prefix() == prefix)
    }
}

/// The care software (介護ソフト) an office runs: it exports standard files from its records and imports
/// received files into them. The seam where a vendor's product takes the place of the synthetic one;
/// everything above it (the office's folders, the linkage client, the relay, the scenarios) is the same
/// for every implementation.
pub trait CareSoftware: std::fmt::Debug + Send {
    /// The office it runs in.
    fn profile(&self) -> &OfficeProfile;

    /// Loads a case — providers, users and the services planned for them in a month — so that the
    /// month's plans are those of the case (a care-management office's software).
    fn prepare(&mut self, now: OffsetDateTime, case: &PreparedMonth) -> Result<(), SoftwareError>;

    /// Exports one send unit for `to`, into the office's outbox: what [`Export`] says.
    fn export(
        &mut self,
        now: OffsetDateTime,
        export: Export,
        to: &OfficeProfile,
    ) -> Result<SendUnit, SoftwareError>;

    /// ⑥/⑫ Imports received files at `now` in the given order (the relay's processing order), all or
    /// nothing, and reports what it imported.
    fn import(&mut self, now: OffsetDateTime, files: &[(&str, &[u8])])
    -> Result<ImportReport, SoftwareError>;

    /// What it holds now, as neutral visits, so that the bench compares meaning as well as bytes.
    fn dump(&mut self, now: OffsetDateTime) -> Result<Holdings, SoftwareError>;
}

/// The project's own care software: plans generated with `careplan-synth` from a seed, actuals derived
/// from the plans it imported, every file written and read through `careplan-spec`'s typed records.
#[derive(Debug)]
pub struct SyntheticSoftware {
    profile: OfficeProfile,
    seed: u64,
    planner: String,
    deviations: Deviations,
    /// Plans: written here (care management) or imported rows of this provider (service).
    plans: BTreeMap<PlanKey, Vec<ServiceUsageRecord>>,
    /// Actuals imported from providers (care management).
    actuals: BTreeMap<PlanKey, Vec<ServiceUsageRecord>>,
    /// Prepared cases, by month (care management): what the month's plans are written from.
    prepared: BTreeMap<CareMonth, PreparedMonth>,
    /// Care plans (tables 1–3) written (care management) or imported (service), by user.
    tables: BTreeMap<UserKey, HeldTables>,
    /// The service offices a care manager plans with: every month is planned once with all of them.
    partners: Vec<OfficeProfile>,
    last_serial: Option<Serial>,
}

impl SyntheticSoftware {
    /// Software for `profile`, generating its data from `seed`; actuals follow plans exactly until
    /// [`with_deviations`](Self::with_deviations) says otherwise.
    pub fn new(profile: OfficeProfile, seed: u64) -> Self {
        Self {
            planner: staff_name(seed, profile.number),
            profile,
            seed,
            deviations: Deviations::NONE,
            plans: BTreeMap::new(),
            actuals: BTreeMap::new(),
            prepared: BTreeMap::new(),
            tables: BTreeMap::new(),
            partners: Vec::new(),
            last_serial: None,
        }
    }

    /// The service offices this care manager works with. A month's plans are made once with all of them
    /// — each user's sheet names every provider of the user — and each provider is sent the sheets of its
    /// users whole (spec §5.4), so a user's sheet is the same at every provider. Without partners, a
    /// month is planned with the providers of each export.
    pub fn with_partners(mut self, partners: Vec<OfficeProfile>) -> Self {
        self.partners = partners;
        self
    }

    /// How this provider's actuals drift from the plans it received.
    pub fn with_deviations(mut self, deviations: Deviations) -> Self {
        self.deviations = deviations;
        self
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

    /// Plans a month for the first `users` users (of the month's prepared case, else generated, each
    /// with one or more of `providers`), and exports one send unit (UPPLAN + UPSIKYU + UPHOSOKU) per
    /// provider that has users. A send unit holds the whole sheets of the provider's users, other
    /// providers' rows included (spec §5.4).
    pub fn export_plans(
        &mut self,
        now: OffsetDateTime,
        month: CareMonth,
        providers: &[OfficeProfile],
        users: Option<usize>,
    ) -> Result<Vec<SendUnit>, SoftwareError> {
        self.export_sheets(now, month, providers, Users::OfMonth(users))
    }

    fn export_sheets(
        &mut self,
        now: OffsetDateTime,
        month: CareMonth,
        providers: &[OfficeProfile],
        users: Users,
    ) -> Result<Vec<SendUnit>, SoftwareError> {
        if users.count() == Some(0) || providers.is_empty() {
            return Err(SoftwareError::NothingToSend(
                "a plan needs at least one user and one provider".to_owned(),
            ));
        }
        let context = self.plan_context(now, month);
        let planning = self.plan_month(month, providers, users);
        let named: Vec<&Office> = planning.offices.iter().collect();
        let planned: Vec<(&BTreeSet<OfficeNumber>, UserMonth)> = planning
            .users
            .iter()
            .map(|(numbers, user, services)| (numbers, write_month(&context, user, services, &named)))
            .collect();
        let mut send_units = Vec::new();
        let mut sent = BTreeSet::new();
        for provider in providers {
            let (mut usage, mut annex, mut supplement) = (String::new(), String::new(), String::new());
            // Each user's whole sheet, other providers' rows included (spec §5.4).
            for (index, (_, plan)) in planned
                .iter()
                .enumerate()
                .filter(|(_, (numbers, _))| numbers.contains(&provider.number))
                .take(planning.per_provider)
            {
                sent.insert(index);
                plan.usage
                    .iter()
                    .for_each(|row| write_record(&mut usage, &row.to_fields()));
                plan.annex
                    .iter()
                    .for_each(|row| write_record(&mut annex, &row.to_fields()));
                write_record(&mut supplement, &plan.supplement.to_fields());
            }
            if usage.is_empty() {
                continue;
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
            send_units.push(SendUnit {
                receiver: provider.number,
                files,
            });
        }
        // The care manager's record of the month: every plan it sent, the same whichever provider got it.
        for (index, (_, plan)) in planned.into_iter().enumerate() {
            if let (true, Some(first)) = (sent.contains(&index), plan.usage.first()) {
                self.plans.insert((month, first.user.clone()), plan.usage);
            }
        }
        Ok(send_units)
    }

    /// Exports a month's plan send unit to `provider`: the service usage sheet (UPPLAN), its annex
    /// (UPSIKYU) and the user supplement (UPHOSOKU).
    pub fn export_plan(
        &mut self,
        now: OffsetDateTime,
        month: CareMonth,
        provider: &OfficeProfile,
        users: Option<usize>,
    ) -> Result<SendUnit, SoftwareError> {
        let mut send_units = self.export_sheets(
            now,
            month,
            std::slice::from_ref(provider),
            Users::OfProvider(users),
        )?;
        send_units.pop().ok_or_else(|| {
            SoftwareError::NothingToSend(format!(
                "nothing planned for provider {} of kind {}: generated plans cover kinds {}",
                provider.number,
                provider.kind,
                careplan_synth::catalogue::PROVIDER_KINDS
                    .map(|k| k.to_string())
                    .join(", ")
            ))
        })
    }

    /// Writes the deletion file withdrawing `of` for `month` from `to` (its records, spec §6.3, §6.7),
    /// and forgets what it withdraws.
    pub fn export_deletion(
        &mut self,
        now: OffsetDateTime,
        of: Withdrawn,
        month: CareMonth,
        to: &OfficeProfile,
    ) -> Result<SendUnit, SoftwareError> {
        let records: Vec<Vec<Field>> = match of {
            Withdrawn::Plans => {
                let withdrawn: Vec<PlanKey> = self
                    .plans
                    .iter()
                    .filter(|((m, _), rows)| *m == month && rows.iter().any(|r| r.provider == to.number))
                    .map(|(key, _)| key.clone())
                    .collect();
                for key in &withdrawn {
                    if let Some(rows) = self.plans.get_mut(key) {
                        rows.retain(|r| r.provider != to.number);
                        if rows.is_empty() {
                            self.plans.remove(key);
                        }
                    }
                }
                withdrawn
                    .into_iter()
                    .map(|(month, user)| {
                        PlanDeletionRecord {
                            version: CsvVersion::CURRENT,
                            user,
                            month,
                        }
                        .to_fields()
                    })
                    .collect()
            }
            Withdrawn::CarePlans => {
                let planning = self.plan_month(month, std::slice::from_ref(to), Users::OfProvider(None));
                let mut records = Vec::new();
                for (_, user, _) in planning
                    .users
                    .iter()
                    .filter(|(numbers, ..)| numbers.contains(&to.number))
                {
                    if let Some(held) = self.tables.remove(&user.key) {
                        records.push(
                            RecordWriter::new(FileKind::PlanTable1Deletion, CsvVersion::CURRENT, &user.key)
                                .set(PLAN_DATE, held.plan_date)
                                .finish(),
                        );
                    }
                }
                records
            }
            Withdrawn::Actuals => self
                .plans
                .iter()
                .filter(|((m, _), rows)| {
                    *m == month && rows.first().and_then(|r| r.plan_office) == Some(to.number)
                })
                .map(|((month, user), _)| {
                    RecordWriter::new(FileKind::UsageActualDeletion, CsvVersion::CURRENT, user)
                        .set(DELETED_MONTH, month)
                        .set(PROVIDER, self.profile.number)
                        .set("サービス種類コード", self.profile.kind)
                        .finish()
                })
                .collect(),
        };
        if records.is_empty() {
            return Err(SoftwareError::NothingToSend(format!(
                "nothing of {month} to withdraw ({}) from office {}",
                of.file_kind().prefix(),
                to.number
            )));
        }
        let mut text = String::new();
        records.iter().for_each(|record| write_record(&mut text, record));
        let serial = self.next_serial(now);
        let segment = (of != Withdrawn::CarePlans).then_some(MonthSegment::Month(month));
        let file = self.encode_named(of.file_kind(), segment, to, serial, &text)?;
        Ok(SendUnit {
            receiver: to.number,
            files: vec![file],
        })
    }

    /// Exports the actuals (UPJSK) of `month` for the plans imported from `care_manager`: what was
    /// delivered, the plan with this office's deviations.
    pub fn export_actuals(
        &mut self,
        now: OffsetDateTime,
        month: CareMonth,
        care_manager: &OfficeProfile,
    ) -> Result<SendUnit, SoftwareError> {
        let created_on = now.to_offset(careplan_core::JST).date();
        let mut text = String::new();
        for ((plan_month, _), rows) in &self.plans {
            if *plan_month != month || rows.first().and_then(|r| r.plan_office) != Some(care_manager.number) {
                continue;
            }
            for row in actuals(self.seed, rows, self.profile.number, created_on, self.deviations) {
                write_record(&mut text, &row.to_fields());
            }
        }
        if text.is_empty() {
            return Err(SoftwareError::NothingToSend(format!(
                "no imported plan from office {} for {month}: nothing to report as actuals",
                care_manager.number
            )));
        }
        let serial = self.next_serial(now);
        let file = self.encode_file(FileKind::UsageActual, month, care_manager, serial, &text)?;
        Ok(SendUnit {
            receiver: care_manager.number,
            files: vec![file],
        })
    }

    /// Who plans `month`, writing on the day of `now`.
    fn plan_context(&self, now: OffsetDateTime, month: CareMonth) -> PlanContext<'_> {
        PlanContext {
            seed: self.seed,
            month,
            created_on: now.to_offset(careplan_core::JST).date(),
            care_office: self.profile.number,
            planner_name: &self.planner,
        }
    }

    /// The month's planning: the first users of the month's prepared case, else users generated in roster
    /// order and each planned with one or more of the partners and `providers` — as many as `users` asks
    /// for the month, or until each of `providers` has its number.
    fn plan_month(&self, month: CareMonth, providers: &[OfficeProfile], users: Users) -> Planning {
        // The partners first, in their order, so that a month is planned the same whichever provider an
        // export names; a provider outside them joins the month's offices.
        let mut offices: Vec<Office> = self.partners.iter().map(OfficeProfile::as_generated).collect();
        for provider in providers {
            if !offices.iter().any(|o| o.number == provider.number) {
                offices.push(provider.as_generated());
            }
        }
        let mut planned = Vec::new();
        if let Some(case) = self.prepared.get(&month) {
            // The case names its providers; the offices of the step are known by their own names.
            offices.extend(case.providers.iter().cloned());
            for prepared in case.users.iter().take(users.count().unwrap_or(usize::MAX)) {
                let numbers = prepared.services.iter().map(|s| s.provider).collect();
                planned.push((numbers, prepared.user.clone(), prepared.services.clone()));
            }
            return Planning {
                offices,
                users: planned,
                per_provider: usize::MAX,
            };
        }
        // Users are planned in roster order until each provider of the export has its `users`: a user's
        // plan depends only on the user and the offices, so every export of the month sees the same plans,
        // and one asking for more users plans more without changing the first ones. Each user's primary
        // provider goes round the offices, so `per_provider × offices` users always suffice.
        let context = self.plan_context(OffsetDateTime::UNIX_EPOCH, month);
        let (per_provider, most) = match users {
            Users::OfMonth(n) => (usize::MAX, n.unwrap_or(DEFAULT_USERS)),
            Users::OfProvider(n) => {
                let n = n.unwrap_or(DEFAULT_USERS);
                (n, n.saturating_mul(offices.len().max(1)))
            }
        };
        let roster = Roster::generate(self.seed, self.profile.number, most);
        let mut found = vec![0usize; providers.len()];
        for (index, user) in roster.users().iter().enumerate() {
            if found.iter().all(|n| *n >= per_provider) {
                break;
            }
            let chosen = providers_of(self.seed, index, user, &offices);
            let services = plan_services(&context, user, &chosen);
            let numbers: BTreeSet<OfficeNumber> = chosen.iter().map(|o| o.number).collect();
            for (count, provider) in found.iter_mut().zip(providers) {
                *count += usize::from(numbers.contains(&provider.number));
            }
            planned.push((numbers, user.clone(), services));
        }
        Planning {
            offices,
            users: planned,
            per_provider,
        }
    }

    /// Writes the care plan's tables 1–3 with their user supplement (field 63 = `000000`) for the first
    /// `users` users whose plan of `month` names `provider`: one send unit (UP1KYO + UP2KYO + UP3KYO +
    /// UPHOSOKU), names without a month.
    pub fn export_plan_tables(
        &mut self,
        now: OffsetDateTime,
        month: CareMonth,
        provider: &OfficeProfile,
        users: Option<usize>,
    ) -> Result<SendUnit, SoftwareError> {
        let mut written = Vec::new();
        let files = [
            (FileKind::PlanTable1, None),
            (FileKind::PlanTable2, None),
            (FileKind::PlanTable3, None),
            (FileKind::UserSupplement, Some(MonthSegment::PlanLinked)),
        ];
        let unit = self.users_documents(
            now,
            month,
            provider,
            users,
            &files,
            |context, user, services, named, texts| {
                let tables = plan_tables(context, user, services, named);
                written.push((
                    user.key.clone(),
                    HeldTables {
                        insurer: user.key.insurer.to_string(),
                        insured: user.key.insured.to_string(),
                        plan_date: careplan_spec::records::format_date(tables.plan_date),
                        lines: tables.table2.len(),
                        schedule: tables.table3.len(),
                    },
                ));
                write_record(&mut texts[0], &tables.table1);
                tables
                    .table2
                    .iter()
                    .for_each(|row| write_record(&mut texts[1], row));
                tables
                    .table3
                    .iter()
                    .for_each(|row| write_record(&mut texts[2], row));
                write_record(&mut texts[3], &tables.supplement.to_fields());
            },
        )?;
        self.tables.extend(written);
        Ok(unit)
    }

    /// Writes the 介護予防 files (UPKIHON + UPKIHON_SUB1 + UPKIHON_SUB2 + UPYOBO + UPYOBO_SUB) of the first
    /// `users` users whose plan of `month` names `provider`: one send unit, names without a month.
    pub fn export_prevention(
        &mut self,
        now: OffsetDateTime,
        month: CareMonth,
        provider: &OfficeProfile,
        users: Option<usize>,
    ) -> Result<SendUnit, SoftwareError> {
        let files = [
            (FileKind::PreventionBasic, None),
            (FileKind::PreventionBasicSchedule, None),
            (FileKind::PreventionBasicHistory, None),
            (FileKind::PreventionPlan, None),
            (FileKind::PreventionPlanSupport, None),
        ];
        self.users_documents(
            now,
            month,
            provider,
            users,
            &files,
            |context, user, services, named, texts| {
                let files = prevention_files(context, user, services, named);
                write_record(&mut texts[0], &files.basic);
                files
                    .schedule
                    .iter()
                    .for_each(|row| write_record(&mut texts[1], row));
                files
                    .history
                    .iter()
                    .for_each(|row| write_record(&mut texts[2], row));
                write_record(&mut texts[3], &files.plan);
                files
                    .support
                    .iter()
                    .for_each(|row| write_record(&mut texts[4], row));
            },
        )
    }

    /// One send unit of documents about each of the first `users` users whose plan of `month` names
    /// `provider`: `write` adds a user's records to the texts of `files` (in their order), which are then
    /// named with one serial.
    fn users_documents(
        &mut self,
        now: OffsetDateTime,
        month: CareMonth,
        provider: &OfficeProfile,
        users: Option<usize>,
        files: &[(FileKind, Option<MonthSegment>)],
        mut write: impl FnMut(&TableContext<'_>, &CareUser, &[PlannedService], &[&Office], &mut [String]),
    ) -> Result<SendUnit, SoftwareError> {
        if users == Some(0) {
            return Err(SoftwareError::NothingToSend(
                "documents need at least one user".to_owned(),
            ));
        }
        let planning = self.plan_month(month, std::slice::from_ref(provider), Users::OfProvider(users));
        let named: Vec<&Office> = planning.offices.iter().collect();
        let context = TableContext {
            plan: self.plan_context(now, month),
            care_office_name: &self.profile.name,
        };
        let mut texts = vec![String::new(); files.len()];
        for (_, user, services) in planning
            .users
            .iter()
            .filter(|(numbers, ..)| numbers.contains(&provider.number))
            .take(planning.per_provider)
        {
            write(&context, user, services, &named, &mut texts);
        }
        if texts.first().is_none_or(String::is_empty) {
            return Err(SoftwareError::NothingToSend(format!(
                "no user of {month} is planned with provider {}",
                provider.number
            )));
        }
        let serial = self.next_serial(now);
        let files = files
            .iter()
            .zip(texts)
            .map(|(&(kind, segment), text)| self.encode_named(kind, segment, provider, serial, &text))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SendUnit {
            receiver: provider.number,
            files,
        })
    }

    fn encode_file(
        &self,
        kind: FileKind,
        month: CareMonth,
        receiver: &OfficeProfile,
        serial: Serial,
        text: &str,
    ) -> Result<Upload, SoftwareError> {
        self.encode_named(kind, Some(MonthSegment::Month(month)), receiver, serial, text)
    }

    fn encode_named(
        &self,
        kind: FileKind,
        month: Option<MonthSegment>,
        receiver: &OfficeProfile,
        serial: Serial,
        text: &str,
    ) -> Result<Upload, SoftwareError> {
        let name = FileName {
            kind,
            month,
            from: self.profile.number,
            service_kinds: Some((self.profile.kind, receiver.kind)),
            to: receiver.number,
            serial,
        }
        .to_string();
        // Text MS932 cannot write (a 外字 or a variant form in a name) is converted first (spec §4.3).
        let content =
            ms932::encode(&ms932::to_representable(text)).map_err(|source| SoftwareError::Encoding {
                file: name.clone(),
                source,
            })?;
        Ok(Upload::new(name, content))
    }
}

impl CareSoftware for SyntheticSoftware {
    fn dump(&mut self, _now: OffsetDateTime) -> Result<Holdings, SoftwareError> {
        let visits = |sheets: &BTreeMap<PlanKey, Vec<ServiceUsageRecord>>| {
            let mut visits: Vec<Visit> = sheets.values().flatten().map(Visit::of).collect();
            visits.sort();
            visits
        };
        Ok(Holdings {
            plans: visits(&self.plans),
            actuals: visits(&self.actuals),
            tables: self.tables.values().cloned().collect(),
        })
    }

    /// The office.
    fn profile(&self) -> &OfficeProfile {
        &self.profile
    }

    /// Keeps the case: the month's plans are written from it from now on.
    fn prepare(&mut self, _now: OffsetDateTime, case: &PreparedMonth) -> Result<(), SoftwareError> {
        self.prepared.insert(case.month, case.clone());
        Ok(())
    }

    fn export(
        &mut self,
        now: OffsetDateTime,
        export: Export,
        to: &OfficeProfile,
    ) -> Result<SendUnit, SoftwareError> {
        match export {
            Export::Plan { month, users } => self.export_plan(now, month, to, users),
            Export::PlanTables { month, users } => self.export_plan_tables(now, month, to, users),
            Export::Prevention { month, users } => self.export_prevention(now, month, to, users),
            Export::Deletion { of, month } => self.export_deletion(now, of, month, to),
            Export::Actuals { month } => self.export_actuals(now, month, to),
        }
    }

    /// Imports received files, in the given order (the relay's processing order). Either every file
    /// is imported or, on the first error, none is.
    fn import(
        &mut self,
        _now: OffsetDateTime,
        files: &[(&str, &[u8])],
    ) -> Result<ImportReport, SoftwareError> {
        let mut report = ImportReport::default();
        // What each file changes, in the relay's order: a later file's sheet replaces an earlier one's,
        // and a deletion removes what came before it, in this import as across imports (a plan re-sent,
        // or withdrawn, before the first was imported).
        let mut changes: Vec<Change> = Vec::new();
        for &(name, bytes) in files {
            let file_name: FileName = name.parse()?;
            let role = self.profile.role;
            let supported = matches!(
                (file_name.kind, role),
                (
                    FileKind::UsagePlan
                        | FileKind::UsageAnnex
                        | FileKind::UserSupplement
                        | FileKind::UsagePlanDeletion
                        | FileKind::PlanTable1
                        | FileKind::PlanTable2
                        | FileKind::PlanTable3
                        | FileKind::PlanTable1Deletion
                        | FileKind::PreventionBasic
                        | FileKind::PreventionBasicSchedule
                        | FileKind::PreventionBasicHistory
                        | FileKind::PreventionPlan
                        | FileKind::PreventionPlanSupport,
                    OfficeRole::Service
                ) | (
                    FileKind::UsageActual | FileKind::UsageActualDeletion,
                    OfficeRole::CareManagement
                )
            );
            if !supported {
                return Err(SoftwareError::Unsupported {
                    file: name.to_owned(),
                    kind: file_name.kind,
                    role,
                });
            }
            let text = ms932::decode(bytes).map_err(|source| SoftwareError::Encoding {
                file: name.to_owned(),
                source,
            })?;
            let records = RecordSet::read(file_name.kind, &text).map_err(|source| SoftwareError::Read {
                file: name.to_owned(),
                source,
            })?;
            report.files += 1;
            report.records += records.len();
            match records {
                RecordSet::Usage(rows) => {
                    let mut sheets = Vec::new();
                    for (index, row) in rows.into_iter().enumerate() {
                        report.users.insert(row.user.clone());
                        let key = (row.month, row.user.clone());
                        if file_name.kind == FileKind::UsageActual {
                            if !self.plans.contains_key(&key) {
                                return Err(SoftwareError::UnknownUser {
                                    file: name.to_owned(),
                                    record: index + 1,
                                    user: row.user,
                                    month: row.month,
                                });
                            }
                            sheets.push((key, row));
                        } else if row.provider == self.profile.number {
                            sheets.push((key, row));
                        }
                    }
                    changes.push(if file_name.kind == FileKind::UsageActual {
                        Change::Actuals(sheets)
                    } else {
                        Change::Plans(sheets)
                    });
                }
                RecordSet::PlanDeletion(rows) => {
                    changes.push(Change::PlansWithdrawn(
                        rows.into_iter().map(|r| (r.month, r.user)).collect(),
                    ));
                }
                // 実績削除: 削除対象年月 of the user, for the provider named.
                RecordSet::Layout(rows) if file_name.kind == FileKind::UsageActualDeletion => {
                    let mut withdrawn = Vec::with_capacity(rows.len());
                    for (index, row) in rows.iter().enumerate() {
                        let bad = |field: &str, expected: &'static str| SoftwareError::Read {
                            file: name.to_owned(),
                            source: ReadError::Record {
                                line: index as u64 + 1,
                                source: row.field_error(field, expected),
                            },
                        };
                        let month: CareMonth = row
                            .get(DELETED_MONTH)
                            .parse()
                            .map_err(|_| bad(DELETED_MONTH, "must be YYYYMM"))?;
                        let provider: OfficeNumber = row
                            .get(PROVIDER)
                            .parse()
                            .map_err(|_| bad(PROVIDER, "must be a 10-digit office number"))?;
                        withdrawn.push(((month, row.user.clone()), provider));
                    }
                    changes.push(Change::ActualsWithdrawn(withdrawn));
                }
                // The 介護予防 files are checked against their layouts and counted, not kept.
                RecordSet::Layout(_) if !file_name.kind.is_plan_table() => {}
                // Plan tables by their key, 保険者番号 + 被保険者番号 + 居宅サービス計画作成（変更）日, a field of
                // every table and of their deletion.
                RecordSet::Layout(rows) => {
                    let keys: Vec<(UserKey, String)> = rows
                        .iter()
                        .map(|r| (r.user.clone(), r.get(PLAN_DATE).to_owned()))
                        .collect();
                    changes.push(Change::Tables(file_name.kind, keys));
                }
                // The annex and the supplement are checked but not kept: the provider works from the
                // sheet's rows.
                RecordSet::Annex(_) | RecordSet::Supplement(_) => {}
            }
        }
        // Nothing is stored before every file has been read: all or nothing.
        for change in changes {
            match change {
                Change::Plans(rows) => replace_sheets(&mut self.plans, rows),
                Change::Actuals(rows) => replace_sheets(&mut self.actuals, rows),
                Change::Tables(kind, keys) => self.take_tables(kind, &keys),
                Change::ActualsWithdrawn(keys) => {
                    for (key, provider) in keys {
                        if let Some(rows) = self.actuals.get_mut(&key) {
                            rows.retain(|r| r.provider != provider);
                            if rows.is_empty() {
                                self.actuals.remove(&key);
                            }
                        }
                    }
                }
                Change::PlansWithdrawn(keys) => {
                    // A withdrawn sheet goes with its annex; the provider keeps no annex of its own.
                    for key in keys {
                        self.plans.remove(&key);
                    }
                }
            }
        }
        Ok(report)
    }
}

/// A month's planning: the offices known by name, and each user with the providers they use and the
/// services planned.
/// How many users a month's planning covers.
#[derive(Debug, Clone, Copy)]
enum Users {
    /// The month's first users (all of a prepared case, or 3 generated, when `None`), whoever plans them.
    OfMonth(Option<usize>),
    /// As many as one provider of the export is sent (3 when `None`).
    OfProvider(Option<usize>),
}

impl Users {
    fn count(self) -> Option<usize> {
        match self {
            Users::OfMonth(n) | Users::OfProvider(n) => n,
        }
    }
}

struct Planning {
    offices: Vec<Office>,
    users: Vec<(
        BTreeSet<OfficeNumber>,
        careplan_synth::CareUser,
        Vec<careplan_synth::PlannedService>,
    )>,
    /// The most users one provider is sent.
    per_provider: usize,
}

/// What one imported file changes.
enum Change {
    /// Sheets of plans (a provider's own rows), replacing earlier ones of the same user and month.
    Plans(Vec<(PlanKey, ServiceUsageRecord)>),
    /// Sheets of actuals, replacing earlier ones.
    Actuals(Vec<(PlanKey, ServiceUsageRecord)>),
    /// Plans withdrawn (DLTPLAN).
    PlansWithdrawn(Vec<PlanKey>),
    /// A provider's actuals withdrawn (DLTJSK).
    ActualsWithdrawn(Vec<(PlanKey, OfficeNumber)>),
    /// Records of a plan table (or its deletion), by user and plan date.
    Tables(FileKind, Vec<(UserKey, String)>),
}

impl SyntheticSoftware {
    /// Takes the records of an imported plan table: table 1 starts a user's plan of its date (a later
    /// plan replaces the earlier one), tables 2 and 3 give its line and row counts, and a table 1
    /// deletion removes the plan with its tables 2 and 3 (spec §6.3).
    fn take_tables(&mut self, kind: FileKind, keys: &[(UserKey, String)]) {
        let mut counts: BTreeMap<&(UserKey, String), usize> = BTreeMap::new();
        keys.iter().for_each(|key| *counts.entry(key).or_default() += 1);
        for ((user, plan_date), count) in counts {
            let fresh = || HeldTables {
                insurer: user.insurer.to_string(),
                insured: user.insured.to_string(),
                plan_date: plan_date.clone(),
                lines: 0,
                schedule: 0,
            };
            let held = self.tables.entry(user.clone()).or_insert_with(fresh);
            match kind {
                // A plan of another date replaces the one held; the same date keeps the counts its
                // tables 2 and 3 (which may come first in a send unit) gave.
                FileKind::PlanTable1 if held.plan_date != *plan_date => *held = fresh(),
                FileKind::PlanTable1Deletion if held.plan_date == *plan_date => {
                    self.tables.remove(user);
                }
                FileKind::PlanTable2 | FileKind::PlanTable3 if held.plan_date <= *plan_date => {
                    if held.plan_date < *plan_date {
                        *held = fresh();
                    }
                    if kind == FileKind::PlanTable2 {
                        held.lines = count;
                    } else {
                        held.schedule = count;
                    }
                }
                _ => {}
            }
        }
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
    const NOW: time::OffsetDateTime = time::macros::datetime!(2025-05-01 09:00 +9);

    use time::Duration;
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
    fn a_plan_re_sent_before_the_first_was_imported_replaces_it_in_the_same_import() {
        let cm_profile = profile(
            "1310000001",
            ServiceKind::CARE_MANAGEMENT,
            OfficeRole::CareManagement,
        );
        let hh_profile = profile("1310000002", ServiceKind::HOME_HELP, OfficeRole::Service);
        let mut cm = SyntheticSoftware::new(cm_profile.clone(), 42);
        let now = datetime!(2025-04-25 10:30 +9);
        let month: CareMonth = "202505".parse().unwrap();
        let first = cm.export_plan(now, month, &hh_profile, Some(3)).unwrap();
        let again = cm
            .export_plan(now + Duration::hours(1), month, &hh_profile, Some(3))
            .unwrap();
        let actuals_after = |units: &[&SendUnit]| {
            let mut hh = SyntheticSoftware::new(hh_profile.clone(), 42);
            let files: Vec<(&str, &[u8])> = units.iter().flat_map(|u| u.inputs()).collect();
            hh.import(NOW, &files).unwrap();
            let actuals = hh
                .export_actuals(now + Duration::days(40), month, &cm_profile)
                .unwrap();
            actuals.files[0].content.clone()
        };
        assert_eq!(actuals_after(&[&first, &again]), actuals_after(&[&again]));
    }

    #[test]
    fn a_month_is_planned_once_and_every_provider_gets_its_users_whole_sheets() {
        let cm_profile = profile(
            "1310000001",
            ServiceKind::CARE_MANAGEMENT,
            OfficeRole::CareManagement,
        );
        let hh = profile("1310000002", ServiceKind::HOME_HELP, OfficeRole::Service);
        let dc = profile("1310000003", ServiceKind::DAY_CARE, OfficeRole::Service);
        let now = datetime!(2025-04-25 10:30 +9);
        let month: CareMonth = "202505".parse().unwrap();
        // Each user's 第6表 rows as sent, by user.
        let sheets = |unit: &SendUnit| -> BTreeMap<UserKey, Vec<String>> {
            let text = ms932::decode(&unit.files[0].content).unwrap();
            let RecordSet::Usage(rows) = RecordSet::read(FileKind::UsagePlan, &text).unwrap() else {
                panic!("usage rows");
            };
            let mut by_user: BTreeMap<UserKey, Vec<String>> = BTreeMap::new();
            for row in rows {
                by_user
                    .entry(row.user.clone())
                    .or_default()
                    .push(format!("{:?}", row.to_fields()));
            }
            by_user
        };
        let mut users_of_both = 0;
        for seed in 1..=10 {
            let mut cm =
                SyntheticSoftware::new(cm_profile.clone(), seed).with_partners(vec![hh.clone(), dc.clone()]);
            let to_hh = sheets(&cm.export_plan(now, month, &hh, Some(3)).unwrap());
            let to_dc = sheets(&cm.export_plan(now, month, &dc, Some(3)).unwrap());
            assert_eq!((to_hh.len(), to_dc.len()), (3, 3));
            // A user of both providers has the same sheet at both, naming both providers.
            for user in to_hh.keys().filter(|u| to_dc.contains_key(*u)) {
                users_of_both += 1;
                assert_eq!(to_hh[user], to_dc[user], "seed {seed}, {user:?}");
                let rows = to_hh[user].join("\n");
                assert!(
                    rows.contains("1310000002") && rows.contains("1310000003"),
                    "{rows}"
                );
            }
            // The care manager's own record holds every user sent, once.
            let held: BTreeSet<String> = cm
                .dump(NOW)
                .unwrap()
                .plans
                .iter()
                .map(|v| format!("{}{}", v.insurer, v.insured))
                .collect();
            let sent: BTreeSet<&UserKey> = to_hh.keys().chain(to_dc.keys()).collect();
            assert_eq!(held.len(), sent.len(), "seed {seed}");
        }
        assert!(users_of_both > 0, "no user was planned with both providers");
    }

    #[test]
    fn a_plan_deletion_removes_the_month_in_the_relay_s_order() {
        let cm_profile = profile(
            "1310000001",
            ServiceKind::CARE_MANAGEMENT,
            OfficeRole::CareManagement,
        );
        let hh_profile = profile("1310000002", ServiceKind::HOME_HELP, OfficeRole::Service);
        let mut cm = SyntheticSoftware::new(cm_profile.clone(), 7);
        let now = datetime!(2025-04-25 10:30 +9);
        let (may, june): (CareMonth, CareMonth) = ("202505".parse().unwrap(), "202506".parse().unwrap());
        let plan_may = cm.export_plan(now, may, &hh_profile, Some(3)).unwrap();
        let plan_june = cm.export_plan(now, june, &hh_profile, Some(3)).unwrap();
        let deletion = cm
            .export_deletion(now + Duration::hours(1), Withdrawn::Plans, may, &hh_profile)
            .unwrap();
        assert!(
            deletion.files[0]
                .name
                .starts_with("DLTPLAN_202505_1310000001_43_1310000002_11_")
        );
        // The care manager no longer plans May with the provider; a second withdrawal has nothing to say.
        assert!(cm.dump(NOW).unwrap().plans.iter().all(|v| v.month != "202505"));
        assert_eq!(
            cm.export_deletion(now, Withdrawn::Plans, may, &hh_profile)
                .unwrap_err()
                .code(),
            ErrorCode::NothingToSend
        );
        let held_months = |units: &[&SendUnit]| {
            let mut hh = SyntheticSoftware::new(hh_profile.clone(), 7);
            let files: Vec<(&str, &[u8])> = units.iter().flat_map(|u| u.inputs()).collect();
            let report = hh.import(NOW, &files).unwrap();
            let months: BTreeSet<String> = hh.dump(NOW).unwrap().plans.into_iter().map(|v| v.month).collect();
            (report.records, months)
        };
        let (records, months) = held_months(&[&plan_may, &plan_june, &deletion]);
        assert_eq!(months, BTreeSet::from(["202506".to_owned()]));
        assert!(records > 3);
        // Re-sent after the deletion, May's plan is held again.
        let (_, months) = held_months(&[&plan_may, &deletion, &plan_may]);
        assert_eq!(months, BTreeSet::from(["202505".to_owned()]));

        // The provider's actuals of June, withdrawn: the care manager keeps none of them.
        let mut hh = SyntheticSoftware::new(hh_profile.clone(), 7);
        hh.import(NOW, &plan_june.inputs()).unwrap();
        let actuals = hh
            .export_actuals(now + Duration::days(40), june, &cm_profile)
            .unwrap();
        cm.import(NOW, &actuals.inputs()).unwrap();
        assert!(!cm.users_with_actuals(june).is_empty());
        let withdrawal = hh
            .export_deletion(now + Duration::days(41), Withdrawn::Actuals, june, &cm_profile)
            .unwrap();
        assert!(
            withdrawal.files[0]
                .name
                .starts_with("DLTJSK_202506_1310000002_11_1310000001_43_")
        );
        cm.import(NOW, &withdrawal.inputs()).unwrap();
        assert!(cm.users_with_actuals(june).is_empty());

        // The care plans, withdrawn by a DLT1KYO of their date (a name without a month).
        let tables = cm.export_plan_tables(now, june, &hh_profile, Some(3)).unwrap();
        hh.import(NOW, &tables.inputs()).unwrap();
        assert_eq!(hh.dump(NOW).unwrap().tables.len(), 3);
        let withdrawal = cm
            .export_deletion(now, Withdrawn::CarePlans, june, &hh_profile)
            .unwrap();
        assert!(
            withdrawal.files[0]
                .name
                .starts_with("DLT1KYO_1310000001_43_1310000002_11_")
        );
        hh.import(NOW, &withdrawal.inputs()).unwrap();
        assert!(hh.dump(NOW).unwrap().tables.is_empty());
        assert!(cm.dump(NOW).unwrap().tables.is_empty());
    }

    #[test]
    fn plans_and_actuals_round_trip_between_two_softwares() {
        let cm_profile = profile(
            "1310000001",
            ServiceKind::CARE_MANAGEMENT,
            OfficeRole::CareManagement,
        );
        let hh_profile = profile("1310000002", ServiceKind::HOME_HELP, OfficeRole::Service);
        let mut cm = SyntheticSoftware::new(cm_profile.clone(), 42);
        let mut hh = SyntheticSoftware::new(hh_profile.clone(), 42);
        let now = datetime!(2025-04-25 10:30 +9);
        let month: CareMonth = "202505".parse().unwrap();

        let plan = cm.export_plan(now, month, &hh_profile, Some(3)).unwrap();
        let names: Vec<&str> = plan.files.iter().map(|f| &*f.name).collect();
        assert_eq!(
            names,
            [
                "UPPLAN_202505_1310000001_43_1310000002_11_20250425103000.CSV",
                "UPSIKYU_202505_1310000001_43_1310000002_11_20250425103000.CSV",
                "UPHOSOKU_202505_1310000001_43_1310000002_11_20250425103000.CSV",
            ]
        );
        let received = plan.inputs();
        let report = hh.import(NOW, &received).unwrap();
        assert_eq!((report.files, report.users.len()), (3, 3));

        let actuals = hh
            .export_actuals(now + Duration::days(40), month, &cm_profile)
            .unwrap();
        assert_eq!(
            &*actuals.files[0].name,
            "UPJSK_202505_1310000002_11_1310000001_43_20250604103000.CSV"
        );
        let received = actuals.inputs();
        let report = cm.import(NOW, &received).unwrap();
        assert_eq!(report.users, cm.users_with_actuals(month));
        assert_eq!(report.users.len(), 3);
    }

    #[test]
    fn a_prepared_case_of_the_generated_plans_exports_the_same_bytes() {
        use careplan_synth::{Office, PlanContext, Roster, plan_services, providers_of};

        let cm_profile = crate::generated_care_manager().unwrap();
        let providers = crate::generated_providers(5);
        let now = datetime!(2028-01-25 10:30 +9);
        let month: CareMonth = "202802".parse().unwrap();
        for seed in 0..5 {
            let offices: Vec<Office> = providers.iter().map(OfficeProfile::as_generated).collect();
            let context = PlanContext {
                seed,
                month,
                created_on: now.date(),
                care_office: cm_profile.number,
                planner_name: "",
            };
            let users = Roster::generate(seed, cm_profile.number, 6)
                .users()
                .iter()
                .enumerate()
                .map(|(index, user)| crate::PreparedUser {
                    user: user.clone(),
                    services: plan_services(&context, user, &providers_of(seed, index, user, &offices)),
                })
                .collect();
            let prepared = PreparedMonth {
                month,
                providers: offices.clone(),
                users,
            };
            // Through the contract's JSON, as a product would receive it.
            let json = serde_json::to_string(&crate::Case::of(&prepared)).unwrap();
            let case: crate::Case = serde_json::from_str(&json).unwrap();
            assert_eq!(crate::Case::of(&case.parse().unwrap()), case);

            let mut generated = SyntheticSoftware::new(cm_profile.clone(), seed);
            let mut loaded = SyntheticSoftware::new(cm_profile.clone(), seed);
            loaded.prepare(now, &case.parse().unwrap()).unwrap();
            let expected = generated.export_plans(now, month, &providers, Some(6)).unwrap();
            let actual = loaded.export_plans(now, month, &providers, None).unwrap();
            assert_eq!(actual.len(), providers.len());
            assert_eq!(actual, expected, "seed {seed}");
        }
    }

    /// A care manager planning a month with one provider of every kind, each reporting actuals with
    /// deviations: every file of every send unit, for `seed`.
    fn month_of_send_units(seed: u64) -> Vec<SendUnit> {
        let care_manager = crate::generated_care_manager().unwrap();
        let providers = crate::generated_providers(5);
        let now = datetime!(2025-04-25 10:30 +9);
        let send_units = crate::MonthExchange {
            care_manager: &care_manager,
            providers: &providers,
            month: "202505".parse().unwrap(),
            users: 8,
            seed,
            deviations: Deviations {
                cancelled_percent: 10,
                changed_time_percent: 10,
                extra_visit_percent: 20,
            },
            plans_at: now,
            actuals_at: now + Duration::days(40),
        }
        .run()
        .unwrap();
        assert_eq!(
            send_units.len(),
            2 * providers.len(),
            "every provider has users and actuals"
        );
        send_units
    }

    #[test]
    fn every_exported_file_validates_without_findings() {
        use careplan_spec::validate::{Options, validate_files};
        for seed in 0..20 {
            let send_units = month_of_send_units(seed);
            // All send units together: each file, each unit's combination and its parent records.
            let all: Vec<(&str, &[u8])> = send_units.iter().flat_map(SendUnit::inputs).collect();
            for ((name, _), report) in all.iter().zip(validate_files(
                &all,
                Options {
                    strict: true,
                    ..Options::default()
                },
            )) {
                assert_eq!(report.diagnostics, [], "seed {seed}: {name}");
                assert!(report.records > 0 && !report.users.is_empty());
            }
        }
    }

    #[test]
    fn care_plans_and_prevention_files_validate_strictly_and_a_provider_holds_what_was_sent() {
        use careplan_spec::validate::{Options, validate_files};
        let care_manager = crate::generated_care_manager().unwrap();
        let providers = crate::generated_providers(5);
        let now = datetime!(2025-04-25 10:30 +9);
        let month: CareMonth = "202505".parse().unwrap();
        for seed in 0..10 {
            let mut cm = SyntheticSoftware::new(care_manager.clone(), seed);
            for provider in &providers {
                let unit = cm.export_plan_tables(now, month, provider, Some(5)).unwrap();
                let kinds: Vec<FileKind> = unit
                    .files
                    .iter()
                    .map(|f| f.name.parse::<FileName>().unwrap().kind)
                    .collect();
                assert_eq!(
                    kinds,
                    [
                        FileKind::PlanTable1,
                        FileKind::PlanTable2,
                        FileKind::PlanTable3,
                        FileKind::UserSupplement
                    ]
                );
                for ((name, _), report) in unit.inputs().iter().zip(validate_files(
                    &unit.inputs(),
                    Options {
                        strict: true,
                        ..Options::default()
                    },
                )) {
                    assert_eq!(report.diagnostics, [], "seed {seed}: {name}");
                }
                let mut provider_software = SyntheticSoftware::new(provider.clone(), seed);
                let report = provider_software.import(NOW, &unit.inputs()).unwrap();
                assert_eq!(report.files, 4);
                // The 介護予防 files of the same users: valid, strict, and imported whole.
                let prevention = cm.export_prevention(now, month, provider, Some(5)).unwrap();
                for ((name, _), report) in prevention.inputs().iter().zip(validate_files(
                    &prevention.inputs(),
                    Options {
                        strict: true,
                        ..Options::default()
                    },
                )) {
                    assert_eq!(report.diagnostics, [], "seed {seed}: {name}");
                }
                let records: usize = prevention
                    .inputs()
                    .iter()
                    .map(|(_, bytes)| bytes.windows(2).filter(|w| w == b"\r\n").count())
                    .sum();
                let imported = provider_software.import(NOW, &prevention.inputs()).unwrap();
                assert_eq!((imported.files, imported.records), (5, records));
                let held = provider_software.dump(NOW).unwrap().tables;
                let sent: Vec<HeldTables> = cm
                    .dump(NOW)
                    .unwrap()
                    .tables
                    .into_iter()
                    .filter(|t| held.iter().any(|h| h.insured == t.insured))
                    .collect();
                assert!(!held.is_empty() && held.iter().all(|t| t.lines > 0 && t.schedule > 0));
                assert_eq!(held, sent, "seed {seed}");
            }
        }
    }

    /// The published dump schema names exactly the fields a dump holds, each level of it.
    #[test]
    fn the_published_dump_schema_names_the_fields_of_a_dump() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/schemas/dump.v1.json")).unwrap();
        let cm = crate::generated_care_manager().unwrap();
        let provider = &crate::generated_providers(1)[0];
        let mut software = SyntheticSoftware::new(cm, 1);
        let month: CareMonth = "202505".parse().unwrap();
        software.export_plan(NOW, month, provider, Some(1)).unwrap();
        software
            .export_plan_tables(NOW, month, provider, Some(1))
            .unwrap();
        let dump = serde_json::to_value(software.dump(NOW).unwrap()).unwrap();
        let keys = |value: &serde_json::Value| -> Vec<String> {
            let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(&schema["properties"]), ["actuals", "plans", "tables"]);
        assert_eq!(
            keys(&dump["plans"][0]),
            keys(&schema["$defs"]["visit"]["properties"])
        );
        assert_eq!(
            keys(&dump["tables"][0]),
            keys(&schema["$defs"]["tables"]["properties"])
        );
    }

    #[test]
    fn exported_files_read_and_written_back_are_byte_identical() {
        for seed in 0..10 {
            for (name, bytes) in month_of_send_units(seed).iter().flat_map(SendUnit::inputs) {
                let kind = name.parse::<FileName>().unwrap().kind;
                let text = ms932::decode(bytes).unwrap();
                let records = RecordSet::read(kind, &text).unwrap();
                assert_eq!(
                    ms932::encode(&records.write()).unwrap(),
                    bytes,
                    "seed {seed}: {name}"
                );
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
        let mut cm = SyntheticSoftware::new(cm_profile.clone(), 1);
        let mut other_cm = SyntheticSoftware::new(
            profile(
                "1310000003",
                ServiceKind::CARE_MANAGEMENT,
                OfficeRole::CareManagement,
            ),
            1,
        );
        let mut hh = SyntheticSoftware::new(hh_profile.clone(), 1);
        let now = datetime!(2025-04-25 10:30 +9);
        let month: CareMonth = "202505".parse().unwrap();
        let plan = other_cm.export_plan(now, month, &hh_profile, Some(2)).unwrap();
        let files = plan.inputs();
        hh.import(NOW, &files).unwrap();
        // Actuals of users the care manager never planned for are refused, and nothing is stored.
        let actuals = hh.export_actuals(now, month, other_cm.profile()).unwrap();
        let renamed = actuals.files[0].name.replace("1310000003", "1310000001");
        let mut content = actuals.files[0].content.to_vec();
        let err = cm.import(NOW, &[(&renamed, &content)]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ActualUserUnknown);
        assert!(cm.users_with_actuals(month).is_empty());

        content.extend_from_slice(&[0x81, 0x20]);
        assert_eq!(
            cm.import(NOW, &[(&renamed, &content)]).unwrap_err().code(),
            ErrorCode::EncodingInvalid
        );
        assert_eq!(
            cm.import(NOW, &plan.inputs()[..1]).unwrap_err().code(),
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
