//! The billing federation's ID issuance (国保連合会) and the e-billing portal (電子請求受付システム): office
//! accounts, temporary and changed passwords, the password policy and lifetime, lockout after wrong
//! passwords, the security e-mail, re-issue of lost login details by e-mail or by post, and the
//! certificate-issuance password (証明書発行用パスワード), and certificate applications to the e-seikyu CA
//! (approval, the nightly pause, renewal, download as PKCS#12, revocation).
//!
//! Architecture invariants:
//! - Sans-IO: [`Portal`] is a state machine; every operation takes `now` from the caller's clock and
//!   returns a result or a refusal with a stable [`ErrorCode`]. Mail the portal sends (notices, codes) is
//!   queued with its delivery instant and read with [`Portal::mailbox`].
//! - Deterministic: passwords and codes come from a seeded generator, so a scenario replays exactly.
//! - A refused operation changes nothing, except what the refusal itself records (a wrong password
//!   counts towards the lockout).

mod certificates;
mod password;
mod session;

use std::collections::BTreeMap;

use careplan_ca::{CaError, CertificateAuthority, CertificateType, IssuedCertificate};
use careplan_core::{ErrorCode, OfficeNumber, OfficeUserId, PrefectureCode, format_jst};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use time::{Duration, OffsetDateTime};

pub use certificates::{Application, ApplicationKind, ApplicationState, CertificatePage, CertificateView};
pub use password::{ALLOWED_SYMBOLS, PasswordViolation, check_policy};
pub use session::{SESSION_SPACE, SessionPolicy, SessionRefusal, Sessions};

/// The portal's rules that no public source fixes exactly; each is a documented default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortalConfig {
    /// How long a changed password stays valid (assumed 90 days).
    pub password_lifetime: Duration,
    /// Wrong passwords in a row that lock an account (3).
    pub lockout_after: u8,
    /// How long a locked account stays locked (30 minutes).
    pub lockout_for: Duration,
    /// How long a 4-digit confirmation code stays valid (assumed 30 minutes).
    pub code_lifetime: Duration,
    /// Wrong entries of a confirmation code after which it is void and a new one must be asked for
    /// (assumed 3: a 4-digit code would otherwise fall to 10,000 guesses).
    pub code_attempts: u8,
    /// How long the federation's letters take to arrive by post — the first ID notice and a paper re-issue
    /// of lost login details (assumed 7 days; days to two weeks in practice).
    pub postal_delay: Duration,
    /// How long the federation takes to approve a certificate application (assumed 30 minutes; minutes
    /// to days in practice). Issuance then waits for the end of the CA's nightly pause if it falls in it.
    pub approval_delay: Duration,
    /// How long a login session lives (assumed: 30 minutes idle, 8 hours in all).
    pub sessions: SessionPolicy,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            password_lifetime: Duration::days(90),
            lockout_after: 3,
            lockout_for: Duration::minutes(30),
            code_lifetime: Duration::minutes(30),
            code_attempts: 3,
            postal_delay: Duration::days(7),
            approval_delay: Duration::minutes(30),
            sessions: SessionPolicy::default(),
        }
    }
}

/// Why the portal refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortalError {
    /// The office already has a user ID.
    #[error("office {0} already has a user ID; lost login details are re-issued, not issued again")]
    AccountExists(OfficeNumber),
    /// Unknown user ID or wrong password.
    #[error("user ID or password is wrong")]
    LoginFailed,
    /// The account is locked until the given instant.
    #[error("the account is locked after repeated wrong passwords until {} JST", format_jst(*.until))]
    Locked {
        /// When it opens again.
        until: OffsetDateTime,
    },
    /// The password is the federation's temporary one.
    #[error("the password is temporary: log in to the e-billing portal and change it first")]
    Temporary,
    /// The password is past its lifetime.
    #[error("the password expired at {} JST: change it in the e-billing portal", format_jst(*.expired_at))]
    Expired {
        /// When it expired.
        expired_at: OffsetDateTime,
    },
    /// The terms were not accepted before the first change.
    #[error("accept the portal's terms of use before changing the temporary password")]
    TermsNotAccepted,
    /// The new password breaks the policy; every broken rule is listed.
    #[error("the new password breaks the policy: {}", .0.iter().map(|v| v.code().as_str()).collect::<Vec<_>>().join(", "))]
    Policy(Vec<PasswordViolation>),
    /// No such session.
    #[error("not logged in")]
    SessionInvalid,
    /// The session ended (idle or open too long).
    #[error(
        "the session has ended (30 minutes without use, or 8 hours after the login by default): log in again"
    )]
    SessionExpired,
    /// The session may only change the password.
    #[error("change the password before anything else")]
    PasswordChangeRequired,
    /// A wrong or expired confirmation code.
    #[error(
        "the confirmation code is wrong, has expired, or was entered wrong 3 times (then ask for a new one)"
    )]
    CodeInvalid,
    /// No confirmed security e-mail, or another address.
    #[error("no confirmed security e-mail address matches; request the re-issue by post instead")]
    EmailNotRegistered,
    /// A billing-proxy (`HD…`) ID at the linkage login.
    #[error("billing-proxy IDs (HD…) cannot be used for care plan data linkage")]
    ProxyId,
    /// A wrong certificate-issuance password.
    #[error("the certificate-issuance password is wrong; re-issue it in the portal if it was lost")]
    IssuancePasswordWrong,
    /// A certificate type care offices cannot apply for here.
    #[error("care offices apply for care_insurance or care_dx certificates, not {0}")]
    TypeNotOffered(CertificateType),
    /// Another application of the office is pending.
    #[error("a certificate application of this office is pending (発行申請中)")]
    ApplicationPending,
    /// The office holds a valid certificate: renew it instead.
    #[error("the office already holds a valid certificate; renew it from 3 months before its end date")]
    CertificateExists,
    /// No certificate has been issued to the office.
    #[error("no certificate has been issued to this office")]
    NoCertificate,
    /// Every certificate issued to the office is revoked.
    #[error("the office's certificate was revoked at {} JST; a revoked certificate is neither renewed nor downloaded: apply for a new one", format_jst(*.at))]
    Revoked {
        /// When the last one was revoked.
        at: OffsetDateTime,
    },
    /// The CA refused (renewal window) or failed.
    #[error(transparent)]
    Certificate(CaError),
}

impl PortalError {
    /// The stable code of this refusal; for a policy refusal, the first broken rule's.
    pub fn code(&self) -> ErrorCode {
        match self {
            PortalError::AccountExists(_) => ErrorCode::AccountExists,
            PortalError::LoginFailed => ErrorCode::LoginFailed,
            PortalError::Locked { .. } => ErrorCode::AccountLocked,
            PortalError::Temporary => ErrorCode::PasswordTemporary,
            PortalError::Expired { .. } => ErrorCode::PasswordExpired,
            PortalError::TermsNotAccepted => ErrorCode::TermsNotAccepted,
            PortalError::Policy(violations) => violations
                .first()
                .map_or(ErrorCode::PasswordTooShort, |v| v.code()),
            PortalError::SessionInvalid => ErrorCode::SessionInvalid,
            PortalError::SessionExpired => ErrorCode::SessionExpired,
            PortalError::PasswordChangeRequired => ErrorCode::PasswordChangeRequired,
            PortalError::CodeInvalid => ErrorCode::ConfirmationCodeInvalid,
            PortalError::EmailNotRegistered => ErrorCode::EmailNotRegistered,
            PortalError::ProxyId => ErrorCode::ProxyIdNotAllowed,
            PortalError::IssuancePasswordWrong => ErrorCode::IssuancePasswordWrong,
            PortalError::TypeNotOffered(_) => ErrorCode::CertTypeNotOffered,
            PortalError::ApplicationPending => ErrorCode::CertApplicationPending,
            PortalError::CertificateExists => ErrorCode::CertificateExists,
            PortalError::NoCertificate => ErrorCode::CertNotIssued,
            PortalError::Revoked { .. } => ErrorCode::CertRevoked,
            PortalError::Certificate(e) => e.code(),
        }
    }

    /// Every code of this refusal: one per broken rule for a policy refusal.
    pub fn codes(&self) -> Vec<ErrorCode> {
        match self {
            PortalError::Policy(violations) => violations.iter().map(|v| v.code()).collect(),
            other => vec![other.code()],
        }
    }
}

/// The federation's notice (電子請求登録結果に関するお知らせ, or a re-issue of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuanceNotice {
    /// The office's user ID.
    pub user_id: OfficeUserId,
    /// The temporary password, to be changed at the first login.
    pub temporary_password: String,
    /// The certificate-issuance password.
    pub issuance_password: String,
}

/// What a piece of mail carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailBody {
    /// A notice by post: a new ID notice or a re-issue of lost login details.
    Notice(IssuanceNotice),
    /// A 4-digit confirmation code by e-mail.
    ConfirmationCode(String),
    /// A new temporary password by e-mail, after a confirmed reset.
    TemporaryPassword(String),
}

/// Mail from the portal or the federation to an office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The office.
    pub office: OfficeNumber,
    /// When it arrives.
    pub delivered_at: OffsetDateTime,
    /// What it carries.
    pub body: MailBody,
}

/// A logged-in portal session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(u64);

impl SessionId {
    /// The session with this number, as a client hands it back (the HTTP API's `session`).
    pub fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// The session's number.
    pub fn raw(self) -> u64 {
        self.0
    }
}

/// What a login opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Login {
    /// The session.
    pub session: SessionId,
    /// The password is temporary or expired: only accepting the terms and changing it are allowed.
    pub must_change_password: bool,
    /// The terms of use are not accepted yet (first login).
    pub must_accept_terms: bool,
}

#[derive(Debug, Clone)]
struct Account {
    password: String,
    temporary: bool,
    changed_at: OffsetDateTime,
    terms_accepted: bool,
    failures: u8,
    locked_until: Option<OffsetDateTime>,
    issuance_password: String,
    email: Option<String>,
    /// The address waiting for its confirmation code.
    pending_email: Option<PendingCode<String>>,
    pending_reset: Option<PendingCode<()>>,
}

/// A confirmation code mailed and not yet entered, with what it confirms (an e-mail address, or nothing).
#[derive(Debug, Clone)]
struct PendingCode<T> {
    confirms: T,
    code: String,
    expires: OffsetDateTime,
    wrong: u8,
}

impl<T> PendingCode<T> {
    fn new(confirms: T, code: String, expires: OffsetDateTime) -> Self {
        Self {
            confirms,
            code,
            expires,
            wrong: 0,
        }
    }

    /// What `code` confirms, if it redeems the pending one in `slot` at `now`. The right code empties the
    /// slot; a wrong one counts, and the `attempts`-th wrong one (or any entry after the code expired) voids
    /// it.
    fn redeem(
        slot: &mut Option<Self>,
        code: &str,
        now: OffsetDateTime,
        attempts: u8,
    ) -> Result<T, PortalError> {
        let Some(pending) = slot.as_mut() else {
            return Err(PortalError::CodeInvalid);
        };
        if now >= pending.expires {
            *slot = None;
            return Err(PortalError::CodeInvalid);
        }
        if pending.code != code {
            pending.wrong = pending.wrong.saturating_add(1);
            if pending.wrong >= attempts {
                *slot = None;
            }
            return Err(PortalError::CodeInvalid);
        }
        slot.take()
            .map(|pending| pending.confirms)
            .ok_or(PortalError::CodeInvalid)
    }
}

/// The federations' ID issuance and the e-billing portal, for every office.
#[derive(Debug)]
pub struct Portal {
    config: PortalConfig,
    rng: ChaCha8Rng,
    accounts: BTreeMap<OfficeUserId, Account>,
    sessions: Sessions<OfficeUserId>,
    mail: Vec<Mail>,
    ca: CertificateAuthority,
    applications: Vec<Application>,
    certificates: BTreeMap<OfficeNumber, Vec<IssuedCertificate>>,
    /// The certificate-issuance password each certificate's PKCS#12 file is protected by, by serial.
    protected_by: BTreeMap<u64, String>,
}

impl Portal {
    /// An empty portal in front of `ca`, whose passwords and codes come from `seed`.
    pub fn new(config: PortalConfig, ca: CertificateAuthority, seed: u64) -> Self {
        Self {
            config,
            rng: ChaCha8Rng::seed_from_u64(seed),
            accounts: BTreeMap::new(),
            sessions: Sessions::new(config.sessions),
            mail: Vec::new(),
            ca,
            applications: Vec::new(),
            certificates: BTreeMap::new(),
            protected_by: BTreeMap::new(),
        }
    }

    /// The rules in force.
    pub fn config(&self) -> PortalConfig {
        self.config
    }

    /// The federation of `federation` answers an issuance request (発行願) for `office`: a user ID, a
    /// temporary password and a certificate-issuance password. The notice is returned and also mailed.
    pub fn issue_user_id(
        &mut self,
        now: OffsetDateTime,
        federation: PrefectureCode,
        office: OfficeNumber,
    ) -> Result<IssuanceNotice, PortalError> {
        if self.accounts.keys().any(|id| id.office() == office) {
            return Err(PortalError::AccountExists(office));
        }
        let user_id = OfficeUserId::new(federation, office);
        let notice = IssuanceNotice {
            user_id,
            temporary_password: password::temporary_password(&mut self.rng),
            issuance_password: password::issuance_password(&mut self.rng),
        };
        self.accounts.insert(
            user_id,
            Account {
                password: notice.temporary_password.clone(),
                temporary: true,
                changed_at: now,
                terms_accepted: false,
                failures: 0,
                locked_until: None,
                issuance_password: notice.issuance_password.clone(),
                email: None,
                pending_email: None,
                pending_reset: None,
            },
        );
        // The federation's notice (電子請求登録結果に関するお知らせ) travels by post, as a re-issue does.
        self.send(
            office,
            now + self.config.postal_delay,
            MailBody::Notice(notice.clone()),
        );
        Ok(notice)
    }

    /// Checks a user ID and password, counting wrong passwords towards the lockout.
    fn authenticate(
        &mut self,
        now: OffsetDateTime,
        user_id: &str,
        password: &str,
    ) -> Result<OfficeUserId, PortalError> {
        let config = self.config;
        let id: OfficeUserId = user_id.parse().map_err(|_| PortalError::LoginFailed)?;
        let account = self.accounts.get_mut(&id).ok_or(PortalError::LoginFailed)?;
        if let Some(until) = account.locked_until {
            if now < until {
                return Err(PortalError::Locked { until });
            }
            account.locked_until = None;
        }
        if account.password != password {
            account.failures += 1;
            if account.failures >= config.lockout_after {
                account.failures = 0;
                let until = now + config.lockout_for;
                account.locked_until = Some(until);
                return Err(PortalError::Locked { until });
            }
            return Err(PortalError::LoginFailed);
        }
        account.failures = 0;
        Ok(id)
    }

    fn expiry(&self, account: &Account) -> OffsetDateTime {
        account.changed_at + self.config.password_lifetime
    }

    /// Logs in to the portal. A temporary or expired password opens a session that may only accept the
    /// terms and change the password.
    pub fn login(
        &mut self,
        now: OffsetDateTime,
        user_id: &str,
        password: &str,
    ) -> Result<Login, PortalError> {
        let id = self.authenticate(now, user_id, password)?;
        let account = &self.accounts[&id];
        let must_change_password = account.temporary || now >= self.expiry(account);
        let must_accept_terms = !account.terms_accepted;
        let session = SessionId(self.sessions.open(now, &mut self.rng, id));
        Ok(Login {
            session,
            must_change_password,
            must_accept_terms,
        })
    }

    /// Ends a session.
    pub fn logout(&mut self, session: SessionId) {
        self.sessions.close(session.0);
    }

    fn session_account(
        &mut self,
        now: OffsetDateTime,
        session: SessionId,
    ) -> Result<(OfficeUserId, &mut Account), PortalError> {
        let id = self
            .sessions
            .owner(now, session.0)
            .map_err(|refusal| match refusal {
                SessionRefusal::Invalid => PortalError::SessionInvalid,
                SessionRefusal::Expired => PortalError::SessionExpired,
            })?;
        let account = self.accounts.get_mut(&id).ok_or(PortalError::SessionInvalid)?;
        Ok((id, account))
    }

    /// A session that may do more than change its password.
    fn ready_account(
        &mut self,
        now: OffsetDateTime,
        session: SessionId,
    ) -> Result<(OfficeUserId, &mut Account), PortalError> {
        let lifetime = self.config.password_lifetime;
        let (id, account) = self.session_account(now, session)?;
        if account.temporary || now >= account.changed_at + lifetime {
            return Err(PortalError::PasswordChangeRequired);
        }
        Ok((id, account))
    }

    /// Accepts the terms of use (利用規約), asked at the first login.
    pub fn accept_terms(&mut self, now: OffsetDateTime, session: SessionId) -> Result<(), PortalError> {
        self.session_account(now, session)?.1.terms_accepted = true;
        Ok(())
    }

    /// Changes the password: the terms must be accepted first, `current` must be right and `new` must
    /// follow the policy (every broken rule is reported).
    pub fn change_password(
        &mut self,
        now: OffsetDateTime,
        session: SessionId,
        current: &str,
        new: &str,
    ) -> Result<(), PortalError> {
        let (id, account) = self.session_account(now, session)?;
        if !account.terms_accepted {
            return Err(PortalError::TermsNotAccepted);
        }
        if account.password != current {
            return Err(PortalError::LoginFailed);
        }
        let violations = check_policy(&id.to_string(), new);
        if !violations.is_empty() {
            return Err(PortalError::Policy(violations));
        }
        account.password = new.to_owned();
        account.temporary = false;
        account.changed_at = now;
        Ok(())
    }

    /// What the linkage client and the usage-application site check at login: the office's ID and a
    /// changed, unexpired password. `HD…` proxy IDs are refused as such.
    pub fn check_linkage_login(
        &mut self,
        now: OffsetDateTime,
        user_id: &str,
        password: &str,
    ) -> Result<OfficeNumber, PortalError> {
        if user_id.starts_with("HD") {
            return Err(PortalError::ProxyId);
        }
        let id = self.authenticate(now, user_id, password)?;
        let account = &self.accounts[&id];
        if account.temporary {
            return Err(PortalError::Temporary);
        }
        let expired_at = self.expiry(account);
        if now >= expired_at {
            return Err(PortalError::Expired { expired_at });
        }
        Ok(id.office())
    }

    /// Registers a security e-mail address; a 4-digit code is mailed to confirm it.
    pub fn register_email(
        &mut self,
        now: OffsetDateTime,
        session: SessionId,
        address: &str,
    ) -> Result<(), PortalError> {
        let code = password::confirmation_code(&mut self.rng);
        let expires = now + self.config.code_lifetime;
        let (id, account) = self.ready_account(now, session)?;
        account.pending_email = Some(PendingCode::new(address.to_owned(), code.clone(), expires));
        self.send(id.office(), now, MailBody::ConfirmationCode(code));
        Ok(())
    }

    /// Confirms the pending e-mail address with its code.
    pub fn confirm_email(
        &mut self,
        now: OffsetDateTime,
        session: SessionId,
        code: &str,
    ) -> Result<(), PortalError> {
        let attempts = self.config.code_attempts;
        let (_, account) = self.ready_account(now, session)?;
        account.email = Some(PendingCode::redeem(
            &mut account.pending_email,
            code,
            now,
            attempts,
        )?);
        Ok(())
    }

    /// Starts a reset of lost login details by security e-mail: a code goes to the confirmed address.
    pub fn request_reset_by_email(
        &mut self,
        now: OffsetDateTime,
        user_id: &str,
        address: &str,
    ) -> Result<(), PortalError> {
        let id: OfficeUserId = user_id.parse().map_err(|_| PortalError::LoginFailed)?;
        let code = password::confirmation_code(&mut self.rng);
        let expires = now + self.config.code_lifetime;
        let account = self.accounts.get_mut(&id).ok_or(PortalError::LoginFailed)?;
        if account.email.as_deref() != Some(address) {
            return Err(PortalError::EmailNotRegistered);
        }
        account.pending_reset = Some(PendingCode::new((), code.clone(), expires));
        self.send(id.office(), now, MailBody::ConfirmationCode(code));
        Ok(())
    }

    /// Completes a reset by e-mail with its code: a new temporary password is mailed, and the account is
    /// unlocked.
    pub fn complete_reset(
        &mut self,
        now: OffsetDateTime,
        user_id: &str,
        code: &str,
    ) -> Result<(), PortalError> {
        let id: OfficeUserId = user_id.parse().map_err(|_| PortalError::LoginFailed)?;
        let temporary = password::temporary_password(&mut self.rng);
        let attempts = self.config.code_attempts;
        let account = self.accounts.get_mut(&id).ok_or(PortalError::LoginFailed)?;
        PendingCode::redeem(&mut account.pending_reset, code, now, attempts)?;
        Self::set_temporary(account, now, &temporary);
        self.send(id.office(), now, MailBody::TemporaryPassword(temporary));
        Ok(())
    }

    /// The federation re-issues lost login details on a paper request: the notice arrives by post after
    /// the postal delay; the temporary password in it replaces the old password from the request on.
    pub fn request_reset_by_post(
        &mut self,
        now: OffsetDateTime,
        office: OfficeNumber,
    ) -> Result<(), PortalError> {
        let temporary = password::temporary_password(&mut self.rng);
        let (id, account) = self
            .accounts
            .iter_mut()
            .find(|(id, _)| id.office() == office)
            .ok_or(PortalError::LoginFailed)?;
        let id = *id;
        Self::set_temporary(account, now, &temporary);
        let notice = IssuanceNotice {
            user_id: id,
            temporary_password: temporary,
            issuance_password: account.issuance_password.clone(),
        };
        let delivered_at = now + self.config.postal_delay;
        self.send(office, delivered_at, MailBody::Notice(notice));
        Ok(())
    }

    fn set_temporary(account: &mut Account, now: OffsetDateTime, temporary: &str) {
        account.password = temporary.to_owned();
        account.temporary = true;
        account.changed_at = now;
        account.failures = 0;
        account.locked_until = None;
        account.pending_reset = None;
    }

    /// Re-issues the certificate-issuance password inside the portal; the old one stops working.
    pub fn reissue_issuance_password(
        &mut self,
        now: OffsetDateTime,
        session: SessionId,
    ) -> Result<String, PortalError> {
        let fresh = password::issuance_password(&mut self.rng);
        let (_, account) = self.ready_account(now, session)?;
        account.issuance_password = fresh.clone();
        Ok(fresh)
    }

    /// The office's current certificate-issuance password, if it has an account.
    fn current_issuance_password(&self, office: OfficeNumber) -> Option<&str> {
        self.accounts
            .iter()
            .find(|(id, _)| id.office() == office)
            .map(|(_, account)| account.issuance_password.as_str())
    }

    /// Whether `password` is the office's current certificate-issuance password.
    pub fn issuance_password_matches(&self, office: OfficeNumber, password: &str) -> bool {
        self.current_issuance_password(office) == Some(password)
    }

    /// The office of a session that may act in the portal (password changed and unexpired).
    pub fn office_of(
        &mut self,
        now: OffsetDateTime,
        session: SessionId,
    ) -> Result<OfficeNumber, PortalError> {
        self.ready_account(now, session).map(|(id, _)| id.office())
    }

    /// The mail delivered to `office` by `now`, oldest first.
    pub fn mailbox(&self, now: OffsetDateTime, office: OfficeNumber) -> impl Iterator<Item = &Mail> {
        self.mail
            .iter()
            .filter(move |m| m.office == office && m.delivered_at <= now)
    }

    fn send(&mut self, office: OfficeNumber, delivered_at: OffsetDateTime, body: MailBody) {
        self.mail.push(Mail {
            office,
            delivered_at,
            body,
        });
    }
}

#[cfg(test)]
mod tests;
