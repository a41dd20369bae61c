//! The relay over real loopback TLS: mutual authentication on simulated time.

// Helpers outside #[test] functions unwrap too: a failing set-up is a failing test.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use careplan_ca::{CertificateAuthority, CertificateType};
use careplan_core::{CalendarSpan, Clock, ErrorCode, OfficeNumber, SimulatedClock};
use careplan_net::{LinkageClient, RelayServer, relay_server_config};
use careplan_relay::{Relay, Upload};
use time::macros::datetime;

struct Fixture {
    clock: Arc<SimulatedClock>,
    server: RelayServer,
    ca: CertificateAuthority,
}

async fn fixture() -> Fixture {
    let clock = Arc::new(SimulatedClock::new(datetime!(2025-05-01 09:00 +9)));
    let ca = CertificateAuthority::new().unwrap();
    let relay_cert = ca.issue_relay_certificate().unwrap();
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let tls = relay_server_config(ca.root(), &relay_cert, dyn_clock.clone()).unwrap();
    let relay = Arc::new(Mutex::new(Relay::new()));
    let server = RelayServer::start("127.0.0.1:0".parse().unwrap(), relay, dyn_clock, tls)
        .await
        .unwrap();
    Fixture { clock, server, ca }
}

fn client(f: &mut Fixture, office: &str) -> LinkageClient {
    let office: OfficeNumber = office.parse().unwrap();
    let cert =
        f.ca.issue_office_certificate(f.clock.now(), office, CertificateType::CareInsurance)
            .unwrap();
    LinkageClient::new(f.server.local_addr(), f.ca.root(), &cert, f.clock.clone()).unwrap()
}

fn plan(serial: &str) -> Vec<Upload> {
    ["UPPLAN", "UPSIKYU", "UPHOSOKU"]
        .iter()
        .map(|p| Upload {
            name: format!("{p}_202505_1310000001_43_1310000002_11_{serial}.CSV"),
            content: vec![0x82, 0xA0, b'\r', b'\n'],
        })
        .collect()
}

#[tokio::test]
async fn files_travel_and_certificates_expire_in_simulated_time() {
    let mut f = fixture().await;
    let cm = client(&mut f, "1310000001");
    let provider = client(&mut f, "1310000002");

    let receipt = cm.send(&plan("20250501090000")).await.unwrap();
    assert_eq!(receipt.files.len(), 3);
    let inbox = provider.inbox().await.unwrap();
    assert_eq!(inbox.len(), 3);
    assert_eq!(
        provider.download(inbox[0].id).await.unwrap(),
        vec![0x82, 0xA0, b'\r', b'\n']
    );
    assert!(cm.inbox().await.unwrap().is_empty());

    // A file claiming another sender is refused by the relay, not the handshake.
    let err = provider.send(&plan("20250501090001")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::SenderMismatch);

    // Valid through 23:59:59 JST of 2028-04-30, refused one second later, in the real handshake.
    f.clock.set(datetime!(2028-04-30 23:59:59 +9));
    cm.send(&plan("20280430235959")).await.unwrap();
    f.clock.advance(CalendarSpan::seconds(1)).unwrap();
    let err = cm.send(&plan("20280501000000")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::CertExpired, "{err}");

    f.clock.set(datetime!(2025-04-30 09:00 +9));
    assert_eq!(cm.inbox().await.unwrap_err().code(), ErrorCode::CertNotYetValid);
}
