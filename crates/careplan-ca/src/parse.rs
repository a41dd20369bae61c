//! Reading an office certificate back: what the relay learns from a client certificate.

use careplan_core::OfficeNumber;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::{CaError, CertificateType, OFFICE_NUMBER_OID};

/// What an office certificate says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedOffice {
    /// The office number in the subject.
    pub office: OfficeNumber,
    /// The certificate type, from the subject's common name.
    pub certificate_type: CertificateType,
    /// The certificate's serial number.
    pub serial: u64,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

/// Reads the office number and type from a certificate the TLS layer has already verified.
pub fn parse_office_certificate(der: &[u8]) -> Result<CertifiedOffice, CaError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| CaError::Parse(e.to_string()))?;
    let subject = cert.subject();
    let common_name = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .ok_or_else(|| CaError::Parse("no subject common name".to_owned()))?;
    let certificate_type = CertificateType::from_common_name(common_name)
        .ok_or_else(|| CaError::WrongType(common_name.to_owned()))?;
    let office = subject
        .iter_attributes()
        .find(|attr| {
            attr.attr_type()
                .iter()
                .is_some_and(|arcs| arcs.eq(OFFICE_NUMBER_OID))
        })
        .and_then(|attr| attr.as_str().ok())
        .ok_or_else(|| CaError::Parse("no office number (serialNumber) in the subject".to_owned()))?
        .parse()
        .map_err(|e: careplan_core::IdError| CaError::Parse(e.to_string()))?;
    let serial = u64::try_from(cert.serial.clone())
        .map_err(|_| CaError::Parse("serial number too large".to_owned()))?;
    let not_after = cert
        .validity()
        .not_after
        .to_datetime()
        .to_offset(careplan_core::JST);
    Ok(CertifiedOffice {
        office,
        certificate_type,
        serial,
        not_after,
    })
}
