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

/// When the care plan data linkage system went into production (本番稼働, 2023-04-20 JST): no send unit is
/// sent or received before it.
pub const SERVICE_START: OffsetDateTime = time::macros::datetime!(2023-04-20 00:00:00 +9);

/// When the usage-application site opened to applications (2023-04-01 JST), before production.
pub const APPLICATIONS_OPEN: OffsetDateTime = time::macros::datetime!(2023-04-01 00:00:00 +9);

/// The first instant a simulated clock may stand at: 2000-01-01 00:00:00 JST.
pub const CLOCK_MIN: OffsetDateTime = time::macros::datetime!(2000-01-01 00:00:00 +9);

/// The last instant a simulated clock may stand at: 2099-12-31 23:59:59 JST. Certificates issued up to it
/// (valid for three years) and revocation lists stay expressible as X.509 times, and every date the
/// standard writes (`YYYYMMDD`) keeps four digits.
pub const CLOCK_MAX: OffsetDateTime = time::macros::datetime!(2099-12-31 23:59:59 +9);

/// An instant outside [`CLOCK_MIN`]..=[`CLOCK_MAX`], refused so that no setting can leave the ecosystem
/// unable to issue a certificate, draw a revocation list or start again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{instant} is outside the simulated clock's range, 2000-01-01 00:00:00 to 2099-12-31 23:59:59 JST")]
pub struct ClockOutOfRange {
    /// The instant asked for, as given.
    pub instant: String,
}

impl ClockOutOfRange {
    /// `CLOCK_OUT_OF_RANGE`.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::ClockOutOfRange
    }
}

/// `instant` in JST, if the simulated clock may stand there.
pub fn within_clock_range(instant: OffsetDateTime) -> Result<OffsetDateTime, ClockOutOfRange> {
    if (CLOCK_MIN..=CLOCK_MAX).contains(&instant) {
        Ok(instant.to_offset(JST))
    } else {
        Err(ClockOutOfRange {
            instant: instant.to_string(),
        })
    }
}

/// A clock that only moves when told to, within [`CLOCK_MIN`]..=[`CLOCK_MAX`].
#[derive(Debug)]
pub struct SimulatedClock {
    now: Mutex<OffsetDateTime>,
}

impl SimulatedClock {
    /// A clock standing at `start`, brought into range if it is not (a start is checked where it is
    /// given; this keeps a clock from ever standing outside).
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(start.clamp(CLOCK_MIN, CLOCK_MAX).to_offset(JST)),
        }
    }

    /// Moves the clock to `instant` (forwards or backwards); an instant out of range is refused and the
    /// clock stays put.
    pub fn set(&self, instant: OffsetDateTime) -> Result<(), ClockOutOfRange> {
        let instant = within_clock_range(instant)?;
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = instant;
        Ok(())
    }

    /// Moves the clock forward by `span`, calendar-aware in JST; returns the new time, or refuses (and
    /// stays put) when it would leave the range.
    pub fn advance(&self, span: CalendarSpan) -> Result<OffsetDateTime, ClockOutOfRange> {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        let moved = span.add_to(*now).ok_or_else(|| ClockOutOfRange {
            instant: format!("{} + {span:?}", *now),
        })?;
        *now = within_clock_range(moved)?;
        Ok(*now)
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

/// The anniversary of `date` `years` later: the same month and day, or 1 March where that year has no
/// 29 February. The one calendar rule of the ecosystem's yearly periods: a period of `years` from `date`
/// ends at the end of the day before it (民法143条: with no corresponding day, at the end of February) —
/// a licence term — while a certificate's end date is the anniversary itself, as the e-billing manual's
/// example shows (2023/04/01 → 2026/04/01 23:59:59). `None` outside the years the calendar supports.
pub fn anniversary(date: Date, years: i32) -> Option<Date> {
    let year = date.year().checked_add(years)?;
    date.replace_year(year)
        .or_else(|_| Date::from_calendar_date(year, Month::March, 1))
        .ok()
}

/// Formats an instant as `YYYY-MM-DD HH:MM:SS` in JST, the way reports and messages show simulated time.
pub fn format_jst(at: OffsetDateTime) -> String {
    // An instant whose JST date passes the year 9999 is shown in its own offset rather than overflow.
    let at = at.checked_to_offset(JST).unwrap_or(at);
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
mod range_tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_clock_stays_put_when_asked_out_of_its_range() {
        let clock = SimulatedClock::new(datetime!(2026-04-01 09:00 +9));
        for instant in [
            datetime!(1999-12-31 23:59:59 +9),
            datetime!(2100-01-01 00:00 +9),
            datetime!(9999-12-31 23:59:59 UTC),
            datetime!(-9999-01-01 00:00 UTC),
        ] {
            let err = clock.set(instant).unwrap_err();
            assert_eq!(err.code(), ErrorCode::ClockOutOfRange);
            assert_eq!(clock.now(), datetime!(2026-04-01 09:00 +9));
        }
        assert!(clock.advance(CalendarSpan::months(12 * 100)).is_err());
        assert_eq!(clock.now(), datetime!(2026-04-01 09:00 +9));
        clock.set(CLOCK_MAX).unwrap();
        assert_eq!(clock.now(), CLOCK_MAX);
        assert!(clock.advance(CalendarSpan::seconds(1)).is_err());
        // A start out of range is brought in; JST formatting never overflows.
        assert_eq!(
            SimulatedClock::new(datetime!(9999-12-31 23:59:59 UTC)).now(),
            CLOCK_MAX
        );
        assert_eq!(
            format_jst(datetime!(9999-12-31 23:59:59 UTC)),
            "9999-12-31 23:59:59"
        );
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn an_anniversary_keeps_the_day_and_a_missing_29_february_moves_to_1_march() {
        use time::macros::date;
        assert_eq!(anniversary(date!(2023 - 04 - 01), 3), Some(date!(2026 - 04 - 01)));
        assert_eq!(anniversary(date!(2024 - 02 - 28), 3), Some(date!(2027 - 02 - 28)));
        assert_eq!(anniversary(date!(2024 - 02 - 29), 3), Some(date!(2027 - 03 - 01)));
        assert_eq!(anniversary(date!(2024 - 02 - 29), 4), Some(date!(2028 - 02 - 29)));
        assert_eq!(anniversary(date!(9999 - 01 - 01), 1), None);
    }

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
        assert!(clock.advance(CalendarSpan::months(12 * 9000)).is_err());
        assert_eq!(clock.now(), datetime!(2025-05-01 09:00:01 +9));
        clock.set(datetime!(2020-01-01 00:00 +9)).unwrap();
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
