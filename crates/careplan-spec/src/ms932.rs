//! Shift_JIS as Windows writes it (MS932 / Windows-31J), the encoding of every standard file.
//!
//! `encoding_rs`'s `Shift_JIS` is the WHATWG encoding, which is MS932 (NEC and IBM extensions included).
//! On top of it this module refuses what the standard forbids: 外字 (user-defined characters, bytes
//! F040–F9FC, decoded to the Unicode private use area) and a UTF-8 byte-order mark.

use careplan_core::ErrorCode;
use encoding_rs::{DecoderResult, SHIFT_JIS};

/// Why bytes are not standard MS932 text, or text cannot be written as MS932.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    /// The file starts with a UTF-8 byte-order mark: it was saved as UTF-8.
    #[error("the file starts with a UTF-8 byte-order mark (EF BB BF): save it as Shift_JIS (MS932)")]
    Utf8Bom,
    /// A byte sequence is not MS932.
    #[error("byte offset {offset} (line {line}): bytes {bytes} are not valid Shift_JIS (MS932)")]
    Malformed {
        /// Offset of the first bad byte.
        offset: usize,
        /// 1-based line of that byte.
        line: usize,
        /// The bad bytes, in hex.
        bytes: String,
    },
    /// A user-defined character (外字).
    #[error(
        "byte offset {offset} (line {line}): 外字 (user-defined character {bytes}) is forbidden by the standard"
    )]
    UserDefined {
        /// Offset of the character.
        offset: usize,
        /// 1-based line of the character.
        line: usize,
        /// Its two bytes, in hex.
        bytes: String,
    },
    /// A character that MS932 cannot represent.
    #[error("character {character:?} (U+{code_point:04X}) at character {index} cannot be written in MS932")]
    Unmappable {
        /// The character.
        character: char,
        /// Its code point.
        code_point: u32,
        /// Its 0-based position in the text.
        index: usize,
    },
}

impl EncodingError {
    /// The stable code of this refusal.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::EncodingInvalid
    }
}

/// The UTF-8 byte-order mark, which a standard file must not start with.
const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

fn is_private_use(c: char) -> bool {
    ('\u{E000}'..='\u{F8FF}').contains(&c)
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn line_at(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Decodes MS932 bytes, refusing malformed sequences, 外字 and a UTF-8 BOM.
pub fn decode(bytes: &[u8]) -> Result<String, EncodingError> {
    let mut out = String::new();
    decode_into(bytes, &mut out)?;
    Ok(out)
}

/// Decodes MS932 bytes into `out`, replacing what it held, as [`decode`] does; a caller decoding many
/// files keeps one buffer for all of them. On an error `out` holds an unspecified prefix of the text.
pub fn decode_into(bytes: &[u8], out: &mut String) -> Result<(), EncodingError> {
    out.clear();
    if bytes.starts_with(UTF8_BOM) {
        return Err(EncodingError::Utf8Bom);
    }
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut read_total = 0;
    loop {
        out.reserve(
            decoder
                .max_utf8_buffer_length_without_replacement(bytes.len() - read_total)
                .unwrap_or(16),
        );
        let (result, read) = decoder.decode_to_string_without_replacement(&bytes[read_total..], out, true);
        read_total += read;
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::OutputFull => continue,
            DecoderResult::Malformed(bad, extra) => {
                let end = read_total - usize::from(extra);
                let offset = end - usize::from(bad);
                return Err(EncodingError::Malformed {
                    offset,
                    line: line_at(bytes, offset),
                    bytes: hex(&bytes[offset..end]),
                });
            }
        }
    }
    if let Some(index) = first_private_use(out) {
        // Every non-ASCII MS932 character is two bytes; find the byte offset by re-walking the input.
        let offset = byte_offset_of_char(bytes, index);
        return Err(EncodingError::UserDefined {
            offset,
            line: line_at(bytes, offset),
            bytes: hex(bytes
                .get(offset..(offset + 2).min(bytes.len()))
                .unwrap_or_default()),
        });
    }
    Ok(())
}

/// Checks that `bytes` are standard MS932 text, as [`decode`] would, without decoding them: the same
/// errors for the same bytes. A validator that reads fields as bytes pays a table lookup per character
/// instead of writing the text out as UTF-8.
///
/// Shift_JIS is stateless: a byte below 0x80 is ASCII, and never a trail byte's reading changes the
/// characters after it, so every lead byte's pair is judged on its own from a table built once by
/// decoding each pair. Bytes that fail are decoded to report the error exactly as [`decode`] does.
pub fn check(bytes: &[u8]) -> Result<(), EncodingError> {
    if bytes.starts_with(UTF8_BOM) {
        return Err(EncodingError::Utf8Bom);
    }
    if is_standard(bytes) {
        Ok(())
    } else {
        decode_into(bytes, &mut String::new())
    }
}

/// Whether every character of `bytes` is standard MS932, by the pair table.
fn is_standard(bytes: &[u8]) -> bool {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let pairs = pairs();
    let mut at = 0;
    while let Some(&lead) = bytes.get(at) {
        if lead < 0x80 {
            at += 1;
            // An ASCII run (codes, numbers, dates, separators: most of a file): the rest of it a word at
            // a time. Within Japanese text no word is tried.
            while let Some(chunk) = bytes.get(at..at + 8).and_then(|c| <[u8; 8]>::try_from(c).ok())
                && u64::from_le_bytes(chunk) & HIGH_BITS == 0
            {
                at += 8;
            }
        } else if is_lead(lead) {
            match bytes.get(at + 1) {
                Some(&trail) if pairs.is_standard(lead, trail) => at += 2,
                _ => return false,
            }
        } else if lead == 0x80 || (0xA1..=0xDF).contains(&lead) {
            at += 1;
        } else {
            return false;
        }
    }
    true
}

/// The two-byte characters MS932 maps to standard characters, as a bit per (lead, trail) pair: decoded,
/// not 外字 (private use).
struct PairTable(Box<[u64; 1024]>);

impl PairTable {
    fn build() -> Self {
        let mut bits = Box::new([0u64; 1024]);
        for lead in (0x81..=0x9Fu8).chain(0xE0..=0xFC) {
            for trail in 0x40..=0xFCu8 {
                let standard = SHIFT_JIS
                    .decode_without_bom_handling_and_without_replacement(&[lead, trail])
                    .is_some_and(|text| {
                        let mut chars = text.chars();
                        matches!((chars.next(), chars.next()), (Some(c), None) if !is_private_use(c))
                    });
                if standard {
                    let index = usize::from(lead) << 8 | usize::from(trail);
                    bits[index / 64] |= 1 << (index % 64);
                }
            }
        }
        Self(bits)
    }

    fn is_standard(&self, lead: u8, trail: u8) -> bool {
        let index = usize::from(lead) << 8 | usize::from(trail);
        self.0[index / 64] & (1 << (index % 64)) != 0
    }
}

fn pairs() -> &'static PairTable {
    static PAIRS: std::sync::OnceLock<PairTable> = std::sync::OnceLock::new();
    PAIRS.get_or_init(PairTable::build)
}

/// Text [`check`] passed (or a part of it cut at ASCII bytes), decoded for a message; anything else
/// decodes with U+FFFD in place of a bad sequence.
pub fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    SHIFT_JIS.decode_without_bom_handling(bytes).0
}

/// The characters of MS932 text [`check`] passed: bytes, less one for each two-byte character.
pub fn char_count(bytes: &[u8]) -> usize {
    char_starts(bytes).count()
}

/// The byte offset of each character of valid MS932 `bytes`: two bytes from a lead byte, one for ASCII,
/// 0x80 (decoded as U+0080) and half-width katakana.
fn char_starts(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    std::iter::successors(Some(0), |&at| {
        bytes.get(at).map(|&byte| at + if is_lead(byte) { 2 } else { 1 })
    })
    .take_while(move |&at| at < bytes.len())
}

/// Whether `byte` opens a two-byte character.
fn is_lead(byte: u8) -> bool {
    matches!(byte, 0x81..=0x9F | 0xE0..=0xFC)
}

/// The character index of the first private-use character (U+E000–U+F8FF) of `text`.
///
/// In UTF-8 those are `EE xx xx` and `EF 80..=A3 xx`; full-width forms (U+FF01…, common in Japanese
/// text) are `EF BC..BF xx` and are skipped without walking the characters.
fn first_private_use(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let found = memchr::memchr2_iter(0xEE, 0xEF, bytes)
        .find(|&at| bytes[at] == 0xEE || bytes.get(at + 1).is_some_and(|&b| b <= 0xA3))?;
    Some(text[..found].chars().count())
}

/// The byte offset of the `index`-th decoded character of valid MS932 `bytes`.
fn byte_offset_of_char(bytes: &[u8], index: usize) -> usize {
    char_starts(bytes).nth(index).unwrap_or(bytes.len())
}

/// Encodes text as MS932, refusing characters MS932 cannot represent and 外字.
pub fn encode(text: &str) -> Result<Vec<u8>, EncodingError> {
    let (bytes, _, had_errors) = SHIFT_JIS.encode(text);
    let bad = text
        .chars()
        .enumerate()
        .find(|&(_, c)| is_private_use(c) || (had_errors && SHIFT_JIS.encode(c.encode_utf8(&mut [0; 4])).2));
    match bad {
        Some((index, character)) => Err(EncodingError::Unmappable {
            character,
            code_point: u32::from(character),
            index,
        }),
        None => Ok(bytes.into_owned()),
    }
}

/// Variant forms (異体字) outside MS932 that people's names use, with the standard character that
/// replaces each: the conversion the standard asks for before output (spec §4.3).
const VARIANTS: [(char, char); 3] = [('𠮷', '吉'), ('𡈽', '土'), ('𣘺', '橋')];

/// The text with every character MS932 cannot write converted, as the standard asks of care software
/// (spec §4.3: 外字 and characters outside MS932 are converted before output): a known variant form to
/// its standard character, anything else — a 外字 held as a private-use character included — to 〓
/// (the geta mark, the customary stand-in). Text MS932 can write is returned as it is.
pub fn to_representable(text: &str) -> std::borrow::Cow<'_, str> {
    let writable =
        |c: char| !is_private_use(c) && (c.is_ascii() || !SHIFT_JIS.encode(c.encode_utf8(&mut [0; 4])).2);
    if text.chars().all(writable) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| match VARIANTS.iter().find(|(variant, _)| *variant == c) {
            Some(&(_, standard)) => standard,
            None if writable(c) => c,
            None => '〓',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn text_outside_ms932_is_converted_and_then_encodes() {
        assert!(matches!(
            to_representable("山田 花子①"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(to_representable("𠮷田 \u{E000}子"), "吉田 〓子");
        assert!(encode(&to_representable("𠮷田 \u{E000}子 😀")).is_ok());
        assert!(encode("𠮷田").is_err() && encode("\u{E000}").is_err());
    }

    #[test]
    fn round_trips_japanese_text_including_nec_extensions() {
        let text = "山田 花子,ﾔﾏﾀﾞ ﾊﾅｺ,①Ⅱ㈱,\"訪問介護\"\r\n";
        let bytes = encode(text).unwrap();
        assert_eq!(&bytes[..4], &[0x8E, 0x52, 0x93, 0x63]); // 山田
        assert_eq!(decode(&bytes).unwrap(), text);
    }

    #[test]
    fn reports_the_offset_and_line_of_a_bad_sequence() {
        let mut bytes = encode("202407,131001\r\n山田").unwrap();
        bytes.extend_from_slice(&[0x81, 0x20]); // lead byte followed by an invalid trail byte
        let err = decode(&bytes).unwrap_err();
        assert_eq!(err.code(), ErrorCode::EncodingInvalid);
        match err {
            EncodingError::Malformed { offset, line, .. } => assert_eq!((offset, line), (19, 2)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn refuses_bom_user_defined_characters_and_unmappable_text() {
        assert_eq!(decode(b"\xEF\xBB\xBF202407").unwrap_err(), EncodingError::Utf8Bom);
        let gaiji = [b'A', 0x82, 0xA0, 0xF0, 0x40];
        match decode(&gaiji).unwrap_err() {
            EncodingError::UserDefined { offset, bytes, .. } => {
                assert_eq!((offset, bytes.as_str()), (3, "F0 40"))
            }
            other => panic!("unexpected {other:?}"),
        }
        // 0x80 is a single byte (U+0080): the 外字 after it is still found at its own offset.
        match decode(&[0x80, b'A', 0xF0, 0x40]).unwrap_err() {
            EncodingError::UserDefined { offset, .. } => assert_eq!(offset, 2),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            encode("髙橋😀"),
            Err(EncodingError::Unmappable { index: 2, .. })
        ));
        assert!(matches!(
            encode("a\u{E000}"),
            Err(EncodingError::Unmappable { index: 1, .. })
        ));
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(text) = decode(&bytes) {
                prop_assert_eq!(encode(&text).map(|b| b.len()).ok(), Some(bytes.len()));
            }
        }

        #[test]
        fn private_use_is_found_where_a_walk_of_the_characters_finds_it(text in "[a\u{3042}\u{E000}\u{F8FF}\u{F900}\u{FF21}\u{EFFF}]{0,12}") {
            prop_assert_eq!(first_private_use(&text), text.chars().position(is_private_use));
        }

        /// `check` agrees with `decode` on every input: the same verdict and the same error. Bytes are
        /// drawn mostly from the ranges that matter (ASCII, lead and trail bytes, 外字 leads, the gaps).
        #[test]
        fn check_judges_as_decode_does(bytes in prop::collection::vec(
            prop_oneof![any::<u8>(), 0x81..=0x84u8, 0x87..=0x88u8, 0xED..=0xEEu8, 0xF0..=0xFAu8, 0x40..=0x7Eu8, 0x80..=0xA0u8, 0xFC..=0xFFu8],
            0..48,
        )) {
            let decoded = decode(&bytes);
            prop_assert_eq!(check(&bytes), decoded.as_ref().map(|_| ()).map_err(Clone::clone));
            if let Ok(text) = decoded {
                prop_assert_eq!(char_count(&bytes), text.chars().count());
                prop_assert_eq!(lossy(&bytes), text);
            }
        }

        #[test]
        fn check_passes_whatever_encode_writes(text in "[a-z0-9,\"\r\n ｱ-ﾝぁ-んァ-ヶ亜-熙①-⑳Ⅰ-Ⅹ㈱髙﨑]{0,40}") {
            let text = to_representable(&text);
            let bytes = encode(&text).unwrap();
            prop_assert_eq!(check(&bytes), Ok(()));
            prop_assert_eq!(char_count(&bytes), text.chars().count());
        }

        #[test]
        fn encode_never_panics(text in "\\PC{0,64}") {
            if let Ok(bytes) = encode(&text) {
                prop_assert!(decode(&bytes).is_ok());
            }
        }
    }
}
