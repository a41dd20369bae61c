//! The relay's HTTPS server.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use careplan_ca::parse_office_certificate;
use careplan_core::{Clock, ErrorCode, OfficeNumber};
use careplan_relay::{FileId, Relay};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::api::{self, ErrorBody, Inbox, SendRequest};

/// Largest request body the relay reads, in bytes. A month's bundles for hundreds of users fit easily.
const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// How long a refused handshake's socket is drained so that the client reads the TLS alert rather than
/// a connection reset. Wall-clock housekeeping of the socket, not simulated time.
const ALERT_DRAIN: Duration = Duration::from_secs(5);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// A running relay server. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct RelayServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

struct State {
    relay: Arc<Mutex<Relay>>,
    clock: Arc<dyn Clock>,
}

impl RelayServer {
    /// Starts serving `relay` on `listen` (port 0 picks a free port) with the given TLS configuration.
    pub async fn start(
        listen: SocketAddr,
        relay: Arc<Mutex<Relay>>,
        clock: Arc<dyn Clock>,
        tls: ServerConfig,
    ) -> Result<Self, ServerError> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| ServerError::Bind { addr: listen, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr: listen, source })?;
        let acceptor = TlsAcceptor::from(Arc::new(tls));
        let state = Arc::new(State { relay, clock });
        let (shutdown, mut stop) = oneshot::channel();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stop => break,
                    accepted = listener.accept() => {
                        // A failed accept (e.g. the peer reset before accept) concerns one connection only.
                        if let Ok((tcp, _)) = accepted {
                            tokio::spawn(serve_connection(tcp, acceptor.clone(), state.clone()));
                        }
                    }
                }
            }
        });
        Ok(Self {
            addr,
            shutdown: Some(shutdown),
            task,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RelayServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_connection(tcp: TcpStream, acceptor: TlsAcceptor, state: Arc<State>) {
    let tls = match acceptor.accept(tcp).into_fallible().await {
        Ok(tls) => tls,
        Err((_, mut tcp)) => {
            // The alert is written; close our side and drain theirs so the kernel does not answer the
            // client's in-flight data with a reset that would swallow the alert.
            let _ = tcp.shutdown().await;
            let mut sink = [0u8; 4096];
            let _ = tokio::time::timeout(ALERT_DRAIN, async {
                while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
            })
            .await;
            return;
        }
    };
    let caller: Result<OfficeNumber, ErrorBody> = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or_else(|| error_body(ErrorCode::CertRequired, "no client certificate"))
        .and_then(|cert| {
            parse_office_certificate(cert)
                .map(|c| c.office)
                .map_err(|e| error_body(e.code(), &e.to_string()))
        });
    let caller = Arc::new(caller);
    let service = service_fn(move |req| {
        let (state, caller) = (state.clone(), caller.clone());
        async move { Ok::<_, Infallible>(route(req, &state, &caller).await) }
    });
    // A connection error (client went away mid-request) ends only this connection.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

fn error_body(code: ErrorCode, message: &str) -> ErrorBody {
    ErrorBody {
        code: code.as_str().to_owned(),
        message: message.to_owned(),
    }
}

fn json(status: StatusCode, body: &impl serde::Serialize) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

fn refusal(code: ErrorCode, message: &str) -> Response<Full<Bytes>> {
    let status = match code {
        ErrorCode::FileNotFound => StatusCode::NOT_FOUND,
        ErrorCode::CertRequired | ErrorCode::CertUntrusted | ErrorCode::CertWrongType => {
            StatusCode::FORBIDDEN
        }
        ErrorCode::SendTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    json(status, &error_body(code, message))
}

async fn route(
    req: Request<Incoming>,
    state: &State,
    caller: &Result<OfficeNumber, ErrorBody>,
) -> Response<Full<Bytes>> {
    let office = match caller {
        Ok(office) => *office,
        Err(body) => return json(StatusCode::FORBIDDEN, body),
    };
    let lock = || state.relay.lock().unwrap_or_else(PoisonError::into_inner);
    match (req.method(), req.uri().path()) {
        (&Method::POST, api::SEND) => {
            let body = match Limited::new(req.into_body(), MAX_REQUEST_BYTES).collect().await {
                Ok(body) => body.to_bytes(),
                Err(e) => return refusal(ErrorCode::SendTooLarge, &format!("request body refused: {e}")),
            };
            let uploads = match serde_json::from_slice::<SendRequest>(&body).map_err(|e| e.to_string()) {
                Ok(request) => request.into_uploads(),
                Err(e) => Err(e),
            };
            let uploads = match uploads {
                Ok(uploads) => uploads,
                Err(e) => return refusal(ErrorCode::ProtocolError, &e),
            };
            let now = state.clock.now();
            match lock().send(now, office, uploads) {
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
        (method, path) => {
            let mut response = refusal(ErrorCode::ProtocolError, &format!("no endpoint {method} {path}"));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    }
}
