//! Rules on one field at a time (spec §10.12–17): presence, length and format.
//!
//! Two paths give the same verdict. [`check_value`] judges one field and says what is wrong; it runs
//! field after field only on a record that [`FieldPlan::passes`] did not clear. The plan holds a
//! layout's checks grouped by format (each with the fields of that format, their length limits, whether
//! they must be filled or quoted), so a clean record — nearly every record of a file a product exports —
//! is cleared with branches the processor predicts, instead of a dispatch on each field's format.
//! Invariant: `passes` is true exactly where `check_fields` would find nothing — no field breaking a
//! rule of `check_value`, no unquoted free text (property-tested on records of every layout).

use super::{Findings, Rule, Shown, is_code_char, is_date, is_digits, is_month, is_time, one_of, same};
use crate::csv_text::Record;
use crate::layout::{FieldSpec, Format, Presence};
use crate::ms932;

/// Checks every field of a record of the layout's field count, one after the other: a finding for
/// each field that breaks a rule, in field order.
pub(super) fn check_fields(
    specs: &[FieldSpec],
    values: &[&[u8]],
    record: &Record<'_, [u8]>,
    findings: &mut Findings,
) {
    let line = Some(record.line);
    for (index, (spec, &value)) in specs.iter().zip(values).enumerate() {
        if spec.format == Format::FreeText && !value.is_empty() && !record.is_quoted(index) {
            findings.add(
                Rule::FreeTextUnquoted,
                line,
                Some(index + 1),
                format!(
                    "field {} {}: free text is not in double quotes",
                    index + 1,
                    spec.name
                ),
            );
        }
        if let Some((rule, expected)) = check_value(spec, value) {
            let shown = if value.is_empty() {
                "empty".to_owned()
            } else {
                format!("`{}`", Shown(value))
            };
            findings.add(
                rule,
                line,
                Some(index + 1),
                format!("field {} {}: {shown} {expected}", index + 1, spec.name),
            );
        }
    }
}

/// Checks one field's value against its spec: the rule broken and what was expected.
pub(super) fn check_value(spec: &FieldSpec, value: &[u8]) -> Option<(Rule, String)> {
    if value.is_empty() {
        return match spec.presence {
            Presence::Required => Some((Rule::RequiredField, "is required (必須)".to_owned())),
            Presence::Recommended => Some((Rule::RecommendedField, "should be filled".to_owned())),
            Presence::Optional => None,
        };
    }
    if spec.format == Format::Unused {
        return Some((Rule::UnusedField, "must be empty (※使用しない)".to_owned()));
    }
    if let Some(max) = spec.max_len
        && !within_length(value, max)
    {
        let length = ms932::char_count(value);
        return Some((
            Rule::FieldLength,
            format!("has {length} characters; at most {max} allowed"),
        ));
    }
    (!is_valid(spec.format, value)).then(|| why_invalid(spec.format, value))
}

/// Whether `value` has at most `max` characters. A value no longer in bytes than the limit is no longer
/// in characters: count only when needed.
fn within_length(value: &[u8], max: usize) -> bool {
    value.len() <= max || ms932::char_count(value) <= max
}

/// Whether a filled `value` is written as `format` asks, with nothing to report (so `2400` and a unit
/// price in another form than 99.99 are not).
#[inline(always)]
fn is_valid(format: Format, value: &[u8]) -> bool {
    match format {
        Format::Version | Format::FreeText | Format::Text => true,
        Format::Unused => false,
        Format::Insurer => value.len() == 6 && is_digits(value),
        Format::Insured => {
            let (digits, wanted) = value.strip_prefix(b"H").map_or((value, 10), |rest| (rest, 9));
            digits.len() == wanted && is_digits(digits)
        }
        Format::Date => is_date(value),
        Format::DateOrZero => same(value, "00000000") || is_date(value),
        Format::Month => is_month(value),
        Format::MonthOrZero => same(value, "000000") || is_month(value),
        Format::Time => is_time(value),
        Format::ServiceTime => same(value, "9999") || is_time(value),
        Format::Office | Format::OfficeOrAllNines => value.len() == 10 && is_digits(value),
        Format::Kind => value.len() == 2 && value.iter().copied().all(is_code_char),
        Format::ServiceCode | Format::AnnexServiceCode => {
            value.len() == 6 && value.iter().copied().all(is_code_char)
        }
        Format::Proration => value.len() == 31 && value.iter().all(|&b| b == b'0' || b == b'1'),
        Format::Ordinal => is_digits(value) && value.iter().any(|&b| b != b'0'),
        Format::Integer => is_digits(value),
        Format::UnitPrice => matches!(value, [int @ .., b'.', c, d]
            if (1..=2).contains(&int.len()) && is_digits(int) && c.is_ascii_digit() && d.is_ascii_digit()),
        Format::Postal => {
            value.len() == 8 && value[3] == b'-' && is_digits(&value[..3]) && is_digits(&value[4..])
        }
        Format::Code(codes) => one_of(codes, value),
    }
}

/// The finding on a filled `value` that [`is_valid`] refused.
fn why_invalid(format: Format, value: &[u8]) -> (Rule, String) {
    let (rule, expected): (Rule, &str) = match format {
        Format::Version | Format::FreeText | Format::Text => {
            unreachable!("free formats are always valid")
        }
        Format::Unused => (Rule::UnusedField, "must be empty (※使用しない)"),
        Format::Insurer => (Rule::InsurerNumber, "must be 6 digits"),
        Format::Insured => (Rule::InsuredNumber, "must be 10 digits, or H + 9 digits"),
        Format::Date => (Rule::DateInvalid, "must be a real date YYYYMMDD"),
        Format::DateOrZero => (Rule::DateInvalid, "must be a real date YYYYMMDD or 00000000"),
        Format::Month => (Rule::DateInvalid, "must be a month YYYYMM"),
        Format::MonthOrZero => (Rule::DateInvalid, "must be a month YYYYMM or 000000"),
        Format::Time | Format::ServiceTime if same(value, "2400") => {
            (Rule::TimeEndOfDay, "2400 is the end of the day, not a time HHMM")
        }
        Format::Time => (Rule::TimeInvalid, "must be a time HHMM"),
        Format::ServiceTime => (Rule::TimeInvalid, "must be a time HHMM or 9999"),
        Format::Office => (Rule::FormatInvalid, "must be a 10-digit office number"),
        Format::OfficeOrAllNines => (
            Rule::FormatInvalid,
            "must be a 10-digit office number or 9999999999",
        ),
        Format::Kind => (
            Rule::FormatInvalid,
            "must be a service kind of 2 characters from 0-9A-Z",
        ),
        Format::ServiceCode => (
            Rule::FormatInvalid,
            "must be a service code of 6 characters from 0-9A-Z",
        ),
        Format::AnnexServiceCode => (
            Rule::FormatInvalid,
            "must be a service code, kind + AAAA/EEEE/ZZZZ, or 999999",
        ),
        Format::Proration => (
            Rule::FormatInvalid,
            "must be 31 characters of 0 and 1 (day 1 first)",
        ),
        Format::Ordinal => (
            Rule::NumberInvalid,
            "must be a number from 1 (numbered lists count from 1)",
        ),
        Format::Integer => (Rule::NumberInvalid, "must be an integer of half-width digits"),
        Format::UnitPrice => {
            let (int, frac) = match value.iter().position(|&b| b == b'.') {
                Some(dot) => (&value[..dot], &value[dot + 1..]),
                None => (value, &[][..]),
            };
            let digits =
                (1..=2).contains(&int.len()) && is_digits(int) && (frac.is_empty() || is_digits(frac));
            // `11.4`, `10`: the same price in another form (`10.` has no decimals to read).
            if digits && frac.len() <= 1 && !value.ends_with(b".") {
                return (
                    Rule::UnitPriceForm,
                    format!("`{}` is not in the form 99.99", Shown(value)),
                );
            }
            (Rule::NumberInvalid, "must be a unit price 99.99")
        }
        Format::Postal => (Rule::FormatInvalid, "must be a postal code XXX-XXXX"),
        Format::Code(codes) => {
            return (Rule::CodeInvalid, format!("must be one of {}", codes.join(", ")));
        }
    };
    (rule, expected.to_owned())
}

/// A layout's field checks grouped for the verdict on a whole record (see the module's doc).
#[derive(Debug)]
pub(super) struct FieldPlan {
    /// The layout's field count.
    fields: usize,
    /// The fields to check, grouped by format: one group per format, in the layout's order of first
    /// use. Free formats (free text, other text, CSVバージョン) form one group, checked for length.
    groups: Vec<(Format, Vec<FieldCheck>)>,
}

/// What the plan checks of one field besides its format.
#[derive(Debug, Clone, Copy)]
struct FieldCheck {
    index: usize,
    /// 項目長 in characters; `usize::MAX` for none.
    max_len: usize,
    /// Required (必須) or recommended: an empty value has a finding.
    to_fill: bool,
    /// Free text (フリーテキスト): a filled value must have been quoted.
    quoted: bool,
}

impl FieldPlan {
    /// The plan of a layout.
    pub(super) fn new(specs: &[FieldSpec]) -> Self {
        let mut groups: Vec<(Format, Vec<FieldCheck>)> = Vec::new();
        for (index, spec) in specs.iter().enumerate() {
            let check = FieldCheck {
                index,
                max_len: spec.max_len.unwrap_or(usize::MAX),
                to_fill: spec.presence != Presence::Optional,
                quoted: spec.format == Format::FreeText,
            };
            let free = matches!(spec.format, Format::Version | Format::FreeText | Format::Text);
            if free && !check.to_fill && !check.quoted && spec.max_len.is_none() {
                continue;
            }
            let format = if free { Format::Text } else { spec.format };
            match groups.iter_mut().find(|(f, _)| *f == format) {
                Some((_, checks)) => checks.push(check),
                None => groups.push((format, vec![check])),
            }
        }
        Self {
            fields: specs.len(),
            groups,
        }
    }

    /// Whether a record with these `values` (and `quoted` fields, bit `i` for field `i`) has the layout's
    /// field count, no finding of [`check_value`] and no unquoted free text.
    pub(super) fn passes(&self, values: &[&[u8]], quoted: u128) -> bool {
        values.len() == self.fields
            && self.groups.iter().all(|(format, checks)| {
                let format = *format;
                checks.iter().all(|check| {
                    let value = values[check.index];
                    if value.is_empty() {
                        return !check.to_fill;
                    }
                    within_length(value, check.max_len)
                        && is_valid(format, value)
                        && (!check.quoted || (check.index < 128 && quoted & (1 << check.index) != 0))
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::FileKind;
    use crate::layout::layout;

    /// Values of every format, valid and not, in MS932: each field of a generated record draws one.
    fn pool() -> Vec<Vec<u8>> {
        let long_name = "山田".repeat(20);
        [
            "",
            "0",
            "1",
            "2",
            "3",
            "01",
            "02",
            "06",
            "11",
            "12",
            "25",
            "1A",
            "Y",
            "N",
            "2400",
            "9999",
            "0930",
            "2460",
            "202505",
            "000000",
            "202513",
            "20250501",
            "00000000",
            "20250230",
            "1310000001",
            "9999999999",
            "131001",
            "0000012345",
            "H000012345",
            "H00001234",
            "111111",
            "11AAAA",
            "999999",
            "11111a",
            "10.00",
            "9.99",
            "11.4",
            "10",
            "10.",
            "123-4567",
            "1234567",
            "123",
            "99",
            "100",
            "0000000000000000000000000000001",
            "0000000000000000000000000000002",
            "山田 花子",
            "ﾔﾏﾀﾞ",
            &long_name,
            "abc",
            "+1",
            " 1",
        ]
        .iter()
        .map(|v| ms932::encode(v).unwrap())
        .collect()
    }

    proptest! {
        /// On records of every layout whose fields are mostly valid, the plan clears a record exactly
        /// when no field has a finding: filled, empty, too long, malformed and unquoted free text alike.
        #[test]
        fn the_plan_clears_exactly_the_records_without_a_field_finding(
            layout_at in 0usize..FileKind::ALL.len() * 2,
            picks in prop::collection::vec((0u8..=255, any::<prop::sample::Index>(), any::<bool>()), 80),
        ) {
            let kind = FileKind::ALL[layout_at / 2];
            let specs = layout(kind, layout_at % 2 == 0).unwrap();
            let pool = pool();
            let mut quoted = 0u128;
            let values: Vec<&[u8]> = specs
                .iter()
                .zip(&picks)
                .enumerate()
                .map(|(index, (spec, (odds, pick, quote)))| {
                    let valid: Vec<&Vec<u8>> = pool.iter().filter(|v| check_value(spec, v).is_none()).collect();
                    // Mostly a value with no finding, so that whole records pass now and then.
                    let value = if *odds < 250 && !valid.is_empty() { pick.get(&valid) } else { pick.get(&pool) };
                    if *quote || *odds < 252 {
                        quoted |= 1 << index;
                    }
                    value.as_slice()
                })
                .collect();
            let plan = FieldPlan::new(specs);
            let expected = specs.iter().zip(&values).enumerate().all(|(index, (spec, value))| {
                check_value(spec, value).is_none()
                    && !(spec.format == Format::FreeText && !value.is_empty() && quoted & (1 << index) == 0)
            });
            prop_assert_eq!(plan.passes(&values, quoted), expected);
        }
    }
}
