//! The clients: the linkage client (ケアプランデータ連携クライアント) an office runs, and the clients of the
//! e-billing portal and the usage-application site its staff's browser stands for.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use careplan_ca::{
    CertificateRevocationListDer, IssuedCertificate, PORTAL_SERVER_NAME, RELAY_SERVER_NAME,
    USAGE_SITE_SERVER_NAME, open_pkcs12,
};
use careplan_core::{Clock, ErrorCode, OfficeNumber};
use careplan_relay::{FileId, SendReceipt, SendUnitId, SendUnitRecord, Upload};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use rustls::AlertDescription;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::sign::CertifiedKey;
use time::OffsetDateTime;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use careplan_parties::LoginDetails;
use careplan_parties::api::{
    self as web, ClockChange, ClockReading, PortalRequest, PortalResponse, UsageRequest, UsageResponse,
};

use crate::api::{self, ErrorBody, SendRequest, SendUnits};
use crate::tls::{TlsError, certified_key, client_config};

/// Why a client operation failed. Every variant carries a stable [`ErrorCode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server refused the request.
    #[error("{message}")]
    Refused {
        /// The server's code.
        code: ErrorCode,
        /// Every code of the refusal (one per broken password rule), `code` first.
        codes: Vec<ErrorCode>,
        /// The server's explanation.
        message: String,
    },
    /// The connection or TLS handshake failed.
    #[error("{detail}")]
    Connection {
        /// What the failure means.
        code: ErrorCode,
        /// The underlying error.
        detail: String,
    },
    /// The client itself refused (not logged in, a certificate file that does not open).
    #[error("{detail}")]
    Local {
        /// What the refusal means.
        code: ErrorCode,
        /// Why.
        detail: String,
    },
}

impl ClientError {
    /// The stable code of this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            ClientError::Refused { code, .. }
            | ClientError::Connection { code, .. }
            | ClientError::Local { code, .. } => *code,
        }
    }

    /// Every code of this failure.
    pub fn codes(&self) -> Vec<ErrorCode> {
        match self {
            ClientError::Refused { codes, .. } if !codes.is_empty() => codes.clone(),
            other => vec![other.code()],
        }
    }
}

/// How many times the linkage client tries one send when the relay's answer is lost.
pub const SEND_ATTEMPTS: u32 = 3;

/// One HTTPS server a client talks to, a fresh connection per request.
#[derive(Clone)]
struct Connector {
    addr: SocketAddr,
    server_name: &'static str,
    tls: TlsConnector,
    /// The code of a server that cannot be reached.
    unreachable: ErrorCode,
    /// A bearer token sent with every request (the admin endpoint's).
    bearer: Option<Arc<str>>,
}

impl Connector {
    /// One request on a fresh connection, so that every operation meets the TLS handshake at the current
    /// (simulated) time, as a desktop client reconnecting for each action does. `tls_code` classifies a
    /// handshake failure.
    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
        tls_code: &(dyn Fn(&rustls::Error) -> ErrorCode + Sync),
    ) -> Result<Bytes, ClientError> {
        self.request_at(self.addr, method, path, body, tls_code).await
    }

    /// [`Self::request`] to the server at `addr` (one of several serving the same name).
    async fn request_at(
        &self,
        addr: SocketAddr,
        method: Method,
        path: &str,
        body: Bytes,
        tls_code: &(dyn Fn(&rustls::Error) -> ErrorCode + Sync),
    ) -> Result<Bytes, ClientError> {
        let connection_error = |error: &(dyn StdError + 'static)| match tls_error_in(error) {
            Some(tls) => ClientError::Connection {
                code: tls_code(tls),
                detail: format!("TLS handshake with {} failed: {tls}", self.server_name),
            },
            None => ClientError::Connection {
                code: self.unreachable,
                detail: chain_to_string(error),
            },
        };
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| ClientError::Connection {
                code: self.unreachable,
                detail: format!("cannot connect to {} at {addr}: {e}", self.server_name),
            })?;
        // A request and its TLS records leave in several writes; Nagle's algorithm would hold the last
        // one back until the server's delayed ACK (~40 ms a request).
        let _ = tcp.set_nodelay(true);
        let server_name = ServerName::try_from(self.server_name).map_err(protocol)?;
        let tls = self
            .tls
            .connect(server_name, tcp)
            .await
            .map_err(|e| connection_error(&e))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| connection_error(&e))?;
        let driver = tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.server_name)
            .header(CONTENT_TYPE, "application/json");
        if let Some(token) = &self.bearer {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request.body(Full::new(body)).map_err(protocol)?;
        // In TLS 1.3 the server judges the client's certificate after the client has finished its side of
        // the handshake: the server's alert reaches the connection's driver, while the request only sees
        // the connection close. The driver's error, when it has one, says why.
        let exchange = async {
            let response = sender.send_request(request).await?;
            let status = response.status();
            Ok::<_, hyper::Error>((status, response.into_body().collect().await?.to_bytes()))
        };
        let (status, bytes) = match exchange.await {
            Ok(answer) => {
                driver.abort();
                answer
            }
            Err(e) => {
                return Err(
                    match tokio::time::timeout(std::time::Duration::from_secs(1), driver).await {
                        Ok(Ok(Err(closed))) if tls_error_in(&closed).is_some() => connection_error(&closed),
                        _ => connection_error(&e),
                    },
                );
            }
        };
        if status.is_success() {
            return Ok(bytes);
        }
        let body: ErrorBody = serde_json::from_slice(&bytes).map_err(protocol)?;
        let code = body.code.parse().map_err(protocol)?;
        let codes = body
            .codes
            .iter()
            .map(|c| c.parse())
            .collect::<Result<Vec<ErrorCode>, _>>()
            .map_err(protocol)?;
        Err(ClientError::Refused {
            code,
            codes,
            message: body.message,
        })
    }
}

impl Connector {
    /// One operation of a web site's JSON endpoint at `path`; the sites have no client authentication, so
    /// a handshake failure is always the server's certificate.
    async fn call_json<Request: serde::Serialize, Response: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        request: &Request,
    ) -> Result<Response, ClientError> {
        let body = serde_json::to_vec(request).map_err(protocol)?;
        let bytes = self
            .request(Method::POST, path, Bytes::from(body), &|_| {
                ErrorCode::ServerCertInvalid
            })
            .await?;
        serde_json::from_slice(&bytes).map_err(protocol)
    }

    /// A connector to a web site (no client certificate).
    fn web_site(
        addr: SocketAddr,
        server_name: &'static str,
        unreachable: ErrorCode,
        ca_root: &CertificateDer<'static>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, TlsError> {
        let config = client_config(ca_root, None, clock)?;
        Ok(Self {
            addr,
            server_name,
            tls: TlsConnector::from(Arc::new(config)),
            unreachable,
            bearer: None,
        })
    }
}

/// Defines the client of one web site: the struct, a `Debug` showing where it connects, and `new`.
macro_rules! web_site_client {
    ($(#[$doc:meta])* $name:ident, $server_name:expr, $unreachable:expr) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            connector: Connector,
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("addr", &self.connector.addr)
                    .finish_non_exhaustive()
            }
        }

        impl $name {
            /// A client of the site at `addr`, trusting `ca_root` (the CA's root certifies every party).
            pub fn new(
                addr: SocketAddr,
                ca_root: &CertificateDer<'static>,
                clock: Arc<dyn Clock>,
            ) -> Result<Self, TlsError> {
                let connector = Connector::web_site(addr, $server_name, $unreachable, ca_root, clock)?;
                Ok(Self { connector })
            }

            /// The same client, presenting `token` with every request: `serve`'s admin token (the file
            /// `admin-token` of its data directory), which its admin endpoint and letterbox ask for.
            pub fn with_token(mut self, token: &str) -> Self {
                self.connector.bearer = Some(Arc::from(token.trim()));
                self
            }
        }
    };
}

web_site_client!(
    /// A client of the e-billing portal (the office staff's browser).
    PortalClient,
    PORTAL_SERVER_NAME,
    ErrorCode::PortalUnreachable
);

impl PortalClient {
    /// Runs one portal operation.
    pub async fn call(&self, request: &PortalRequest) -> Result<PortalResponse, ClientError> {
        self.connector.call_json(web::PORTAL, request).await
    }
}

web_site_client!(
    /// A client of the usage-application site (the office staff's browser).
    UsageSiteClient,
    USAGE_SITE_SERVER_NAME,
    ErrorCode::UsageSiteUnreachable
);

impl UsageSiteClient {
    /// Runs one site operation.
    pub async fn call(&self, request: &UsageRequest) -> Result<UsageResponse, ClientError> {
        self.connector.call_json(web::USAGE, request).await
    }
}

web_site_client!(
    /// A client of `serve`'s admin endpoint (served with the portal's certificate).
    AdminClient,
    PORTAL_SERVER_NAME,
    ErrorCode::PortalUnreachable
);

impl AdminClient {
    /// The ecosystem's clock.
    pub async fn clock(&self) -> Result<ClockReading, ClientError> {
        let bytes = self
            .connector
            .request(Method::GET, web::CLOCK, Bytes::new(), &|_| {
                ErrorCode::ServerCertInvalid
            })
            .await?;
        serde_json::from_slice(&bytes).map_err(protocol)
    }

    /// Moves the ecosystem's simulated clock.
    pub async fn change_clock(&self, change: &ClockChange) -> Result<ClockReading, ClientError> {
        self.connector.call_json(web::CLOCK, change).await
    }
}

/// Where the parties a linkage client talks to listen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    /// The relay (mutual TLS).
    pub relay: SocketAddr,
    /// The e-billing portal (the second login step).
    pub portal: SocketAddr,
    /// The usage-application site (the first login step).
    pub usage_site: SocketAddr,
}

/// A certificate installed on the office's PC.
struct Installed {
    serial: u64,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    key: Arc<CertifiedKey>,
}

/// The office PC's certificate store. Each handshake presents the certificate valid at the clock's `now`
/// (the newest one if several are), or, if none is, the last one installed, so that the handshake fails
/// with the reason that certificate has.
struct CertificateStore {
    clock: Arc<dyn Clock>,
    installed: RwLock<Vec<Installed>>,
}

impl std::fmt::Debug for CertificateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let serials: Vec<u64> = self
            .installed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|c| c.serial)
            .collect();
        f.debug_struct("CertificateStore")
            .field("serials", &serials)
            .finish_non_exhaustive()
    }
}

impl CertificateStore {
    /// The certificate the next handshake presents: its start and key.
    fn choose(&self) -> Option<(OffsetDateTime, Arc<CertifiedKey>)> {
        let now = self.clock.now();
        let installed = self.installed.read().unwrap_or_else(PoisonError::into_inner);
        installed
            .iter()
            .filter(|c| c.not_before <= now && now <= c.not_after)
            .max_by_key(|c| c.not_before)
            .or_else(|| installed.last())
            .map(|c| (c.not_before, c.key.clone()))
    }
}

impl ResolvesClientCert for CertificateStore {
    fn resolve(&self, _: &[&[u8]], _: &[rustls::SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.choose().map(|(_, key)| key)
    }

    fn has_certs(&self) -> bool {
        !self
            .installed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }
}

/// The relay's side of an office's linkage client: the office PC's certificate store and the relays it
/// knows. Every request is made on a fresh mutual-TLS connection presenting the certificate valid at the
/// clock's `now`. It has no login gate: [`LinkageClient`] puts the two-step login in front of it, and a
/// caller that models offices already logged in (a simulated population) uses it alone.
#[derive(Clone)]
pub struct RelayClient {
    connector: Connector,
    /// Every relay address the client knows, in the order given: relays sharing one database are one
    /// relay to their clients.
    relays: Arc<[SocketAddr]>,
    /// The position in `relays` of the relay in use: the last one that answered.
    in_use: Arc<AtomicUsize>,
    store: Arc<CertificateStore>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayClient")
            .field("relays", &self.relays)
            .field("certificates", &self.store)
            .finish_non_exhaustive()
    }
}

impl RelayClient {
    /// A client of the relay at `relay`, trusting `ca_root`. It holds no certificate yet.
    pub fn new(
        relay: SocketAddr,
        ca_root: &CertificateDer<'static>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, TlsError> {
        let store = Arc::new(CertificateStore {
            clock: clock.clone(),
            installed: RwLock::new(Vec::new()),
        });
        let config = client_config(ca_root, Some(store.clone()), clock.clone())?;
        Ok(Self {
            connector: Connector {
                addr: relay,
                server_name: RELAY_SERVER_NAME,
                tls: TlsConnector::from(Arc::new(config)),
                unreachable: ErrorCode::RelayUnreachable,
                bearer: None,
            },
            relays: Arc::new([relay]),
            in_use: Arc::new(AtomicUsize::new(0)),
            store,
            clock,
        })
    }

    /// The same client with `relays` as its list of relay addresses (several relays sharing one
    /// database), used from the first. A request that cannot reach the relay in use
    /// (`RELAY_UNREACHABLE`) or that the relay refuses because its store is unavailable
    /// (`STORE_UNAVAILABLE`) is made again at the next one, each relay at most once; the relay that
    /// answers stays in use. Every relay operation may be repeated: a send is recognised by sender,
    /// receiver and serial, the others read or are idempotent. An empty list keeps the one there is.
    pub fn with_relays(mut self, relays: impl IntoIterator<Item = SocketAddr>) -> Self {
        let relays: Vec<SocketAddr> = relays.into_iter().collect();
        if !relays.is_empty() {
            self.relays = relays.into();
            self.in_use = Arc::new(AtomicUsize::new(0));
        }
        self
    }

    /// The address of the relay in use.
    pub fn relay(&self) -> SocketAddr {
        self.relays[self.in_use.load(Ordering::Relaxed) % self.relays.len()]
    }

    /// Installs a certificate with its key (as if imported into the PC's store).
    pub fn install_certificate(&self, certificate: &IssuedCertificate) -> Result<(), TlsError> {
        let key = Arc::new(certified_key(certificate)?);
        self.store
            .installed
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Installed {
                serial: certificate.serial,
                not_before: certificate.not_before,
                not_after: certificate.not_after,
                key,
            });
        Ok(())
    }

    /// Sends one send unit (送信単位). When the connection fails after the request may have reached the
    /// relay (the answer was lost), the same send is repeated, up to [`SEND_ATTEMPTS`] times in all: the
    /// relay recognises the repetition by sender, receiver and serial and answers with the first receipt.
    pub async fn send(&self, uploads: &[Upload]) -> Result<SendReceipt, ClientError> {
        let body = Bytes::from(serde_json::to_vec(&SendRequest::from_uploads(uploads)).map_err(protocol)?);
        let mut attempt = 1;
        loop {
            match self.relay_request(Method::POST, api::SEND, body.clone()).await {
                Ok(bytes) => return serde_json::from_slice(&bytes).map_err(protocol),
                Err(ClientError::Connection { code, .. })
                    if code == ErrorCode::RelayUnreachable && attempt < SEND_ATTEMPTS =>
                {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The office's inbox (受信一覧): send units in processing order, with their status.
    pub async fn inbox(&self) -> Result<Vec<SendUnitRecord>, ClientError> {
        self.send_units(api::INBOX).await
    }

    /// The office's sent list (送信一覧), with each receiver's progress.
    pub async fn sent(&self) -> Result<Vec<SendUnitRecord>, ClientError> {
        self.send_units(api::SENT).await
    }

    /// Every page of a list, in order.
    async fn send_units(&self, path: &str) -> Result<Vec<SendUnitRecord>, ClientError> {
        let mut all = Vec::new();
        let mut query = None::<String>;
        loop {
            let target = query
                .as_ref()
                .map_or_else(|| path.to_owned(), |q| format!("{path}?{q}"));
            let bytes = self.relay_request(Method::GET, &target, Bytes::new()).await?;
            let page = serde_json::from_slice::<SendUnits>(&bytes).map_err(protocol)?;
            all.extend(page.send_units);
            match page.next {
                Some(next) => query = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// One page of the inbox (`query` such as `after=0&limit=10`), with the query of the next page.
    pub async fn inbox_page(&self, query: &str) -> Result<SendUnits, ClientError> {
        let bytes = self
            .relay_request(Method::GET, &format!("{}?{query}", api::INBOX), Bytes::new())
            .await?;
        serde_json::from_slice(&bytes).map_err(protocol)
    }

    /// Accepts (受信) a send unit of the inbox.
    pub async fn receive(&self, id: SendUnitId) -> Result<SendUnitRecord, ClientError> {
        self.send_unit_operation(&api::receive_path(id)).await
    }

    /// Cancels (取消) a send unit the office sent.
    pub async fn cancel(&self, id: SendUnitId) -> Result<SendUnitRecord, ClientError> {
        self.send_unit_operation(&api::cancel_path(id)).await
    }

    async fn send_unit_operation(&self, path: &str) -> Result<SendUnitRecord, ClientError> {
        let bytes = self.relay_request(Method::POST, path, Bytes::new()).await?;
        serde_json::from_slice(&bytes).map_err(protocol)
    }

    /// Downloads one file of the inbox.
    pub async fn download(&self, id: FileId) -> Result<Vec<u8>, ClientError> {
        let path = format!("{}{}", api::FILES, id.0);
        Ok(self
            .relay_request(Method::GET, &path, Bytes::new())
            .await?
            .to_vec())
    }

    /// One request to the relay in use, then to each other relay in turn while it cannot be reached or
    /// its store is unavailable.
    async fn relay_request(&self, method: Method, path: &str, body: Bytes) -> Result<Bytes, ClientError> {
        let first = self.in_use.load(Ordering::Relaxed);
        let mut tried = 0;
        loop {
            let at = (first + tried) % self.relays.len();
            let answer = self
                .connector
                .request_at(self.relays[at], method.clone(), path, body.clone(), &|e| {
                    self.tls_code(e)
                })
                .await;
            tried += 1;
            let elsewhere = matches!(
                &answer,
                Err(ClientError::Connection {
                    code: ErrorCode::RelayUnreachable,
                    ..
                } | ClientError::Refused {
                    code: ErrorCode::StoreUnavailable,
                    ..
                })
            );
            if !elsewhere || tried == self.relays.len() {
                if answer.is_ok() {
                    self.in_use.store(at, Ordering::Relaxed);
                }
                return answer;
            }
        }
    }

    fn tls_code(&self, error: &rustls::Error) -> ErrorCode {
        match error {
            // The alert does not tell "expired" from "not yet valid"; the client knows its own certificate.
            rustls::Error::AlertReceived(AlertDescription::CertificateExpired) => match self.store.choose() {
                Some((not_before, _)) if self.clock.now() < not_before => ErrorCode::CertNotYetValid,
                _ => ErrorCode::CertExpired,
            },
            rustls::Error::AlertReceived(AlertDescription::CertificateRevoked) => ErrorCode::CertRevoked,
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired) => ErrorCode::CertRequired,
            rustls::Error::AlertReceived(
                AlertDescription::UnknownCA
                | AlertDescription::BadCertificate
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::CertificateUnknown
                | AlertDescription::DecryptError
                | AlertDescription::AccessDenied,
            ) => ErrorCode::CertUntrusted,
            rustls::Error::InvalidCertificate(_) => ErrorCode::ServerCertInvalid,
            _ => ErrorCode::TlsHandshakeFailed,
        }
    }
}

/// An office's linkage client: log in (personal user ID, then the office's user ID), install the office
/// certificate, then send and receive through the relay ([`RelayClient`], behind the login).
#[derive(Clone)]
pub struct LinkageClient {
    relay: RelayClient,
    portal: PortalClient,
    usage_site: UsageSiteClient,
    logged_in: Arc<Mutex<Option<OfficeNumber>>>,
}

impl std::fmt::Debug for LinkageClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkageClient")
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

impl LinkageClient {
    /// A client of the parties at `endpoints`, trusting `ca_root`. It holds no certificate and is not
    /// logged in yet.
    pub fn new(
        endpoints: Endpoints,
        ca_root: &CertificateDer<'static>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, TlsError> {
        Ok(Self {
            relay: RelayClient::new(endpoints.relay, ca_root, clock.clone())?,
            portal: PortalClient::new(endpoints.portal, ca_root, clock.clone())?,
            usage_site: UsageSiteClient::new(endpoints.usage_site, ca_root, clock)?,
            logged_in: Arc::new(Mutex::new(None)),
        })
    }

    /// The same client with `relays` as its list of relay addresses: see [`RelayClient::with_relays`].
    pub fn with_relays(mut self, relays: impl IntoIterator<Item = SocketAddr>) -> Self {
        self.relay = self.relay.with_relays(relays);
        self
    }

    /// The address of the relay in use.
    pub fn relay(&self) -> SocketAddr {
        self.relay.relay()
    }

    /// Installs a certificate with its key (as if imported into the PC's store).
    pub fn install_certificate(&self, certificate: &IssuedCertificate) -> Result<(), TlsError> {
        self.relay.install_certificate(certificate)
    }

    /// Installs a PKCS#12 download, opened with `password` (the certificate-issuance password); returns
    /// the certificate it held.
    pub fn install_pkcs12(&self, bytes: &[u8], password: &str) -> Result<IssuedCertificate, ClientError> {
        let certificate = open_pkcs12(bytes, password).map_err(|e| ClientError::Local {
            code: e.code(),
            detail: e.to_string(),
        })?;
        self.install_certificate(&certificate)
            .map_err(|e| ClientError::Local {
                code: ErrorCode::CertUntrusted,
                detail: e.to_string(),
            })?;
        Ok(certificate)
    }

    /// Logs in to the client in two steps: the personal user ID and its password (checked by the
    /// usage-application site), then the office's user ID and its changed, unexpired password (checked by
    /// the portal: a temporary or expired password, a proxy ID or a locked account is refused with the
    /// portal's code). Both must name the same office. A failed login leaves the client logged out.
    pub async fn login(&self, details: &LoginDetails) -> Result<OfficeNumber, ClientError> {
        *self.logged_in.lock().unwrap_or_else(PoisonError::into_inner) = None;
        let personal = match self
            .usage_site
            .call(&UsageRequest::PersonalLogin {
                user_id: details.personal_user_id.clone(),
                password: details.personal_password.clone(),
            })
            .await?
        {
            UsageResponse::Office { office } => office,
            other => {
                return Err(protocol(format!(
                    "unexpected answer to a personal login: {other:?}"
                )));
            }
        };
        let office = match self
            .portal
            .call(&PortalRequest::CheckLinkageLogin {
                user_id: details.user_id.clone(),
                password: details.password.clone(),
            })
            .await?
        {
            PortalResponse::Office { office } => office,
            other => return Err(protocol(format!("unexpected answer to a login: {other:?}"))),
        };
        if personal != office {
            return Err(ClientError::Local {
                code: ErrorCode::PersonalIdMismatch,
                detail: format!(
                    "personal user ID {} belongs to office {personal}, but {} is office {office}'s user ID",
                    details.personal_user_id, details.user_id
                ),
            });
        }
        *self.logged_in.lock().unwrap_or_else(PoisonError::into_inner) = Some(office);
        Ok(office)
    }

    /// The office logged in, if any.
    pub fn logged_in(&self) -> Option<OfficeNumber> {
        *self.logged_in.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn require_login(&self) -> Result<(), ClientError> {
        match self.logged_in() {
            Some(_) => Ok(()),
            None => Err(ClientError::Local {
                code: ErrorCode::ClientNotLoggedIn,
                detail: "log in to the linkage client first (personal user ID, then the office's user ID)"
                    .to_owned(),
            }),
        }
    }

    /// Sends one send unit (送信単位): see [`RelayClient::send`].
    pub async fn send(&self, uploads: &[Upload]) -> Result<SendReceipt, ClientError> {
        self.require_login()?;
        self.relay.send(uploads).await
    }

    /// The office's inbox (受信一覧): send units in processing order, with their status.
    pub async fn inbox(&self) -> Result<Vec<SendUnitRecord>, ClientError> {
        self.require_login()?;
        self.relay.inbox().await
    }

    /// The office's sent list (送信一覧), with each receiver's progress.
    pub async fn sent(&self) -> Result<Vec<SendUnitRecord>, ClientError> {
        self.require_login()?;
        self.relay.sent().await
    }

    /// One page of the inbox (`query` such as `after=0&limit=10`), with the query of the next page.
    pub async fn inbox_page(&self, query: &str) -> Result<SendUnits, ClientError> {
        self.require_login()?;
        self.relay.inbox_page(query).await
    }

    /// Accepts (受信) a send unit of the inbox.
    pub async fn receive(&self, id: SendUnitId) -> Result<SendUnitRecord, ClientError> {
        self.require_login()?;
        self.relay.receive(id).await
    }

    /// Cancels (取消) a send unit the office sent.
    pub async fn cancel(&self, id: SendUnitId) -> Result<SendUnitRecord, ClientError> {
        self.require_login()?;
        self.relay.cancel(id).await
    }

    /// Downloads one file of the inbox.
    pub async fn download(&self, id: FileId) -> Result<Vec<u8>, ClientError> {
        self.require_login()?;
        self.relay.download(id).await
    }
}

/// The certificate-issuance download decoded from the portal's answer.
pub fn pkcs12_of(response: &PortalResponse) -> Result<Vec<u8>, ClientError> {
    match response {
        PortalResponse::Pkcs12 { content } => STANDARD.decode(content).map_err(protocol),
        other => Err(protocol(format!("expected a PKCS#12 download, got {other:?}"))),
    }
}

/// The revocation list decoded from the portal's answer.
pub fn crl_of(response: &PortalResponse) -> Result<CertificateRevocationListDer<'static>, ClientError> {
    match response {
        PortalResponse::Crl { der } => STANDARD
            .decode(der)
            .map(CertificateRevocationListDer::from)
            .map_err(protocol),
        other => Err(protocol(format!("expected a revocation list, got {other:?}"))),
    }
}

fn protocol(error: impl std::fmt::Display) -> ClientError {
    ClientError::Connection {
        code: ErrorCode::ProtocolError,
        detail: error.to_string(),
    }
}

/// Finds a rustls error in a chain of causes. `io::Error` hides its payload from `source()`, so it is
/// unwrapped explicitly.
fn tls_error_in<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        current = e.source();
    }
    None
}

fn chain_to_string(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(e) = current {
        text.push_str(": ");
        text.push_str(&e.to_string());
        current = e.source();
    }
    text
}
