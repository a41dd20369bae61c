//! The MHLW care plan CSV standard (ケアプランデータ連携標準仕様), V4.1 (CSVバージョン `202407`).
//!
//! - [`FileName`]: the standard file-name grammar, `PREFIX[_YYYYMM]_<from>_<kind>_<to>_<kind>_<serial>.CSV`.
//! - [`ms932`]: encoding and decoding of Shift_JIS (MS932), refusing 外字 and a UTF-8 BOM, and a check of
//!   MS932 bytes that judges them as decoding would without writing the text out.
//! - [`csv_text`]: the quoting rule (free text always quoted, codes never) and a quote-aware reader of
//!   UTF-8 text or of MS932 bytes as they are.
//! - [`records`]: typed records of the tables exchanged in a month's plan/actual round trip.
//! - [`check_send_unit`]: which files travel together (送信単位).
//! - [`service_codes`]: the national service-code table as a user prepares it, for the checks that need it.
//! - [`validate`]: the validator and its catalogue of rules (`docs/rules.md`).
//! - [`requirements`]: the official text's requirements, each traced to the rules that enforce it
//!   (`docs/requirements.md`).
//!
//! Architecture invariants: no I/O, no clock; every refusal maps to an
//! [`ErrorCode`](careplan_core::ErrorCode). Values of the types here are valid by construction.

pub mod csv_text;
mod file_name;
pub mod layout;
pub mod ms932;
pub mod records;
pub mod requirements;
mod send_unit;
pub mod service_codes;
pub mod validate;

pub use file_name::{FileKind, FileName, FileNameError, MonthSegment, SendUnitNames, Serial};
pub use send_unit::{PlanTable3, SendUnitError, SendUnitKind, check_send_unit};

/// CSVバージョン of V4.1, the value every V4 file emits (applies from service month 2025-04).
pub const CSV_VERSION_V4_1: &str = "202407";
