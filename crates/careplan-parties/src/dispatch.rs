//! Dispatch of the web parties' operations to their sans-IO cores: a [`PortalRequest`] to the
//! [`Portal`], a [`UsageRequest`] to the [`UsageSite`] (a login there asks the portal about the `KJ` ID).
//! Pure: no I/O, the caller passes `now`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use careplan_ca::{CertificateType, RenewalStart};
use careplan_eseikyu::{
    Application, ApplicationKind, ApplicationState, IssuanceNotice, MailBody, Portal, PortalError, SessionId,
};
use careplan_licence::{LicenceError, SiteSession, UsageSite};
use time::OffsetDateTime;

use crate::api::{
    PortalRequest, PortalResponse, UsageRequest, UsageResponse, WireApplication, WireCertificate, WireMail,
    WireMailBody, WireNotice,
};

/// Why the portal refused a request.
pub(crate) enum Refusal {
    Portal(PortalError),
    Request(String),
}

impl From<PortalError> for Refusal {
    fn from(e: PortalError) -> Self {
        Refusal::Portal(e)
    }
}

fn notice(notice: &IssuanceNotice) -> WireNotice {
    WireNotice {
        user_id: notice.user_id.to_string(),
        temporary_password: notice.temporary_password.clone(),
        issuance_password: notice.issuance_password.clone(),
    }
}

fn application(application: &Application) -> WireApplication {
    let (kind, renewal_start) = match application.kind {
        ApplicationKind::New => ("new", None),
        ApplicationKind::Renewal(start) => ("renewal", Some(start.as_str().to_owned())),
    };
    WireApplication {
        kind: kind.to_owned(),
        renewal_start,
        certificate_type: application.certificate_type.as_str().to_owned(),
        applied_at: application.applied_at,
        issues_at: application.issues_at,
        serial: match application.state {
            ApplicationState::Issued(serial) => Some(serial),
            ApplicationState::Pending => None,
        },
    }
}

/// Runs one portal operation at `now`.
pub(crate) fn portal(
    portal: &mut Portal,
    now: OffsetDateTime,
    request: PortalRequest,
) -> Result<PortalResponse, Refusal> {
    let session = SessionId::from_raw;
    Ok(match request {
        PortalRequest::IssueUserId { office } => {
            PortalResponse::Notice(notice(&portal.issue_user_id(now, office.prefecture(), office)?))
        }
        PortalRequest::Login { user_id, password } => {
            let login = portal.login(now, &user_id, &password)?;
            PortalResponse::Login {
                session: login.session.raw(),
                must_change_password: login.must_change_password,
                must_accept_terms: login.must_accept_terms,
            }
        }
        PortalRequest::Logout { session: s } => {
            portal.logout(session(s));
            PortalResponse::Done
        }
        PortalRequest::AcceptTerms { session: s } => {
            portal.accept_terms(now, session(s))?;
            PortalResponse::Done
        }
        PortalRequest::ChangePassword {
            session: s,
            current,
            new,
        } => {
            portal.change_password(now, session(s), &current, &new)?;
            PortalResponse::Done
        }
        PortalRequest::CheckLinkageLogin { user_id, password } => PortalResponse::Office {
            office: portal.check_linkage_login(now, &user_id, &password)?,
        },
        PortalRequest::RegisterEmail { session: s, address } => {
            portal.register_email(now, session(s), &address)?;
            PortalResponse::Done
        }
        PortalRequest::ConfirmEmail { session: s, code } => {
            portal.confirm_email(now, session(s), &code)?;
            PortalResponse::Done
        }
        PortalRequest::RequestResetByEmail { user_id, address } => {
            portal.request_reset_by_email(now, &user_id, &address)?;
            PortalResponse::Done
        }
        PortalRequest::CompleteReset { user_id, code } => {
            portal.complete_reset(now, &user_id, &code)?;
            PortalResponse::Done
        }
        PortalRequest::RequestResetByPost { office } => {
            portal.request_reset_by_post(now, office)?;
            PortalResponse::Done
        }
        PortalRequest::ReissueIssuancePassword { session: s } => PortalResponse::IssuancePassword {
            issuance_password: portal.reissue_issuance_password(now, session(s))?,
        },
        PortalRequest::Mailbox { office } => PortalResponse::Mail {
            mail: portal
                .mailbox(now, office)
                .map(|mail| WireMail {
                    delivered_at: mail.delivered_at,
                    body: match &mail.body {
                        MailBody::Notice(n) => WireMailBody::Notice(notice(n)),
                        MailBody::ConfirmationCode(code) => {
                            WireMailBody::ConfirmationCode { code: code.clone() }
                        }
                        MailBody::TemporaryPassword(password) => WireMailBody::TemporaryPassword {
                            password: password.clone(),
                        },
                    },
                })
                .collect(),
        },
        PortalRequest::ApplyForCertificate {
            session: s,
            certificate_type,
            issuance_password,
        } => {
            let certificate_type: CertificateType = certificate_type.parse().map_err(Refusal::Request)?;
            PortalResponse::Application(application(&portal.apply_for_certificate(
                now,
                session(s),
                certificate_type,
                &issuance_password,
            )?))
        }
        PortalRequest::RenewCertificate {
            session: s,
            start,
            issuance_password,
        } => {
            let start: RenewalStart = start.parse().map_err(Refusal::Request)?;
            PortalResponse::Application(application(&portal.renew_certificate(
                now,
                session(s),
                start,
                &issuance_password,
            )?))
        }
        PortalRequest::CertificatePage { session: s } => {
            let page = portal.certificate_page(now, session(s))?;
            PortalResponse::Certificates {
                applications: page.applications.iter().map(application).collect(),
                certificates: page
                    .certificates
                    .iter()
                    .map(|c| WireCertificate {
                        serial: c.serial,
                        certificate_type: c.certificate_type.as_str().to_owned(),
                        not_before: c.not_before,
                        not_after: c.not_after,
                        revoked_at: c.revoked_at,
                    })
                    .collect(),
            }
        }
        PortalRequest::DownloadCertificate {
            session: s,
            issuance_password,
        } => PortalResponse::Pkcs12 {
            content: STANDARD.encode(portal.download_certificate(now, session(s), &issuance_password)?),
        },
        PortalRequest::RevokeCertificates { office } => PortalResponse::Revoked {
            serials: portal.revoke_certificates(now, office)?,
        },
        PortalRequest::Crl => PortalResponse::Crl {
            der: STANDARD.encode(portal.crl(now)?),
        },
        PortalRequest::CaInfo => {
            let fingerprint = portal.ca().fingerprint();
            PortalResponse::CaInfo {
                root: STANDARD.encode(portal.ca().root()),
                sha256: fingerprint.sha256,
                sha1: fingerprint.sha1,
            }
        }
    })
}

/// Runs one site operation at `now` (a login asks the portal about the `KJ` ID).
pub(crate) fn usage(
    site: &mut UsageSite,
    portal: &mut Portal,
    now: OffsetDateTime,
    request: UsageRequest,
) -> Result<UsageResponse, LicenceError> {
    let session = SiteSession::from_raw;
    Ok(match request {
        UsageRequest::Login { user_id, password } => UsageResponse::Login {
            session: site.login(now, portal, &user_id, &password)?.raw(),
        },
        UsageRequest::Logout { session: s } => {
            site.logout(session(s));
            UsageResponse::Done
        }
        UsageRequest::Apply {
            session: s,
            application,
        } => UsageResponse::Registration(site.apply(now, session(s), application)?),
        UsageRequest::PersonalAccount { session: s } => {
            UsageResponse::PersonalAccount(site.personal_account(now, session(s))?)
        }
        UsageRequest::Licence { session: s } => UsageResponse::Licence(site.licence(now, session(s))?),
        UsageRequest::SetAutoRenewal { session: s, on } => {
            UsageResponse::Licence(site.set_auto_renewal(now, session(s), on)?)
        }
        UsageRequest::Renew { session: s } => UsageResponse::Licence(site.renew(now, session(s))?),
        UsageRequest::Cancel { session: s } => {
            site.cancel(now, session(s))?;
            UsageResponse::Done
        }
        UsageRequest::PayInvoice { session: s } => UsageResponse::Licence(site.pay_invoice(now, session(s))?),
        UsageRequest::PersonalLogin { user_id, password } => UsageResponse::Office {
            office: site.personal_login(&user_id, &password)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use careplan_core::ErrorCode;

    #[test]
    fn unknown_certificate_types_are_request_errors_not_panics() {
        let mut portal = Portal::new(
            careplan_eseikyu::PortalConfig::default(),
            careplan_ca::CertificateAuthority::new().unwrap(),
            1,
        );
        let now = time::macros::datetime!(2025-05-01 09:00 +9);
        let refused = super::portal(
            &mut portal,
            now,
            PortalRequest::ApplyForCertificate {
                session: 1,
                certificate_type: "gold".into(),
                issuance_password: "x".into(),
            },
        );
        assert!(matches!(refused, Err(Refusal::Request(m)) if m.contains("gold")));
        let refused = super::portal(&mut portal, now, PortalRequest::CertificatePage { session: 9 });
        assert!(matches!(refused, Err(Refusal::Portal(e)) if e.code() == ErrorCode::SessionInvalid));
    }
}
