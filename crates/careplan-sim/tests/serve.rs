//! `careplan-sim serve` as a process on its embedded SQLite store: an acknowledged send survives SIGKILL
//! exactly once, the admin clock moves a simulated ecosystem, and a restart resumes where it stopped.

// Set-up helpers outside the tests expect too: a failing set-up is a failing test.
#![allow(clippy::expect_used)]

mod serving;

use std::sync::Arc;

use careplan_core::{Clock, ErrorCode, SystemClock};
use careplan_net::AdminClient;
use careplan_parties::api::ClockChange;
use serving::{CARE_MANAGER, PROVIDER, check_after_restart, runtime, serve, stream_until_killed};

/// `serve` on a simulated clock starting 2026-04-01 09:00 JST, with its admin client.
fn simulated_from_april_2026(dir: &std::path::Path) -> (serving::Served, AdminClient, Arc<dyn Clock>) {
    let served = serve(
        dir,
        &["--clock", "simulated", "--start", "2026-04-01T09:00:00+09:00"],
    );
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let admin = served.admin_client(clock.clone());
    (served, admin, clock)
}

#[test]
fn a_killed_relay_keeps_every_acknowledged_send_unit_exactly_once() {
    let dir = tempfile::tempdir().expect("temporary directory");
    runtime().block_on(async {
        let served = serve(dir.path(), &[]);
        let mut clients = Vec::new();
        for _ in 0..4 {
            clients.push(served.office(CARE_MANAGER).await);
        }
        let (acknowledged, attempted) = stream_until_killed(clients, served, 40).await;
        assert!(acknowledged.len() >= 40);

        let restarted = serve(dir.path(), &[]);
        let provider = restarted.office(PROVIDER).await;
        check_after_restart(&provider, &acknowledged, attempted).await;
        // The sender's repeat of an acknowledged send gets its first receipt, not a second send unit.
        let care_manager = restarted.office(CARE_MANAGER).await;
        let first = acknowledged[0];
        let receipt = care_manager
            .send(&serving::send_unit(first))
            .await
            .expect("a repeat is answered");
        let sent = care_manager.sent().await.expect("the sent list");
        assert_eq!(sent.iter().filter(|b| b.id == receipt.send_unit).count(), 1);
        assert_eq!(
            sent.iter()
                .filter(|b| b.serial.to_string() == serving::serial(first))
                .count(),
            1
        );
        restarted.stop();
    });
}

#[test]
fn the_admin_clock_moves_a_simulated_ecosystem_and_a_restart_resumes_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    runtime().block_on(async {
        let (served, admin, clock) = simulated_from_april_2026(dir.path());
        let reading = admin.clock().await.expect("reads the clock");
        assert!(reading.simulated);
        assert_eq!(reading.now, time::macros::datetime!(2026-04-01 09:00 +9));
        let moved = admin
            .change_clock(&ClockChange {
                advance: Some("1mo2d".into()),
                set: None,
            })
            .await
            .expect("moves the clock");
        assert_eq!(moved.now, time::macros::datetime!(2026-05-03 09:00 +9));
        let refused = admin
            .change_clock(&ClockChange {
                advance: Some("soon".into()),
                set: None,
            })
            .await
            .expect_err("not a span");
        assert_eq!(refused.code(), ErrorCode::SpanInvalid);
        // Without the data directory's token, or with another, the endpoint answers nothing else.
        let anonymous = AdminClient::new(served.admin, &served.root(), clock.clone()).expect("client");
        let guessed = AdminClient::new(served.admin, &served.root(), clock.clone())
            .expect("client")
            .with_token(&"0".repeat(64));
        // The letterbox, which shows the passwords mailed to offices, asks for the token too.
        let letterbox = careplan_parties::api::PortalRequest::Mailbox {
            office: CARE_MANAGER.parse().expect("an office number"),
        };
        let portal = careplan_net::PortalClient::new(served.endpoints.portal, &served.root(), clock.clone())
            .expect("client");
        assert_eq!(
            portal.call(&letterbox).await.expect_err("no token").code(),
            ErrorCode::AdminTokenInvalid
        );
        // So does a revocation, which takes no login: no one revokes another office's certificates.
        let revocation = careplan_parties::api::PortalRequest::RevokeCertificates {
            office: CARE_MANAGER.parse().expect("an office number"),
        };
        assert_eq!(
            portal.call(&revocation).await.expect_err("no token").code(),
            ErrorCode::AdminTokenInvalid
        );
        // And the federation's paper procedures: no one issues an ID for an office, or resets another
        // office's password by post (which would lock it out until the letter came).
        let office = CARE_MANAGER.parse().expect("an office number");
        for paper in [
            careplan_parties::api::PortalRequest::IssueUserId {
                office: "1310000999".parse().expect("an office number"),
            },
            careplan_parties::api::PortalRequest::RequestResetByPost { office },
        ] {
            assert_eq!(
                portal.call(&paper).await.expect_err("no token").code(),
                ErrorCode::AdminTokenInvalid,
                "{paper:?}"
            );
        }
        let token = std::fs::read_to_string(dir.path().join("admin-token")).expect("token");
        assert!(portal.with_token(&token).call(&letterbox).await.is_ok());
        for stranger in [anonymous, guessed] {
            assert_eq!(
                stranger.clock().await.expect_err("refused").code(),
                ErrorCode::AdminTokenInvalid
            );
            let refused = stranger
                .change_clock(&ClockChange {
                    advance: Some("1d".into()),
                    set: None,
                })
                .await
                .expect_err("refused");
            assert_eq!(refused.code(), ErrorCode::AdminTokenInvalid);
        }
        // The relay stamps a send with the simulated time.
        let care_manager = served.office(CARE_MANAGER).await;
        let receipt = care_manager.send(&serving::send_unit(0)).await.expect("sends");
        assert_eq!(receipt.expires_at, time::macros::datetime!(2026-06-02 09:00 +9));
        served.stop();

        // Restarted without --start, the ecosystem resumes at its last setting; its clock stays simulated.
        let resumed = serve(dir.path(), &["--clock", "simulated"]);
        let admin = resumed.admin_client(clock.clone());
        assert_eq!(
            admin.clock().await.expect("reads").now,
            time::macros::datetime!(2026-05-03 09:00 +9)
        );
        let provider = resumed.office(PROVIDER).await;
        assert_eq!(provider.inbox().await.expect("inbox").len(), 1);
        resumed.stop();

        // On the system clock the admin endpoint only reads.
        let system = serve(dir.path(), &[]);
        let admin = system.admin_client(clock);
        assert!(!admin.clock().await.expect("reads").simulated);
        let refused = admin
            .change_clock(&ClockChange {
                advance: Some("1d".into()),
                set: None,
            })
            .await
            .expect_err("the system clock does not move");
        assert_eq!(refused.code(), ErrorCode::ClockNotSimulated);
        system.stop();
    });
}

#[test]
fn the_clock_refuses_every_extreme_and_the_data_directory_always_starts_again() {
    let dir = tempfile::tempdir().expect("temporary directory");
    runtime().block_on(async {
        let (served, admin, clock) = simulated_from_april_2026(dir.path());
        let set = |at: &str| ClockChange {
            advance: None,
            set: Some(
                time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                    .expect("an instant"),
            ),
        };
        for extreme in [
            "1969-12-31T23:59:59+09:00",
            "0000-01-01T00:00:00+00:00",
            "1999-12-31T23:59:59+09:00",
            "2100-01-01T00:00:00+09:00",
            "9999-12-31T23:59:59+00:00",
        ] {
            let refused = admin.change_clock(&set(extreme)).await.expect_err(extreme);
            assert_eq!(refused.code(), ErrorCode::ClockOutOfRange, "{extreme}");
        }
        let refused = admin
            .change_clock(&ClockChange {
                advance: Some("9000y".into()),
                set: None,
            })
            .await
            .expect_err("past the range");
        assert_eq!(refused.code(), ErrorCode::ClockOutOfRange);
        // Nothing moved, and every party still answers.
        assert_eq!(
            admin.clock().await.expect("reads").now,
            time::macros::datetime!(2026-04-01 09:00 +9)
        );
        let care_manager = served.office(CARE_MANAGER).await;
        care_manager.send(&serving::send_unit(0)).await.expect("sends");
        // The range's ends are valid settings, and the ecosystem starts again at either.
        for edge in ["2099-12-31T23:59:59+09:00", "2000-01-01T00:00:00+09:00"] {
            let moved = admin.change_clock(&set(edge)).await.expect(edge);
            assert_eq!(moved.now, set(edge).set.expect("an instant"));
        }
        served.stop();
        let resumed = serve(dir.path(), &["--clock", "simulated"]);
        let admin = resumed.admin_client(clock);
        assert_eq!(
            admin.clock().await.expect("reads").now,
            time::macros::datetime!(2000-01-01 00:00 +9)
        );
        // Back within the offices' certificates, the send is still there.
        admin
            .change_clock(&set("2026-04-02T09:00:00+09:00"))
            .await
            .expect("moves back");
        let provider = resumed.office(PROVIDER).await;
        assert_eq!(provider.inbox().await.expect("inbox").len(), 1);
        resumed.stop();
    });
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_careplan-sim"))
        .args([
            "serve",
            "--clock",
            "simulated",
            "--start",
            "2100-01-01T00:00:00+09:00",
            "--data-dir",
        ])
        .arg(tempfile::tempdir().expect("temporary directory").path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("outside the simulated clock's range"));
}

#[test]
#[cfg(unix)]
fn the_data_directory_s_secrets_are_its_owner_s_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    // Even a data directory made open beforehand is closed.
    std::fs::create_dir_all(&data).expect("made");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("opened");
    let served = serve(&data, &[]);
    served.stop();
    let mode = |path: &std::path::Path| std::fs::metadata(path).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("offices")), 0o700);
    assert_eq!(mode(&data.join("offices.json")), 0o600);
    assert_eq!(mode(&data.join("admin-token")), 0o600);
    assert_eq!(mode(&data.join("careplan.sqlite3")), 0o600);
    let keys: Vec<_> = std::fs::read_dir(data.join("offices"))
        .expect("listed")
        .map(|e| e.expect("entry").path())
        .collect();
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|key| mode(key) == 0o600), "{keys:?}");
}

#[test]
fn the_admin_endpoint_stays_on_loopback_when_the_parties_listen_everywhere() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let served = serve(dir.path(), &["--listen", "0.0.0.0:0"]);
    assert!(
        served.endpoints.relay.ip().is_unspecified(),
        "{}",
        served.endpoints.relay
    );
    assert!(served.admin.ip().is_loopback(), "{}", served.admin);
    served.stop();
}

#[test]
fn fresh_ecosystems_without_a_seed_have_passwords_no_one_can_work_out() {
    let password_of_first_office = |dir: &std::path::Path| {
        let served = serve(dir, &[]);
        served.stop();
        let roster: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("offices.json")).expect("roster")).expect("JSON");
        roster[0]["password"].as_str().expect("a password").to_owned()
    };
    let (a, b) = (
        tempfile::tempdir().expect("temporary directory"),
        tempfile::tempdir().expect("temporary directory"),
    );
    let first = password_of_first_office(a.path());
    assert_ne!(first, password_of_first_office(b.path()));
    assert!(!first.contains("1310000001"), "{first}");
    // A restart keeps the ecosystem's own.
    assert_eq!(password_of_first_office(a.path()), first);
}

#[test]
fn fresh_ecosystems_have_their_own_ca_and_a_certificate_minted_with_the_test_keys_is_refused() {
    let (a, b) = (
        tempfile::tempdir().expect("temporary directory"),
        tempfile::tempdir().expect("temporary directory"),
    );
    let served = serve(a.path(), &[]);
    let root = served.root();
    let pool_root = careplan_ca::CertificateAuthority::new()
        .expect("the pool CA")
        .root()
        .clone();
    assert_ne!(root, pool_root, "a fresh ecosystem signs with a key of its own");
    runtime().block_on(async {
        // The genuine office is served.
        let genuine = served.office(CARE_MANAGER).await;
        genuine.inbox().await.expect("the genuine office reads its inbox");
        // Its certificate minted with the committed CA key, and its real login details: the relay refuses
        // the handshake, so nothing is read or sent as the office.
        let mut pool_ca = careplan_ca::CertificateAuthority::new().expect("the pool CA");
        let forged = pool_ca
            .issue_office_certificate(
                time::OffsetDateTime::now_utc(),
                CARE_MANAGER.parse().expect("an office number"),
                careplan_ca::CertificateType::CareInsurance,
            )
            .expect("minted");
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let impostor = careplan_net::LinkageClient::new(served.endpoints, &root, clock).expect("client");
        impostor.install_certificate(&forged).expect("installed");
        impostor
            .login(&serving::roster_login(a.path(), CARE_MANAGER))
            .await
            .expect("the login itself needs no certificate");
        let refused = impostor
            .inbox()
            .await
            .expect_err("a forged certificate is refused");
        assert_eq!(refused.code(), ErrorCode::CertUntrusted, "{refused}");
        genuine.inbox().await.expect("the genuine office is still served");
    });
    served.stop();
    // Another fresh ecosystem has another CA; a restart keeps its own, and the offices' files still work.
    let other = serve(b.path(), &[]);
    assert_ne!(other.root(), root);
    other.stop();
    let restarted = serve(a.path(), &[]);
    assert_eq!(restarted.root(), root);
    runtime().block_on(async {
        restarted
            .office(PROVIDER)
            .await
            .inbox()
            .await
            .expect("served after a restart");
    });
    restarted.stop();
}

#[test]
fn a_database_of_another_ecosystem_is_refused_with_exit_status_2() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let served = serve(dir.path(), &["--seed", "3"]);
    served.stop();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_careplan-sim"))
        .args(["serve", "--listen", "127.0.0.1:0", "--seed", "4", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("seed 3, not 4"), "{stderr}");
}
