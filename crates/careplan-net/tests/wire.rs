//! The portal, the usage-application site and the relay over real loopback TLS: onboarding, the two-step
//! login, licences enforced by the relay, mutual authentication on simulated time, certificate types and
//! revocation.

// Helpers outside #[test] functions unwrap too: a failing set-up is a failing test.
#![allow(clippy::unwrap_used)]

use careplan_ca::CertificateType;
use careplan_core::{CalendarSpan, Clock, ErrorCode, OfficeNumber};
use careplan_net::{SEND_ATTEMPTS, pkcs12_of};
use careplan_parties::LoginDetails;
use careplan_parties::api::{PortalRequest, PortalResponse, UsageRequest, UsageResponse, WireNotice};
use careplan_relay::{SendUnitStatus, Upload};
use time::macros::datetime;

mod common;

use common::{fixture, usage_application};

fn plan(serial: &str) -> Vec<Upload> {
    ["UPPLAN", "UPSIKYU", "UPHOSOKU"]
        .iter()
        .map(|p| {
            Upload::new(
                format!("{p}_202505_1310000001_43_1310000002_11_{serial}.CSV"),
                vec![0x82, 0xA0, b'\r', b'\n'],
            )
        })
        .collect()
}

#[tokio::test]
async fn files_travel_and_certificates_expire_in_simulated_time() {
    let f = fixture().await;
    let cm = f.office("1310000001", CertificateType::CareInsurance).await;
    let provider = f.office("1310000002", CertificateType::CareDx).await;

    let receipt = cm.send(&plan("20250501090000")).await.unwrap();
    assert_eq!(receipt.files.len(), 3);
    let inbox = provider.inbox().await.unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].files.len(), 3);
    assert_eq!(
        provider.download(inbox[0].files[0].id).await.unwrap(),
        vec![0x82, 0xA0, b'\r', b'\n']
    );
    assert!(cm.inbox().await.unwrap().is_empty());

    // A file claiming another sender is refused by the relay, not the handshake.
    let err = provider.send(&plan("20250501090001")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::SenderMismatch);

    // Valid through 23:59:59 JST of its end date, 2028-05-01, refused one second later, in the real
    // handshake.
    f.clock
        .set(datetime!(2028-05-01 23:59:59 +9))
        .expect("within the clock's range");
    cm.send(&plan("20280501235959")).await.unwrap();
    f.clock.advance(CalendarSpan::seconds(1)).unwrap();
    let err = cm.send(&plan("20280502000000")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::CertExpired, "{err}");

    f.clock
        .set(datetime!(2025-04-30 09:00 +9))
        .expect("within the clock's range");
    assert_eq!(cm.inbox().await.unwrap_err().code(), ErrorCode::CertNotYetValid);
}

#[tokio::test]
async fn the_relay_refuses_other_types_and_revoked_certificates() {
    let f = fixture().await;
    for certificate_type in [CertificateType::BillingProxy, CertificateType::DisabilityWelfare] {
        let number = if certificate_type == CertificateType::BillingProxy {
            "1310000001"
        } else {
            "1310000003"
        };
        let client = f.office(number, certificate_type).await;
        assert_eq!(client.inbox().await.unwrap_err().code(), ErrorCode::CertWrongType);
    }
    let provider = f.office("1310000002", CertificateType::CareInsurance).await;
    assert!(provider.inbox().await.is_ok());
    let crl = f.ecosystem.parties().with(|state| {
        state
            .portal
            .revoke_certificates(f.clock.now(), "1310000002".parse().unwrap())
            .unwrap();
        state.portal.crl(f.clock.now()).unwrap()
    });
    // Until the relay loads the new list, the certificate still works; then the handshake refuses it.
    assert!(provider.inbox().await.is_ok());
    f.ecosystem.relay().load_crl(crl).unwrap();
    assert_eq!(provider.inbox().await.unwrap_err().code(), ErrorCode::CertRevoked);
}

/// A new office from the federation's notice to its first send, every step over HTTPS.
#[tokio::test]
async fn onboarding_over_the_wire() {
    let f = fixture().await;
    let portal = f.ecosystem.portal_client().unwrap();
    let office: OfficeNumber = "1310000001".parse().unwrap();
    let PortalResponse::Notice(WireNotice {
        user_id,
        temporary_password,
        issuance_password,
    }) = portal.call(&PortalRequest::IssueUserId { office }).await.unwrap()
    else {
        panic!("no notice")
    };
    let site = f.site_client();
    let refused = site
        .call(&UsageRequest::Login {
            user_id: user_id.clone(),
            password: temporary_password.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::PasswordTemporary);
    let client = f.client();
    assert_eq!(
        client.inbox().await.unwrap_err().code(),
        ErrorCode::ClientNotLoggedIn
    );
    let PortalResponse::Login { session, .. } = portal
        .call(&PortalRequest::Login {
            user_id: user_id.clone(),
            password: temporary_password.clone(),
        })
        .await
        .unwrap()
    else {
        panic!("no session")
    };
    portal
        .call(&PortalRequest::AcceptTerms { session })
        .await
        .unwrap();
    let weak = portal
        .call(&PortalRequest::ChangePassword {
            session,
            current: temporary_password.clone(),
            new: "short".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        weak.codes(),
        [ErrorCode::PasswordTooShort, ErrorCode::PasswordNeedsDigit]
    );
    portal
        .call(&PortalRequest::ChangePassword {
            session,
            current: temporary_password,
            new: "Secret123".into(),
        })
        .await
        .unwrap();
    let applied = portal
        .call(&PortalRequest::ApplyForCertificate {
            session,
            certificate_type: "care_insurance".into(),
            issuance_password: issuance_password.clone(),
        })
        .await
        .unwrap();
    let PortalResponse::Application(application) = applied else {
        panic!("no application")
    };
    f.clock
        .set(application.issues_at)
        .expect("within the clock's range");
    let download = portal
        .call(&PortalRequest::DownloadCertificate {
            session,
            issuance_password: issuance_password.clone(),
        })
        .await
        .unwrap();
    let p12 = pkcs12_of(&download).unwrap();
    assert_eq!(
        client
            .install_pkcs12(&p12, "not-the-password1")
            .unwrap_err()
            .code(),
        ErrorCode::Pkcs12PasswordWrong
    );
    client.install_pkcs12(&p12, &issuance_password).unwrap();
    let UsageResponse::Login { session } = site
        .call(&UsageRequest::Login {
            user_id: user_id.clone(),
            password: "Secret123".into(),
        })
        .await
        .unwrap()
    else {
        panic!("no site session")
    };
    let mut incomplete = usage_application();
    incomplete.agree_privacy = false;
    incomplete.phone = "03-1234-5678".into();
    let refused = site
        .call(&UsageRequest::Apply {
            session,
            application: incomplete,
        })
        .await
        .unwrap_err();
    assert_eq!(
        refused.codes(),
        [
            ErrorCode::ApplicationPhoneInvalid,
            ErrorCode::ApplicationPrivacyNotAgreed
        ]
    );
    let UsageResponse::Registration(registration) = site
        .call(&UsageRequest::Apply {
            session,
            application: usage_application(),
        })
        .await
        .unwrap()
    else {
        panic!("no registration")
    };
    assert_eq!(registration.message, "利用申請が正常に完了しております。");
    let details = LoginDetails {
        personal_user_id: registration.account.user_id.to_string(),
        personal_password: registration.account.password.clone(),
        user_id: user_id.clone(),
        password: "Secret123".into(),
    };
    let wrong_personal = LoginDetails {
        personal_password: "wrong-password1".into(),
        ..details.clone()
    };
    assert_eq!(
        client.login(&wrong_personal).await.unwrap_err().code(),
        ErrorCode::PersonalLoginFailed
    );
    assert_eq!(client.login(&details).await.unwrap(), office);
    let PortalResponse::CaInfo { sha256, .. } = portal.call(&PortalRequest::CaInfo).await.unwrap() else {
        panic!("no CA info")
    };
    assert_eq!(sha256, careplan_ca::Fingerprint::of(&f.root()).sha256);
    assert!(client.inbox().await.unwrap().is_empty());
}

/// The relay asks the site where sender and receiver stand: unregistered, lapsed and licensed offices, and
/// a personal user ID of another office at the client's login.
#[tokio::test]
async fn the_relay_lets_data_flow_only_between_licensed_offices() {
    let f = fixture().await;
    let cm = f.office("1310000001", CertificateType::CareInsurance).await;
    // 1310000002 has an account and a certificate but never applied to the usage site.
    let provider_number: OfficeNumber = "1310000002".parse().unwrap();
    {
        let now = f.clock.now();
        f.ecosystem.parties().with(|state| {
            state
                .portal
                .issue_user_id(now, provider_number.prefecture(), provider_number)
                .unwrap()
        });
    }
    let refused = cm.send(&plan("20250501090000")).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::ReceiverUnregistered);
    let provider_account = f
        .ecosystem
        .parties()
        .with(|state| {
            state
                .site
                .register(f.clock.now(), provider_number, usage_application())
        })
        .unwrap()
        .account;
    cm.send(&plan("20250501090001")).await.unwrap();

    // A personal user ID of another office does not open this office's client.
    let other = f.client();
    let mismatch = other
        .login(&LoginDetails {
            personal_user_id: provider_account.user_id.to_string(),
            personal_password: provider_account.password,
            user_id: "KJ131310000001".into(),
            password: "Secret123".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(mismatch.code(), ErrorCode::PersonalIdMismatch);

    // The care-management office stops its auto-renewal: its free pass ends with 2026-04-30.
    let site = f.site_client();
    let UsageResponse::Login { session } = site
        .call(&UsageRequest::Login {
            user_id: "KJ131310000001".into(),
            password: "Secret123".into(),
        })
        .await
        .unwrap()
    else {
        panic!("no site session")
    };
    let UsageResponse::Licence(view) = site
        .call(&UsageRequest::SetAutoRenewal { session, on: false })
        .await
        .unwrap()
    else {
        panic!("no licence page")
    };
    assert_eq!(view.expiry, Some(time::macros::date!(2026 - 04 - 30)));
    let cancel = site.call(&UsageRequest::Cancel { session }).await.unwrap_err();
    assert_eq!(cancel.code(), ErrorCode::LicenceCancelNotAllowed);
    f.clock
        .set(datetime!(2026-04-30 23:59:59 +9))
        .expect("within the clock's range");
    cm.send(&plan("20260430235959")).await.unwrap();
    f.clock
        .set(datetime!(2026-05-01 00:00:00 +9))
        .expect("within the clock's range");
    let lapsed = cm.send(&plan("20260501000000")).await.unwrap_err();
    assert_eq!(lapsed.code(), ErrorCode::LicenceRequired);
    assert_eq!(other.logged_in(), None);
}

#[tokio::test]
async fn a_lost_answer_is_retried_into_the_same_send_unit_and_progress_shows_to_the_sender() {
    let f = fixture().await;
    let cm = f.office("1310000001", CertificateType::CareInsurance).await;
    let provider = f.office("1310000002", CertificateType::CareDx).await;

    f.ecosystem.relay().lose_responses(1);
    let receipt = cm.send(&plan("20250501090000")).await.unwrap();
    let sent = cm.sent().await.unwrap();
    assert_eq!(
        sent.iter().map(|b| b.id).collect::<Vec<_>>(),
        vec![receipt.send_unit]
    );
    assert_eq!(sent[0].status, SendUnitStatus::Unread);

    assert_eq!(
        provider.receive(receipt.send_unit).await.unwrap().status,
        SendUnitStatus::Received
    );
    assert_eq!(cm.sent().await.unwrap()[0].status, SendUnitStatus::Received);
    assert_eq!(
        provider.cancel(receipt.send_unit).await.unwrap_err().code(),
        ErrorCode::SendUnitNotFound
    );
    for file in receipt.files.iter() {
        provider.download(*file).await.unwrap();
    }
    assert_eq!(cm.sent().await.unwrap()[0].status, SendUnitStatus::Downloaded);
    assert_eq!(
        cm.cancel(receipt.send_unit).await.unwrap_err().code(),
        ErrorCode::SendUnitAlreadyDownloaded
    );

    // More lost answers than the client tries: the office hears RELAY_UNREACHABLE, but the relay stored
    // the send unit once, and sending again later is answered with its receipt.
    f.ecosystem.relay().lose_responses(SEND_ATTEMPTS);
    let err = cm.send(&plan("20250501090001")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::RelayUnreachable);
    let later = cm.send(&plan("20250501090001")).await.unwrap();
    let sent = cm.sent().await.unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].id, later.send_unit);
    let cancelled = cm.cancel(later.send_unit).await.unwrap();
    assert_eq!(cancelled.status, SendUnitStatus::Cancelled);
    let code = provider.download(later.files[0]).await.unwrap_err().code();
    assert_eq!(code, ErrorCode::SendUnitCancelled);
}

#[tokio::test]
async fn the_inbox_comes_in_pages_and_the_client_reads_them_all() {
    let f = fixture().await;
    let cm = f.office("1310000001", CertificateType::CareInsurance).await;
    let provider = f.office("1310000002", CertificateType::CareInsurance).await;
    for second in 0..5 {
        cm.send(&plan(&format!("2025050109000{second}"))).await.unwrap();
    }
    let first = provider.inbox_page("limit=2").await.unwrap();
    assert_eq!(first.send_units.len(), 2);
    assert_eq!(first.next.as_deref(), Some("after=2&limit=2"));
    let second = provider.inbox_page("after=2&limit=2").await.unwrap();
    let last = provider.inbox_page("after=4&limit=2").await.unwrap();
    assert_eq!((second.send_units.len(), last.send_units.len()), (2, 1));
    assert_eq!(last.next, None);
    let all = provider.inbox().await.unwrap();
    let paged: Vec<_> = [first, second, last]
        .into_iter()
        .flat_map(|page| page.send_units)
        .map(|unit| unit.id)
        .collect();
    assert_eq!(all.iter().map(|unit| unit.id).collect::<Vec<_>>(), paged);
    for bad in ["limit=0", "limit=1001", "after=-1", "sort=serial"] {
        let err = provider.inbox_page(bad).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ProtocolError, "{bad}");
    }
}

#[tokio::test]
async fn a_client_with_several_relay_addresses_moves_to_one_that_answers() {
    let f = fixture().await;
    let live = f.ecosystem.endpoints().relay;
    // An address where nothing listens any more: a relay that stopped.
    let stopped = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cm = f
        .office("1310000001", CertificateType::CareInsurance)
        .await
        .with_relays([stopped, live]);
    let provider = f
        .office("1310000002", CertificateType::CareDx)
        .await
        .with_relays([stopped]);
    assert_eq!(cm.relay(), stopped);
    let receipt = cm.send(&plan("20250501090000")).await.unwrap();
    assert_eq!(cm.relay(), live, "the relay that answered stays in use");
    assert_eq!(cm.sent().await.unwrap()[0].id, receipt.send_unit);
    // With no other address the office hears that the relay cannot be reached.
    let err = provider.inbox().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::RelayUnreachable, "{err}");
    let provider = provider.with_relays([live, stopped]);
    assert_eq!(provider.inbox().await.unwrap()[0].id, receipt.send_unit);
    assert_eq!(provider.relay(), live);
}
