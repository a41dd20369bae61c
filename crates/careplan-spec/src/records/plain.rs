//! Records of the kinds without a typed record here (plan tables 1–3, their deletion, the 予防 files):
//! read against their layout — its field count and the user key — and written back by it.

use super::{CsvVersion, FieldReader, RecordError, UserKey, check_count};
use crate::FileKind;
use crate::csv_text::Field;
use crate::layout::{Format, layout};

/// A record read by its layout only: the user and the values of its fields, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutRecord {
    /// The file kind whose layout it follows.
    pub kind: FileKind,
    /// 保険者番号 + 被保険者番号.
    pub user: UserKey,
    /// Every field's value as written (quotes removed), field 1 first.
    pub values: Vec<String>,
}

impl LayoutRecord {
    /// Reads a record of `kind`: the layout of its CSVバージョン gives the field count; the user key must
    /// parse. Other fields are the validator's business.
    pub fn from_fields(kind: FileKind, fields: &[&str]) -> Result<Self, RecordError> {
        let version: CsvVersion =
            FieldReader::new(fields).parse(1, "CSVバージョン", "must be a published CSVバージョン")?;
        let expected = layout(kind, version.is_v4())
            .map(<[_]>::len)
            .ok_or(RecordError::FieldCount {
                expected: 0,
                found: fields.len(),
            })?;
        check_count(fields, expected)?;
        Ok(Self {
            kind,
            user: UserKey::from_fields(fields)?,
            values: fields.iter().map(|&f| f.to_owned()).collect(),
        })
    }

    /// The record's fields, free text quoted as its layout says.
    pub fn to_fields(&self) -> Vec<Field> {
        let version_is_v4 = self
            .values
            .first()
            .and_then(|v| v.parse::<CsvVersion>().ok())
            .is_none_or(|v| v.is_v4());
        let specs = layout(self.kind, version_is_v4).unwrap_or_default();
        self.values
            .iter()
            .enumerate()
            .map(|(i, value)| match specs.get(i).map(|s| &s.format) {
                _ if value.is_empty() => Field::Empty,
                Some(Format::FreeText) => Field::text(value.as_str()),
                _ => Field::code(value),
            })
            .collect()
    }

    /// The value of field `number` (1-based, 項目No); empty past the end.
    pub fn value(&self, number: usize) -> &str {
        number
            .checked_sub(1)
            .and_then(|i| self.values.get(i))
            .map_or("", String::as_str)
    }
}
