//! The one source of time: [`Clock`], with a system and a simulated implementation.

use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

use time::{Date, Duration, Month, OffsetDateTime, Time, UtcOffset};

use crate::ErrorCode;

/// Japan Standard Time (日本標準時), UTC+09:00, the time zone of every date in the ecosystem.
pub const JST: UtcOffset = time::macros::offset!(+9);

/// The source of the current time for every party.
///
/// Parties never read the system time; they are handed a clock. Scenarios use a [`SimulatedClock`], so a
/// run is replayable and certificates can expire in simulated time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant, in JST.
    fn now(&self) -> OffsetDateTime;
}

/// The machine's clock, for `serve` against real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc().to_offset(JST)
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct SimulatedClock {
    now: Mutex<OffsetDateTime>,
}

impl SimulatedClock {
    /// A clock standing at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(start.to_offset(JST)),
        }
    }

    /// Moves the clock to `instant` (forwards or backwards).
    pub fn set(&self, instant: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = instant.to_offset(JST);
    }

    /// Moves the clock forward by `span`, calendar-aware in JST; returns the new time, or `None` (and
    /// stays put) when the result would pass the year 9999.
    pub fn advance(&self, span: CalendarSpan) -> Option<OffsetDateTime> {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = span.add_to(*now)?;
        Some(*now)
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The last second of `date` in JST: 23:59:59, the instant until which an end date (e.g. a certificate's
/// 有効期限) is valid.
pub fn end_of_day_jst(date: Date) -> OffsetDateTime {
    date.with_time(Time::from_hms(23, 59, 59).unwrap_or(Time::MIDNIGHT))
        .assume_offset(JST)
}

/// `date` moved by `months` calendar months (backwards when negative), keeping the day of month where it
/// exists and clamping to the month's last day otherwise (2028-05-31 − 3 months = 2028-02-29); `None`
/// outside the years the calendar supports.
pub fn add_months(date: Date, months: i64) -> Option<Date> {
    let total = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + months;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    Date::from_calendar_date(year, month, date.day().min(month.length(year))).ok()
}

/// Formats an instant as `YYYY-MM-DD HH:MM:SS` in JST, the way reports and messages show simulated time.
pub fn format_jst(at: OffsetDateTime) -> String {
    let at = at.to_offset(JST);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Why a span such as `3y2mo` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "span `{0}` must be one or more of <number><unit> with units y, mo, w, d, h, m, s (e.g. `3y`, `1h30m`)"
)]
pub struct SpanError(String);

impl SpanError {
    /// The stable code of this refusal.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::SpanInvalid
    }
}

/// A forward span of calendar time: whole months (years are 12 months) plus a fixed number of seconds.
///
/// Months are added first, on the JST calendar, keeping the day of month where it exists and clamping to
/// the month's last day otherwise (2024-02-29 + 1y = 2025-02-28); the seconds follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CalendarSpan {
    months: u32,
    seconds: u64,
}

impl CalendarSpan {
    /// A span of whole months.
    pub fn months(months: u32) -> Self {
        Self { months, seconds: 0 }
    }

    /// A span of seconds.
    pub fn seconds(seconds: u64) -> Self {
        Self { months: 0, seconds }
    }

    /// `instant` moved forward by this span, or `None` past the year 9999.
    pub fn add_to(&self, instant: OffsetDateTime) -> Option<OffsetDateTime> {
        let local = instant.to_offset(JST);
        let moved = local.replace_date(add_months(local.date(), i64::from(self.months))?);
        moved.checked_add(Duration::seconds(i64::try_from(self.seconds).ok()?))
    }
}

impl FromStr for CalendarSpan {
    type Err = SpanError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || SpanError(s.to_owned());
        let mut span = CalendarSpan::default();
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(err());
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let value: u64 = rest[..digits].parse().map_err(|_| err())?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let unit = &rest[..unit_len];
            rest = rest[unit_len..].trim_start();
            let months = |per: u64| u32::try_from(value.checked_mul(per)?).ok();
            let seconds = |per: u64| value.checked_mul(per);
            match unit {
                "y" => {
                    span.months = span
                        .months
                        .checked_add(months(12).ok_or_else(err)?)
                        .ok_or_else(err)?
                }
                "mo" => {
                    span.months = span
                        .months
                        .checked_add(months(1).ok_or_else(err)?)
                        .ok_or_else(err)?
                }
                "w" | "d" | "h" | "m" | "s" => {
                    let per = match unit {
                        "w" => 7 * 86_400,
                        "d" => 86_400,
                        "h" => 3_600,
                        "m" => 60,
                        _ => 1,
                    };
                    span.seconds = span
                        .seconds
                        .checked_add(seconds(per).ok_or_else(err)?)
                        .ok_or_else(err)?;
                }
                _ => return Err(err()),
            }
        }
        Ok(span)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn spans_add_calendar_months_then_seconds() {
        let start = datetime!(2025-05-01 09:00 +9);
        assert_eq!(
            "3y".parse::<CalendarSpan>().unwrap().add_to(start).unwrap(),
            datetime!(2028-05-01 09:00 +9)
        );
        assert_eq!(
            "1y1mo1d1h1m1s"
                .parse::<CalendarSpan>()
                .unwrap()
                .add_to(start)
                .unwrap(),
            datetime!(2026-06-02 10:01:01 +9)
        );
        assert_eq!(
            "2w".parse::<CalendarSpan>().unwrap().add_to(start).unwrap(),
            datetime!(2025-05-15 09:00 +9)
        );
        let leap = datetime!(2024-02-29 12:00 +9);
        assert_eq!(
            "1y".parse::<CalendarSpan>().unwrap().add_to(leap).unwrap(),
            datetime!(2025-02-28 12:00 +9)
        );
        let end_of_jan = datetime!(2025-01-31 00:00 +9);
        assert_eq!(
            "1mo".parse::<CalendarSpan>().unwrap().add_to(end_of_jan).unwrap(),
            datetime!(2025-02-28 00:00 +9)
        );
    }

    #[test]
    fn months_follow_the_jst_calendar_not_utc() {
        // 2025-01-31 08:00 JST is still 2025-01-30 in UTC; a month later must be 2025-02-28 JST.
        let start = datetime!(2025-01-30 23:00 UTC);
        let moved = CalendarSpan::months(1).add_to(start).unwrap();
        assert_eq!(moved, datetime!(2025-02-28 08:00 +9));
    }

    #[test]
    fn refuses_bad_spans() {
        for bad in [
            "",
            "3",
            "y",
            "3x",
            "-1s",
            "1.5h",
            "3 years",
            "99999999999999999999s",
        ] {
            assert_eq!(
                bad.parse::<CalendarSpan>().unwrap_err().code(),
                ErrorCode::SpanInvalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn simulated_clock_moves_only_when_told() {
        let clock = SimulatedClock::new(datetime!(2025-05-01 00:00 UTC));
        assert_eq!(clock.now().offset(), JST);
        assert_eq!(clock.now(), datetime!(2025-05-01 09:00 +9));
        clock.advance(CalendarSpan::seconds(1)).unwrap();
        assert_eq!(clock.now(), datetime!(2025-05-01 09:00:01 +9));
        assert_eq!(clock.advance(CalendarSpan::months(12 * 9000)), None);
        assert_eq!(clock.now(), datetime!(2025-05-01 09:00:01 +9));
        clock.set(datetime!(2020-01-01 00:00 +9));
        assert_eq!(clock.now(), datetime!(2020-01-01 00:00 +9));
    }

    #[test]
    fn end_of_day_is_the_last_jst_second() {
        let date = time::macros::date!(2028 - 04 - 30);
        assert_eq!(end_of_day_jst(date), datetime!(2028-04-30 23:59:59 +9));
    }

    proptest! {
        #[test]
        fn span_parser_never_panics(s in "\\PC{0,16}") {
            let _ = s.parse::<CalendarSpan>();
        }

        #[test]
        fn adding_a_parsed_span_never_panics(n in 0u64..100_000, unit in prop::sample::select(vec!["y", "mo", "w", "d", "h", "m", "s"])) {
            if let Ok(span) = format!("{n}{unit}").parse::<CalendarSpan>() {
                let start = time::macros::datetime!(2025-05-01 09:00 +9);
                if let Some(moved) = span.add_to(start) {
                    prop_assert!(moved >= start);
                }
            }
        }
    }
}
