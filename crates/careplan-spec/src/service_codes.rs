//! The national service-code table (介護給付費単位数等サービスコード表), in the CSV form a user prepares from the
//! published table (`docs/service-codes.md`): which service codes exist in which service months, with their
//! units and whether they count against the 区分支給限度.
//!
//! The files do not carry the table, so the validator checks codes against it only when one is given
//! (`validate --service-codes FILE`).
//!
//! The form: a header row naming the columns (in any order; other columns are ignored, so a copy of the
//! published table with extra columns reads as is), then one row per code and validity period.
//!
//! | column | required | value |
//! |---|---|---|
//! | `service_code` | yes | 6 characters `[0-9A-Z]`: サービス種類コード + サービス項目コード |
//! | `valid_from` | yes | `YYYYMM`: the first service month the row applies to (適用開始年月) |
//! | `valid_to` | no | `YYYYMM`: the last service month (適用終了年月); empty while in force |
//! | `units` | no | the units (単位数) per occurrence; empty for codes given as a rate (率加減算) |
//! | `within_limit` | no | `1` when the code counts against the 区分支給限度 (支給限度額管理対象), `0` when not |
//! | `name` | no | サービス名称 |
//!
//! Text is UTF-8 (a BOM is skipped) or, failing that, Shift_JIS (MS932) as a spreadsheet saves it.

use std::collections::HashMap;

use careplan_core::CareMonth;

use crate::csv_text::{Reader, Record};
use crate::ms932;

/// One row of the table: a code in a validity period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCodeEntry {
    /// 適用開始年月.
    pub valid_from: CareMonth,
    /// 適用終了年月; `None` while in force.
    pub valid_to: Option<CareMonth>,
    /// 単位数 per occurrence; `None` for a rate (率加減算).
    pub units: Option<u32>,
    /// Whether the code counts against the 区分支給限度; `None` when the table does not say.
    pub within_limit: Option<bool>,
    /// サービス名称.
    pub name: String,
    /// The row's line in the table, for messages.
    pub line: u64,
}

impl ServiceCodeEntry {
    fn covers(&self, month: CareMonth) -> bool {
        self.valid_from <= month && self.valid_to.is_none_or(|to| month <= to)
    }

    fn period(&self) -> String {
        match self.valid_to {
            Some(to) => format!("{}–{to}", self.valid_from),
            None => format!("from {}", self.valid_from),
        }
    }
}

/// What the table says of a code in a service month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'t> {
    /// The code applies in the month.
    Found(&'t ServiceCodeEntry),
    /// The code exists, but not in the month: its periods, for the message.
    OutsidePeriods(&'t [ServiceCodeEntry]),
    /// The table has no such code.
    Unknown,
}

/// Why a service-code table could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceCodesError {
    /// The text is neither UTF-8 nor Shift_JIS.
    #[error("the table is neither UTF-8 nor Shift_JIS (MS932): {0}")]
    Encoding(String),
    /// The CSV structure is broken.
    #[error("line {line}: {reason}")]
    Csv {
        /// 1-based line.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// The header row lacks a required column.
    #[error(
        "line 1: the header row has no `{0}` column (columns: service_code, valid_from, valid_to, units, within_limit, name)"
    )]
    MissingColumn(&'static str),
    /// A value is invalid.
    #[error("line {line}, column {column}: `{value}` {expected}")]
    Value {
        /// 1-based line.
        line: u64,
        /// The column's name.
        column: &'static str,
        /// The value found.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// Two rows of one code apply in a common month.
    #[error("line {line}: {code} applies {period}, overlapping its row on line {earlier}")]
    Overlap {
        /// 1-based line of the later row.
        line: u64,
        /// The code.
        code: String,
        /// The later row's period.
        period: String,
        /// 1-based line of the earlier row.
        earlier: u64,
    },
    /// The table has no row.
    #[error("the table has no row after its header")]
    Empty,
}

/// The service-code table, by code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceCodes {
    by_code: HashMap<String, Vec<ServiceCodeEntry>>,
}

const COLUMNS: [&str; 6] = [
    "service_code",
    "valid_from",
    "valid_to",
    "units",
    "within_limit",
    "name",
];

impl ServiceCodes {
    /// Reads a table from its file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ServiceCodesError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::parse(text),
            Err(_) => {
                let text = ms932::decode(bytes).map_err(|e| ServiceCodesError::Encoding(e.to_string()))?;
                Self::parse(&text)
            }
        }
    }

    /// Reads a table from its text (a byte-order mark is skipped).
    pub fn parse(text: &str) -> Result<Self, ServiceCodesError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let csv = |e: crate::csv_text::CsvError| ServiceCodesError::Csv {
            line: e.line,
            reason: e.reason,
        };
        let mut reader = Reader::new(text);
        let mut record = Record::default();
        if !reader.read_into(&mut record).map_err(csv)? {
            return Err(ServiceCodesError::Empty);
        }
        // Where each known column is, by the header's names.
        let header = record.values();
        let at: [Option<usize>; 6] = COLUMNS.map(|name| header.iter().position(|h| h.trim() == name));
        for required in [0, 1] {
            if at[required].is_none() {
                return Err(ServiceCodesError::MissingColumn(COLUMNS[required]));
            }
        }
        let mut table = ServiceCodes::default();
        while reader.read_into(&mut record).map_err(csv)? {
            let line = record.line;
            let values = record.values();
            if values.iter().all(|v| v.trim().is_empty()) {
                continue;
            }
            let value = |column: usize| at[column].and_then(|i| values.get(i)).map_or("", |v| v.trim());
            let bad = |column: usize, expected| ServiceCodesError::Value {
                line,
                column: COLUMNS[column],
                value: value(column).to_owned(),
                expected,
            };
            let code = value(0);
            if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) {
                return Err(bad(0, "must be 6 characters from 0-9A-Z"));
            }
            let month = |column: usize| {
                value(column)
                    .parse::<CareMonth>()
                    .map_err(|_| bad(column, "must be YYYYMM"))
            };
            let valid_from = month(1)?;
            let valid_to = match value(2) {
                "" => None,
                _ => Some(month(2)?),
            };
            if valid_to.is_some_and(|to| to < valid_from) {
                return Err(bad(2, "is before valid_from"));
            }
            let units = match value(3) {
                "" => None,
                v => Some(v.parse().map_err(|_| bad(3, "must be an integer or empty"))?),
            };
            let within_limit = match value(4) {
                "" => None,
                "1" => Some(true),
                "0" => Some(false),
                _ => return Err(bad(4, "must be 1, 0 or empty")),
            };
            let entry = ServiceCodeEntry {
                valid_from,
                valid_to,
                units,
                within_limit,
                name: value(5).to_owned(),
                line,
            };
            let entries = table.by_code.entry(code.to_owned()).or_default();
            let overlaps = |other: &ServiceCodeEntry| {
                other.valid_to.is_none_or(|to| entry.valid_from <= to)
                    && entry.valid_to.is_none_or(|to| other.valid_from <= to)
            };
            if let Some(other) = entries.iter().find(|other| overlaps(other)) {
                return Err(ServiceCodesError::Overlap {
                    line,
                    code: code.to_owned(),
                    period: entry.period(),
                    earlier: other.line,
                });
            }
            entries.push(entry);
        }
        if table.by_code.is_empty() {
            return Err(ServiceCodesError::Empty);
        }
        Ok(table)
    }

    /// What the table says of `code` in service month `month`.
    pub fn lookup(&self, code: &str, month: CareMonth) -> Lookup<'_> {
        match self.by_code.get(code) {
            None => Lookup::Unknown,
            Some(entries) => entries
                .iter()
                .find(|e| e.covers(month))
                .map_or(Lookup::OutsidePeriods(entries), Lookup::Found),
        }
    }

    /// The number of codes.
    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    /// Whether the table has no code.
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
}

/// The periods of a code, for a message: `202404–202505, from 202506`.
pub(crate) fn periods(entries: &[ServiceCodeEntry]) -> String {
    entries
        .iter()
        .map(ServiceCodeEntry::period)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TABLE: &str = "\
service_code,name,valid_from,valid_to,units,within_limit,extra
111111,身体介護１,202404,202505,244,1,x
111111,身体介護１,202506,,250,1,
116275,処遇改善加算,202404,,,0,
\"171001\",\"車いす貸与, 標準\",202404,,,1,
";

    fn month(s: &str) -> CareMonth {
        s.parse().unwrap()
    }

    #[test]
    fn reads_columns_by_their_header_names_and_finds_a_code_by_month() {
        let table = ServiceCodes::parse(TABLE).unwrap();
        assert_eq!(table.len(), 3);
        let Lookup::Found(entry) = table.lookup("111111", month("202505")) else {
            panic!("not found");
        };
        assert_eq!((entry.units, entry.within_limit), (Some(244), Some(true)));
        let Lookup::Found(entry) = table.lookup("111111", month("203001")) else {
            panic!("not found");
        };
        assert_eq!(entry.units, Some(250));
        assert!(
            matches!(table.lookup("111111", month("202403")), Lookup::OutsidePeriods(e) if periods(e) == "202404–202505, from 202506")
        );
        assert_eq!(table.lookup("999999", month("202505")), Lookup::Unknown);
        let Lookup::Found(rental) = table.lookup("171001", month("202505")) else {
            panic!("not found");
        };
        assert_eq!((rental.name.as_str(), rental.units), ("車いす貸与, 標準", None));
    }

    #[test]
    fn shift_jis_and_a_bom_are_read() {
        let sjis = ms932::encode(TABLE).unwrap();
        assert_eq!(ServiceCodes::from_bytes(&sjis), ServiceCodes::parse(TABLE));
        let bom = [b"\xEF\xBB\xBF".as_slice(), TABLE.as_bytes()].concat();
        assert_eq!(ServiceCodes::from_bytes(&bom), ServiceCodes::parse(TABLE));
        assert_eq!(
            ServiceCodes::parse(&format!("\u{feff}{TABLE}")),
            ServiceCodes::parse(TABLE)
        );
    }

    #[test]
    fn bad_tables_name_the_line_and_column() {
        let cases = [
            (
                "code,valid_from\n111111,202404\n",
                "line 1: the header row has no `service_code` column",
            ),
            (
                "service_code,valid_from\n11111,202404\n",
                "line 2, column service_code: `11111` must be 6 characters",
            ),
            (
                "service_code,valid_from\n111111,2024-4\n",
                "line 2, column valid_from: `2024-4` must be YYYYMM",
            ),
            (
                "service_code,valid_from,valid_to\n111111,202404,202403\n",
                "line 2, column valid_to: `202403` is before valid_from",
            ),
            (
                "service_code,valid_from,units\n111111,202404,1.5\n",
                "line 2, column units: `1.5` must be an integer",
            ),
            (
                "service_code,valid_from,within_limit\n111111,202404,Y\n",
                "line 2, column within_limit: `Y` must be 1, 0",
            ),
            (
                "service_code,valid_from,valid_to\n111111,202404,202506\n111111,202506,\n",
                "line 3: 111111 applies from 202506, overlapping its row on line 2",
            ),
            ("service_code,valid_from\n", "the table has no row"),
            ("service_code,valid_from\n\"111111,202404\n", "line 2:"),
        ];
        for (text, expected) in cases {
            let error = ServiceCodes::parse(text).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{text:?}: {error}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = ServiceCodes::from_bytes(&bytes);
        }

        #[test]
        fn never_panics_on_mutated_tables(cut in 0usize..200, insert in "[,\"\r\n0-9A-Z]{0,6}") {
            let mut text = TABLE.to_owned();
            let at = (0..=cut.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            text.insert_str(at, &insert);
            let _ = ServiceCodes::parse(&text);
        }
    }
}
