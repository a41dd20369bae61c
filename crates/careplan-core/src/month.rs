//! The service month (対象年月 / 提供年月).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

use crate::ErrorCode;

/// Why a string is not a care month.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service month `{0}` must be YYYYMM (or YYYY-MM) with a month 01–12")]
pub struct MonthError(String);

impl MonthError {
    /// The stable code of this refusal.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::CareMonthInvalid
    }
}

/// Service month (対象年月): the calendar month a plan or its actuals cover, written `YYYYMM` in files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CareMonth {
    year: i32,
    month: Month,
}

impl CareMonth {
    /// The month containing `date`.
    pub fn of(date: Date) -> Self {
        Self {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The first service month of the V4 standard (CSVバージョン 202504/202407): 2025-04. Earlier months are
    /// exchanged in the V3 layouts (202208 and before).
    pub const FIRST_V4: CareMonth = CareMonth {
        year: 2025,
        month: Month::April,
    };

    /// Builds a month from a year in 1000..=9999 and a month.
    pub fn new(year: i32, month: Month) -> Option<Self> {
        (1000..=9999).contains(&year).then_some(Self { year, month })
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The month of the year.
    pub fn month(&self) -> Month {
        self.month
    }

    /// The first day of the month.
    pub fn first_day(&self) -> Date {
        // Invariant: day 1 exists in every month of a year in 1000..=9999.
        Date::from_calendar_date(self.year, self.month, 1).unwrap_or(Date::MIN)
    }

    /// The number of days in the month.
    pub fn days(&self) -> u8 {
        self.month.length(self.year)
    }

    /// The given day of the month, if it exists.
    pub fn day(&self, day: u8) -> Option<Date> {
        Date::from_calendar_date(self.year, self.month, day).ok()
    }

    /// The following month.
    pub fn next(&self) -> Self {
        let year = if self.month == Month::December {
            self.year + 1
        } else {
            self.year
        };
        Self {
            year,
            month: self.month.next(),
        }
    }
}

impl FromStr for CareMonth {
    type Err = MonthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || MonthError(s.to_owned());
        // No allocation on the happy path: validators parse a month on every record.
        let (year, month) = match s.len() {
            6 => (s.get(..4), s.get(4..)),
            7 if s.as_bytes()[4] == b'-' => (s.get(..4), s.get(5..)),
            _ => return Err(err()),
        };
        let (Some(year), Some(month)) = (year, month) else {
            return Err(err());
        };
        if !(year.bytes().chain(month.bytes())).all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        // All digits (checked above): plain arithmetic, at most 9999 and 99.
        let number = |digits: &str| digits.bytes().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        let month = u8::try_from(number(month)).map_err(|_| err())?;
        let month = Month::try_from(month).map_err(|_| err())?;
        let year = i32::from(number(year));
        Self::new(year, month).ok_or_else(err)
    }
}

impl fmt::Display for CareMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}{:02}", self.year, u8::from(self.month))
    }
}

impl Serialize for CareMonth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CareMonth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms_and_prints_the_file_form() {
        let m: CareMonth = "2025-05".parse().unwrap();
        assert_eq!(m, "202505".parse().unwrap());
        assert_eq!(m.to_string(), "202505");
        assert_eq!(m.days(), 31);
        assert_eq!("202402".parse::<CareMonth>().unwrap().days(), 29);
        assert_eq!(
            "202512".parse::<CareMonth>().unwrap().next().to_string(),
            "202601"
        );
    }

    #[test]
    fn refuses_impossible_months() {
        for bad in [
            "202513", "202500", "2025-5", "20255", "abcdef", "2025/05", "0999-01", "+20255",
        ] {
            assert_eq!(
                bad.parse::<CareMonth>().unwrap_err().code(),
                ErrorCode::CareMonthInvalid,
                "{bad}"
            );
        }
    }
}
