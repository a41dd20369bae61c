//! The e-seikyu CA (e-seikyu CA / 電子証明書): the certificate authority of the e-billing portal, which
//! issues the client certificates offices use to reach the relay, the relay's and the portal's server
//! certificates, and the revocation list (CRL) the relay honours.
//!
//! Architecture invariants:
//! - Sans-IO: the CA is a value; every operation takes the current time as an argument and never reads a
//!   clock. Who may apply, and when an application is approved, is the portal's business
//!   (`careplan-eseikyu`); the CA owns what a certificate is: its validity, its renewal window, the
//!   01:30–06:30 issuance pause, revocation and the PKCS#12 download.
//! - Deterministic: keys come from a [`KeySource`] — the committed pool under `certs/pool/` (see
//!   `certs/README.md`) or keys derived from an ecosystem's secret — serial numbers are sequential, and RSA PKCS#1 v1.5 signatures are deterministic, so the same sequence of
//!   requests at the same instants yields byte-identical certificates, fingerprints and CRLs. (A PKCS#12
//!   container is salted at random, as every PKCS#12 writer does; what it holds is reproducible.)
//! - The CA root and the server certificates have fixed validity, so their fingerprints never change.

mod key_pool;
mod keys;
mod parse;
mod pkcs12;
mod validity;

use std::collections::BTreeMap;
use std::fmt;

use careplan_core::{ErrorCode, OfficeNumber, format_jst};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams, SanType,
    SerialNumber,
};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

pub use key_pool::POOL_SIZE;
use keys::KeySlot;
pub use keys::{KeySecret, KeySecretError, KeySource};
pub use parse::{CertifiedOffice, parse_office_certificate};
pub use pkcs12::open_pkcs12;
pub use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};
pub use validity::{CaConfig, RenewalStart, RenewalWindow};

/// Common name of the CA, as offices see it in the issuer field (発行者).
pub const CA_COMMON_NAME: &str = "e-seikyu CA";

/// The DNS name in the relay's server certificate, which clients verify.
pub const RELAY_SERVER_NAME: &str = "relay.careplan.test";

/// The DNS name in the e-billing portal's server certificate (the portal also serves the CA's downloads).
pub const PORTAL_SERVER_NAME: &str = "portal.careplan.test";

/// The DNS name in the usage-application site's server certificate.
pub const USAGE_SITE_SERVER_NAME: &str = "usage.careplan.test";

/// The attribute holding the office number in an office certificate's subject: X.520 `serialNumber`
/// (2.5.4.5), the subject's identifier.
pub(crate) const OFFICE_NUMBER_OID: [u64; 4] = [2, 5, 4, 5];

/// Why the CA refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaError {
    /// rcgen could not build or sign a certificate or CRL (a bug, or a corrupt key pool).
    #[error("certificate generation failed: {0}")]
    Generation(String),
    /// A certificate could not be parsed.
    #[error("certificate is not a valid e-seikyu office certificate: {0}")]
    Parse(String),
    /// A certificate is of a type that cannot be used for care plan linkage.
    #[error("certificate type `{0}` cannot be used for care plan linkage")]
    WrongType(String),
    /// A renewal before the window opens.
    #[error("renewal opens at {} JST (3 months before the end date); apply again then", format_jst(*.opens))]
    RenewalTooEarly {
        /// When renewal becomes possible.
        opens: OffsetDateTime,
    },
    /// A renewal after the certificate's end.
    #[error("the certificate ended at {} JST; an expired certificate is not renewed, apply for a new one", format_jst(*.ended))]
    RenewalTooLate {
        /// When the certificate ended.
        ended: OffsetDateTime,
    },
    /// No office certificate has this serial.
    #[error("no office certificate with serial {0}")]
    UnknownSerial(u64),
    /// The certificate is revoked already.
    #[error("certificate {0} is already revoked")]
    AlreadyRevoked(u64),
    /// The PKCS#12 container could not be written.
    #[error("PKCS#12 export failed: {0}")]
    Pkcs12(String),
    /// The PKCS#12 container did not open with the password given (or is not PKCS#12).
    #[error("the certificate file does not open with this password")]
    Pkcs12PasswordWrong,
}

impl From<rcgen::Error> for CaError {
    fn from(e: rcgen::Error) -> Self {
        CaError::Generation(e.to_string())
    }
}

impl CaError {
    /// The stable code of this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            CaError::Generation(_) | CaError::Parse(_) | CaError::Pkcs12(_) => ErrorCode::CertUntrusted,
            CaError::WrongType(_) => ErrorCode::CertWrongType,
            CaError::RenewalTooEarly { .. } => ErrorCode::CertRenewalTooEarly,
            CaError::RenewalTooLate { .. } => ErrorCode::CertRenewalTooLate,
            CaError::UnknownSerial(_) => ErrorCode::CertNotIssued,
            CaError::AlreadyRevoked(_) => ErrorCode::CertAlreadyRevoked,
            CaError::Pkcs12PasswordWrong => ErrorCode::Pkcs12PasswordWrong,
        }
    }
}

/// Certificate type (証明書の種類), told apart by the subject's common name (発行先).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CertificateType {
    /// Care-insurance certificate (介護保険証明書, `KaigoJigyousho`): the office's claim certificate.
    CareInsurance,
    /// Care-DX certificate (介護DX証明書, formerly 請求委任事業所用ケアプラン証明書, `CarePlanJigyousho`), for
    /// offices whose claims are filed by a proxy; fee 0 yen.
    CareDx,
    /// A billing proxy's certificate (代理請求用証明書): the CA issues it, the relay refuses it.
    BillingProxy,
    /// A disability-welfare office's certificate (障害福祉サービス用証明書): refused by the relay.
    DisabilityWelfare,
}

impl CertificateType {
    /// Every type, in a fixed order.
    pub const ALL: [CertificateType; 4] = [
        CertificateType::CareInsurance,
        CertificateType::CareDx,
        CertificateType::BillingProxy,
        CertificateType::DisabilityWelfare,
    ];

    /// The subject common name of this type. The last two are the simulator's names (assumed): the
    /// public guides only say such certificates are refused.
    pub fn common_name(self) -> &'static str {
        match self {
            CertificateType::CareInsurance => "KaigoJigyousho",
            CertificateType::CareDx => "CarePlanJigyousho",
            CertificateType::BillingProxy => "DairiSeikyu",
            CertificateType::DisabilityWelfare => "ShougaiJigyousho",
        }
    }

    /// The type with this subject common name.
    pub fn from_common_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.common_name() == name)
    }

    /// Whether the relay accepts this type for care plan linkage.
    pub fn usable_for_linkage(self) -> bool {
        matches!(self, CertificateType::CareInsurance | CertificateType::CareDx)
    }

    /// The name scenarios and the HTTP API use: `care_insurance`, `care_dx`, `billing_proxy`,
    /// `disability_welfare`.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateType::CareInsurance => "care_insurance",
            CertificateType::CareDx => "care_dx",
            CertificateType::BillingProxy => "billing_proxy",
            CertificateType::DisabilityWelfare => "disability_welfare",
        }
    }
}

impl std::str::FromStr for CertificateType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| {
            format!("certificate type `{s}`: expected care_insurance, care_dx, billing_proxy or disability_welfare")
        })
    }
}

impl fmt::Display for CertificateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A certificate with its private key, as an office installs it.
#[derive(Clone, PartialEq, Eq)]
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

impl fmt::Debug for IssuedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCertificate")
            .field("serial", &self.serial)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl IssuedCertificate {
    /// The private key, for a TLS configuration.
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()))
    }

    /// Whether the certificate is valid at `now` (revocation aside).
    pub fn valid_at(&self, now: OffsetDateTime) -> bool {
        self.not_before <= now && now <= self.not_after
    }

    /// The SHA-256 fingerprint of the certificate.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.certificate)
    }
}

/// A certificate's fingerprint (拇印), as the portal publishes the CA's for checking after installation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// SHA-256 of the DER, upper-case hex pairs joined by `:`.
    pub sha256: String,
    /// SHA-1 of the DER, as Windows shows it (拇印), upper-case hex pairs joined by `:`.
    pub sha1: String,
}

impl Fingerprint {
    /// The fingerprints of a DER certificate.
    pub fn of(der: &[u8]) -> Self {
        let hex = |digest: ring::digest::Digest| {
            digest
                .as_ref()
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(":")
        };
        Self {
            sha256: hex(ring::digest::digest(&ring::digest::SHA256, der)),
            sha1: hex(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der)),
        }
    }
}

/// What the CA remembers of an office certificate it issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    /// The office in the subject.
    pub office: OfficeNumber,
    /// The type.
    pub certificate_type: CertificateType,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

/// The e-seikyu CA.
#[derive(Debug)]
pub struct CertificateAuthority {
    config: CaConfig,
    keys: KeySource,
    issuer: Issuer<'static, KeyPair>,
    root: CertificateDer<'static>,
    next_serial: u64,
    next_office_key: usize,
    issued: BTreeMap<u64, CertificateRecord>,
    crl_number: u64,
}

/// Fixed validity of the root and the server certificates: 2020-01-01 to 2049-12-31 (JST).
fn infrastructure_validity(params: &mut CertificateParams) {
    params.not_before = time::macros::datetime!(2020-01-01 00:00 +9);
    params.not_after = time::macros::datetime!(2049-12-31 23:59:59 +9);
}

impl CertificateAuthority {
    /// The CA with its fixed self-signed root (CN `e-seikyu CA`) and the default rules.
    pub fn new() -> Result<Self, CaError> {
        Self::with_config(CaConfig::default())
    }

    /// The CA with its fixed root and the given rules, its keys from the committed pool.
    pub fn with_config(config: CaConfig) -> Result<Self, CaError> {
        Self::with_keys(config, KeySource::CommittedPool)
    }

    /// The CA with the given rules and keys.
    pub fn with_keys(config: CaConfig, keys: KeySource) -> Result<Self, CaError> {
        let key = keys.key(KeySlot::Root)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, CA_COMMON_NAME);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.serial_number = Some(SerialNumber::from(1));
        infrastructure_validity(&mut params);
        let root = params.self_signed(&key)?.der().clone();
        Ok(Self {
            config,
            keys,
            issuer: Issuer::new(params, key),
            root,
            next_serial: 1000,
            next_office_key: 0,
            issued: BTreeMap::new(),
            crl_number: 0,
        })
    }

    /// The rules in force.
    pub fn config(&self) -> &CaConfig {
        &self.config
    }

    /// The root certificate, which relays and clients trust.
    pub fn root(&self) -> &CertificateDer<'static> {
        &self.root
    }

    /// The root's fingerprint, as the portal publishes it for offices to check after installation.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.root)
    }

    /// Issues the relay's server certificate (fixed validity, SANs `relay.careplan.test` and `localhost`).
    pub fn issue_relay_certificate(&self) -> Result<IssuedCertificate, CaError> {
        self.issue_server_certificate(KeySlot::Relay, 2, RELAY_SERVER_NAME)
    }

    /// Issues the e-billing portal's server certificate (fixed validity, SANs `portal.careplan.test` and
    /// `localhost`).
    pub fn issue_portal_certificate(&self) -> Result<IssuedCertificate, CaError> {
        self.issue_server_certificate(KeySlot::Portal, 3, PORTAL_SERVER_NAME)
    }

    /// Issues the usage-application site's server certificate (fixed validity, SANs
    /// `usage.careplan.test` and `localhost`).
    pub fn issue_usage_site_certificate(&self) -> Result<IssuedCertificate, CaError> {
        self.issue_server_certificate(KeySlot::UsageSite, 4, USAGE_SITE_SERVER_NAME)
    }

    fn issue_server_certificate(
        &self,
        slot: KeySlot,
        serial: u64,
        name: &str,
    ) -> Result<IssuedCertificate, CaError> {
        let key = self.keys.key(slot)?;
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.subject_alt_names = vec![
            SanType::DnsName(name.try_into()?),
            SanType::DnsName("localhost".try_into()?),
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.serial_number = Some(SerialNumber::from(serial));
        params.use_authority_key_identifier_extension = true;
        infrastructure_validity(&mut params);
        let certificate = params.signed_by(&key, &self.issuer)?.der().clone();
        Ok(IssuedCertificate {
            certificate,
            key_pkcs8: key.serialize_der(),
            serial,
            not_before: params.not_before,
            not_after: params.not_after,
        })
    }

    /// Issues an office's client certificate valid from `not_before` (to the second) until 23:59:59 JST of
    /// the day before the same date [`CaConfig::validity_years`] later. A renewal "from the day after the
    /// current end" passes that day's 00:00:00 here.
    pub fn issue_office_certificate(
        &mut self,
        not_before: OffsetDateTime,
        office: OfficeNumber,
        certificate_type: CertificateType,
    ) -> Result<IssuedCertificate, CaError> {
        let key = self.keys.key(KeySlot::Office(self.next_office_key))?;
        let serial = self.next_serial;
        let (not_before, not_after) = self.config.validity_from(not_before);
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
        params.not_before = not_before;
        params.not_after = not_after;
        let certificate = params.signed_by(&key, &self.issuer)?.der().clone();
        self.next_serial += 1;
        self.next_office_key += 1;
        self.issued.insert(
            serial,
            CertificateRecord {
                office,
                certificate_type,
                not_before,
                not_after,
                revoked_at: None,
            },
        );
        Ok(IssuedCertificate {
            certificate,
            key_pkcs8: key.serialize_der(),
            serial,
            not_before,
            not_after,
        })
    }

    /// What the CA knows of an office certificate.
    pub fn record(&self, serial: u64) -> Option<&CertificateRecord> {
        self.issued.get(&serial)
    }

    /// The first instant at or after `ready` when the CA issues (outside the nightly pause).
    pub fn issuance_instant(&self, ready: OffsetDateTime) -> OffsetDateTime {
        self.config.issuance_instant(ready)
    }

    /// Checks that the certificate ending at `not_after` may be renewed at `now`.
    pub fn check_renewal(&self, now: OffsetDateTime, not_after: OffsetDateTime) -> Result<(), CaError> {
        let window = self.config.renewal_window(not_after);
        if now < window.opens {
            return Err(CaError::RenewalTooEarly { opens: window.opens });
        }
        if now > window.closes {
            return Err(CaError::RenewalTooLate { ended: not_after });
        }
        Ok(())
    }

    /// Revokes an office certificate (失効) at `now`; the next CRL lists it.
    pub fn revoke(&mut self, now: OffsetDateTime, serial: u64) -> Result<(), CaError> {
        let record = self
            .issued
            .get_mut(&serial)
            .ok_or(CaError::UnknownSerial(serial))?;
        if record.revoked_at.is_some() {
            return Err(CaError::AlreadyRevoked(serial));
        }
        record.revoked_at = Some(now);
        Ok(())
    }

    /// The certificate revocation list as of `now`, signed by the CA, valid for a day (the relay fetches a
    /// fresh one whenever the CA revokes).
    pub fn crl(&mut self, now: OffsetDateTime) -> Result<CertificateRevocationListDer<'static>, CaError> {
        self.crl_number += 1;
        let this_update = now.replace_nanosecond(0).unwrap_or(now);
        let params = CertificateRevocationListParams {
            this_update,
            next_update: this_update + Duration::days(1),
            crl_number: SerialNumber::from(self.crl_number),
            issuing_distribution_point: None,
            revoked_certs: self
                .issued
                .iter()
                .filter_map(|(serial, record)| {
                    Some(RevokedCertParams {
                        serial_number: SerialNumber::from(*serial),
                        revocation_time: record.revoked_at.filter(|at| *at <= now)?,
                        reason_code: None,
                        invalidity_date: None,
                    })
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.issuer)?.der().clone())
    }

    /// The certificate and key as a PKCS#12 file protected by `password` (the certificate-issuance
    /// password), with the CA root in the chain.
    pub fn export_pkcs12(&self, certificate: &IssuedCertificate, password: &str) -> Result<Vec<u8>, CaError> {
        pkcs12::export(certificate, &self.root, password)
    }
}

#[cfg(test)]
mod tests;
