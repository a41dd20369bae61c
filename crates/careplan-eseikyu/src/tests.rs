use time::macros::datetime;

use super::*;

const T0: OffsetDateTime = datetime!(2025-04-01 10:00 +9);

fn office() -> OfficeNumber {
    "1310000001".parse().unwrap()
}

fn ca() -> CertificateAuthority {
    CertificateAuthority::new().unwrap()
}

fn tokyo() -> PrefectureCode {
    PrefectureCode::new(13).unwrap()
}

/// A portal with one office whose password was changed to `Secret123` at T0.
fn onboarded() -> (Portal, String) {
    // These tests follow certificates over hours and years with one session: sessions here never end
    // (their ending is tested on its own).
    let forever = SessionPolicy {
        idle: Duration::days(365 * 20),
        lifetime: Duration::days(365 * 20),
    };
    let config = PortalConfig {
        sessions: forever,
        ..PortalConfig::default()
    };
    let mut portal = Portal::new(config, ca(), 7);
    let notice = portal.issue_user_id(T0, tokyo(), office()).unwrap();
    let id = notice.user_id.to_string();
    let login = portal.login(T0, &id, &notice.temporary_password).unwrap();
    portal.accept_terms(T0, login.session).unwrap();
    portal
        .change_password(T0, login.session, &notice.temporary_password, "Secret123")
        .unwrap();
    (portal, id)
}

#[test]
fn a_new_office_gets_a_kj_id_and_must_change_its_temporary_password() {
    let mut portal = Portal::new(PortalConfig::default(), ca(), 7);
    let notice = portal.issue_user_id(T0, tokyo(), office()).unwrap();
    assert_eq!(notice.user_id.to_string(), "KJ131310000001");
    let id = notice.user_id.to_string();
    assert_eq!(
        portal.issue_user_id(T0, tokyo(), office()).unwrap_err().code(),
        ErrorCode::AccountExists
    );
    // The linkage client refuses the temporary password.
    assert_eq!(
        portal
            .check_linkage_login(T0, &id, &notice.temporary_password)
            .unwrap_err()
            .code(),
        ErrorCode::PasswordTemporary
    );
    let login = portal.login(T0, &id, &notice.temporary_password).unwrap();
    assert!(login.must_change_password && login.must_accept_terms);
    assert_eq!(
        portal.office_of(T0, login.session).unwrap_err().code(),
        ErrorCode::PasswordChangeRequired
    );
    assert_eq!(
        portal
            .change_password(T0, login.session, &notice.temporary_password, "Secret123")
            .unwrap_err()
            .code(),
        ErrorCode::TermsNotAccepted
    );
    portal.accept_terms(T0, login.session).unwrap();
    let refused = portal
        .change_password(T0, login.session, &notice.temporary_password, "short")
        .unwrap_err();
    assert_eq!(
        refused.codes(),
        [ErrorCode::PasswordTooShort, ErrorCode::PasswordNeedsDigit]
    );
    assert_eq!(
        portal
            .change_password(T0, login.session, &notice.temporary_password, &id)
            .unwrap_err()
            .codes(),
        [ErrorCode::PasswordEqualsUserId]
    );
    // A refused change keeps the temporary password.
    assert!(
        portal
            .check_linkage_login(T0, &id, &notice.temporary_password)
            .is_err()
    );
    portal
        .change_password(T0, login.session, &notice.temporary_password, "Secret123")
        .unwrap();
    assert_eq!(portal.check_linkage_login(T0, &id, "Secret123"), Ok(office()));
    assert_eq!(portal.office_of(T0, login.session), Ok(office()));
    // The notice itself travels by post: it arrives a postal delay after the issuance.
    let delay = PortalConfig::default().postal_delay;
    assert_eq!(
        portal
            .mailbox(T0 + delay - Duration::seconds(1), office())
            .count(),
        0
    );
    let notices: Vec<_> = portal.mailbox(T0 + delay, office()).collect();
    assert!(matches!(&notices[0].body, MailBody::Notice(n) if *n == notice));
}

#[test]
fn sessions_cannot_be_guessed_from_one_another() {
    let (mut portal, id) = onboarded();
    let sessions: Vec<u64> = (0..50)
        .map(|_| portal.login(T0, &id, "Secret123").unwrap().session.raw())
        .collect();
    assert!(sessions.iter().all(|s| *s > 0 && *s < SESSION_SPACE));
    assert!(
        sessions.windows(2).all(|w| w[0].abs_diff(w[1]) > 1),
        "{sessions:?}"
    );
    let distinct: std::collections::BTreeSet<u64> = sessions.iter().copied().collect();
    assert_eq!(distinct.len(), sessions.len());
}

#[test]
fn passwords_expire_at_the_end_of_their_lifetime() {
    let (mut portal, id) = onboarded();
    let expiry = T0 + Duration::days(90);
    let last_second = expiry - Duration::seconds(1);
    assert_eq!(
        portal.check_linkage_login(last_second, &id, "Secret123"),
        Ok(office())
    );
    assert_eq!(
        portal.check_linkage_login(expiry, &id, "Secret123"),
        Err(PortalError::Expired { expired_at: expiry })
    );
    let login = portal.login(expiry, &id, "Secret123").unwrap();
    assert!(login.must_change_password && !login.must_accept_terms);
    portal
        .change_password(expiry, login.session, "Secret123", "Secret456")
        .unwrap();
    assert_eq!(portal.check_linkage_login(expiry, &id, "Secret456"), Ok(office()));
}

#[test]
fn three_wrong_passwords_lock_the_account_for_thirty_minutes() {
    let (mut portal, id) = onboarded();
    let at = T0 + Duration::hours(1);
    assert_eq!(
        portal.login(at, &id, "wrong1").unwrap_err().code(),
        ErrorCode::LoginFailed
    );
    assert_eq!(
        portal.check_linkage_login(at, &id, "wrong2").unwrap_err().code(),
        ErrorCode::LoginFailed
    );
    let until = at + Duration::minutes(30);
    assert_eq!(
        portal.login(at, &id, "wrong3"),
        Err(PortalError::Locked { until })
    );
    // Locked even with the right password, until the last second of the lock.
    assert_eq!(
        portal
            .check_linkage_login(until - Duration::seconds(1), &id, "Secret123")
            .unwrap_err()
            .code(),
        ErrorCode::AccountLocked
    );
    assert_eq!(portal.check_linkage_login(until, &id, "Secret123"), Ok(office()));
    // A success resets the count: two more failures do not lock.
    assert_eq!(
        portal.login(until, &id, "wrong").unwrap_err().code(),
        ErrorCode::LoginFailed
    );
    assert_eq!(
        portal.login(until, &id, "wrong").unwrap_err().code(),
        ErrorCode::LoginFailed
    );
    assert!(portal.login(until, &id, "Secret123").is_ok());
    // Unknown IDs fail like a wrong password, without revealing which; proxy IDs are named as such.
    assert_eq!(
        portal.login(at, "KJ131310000009", "x").unwrap_err().code(),
        ErrorCode::LoginFailed
    );
    assert_eq!(
        portal
            .check_linkage_login(at, "HD131310000001", "Secret123")
            .unwrap_err()
            .code(),
        ErrorCode::ProxyIdNotAllowed
    );
}

#[test]
fn lost_login_details_are_reset_by_e_mail_with_a_code() {
    let (mut portal, id) = onboarded();
    assert_eq!(
        portal
            .request_reset_by_email(T0, &id, "care@example.jp")
            .unwrap_err()
            .code(),
        ErrorCode::EmailNotRegistered
    );
    let session = portal.login(T0, &id, "Secret123").unwrap().session;
    portal.register_email(T0, session, "care@example.jp").unwrap();
    let code = |portal: &Portal| match &portal
        .mailbox(T0 + Duration::days(1), office())
        .last()
        .unwrap()
        .body
    {
        MailBody::ConfirmationCode(code) => code.clone(),
        other => panic!("{other:?}"),
    };
    let wrong = if code(&portal) == "0000" { "1111" } else { "0000" };
    assert_eq!(
        portal.confirm_email(T0, session, wrong).unwrap_err().code(),
        ErrorCode::ConfirmationCodeInvalid
    );
    portal.confirm_email(T0, session, &code(&portal)).unwrap();

    portal.request_reset_by_email(T0, &id, "care@example.jp").unwrap();
    let reset_code = code(&portal);
    // The code expires after 30 minutes.
    assert_eq!(
        portal
            .complete_reset(T0 + Duration::minutes(30), &id, &reset_code)
            .unwrap_err()
            .code(),
        ErrorCode::ConfirmationCodeInvalid
    );
    portal.request_reset_by_email(T0, &id, "care@example.jp").unwrap();
    let reset_code = code(&portal);
    let at = T0 + Duration::minutes(29);
    portal.complete_reset(at, &id, &reset_code).unwrap();
    let MailBody::TemporaryPassword(temporary) = &portal.mailbox(at, office()).last().unwrap().body else {
        panic!("a temporary password is mailed");
    };
    let temporary = temporary.clone();
    assert_eq!(
        portal
            .check_linkage_login(at, &id, "Secret123")
            .unwrap_err()
            .code(),
        ErrorCode::LoginFailed
    );
    assert_eq!(
        portal
            .check_linkage_login(at, &id, &temporary)
            .unwrap_err()
            .code(),
        ErrorCode::PasswordTemporary
    );
    // Guessing is bounded: after 3 wrong entries the code is void, the right one included, and the
    // password is untouched until a new code is asked for.
    portal.request_reset_by_email(at, &id, "care@example.jp").unwrap();
    let reset_code = code(&portal);
    let wrong: Vec<String> = (0..10_000)
        .map(|n| format!("{n:04}"))
        .filter(|guess| *guess != reset_code)
        .take(3)
        .collect();
    for guess in &wrong {
        assert_eq!(
            portal.complete_reset(at, &id, guess).unwrap_err().code(),
            ErrorCode::ConfirmationCodeInvalid
        );
    }
    assert_eq!(
        portal.complete_reset(at, &id, &reset_code).unwrap_err().code(),
        ErrorCode::ConfirmationCodeInvalid
    );
    assert_eq!(
        portal
            .check_linkage_login(at, &id, &temporary)
            .unwrap_err()
            .code(),
        ErrorCode::PasswordTemporary,
        "the password is the one before the void reset"
    );
    portal.request_reset_by_email(at, &id, "care@example.jp").unwrap();
    portal.complete_reset(at, &id, &wrong[0]).unwrap_err();
    portal.complete_reset(at, &id, &code(&portal)).unwrap();
}

#[test]
fn a_reset_by_post_arrives_after_the_postal_delay() {
    let (mut portal, id) = onboarded();
    let asked = T0 + Duration::days(30);
    let before = portal.mailbox(asked, office()).count();
    portal.request_reset_by_post(asked, office()).unwrap();
    let delay = PortalConfig::default().postal_delay;
    assert_eq!(
        portal
            .mailbox(asked + delay - Duration::seconds(1), office())
            .count(),
        before
    );
    let mail: Vec<_> = portal.mailbox(asked + delay, office()).collect();
    assert_eq!(mail.len(), before + 1);
    let MailBody::Notice(notice) = mail[before].body.clone() else {
        panic!("a notice by post");
    };
    assert_eq!(notice.user_id.to_string(), id);
    assert!(
        portal
            .login(T0 + delay, &id, &notice.temporary_password)
            .unwrap()
            .must_change_password
    );
}

#[test]
fn the_issuance_password_is_reissued_in_the_portal() {
    let mut portal = Portal::new(PortalConfig::default(), ca(), 7);
    let notice = portal.issue_user_id(T0, tokyo(), office()).unwrap();
    assert!(portal.issuance_password_matches(office(), &notice.issuance_password));
    let id = notice.user_id.to_string();
    let login = portal.login(T0, &id, &notice.temporary_password).unwrap();
    assert_eq!(
        portal
            .reissue_issuance_password(T0, login.session)
            .unwrap_err()
            .code(),
        ErrorCode::PasswordChangeRequired
    );
    portal.accept_terms(T0, login.session).unwrap();
    portal
        .change_password(T0, login.session, &notice.temporary_password, "Secret123")
        .unwrap();
    let fresh = portal.reissue_issuance_password(T0, login.session).unwrap();
    assert_ne!(fresh, notice.issuance_password);
    assert!(portal.issuance_password_matches(office(), &fresh));
    assert!(!portal.issuance_password_matches(office(), &notice.issuance_password));
    portal.logout(login.session);
    assert_eq!(
        portal
            .reissue_issuance_password(T0, login.session)
            .unwrap_err()
            .code(),
        ErrorCode::SessionInvalid
    );
}

#[test]
fn the_same_seed_issues_the_same_passwords() {
    let notice = |seed| {
        Portal::new(PortalConfig::default(), ca(), seed)
            .issue_user_id(T0, tokyo(), office())
            .unwrap()
    };
    assert_eq!(notice(1), notice(1));
    assert_ne!(notice(1).temporary_password, notice(2).temporary_password);
}

mod certificate_applications {
    use careplan_ca::{RenewalStart, open_pkcs12};

    use super::*;

    /// An onboarded office logged in at `now`, and its issuance password.
    fn session_at(portal: &mut Portal, id: &str, now: OffsetDateTime) -> SessionId {
        portal.login(now, id, "Secret123").unwrap().session
    }

    fn issuance_password(portal: &Portal) -> String {
        let delivered = T0 + PortalConfig::default().postal_delay;
        match &portal.mailbox(delivered, office()).next().unwrap().body {
            MailBody::Notice(notice) => notice.issuance_password.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_application_is_issued_after_approval_and_downloads_with_the_issuance_password() {
        let (mut portal, id) = onboarded();
        let password = issuance_password(&portal);
        let session = session_at(&mut portal, &id, T0);
        let code = |r: Result<Application, PortalError>| r.map(|_| ()).map_err(|e| e.code());
        assert_eq!(
            code(portal.apply_for_certificate(T0, session, CertificateType::CareInsurance, "wrong")),
            Err(ErrorCode::IssuancePasswordWrong)
        );
        assert_eq!(
            code(portal.apply_for_certificate(T0, session, CertificateType::BillingProxy, &password)),
            Err(ErrorCode::CertTypeNotOffered)
        );
        let application = portal
            .apply_for_certificate(T0, session, CertificateType::CareInsurance, &password)
            .unwrap();
        assert_eq!(application.issues_at, T0 + Duration::minutes(30));
        assert_eq!(
            code(portal.apply_for_certificate(T0, session, CertificateType::CareDx, &password)),
            Err(ErrorCode::CertApplicationPending)
        );
        let just_before = application.issues_at - Duration::seconds(1);
        assert_eq!(
            portal
                .download_certificate(just_before, session, &password)
                .unwrap_err()
                .code(),
            ErrorCode::CertApplicationPending
        );
        // Looked at an hour later, the certificate still starts at the instant it came due.
        let later = T0 + Duration::hours(1);
        let page = portal.certificate_page(later, session).unwrap();
        assert_eq!(page.certificates.len(), 1);
        assert_eq!(page.certificates[0].not_before, application.issues_at);
        let p12 = portal.download_certificate(later, session, &password).unwrap();
        let again = portal.download_certificate(later, session, &password).unwrap();
        let installed = open_pkcs12(&p12, &password).unwrap();
        assert_eq!(installed, open_pkcs12(&again, &password).unwrap());
        assert_eq!(installed.serial, page.certificates[0].serial);
        assert_eq!(
            code(portal.apply_for_certificate(later, session, CertificateType::CareDx, &password)),
            Err(ErrorCode::CertificateExists)
        );
    }

    #[test]
    fn an_application_at_two_in_the_night_is_issued_at_six_thirty() {
        let (mut portal, id) = onboarded();
        let password = issuance_password(&portal);
        let night = datetime!(2025-04-02 02:00 +9);
        let session = session_at(&mut portal, &id, night);
        let application = portal
            .apply_for_certificate(night, session, CertificateType::CareDx, &password)
            .unwrap();
        assert_eq!(application.issues_at, datetime!(2025-04-02 06:30 +9));
        let page = portal
            .certificate_page(datetime!(2025-04-02 06:29:59 +9), session)
            .unwrap();
        assert!(page.certificates.is_empty());
        assert_eq!(page.applications[0].state, ApplicationState::Pending);
        let page = portal
            .certificate_page(datetime!(2025-04-02 06:30 +9), session)
            .unwrap();
        assert_eq!(page.certificates[0].not_before, datetime!(2025-04-02 06:30 +9));
        assert_eq!(page.certificates[0].certificate_type, CertificateType::CareDx);
    }

    /// An office with a certificate issued at 2025-04-01 10:30 (ends 2028-04-01 23:59:59).
    fn certified() -> (Portal, String, String) {
        let (mut portal, id) = onboarded();
        let password = issuance_password(&portal);
        let session = session_at(&mut portal, &id, T0);
        portal
            .apply_for_certificate(T0, session, CertificateType::CareInsurance, &password)
            .unwrap();
        (portal, id, password)
    }

    #[test]
    fn renewal_is_open_from_three_months_before_the_end_date_to_its_last_second() {
        let (mut portal, id, password) = certified();
        // The password has expired by then: change it (lifetime 90 days).
        let at = |portal: &mut Portal, now: OffsetDateTime| {
            let login = portal.login(now, &id, "Secret123").unwrap();
            if login.must_change_password {
                portal
                    .change_password(now, login.session, "Secret123", "Secret456")
                    .unwrap();
                portal
                    .change_password(now, login.session, "Secret456", "Secret123")
                    .unwrap();
            }
            login.session
        };
        let renew = |portal: &mut Portal, session, now| {
            portal
                .renew_certificate(now, session, RenewalStart::DayAfterEnd, &password)
                .map_err(|e| e.code())
        };
        let early = datetime!(2027-12-31 23:59:59 +9);
        let s = at(&mut portal, early);
        assert_eq!(
            renew(&mut portal, s, early).unwrap_err(),
            ErrorCode::CertRenewalTooEarly
        );
        let late = datetime!(2028-04-02 00:00 +9);
        let s = at(&mut portal, late);
        assert_eq!(
            renew(&mut portal, s, late).unwrap_err(),
            ErrorCode::CertRenewalTooLate
        );
        let last = datetime!(2028-04-01 23:59:59 +9);
        let s = at(&mut portal, last);
        let application = renew(&mut portal, s, last).unwrap();
        assert_eq!(
            application.kind,
            ApplicationKind::Renewal(RenewalStart::DayAfterEnd)
        );
        let page = portal.certificate_page(late + Duration::hours(1), s).unwrap();
        let (old, new) = (&page.certificates[0], &page.certificates[1]);
        assert_eq!(new.not_before, old.not_after + Duration::seconds(1));
        assert_eq!(new.not_after, datetime!(2031-04-02 23:59:59 +9));
        // After expiry a new application is possible again.
        let s = at(&mut portal, datetime!(2031-04-03 00:00 +9));
        assert!(
            portal
                .apply_for_certificate(
                    datetime!(2031-04-03 00:00 +9),
                    s,
                    CertificateType::CareInsurance,
                    &password
                )
                .is_ok()
        );
    }

    #[test]
    fn renewal_from_the_issue_date_starts_at_issuance() {
        let (mut portal, id, password) = certified();
        let opens = datetime!(2028-01-01 00:00 +9);
        let login = portal.login(opens, &id, "Secret123").unwrap();
        portal
            .change_password(opens, login.session, "Secret123", "Secret789")
            .unwrap();
        let application = portal
            .renew_certificate(opens, login.session, RenewalStart::IssueDate, &password)
            .unwrap();
        let page = portal
            .certificate_page(opens + Duration::days(1), login.session)
            .unwrap();
        assert_eq!(page.certificates[1].not_before, application.issues_at);
        assert_eq!(page.certificates[1].not_after, datetime!(2031-01-01 23:59:59 +9));
    }

    #[test]
    fn a_certificate_opens_with_the_password_of_its_application_not_a_reissued_one() {
        let (mut portal, id, old) = certified();
        let now = T0 + Duration::hours(1);
        let session = session_at(&mut portal, &id, now);
        let fresh = portal.reissue_issuance_password(now, session).unwrap();
        // The download asks for the current password…
        assert_eq!(
            portal
                .download_certificate(now, session, &old)
                .unwrap_err()
                .code(),
            ErrorCode::IssuancePasswordWrong
        );
        let p12 = portal.download_certificate(now, session, &fresh).unwrap();
        // …but the certificate applied for with the old one opens only with it: not installable with the new.
        assert_eq!(
            open_pkcs12(&p12, &fresh).unwrap_err().code(),
            ErrorCode::Pkcs12PasswordWrong
        );
        assert!(open_pkcs12(&p12, &old).is_ok());
        // A new application with the new password (the old certificate revoked) opens with it.
        portal.revoke_certificates(now, office()).unwrap();
        portal
            .apply_for_certificate(now, session, CertificateType::CareInsurance, &fresh)
            .unwrap();
        let later = now + Duration::hours(1);
        let p12 = portal.download_certificate(later, session, &fresh).unwrap();
        assert!(open_pkcs12(&p12, &fresh).is_ok());
    }

    #[test]
    fn revocation_ends_the_certificate_and_allows_a_new_application() {
        let (mut portal, id, password) = certified();
        let now = T0 + Duration::hours(1);
        let serials = portal.revoke_certificates(now, office()).unwrap();
        assert_eq!(serials.len(), 1);
        // What was issued and revoked is called revoked, not "never issued".
        let again = portal.revoke_certificates(now, office()).unwrap_err();
        assert_eq!(again.code(), ErrorCode::CertRevoked);
        assert!(again.to_string().contains("revoked"), "{again}");
        let session = session_at(&mut portal, &id, now);
        let page = portal.certificate_page(now, session).unwrap();
        assert_eq!(page.certificates[0].revoked_at, Some(now));
        let renewal = portal
            .renew_certificate(now, session, RenewalStart::IssueDate, &password)
            .unwrap_err();
        assert_eq!(renewal.code(), ErrorCode::CertRevoked, "{renewal}");
        assert!(!renewal.to_string().contains("no certificate has been issued"));
        assert_eq!(
            portal
                .download_certificate(now, session, &password)
                .unwrap_err()
                .code(),
            ErrorCode::CertRevoked
        );
        assert!(
            portal
                .apply_for_certificate(now, session, CertificateType::CareInsurance, &password)
                .is_ok()
        );
    }
}

#[test]
fn a_portal_session_ends_after_30_idle_minutes_or_8_hours_and_is_refused_with_session_expired() {
    let mut portal = Portal::new(PortalConfig::default(), ca(), 7);
    let notice = portal.issue_user_id(T0, tokyo(), office()).unwrap();
    let id = notice.user_id.to_string();
    let login = portal.login(T0, &id, &notice.temporary_password).unwrap();
    portal.accept_terms(T0, login.session).unwrap();
    let ended = T0 + Duration::minutes(30) + Duration::seconds(1);
    let refused = portal.change_password(ended, login.session, &notice.temporary_password, "Secret123");
    assert_eq!(refused.unwrap_err().code(), ErrorCode::SessionExpired);
    // Logged in again, the office carries on where it stopped.
    let login = portal.login(ended, &id, &notice.temporary_password).unwrap();
    portal
        .change_password(ended, login.session, &notice.temporary_password, "Secret123")
        .unwrap();
    // Used every 25 minutes, the session still ends 8 hours after the login.
    let mut at = ended;
    while at + Duration::minutes(25) <= ended + Duration::hours(8) {
        at += Duration::minutes(25);
        portal.certificate_page(at, login.session).unwrap();
    }
    let past = ended + Duration::hours(8) + Duration::seconds(1);
    assert_eq!(
        portal.certificate_page(past, login.session).unwrap_err().code(),
        ErrorCode::SessionExpired
    );
}
