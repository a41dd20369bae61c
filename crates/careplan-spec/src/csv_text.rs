//! CSV text as the standard writes it: comma-separated, CRLF-terminated, no header row; free-text fields
//! (フリーテキスト) always in double quotes with `""` escaping, all other fields bare.

use careplan_core::ErrorCode;

/// One field of a record to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A code, number or date: written bare. Must not contain `"`, `,` or a line break.
    Code(String),
    /// Free text (フリーテキスト): always quoted; commas and line breaks are kept.
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
    /// The unquoted field values.
    pub fields: Vec<String>,
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
    let line_at = |position: Option<&csv::Position>| {
        let mut offset = position
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
            .min(bytes.len());
        while matches!(bytes.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64
    };
    let mut records = Vec::new();
    for result in reader.records() {
        let record = result.map_err(|e| CsvError {
            line: line_at(e.position()),
            reason: e.to_string(),
        })?;
        let line = line_at(record.position());
        records.push(Record {
            line,
            fields: record.iter().map(str::to_owned).collect(),
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
        assert_eq!(records[0].fields, ["202407", "a,\"b\"\r\nc", ""]);
        assert_eq!(records[1].line, 3);
        assert_eq!(records[1].fields, ["1", "", ""]);
    }

    #[test]
    fn an_unclosed_quote_is_an_error() {
        let err = read_records("202407,\"open\r\n1,2\r\n").unwrap_err();
        assert_eq!(err.code(), ErrorCode::CsvMalformed);
    }
}
