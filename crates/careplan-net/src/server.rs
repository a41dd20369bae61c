//! One HTTPS server shape for every party: an accept loop, a TLS configuration that can be replaced while
//! running (the relay reloads the CA's revocation list), and a synchronous handler over a collected body.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use careplan_core::ErrorCode;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::ServerConfig;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::api::ErrorBody;
use crate::framing::CodedFraming;

/// Largest request body the relay reads, in bytes. A month's send units for hundreds of users fit easily.
pub const MAX_RELAY_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// Largest request body the web parties (portal, usage site, admin endpoint) read: their requests are
/// forms, logins and clock changes, so that nothing unauthenticated can make them journal megabytes.
pub const MAX_WEB_REQUEST_BYTES: usize = 64 * 1024;

/// How long a refused handshake's socket is drained so that the client reads the TLS alert rather than
/// a connection reset. Wall-clock housekeeping of the socket, not simulated time.
const ALERT_DRAIN: Duration = Duration::from_secs(5);

/// How long a client has to complete the TLS handshake (wall-clock, like every limit below: these
/// protect the server's resources, they are not part of the simulation).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client has to send a request's head, including the wait for the next request on a kept-
/// alive connection.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client has to send a request's body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// Connections still in their TLS handshake per server: past it, the oldest is dropped, so that idle
/// sockets cannot lock well-behaved clients out.
pub const MAX_PENDING_HANDSHAKES: usize = 256;

/// Established connections per server: past it, a new connection is closed once its handshake ends.
pub const MAX_CONNECTIONS: usize = 1024;

/// The limits a party server applies (wall-clock: they protect the server, they are not part of the
/// simulation). [`Default`] gives the documented values (`docs/security.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time to complete the TLS handshake.
    pub handshake: Duration,
    /// Time to send a request's head (and to start the next on a kept-alive connection).
    pub head: Duration,
    /// Time to send a request's body.
    pub body: Duration,
    /// Connections still in their handshake; past it the oldest is dropped.
    pub pending_handshakes: usize,
    /// Established connections; past it a new one closes after its handshake.
    pub connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            handshake: HANDSHAKE_TIMEOUT,
            head: HEAD_TIMEOUT,
            body: BODY_TIMEOUT,
            pending_handshakes: MAX_PENDING_HANDSHAKES,
            connections: MAX_CONNECTIONS,
        }
    }
}

/// Connections in their handshake, oldest first: whether each has finished, and how to drop it.
type Pending = Arc<std::sync::Mutex<std::collections::VecDeque<(Arc<AtomicBool>, tokio::task::AbortHandle)>>>;

/// Why a server could not start.
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
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

/// A request as a handler sees it: the body is read in full (within the size limit) beforehand.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) body: Bytes,
    /// The verified client certificate, if the connection presented one.
    pub(crate) peer: Option<&'a CertificateDer<'static>>,
    /// The `Authorization` header, if any.
    pub(crate) authorization: Option<&'a str>,
    /// The query string, if any.
    pub(crate) query: Option<&'a str>,
}

/// A response extension asking the server to drop the answer and close the connection (fault injection:
/// the request was acted on, the client never hears of it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoseResponse;

/// What a server does with a request.
pub(crate) type Handler = Arc<dyn Fn(Call<'_>) -> Response<Full<Bytes>> + Send + Sync>;

/// A running party server (HTTPS). Dropping it stops accepting connections.
#[derive(Debug)]
pub struct PartyServer {
    addr: SocketAddr,
    tls: Arc<RwLock<Arc<ServerConfig>>>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl PartyServer {
    /// Starts serving on `listen` (port 0 picks a free port). Handlers may block (every party's state can
    /// live in a database): they run on the blocking pool.
    pub(crate) async fn start(
        listen: SocketAddr,
        tls: ServerConfig,
        max_body: usize,
        limits: ServerLimits,
        handler: Handler,
    ) -> Result<Self, ServerError> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| ServerError::Bind { addr: listen, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr: listen, source })?;
        let tls = Arc::new(RwLock::new(Arc::new(tls)));
        let (shutdown, mut stop) = oneshot::channel();
        let configs = tls.clone();
        let pending: Pending = Arc::default();
        let established = Arc::new(Semaphore::new(limits.connections));
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stop => break,
                    accepted = listener.accept() => {
                        // A failed accept (the peer reset before accept) concerns one connection only; out
                        // of file descriptors, the loop pauses rather than spin until some are freed.
                        if let Err(e) = &accepted
                            && e.raw_os_error().is_some_and(|code| code == 24 || code == 23) // EMFILE, ENFILE
                        {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        if let Ok((tcp, _)) = accepted {
                            let config = configs.read().unwrap_or_else(PoisonError::into_inner).clone();
                            let shaken = Arc::new(AtomicBool::new(false));
                            let connection = tokio::spawn(serve_connection(
                                tcp,
                                TlsAcceptor::from(config),
                                Limits {
                                    max_body,
                                    server: limits,
                                    shaken: shaken.clone(),
                                    established: established.clone(),
                                },
                                handler.clone(),
                            ));
                            admit(&pending, limits.pending_handshakes, shaken, connection.abort_handle());
                        }
                    }
                }
            }
        });
        Ok(Self {
            addr,
            tls,
            shutdown: Some(shutdown),
            task,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the TLS configuration for connections accepted from now on.
    pub(crate) fn set_tls(&self, config: ServerConfig) {
        *self.tls.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for PartyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Counts a connection in its handshake; past `most`, drops the oldest still shaking.
fn admit(pending: &Pending, most: usize, shaken: Arc<AtomicBool>, connection: tokio::task::AbortHandle) {
    let mut pending = pending.lock().unwrap_or_else(PoisonError::into_inner);
    pending.retain(|(done, _)| !done.load(Ordering::Acquire));
    pending.push_back((shaken, connection));
    while pending.len() > most {
        if let Some((_, oldest)) = pending.pop_front() {
            oldest.abort();
        }
    }
}

/// What bounds one connection.
struct Limits {
    /// The largest body read.
    max_body: usize,
    /// The server's time limits.
    server: ServerLimits,
    /// Set once the handshake has ended, either way.
    shaken: Arc<AtomicBool>,
    /// The server's established connections.
    established: Arc<Semaphore>,
}

async fn serve_connection(tcp: TcpStream, acceptor: TlsAcceptor, limits: Limits, handler: Handler) {
    let Limits {
        max_body,
        server,
        shaken,
        established,
    } = limits;
    // Answers leave in several writes (TLS records, then the body); without this the last waits for
    // the client's delayed ACK.
    let _ = tcp.set_nodelay(true);
    let handshake = tokio::time::timeout(server.handshake, acceptor.accept(tcp).into_fallible()).await;
    shaken.store(true, Ordering::Release);
    let Ok(handshake) = handshake else {
        // Too slow: the socket is dropped.
        return;
    };
    let tls = match handshake {
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
    let Ok(_permit) = established.try_acquire_owned() else {
        // Too many connections: this one closes; the client may retry.
        return;
    };
    let peer: Option<CertificateDer<'static>> = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|c| c.clone().into_owned());
    let peer = Arc::new(peer);
    let service = service_fn(move |req: Request<Incoming>| {
        let (handler, peer) = (handler.clone(), peer.clone());
        async move {
            let (parts, body) = req.into_parts();
            // The relay's bodies are sends; the web parties' are forms.
            let too_large = |detail: &str| {
                let code = if max_body >= MAX_RELAY_REQUEST_BYTES {
                    ErrorCode::SendTooLarge
                } else {
                    ErrorCode::RequestTooLarge
                };
                closing(refusal(
                    code,
                    &format!("request body refused ({detail}): at most {max_body} bytes"),
                ))
            };
            // A body announced larger than the limit is refused before a byte of it is read (and
            // decrypted): an oversized request costs the server its head, not its body.
            let announced = hyper::body::Body::size_hint(&body).lower();
            if announced > u64::try_from(max_body).unwrap_or(u64::MAX) {
                return Ok(too_large(&format!("Content-Length {announced}")));
            }
            let body = match tokio::time::timeout(server.body, Limited::new(body, max_body).collect()).await {
                Ok(Ok(body)) => body.to_bytes(),
                Ok(Err(e)) => return Ok(too_large(&e.to_string())),
                Err(_) => {
                    return Ok(closing(refusal(
                        ErrorCode::RequestTimeout,
                        &format!(
                            "the request body did not arrive within {} s",
                            server.body.as_secs()
                        ),
                    )));
                }
            };
            let answer = move || {
                handler(Call {
                    method: &parts.method,
                    path: parts.uri.path(),
                    body,
                    peer: peer.as_ref().as_ref(),
                    authorization: parts
                        .headers
                        .get(hyper::header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok()),
                    query: parts.uri.query(),
                })
            };
            // A handler may block on disk or a database: it runs on the blocking pool, so that the
            // connections' TLS work goes on meanwhile.
            let response = match tokio::task::spawn_blocking(answer).await {
                Ok(response) => response,
                // The server is stopping and the handler never ran: close without an answer, as a relay
                // that went away does, so that the client repeats the request elsewhere instead of taking
                // the refusal as its own fault.
                Err(e) if e.is_cancelled() => {
                    return Err(std::io::Error::other(
                        "the server stopped before the request was handled",
                    ));
                }
                Err(e) => refusal(ErrorCode::ProtocolError, &format!("the handler failed: {e}")),
            };
            if response.extensions().get::<LoseResponse>().is_some() {
                // Fault injection: the request was acted on, the answer never leaves.
                return Err(std::io::Error::other("response deliberately lost"));
            }
            Ok(response)
        }
    });
    // A connection error (client went away mid-request) ends only this connection.
    let _ = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(server.head)
        .serve_connection(TokioIo::new(CodedFraming::new(tls)), service)
        .await;
}

pub(crate) fn error_body(code: ErrorCode, message: &str) -> ErrorBody {
    ErrorBody {
        code: code.as_str().to_owned(),
        message: message.to_owned(),
        codes: Vec::new(),
        findings: Vec::new(),
    }
}

pub(crate) fn json(status: StatusCode, body: &impl serde::Serialize) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// The HTTP status of a refusal with `code`.
fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::FileNotFound | ErrorCode::SendUnitNotFound => StatusCode::NOT_FOUND,
        ErrorCode::SendUnitCancelled | ErrorCode::SendUnitExpired => StatusCode::GONE,
        ErrorCode::SerialReused
        | ErrorCode::SendUnitAlreadyDownloaded
        | ErrorCode::SendUnitAlreadyReceived
        | ErrorCode::SerialOrder
        | ErrorCode::ClockNotSimulated => StatusCode::CONFLICT,
        ErrorCode::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::CertRequired | ErrorCode::CertUntrusted | ErrorCode::CertWrongType => {
            StatusCode::FORBIDDEN
        }
        ErrorCode::LoginFailed
        | ErrorCode::AccountLocked
        | ErrorCode::SessionInvalid
        | ErrorCode::SessionExpired
        | ErrorCode::PasswordTemporary
        | ErrorCode::PasswordExpired
        | ErrorCode::ProxyIdNotAllowed
        | ErrorCode::AdminTokenInvalid => StatusCode::UNAUTHORIZED,
        ErrorCode::SendTooLarge | ErrorCode::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        ErrorCode::RequestMalformed => StatusCode::BAD_REQUEST,
        ErrorCode::RequestUriTooLong => StatusCode::URI_TOO_LONG,
        ErrorCode::RequestHeadTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ErrorCode::HttpVersionUnsupported => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// `response`, closing the connection after it: the rest of the request's body is never read.
fn closing(mut response: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    response.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    response
}

pub(crate) fn refusal(code: ErrorCode, message: &str) -> Response<Full<Bytes>> {
    error_response(code, &error_body(code, message))
}

/// A refusal with `code` and a body completed by the caller (several codes, findings).
pub(crate) fn error_response(code: ErrorCode, body: &ErrorBody) -> Response<Full<Bytes>> {
    json(status_of(code), body)
}

/// A refusal carrying several codes (`codes[0]` is the main one).
pub(crate) fn refusal_with(codes: &[ErrorCode], message: &str) -> Response<Full<Bytes>> {
    let code = codes.first().copied().unwrap_or(ErrorCode::ProtocolError);
    let mut body = error_body(code, message);
    body.codes = codes.iter().map(|c| c.as_str().to_owned()).collect();
    error_response(code, &body)
}

/// Answers one call of a tagged-operation endpoint (the portal's, the usage site's): the body read as a
/// `Request` (else `PROTOCOL_ERROR`), then `handle`'s answer, or its refusal with every code.
pub(crate) fn operation<Request, Answer>(
    body: &[u8],
    handle: impl FnOnce(Request) -> Result<Answer, (Vec<ErrorCode>, String)>,
) -> Response<Full<Bytes>>
where
    Request: serde::de::DeserializeOwned,
    Answer: serde::Serialize,
{
    let request = match serde_json::from_slice::<Request>(body) {
        Ok(request) => request,
        Err(e) => return refusal(ErrorCode::ProtocolError, &e.to_string()),
    };
    match handle(request) {
        Ok(answer) => json(StatusCode::OK, &answer),
        Err((codes, message)) => refusal_with(&codes, &message),
    }
}

/// Starts a web site (server authentication only) answering one tagged-operation endpoint at `path`
/// with `handle` (see [`operation`]), which also sees the request's `Authorization` header.
pub(crate) async fn serve_operations<Request, Answer>(
    listen: SocketAddr,
    limits: ServerLimits,
    certificate: &careplan_ca::IssuedCertificate,
    clock: Arc<dyn careplan_core::Clock>,
    path: &'static str,
    handle: impl Fn(time::OffsetDateTime, Request, Option<&str>) -> Result<Answer, (Vec<ErrorCode>, String)>
    + Send
    + Sync
    + 'static,
) -> Result<PartyServer, ServerError>
where
    Request: serde::de::DeserializeOwned,
    Answer: serde::Serialize,
{
    let tls = crate::tls::web_server_config(certificate, clock.clone())?;
    PartyServer::start(
        listen,
        tls,
        MAX_WEB_REQUEST_BYTES,
        limits,
        Arc::new(move |call: Call<'_>| {
            if call.method == Method::POST && call.path == path {
                operation(&call.body, |request| {
                    handle(clock.now(), request, call.authorization)
                })
            } else {
                no_endpoint(call.method, call.path)
            }
        }),
    )
    .await
}

pub(crate) fn no_endpoint(method: &Method, path: &str) -> Response<Full<Bytes>> {
    let mut response = refusal(ErrorCode::ProtocolError, &format!("no endpoint {method} {path}"));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
