//! The licence ledger (ライセンス): one licence per office number, a run of one-year terms, each with its
//! fee and how it is paid.
//!
//! Terms that automatic renewal adds are not stored the moment they start: [`extend`] derives them from
//! the last stored term whenever they are asked about, and [`Licence::settle`] stores them before anything
//! that changes the licence, so a change never rewrites what the past already decided.

use careplan_core::{JST, LicenceStanding, OfficeNumber, anniversary, end_of_day_jst};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime, Time};

use crate::application::{PaymentMethod, UsageApplication};

/// An optional date on the wire as the licence page shows it, `2026-06-14`, or `null` for `-`. (The
/// `time` crate's generated option module cannot read `null` inside internally tagged enums.)
mod iso_date_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use time::Date;
    use time::macros::format_description;

    pub(super) fn serialize<S: Serializer>(date: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
        date.map(|d| d.to_string()).serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Date>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| Date::parse(&text, format_description!("[year]-[month]-[day]")))
            .transpose()
            .map_err(serde::de::Error::custom)
    }
}
use crate::{LicenceConfig, PersonalUserId};

/// How a licence is renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Renewal {
    /// Renews itself at the end of each term unless auto-renewal is stopped (applications from
    /// 2025-06-01, which start with the free pass).
    Automatic,
    /// Renewed by hand on the site (applications before 2025-06-01).
    Manual,
}

/// How a term's fee is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Settlement {
    /// Nothing to pay: the free pass (フリーパス) year.
    Free,
    /// Deducted from a care-benefit payment; settles at this instant.
    Deduction {
        /// 00:00:00 JST of the settlement day.
        #[serde(with = "time::serde::rfc3339")]
        settles_at: OffsetDateTime,
    },
    /// Paid against an invoice; settled once paid.
    Invoice {
        /// When the office paid, if it has.
        #[serde(with = "time::serde::rfc3339::option")]
        paid_at: Option<OffsetDateTime>,
    },
}

/// One year of a licence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    /// First instant of the term.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    /// Last instant: 23:59:59 JST of its last day.
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
    /// The fee in yen (0 for the free pass).
    pub fee_yen: u32,
    /// How the fee is settled.
    pub settlement: Settlement,
}

impl Term {
    /// Whether the term covers `now`.
    pub fn covers(&self, now: OffsetDateTime) -> bool {
        self.start <= now && now <= self.end
    }

    /// Whether the fee is settled at `now` (a free term always is).
    pub fn is_paid(&self, now: OffsetDateTime) -> bool {
        match self.settlement {
            Settlement::Free => true,
            Settlement::Deduction { settles_at } => settles_at <= now,
            Settlement::Invoice { paid_at } => paid_at.is_some_and(|at| at <= now),
        }
    }

    /// The term's last day (JST).
    pub fn last_day(&self) -> Date {
        self.end.to_offset(JST).date()
    }
}

/// The last second of a one-year term starting at `start`: 23:59:59 JST of the day before the same date a
/// year later (a term from 29 February ends on 28 February). `None` past the calendar's end.
pub(crate) fn term_end(start: OffsetDateTime) -> Option<OffsetDateTime> {
    let first_day = start.to_offset(JST).date();
    Some(end_of_day_jst(anniversary(first_day, 1)?.previous_day()?))
}

/// 00:00:00 JST of the settlement day in the month after the one `start` falls in (the day is clamped to
/// the month's length).
pub(crate) fn settlement_instant(config: &LicenceConfig, start: OffsetDateTime) -> Option<OffsetDateTime> {
    let date = start.to_offset(JST).date();
    let (year, month) = match date.month() {
        Month::December => (date.year().checked_add(1)?, Month::January),
        month => (date.year(), month.next()),
    };
    let day = config.settlement_day.clamp(1, month.length(year));
    let day = Date::from_calendar_date(year, month, day).ok()?;
    Some(day.with_time(Time::MIDNIGHT).assume_offset(JST))
}

/// A paid term from `start`, settled as `payment` says.
pub(crate) fn paid_term(
    config: &LicenceConfig,
    start: OffsetDateTime,
    payment: PaymentMethod,
) -> Option<Term> {
    let settlement = match payment {
        PaymentMethod::Deduction => Settlement::Deduction {
            settles_at: settlement_instant(config, start)?,
        },
        PaymentMethod::Invoice => Settlement::Invoice { paid_at: None },
    };
    Some(Term {
        start,
        end: term_end(start)?,
        fee_yen: config.annual_fee_yen,
        settlement,
    })
}

/// Appends the terms automatic renewal has added by `now`: each starts the second after the previous one
/// ends, as a paid term (the free pass converts to a paid licence).
pub(crate) fn extend(
    terms: &mut Vec<Term>,
    config: &LicenceConfig,
    payment: PaymentMethod,
    auto_renew: bool,
    now: OffsetDateTime,
) {
    if !auto_renew {
        return;
    }
    while let Some(last) = terms.last()
        && last.end < now
        && let Some(next) = paid_term(config, last.end + Duration::SECOND, payment)
    {
        terms.push(next);
    }
}

/// An office's licence.
#[derive(Debug, Clone)]
pub(crate) struct Licence {
    pub(crate) application: UsageApplication,
    pub(crate) applied_at: OffsetDateTime,
    pub(crate) personal_user_id: PersonalUserId,
    pub(crate) personal_password: String,
    pub(crate) renewal: Renewal,
    pub(crate) auto_renew: bool,
    /// The stored terms, oldest first; never empty.
    pub(crate) terms: Vec<Term>,
}

impl Licence {
    /// The terms as of `now`, including those automatic renewal added.
    pub(crate) fn terms_at(&self, config: &LicenceConfig, now: OffsetDateTime) -> Vec<Term> {
        let mut terms = self.terms.clone();
        extend(&mut terms, config, self.application.payment, self.auto_renew, now);
        terms
    }

    /// Stores the terms automatic renewal added by `now`, before a change to the licence.
    pub(crate) fn settle(&mut self, config: &LicenceConfig, now: OffsetDateTime) {
        extend(
            &mut self.terms,
            config,
            self.application.payment,
            self.auto_renew,
            now,
        );
    }

    pub(crate) fn standing(&self, now: OffsetDateTime) -> LicenceStanding {
        let renewed_past_the_end = self.auto_renew && self.terms.last().is_some_and(|t| t.end < now);
        if renewed_past_the_end || self.terms.iter().any(|t| t.covers(now)) {
            LicenceStanding::Licensed
        } else {
            LicenceStanding::Unlicensed
        }
    }
}

/// The licence page (ライセンス情報) of an office at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceView {
    /// The office number.
    pub office: OfficeNumber,
    /// The personal user ID issued with the application.
    pub personal_user_id: PersonalUserId,
    /// Licensed, or unlicensed (lapsed).
    pub licensed: bool,
    /// The shown term is the free pass (フリーパス) year.
    pub free_pass: bool,
    /// The shown term's fee in yen.
    pub fee_yen: u32,
    /// How fees are paid.
    pub payment: PaymentMethod,
    /// Whether the shown term's fee is settled.
    pub paid: bool,
    /// The shown term's last day; `None` (shown as `-`) until its fee is settled.
    #[serde(with = "iso_date_option")]
    pub expiry: Option<Date>,
    /// Days left in the shown term, today included (残日数; 0 once lapsed); `None` (`-`) until paid.
    pub days_left: Option<i64>,
    /// How the licence renews.
    pub renewal: Renewal,
    /// Whether it will renew itself at the end of the term.
    pub auto_renew: bool,
    /// Every term so far and any renewed next term: the ledger.
    pub terms: Vec<Term>,
}

impl LicenceView {
    pub(crate) fn of(
        office: OfficeNumber,
        licence: &Licence,
        config: &LicenceConfig,
        now: OffsetDateTime,
    ) -> Self {
        let terms = licence.terms_at(config, now);
        // The term covering now; once lapsed, the last one that started.
        let shown = terms
            .iter()
            .find(|t| t.covers(now))
            .or_else(|| terms.iter().rev().find(|t| t.start <= now))
            .or(terms.first())
            .copied();
        let licensed = licence.standing(now) == LicenceStanding::Licensed;
        let (free_pass, fee_yen, paid, expiry, days_left) = match shown {
            Some(term) => {
                let paid = term.is_paid(now);
                let today = now.to_offset(JST).date();
                let days_left = (term.last_day() - today).whole_days() + 1;
                (
                    term.settlement == Settlement::Free,
                    term.fee_yen,
                    paid,
                    paid.then(|| term.last_day()),
                    paid.then_some(if licensed { days_left.max(0) } else { 0 }),
                )
            }
            None => (false, 0, false, None, None),
        };
        Self {
            office,
            personal_user_id: licence.personal_user_id,
            licensed,
            free_pass,
            fee_yen,
            payment: licence.application.payment,
            paid,
            expiry,
            days_left,
            renewal: licence.renewal,
            auto_renew: licence.auto_renew,
            terms,
        }
    }
}
