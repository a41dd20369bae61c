//! The usage-application site (利用状況Webサイト): the usage application (利用申請), the personal user ID
//! (個人ユーザID) it issues for the linkage client's first login step, and the licence ledger (ライセンス):
//! one licence per office number, 21,000 yen a year paid by deduction or invoice, the free pass
//! (フリーパス) for applications from 2025-06-01 with its automatic conversion to a paid licence, manual
//! renewal for older applications, and no cancellation.
//!
//! Architecture invariants:
//! - Sans-IO: [`UsageSite`] is a state machine; every operation takes `now` from the caller's clock. Logging
//!   in asks the e-billing [`Portal`] whether the `KJ` ID and its password may be used, exactly as the real
//!   site defers to the portal's accounts.
//! - Time-driven changes (a licence lapsing, the free pass converting, a deduction settling) are derived
//!   from `now` when asked, never from polling, so results do not depend on when anyone looked.
//! - A refused operation changes nothing.
//! - Deterministic: personal user IDs are numbered in application order and their passwords come from a
//!   seeded generator.

mod application;
mod ledger;

use std::collections::BTreeMap;
use std::fmt;

use careplan_core::{
    APPLICATIONS_OPEN, ErrorCode, JST, LicenceStanding, OfficeNumber, add_months, format_jst,
};
use careplan_eseikyu::{Portal, PortalError, SessionPolicy, SessionRefusal, Sessions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime, Time};

pub use application::{
    APPLICATION_COMPLETE, ApplicationViolation, PaymentMethod, PersonName, UsageApplication,
    check_application,
};
pub use ledger::{LicenceView, Renewal, Settlement, Term};

use ledger::{Licence, paid_term, term_end};

/// The site's rules; each is a published fact or a documented default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceConfig {
    /// The yearly licence fee in yen, tax included (21,000).
    pub annual_fee_yen: u32,
    /// Applications from this day (JST) renew automatically and, through [`Self::free_pass_until`], start
    /// with the free pass (2025-06-01); earlier ones are paid from the start and renew by hand.
    pub free_pass_from: Date,
    /// The last day (JST) an application gets the free pass (2026-05-31: the usage terms' supplementary
    /// provisions drop the free-pass clause after 令和8年5月31日). Later applications are paid from the
    /// start and still renew automatically (the automatic renewal is in the terms themselves).
    pub free_pass_until: Date,
    /// The day of the month after a term starts on which a deduction from the care-benefit payment
    /// settles (assumed: the 20th; clamped to the month's length).
    pub settlement_day: u8,
    /// How many months before a licence's last day a manual renewal opens, at 00:00:00 JST of that day
    /// (assumed: 1).
    pub renewal_opens_months: u8,
    /// How long a login session lives (assumed: 30 minutes idle, 8 hours in all).
    pub sessions: SessionPolicy,
}

impl Default for LicenceConfig {
    fn default() -> Self {
        Self {
            annual_fee_yen: 21_000,
            free_pass_from: time::macros::date!(2025 - 06 - 01),
            free_pass_until: time::macros::date!(2026 - 05 - 31),
            settlement_day: 20,
            renewal_opens_months: 1,
            sessions: SessionPolicy::default(),
        }
    }
}

/// A personal user ID (個人ユーザID) such as `careplan@0001`, the first step of the linkage client's
/// login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct PersonalUserId(u32);

const PERSONAL_PREFIX: &str = "careplan@";

impl fmt::Display for PersonalUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PERSONAL_PREFIX}{:04}", self.0)
    }
}

impl std::str::FromStr for PersonalUserId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix(PERSONAL_PREFIX)
            .filter(|digits| digits.len() >= 4 && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse().ok())
            .map(PersonalUserId)
            .ok_or_else(|| format!("`{s}` is not a personal user ID (careplan@ and at least 4 digits)"))
    }
}

impl From<PersonalUserId> for String {
    fn from(id: PersonalUserId) -> Self {
        id.to_string()
    }
}

impl TryFrom<String> for PersonalUserId {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Why the site refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenceError {
    /// The portal refused the `KJ` ID or its password (temporary, expired, wrong, locked, proxy).
    #[error(transparent)]
    Account(PortalError),
    /// No such session.
    #[error("not logged in to the usage-application site")]
    SessionInvalid,
    /// The session ended (idle or open too long).
    #[error(
        "the usage-application site's session has ended (30 minutes without use, or 8 hours after the login by default): log in again"
    )]
    SessionExpired,
    /// Invalid fields; every one is listed.
    #[error("the usage application has invalid fields: {}", .0.iter().map(|v| v.code().as_str()).collect::<Vec<_>>().join(", "))]
    Application(Vec<ApplicationViolation>),
    /// The office number already has a usage application.
    #[error("office {0} has already applied; there is one licence per office number")]
    AlreadyApplied(OfficeNumber),
    /// Before the site opened to applications (2023-04-01).
    #[error("usage applications open at 2023-04-01 00:00:00 JST")]
    NotOpen,
    /// The office never applied.
    #[error("office {0} has not filed a usage application")]
    NotApplied(OfficeNumber),
    /// Cancellation and refunds are never possible.
    #[error("a licence cannot be cancelled or refunded after the application, for any reason")]
    CancelNotAllowed,
    /// Manual renewal is not open yet.
    #[error("renewal opens at {} JST", format_jst(*.opens))]
    RenewalTooEarly {
        /// When it opens.
        opens: OffsetDateTime,
    },
    /// The next term is already renewed.
    #[error("the licence is already renewed until {until}")]
    AlreadyRenewed {
        /// The renewed term's last day.
        until: Date,
    },
    /// The licence renews itself.
    #[error("the licence renews automatically; stop auto-renewal to let it end instead")]
    RenewsAutomatically,
    /// The licence renews by hand only.
    #[error("licences applied for before {0} renew by hand; auto-renewal does not apply")]
    AutoRenewalUnavailable(Date),
    /// Auto-renewal cannot restart a lapsed licence.
    #[error("the licence lapsed at {} JST; renew it by hand", format_jst(*.ended))]
    Lapsed {
        /// The lapsed term's last instant.
        ended: OffsetDateTime,
    },
    /// No fee is waiting for an invoice payment.
    #[error("no licence fee is due by invoice")]
    NothingDue,
    /// The personal user ID or its password is wrong.
    #[error("personal user ID or password is wrong")]
    PersonalLoginFailed,
    /// A date outside the calendar the simulator supports.
    #[error("the licence term would leave the supported calendar")]
    CalendarOverflow,
}

impl LicenceError {
    /// The stable code of this refusal; for an invalid application, the first invalid field's.
    pub fn code(&self) -> ErrorCode {
        self.codes()
            .first()
            .copied()
            .unwrap_or(ErrorCode::ApplicationOfficeNameMissing)
    }

    /// Every code of this refusal: one per invalid field of an application, one per broken password rule.
    pub fn codes(&self) -> Vec<ErrorCode> {
        match self {
            LicenceError::Account(e) => e.codes(),
            LicenceError::Application(violations) => violations.iter().map(|v| v.code()).collect(),
            LicenceError::SessionInvalid => vec![ErrorCode::SessionInvalid],
            LicenceError::SessionExpired => vec![ErrorCode::SessionExpired],
            LicenceError::AlreadyApplied(_) => vec![ErrorCode::UsageApplicationExists],
            LicenceError::NotApplied(_) => vec![ErrorCode::UsageNotApplied],
            LicenceError::NotOpen => vec![ErrorCode::ServiceNotStarted],
            LicenceError::CancelNotAllowed => vec![ErrorCode::LicenceCancelNotAllowed],
            LicenceError::RenewalTooEarly { .. } => vec![ErrorCode::LicenceRenewalTooEarly],
            LicenceError::AlreadyRenewed { .. } => vec![ErrorCode::LicenceAlreadyRenewed],
            LicenceError::RenewsAutomatically => vec![ErrorCode::LicenceRenewsAutomatically],
            LicenceError::AutoRenewalUnavailable(_) => vec![ErrorCode::LicenceAutoRenewalUnavailable],
            LicenceError::Lapsed { .. } => vec![ErrorCode::LicenceLapsed],
            LicenceError::NothingDue => vec![ErrorCode::LicenceNothingDue],
            LicenceError::PersonalLoginFailed => vec![ErrorCode::PersonalLoginFailed],
            LicenceError::CalendarOverflow => vec![ErrorCode::SpanInvalid],
        }
    }
}

/// A logged-in session of the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SiteSession(u64);

impl SiteSession {
    /// The session with this number, as a client hands it back.
    pub fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// The session's number.
    pub fn raw(self) -> u64 {
        self.0
    }
}

/// The personal account the site shows after the application: the linkage client's first login step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalAccount {
    /// The personal user ID.
    pub user_id: PersonalUserId,
    /// Its password.
    pub password: String,
}

/// What an accepted application answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// 「利用申請が正常に完了しております。」
    pub message: String,
    /// The personal account issued.
    pub account: PersonalAccount,
    /// The licence as it stands.
    pub licence: LicenceView,
}

/// The usage-application site and its licence ledger, for every office.
#[derive(Debug)]
pub struct UsageSite {
    config: LicenceConfig,
    rng: ChaCha8Rng,
    licences: BTreeMap<OfficeNumber, Licence>,
    sessions: Sessions<OfficeNumber>,
}

impl UsageSite {
    /// An empty site whose personal passwords come from `seed`.
    pub fn new(config: LicenceConfig, seed: u64) -> Self {
        Self {
            sessions: Sessions::new(config.sessions),
            config,
            rng: ChaCha8Rng::seed_from_u64(seed),
            licences: BTreeMap::new(),
        }
    }

    /// The rules in force.
    pub fn config(&self) -> &LicenceConfig {
        &self.config
    }

    /// Logs in with the office's `KJ` ID and its changed, unexpired password, as the portal checks them
    /// (a temporary, expired or wrong password, a locked account or a proxy ID is refused with the
    /// portal's code).
    pub fn login(
        &mut self,
        now: OffsetDateTime,
        portal: &mut Portal,
        user_id: &str,
        password: &str,
    ) -> Result<SiteSession, LicenceError> {
        let office = portal
            .check_linkage_login(now, user_id, password)
            .map_err(LicenceError::Account)?;
        // Drawn from the site's random stream (a replay gives the same), below 2^53 for JSON readers.
        Ok(SiteSession(self.sessions.open(now, &mut self.rng, office)))
    }

    /// Ends a session.
    pub fn logout(&mut self, session: SiteSession) {
        self.sessions.close(session.0);
    }

    fn office_of(&mut self, now: OffsetDateTime, session: SiteSession) -> Result<OfficeNumber, LicenceError> {
        self.sessions
            .owner(now, session.0)
            .map_err(|refusal| match refusal {
                SessionRefusal::Invalid => LicenceError::SessionInvalid,
                SessionRefusal::Expired => LicenceError::SessionExpired,
            })
    }

    fn licence_mut(
        &mut self,
        now: OffsetDateTime,
        session: SiteSession,
    ) -> Result<(OfficeNumber, &mut Licence), LicenceError> {
        let office = self.office_of(now, session)?;
        let licence = self
            .licences
            .get_mut(&office)
            .ok_or(LicenceError::NotApplied(office))?;
        Ok((office, licence))
    }

    /// Files the usage application of the session's office: every field is checked, then the office gets
    /// its personal account and its licence.
    pub fn apply(
        &mut self,
        now: OffsetDateTime,
        session: SiteSession,
        form: UsageApplication,
    ) -> Result<Registration, LicenceError> {
        let office = self.office_of(now, session)?;
        self.register(now, office, form)
    }

    /// Files a usage application for `office` at `now` without a session: the history a scenario starts
    /// from (offices that applied before it begins). The same checks apply as to [`Self::apply`].
    pub fn register(
        &mut self,
        now: OffsetDateTime,
        office: OfficeNumber,
        form: UsageApplication,
    ) -> Result<Registration, LicenceError> {
        if now < APPLICATIONS_OPEN {
            return Err(LicenceError::NotOpen);
        }
        if self.licences.contains_key(&office) {
            return Err(LicenceError::AlreadyApplied(office));
        }
        let violations = check_application(&form);
        if !violations.is_empty() {
            return Err(LicenceError::Application(violations));
        }
        let day = now.to_offset(JST).date();
        let automatic = day >= self.config.free_pass_from;
        let free_pass = automatic && day <= self.config.free_pass_until;
        let first = if free_pass {
            ledger::Term {
                start: now,
                end: term_end(now).ok_or(LicenceError::CalendarOverflow)?,
                fee_yen: 0,
                settlement: Settlement::Free,
            }
        } else {
            paid_term(&self.config, now, form.payment).ok_or(LicenceError::CalendarOverflow)?
        };
        let number = u32::try_from(self.licences.len() + 1).map_err(|_| LicenceError::CalendarOverflow)?;
        let account = PersonalAccount {
            user_id: PersonalUserId(number),
            password: personal_password(&mut self.rng),
        };
        let licence = Licence {
            application: form,
            applied_at: now,
            personal_user_id: account.user_id,
            personal_password: account.password.clone(),
            renewal: if automatic {
                Renewal::Automatic
            } else {
                Renewal::Manual
            },
            auto_renew: automatic,
            terms: vec![first],
        };
        let view = LicenceView::of(office, &licence, &self.config, now);
        self.licences.insert(office, licence);
        Ok(Registration {
            message: APPLICATION_COMPLETE.to_owned(),
            account,
            licence: view,
        })
    }

    /// The personal account the site shows to the session's office.
    pub fn personal_account(
        &mut self,
        now: OffsetDateTime,
        session: SiteSession,
    ) -> Result<PersonalAccount, LicenceError> {
        let office = self.office_of(now, session)?;
        let licence = self
            .licences
            .get(&office)
            .ok_or(LicenceError::NotApplied(office))?;
        Ok(PersonalAccount {
            user_id: licence.personal_user_id,
            password: licence.personal_password.clone(),
        })
    }

    /// The licence page of the session's office.
    pub fn licence(
        &mut self,
        now: OffsetDateTime,
        session: SiteSession,
    ) -> Result<LicenceView, LicenceError> {
        let office = self.office_of(now, session)?;
        self.view(now, office)
    }

    /// The licence page of `office` (what the simulator reports; offices see their own through a session).
    pub fn view(&self, now: OffsetDateTime, office: OfficeNumber) -> Result<LicenceView, LicenceError> {
        let licence = self
            .licences
            .get(&office)
            .ok_or(LicenceError::NotApplied(office))?;
        Ok(LicenceView::of(office, licence, &self.config, now))
    }

    /// Stops (`false`) or resumes (`true`) the automatic renewal of a licence applied for from 2025-06-01.
    /// It takes effect from the next term end on; a term already started is never cut short. Resuming is
    /// refused once the licence has lapsed.
    pub fn set_auto_renewal(
        &mut self,
        now: OffsetDateTime,
        session: SiteSession,
        on: bool,
    ) -> Result<LicenceView, LicenceError> {
        let config = self.config.clone();
        let (office, licence) = self.licence_mut(now, session)?;
        if licence.renewal == Renewal::Manual {
            return Err(LicenceError::AutoRenewalUnavailable(config.free_pass_from));
        }
        licence.settle(&config, now);
        if on
            && licence.standing(now) != LicenceStanding::Licensed
            && let Some(last) = licence.terms.last()
        {
            return Err(LicenceError::Lapsed { ended: last.end });
        }
        licence.auto_renew = on;
        Ok(LicenceView::of(office, licence, &config, now))
    }

    /// Renews a licence by hand for one more year: from the day after its last day when renewed in the
    /// renewal period (from [`LicenceConfig::renewal_opens_months`] before the last day), or from `now`
    /// once it has lapsed. Licences that renew themselves are refused.
    pub fn renew(&mut self, now: OffsetDateTime, session: SiteSession) -> Result<LicenceView, LicenceError> {
        let config = self.config.clone();
        let (office, licence) = self.licence_mut(now, session)?;
        licence.settle(&config, now);
        if licence.auto_renew {
            return Err(LicenceError::RenewsAutomatically);
        }
        let Some(last) = licence.terms.last().copied() else {
            return Err(LicenceError::NotApplied(office));
        };
        let start = if last.start > now {
            return Err(LicenceError::AlreadyRenewed {
                until: last.last_day(),
            });
        } else if last.end >= now {
            let opens = add_months(last.last_day(), -i64::from(config.renewal_opens_months))
                .ok_or(LicenceError::CalendarOverflow)?
                .with_time(Time::MIDNIGHT)
                .assume_offset(JST);
            if now < opens {
                return Err(LicenceError::RenewalTooEarly { opens });
            }
            last.end + Duration::SECOND
        } else {
            now
        };
        let term =
            paid_term(&config, start, licence.application.payment).ok_or(LicenceError::CalendarOverflow)?;
        licence.terms.push(term);
        Ok(LicenceView::of(office, licence, &config, now))
    }

    /// A cancellation request: never possible once applied (no refund for any reason, and a free pass
    /// cannot be ended mid-term either).
    pub fn cancel(&mut self, now: OffsetDateTime, session: SiteSession) -> Result<(), LicenceError> {
        self.licence_mut(now, session)?;
        Err(LicenceError::CancelNotAllowed)
    }

    /// Pays the oldest unpaid invoice of the session's office at `now`.
    pub fn pay_invoice(
        &mut self,
        now: OffsetDateTime,
        session: SiteSession,
    ) -> Result<LicenceView, LicenceError> {
        let config = self.config.clone();
        let (office, licence) = self.licence_mut(now, session)?;
        licence.settle(&config, now);
        let due = licence
            .terms
            .iter_mut()
            .find(|t| t.start <= now && matches!(t.settlement, Settlement::Invoice { paid_at: None }));
        let Some(term) = due else {
            return Err(LicenceError::NothingDue);
        };
        term.settlement = Settlement::Invoice { paid_at: Some(now) };
        Ok(LicenceView::of(office, licence, &config, now))
    }

    /// The linkage client's first login step: the personal user ID and its password; answers the office
    /// they belong to.
    pub fn personal_login(&self, user_id: &str, password: &str) -> Result<OfficeNumber, LicenceError> {
        let id: PersonalUserId = user_id.parse().map_err(|_| LicenceError::PersonalLoginFailed)?;
        self.licences
            .iter()
            .find(|(_, l)| l.personal_user_id == id && l.personal_password == password)
            .map(|(office, _)| *office)
            .ok_or(LicenceError::PersonalLoginFailed)
    }

    /// Where `office` stands at `now`: what the relay asks before it accepts a send.
    pub fn standing(&self, now: OffsetDateTime, office: OfficeNumber) -> LicenceStanding {
        match self.licences.get(&office) {
            // A clock set back before the application sees the office as it was then.
            Some(licence) if licence.applied_at <= now => licence.standing(now),
            _ => LicenceStanding::Unregistered,
        }
    }
}

/// A 12-character password of letters and digits, at least one of each.
fn personal_password(rng: &mut ChaCha8Rng) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz";
    const DIGITS: &[u8] = b"23456789";
    let mut password: Vec<u8> = (0..10)
        .map(|_| LETTERS[rng.random_range(0..LETTERS.len())])
        .collect();
    password.push(DIGITS[rng.random_range(0..DIGITS.len())]);
    password.push(DIGITS[rng.random_range(0..DIGITS.len())]);
    String::from_utf8_lossy(&password).into_owned()
}

#[cfg(test)]
mod tests;
