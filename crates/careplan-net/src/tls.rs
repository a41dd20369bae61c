//! TLS configurations on the scenario's clock.

use std::sync::Arc;

use careplan_ca::CertificateRevocationListDer;
use careplan_ca::IssuedCertificate;
use careplan_core::Clock;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;
use rustls::time_provider::TimeProvider;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Adapts a [`Clock`] to rustls' [`TimeProvider`], so that handshakes judge certificate validity in
/// the clock's (possibly simulated) time.
#[derive(Debug, Clone)]
pub struct ClockTime(pub Arc<dyn Clock>);

impl TimeProvider for ClockTime {
    fn current_time(&self) -> Option<UnixTime> {
        let seconds = u64::try_from(self.0.now().unix_timestamp()).ok()?;
        Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            seconds,
        )))
    }
}

/// Why a TLS configuration could not be built (a bad certificate or key).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client-certificate verifier could not be built.
    #[error("client certificate verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(ca_root: &CertificateDer<'static>) -> Result<Arc<RootCertStore>, TlsError> {
    let mut roots = RootCertStore::empty();
    roots.add(ca_root.clone())?;
    Ok(Arc::new(roots))
}

/// The relay's server configuration: its certificate, and mandatory client certificates chained to the
/// e-seikyu CA root, valid at the clock's `now` and, given the CA's `crl`, not revoked.
pub fn relay_server_config(
    ca_root: &CertificateDer<'static>,
    relay: &IssuedCertificate,
    clock: Arc<dyn Clock>,
    crl: Option<CertificateRevocationListDer<'static>>,
) -> Result<ServerConfig, TlsError> {
    let mut verifier = WebPkiClientVerifier::builder_with_provider(roots(ca_root)?, provider());
    if let Some(crl) = crl {
        // Offices' certificates are issued by the root itself: the end entity is all there is to check.
        verifier = verifier.with_crls([crl]).only_check_end_entity_revocation();
    }
    let mut config = ServerConfig::builder_with_details(provider(), Arc::new(ClockTime(clock)))
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier.build()?)
        .with_single_cert(vec![relay.certificate.clone()], relay.private_key())?;
    // No session resumption: a resumed session skips certificate verification, and every connection
    // must judge the client certificate at the current (simulated) time.
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    config.alpn_protocols = http1_only();
    Ok(config)
}

/// The servers speak HTTP/1.1 only: a client offering only other protocols over ALPN (`h2`) is refused
/// in the handshake with `no_application_protocol`, rather than answered in a language it cannot read;
/// a client offering none is served.
fn http1_only() -> Vec<Vec<u8>> {
    vec![b"http/1.1".to_vec()]
}

/// The configuration of a web site (the e-billing portal, the usage-application site): server
/// authentication only.
pub fn web_server_config(site: &IssuedCertificate, clock: Arc<dyn Clock>) -> Result<ServerConfig, TlsError> {
    let mut config = ServerConfig::builder_with_details(provider(), Arc::new(ClockTime(clock)))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![site.certificate.clone()], site.private_key())?;
    config.alpn_protocols = http1_only();
    Ok(config)
}

/// A client configuration trusting the e-seikyu CA root and presenting whichever certificate `resolver`
/// picks for each handshake (`None`: no client certificate, as towards the portal).
pub(crate) fn client_config(
    ca_root: &CertificateDer<'static>,
    resolver: Option<Arc<dyn ResolvesClientCert>>,
    clock: Arc<dyn Clock>,
) -> Result<ClientConfig, TlsError> {
    let builder = ClientConfig::builder_with_details(provider(), Arc::new(ClockTime(clock)))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots(ca_root)?);
    let mut config = match resolver {
        Some(resolver) => builder.with_client_cert_resolver(resolver),
        None => builder.with_no_client_auth(),
    };
    // See `relay_server_config`: every connection is a full handshake.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

/// Loads a certificate and its key for a client certificate resolver.
pub(crate) fn certified_key(certificate: &IssuedCertificate) -> Result<CertifiedKey, TlsError> {
    let key = provider()
        .key_provider
        .load_private_key(certificate.private_key())?;
    Ok(CertifiedKey::new(vec![certificate.certificate.clone()], key))
}
