//! Vocabulary shared by every careplan-sim crate: identifiers of the care plan data linkage system
//! (ケアプランデータ連携システム), the [`Clock`], the [`Journal`] of the web parties' requests, and the catalogue of stable [`ErrorCode`]s.
//!
//! Architecture invariants:
//! - This crate performs no I/O and depends on no other careplan crate.
//! - Identifiers are parsed once, at the edge, into newtypes; a value of an identifier type is always
//!   valid ("parse, don't validate").
//! - Every refusal anywhere in the project maps to exactly one [`ErrorCode`]; the catalogue in
//!   `docs/error-codes.md` is generated from [`ErrorCode::ALL`] and checked by a test.
//! - Time comes only from a [`Clock`]; nothing in the project reads the system time directly except
//!   [`SystemClock`].

mod clock;
mod error_code;
mod event;
mod ids;
mod journal;
mod month;
mod standing;

pub use clock::{
    APPLICATIONS_OPEN, CLOCK_MAX, CLOCK_MIN, CalendarSpan, Clock, ClockOutOfRange, JST, SERVICE_START,
    SimulatedClock, SpanError, SystemClock, add_months, anniversary, end_of_day_jst, format_jst,
    within_clock_range,
};
pub use error_code::{ErrorCode, UnknownErrorCode};
pub use event::{Event, EventKind, EventLog, FileDigest, Party};
pub use ids::{IdError, OfficeNumber, OfficeUserId, PrefectureCode, ServiceKind};
pub use journal::{Journal, JournalEntry, JournalError, MemoryJournal, NewEntry};
pub use month::{CareMonth, MonthError};
pub use standing::LicenceStanding;
