//! Certificate applications (証明書発行申請) through the portal: new applications, the two renewal options,
//! the federation's approval delay, the CA's nightly pause, the PKCS#12 download and revocation.
//!
//! An application is issued lazily: every operation that takes `now` first issues what has come due, at
//! the instant it came due, so the result does not depend on how often anyone looks.

use careplan_ca::{CaError, CertificateType, IssuedCertificate, RenewalStart};
use careplan_core::OfficeNumber;
use time::OffsetDateTime;

use crate::{Portal, PortalError, SessionId};

/// What an office applied for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationKind {
    /// A new certificate (新規発行), of the application's type.
    New,
    /// A renewal of the current certificate (更新), keeping its type.
    Renewal(RenewalStart),
}

/// An application's state as the portal shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationState {
    /// 発行申請中: waiting for the federation's approval or the end of the nightly pause.
    Pending,
    /// 発行済み: issued with this serial.
    Issued(u64),
}

/// A certificate application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Which office.
    pub office: OfficeNumber,
    /// What for.
    pub kind: ApplicationKind,
    /// The type the certificate will have.
    pub certificate_type: CertificateType,
    /// When it was made.
    pub applied_at: OffsetDateTime,
    /// When it is (or was) issued: after the approval delay, outside the nightly pause.
    pub issues_at: OffsetDateTime,
    /// Where it stands.
    pub state: ApplicationState,
    /// For a continuity renewal, the start of the new validity.
    starts_at: Option<OffsetDateTime>,
    /// The certificate-issuance password typed at the application: the one the certificate's PKCS#12
    /// file opens with, whatever the office's password later becomes.
    issuance_password: String,
}

/// An office certificate as the portal lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateView {
    /// Serial number.
    pub serial: u64,
    /// Type.
    pub certificate_type: CertificateType,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity (23:59:59 JST of the end date).
    pub not_after: OffsetDateTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

/// What the portal's certificate page shows an office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatePage {
    /// Every application, oldest first.
    pub applications: Vec<Application>,
    /// Every certificate issued to the office, oldest first.
    pub certificates: Vec<CertificateView>,
}

impl From<CaError> for PortalError {
    fn from(e: CaError) -> Self {
        PortalError::Certificate(e)
    }
}

impl Portal {
    /// Issues every application that has come due by `now`, each at its own due instant.
    fn issue_due(&mut self, now: OffsetDateTime) -> Result<(), PortalError> {
        for index in 0..self.applications.len() {
            let application = &self.applications[index];
            if application.state != ApplicationState::Pending || application.issues_at > now {
                continue;
            }
            let not_before = application.starts_at.unwrap_or(application.issues_at);
            let (office, certificate_type) = (application.office, application.certificate_type);
            let issued = self
                .ca
                .issue_office_certificate(not_before, office, certificate_type)?;
            let protected_by = self.applications[index].issuance_password.clone();
            self.applications[index].state = ApplicationState::Issued(issued.serial);
            self.protected_by.insert(issued.serial, protected_by);
            self.certificates.entry(office).or_default().push(issued);
        }
        Ok(())
    }

    /// The office of a ready session whose certificate-issuance password is `issuance_password`.
    fn certificate_holder(
        &mut self,
        now: OffsetDateTime,
        session: SessionId,
        issuance_password: &str,
    ) -> Result<OfficeNumber, PortalError> {
        self.issue_due(now)?;
        let office = self.office_of(now, session)?;
        if !self.issuance_password_matches(office, issuance_password) {
            return Err(PortalError::IssuancePasswordWrong);
        }
        Ok(office)
    }

    fn pending(&self, office: OfficeNumber) -> Option<&Application> {
        self.applications
            .iter()
            .find(|a| a.office == office && a.state == ApplicationState::Pending)
    }

    /// The office's certificates that are not revoked, oldest first.
    fn live_certificates(&self, office: OfficeNumber) -> impl Iterator<Item = &IssuedCertificate> {
        self.certificates
            .get(&office)
            .into_iter()
            .flatten()
            .filter(|c| self.ca.record(c.serial).is_some_and(|r| r.revoked_at.is_none()))
    }

    /// Why the office has no live certificate: none was issued, or every one is revoked.
    fn no_live_certificate(&self, office: OfficeNumber) -> PortalError {
        self.certificates
            .get(&office)
            .into_iter()
            .flatten()
            .filter_map(|c| self.ca.record(c.serial)?.revoked_at)
            .max()
            .map_or(PortalError::NoCertificate, |at| PortalError::Revoked { at })
    }

    fn file(
        &mut self,
        now: OffsetDateTime,
        office: OfficeNumber,
        (kind, certificate_type): (ApplicationKind, CertificateType),
        starts_at: Option<OffsetDateTime>,
        issuance_password: &str,
    ) -> Application {
        let issues_at = self.ca.issuance_instant(now + self.config.approval_delay);
        let application = Application {
            office,
            kind,
            certificate_type,
            applied_at: now,
            issues_at,
            state: ApplicationState::Pending,
            starts_at,
            issuance_password: issuance_password.to_owned(),
        };
        self.applications.push(application.clone());
        application
    }

    /// Applies for a new certificate (新規発行申請) with the certificate-issuance password. Care offices
    /// apply for `KaigoJigyousho` or `CarePlanJigyousho`; one certificate per office number, so an office
    /// holding a valid one renews it instead.
    pub fn apply_for_certificate(
        &mut self,
        now: OffsetDateTime,
        session: SessionId,
        certificate_type: CertificateType,
        issuance_password: &str,
    ) -> Result<Application, PortalError> {
        let office = self.certificate_holder(now, session, issuance_password)?;
        if !certificate_type.usable_for_linkage() {
            return Err(PortalError::TypeNotOffered(certificate_type));
        }
        if self.pending(office).is_some() {
            return Err(PortalError::ApplicationPending);
        }
        if self.live_certificates(office).any(|c| now <= c.not_after) {
            return Err(PortalError::CertificateExists);
        }
        Ok(self.file(
            now,
            office,
            (ApplicationKind::New, certificate_type),
            None,
            issuance_password,
        ))
    }

    /// Applies to renew the office's current certificate (the one ending last), from 3 months before its
    /// end date until its last second. The new one keeps the type.
    pub fn renew_certificate(
        &mut self,
        now: OffsetDateTime,
        session: SessionId,
        start: RenewalStart,
        issuance_password: &str,
    ) -> Result<Application, PortalError> {
        let office = self.certificate_holder(now, session, issuance_password)?;
        if self.pending(office).is_some() {
            return Err(PortalError::ApplicationPending);
        }
        let current = self
            .live_certificates(office)
            .max_by_key(|c| c.not_after)
            .ok_or_else(|| self.no_live_certificate(office))?;
        let (serial, not_after) = (current.serial, current.not_after);
        self.ca.check_renewal(now, not_after)?;
        let certificate_type = self
            .ca
            .record(serial)
            .map_or(CertificateType::CareInsurance, |r| r.certificate_type);
        let starts_at = match start {
            RenewalStart::DayAfterEnd => Some(self.ca.config().day_after_end(not_after)),
            RenewalStart::IssueDate => None,
        };
        Ok(self.file(
            now,
            office,
            (ApplicationKind::Renewal(start), certificate_type),
            starts_at,
            issuance_password,
        ))
    }

    /// The office's certificate page: its applications and certificates.
    pub fn certificate_page(
        &mut self,
        now: OffsetDateTime,
        session: SessionId,
    ) -> Result<CertificatePage, PortalError> {
        self.issue_due(now)?;
        let office = self.office_of(now, session)?;
        let certificates = self
            .certificates
            .get(&office)
            .into_iter()
            .flatten()
            .filter_map(|c| {
                let record = self.ca.record(c.serial)?;
                Some(CertificateView {
                    serial: c.serial,
                    certificate_type: record.certificate_type,
                    not_before: c.not_before,
                    not_after: c.not_after,
                    revoked_at: record.revoked_at,
                })
            })
            .collect();
        let applications = self
            .applications
            .iter()
            .filter(|a| a.office == office)
            .cloned()
            .collect();
        Ok(CertificatePage {
            applications,
            certificates,
        })
    }

    /// Downloads the office's latest issued certificate as PKCS#12. The download asks for the office's
    /// current certificate-issuance password, but the file is protected by the one typed at the
    /// certificate's application: after a re-issue of the password, a certificate applied for with the old
    /// one no longer opens with the new one, and a new application is needed. Downloads are unlimited.
    pub fn download_certificate(
        &mut self,
        now: OffsetDateTime,
        session: SessionId,
        issuance_password: &str,
    ) -> Result<Vec<u8>, PortalError> {
        let office = self.certificate_holder(now, session, issuance_password)?;
        let latest = self.live_certificates(office).last().cloned();
        match latest {
            Some(certificate) => {
                let protected_by = self
                    .protected_by
                    .get(&certificate.serial)
                    .map_or(issuance_password, String::as_str);
                Ok(self.ca.export_pkcs12(&certificate, protected_by)?)
            }
            None if self.pending(office).is_some() => Err(PortalError::ApplicationPending),
            None => Err(self.no_live_certificate(office)),
        }
    }

    /// A revocation request (失効依頼申請書) for every live certificate of `office`, effective at `now`;
    /// returns the revoked serials. The relay honours it from its next CRL.
    pub fn revoke_certificates(
        &mut self,
        now: OffsetDateTime,
        office: OfficeNumber,
    ) -> Result<Vec<u64>, PortalError> {
        self.issue_due(now)?;
        let serials: Vec<u64> = self.live_certificates(office).map(|c| c.serial).collect();
        if serials.is_empty() {
            return Err(self.no_live_certificate(office));
        }
        for serial in &serials {
            self.ca.revoke(now, *serial)?;
        }
        Ok(serials)
    }

    /// The CA's revocation list as of `now`, which the relay loads.
    pub fn crl(
        &mut self,
        now: OffsetDateTime,
    ) -> Result<careplan_ca::CertificateRevocationListDer<'static>, PortalError> {
        self.issue_due(now)?;
        Ok(self.ca.crl(now)?)
    }

    /// Issues a certificate to `office` at `now` without an application, as a set-up: an office that
    /// already holds a certificate when a scenario starts, or a type offices cannot apply for here (a
    /// billing proxy's or a disability-welfare office's, which the relay must refuse). It is listed and
    /// renewed like any other.
    pub fn provision_certificate(
        &mut self,
        now: OffsetDateTime,
        office: OfficeNumber,
        certificate_type: CertificateType,
    ) -> Result<IssuedCertificate, PortalError> {
        self.issue_due(now)?;
        let issued = self.ca.issue_office_certificate(now, office, certificate_type)?;
        // Set up as if applied for now, with the office's password of now.
        if let Some(password) = self.current_issuance_password(office) {
            self.protected_by.insert(issued.serial, password.to_owned());
        }
        self.certificates.entry(office).or_default().push(issued.clone());
        Ok(issued)
    }

    /// The e-seikyu CA (root certificate, published fingerprint).
    pub fn ca(&self) -> &careplan_ca::CertificateAuthority {
        &self.ca
    }
}
