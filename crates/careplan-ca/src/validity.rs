//! Validity periods, the renewal window and the nightly issuance pause.

use careplan_core::{JST, add_months, anniversary, end_of_day_jst};
use time::{Duration, OffsetDateTime, Time};

/// The CA's rules; the defaults are the published ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaConfig {
    /// Validity of office certificates in years (3). The end date is the anniversary — the same date
    /// that many years later, 1 March for a 29 February start in a common year — valid until 23:59:59
    /// JST, as the e-billing manual's example shows (start 2023/04/01, end date 2026/04/01, valid until
    /// 2026/04/01 23:59:59).
    pub validity_years: u8,
    /// How many months before the end date renewal opens (3), at 00:00:00 JST of that day.
    pub renewal_window_months: u8,
    /// Start of the nightly issuance pause, JST (01:30).
    pub pause_from: Time,
    /// End of the pause, JST (06:30): applications waiting through the night are issued at this instant.
    pub pause_until: Time,
}

impl Default for CaConfig {
    fn default() -> Self {
        Self {
            validity_years: 3,
            renewal_window_months: 3,
            pause_from: time::macros::time!(01:30),
            pause_until: time::macros::time!(06:30),
        }
    }
}

/// When an office may renew a certificate: from `opens` to `closes`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalWindow {
    /// 00:00:00 JST of the day [`CaConfig::renewal_window_months`] before the end date.
    pub opens: OffsetDateTime,
    /// The certificate's last second: 23:59:59 JST of the end date.
    pub closes: OffsetDateTime,
}

/// The two renewal options (更新方法) the portal offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RenewalStart {
    /// Valid from 00:00:00 of the day after the current end date: no gap, no overlap.
    DayAfterEnd,
    /// Valid from the issue date, for the full period (when the old certificate cannot be installed, e.g.
    /// after the issuance password was lost).
    IssueDate,
}

impl RenewalStart {
    /// The name scenarios and the HTTP API use: `day_after_end` or `issue_date`.
    pub fn as_str(self) -> &'static str {
        match self {
            RenewalStart::DayAfterEnd => "day_after_end",
            RenewalStart::IssueDate => "issue_date",
        }
    }
}

impl std::str::FromStr for RenewalStart {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "day_after_end" => Ok(RenewalStart::DayAfterEnd),
            "issue_date" => Ok(RenewalStart::IssueDate),
            other => Err(format!(
                "renewal start `{other}`: expected day_after_end or issue_date"
            )),
        }
    }
}

impl CaConfig {
    /// The validity of a certificate starting at `not_before`: from that second (JST, whole seconds) to
    /// 23:59:59 JST of its anniversary `validity_years` later. A 29 February start ends on 1 March in a
    /// common year, a day after one started on 28 February: never shorter.
    pub fn validity_from(&self, not_before: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
        let not_before = not_before
            .to_offset(JST)
            .replace_nanosecond(0)
            .unwrap_or(not_before);
        let start = not_before.date();
        let end_date = anniversary(start, i32::from(self.validity_years))
            .unwrap_or(start + Duration::days(365 * i64::from(self.validity_years)));
        (not_before, end_of_day_jst(end_date))
    }

    /// The renewal window of a certificate ending at `not_after`.
    pub fn renewal_window(&self, not_after: OffsetDateTime) -> RenewalWindow {
        let end_date = not_after.to_offset(JST).date();
        let opens_on = add_months(end_date, -i64::from(self.renewal_window_months)).unwrap_or(end_date);
        RenewalWindow {
            opens: opens_on.midnight().assume_offset(JST),
            closes: not_after,
        }
    }

    /// The first instant at or after `ready` outside the nightly pause.
    pub fn issuance_instant(&self, ready: OffsetDateTime) -> OffsetDateTime {
        let local = ready.to_offset(JST);
        let time = local.time();
        if self.pause_from <= time && time < self.pause_until {
            local.replace_time(self.pause_until)
        } else {
            local
        }
    }

    /// 00:00:00 JST of the day after the end date of a certificate ending at `not_after`: where a
    /// continuity renewal starts.
    pub fn day_after_end(&self, not_after: OffsetDateTime) -> OffsetDateTime {
        let end_date = not_after.to_offset(JST).date();
        (end_date + Duration::days(1)).midnight().assume_offset(JST)
    }
}
