//! The builder end to end: offices set up as described, their clients ready, the relay following the
//! CA's revocations, and the same seed giving the same ecosystem.

#![allow(clippy::unwrap_used)]

use careplan_core::ErrorCode;
use careplan_ecosystem::{EcosystemBuilder, OfficeDescription};
use careplan_office::{OfficeProfile, OfficeRole};
use careplan_parties::api::{PortalRequest, PortalResponse};
use careplan_relay::Upload;
use time::macros::datetime;

const START: time::OffsetDateTime = datetime!(2026-04-01 09:00 +9);

fn office(number: &str, kind: &str, role: OfficeRole) -> OfficeDescription {
    let profile = OfficeProfile {
        number: number.parse().unwrap(),
        kind: kind.parse().unwrap(),
        role,
        name: format!("office {number}"),
    };
    OfficeDescription::ready(profile, "Ready2026", START)
}

fn builder(seed: u64) -> EcosystemBuilder {
    EcosystemBuilder::new(seed, START)
        .office(office("1310000001", "43", OfficeRole::CareManagement))
        .office(office("1310000002", "11", OfficeRole::Service))
}

fn plan(serial: &str) -> Vec<Upload> {
    ["UPPLAN", "UPSIKYU", "UPHOSOKU"]
        .iter()
        .map(|prefix| {
            Upload::new(
                format!("{prefix}_202604_1310000001_43_1310000002_11_{serial}.CSV"),
                b"x".to_vec(),
            )
        })
        .collect()
}

#[tokio::test]
async fn ready_offices_send_and_a_revocation_reaches_the_relay_before_it_is_answered() {
    let ecosystem = builder(3).prepare().unwrap().start().await.unwrap();
    let sender = ecosystem.client_of(0).await.unwrap();
    sender.send(&plan("20260401090000")).await.unwrap();
    let inbox = ecosystem.client_of(1).await.unwrap().inbox().await.unwrap();
    assert_eq!(inbox.len(), 1);

    let office = ecosystem.profile(0).number;
    let answer = ecosystem
        .portal_client()
        .unwrap()
        .call(&PortalRequest::RevokeCertificates { office })
        .await
        .unwrap();
    assert!(matches!(answer, PortalResponse::Revoked { .. }), "{answer:?}");
    let refused = sender.send(&plan("20260401090001")).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::CertRevoked, "{refused}");
    ecosystem.shutdown().await;
}

#[test]
fn the_same_seed_prepares_the_same_ecosystem_and_another_seed_another() {
    let first = builder(7).prepare().unwrap();
    let again = builder(7).prepare().unwrap();
    let other = builder(8).prepare().unwrap();
    assert_eq!(first.root(), again.root());
    for (a, b) in first.offices().iter().zip(again.offices()) {
        assert_eq!(a.login_details(), b.login_details());
        assert!(a.login_details().is_some());
        let fingerprint = |c: &careplan_ca::IssuedCertificate| c.fingerprint().sha256;
        assert_eq!(
            a.certificate.as_ref().map(fingerprint),
            b.certificate.as_ref().map(fingerprint)
        );
    }
    assert_ne!(
        first.offices()[0].personal_password,
        other.offices()[0].personal_password
    );
}
