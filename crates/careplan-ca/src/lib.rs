//! The e-seikyu CA (e-seikyu CA / 電子証明書): the certificate authority of the e-billing portal, which
//! issues the client certificates offices use to reach the relay, and the relay's server certificate.
//!
//! Architecture invariants:
//! - Sans-IO: the CA is a value; issuing takes the current time as an argument and never reads a clock.
//! - Deterministic: keys come from the committed pool under `certs/pool/` (see `certs/README.md`), serial
//!   numbers are sequential, and RSA PKCS#1 v1.5 signatures are deterministic, so the same sequence of
//!   requests at the same instants yields byte-identical certificates and fingerprints.
//! - The CA root and the relay certificate have fixed validity, so their fingerprints never change.

mod key_pool;
mod parse;

use careplan_core::{ErrorCode, OfficeNumber, end_of_day_jst};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

pub use key_pool::POOL_SIZE;
pub use parse::{CertifiedOffice, parse_office_certificate};

/// Common name of the CA, as offices see it in the issuer field (発行者).
pub const CA_COMMON_NAME: &str = "e-seikyu CA";

/// The DNS name in the relay's server certificate, which clients verify.
pub const RELAY_SERVER_NAME: &str = "relay.careplan.test";

/// The attribute holding the office number in an office certificate's subject: X.520 `serialNumber`
/// (2.5.4.5), the subject's identifier.
pub(crate) const OFFICE_NUMBER_OID: [u64; 4] = [2, 5, 4, 5];

/// Validity of certificates, in years. The end date is the day before the same date that many years
/// later, valid until 23:59:59 JST (assumed reading of "3 years from the start date").
pub const VALIDITY_YEARS: i32 = 3;

/// Why the CA refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// rcgen could not build or sign a certificate (a bug, or a corrupt key pool).
    #[error("certificate generation failed: {0}")]
    Generation(#[from] rcgen::Error),
    /// A certificate could not be parsed.
    #[error("certificate is not a valid e-seikyu office certificate: {0}")]
    Parse(String),
    /// A certificate is of a type that cannot be used for care plan linkage.
    #[error("certificate type `{0}` cannot be used for care plan linkage")]
    WrongType(String),
}

impl CaError {
    /// The stable code of this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            CaError::Generation(_) | CaError::Parse(_) => ErrorCode::CertUntrusted,
            CaError::WrongType(_) => ErrorCode::CertWrongType,
        }
    }
}

/// Certificate type (証明書の種類), told apart by the subject's common name (発行先).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateType {
    /// Care-insurance certificate (介護保険証明書, `KaigoJigyousho`): the office's claim certificate.
    CareInsurance,
    /// Care-DX certificate (介護DX証明書, formerly 請求委任事業所用ケアプラン証明書, `CarePlanJigyousho`), for
    /// offices whose claims are filed by a proxy.
    CareDx,
}

impl CertificateType {
    /// The subject common name of this type.
    pub fn common_name(self) -> &'static str {
        match self {
            CertificateType::CareInsurance => "KaigoJigyousho",
            CertificateType::CareDx => "CarePlanJigyousho",
        }
    }

    /// The type with this subject common name.
    pub fn from_common_name(name: &str) -> Option<Self> {
        [CertificateType::CareInsurance, CertificateType::CareDx]
            .into_iter()
            .find(|t| t.common_name() == name)
    }
}

/// A certificate with its private key, as an office installs it.
#[derive(Debug, Clone)]
pub struct IssuedCertificate {
    /// The certificate, DER.
    pub certificate: CertificateDer<'static>,
    /// Its private key, PKCS#8 DER.
    key_pkcs8: Vec<u8>,
    /// Serial number assigned by the CA.
    pub serial: u64,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity: 23:59:59 JST of the end date.
    pub not_after: OffsetDateTime,
}

impl IssuedCertificate {
    /// The private key, for a TLS configuration.
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()))
    }
}

/// The e-seikyu CA.
#[derive(Debug)]
pub struct CertificateAuthority {
    issuer: Issuer<'static, KeyPair>,
    root: CertificateDer<'static>,
    next_serial: u64,
    next_office_key: usize,
}

/// Fixed validity of the root and the relay certificate: 2020-01-01 to 2049-12-31 (JST).
fn infrastructure_validity(params: &mut CertificateParams) {
    params.not_before = time::macros::datetime!(2020-01-01 00:00 +9);
    params.not_after = time::macros::datetime!(2049-12-31 23:59:59 +9);
}

impl CertificateAuthority {
    /// The CA with its fixed self-signed root (CN `e-seikyu CA`).
    pub fn new() -> Result<Self, CaError> {
        let key = key_pool::key(key_pool::CA_KEY)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, CA_COMMON_NAME);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.serial_number = Some(SerialNumber::from(1));
        infrastructure_validity(&mut params);
        let root = params.self_signed(&key)?.der().clone();
        Ok(Self {
            issuer: Issuer::new(params, key),
            root,
            next_serial: 1000,
            next_office_key: 0,
        })
    }

    /// The root certificate, which relays and clients trust.
    pub fn root(&self) -> &CertificateDer<'static> {
        &self.root
    }

    /// Issues the relay's server certificate (fixed validity, SANs `relay.careplan.test` and `localhost`).
    pub fn issue_relay_certificate(&self) -> Result<IssuedCertificate, CaError> {
        let key = key_pool::key(key_pool::RELAY_KEY)?;
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, RELAY_SERVER_NAME);
        params.subject_alt_names = vec![
            SanType::DnsName(RELAY_SERVER_NAME.try_into()?),
            SanType::DnsName("localhost".try_into()?),
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.serial_number = Some(SerialNumber::from(2));
        params.use_authority_key_identifier_extension = true;
        infrastructure_validity(&mut params);
        let certificate = params.signed_by(&key, &self.issuer)?.der().clone();
        Ok(IssuedCertificate {
            certificate,
            key_pkcs8: key.serialize_der(),
            serial: 2,
            not_before: params.not_before,
            not_after: params.not_after,
        })
    }

    /// Issues an office's client certificate at `now`: valid from `now` until 23:59:59 JST of the day
    /// before the same date [`VALIDITY_YEARS`] later.
    pub fn issue_office_certificate(
        &mut self,
        now: OffsetDateTime,
        office: OfficeNumber,
        certificate_type: CertificateType,
    ) -> Result<IssuedCertificate, CaError> {
        let key = key_pool::key(key_pool::office_key(self.next_office_key))?;
        let serial = self.next_serial;
        let now = now
            .to_offset(careplan_core::JST)
            .replace_nanosecond(0)
            .unwrap_or(now);
        let start = now.date();
        let end_date = start
            .replace_year(start.year() + VALIDITY_YEARS)
            // 29 February has no anniversary in a common year: the period then ends on 28 February.
            .unwrap_or_else(|_| start + Duration::days(365 * 3))
            - Duration::days(1);
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, certificate_type.common_name());
        params
            .distinguished_name
            .push(DnType::CustomDnType(OFFICE_NUMBER_OID.to_vec()), office.as_str());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.serial_number = Some(SerialNumber::from(serial));
        params.use_authority_key_identifier_extension = true;
        params.not_before = now;
        params.not_after = end_of_day_jst(end_date);
        let certificate = params.signed_by(&key, &self.issuer)?.der().clone();
        self.next_serial += 1;
        self.next_office_key += 1;
        Ok(IssuedCertificate {
            certificate,
            key_pkcs8: key.serialize_der(),
            serial,
            not_before: params.not_before,
            not_after: params.not_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn office_certificates_last_three_years_to_the_last_second_and_carry_the_office() {
        let mut ca = CertificateAuthority::new().unwrap();
        let office: OfficeNumber = "1310000001".parse().unwrap();
        let now = datetime!(2025-05-01 09:00:00.5 +9);
        let issued = ca
            .issue_office_certificate(now, office, CertificateType::CareInsurance)
            .unwrap();
        assert_eq!(issued.not_before, datetime!(2025-05-01 09:00 +9));
        assert_eq!(issued.not_after, datetime!(2028-04-30 23:59:59 +9));
        let parsed = parse_office_certificate(&issued.certificate).unwrap();
        assert_eq!(parsed.office, office);
        assert_eq!(parsed.certificate_type, CertificateType::CareInsurance);
        assert_eq!(parsed.not_after, issued.not_after);
    }

    #[test]
    fn a_leap_day_certificate_ends_on_27_february() {
        let mut ca = CertificateAuthority::new().unwrap();
        let office: OfficeNumber = "1310000001".parse().unwrap();
        let issued =
            ca.issue_office_certificate(datetime!(2024-02-29 10:00 +9), office, CertificateType::CareDx);
        // 2024-02-29 + 3 years has no 29 February; the anniversary falls on 2027-02-28 (365 × 3 days later
        // lands on 2027-02-28 as well), and validity ends the day before.
        assert_eq!(issued.unwrap().not_after, datetime!(2027-02-27 23:59:59 +9));
    }

    #[test]
    fn issuance_is_deterministic() {
        let office: OfficeNumber = "2761690714".parse().unwrap();
        let now = datetime!(2025-05-01 09:00 +9);
        let run = || {
            let mut ca = CertificateAuthority::new().unwrap();
            let relay = ca.issue_relay_certificate().unwrap().certificate;
            let first = ca
                .issue_office_certificate(now, office, CertificateType::CareInsurance)
                .unwrap();
            (ca.root().clone(), relay, first.certificate)
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn care_dx_certificates_parse_as_their_type() {
        let mut ca = CertificateAuthority::new().unwrap();
        let office: OfficeNumber = "2761690714".parse().unwrap();
        let issued =
            ca.issue_office_certificate(datetime!(2025-05-01 09:00 +9), office, CertificateType::CareDx);
        let parsed = parse_office_certificate(&issued.unwrap().certificate).unwrap();
        assert_eq!(parsed.certificate_type, CertificateType::CareDx);
    }
}
