//! The relay's HTTPS server: mutual TLS against the e-seikyu CA, the CA's revocation list, and the relay
//! API of [`api`](crate::api) over the sans-IO [`Relay`] and its store, which asks a [`LicenceRegister`]
//! (the usage-application site of [`Parties`]) where sender and receiver stand before accepting a send.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use careplan_ca::{CertificateRevocationListDer, IssuedCertificate, parse_office_certificate};
use careplan_core::{Clock, ErrorCode, LicenceStanding, OfficeNumber};
use careplan_parties::Parties;
use careplan_relay::{FileId, Relay, RelayError, SendUnitId, Store};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CONTENT_DISPOSITION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Response, StatusCode};
use rustls::pki_types::CertificateDer;
use time::OffsetDateTime;

use crate::api::{self, SendRequest, SendUnits};
use crate::server::{
    Call, LoseResponse, PartyServer, ServerError, ServerLimits, error_body, error_response, json,
    no_endpoint, refusal,
};
use crate::tls::{TlsError, relay_server_config};

/// The relay a server serves, over any store.
pub type SharedRelay = Arc<Mutex<Relay<Box<dyn Store>>>>;

/// Where the relay server learns an office's licence standing (ライセンス) before it accepts a send: the
/// usage-application site of [`Parties`], or any register that knows the offices (e.g. a simulated
/// population's).
pub trait LicenceRegister: Send + Sync {
    /// Brings the register up to date before a send is decided (licences bought through another
    /// process); an error refuses the send as `STORE_UNAVAILABLE`.
    fn catch_up(&self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(())
    }

    /// Where `office` stands at `now`.
    fn standing(&self, now: OffsetDateTime, office: OfficeNumber) -> LicenceStanding;
}

impl LicenceRegister for Parties {
    fn catch_up(&self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(Parties::catch_up(self)?)
    }

    fn standing(&self, now: OffsetDateTime, office: OfficeNumber) -> LicenceStanding {
        Parties::standing(self, now, office)
    }
}

/// A running relay server. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct RelayServer {
    server: PartyServer,
    ca_root: CertificateDer<'static>,
    certificate: IssuedCertificate,
    clock: Arc<dyn Clock>,
    lost: Arc<AtomicU32>,
}

/// What the relay's TLS rests on: the CA root client certificates must chain to, the relay's own
/// certificate, and the revocation list in force.
#[derive(Debug, Clone)]
pub struct RelayTls {
    /// The e-seikyu CA's root.
    pub ca_root: CertificateDer<'static>,
    /// The relay's server certificate.
    pub certificate: IssuedCertificate,
    /// The CA's revocation list, if one was drawn.
    pub crl: Option<CertificateRevocationListDer<'static>>,
}

impl RelayServer {
    /// Starts serving `relay` on `listen` (port 0 picks a free port) with `limits`, its server
    /// certificate, accepting client certificates chained to the CA root and not revoked (`tls`); sends
    /// go through only between offices `licences` says are licensed (in an ecosystem, the usage site of
    /// [`Parties`]).
    /// Relay calls run on the blocking pool, since a durable store waits for its disk or database.
    pub async fn start<S: Store + 'static>(
        listen: SocketAddr,
        limits: ServerLimits,
        relay: Arc<Mutex<Relay<S>>>,
        licences: Arc<dyn LicenceRegister>,
        clock: Arc<dyn Clock>,
        tls: RelayTls,
    ) -> Result<Self, ServerError> {
        let RelayTls {
            ca_root,
            certificate,
            crl,
        } = tls;
        let tls = relay_server_config(&ca_root, &certificate, clock.clone(), crl)?;
        let handler_clock = clock.clone();
        let lost = Arc::new(AtomicU32::new(0));
        let to_lose = lost.clone();
        let server = PartyServer::start(
            listen,
            tls,
            crate::server::MAX_RELAY_REQUEST_BYTES,
            limits,
            Arc::new(move |call: Call<'_>| {
                route(call, &relay, licences.as_ref(), handler_clock.as_ref(), &to_lose)
            }),
        )
        .await?;
        Ok(Self {
            server,
            ca_root,
            certificate,
            clock,
            lost,
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

    /// Fault injection: the next `count` sends are acted on, but their answers are lost (the connection
    /// closes without a response), as when a network drops the reply.
    pub fn lose_responses(&self, count: u32) {
        self.lost.store(count, Ordering::SeqCst);
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

/// Takes one from the count of answers to lose, if any is left.
fn take_one(count: &AtomicU32) -> bool {
    count
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// A relay refusal on the wire, with the strict relay's findings.
fn relay_refusal(error: &RelayError) -> Response<Full<Bytes>> {
    let mut body = error_body(error.code(), &error.to_string());
    body.findings = error.findings().to_vec();
    error_response(error.code(), &body)
}

/// A relay answer on the wire.
fn answer<T: serde::Serialize>(result: Result<T, RelayError>) -> Response<Full<Bytes>> {
    match result {
        Ok(body) => json(StatusCode::OK, &body),
        Err(e) => relay_refusal(&e),
    }
}

/// The id in `/prefix/{id}` followed by `suffix`.
fn id_in(path: &str, prefix: &str, suffix: &str) -> Option<u64> {
    path.strip_prefix(prefix)?.strip_suffix(suffix)?.parse().ok()
}

/// Answers one relay call. Lock order: the relay, then the licence register.
fn route<S: Store>(
    call: Call<'_>,
    relay: &Mutex<Relay<S>>,
    licences: &dyn LicenceRegister,
    clock: &dyn Clock,
    lose: &AtomicU32,
) -> Response<Full<Bytes>> {
    let office = match caller(call.peer) {
        Ok(office) => office,
        Err((code, message)) => return refusal(code, &message),
    };
    let now = clock.now();
    // A list is paged by the store, so the relay's lock is held for one page of a long history, and the
    // page is written out after the lock is released.
    if let (&Method::GET, path @ (api::INBOX | api::SENT)) = (call.method, call.path) {
        let page = match api::page_of_query(call.query) {
            Ok(page) => page,
            Err(e) => return refusal(ErrorCode::ProtocolError, &e),
        };
        let listed = {
            let mut relay = relay.lock().unwrap_or_else(PoisonError::into_inner);
            if path == api::INBOX {
                relay.inbox(now, office, page)
            } else {
                relay.sent(now, office, page)
            }
        };
        return answer(listed.map(|listed| SendUnits {
            send_units: listed.items,
            next: listed.more.then(|| api::next_page_query(page)),
        }));
    }
    let mut relay = relay.lock().unwrap_or_else(PoisonError::into_inner);
    match (call.method, call.path) {
        (&Method::POST, api::SEND) => {
            let uploads = serde_json::from_slice::<SendRequest>(&call.body)
                .map_err(|e| e.to_string())
                .and_then(SendRequest::into_uploads);
            let uploads = match uploads {
                Ok(uploads) => uploads,
                Err(e) => return refusal(ErrorCode::ProtocolError, &e),
            };
            // Licences bought through another process sharing the journal count at once.
            if let Err(e) = licences.catch_up() {
                return refusal(ErrorCode::StoreUnavailable, &e.to_string());
            }
            let standing = |office| licences.standing(now, office);
            let mut response = answer(relay.send(now, office, uploads, &standing));
            if response.status().is_success() && take_one(lose) {
                response.extensions_mut().insert(LoseResponse);
            }
            response
        }
        (&Method::POST, path) if path.starts_with(api::SEND_UNITS) => {
            if let Some(id) = id_in(path, api::SEND_UNITS, "/receive") {
                answer(relay.receive(now, office, SendUnitId(id)))
            } else if let Some(id) = id_in(path, api::SEND_UNITS, "/cancel") {
                answer(relay.cancel(now, office, SendUnitId(id)))
            } else {
                no_endpoint(call.method, path)
            }
        }
        (&Method::GET, path) if path.starts_with(api::FILES) => {
            let Some(id) = id_in(path, api::FILES, "") else {
                return refusal(ErrorCode::FileNotFound, &format!("`{path}` names no file"));
            };
            match relay.download(now, office, FileId(id)) {
                Ok(file) => {
                    let mut response = Response::new(Full::new(file.content));
                    let headers = response.headers_mut();
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
                    if let Ok(value) = format!("attachment; filename=\"{}\"", file.name).parse() {
                        headers.insert(CONTENT_DISPOSITION, value);
                    }
                    response
                }
                Err(e) => relay_refusal(&e),
            }
        }
        (method, path) => no_endpoint(method, path),
    }
}
