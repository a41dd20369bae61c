use careplan_ca::CertificateAuthority;
use careplan_core::{ErrorCode, LicenceStanding, OfficeNumber};
use careplan_eseikyu::{Portal, PortalConfig};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

use super::*;

const OFFICE: &str = "1310000001";

fn office() -> OfficeNumber {
    OFFICE.parse().unwrap()
}

fn form(payment: PaymentMethod) -> UsageApplication {
    UsageApplication {
        payment,
        ..crate::application::tests::valid_form()
    }
}

/// A portal with the office's account ready (password `Sakura2025`, changed at `at`), and an empty site.
fn world(at: OffsetDateTime) -> (Portal, UsageSite) {
    let mut portal = Portal::new(PortalConfig::default(), CertificateAuthority::new().unwrap(), 5);
    let notice = portal.issue_user_id(at, office().prefecture(), office()).unwrap();
    let login = portal
        .login(at, &notice.user_id.to_string(), &notice.temporary_password)
        .unwrap();
    portal.accept_terms(at, login.session).unwrap();
    portal
        .change_password(at, login.session, &notice.temporary_password, "Sakura2025")
        .unwrap();
    // These tests follow licences over years with one session: sessions here never end (their ending
    // is tested on its own).
    let config = LicenceConfig {
        sessions: careplan_eseikyu::SessionPolicy {
            idle: Duration::days(365 * 20),
            lifetime: Duration::days(365 * 20),
        },
        ..LicenceConfig::default()
    };
    (portal, UsageSite::new(config, 9))
}

/// The site with the office applied at `at`, and a session to act with.
fn applied(at: OffsetDateTime, payment: PaymentMethod) -> (UsageSite, SiteSession) {
    let (mut portal, mut site) = world(at);
    let session = site
        .login(at, &mut portal, "KJ131310000001", "Sakura2025")
        .unwrap();
    site.apply(at, session, form(payment)).unwrap();
    (site, session)
}

const S: Duration = Duration::SECOND;

#[test]
fn login_defers_to_the_portal_and_refuses_temporary_and_expired_passwords() {
    let at = datetime!(2025-05-01 09:00 +9);
    let mut portal = Portal::new(PortalConfig::default(), CertificateAuthority::new().unwrap(), 5);
    let notice = portal.issue_user_id(at, office().prefecture(), office()).unwrap();
    let mut site = UsageSite::new(LicenceConfig::default(), 9);
    let id = notice.user_id.to_string();
    let refused = site.login(at, &mut portal, &id, &notice.temporary_password);
    assert_eq!(refused.unwrap_err().code(), ErrorCode::PasswordTemporary);
    let login = portal.login(at, &id, &notice.temporary_password).unwrap();
    portal.accept_terms(at, login.session).unwrap();
    portal
        .change_password(at, login.session, &notice.temporary_password, "Sakura2025")
        .unwrap();
    assert!(site.login(at, &mut portal, &id, "Sakura2025").is_ok());
    let expired = site.login(at + Duration::days(90), &mut portal, &id, "Sakura2025");
    assert_eq!(expired.unwrap_err().code(), ErrorCode::PasswordExpired);
    let proxy = site.login(at, &mut portal, "HD131310000001", "Sakura2025");
    assert_eq!(proxy.unwrap_err().code(), ErrorCode::ProxyIdNotAllowed);
}

#[test]
fn an_application_issues_numbered_personal_ids_and_refuses_a_second_one() {
    let at = datetime!(2025-05-01 09:00 +9);
    let (mut portal, mut site) = world(at);
    let session = site
        .login(at, &mut portal, "KJ131310000001", "Sakura2025")
        .unwrap();
    let registration = site.apply(at, session, form(PaymentMethod::Deduction)).unwrap();
    assert_eq!(registration.message, "利用申請が正常に完了しております。");
    assert_eq!(registration.account.user_id.to_string(), "careplan@0001");
    assert_eq!(site.personal_account(at, session).unwrap(), registration.account);
    let other: OfficeNumber = "1310000002".parse().unwrap();
    let second = site.register(at, other, form(PaymentMethod::Invoice)).unwrap();
    assert_eq!(second.account.user_id.to_string(), "careplan@0002");
    assert_ne!(second.account.password, registration.account.password);

    let again = site.apply(at, session, form(PaymentMethod::Invoice)).unwrap_err();
    assert_eq!(again.code(), ErrorCode::UsageApplicationExists);
    // The refusal changed nothing: same payment method, same account.
    assert_eq!(site.view(at, office()).unwrap().payment, PaymentMethod::Deduction);
    assert_eq!(
        site.personal_login("careplan@0001", &registration.account.password),
        Ok(office())
    );
    assert_eq!(
        site.personal_login("careplan@0001", &second.account.password)
            .unwrap_err()
            .code(),
        ErrorCode::PersonalLoginFailed
    );
    assert_eq!(
        site.personal_login("careplan@1", "x").unwrap_err().code(),
        ErrorCode::PersonalLoginFailed
    );
}

#[test]
fn personal_passwords_replay_with_the_seed() {
    let at = datetime!(2025-05-01 09:00 +9);
    let password = |seed| {
        let mut site = UsageSite::new(LicenceConfig::default(), seed);
        site.register(at, office(), form(PaymentMethod::Deduction))
            .unwrap()
            .account
            .password
    };
    assert_eq!(password(3), password(3));
    assert_ne!(password(3), password(4));
    let p = password(3);
    assert_eq!(p.len(), 12);
    assert!(p.chars().any(|c| c.is_ascii_digit()) && p.chars().any(|c| c.is_ascii_alphabetic()));
}

#[test]
fn an_invalid_application_lists_every_field_and_registers_nothing() {
    let at = datetime!(2025-05-01 09:00 +9);
    let (mut portal, mut site) = world(at);
    let session = site
        .login(at, &mut portal, "KJ131310000001", "Sakura2025")
        .unwrap();
    let mut bad = form(PaymentMethod::Deduction);
    bad.phone = "03-1234-5678".into();
    bad.email_confirmation = "other@sakura.example.jp".into();
    let refused = site.apply(at, session, bad).unwrap_err();
    assert_eq!(
        refused.codes(),
        vec![
            ErrorCode::ApplicationPhoneInvalid,
            ErrorCode::ApplicationEmailMismatch
        ]
    );
    assert_eq!(site.standing(at, office()), LicenceStanding::Unregistered);
    assert_eq!(
        site.licence(at, session).unwrap_err().code(),
        ErrorCode::UsageNotApplied
    );
}

#[test]
fn a_licence_is_valid_through_its_last_day() {
    let applied_at = datetime!(2024-05-15 10:00 +9);
    let (site, _) = applied(applied_at, PaymentMethod::Deduction);
    let last_second = datetime!(2025-05-14 23:59:59 +9);
    assert_eq!(
        site.standing(applied_at - S, office()),
        LicenceStanding::Unregistered
    );
    assert_eq!(site.standing(last_second, office()), LicenceStanding::Licensed);
    assert_eq!(
        site.standing(last_second + S, office()),
        LicenceStanding::Unlicensed
    );
    let view = site.view(last_second, office()).unwrap();
    assert_eq!(
        (view.expiry, view.days_left),
        (Some(date!(2025 - 05 - 14)), Some(1))
    );
    assert_eq!(view.renewal, Renewal::Manual);
    let lapsed = site.view(last_second + S, office()).unwrap();
    assert_eq!((lapsed.licensed, lapsed.days_left), (false, Some(0)));
}

#[test]
fn a_term_from_29_february_ends_on_28_february() {
    let start = datetime!(2024-02-29 10:00 +9);
    assert_eq!(ledger::term_end(start), Some(datetime!(2025-02-28 23:59:59 +9)));
}

#[test]
fn deductions_settle_on_the_settlement_day_of_the_next_month() {
    let applied_at = datetime!(2025-04-10 10:00 +9);
    let (site, _) = applied(applied_at, PaymentMethod::Deduction);
    let settles = datetime!(2025-05-20 00:00 +9);
    let before = site.view(settles - S, office()).unwrap();
    assert_eq!(
        (before.paid, before.expiry, before.days_left),
        (false, None, None)
    );
    assert!(before.licensed, "the licence is usable before its fee settles");
    assert_eq!(before.fee_yen, 21_000);
    let after = site.view(settles, office()).unwrap();
    assert_eq!(after.expiry, Some(date!(2026 - 04 - 09)));
    assert_eq!(after.days_left, Some(325));

    let config = LicenceConfig {
        settlement_day: 31,
        ..LicenceConfig::default()
    };
    assert_eq!(
        ledger::settlement_instant(&config, datetime!(2028-01-31 10:00 +9)),
        Some(datetime!(2028-02-29 00:00 +9))
    );
    assert_eq!(
        ledger::settlement_instant(&config, datetime!(2028-12-01 00:00 +9)),
        Some(datetime!(2029-01-31 00:00 +9))
    );
}

#[test]
fn invoices_settle_when_paid_and_only_once() {
    let applied_at = datetime!(2025-04-10 10:00 +9);
    let (mut site, session) = applied(applied_at, PaymentMethod::Invoice);
    let later = datetime!(2025-09-01 09:00 +9);
    assert_eq!(site.view(later, office()).unwrap().expiry, None);
    let paid = site.pay_invoice(later, session).unwrap();
    assert_eq!(paid.expiry, Some(date!(2026 - 04 - 09)));
    assert_eq!(
        site.pay_invoice(later, session).unwrap_err().code(),
        ErrorCode::LicenceNothingDue
    );
    let (mut deducted, session) = applied(applied_at, PaymentMethod::Deduction);
    assert_eq!(
        deducted.pay_invoice(later, session).unwrap_err().code(),
        ErrorCode::LicenceNothingDue
    );
}

#[test]
fn the_free_pass_converts_to_a_paid_licence_at_the_end_of_its_last_day() {
    let applied_at = datetime!(2025-06-15 10:00 +9);
    let (site, _) = applied(applied_at, PaymentMethod::Deduction);
    let free = site.view(applied_at, office()).unwrap();
    assert!(free.free_pass && free.paid && free.auto_renew);
    assert_eq!((free.fee_yen, free.expiry), (0, Some(date!(2026 - 06 - 14))));
    assert_eq!(free.renewal, Renewal::Automatic);

    let conversion = datetime!(2026-06-15 00:00 +9);
    let last_free = site.view(conversion - S, office()).unwrap();
    assert!(last_free.free_pass);
    let converted = site.view(conversion, office()).unwrap();
    assert!(!converted.free_pass && converted.licensed);
    assert_eq!(
        (converted.fee_yen, converted.paid, converted.expiry),
        (21_000, false, None)
    );
    assert_eq!(converted.terms.len(), 2);
    assert_eq!(converted.terms[1].start, conversion);
    let settled = site.view(datetime!(2026-07-20 00:00 +9), office()).unwrap();
    assert_eq!(settled.expiry, Some(date!(2027 - 06 - 14)));
    assert_eq!(
        site.view(datetime!(2026-07-20 00:00 +9) - S, office())
            .unwrap()
            .expiry,
        None
    );
    // It keeps renewing, year after year, for as long as nobody stops it.
    assert_eq!(
        site.standing(datetime!(2031-01-01 00:00 +9), office()),
        LicenceStanding::Licensed
    );
}

#[test]
fn stopping_auto_renewal_before_the_conversion_lets_the_free_pass_end() {
    let applied_at = datetime!(2025-06-15 10:00 +9);
    let conversion = datetime!(2026-06-15 00:00 +9);
    let (mut site, session) = applied(applied_at, PaymentMethod::Deduction);
    let view = site.set_auto_renewal(conversion - S, session, false).unwrap();
    assert!(!view.auto_renew && view.free_pass);
    assert_eq!(site.standing(conversion - S, office()), LicenceStanding::Licensed);
    assert_eq!(site.standing(conversion, office()), LicenceStanding::Unlicensed);
    // Once lapsed, auto-renewal cannot restart it; a manual renewal can, from that moment, paid.
    let later = conversion + Duration::days(3);
    assert_eq!(
        site.set_auto_renewal(later, session, true).unwrap_err().code(),
        ErrorCode::LicenceLapsed
    );
    let renewed = site.renew(later, session).unwrap();
    assert_eq!(renewed.terms.last().unwrap().start, later);
    assert_eq!((renewed.licensed, renewed.fee_yen), (true, 21_000));

    // Stopping at the conversion instant itself is too late for that year.
    let (mut late, session) = applied(applied_at, PaymentMethod::Deduction);
    late.set_auto_renewal(conversion, session, false).unwrap();
    assert_eq!(
        late.standing(datetime!(2027-06-14 23:59:59 +9), office()),
        LicenceStanding::Licensed
    );
    assert_eq!(
        late.standing(datetime!(2027-06-15 00:00 +9), office()),
        LicenceStanding::Unlicensed
    );
}

#[test]
fn applications_before_june_2025_renew_by_hand_within_the_renewal_period() {
    let applied_at = datetime!(2024-05-15 10:00 +9);
    let (mut site, session) = applied(applied_at, PaymentMethod::Deduction);
    assert_eq!(
        site.set_auto_renewal(applied_at, session, false)
            .unwrap_err()
            .code(),
        ErrorCode::LicenceAutoRenewalUnavailable
    );
    let opens = datetime!(2025-04-14 00:00 +9);
    let early = site.renew(opens - S, session).unwrap_err();
    assert_eq!(early, LicenceError::RenewalTooEarly { opens });
    let renewed = site.renew(opens, session).unwrap();
    let next = renewed.terms[1];
    assert_eq!(next.start, datetime!(2025-05-15 00:00 +9));
    assert_eq!(next.end, datetime!(2026-05-14 23:59:59 +9));
    assert_eq!(
        site.renew(opens, session).unwrap_err().code(),
        ErrorCode::LicenceAlreadyRenewed
    );
    assert_eq!(
        site.standing(datetime!(2025-05-15 00:00 +9), office()),
        LicenceStanding::Licensed
    );
    // An automatic licence is never renewed by hand.
    let (mut auto, session) = applied(datetime!(2025-06-01 00:00 +9), PaymentMethod::Deduction);
    assert_eq!(
        auto.renew(datetime!(2026-05-20 00:00 +9), session)
            .unwrap_err()
            .code(),
        ErrorCode::LicenceRenewsAutomatically
    );
}

#[test]
fn the_free_pass_starts_on_its_first_day_to_the_second() {
    let site_at = |at: OffsetDateTime| {
        applied(at, PaymentMethod::Deduction)
            .0
            .view(at, office())
            .unwrap()
    };
    assert!(!site_at(datetime!(2025-05-31 23:59:59 +9)).free_pass);
    assert!(site_at(datetime!(2025-06-01 00:00 +9)).free_pass);
}

#[test]
fn the_free_pass_campaign_ends_with_applications_of_31_may_2026() {
    let site_at = |at: OffsetDateTime| {
        applied(at, PaymentMethod::Deduction)
            .0
            .view(at, office())
            .unwrap()
    };
    let last = site_at(datetime!(2026-05-31 23:59:59 +9));
    assert!(last.free_pass && last.auto_renew);
    assert_eq!(last.fee_yen, 0);
    // From 1 June 2026 an application is paid from the start, and still renews itself.
    let after = site_at(datetime!(2026-06-01 00:00 +9));
    assert!(!after.free_pass && after.auto_renew);
    assert_eq!(after.fee_yen, 21_000);
    assert_eq!(after.expiry, None, "unpaid until the deduction settles");
}

#[test]
fn a_licence_is_never_cancelled() {
    let (mut site, session) = applied(datetime!(2025-06-15 10:00 +9), PaymentMethod::Deduction);
    assert_eq!(
        site.cancel(datetime!(2025-06-15 10:00 +9), session)
            .unwrap_err()
            .code(),
        ErrorCode::LicenceCancelNotAllowed
    );
    assert_eq!(
        site.standing(datetime!(2025-06-16 00:00 +9), office()),
        LicenceStanding::Licensed
    );
    assert_eq!(
        site.cancel(datetime!(2025-06-15 10:00 +9), SiteSession::from_raw(99))
            .unwrap_err()
            .code(),
        ErrorCode::SessionInvalid
    );
}

#[test]
fn personal_user_ids_parse_only_in_their_own_shape() {
    assert_eq!(
        "careplan@0042".parse::<PersonalUserId>().unwrap().to_string(),
        "careplan@0042"
    );
    assert_eq!(
        "careplan@12345".parse::<PersonalUserId>().unwrap().to_string(),
        "careplan@12345"
    );
    for bad in ["careplan@42", "careplan@00a1", "KJ131310000001", "", "careplan@"] {
        assert!(bad.parse::<PersonalUserId>().is_err(), "{bad}");
    }
}

#[test]
fn a_session_idle_for_more_than_30_minutes_is_refused_with_session_expired_and_a_new_login_works() {
    let at = datetime!(2025-06-15 10:00 +9);
    let (mut portal, _) = world(at);
    let mut site = UsageSite::new(LicenceConfig::default(), 9);
    let session = site
        .login(at, &mut portal, "KJ131310000001", "Sakura2025")
        .unwrap();
    site.apply(at, session, form(PaymentMethod::Deduction)).unwrap();
    let idle = at + Duration::minutes(30);
    assert!(site.licence(idle, session).is_ok());
    let ended = idle + Duration::minutes(30) + S;
    assert_eq!(
        site.licence(ended, session).unwrap_err().code(),
        ErrorCode::SessionExpired
    );
    assert_eq!(
        site.licence(ended, session).unwrap_err().code(),
        ErrorCode::SessionInvalid
    );
    let again = site
        .login(ended, &mut portal, "KJ131310000001", "Sakura2025")
        .unwrap();
    assert!(site.licence(ended, again).is_ok());
}

#[test]
fn no_usage_application_before_the_site_opened_on_1_april_2023() {
    let at = datetime!(2023-03-31 23:59:59 +9);
    let mut site = UsageSite::new(LicenceConfig::default(), 9);
    let refused = site
        .register(at, office(), form(PaymentMethod::Deduction))
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::ServiceNotStarted);
    assert!(
        site.register(at + S, office(), form(PaymentMethod::Deduction))
            .is_ok()
    );
}
