//! The linkage client (ケアプランデータ連携クライアント): an office's HTTPS client of the relay.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;

use careplan_ca::{IssuedCertificate, RELAY_SERVER_NAME};
use careplan_core::{Clock, ErrorCode};
use careplan_relay::{FileId, InboxEntry, SendReceipt, Upload};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use rustls::AlertDescription;
use rustls::pki_types::{CertificateDer, ServerName};
use time::OffsetDateTime;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::api::{self, ErrorBody, Inbox, SendRequest};
use crate::tls::{TlsError, client_config};

/// Why a client operation failed. Every variant carries a stable [`ErrorCode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The relay refused the request.
    #[error("the relay refused the request: {message}")]
    Refused {
        /// The relay's code.
        code: ErrorCode,
        /// The relay's explanation.
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
}

impl ClientError {
    /// The stable code of this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            ClientError::Refused { code, .. } | ClientError::Connection { code, .. } => *code,
        }
    }
}

/// An office's linkage client, holding the installed certificate.
#[derive(Clone)]
pub struct LinkageClient {
    relay: SocketAddr,
    connector: TlsConnector,
    clock: Arc<dyn Clock>,
    not_before: OffsetDateTime,
}

impl std::fmt::Debug for LinkageClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkageClient")
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

impl LinkageClient {
    /// A client of the relay at `relay`, trusting `ca_root` and authenticating with `certificate`.
    pub fn new(
        relay: SocketAddr,
        ca_root: &CertificateDer<'static>,
        certificate: &IssuedCertificate,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, TlsError> {
        let config = client_config(ca_root, certificate, clock.clone())?;
        Ok(Self {
            relay,
            connector: TlsConnector::from(Arc::new(config)),
            clock,
            not_before: certificate.not_before,
        })
    }

    /// Sends one send unit (送信単位).
    pub async fn send(&self, uploads: &[Upload]) -> Result<SendReceipt, ClientError> {
        let body = serde_json::to_vec(&SendRequest::from_uploads(uploads)).map_err(protocol)?;
        let bytes = self.request(Method::POST, api::SEND, Bytes::from(body)).await?;
        serde_json::from_slice(&bytes).map_err(protocol)
    }

    /// Lists the office's inbox, in processing order.
    pub async fn inbox(&self) -> Result<Vec<InboxEntry>, ClientError> {
        let bytes = self.request(Method::GET, api::INBOX, Bytes::new()).await?;
        serde_json::from_slice::<Inbox>(&bytes)
            .map(|inbox| inbox.files)
            .map_err(protocol)
    }

    /// Downloads one file of the inbox.
    pub async fn download(&self, id: FileId) -> Result<Vec<u8>, ClientError> {
        let path = format!("{}{}", api::FILES, id.0);
        Ok(self.request(Method::GET, &path, Bytes::new()).await?.to_vec())
    }

    /// One request on a fresh connection, so that every operation meets the TLS handshake at the
    /// current (simulated) time, as a desktop client reconnecting for each action does.
    async fn request(&self, method: Method, path: &str, body: Bytes) -> Result<Bytes, ClientError> {
        let tcp = TcpStream::connect(self.relay)
            .await
            .map_err(|e| ClientError::Connection {
                code: ErrorCode::RelayUnreachable,
                detail: format!("cannot connect to the relay at {}: {e}", self.relay),
            })?;
        let server_name = ServerName::try_from(RELAY_SERVER_NAME).map_err(protocol)?;
        let tls = self
            .connector
            .connect(server_name, tcp)
            .await
            .map_err(|e| self.connection_error(&e))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| self.connection_error(&e))?;
        let driver = tokio::spawn(connection);
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, RELAY_SERVER_NAME)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .map_err(protocol)?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| self.connection_error(&e))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| self.connection_error(&e))?
            .to_bytes();
        driver.abort();
        if status.is_success() {
            return Ok(bytes);
        }
        let body: ErrorBody = serde_json::from_slice(&bytes).map_err(protocol)?;
        let code = body.code.parse().map_err(protocol)?;
        Err(ClientError::Refused {
            code,
            message: body.message,
        })
    }

    /// Classifies a connection failure by the TLS error somewhere in its chain of causes.
    fn connection_error(&self, error: &(dyn StdError + 'static)) -> ClientError {
        match tls_error_in(error) {
            Some(tls) => ClientError::Connection {
                code: self.tls_code(tls),
                detail: format!("TLS handshake with the relay failed: {tls}"),
            },
            None => ClientError::Connection {
                code: ErrorCode::RelayUnreachable,
                detail: chain_to_string(error),
            },
        }
    }

    fn tls_code(&self, error: &rustls::Error) -> ErrorCode {
        match error {
            // The alert does not tell "expired" from "not yet valid"; the client knows its own certificate.
            rustls::Error::AlertReceived(AlertDescription::CertificateExpired) => {
                if self.clock.now() < self.not_before {
                    ErrorCode::CertNotYetValid
                } else {
                    ErrorCode::CertExpired
                }
            }
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
