//! The relay's HTTPS server: mutual TLS against the e-seikyu CA, the CA's revocation list, and the relay
//! API of [`api`](crate::api) over the sans-IO [`Relay`], which asks the usage-application site where
//! sender and receiver stand before accepting a send.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use careplan_ca::{CertificateRevocationListDer, IssuedCertificate, parse_office_certificate};
use careplan_core::{Clock, ErrorCode, OfficeNumber};
use careplan_license::UsageSite;
use careplan_relay::{FileId, Relay};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};
use rustls::pki_types::CertificateDer;

use crate::api::{self, Inbox, SendRequest};
use crate::server::{Call, HttpsServer, ServerError, json, no_endpoint, refusal};
use crate::tls::{TlsError, relay_server_config};

/// A running relay server. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct RelayServer {
    server: HttpsServer,
    ca_root: CertificateDer<'static>,
    certificate: IssuedCertificate,
    clock: Arc<dyn Clock>,
}

impl RelayServer {
    /// Starts serving `relay` on `listen` (port 0 picks a free port) with its server `certificate`,
    /// accepting client certificates chained to `ca_root` and not listed in `crl`; sends go through only
    /// between offices `site` says are licensed.
    pub async fn start(
        listen: SocketAddr,
        relay: Arc<Mutex<Relay>>,
        site: Arc<Mutex<UsageSite>>,
        clock: Arc<dyn Clock>,
        ca_root: CertificateDer<'static>,
        certificate: IssuedCertificate,
        crl: Option<CertificateRevocationListDer<'static>>,
    ) -> Result<Self, ServerError> {
        let tls = relay_server_config(&ca_root, &certificate, clock.clone(), crl)?;
        let handler_clock = clock.clone();
        let server = HttpsServer::start(
            listen,
            tls,
            Arc::new(move |call: Call<'_>| route(call, &relay, &site, handler_clock.as_ref())),
        )
        .await?;
        Ok(Self {
            server,
            ca_root,
            certificate,
            clock,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Loads a new revocation list from the CA: connections from now on refuse the certificates it lists
    /// (`CERT_REVOKED` in the handshake).
    pub fn load_crl(&self, crl: CertificateRevocationListDer<'static>) -> Result<(), TlsError> {
        let tls = relay_server_config(&self.ca_root, &self.certificate, self.clock.clone(), Some(crl))?;
        self.server.set_tls(tls);
        Ok(())
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// The caller's office, from its verified client certificate; only linkage types are accepted.
fn caller(peer: Option<&CertificateDer<'static>>) -> Result<OfficeNumber, (ErrorCode, String)> {
    let certificate = peer.ok_or_else(|| (ErrorCode::CertRequired, "no client certificate".to_owned()))?;
    let certified = parse_office_certificate(certificate).map_err(|e| (e.code(), e.to_string()))?;
    if !certified.certificate_type.usable_for_linkage() {
        return Err((
            ErrorCode::CertWrongType,
            format!(
                "a {} certificate ({}) cannot be used for care plan linkage; use KaigoJigyousho or CarePlanJigyousho",
                certified.certificate_type,
                certified.certificate_type.common_name()
            ),
        ));
    }
    Ok(certified.office)
}

/// Answers one relay call. Lock order: the relay, then the site.
fn route(
    call: Call<'_>,
    relay: &Mutex<Relay>,
    site: &Mutex<UsageSite>,
    clock: &dyn Clock,
) -> Response<Full<Bytes>> {
    let office = match caller(call.peer) {
        Ok(office) => office,
        Err((code, message)) => return refusal(code, &message),
    };
    let lock = || relay.lock().unwrap_or_else(PoisonError::into_inner);
    match (call.method, call.path) {
        (&Method::POST, api::SEND) => {
            let uploads = serde_json::from_slice::<SendRequest>(&call.body)
                .map_err(|e| e.to_string())
                .and_then(SendRequest::into_uploads);
            let uploads = match uploads {
                Ok(uploads) => uploads,
                Err(e) => return refusal(ErrorCode::ProtocolError, &e),
            };
            let now = clock.now();
            let standing = |office| {
                site.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .standing(now, office)
            };
            match lock().send(now, office, uploads, &standing) {
                Ok(receipt) => json(StatusCode::OK, &receipt),
                Err(e) => refusal(e.code(), &e.to_string()),
            }
        }
        (&Method::GET, api::INBOX) => json(
            StatusCode::OK,
            &Inbox {
                files: lock().inbox(office),
            },
        ),
        (&Method::GET, path) if path.starts_with(api::FILES) => {
            let Ok(id) = path[api::FILES.len()..].parse::<u64>() else {
                return refusal(ErrorCode::FileNotFound, &format!("`{path}` names no file"));
            };
            let relay = lock();
            match relay.download(office, FileId(id)) {
                Ok((entry, content)) => {
                    let mut response = Response::new(Full::new(Bytes::copy_from_slice(content)));
                    let headers = response.headers_mut();
                    headers.insert(
                        CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/octet-stream"),
                    );
                    if let Ok(value) = format!("attachment; filename=\"{}\"", entry.name).parse() {
                        headers.insert(CONTENT_DISPOSITION, value);
                    }
                    response
                }
                Err(e) => refusal(e.code(), &e.to_string()),
            }
        }
        (method, path) => no_endpoint(method, path),
    }
}
