//! Offices' starting state (a scenario's `[[office]]`, the roster of `serve`), set up on the cores as the
//! office would have through the parties' own operations, and what the office then knows.

use careplan_ca::{CertificateAuthority, CertificateType, IssuedCertificate};
use careplan_core::OfficeNumber;
use careplan_eseikyu::{Portal, PortalConfig, PortalError};
use careplan_licence::{LicenceConfig, LicenceError, UsageApplication, UsageSite};
use time::OffsetDateTime;

use crate::PartyState;

/// What the office types into the linkage client's two-step login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginDetails {
    /// Step 1: the personal user ID (`careplan@…`) from the usage-application site.
    pub personal_user_id: String,
    /// Step 1: its password.
    pub personal_password: String,
    /// Step 2: the office's `KJ` user ID.
    pub user_id: String,
    /// Step 2: its password (changed, unexpired).
    pub password: String,
}

/// An office's starting state, set up on the cores before they serve (a scenario's `[[offices]]`, the
/// roster of `serve`).
#[derive(Debug, Clone, Default)]
pub struct OfficeSetup {
    /// `Some(password)`: the office has its user ID, has accepted the terms and changed its temporary
    /// password to this one. `None`: it has no account yet.
    pub account: Option<String>,
    /// Its usage application (利用申請), filed at the instant given.
    pub licence: Option<(OffsetDateTime, UsageApplication)>,
    /// The certificate issued to it at the start, if any.
    pub certificate: Option<CertificateType>,
}

/// What a provisioned office knows: everything its linkage client needs.
#[derive(Debug, Clone, Default)]
pub struct ProvisionedOffice {
    /// Its `KJ` user ID.
    pub user_id: Option<String>,
    /// Its (changed) password.
    pub password: Option<String>,
    /// Its certificate-issuance password.
    pub issuance_password: Option<String>,
    /// The personal user ID from the usage site.
    pub personal_user_id: Option<String>,
    /// Its password.
    pub personal_password: Option<String>,
    /// The certificate issued at the start.
    pub certificate: Option<IssuedCertificate>,
    /// How many pieces of mail the set-up delivered (already read).
    pub mail_read: usize,
}

impl ProvisionedOffice {
    /// What the office types at the linkage client's login, once it has all of it.
    pub fn login_details(&self) -> Option<LoginDetails> {
        Some(LoginDetails {
            personal_user_id: self.personal_user_id.clone()?,
            personal_password: self.personal_password.clone()?,
            user_id: self.user_id.clone()?,
            password: self.password.clone()?,
        })
    }
}

/// An office's starting state could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The portal refused a step.
    #[error(transparent)]
    Portal(#[from] PortalError),
    /// The usage site refused the application.
    #[error(transparent)]
    Licence(#[from] LicenceError),
}

/// Mixed into the ecosystem's seed for the usage site's generator.
const USAGE_SITE_STREAM: u64 = 0x7573_6167_6520_7369;

impl PartyState {
    /// Fresh parties around `ca`, drawing their passwords and sessions from `seed`.
    pub fn new(portal: PortalConfig, licences: LicenceConfig, ca: CertificateAuthority, seed: u64) -> Self {
        Self {
            portal: Portal::new(portal, ca, seed),
            // The site draws from its own stream of the same seed.
            site: UsageSite::new(licences, seed ^ USAGE_SITE_STREAM),
        }
    }

    /// Sets up `office` as `setup` says at `at`, as the office would have through the parties' own
    /// operations.
    pub fn provision(
        &mut self,
        at: OffsetDateTime,
        office: OfficeNumber,
        setup: &OfficeSetup,
    ) -> Result<ProvisionedOffice, ProvisionError> {
        let mut known = ProvisionedOffice::default();
        if let Some(password) = &setup.account {
            // The account was made before `at`: its notice was issued a postal delay earlier, so that it
            // has arrived by `at`.
            let issued = at - self.portal.config().postal_delay;
            let notice = self.portal.issue_user_id(issued, office.prefecture(), office)?;
            let user_id = notice.user_id.to_string();
            let login = self.portal.login(at, &user_id, &notice.temporary_password)?;
            self.portal.accept_terms(at, login.session)?;
            self.portal
                .change_password(at, login.session, &notice.temporary_password, password)?;
            self.portal.logout(login.session);
            known.user_id = Some(user_id);
            known.password = Some(password.clone());
            known.issuance_password = Some(notice.issuance_password);
            known.mail_read = self.portal.mailbox(at, office).count();
        }
        if let Some((applied_at, form)) = &setup.licence {
            let registration = self.site.register(*applied_at, office, form.clone())?;
            known.personal_user_id = Some(registration.account.user_id.to_string());
            known.personal_password = Some(registration.account.password);
        }
        known.certificate = setup
            .certificate
            .map(|t| self.portal.provision_certificate(at, office, t))
            .transpose()?;
        Ok(known)
    }
}
