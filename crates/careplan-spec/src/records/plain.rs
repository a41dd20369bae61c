//! Records of the kinds without a typed record here (plan tables 1–3, their deletion, the 予防 files):
//! read against their layout — its field count and the user key — and written back by it.

use super::{CsvVersion, FieldReader, RecordError, UserKey, field_as};
use crate::FileKind;
use crate::csv_text::Field;
use crate::layout::{layout, position};

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
        let (_, r) = FieldReader::open(kind, fields)?;
        Ok(Self {
            kind,
            user: r.user()?,
            values: fields.iter().map(|&f| f.to_owned()).collect(),
        })
    }

    /// The record's fields, free text quoted as its layout says.
    pub fn to_fields(&self) -> Vec<Field> {
        let specs = layout(self.kind, self.version().is_none_or(CsvVersion::is_v4)).unwrap_or_default();
        self.values
            .iter()
            .enumerate()
            .map(|(i, value)| field_as(specs.get(i), value.clone()))
            .collect()
    }

    fn version(&self) -> Option<CsvVersion> {
        self.values.first().and_then(|v| v.parse().ok())
    }

    /// The value of field `number` (1-based, 項目No); empty past the end.
    pub fn value(&self, number: usize) -> &str {
        number
            .checked_sub(1)
            .and_then(|i| self.values.get(i))
            .map_or("", String::as_str)
    }

    /// An error naming the field `name` (項目名) of this record and its value.
    pub fn field_error(&self, name: &str, expected: &'static str) -> RecordError {
        let v4 = self.version().is_none_or(CsvVersion::is_v4);
        let index = position(self.kind, v4, name);
        RecordError::Field {
            number: index.map_or(0, |i| i + 1),
            // The layout's own name, which lives as long as the layouts do.
            name: index
                .and_then(|i| layout(self.kind, v4)?.get(i))
                .map_or("", |spec| spec.name.as_str()),
            value: self.get(name).to_owned(),
            expected,
        }
    }

    /// The value of the field named `name` (項目名) in the record's layout; empty when the layout has none.
    pub fn get(&self, name: &str) -> &str {
        let v4 = self.version().is_none_or(CsvVersion::is_v4);
        position(self.kind, v4, name).map_or("", |i| self.value(i + 1))
    }
}
