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

/// What a [`Reader`] reads: UTF-8 text (`str`), or bytes of an ASCII-compatible encoding (`[u8]`) such as
/// the MS932 of standard files, read without decoding them.
///
/// The reader splits only at ASCII bytes (`,`, `"`, CR, LF), which in UTF-8 never occur inside a
/// character and in Shift_JIS never as a trail byte (trail bytes are 0x40 and above): every value is whole
/// characters of the text.
pub trait Text: ToOwned + AsRef<[u8]> + 'static {
    /// The part of the text at byte `range`, which the reader keeps on character boundaries.
    fn part(&self, range: std::ops::Range<usize>) -> &Self;

    /// The text with every `""` made `"`.
    fn unescape(&self) -> Self::Owned;

    /// The empty text.
    fn empty() -> &'static Self;
}

impl Text for str {
    fn part(&self, range: std::ops::Range<usize>) -> &Self {
        &self[range]
    }

    fn unescape(&self) -> String {
        self.replace("\"\"", "\"")
    }

    fn empty() -> &'static Self {
        ""
    }
}

impl Text for [u8] {
    fn part(&self, range: std::ops::Range<usize>) -> &Self {
        &self[range]
    }

    fn unescape(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        let mut bytes = self.iter().copied().peekable();
        while let Some(byte) = bytes.next() {
            out.push(byte);
            if byte == b'"' {
                bytes.next_if_eq(&b'"');
            }
        }
        out
    }

    fn empty() -> &'static Self {
        &[]
    }
}

/// One parsed record with the line it starts on, borrowing its values from the text where it can.
///
/// A [`Reader`] fills one `Record` again and again, so reading a file allocates nothing per record but
/// the values a `""` escape made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a, T: Text + ?Sized = str> {
    /// 1-based line of the record's first character.
    pub line: u64,
    /// The field values as written, without their enclosing quotes: slices of the text.
    raw: Vec<&'a T>,
    /// Bit `i` is set when field `i` was written in double quotes (layouts have at most 71 fields).
    quoted: u128,
    /// The values of fields whose `""` escapes were undone, by field index; rare, so searched.
    unescaped: Vec<(usize, T::Owned)>,
}

impl<T: Text + ?Sized> Default for Record<'_, T> {
    fn default() -> Self {
        Self {
            line: 0,
            raw: Vec::new(),
            quoted: 0,
            unescaped: Vec::new(),
        }
    }
}

impl<'a, T: Text + ?Sized> Record<'a, T> {
    /// The unquoted field values.
    pub fn fields(&self) -> Vec<&T> {
        (0..self.len()).map(|i| self.field(i)).collect()
    }

    /// Field `index` (0-based), or empty past the end.
    pub fn field(&self, index: usize) -> &T {
        use std::borrow::Borrow;
        if !self.unescaped.is_empty()
            && let Some((_, value)) = self.unescaped.iter().find(|(i, _)| *i == index)
        {
            return value.borrow();
        }
        self.raw.get(index).copied().unwrap_or_else(|| T::empty())
    }

    /// The values in field order, as [`Record::field`] gives them: the record's own slice unless a
    /// `""` escape was undone.
    pub fn values(&self) -> std::borrow::Cow<'_, [&T]> {
        if self.unescaped.is_empty() {
            std::borrow::Cow::Borrowed(&self.raw)
        } else {
            std::borrow::Cow::Owned(self.fields())
        }
    }

    /// Whether field `index` (0-based) was written in double quotes; `false` past the 128th field.
    pub fn is_quoted(&self, index: usize) -> bool {
        index < 128 && self.quoted & (1 << index) != 0
    }

    /// The fields written in double quotes: bit `i` for field `i`, the first 128 fields.
    pub fn quoted_fields(&self) -> u128 {
        self.quoted
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the record has no field.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    fn clear(&mut self, line: u64) {
        self.line = line;
        self.raw.clear();
        self.quoted = 0;
        self.unescaped.clear();
    }
}

/// Reads CSV text record by record: comma-separated, records ended by CRLF, LF or CR, empty lines
/// skipped; a field opening with `"` runs to its closing quote (commas and line breaks inside are kept,
/// `""` stands for `"`) and must be followed by a comma or the end of the record.
///
/// One pass over the bytes, counting lines as it goes; values borrow from the text. Splitting only at
/// ASCII bytes keeps every slice on a character boundary (see [`Text`]).
#[derive(Debug, Clone)]
pub struct Reader<'a, T: Text + ?Sized = str> {
    text: &'a T,
    pos: usize,
    line: u64,
}

impl<'a, T: Text + ?Sized> Reader<'a, T> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a T) -> Self {
        Self {
            text,
            pos: 0,
            line: 1,
        }
    }

    /// Reads the next record into `record`, replacing what it held; `false` at the end of the text.
    /// After an error the reader stays where the error was found.
    pub fn read_into(&mut self, record: &mut Record<'a, T>) -> Result<bool, CsvError> {
        let text = self.text;
        let bytes = text.as_ref();
        let (mut pos, mut line) = (self.pos, self.line);
        // Skip empty lines.
        loop {
            match bytes.get(pos) {
                None => {
                    (self.pos, self.line) = (pos, line);
                    return Ok(false);
                }
                Some(b'\n') => pos += 1,
                Some(b'\r') => {
                    pos += 1;
                    if bytes.get(pos) == Some(&b'\n') {
                        pos += 1;
                    }
                }
                Some(_) => break,
            }
            line += 1;
        }
        let record_line = line;
        record.clear(record_line);
        loop {
            let field = record.raw.len();
            if bytes.get(pos) == Some(&b'"') {
                if field < 128 {
                    record.quoted |= 1 << field;
                }
                let open = pos + 1;
                let mut cursor = open;
                let (mut escaped, mut breaks) = (false, false);
                let close = loop {
                    let Some(at) = quote_or_break(bytes, cursor) else {
                        return Err(CsvError {
                            line: record_line,
                            reason: format!("field {} opens a quote that is never closed", field + 1),
                        });
                    };
                    cursor = at + 1;
                    match bytes[at] {
                        b'"' if bytes.get(cursor) == Some(&b'"') => {
                            escaped = true;
                            cursor += 1;
                        }
                        b'"' => break at,
                        _ => breaks = true,
                    }
                };
                let inner = text.part(open..close);
                if breaks {
                    line += line_breaks(inner.as_ref());
                }
                if escaped {
                    record.unescaped.push((field, inner.unescape()));
                }
                record.raw.push(inner);
                pos = close + 1;
                if !matches!(bytes.get(pos), None | Some(b',' | b'\r' | b'\n')) {
                    let closed = if line == record_line {
                        String::new()
                    } else {
                        format!(" on line {line}")
                    };
                    return Err(CsvError {
                        line: record_line,
                        reason: format!(
                            "field {}: text follows its closing quote{closed}; a quote is missing or not doubled",
                            field + 1
                        ),
                    });
                }
            } else if bytes.get(pos) == Some(&b',') {
                // An empty field, a third of a file's: no scan.
                record.raw.push(T::empty());
            } else {
                let end = bytes[pos..]
                    .iter()
                    .position(|&b| matches!(b, b',' | b'\r' | b'\n'))
                    .map_or(bytes.len(), |n| pos + n);
                record.raw.push(text.part(pos..end));
                pos = end;
            }
            match bytes.get(pos) {
                Some(b',') => pos += 1,
                Some(b'\r') => {
                    pos += 1;
                    if bytes.get(pos) == Some(&b'\n') {
                        pos += 1;
                    }
                    line += 1;
                    break;
                }
                Some(b'\n') => {
                    pos += 1;
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        (self.pos, self.line) = (pos, line);
        Ok(true)
    }
}

/// Parses CSV text into records, as [`Reader`] reads them.
pub fn read_records(text: &str) -> Result<Vec<Record<'_>>, CsvError> {
    let mut reader = Reader::new(text);
    let mut records = Vec::new();
    let mut record = Record::default();
    while reader.read_into(&mut record)? {
        records.push(std::mem::take(&mut record));
    }
    Ok(records)
}

/// The position of the first `"`, CR or LF from `from`. Most quoted values are short (a name, a
/// product): their first bytes are looked at one by one, and a vector search, whose setup would cost
/// more than such a value, takes over past them.
fn quote_or_break(bytes: &[u8], from: usize) -> Option<usize> {
    const SHORT: usize = 16;
    let head = &bytes[from..(from + SHORT).min(bytes.len())];
    match head.iter().position(|&b| matches!(b, b'"' | b'\r' | b'\n')) {
        Some(n) => Some(from + n),
        None => {
            let rest = from + head.len();
            memchr::memchr3(b'"', b'\r', b'\n', &bytes[rest..]).map(|n| rest + n)
        }
    }
}

/// The line breaks in `bytes`: CR, LF and CRLF each count once.
fn line_breaks(bytes: &[u8]) -> u64 {
    let count = |byte| memchr::memchr_iter(byte, bytes).count() as u64;
    count(b'\n') + count(b'\r') - bytes.windows(2).filter(|w| w == b"\r\n").count() as u64
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
    fn lines_count_physical_lines_across_line_breaks_in_free_text() {
        let text = "1,\"a\r\nb\"\r\n\r\n2,\"x\ny\rz\"\n3\r4";
        let records = read_records(text).unwrap();
        let lines: Vec<u64> = records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 4, 7, 8]);
        assert_eq!(records[1].fields(), ["2", "x\ny\rz"]);
        let err = read_records("1,\"a\"b,2\r\n").unwrap_err();
        assert_eq!(
            (err.line, err.reason.as_str()),
            (
                1,
                "field 2: text follows its closing quote; a quote is missing or not doubled"
            )
        );
    }

    proptest::proptest! {
        /// Wherever this reader accepts the text, the `csv` crate reads the same values: with any line
        /// breaks, and with records of CRLF-terminated lines as the standard writes them.
        #[test]
        fn reads_what_the_csv_crate_reads(text in "[a,\"\r\n あ]{0,40}|([a,\"\n あ]{0,8}\r\n){0,6}") {
            if let Ok(records) = read_records(&text) {
                let reference: Vec<Vec<String>> = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(text.as_bytes())
                    .records()
                    .map(|r| r.unwrap().iter().map(str::to_owned).collect())
                    .collect();
                let ours: Vec<Vec<String>> = records
                    .iter()
                    .map(|r| r.fields().into_iter().map(str::to_owned).collect())
                    .collect();
                proptest::prop_assert_eq!(ours, reference);
            }
        }
    }

    proptest::proptest! {
        /// Read from its MS932 bytes, a text gives the values read from the text, encoded: no value is
        /// cut inside a two-byte character, whose trail byte may be any of `@`–`~` (`\\` and `|` among them).
        #[test]
        fn ms932_bytes_read_as_their_text(text in "[a,\"\r\n 表ソ予能申十構\\\\|ｱ]{0,40}") {
            let bytes = crate::ms932::encode(&text).unwrap();
            let from_text = read_records(&text).map(|records| {
                records.iter().map(|r| (r.line, r.fields().iter().map(|v| crate::ms932::encode(v).unwrap()).collect::<Vec<_>>())).collect::<Vec<_>>()
            });
            let mut reader = Reader::new(bytes.as_slice());
            let mut record = Record::default();
            let mut from_bytes = Vec::new();
            let from_bytes = loop {
                match reader.read_into(&mut record) {
                    Ok(true) => from_bytes.push((record.line, record.fields().iter().map(|v| v.to_vec()).collect::<Vec<_>>())),
                    Ok(false) => break Ok(from_bytes),
                    Err(e) => break Err(e),
                }
            };
            proptest::prop_assert_eq!(from_bytes, from_text);
        }
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
