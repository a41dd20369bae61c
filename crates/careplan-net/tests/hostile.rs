//! Clients that do not play by the rules, on loopback: sockets opened and left idle before the TLS
//! handshake must not lock well-behaved offices out.

// Helpers outside #[test] functions unwrap too: a failing set-up is a failing test.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use careplan_ca::CertificateType;
use careplan_net::MAX_PENDING_HANDSHAKES;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

mod common;

#[tokio::test]
async fn idle_sockets_past_the_handshake_limit_do_not_lock_offices_out() {
    let f = common::fixture().await;
    let endpoints = f.ecosystem.endpoints();
    // Sockets that never start their handshake, on the relay and on the portal: more than a server keeps.
    let flood = MAX_PENDING_HANDSHAKES + 44;
    let mut idle = Vec::with_capacity(2 * flood);
    for addr in [endpoints.relay, endpoints.portal] {
        for _ in 0..flood {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
    }
    // A well-behaved office logs in through the usage site and the portal and reads its inbox.
    let served = tokio::time::timeout(Duration::from_secs(10), async {
        let client = f.office("1310000001", CertificateType::CareInsurance).await;
        client.inbox().await.unwrap()
    })
    .await
    .expect("the office was served despite the idle sockets");
    assert!(served.is_empty());
    // The oldest idle sockets were dropped by the servers: they read end-of-stream.
    let mut closed = 0;
    for socket in idle.iter_mut().take(40) {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(200), socket.read(&mut byte)).await
        {
            closed += 1;
        }
    }
    assert!(
        closed >= 40,
        "only {closed} of the oldest idle sockets were closed"
    );
}

#[tokio::test]
async fn an_oversized_portal_request_is_refused_before_it_is_acted_on() {
    let f = common::fixture().await;
    let portal = f.ecosystem.portal_client().unwrap();
    let huge = careplan_parties::api::PortalRequest::Login {
        user_id: "KJ131310000001".into(),
        password: "x".repeat(careplan_net::MAX_WEB_REQUEST_BYTES),
    };
    let refused = portal.call(&huge).await.unwrap_err();
    assert_eq!(
        refused.code(),
        careplan_core::ErrorCode::RequestTooLarge,
        "{refused}"
    );
    // A login of ordinary size is answered (refused for its content, not its size).
    let ordinary = careplan_parties::api::PortalRequest::Login {
        user_id: "KJ131310000001".into(),
        password: "wrong".into(),
    };
    let refused = portal.call(&ordinary).await.unwrap_err();
    assert_ne!(refused.code(), careplan_core::ErrorCode::RequestTooLarge);
}

/// Servers with one-second limits, so that slow clients meet them within a test.
fn short_limits() -> careplan_net::ServerLimits {
    careplan_net::ServerLimits {
        handshake: Duration::from_secs(1),
        head: Duration::from_secs(1),
        body: Duration::from_secs(1),
        ..careplan_net::ServerLimits::default()
    }
}

/// A TLS connection to the portal, verified against the ecosystem's root on its simulated clock.
async fn portal_tls(f: &common::Fixture) -> tokio_rustls::client::TlsStream<TcpStream> {
    portal_tls_offering(f, Vec::new()).await.unwrap()
}

/// The same, offering `alpn` protocols.
async fn portal_tls_offering(
    f: &common::Fixture,
    alpn: Vec<Vec<u8>>,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(f.root()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let clock: std::sync::Arc<dyn careplan_core::Clock> = f.clock.clone();
    let config = rustls::ClientConfig::builder_with_details(
        provider,
        std::sync::Arc::new(careplan_net::ClockTime(clock)),
    )
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut config = config;
    config.alpn_protocols = alpn;
    let tcp = TcpStream::connect(f.ecosystem.endpoints().portal).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from(careplan_ca::PORTAL_SERVER_NAME).unwrap();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
}

#[tokio::test]
async fn an_http2_only_client_is_refused_in_the_handshake_and_an_http1_one_served() {
    let f = common::fixture().await;
    let refused = portal_tls_offering(&f, vec![b"h2".to_vec()])
        .await
        .expect_err("no protocol in common");
    assert!(refused.to_string().contains("NoApplicationProtocol"), "{refused}");
    let both = portal_tls_offering(&f, vec![b"h2".to_vec(), b"http/1.1".to_vec()])
        .await
        .unwrap();
    assert_eq!(both.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
}

/// Everything the server writes until it closes (at most 10 s).
async fn read_to_close(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> String {
    let mut text = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut text)).await;
    String::from_utf8_lossy(&text).into_owned()
}

#[tokio::test]
async fn slow_clients_meet_the_handshake_head_and_body_limits() {
    use tokio::io::AsyncWriteExt;
    let f = common::fixture_with(short_limits()).await;
    let started = std::time::Instant::now();

    // No handshake at all: the socket is dropped after the handshake limit.
    let mut silent = TcpStream::connect(f.ecosystem.endpoints().portal).await.unwrap();
    assert_eq!(read_to_close(&mut silent).await, "");

    // Half a request head, then nothing: the connection closes.
    let mut slow_head = portal_tls(&f).await;
    slow_head
        .write_all(b"POST /v1/portal HTTP/1.1\r\nHost: portal")
        .await
        .unwrap();
    let answer = read_to_close(&mut slow_head).await;
    assert!(!answer.contains("200 OK"), "{answer}");

    // A whole head announcing a body that never comes: 408 with the project's error body.
    let mut slow_body = portal_tls(&f).await;
    slow_body
        .write_all(b"POST /v1/portal HTTP/1.1\r\nHost: portal.careplan.test\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    slow_body.flush().await.unwrap();
    let mut head = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), slow_body.read(&mut head)).await;
    let answer = String::from_utf8_lossy(&head[..read.ok().and_then(Result::ok).unwrap_or(0)]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("REQUEST_TIMEOUT"), "{answer}");

    // Each limit was met in about its second, not at the defaults.
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
    // And a well-behaved office is still served.
    let client = f.office("1310000001", CertificateType::CareInsurance).await;
    assert!(client.inbox().await.unwrap().is_empty());
}

/// Send unit `n` from `sender` (care management) to `receiver` (home-visit care), one small file.
fn send_unit(sender: &str, receiver: &str, n: i64) -> Vec<careplan_relay::Upload> {
    let at = time::macros::datetime!(2025-04-01 00:00) + time::Duration::seconds(n);
    let serial = careplan_spec::Serial::new(at).to_string();
    vec![careplan_relay::Upload::new(
        format!("UPJSK_202504_{sender}_43_{receiver}_11_{serial}.CSV"),
        b"1,2,3\r\n".to_vec(),
    )]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_office_walking_a_long_history_does_not_hold_up_another_office_s_sends() {
    use careplan_relay::Store;
    const HISTORY: usize = 20_000;
    const LONG: &str = "1310000002";
    // An office that has sent 20,000 send units, already in the relay's store.
    let mut store = careplan_relay::MemoryStore::new();
    let sent_at = time::macros::datetime!(2025-05-01 08:00 +9);
    for n in 0..HISTORY {
        let files = send_unit(LONG, "1310000003", i64::try_from(n).unwrap());
        store
            .insert(careplan_relay::NewSendUnit {
                sender: LONG.parse().unwrap(),
                receiver: "1310000003".parse().unwrap(),
                serial: files[0].name.rsplit('_').next().unwrap()[..14].parse().unwrap(),
                sent_at,
                expires_at: sent_at + time::Duration::days(30),
                files,
            })
            .unwrap();
    }
    let f = common::fixture_of(careplan_net::ServerLimits::default(), Box::new(store)).await;
    let long = f.office(LONG, CertificateType::CareInsurance).await;
    let sender = f.office("1310000001", CertificateType::CareInsurance).await;
    f.office("1310000101", CertificateType::CareInsurance).await;
    // Four readers walk the long sent list, page by page, over and over.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (long, stop) = (long.clone(), stop.clone());
            tokio::spawn(async move {
                let mut walks = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    assert_eq!(long.sent().await.unwrap().len(), HISTORY);
                    walks += 1;
                }
                walks
            })
        })
        .collect();
    // Meanwhile another office sends; each send is answered within the stated second.
    let mut slowest = Duration::ZERO;
    for n in 0..20 {
        let started = std::time::Instant::now();
        sender
            .send(&send_unit("1310000001", "1310000101", n))
            .await
            .unwrap();
        slowest = slowest.max(started.elapsed());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut walks = 0;
    for reader in readers {
        walks += reader.await.unwrap();
    }
    assert!(walks >= 4, "the readers walked the history {walks} times");
    assert!(slowest < Duration::from_secs(1), "a send took {slowest:?}");
    // The receiver's inbox comes in pages of at most 1,000, each naming the next.
    let receiver = f.office("1310000003", CertificateType::CareInsurance).await;
    let first = receiver.inbox_page("after=0").await.unwrap();
    assert_eq!(first.send_units.len(), 1_000);
    assert_eq!(first.next.as_deref(), Some("after=1000&limit=1000"));
    let last = receiver.inbox_page("after=19500&limit=1000").await.unwrap();
    assert_eq!((last.send_units.len(), last.next), (500, None));
}

#[tokio::test]
async fn a_body_announced_too_large_is_refused_before_it_is_sent() {
    use tokio::io::AsyncWriteExt;
    let f = common::fixture().await;
    let mut stream = portal_tls(&f).await;
    stream
        .write_all(
            b"POST /v1/portal HTTP/1.1\r\nHost: portal.careplan.test\r\nContent-Length: 100000000\r\n\r\n",
        )
        .await
        .unwrap();
    stream.flush().await.unwrap();
    // Not a byte of the body was sent: the answer comes from the head alone, and the connection closes.
    let answer = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("REQUEST_TOO_LARGE"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
}

#[tokio::test]
async fn requests_the_http_parser_refuses_are_answered_with_coded_bodies() {
    use tokio::io::AsyncWriteExt;
    let f = common::fixture().await;
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: portal\r\n\r\n", "a".repeat(70_000));
    let many_headers = format!(
        "GET /v1/portal HTTP/1.1\r\nHost: portal\r\n{}\r\n",
        (0..200).map(|n| format!("X-{n}: {n}\r\n")).collect::<String>()
    );
    let huge_header = format!(
        "GET /v1/portal HTTP/1.1\r\nHost: portal\r\nX-Big: {}\r\n\r\n",
        "b".repeat(500_000)
    );
    let cases: [(&str, &[u8], &str); 5] = [
        ("bad request line", b"HELLO\r\n\r\n", "REQUEST_MALFORMED"),
        (
            "bad Content-Length",
            b"POST /v1/portal HTTP/1.1\r\nHost: p\r\nContent-Length: x\r\n\r\n",
            "REQUEST_MALFORMED",
        ),
        (
            "a target too long",
            long_target.as_bytes(),
            "REQUEST_URI_TOO_LONG",
        ),
        (
            "too many headers",
            many_headers.as_bytes(),
            "REQUEST_HEAD_TOO_LARGE",
        ),
        (
            "a header too large",
            huge_header.as_bytes(),
            "REQUEST_HEAD_TOO_LARGE",
        ),
    ];
    for (what, request, code) in cases {
        let mut stream = portal_tls(&f).await;
        let _ = stream.write_all(request).await;
        let _ = stream.flush().await;
        let answer = read_to_close(&mut stream).await;
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(head.starts_with("HTTP/1.1 4"), "{what}: {head}");
        let body: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: `{body}`: {e}"));
        assert_eq!(body["code"], code, "{what}: {head}");
    }
    // A well-formed request on a kept-alive connection (answered by the portal: no such operation), then
    // a malformed one: the first answer arrives whole, then the coded refusal.
    let mut stream = portal_tls(&f).await;
    let form = br#"{"operation":"ca_info"}"#;
    let request = format!(
        "POST /v1/portal HTTP/1.1\r\nHost: portal.careplan.test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        form.len()
    );
    stream
        .write_all(&[request.as_bytes(), form, b"HELLO\r\n\r\n"].concat())
        .await
        .unwrap();
    stream.flush().await.unwrap();
    let answer = read_to_close(&mut stream).await;
    let (first, second) = answer.split_once("HTTP/1.1 400 ").expect("a second answer");
    assert!(first.starts_with("HTTP/1.1 422"), "{answer}");
    assert!(first.ends_with('}'), "the first answer is whole: {first}");
    assert!(second.contains("\"code\":\"REQUEST_MALFORMED\""), "{answer}");
}
