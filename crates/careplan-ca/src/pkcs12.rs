//! The certificate download (証明書のダウンロード): key and certificate in a PKCS#12 file that opens only
//! with the office's certificate-issuance password (証明書発行用パスワード).

use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, Pkcs12ImportPolicy, PrivateKey, PrivateKeyChain};
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::{CaError, IssuedCertificate};

/// The friendly name of the key entry, as certificate stores show it.
const ALIAS: &str = "e-seikyu office certificate";

/// Writes `certificate`, its key and the CA `root` as PKCS#12 (PBES2 with AES-256-CBC and an HMAC-SHA256
/// MAC, which current OpenSSL and Windows open without legacy options).
pub(crate) fn export(
    certificate: &IssuedCertificate,
    root: &CertificateDer<'_>,
    password: &str,
) -> Result<Vec<u8>, CaError> {
    let failed = |e: p12_keystore::error::Error| CaError::Pkcs12(e.to_string());
    let key = PrivateKey::from_der(&certificate.key_pkcs8).map_err(failed)?;
    let chain = [
        Certificate::from_der(&certificate.certificate).map_err(failed)?,
        Certificate::from_der(root).map_err(failed)?,
    ];
    let local_key_id = certificate.serial.to_be_bytes().to_vec();
    let mut store = KeyStore::new();
    store.add_entry(
        ALIAS,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id, key, chain)),
    );
    store.writer(password).write().map_err(failed)
}

/// Opens a PKCS#12 file from the CA with `password`, as the office's PC installs it.
pub fn open_pkcs12(bytes: &[u8], password: &str) -> Result<IssuedCertificate, CaError> {
    let store = KeyStore::from_pkcs12(bytes, password, Pkcs12ImportPolicy::Strict)
        .map_err(|_| CaError::Pkcs12PasswordWrong)?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or_else(|| CaError::Parse("the file holds no key with its certificate".to_owned()))?;
    let leaf = chain
        .certs()
        .first()
        .ok_or_else(|| CaError::Parse("the key has no certificate".to_owned()))?;
    let der = leaf.as_der().to_vec();
    let (_, parsed) = X509Certificate::from_der(&der).map_err(|e| CaError::Parse(e.to_string()))?;
    let serial = u64::try_from(parsed.serial.clone())
        .map_err(|_| CaError::Parse("serial number too large".to_owned()))?;
    let instant =
        |t: x509_parser::time::ASN1Time| -> OffsetDateTime { t.to_datetime().to_offset(careplan_core::JST) };
    let (not_before, not_after) = (
        instant(parsed.validity().not_before),
        instant(parsed.validity().not_after),
    );
    Ok(IssuedCertificate {
        certificate: CertificateDer::from(der),
        key_pkcs8: chain.key().as_der().to_vec(),
        serial,
        not_before,
        not_after,
    })
}
