//! 第6表 予定削除: `DLTPLAN`, spec §6.7.

use careplan_core::CareMonth;

use super::{CsvVersion, FieldReader, RecordError, RecordWriter, UserKey};
use crate::FileKind;
use crate::csv_text::Field;

/// A plan deletion (第6表 予定削除, `DLTPLAN`): the care manager withdraws a user's service usage sheet
/// of a month from the receiving provider, which deletes the sheet and its annex (第7表) (spec §6.7,
/// §8.1). Four fields, all required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDeletionRecord {
    /// CSVバージョン.
    pub version: CsvVersion,
    /// 保険者番号 + 被保険者番号.
    pub user: UserKey,
    /// 削除対象年月: the service month withdrawn.
    pub month: CareMonth,
}

impl PlanDeletionRecord {
    /// Reads a record, checking every field's format.
    pub fn from_fields(fields: &[&str]) -> Result<Self, RecordError> {
        let (version, r) = FieldReader::open(FileKind::UsagePlanDeletion, fields)?;
        Ok(Self {
            version,
            user: r.user()?,
            month: r.month("削除対象年月")?,
        })
    }

    /// The record's fields.
    pub fn to_fields(&self) -> Vec<Field> {
        RecordWriter::new(FileKind::UsagePlanDeletion, self.version, &self.user)
            .set("削除対象年月", self.month)
            .finish()
    }
}
