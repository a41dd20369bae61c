use time::macros::datetime;

use super::*;

const T0: OffsetDateTime = datetime!(2025-04-01 10:00 +9);

fn office() -> OfficeNumber {
    "1310000001".parse().unwrap()
}

fn tokyo() -> PrefectureCode {
    PrefectureCode::new(13).unwrap()
}

/// A portal with one office whose password was changed to `Secret123` at T0.
fn onboarded() -> (Portal, String) {
    let mut portal = Portal::new(PortalConfig::default(), 7);
    let notice = portal.issue_user_id(T0, tokyo(), office()).unwrap();
    let id = notice.user_id.to_string();
    let login = portal.login(T0, &id, &notice.temporary_password).unwrap();
    portal.accept_terms(login.session).unwrap();
    portal
        .change_password(T0, login.session, &notice.temporary_password, "Secret123")
        .unwrap();
    (portal, id)
}

#[test]
fn a_new_office_gets_a_kj_id_and_must_change_its_temporary_password() {
    let mut portal = Portal::new(PortalConfig::default(), 7);
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
    portal.accept_terms(login.session).unwrap();
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
    let notices: Vec<_> = portal.mailbox(T0, office()).collect();
    assert!(matches!(&notices[0].body, MailBody::Notice(n) if *n == notice));
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
    // Unknown IDs and proxy IDs fail like a wrong password, without revealing which.
    assert_eq!(
        portal.login(at, "KJ131310000009", "x").unwrap_err().code(),
        ErrorCode::LoginFailed
    );
    assert_eq!(
        portal
            .check_linkage_login(at, "HD131310000001", "Secret123")
            .unwrap_err()
            .code(),
        ErrorCode::LoginFailed
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
}

#[test]
fn a_reset_by_post_arrives_after_the_postal_delay() {
    let (mut portal, id) = onboarded();
    let before = portal.mailbox(T0 + Duration::days(30), office()).count();
    portal.request_reset_by_post(T0, office()).unwrap();
    let delay = PortalConfig::default().postal_delay;
    assert_eq!(
        portal
            .mailbox(T0 + delay - Duration::seconds(1), office())
            .count(),
        before
    );
    let mail: Vec<_> = portal.mailbox(T0 + delay, office()).collect();
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
    let mut portal = Portal::new(PortalConfig::default(), 7);
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
    portal.accept_terms(login.session).unwrap();
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
        Portal::new(PortalConfig::default(), seed)
            .issue_user_id(T0, tokyo(), office())
            .unwrap()
    };
    assert_eq!(notice(1), notice(1));
    assert_ne!(notice(1).temporary_password, notice(2).temporary_password);
}
