//! TLS configurations on the scenario's clock.

use std::sync::Arc;

use careplan_ca::IssuedCertificate;
use careplan_core::Clock;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
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
/// e-seikyu CA root, valid at the clock's `now`.
pub fn relay_server_config(
    ca_root: &CertificateDer<'static>,
    relay: &IssuedCertificate,
    clock: Arc<dyn Clock>,
) -> Result<ServerConfig, TlsError> {
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(ca_root)?, provider()).build()?;
    let mut config = ServerConfig::builder_with_details(provider(), Arc::new(ClockTime(clock)))
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![relay.certificate.clone()], relay.private_key())?;
    // No session resumption: a resumed session skips certificate verification, and every connection
    // must judge the client certificate at the current (simulated) time.
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(config)
}

/// An office's client configuration: trusts the e-seikyu CA root and presents the office certificate.
pub fn client_config(
    ca_root: &CertificateDer<'static>,
    office: &IssuedCertificate,
    clock: Arc<dyn Clock>,
) -> Result<ClientConfig, TlsError> {
    let mut config = ClientConfig::builder_with_details(provider(), Arc::new(ClockTime(clock)))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots(ca_root)?)
        .with_client_auth_cert(vec![office.certificate.clone()], office.private_key())?;
    // See `relay_server_config`: every connection is a full handshake.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}
