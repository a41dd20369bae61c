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
