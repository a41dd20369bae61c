use time::macros::datetime;

use super::*;

fn office() -> OfficeNumber {
    "2761690714".parse().unwrap()
}

fn issued_at(ca: &mut CertificateAuthority, now: OffsetDateTime) -> IssuedCertificate {
    ca.issue_office_certificate(now, office(), CertificateType::CareInsurance)
        .unwrap()
}

#[test]
fn office_certificates_last_three_years_to_the_last_second_and_carry_the_office() {
    let mut ca = CertificateAuthority::new().unwrap();
    let issued = issued_at(&mut ca, datetime!(2025-05-01 09:00:00.5 +9));
    assert_eq!(issued.not_before, datetime!(2025-05-01 09:00 +9));
    // The end date is the anniversary, valid to its last second (the manual's 2023/04/01 → 2026/04/01).
    assert_eq!(issued.not_after, datetime!(2028-05-01 23:59:59 +9));
    let parsed = parse_office_certificate(&issued.certificate).unwrap();
    assert_eq!(parsed.office, office());
    assert_eq!(parsed.certificate_type, CertificateType::CareInsurance);
    assert_eq!(parsed.not_after, issued.not_after);
    let record = ca.record(issued.serial).unwrap();
    assert_eq!((record.office, record.revoked_at), (office(), None));
}

#[test]
fn a_leap_day_certificate_ends_on_1_march_never_before_one_of_28_february() {
    let mut ca = CertificateAuthority::new().unwrap();
    let mut end = |start| {
        ca.issue_office_certificate(start, office(), CertificateType::CareDx)
            .unwrap()
            .not_after
    };
    // 2027 has no 29 February: the anniversary is 1 March, a day after the 28 February one's.
    assert_eq!(
        end(datetime!(2024-02-28 10:00 +9)),
        datetime!(2027-02-28 23:59:59 +9)
    );
    assert_eq!(
        end(datetime!(2024-02-29 10:00 +9)),
        datetime!(2027-03-01 23:59:59 +9)
    );
    assert_eq!(
        end(datetime!(2024-03-01 10:00 +9)),
        datetime!(2027-03-01 23:59:59 +9)
    );
}

#[test]
fn issuance_is_deterministic() {
    let now = datetime!(2025-05-01 09:00 +9);
    let run = || {
        let mut ca = CertificateAuthority::new().unwrap();
        let relay = ca.issue_relay_certificate().unwrap().certificate;
        let portal = ca.issue_portal_certificate().unwrap().certificate;
        let first = issued_at(&mut ca, now);
        ca.revoke(now, first.serial).unwrap();
        let crl = ca.crl(now).unwrap();
        (
            ca.root().clone(),
            relay,
            portal,
            first.certificate,
            crl,
            ca.fingerprint(),
        )
    };
    assert_eq!(run(), run());
}

#[test]
fn every_type_parses_as_itself_and_only_two_serve_linkage() {
    let mut ca = CertificateAuthority::new().unwrap();
    for certificate_type in CertificateType::ALL {
        let issued = ca
            .issue_office_certificate(datetime!(2025-05-01 09:00 +9), office(), certificate_type)
            .unwrap();
        let parsed = parse_office_certificate(&issued.certificate).unwrap();
        assert_eq!(parsed.certificate_type, certificate_type);
        assert_eq!(certificate_type.as_str().parse(), Ok(certificate_type));
    }
    let usable: Vec<_> = CertificateType::ALL
        .into_iter()
        .filter(|t| t.usable_for_linkage())
        .collect();
    assert_eq!(usable, [CertificateType::CareInsurance, CertificateType::CareDx]);
}

#[test]
fn renewal_opens_at_midnight_three_months_before_the_end_date_and_closes_at_its_last_second() {
    let mut ca = CertificateAuthority::new().unwrap();
    let issued = issued_at(&mut ca, datetime!(2025-05-01 09:00 +9));
    let window = ca.config().renewal_window(issued.not_after);
    assert_eq!(window.opens, datetime!(2028-02-01 00:00 +9));
    assert_eq!(window.closes, datetime!(2028-05-01 23:59:59 +9));
    let code = |now| ca.check_renewal(now, issued.not_after).map_err(|e| e.code());
    assert_eq!(
        code(datetime!(2028-01-31 23:59:59 +9)),
        Err(ErrorCode::CertRenewalTooEarly)
    );
    assert_eq!(code(datetime!(2028-02-01 00:00 +9)), Ok(()));
    assert_eq!(code(datetime!(2028-05-01 23:59:59 +9)), Ok(()));
    assert_eq!(
        code(datetime!(2028-05-02 00:00 +9)),
        Err(ErrorCode::CertRenewalTooLate)
    );
}

#[test]
fn a_window_opening_on_a_missing_day_clamps_to_the_month_end() {
    let config = CaConfig::default();
    let window = config.renewal_window(datetime!(2028-05-31 23:59:59 +9));
    assert_eq!(window.opens, datetime!(2028-02-29 00:00 +9));
}

#[test]
fn a_continuity_renewal_starts_the_second_after_the_old_certificate_ends() {
    let mut ca = CertificateAuthority::new().unwrap();
    let old = issued_at(&mut ca, datetime!(2025-05-01 09:00 +9));
    let start = ca.config().day_after_end(old.not_after);
    let renewed = ca
        .issue_office_certificate(start, office(), CertificateType::CareInsurance)
        .unwrap();
    assert_eq!(renewed.not_before, old.not_after + Duration::seconds(1));
    assert_eq!(renewed.not_before, datetime!(2028-05-02 00:00 +9));
    assert_eq!(renewed.not_after, datetime!(2031-05-02 23:59:59 +9));
    assert_ne!(renewed.serial, old.serial);
}

#[test]
fn nothing_is_issued_between_01_30_and_06_30() {
    let config = CaConfig::default();
    let cases = [
        (
            datetime!(2025-05-01 01:29:59 +9),
            datetime!(2025-05-01 01:29:59 +9),
        ),
        (datetime!(2025-05-01 01:30:00 +9), datetime!(2025-05-01 06:30 +9)),
        (datetime!(2025-05-01 02:00:00 +9), datetime!(2025-05-01 06:30 +9)),
        (datetime!(2025-05-01 06:29:59 +9), datetime!(2025-05-01 06:30 +9)),
        (datetime!(2025-05-01 06:30:00 +9), datetime!(2025-05-01 06:30 +9)),
        // The pause is on the JST clock whatever offset the instant carries.
        (datetime!(2025-04-30 17:00 UTC), datetime!(2025-05-01 06:30 +9)),
    ];
    for (ready, issued) in cases {
        assert_eq!(config.issuance_instant(ready), issued, "ready at {ready}");
    }
}

#[test]
fn the_crl_lists_revoked_certificates_from_their_revocation() {
    use x509_parser::prelude::{CertificateRevocationList, FromDer};
    let mut ca = CertificateAuthority::new().unwrap();
    let kept = issued_at(&mut ca, datetime!(2025-05-01 09:00 +9));
    let revoked = issued_at(&mut ca, datetime!(2025-05-01 09:00 +9));
    let at = datetime!(2025-06-01 10:00 +9);
    ca.revoke(at, revoked.serial).unwrap();
    assert_eq!(
        ca.revoke(at, revoked.serial).unwrap_err().code(),
        ErrorCode::CertAlreadyRevoked
    );
    assert_eq!(ca.revoke(at, 9).unwrap_err().code(), ErrorCode::CertNotIssued);
    let serials = |der: CertificateRevocationListDer<'_>| {
        let (_, crl) = CertificateRevocationList::from_der(&der).unwrap();
        crl.iter_revoked_certificates()
            .map(|r| u64::try_from(r.user_certificate.clone()).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        serials(ca.crl(at - Duration::seconds(1)).unwrap()),
        Vec::<u64>::new()
    );
    assert_eq!(serials(ca.crl(at).unwrap()), [revoked.serial]);
    assert!(ca.record(kept.serial).unwrap().revoked_at.is_none());
}

#[test]
fn the_download_opens_only_with_the_issuance_password() {
    let mut ca = CertificateAuthority::new().unwrap();
    let issued = issued_at(&mut ca, datetime!(2025-05-01 09:00 +9));
    let p12 = ca.export_pkcs12(&issued, "Ab3dEfGh12").unwrap();
    assert_eq!(open_pkcs12(&p12, "Ab3dEfGh12").unwrap(), issued);
    assert_eq!(
        open_pkcs12(&p12, "Ab3dEfGh13").unwrap_err().code(),
        ErrorCode::Pkcs12PasswordWrong
    );
    assert_eq!(
        open_pkcs12(b"not a pkcs12 file", "x").unwrap_err().code(),
        ErrorCode::Pkcs12PasswordWrong
    );
}

/// Standard tooling opens the download with the issuance password and refuses it without: the
/// certificate `openssl pkcs12` extracts is the one the CA issued, byte for byte.
#[test]
fn openssl_opens_the_download_with_the_issuance_password() {
    use std::process::Command;
    let mut ca = CertificateAuthority::new().unwrap();
    let issued = issued_at(&mut ca, datetime!(2025-05-01 09:00 +9));
    let dir = std::env::temp_dir().join(format!("careplan-ca-p12-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("office.p12");
    std::fs::write(&file, ca.export_pkcs12(&issued, "Ab3dEfGh12").unwrap()).unwrap();
    let openssl = |password: &str| {
        Command::new("openssl")
            .args(["pkcs12", "-in"])
            .arg(&file)
            .args(["-nokeys", "-clcerts", "-passin"])
            .arg(format!("pass:{password}"))
            .output()
            .expect("openssl is needed for this test (Debian package `openssl`; .ci/run installs it)")
    };
    let opened = openssl("Ab3dEfGh12");
    assert!(
        opened.status.success(),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    let pem = String::from_utf8(opened.stdout).unwrap();
    let (_, parsed) =
        x509_parser::pem::parse_x509_pem(&pem.as_bytes()[pem.find("-----BEGIN").unwrap()..]).unwrap();
    assert_eq!(parsed.contents, issued.certificate.as_ref());
    assert!(!openssl("wrong-password1").status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_published_fingerprint_is_the_roots_and_fixed() {
    let ca = CertificateAuthority::new().unwrap();
    let fingerprint = ca.fingerprint();
    assert_eq!(fingerprint, Fingerprint::of(ca.root()));
    assert_eq!(fingerprint.sha256.split(':').count(), 32);
    assert_eq!(fingerprint.sha1.split(':').count(), 20);
    assert_eq!(fingerprint, CertificateAuthority::new().unwrap().fingerprint());
}

fn derived(byte: u8) -> KeySource {
    KeySource::Derived(KeySecret::from_bytes([byte; 32]))
}

#[test]
fn derived_keys_are_the_ecosystems_own_and_stable_across_replays() {
    let pool = CertificateAuthority::new().unwrap();
    let mut first = CertificateAuthority::with_keys(CaConfig::default(), derived(7)).unwrap();
    let again = CertificateAuthority::with_keys(CaConfig::default(), derived(7)).unwrap();
    let other = CertificateAuthority::with_keys(CaConfig::default(), derived(8)).unwrap();
    // The same secret gives the same root (a replayed ecosystem keeps its CA); another secret, or the
    // committed pool, another one.
    assert_eq!(first.root(), again.root());
    assert_ne!(first.root(), other.root());
    assert_ne!(first.root(), pool.root());
    // Pinned: a change of derivation (or of the RSA crate's key generation) would orphan every
    // certificate an existing data directory's offices hold.
    assert_eq!(
        &first.fingerprint().sha256[..23],
        "B5:F6:CB:55:A0:0E:51:B8",
        "derivation changed"
    );
    // Every office certificate has its own key, unlike the pool's, which wraps after 13.
    let now = datetime!(2025-05-01 09:00 +9);
    let keys: std::collections::BTreeSet<_> = (0..15)
        .map(|_| issued_at(&mut first, now).private_key().secret_der().to_vec())
        .collect();
    assert_eq!(keys.len(), 15);
    let relay = first.issue_relay_certificate().unwrap();
    assert!(!keys.contains(relay.private_key().secret_der()));
}

#[test]
fn a_key_secret_reads_back_from_its_hex_and_never_shows_in_debug() {
    let secret = KeySecret::from_bytes(std::array::from_fn(|i| u8::try_from(i * 7).unwrap()));
    let hex = secret.to_string();
    assert_eq!(hex.len(), 64);
    assert_eq!(hex.parse::<KeySecret>().unwrap(), secret);
    assert_eq!(format!("{secret:?}"), "KeySecret(..)");
    for bad in ["", "00", &hex[1..], &format!("{}g", &hex[1..])] {
        assert_eq!(bad.parse::<KeySecret>(), Err(KeySecretError), "{bad}");
    }
}
