//! CSV text as the standard writes it: comma-separated, CRLF-terminated, no header row; free-text fields
//! (フリーテキスト) always in double quotes with `""` escaping, all other fields bare.

use careplan_core::ErrorCode;

/// One field of a record to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A code, number or date: written bare. Must not contain `"`, `,` or a line break.
    Code(String),
    /// Free text (フリーテキスト): quoted unless empty; commas and line breaks are kept.
    Text(String),
    /// An empty (Null) field.
    Empty,
}

impl Field {
    /// A code field from anything printable.
    pub fn code(value: impl ToString) -> Self {
        Field::Code(value.to_string())
    }

    /// A free-text field.
    pub fn text(value: impl Into<String>) -> Self {
        Field::Text(value.into())
    }

    /// A code field, or an empty one for `None`.
    pub fn opt_code(value: Option<impl ToString>) -> Self {
        value.map_or(Field::Empty, Field::code)
    }
}

/// Appends one record, terminated by CRLF, to `out`.
pub fn write_record(out: &mut String, fields: &[Field]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match field {
            Field::Code(value) => {
                debug_assert!(
                    !value.contains(['"', ',', '\r', '\n']),
                    "code field {value:?} needs quoting"
                );
                out.push_str(value);
            }
            // An empty value is Null, written bare like any other empty field.
            Field::Text(value) if value.is_empty() => {}
            Field::Text(value) => {
                out.push('"');
                out.push_str(&value.replace('"', "\"\""));
                out.push('"');
            }
            Field::Empty => {}
        }
    }
    out.push_str("\r\n");
}

/// Why CSV text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct CsvError {
    /// 1-based line where the problem starts.
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

impl CsvError {
    /// The stable code of this refusal.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::CsvMalformed
    }
}

/// One parsed record with the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based line of the record's first character.
    pub line: u64,
    /// The unquoted field values, in one buffer (no allocation per field).
    values: csv::StringRecord,
    /// Bit `i` is set when field `i` was written in double quotes (layouts have at most 71 fields).
    quoted: u128,
}

impl Record {
    /// The unquoted field values.
    pub fn fields(&self) -> Vec<&str> {
        self.values.iter().collect()
    }

    /// Field `index` (0-based), or `""` past the end.
    pub fn field(&self, index: usize) -> &str {
        self.values.get(index).unwrap_or("")
    }

    /// Whether field `index` (0-based) was written in double quotes; `false` past the 128th field.
    pub fn is_quoted(&self, index: usize) -> bool {
        index < 128 && self.quoted & (1 << index) != 0
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the record has no field.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Parses CSV text (quote-aware, CRLF or LF) into records.
pub fn read_records(text: &str) -> Result<Vec<Record>, CsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // The csv crate counts records rather than physical lines once a quoted field holds a line break, and
    // its record offset may point at the `\n` of a CRLF; lines are counted from the first byte after any
    // terminator instead.
    let bytes = text.as_bytes();
    let start_of = |position: Option<&csv::Position>| {
        let mut offset = position
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
            .min(bytes.len());
        while matches!(bytes.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        offset
    };
    // Records come in order, so lines are counted incrementally: linear in the file's size.
    let (mut counted_to, mut line) = (0usize, 1u64);
    let mut line_at = |offset: usize| {
        if offset >= counted_to {
            line += bytes[counted_to..offset].iter().filter(|&&b| b == b'\n').count() as u64;
            counted_to = offset;
            line
        } else {
            1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64
        }
    };
    let mut records = Vec::new();
    for result in reader.records() {
        let record = match result {
            Ok(record) => record,
            Err(e) => {
                return Err(CsvError {
                    line: line_at(start_of(e.position())),
                    reason: e.to_string(),
                });
            }
        };
        let start = start_of(record.position());
        records.push(Record {
            line: line_at(start),
            quoted: quoted_fields(bytes, start, record.len()),
            values: record,
        });
    }
    // The csv crate accepts a quote that never closes by running to the end of input; the standard does not.
    if text.bytes().filter(|&b| b == b'"').count() % 2 == 1 {
        let line = records.last().map_or(1, |r| r.line);
        return Err(CsvError {
            line,
            reason: "a quoted field is never closed".to_owned(),
        });
    }
    Ok(records)
}

/// Which of the `count` fields of the record starting at `start` open with a double quote, as a bit mask
/// (fields past the 128th are not tracked).
fn quoted_fields(bytes: &[u8], start: usize, count: usize) -> u128 {
    let mut mask = 0u128;
    let mut i = start;
    for field in 0..count {
        if bytes.get(i) == Some(&b'"') {
            if field < 128 {
                mask |= 1 << field;
            }
            i += 1;
            while let Some(&b) = bytes.get(i) {
                i += 1;
                if b == b'"' {
                    if bytes.get(i) == Some(&b'"') {
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
        }
        // On to the next field: past the comma, or stop at the end of the record.
        loop {
            match bytes.get(i) {
                Some(b',') => {
                    i += 1;
                    break;
                }
                Some(b'\r' | b'\n') | None => return mask,
                Some(_) => i += 1,
            }
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_is_quoted_and_survives_commas_quotes_and_newlines() {
        let mut out = String::new();
        write_record(
            &mut out,
            &[Field::code("202407"), Field::text("a,\"b\"\r\nc"), Field::Empty],
        );
        write_record(&mut out, &[Field::code(1), Field::Empty, Field::Empty]);
        assert_eq!(out, "202407,\"a,\"\"b\"\"\r\nc\",\r\n1,,\r\n");
        let records = read_records(&out).unwrap();
        assert_eq!(records[0].fields(), ["202407", "a,\"b\"\r\nc", ""]);
        assert_eq!(
            (0..3).map(|i| records[0].is_quoted(i)).collect::<Vec<_>>(),
            [false, true, false]
        );
        assert!((0..3).all(|i| !records[1].is_quoted(i)));
        assert_eq!(records[1].line, 3);
        assert_eq!(records[1].fields(), ["1", "", ""]);
    }

    #[test]
    fn an_unclosed_quote_is_an_error() {
        let err = read_records("202407,\"open\r\n1,2\r\n").unwrap_err();
        assert_eq!(err.code(), ErrorCode::CsvMalformed);
    }

    proptest::proptest! {
        #[test]
        fn written_records_read_back_with_their_quoting(
            rows in proptest::collection::vec(
                proptest::collection::vec((0u8..3, "[a-z0-9,\"\r\n あ]{0,6}"), 2..6),
                1..4,
            )
        ) {
            let mut text = String::new();
            let mut expected = Vec::new();
            for row in &rows {
                let fields: Vec<Field> = row
                    .iter()
                    .map(|(kind, value)| match kind {
                        0 => Field::Text(value.clone()),
                        1 if !value.is_empty() => Field::Code(value.replace(['"', ',', '\r', '\n'], "x")),
                        _ => Field::Empty,
                    })
                    .collect();
                write_record(&mut text, &fields);
                expected.push(fields);
            }
            let records = read_records(&text).unwrap();
            proptest::prop_assert_eq!(records.len(), expected.len());
            for (record, fields) in records.iter().zip(&expected) {
                let quoted: Vec<bool> = fields.iter().map(|f| matches!(f, Field::Text(v) if !v.is_empty())).collect();
                let found: Vec<bool> = (0..record.len()).map(|i| record.is_quoted(i)).collect();
                proptest::prop_assert_eq!(found, quoted);
                let values: Vec<String> = fields
                    .iter()
                    .map(|f| match f {
                        Field::Text(v) | Field::Code(v) => v.clone(),
                        Field::Empty => String::new(),
                    })
                    .collect();
                proptest::prop_assert_eq!(record.fields(), values);
            }
        }
    }
}
