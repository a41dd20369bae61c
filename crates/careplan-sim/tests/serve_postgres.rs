//! `careplan-sim serve` on PostgreSQL, named by `CAREPLAN_TEST_DATABASE_URL` (`.ci/run` installs and starts
//! one): an acknowledged send survives SIGKILL exactly once, and two `serve` processes on one database
//! share one ecosystem. Without the variable every check is reported as skipped by name: this target has
//! its own harness so that the report is always printed.

// Set-up helpers outside the checks expect too: a failing set-up is a failing test.
#![allow(clippy::expect_used)]

mod serving;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use careplan_core::{ErrorCode, OfficeNumber};
use careplan_net::PortalClient;
use careplan_parties::api::{PortalRequest, PortalResponse};
use careplan_relay::SendUnitStatus;
use careplan_store::postgres_checks::{self, Check, schema};
use serving::{CARE_MANAGER, PROVIDER, check_after_restart, runtime, serve, stream_until_killed};

fn database_args<'a>(url: &'a str, schema: &'a str) -> [&'a str; 4] {
    ["--database-url", url, "--database-schema", schema]
}

fn a_killed_relay_keeps_every_acknowledged_send_unit_exactly_once(url: &str) {
    let schema = schema("crash");
    let dir = tempfile::tempdir().expect("temporary directory");
    runtime().block_on(async {
        let served = serve(dir.path(), &database_args(url, &schema));
        let mut clients = Vec::new();
        for _ in 0..4 {
            clients.push(served.office(CARE_MANAGER).await);
        }
        let (acknowledged, attempted) = stream_until_killed(clients, served, 40).await;
        let restarted = serve(dir.path(), &database_args(url, &schema));
        let provider = restarted.office(PROVIDER).await;
        check_after_restart(&provider, &acknowledged, attempted).await;
        restarted.stop();
    });
}

fn two_processes_share_one_ecosystem(url: &str) {
    let schema = schema("shared");
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("temporary directory"),
        tempfile::tempdir().expect("temporary directory"),
    );
    runtime().block_on(async {
        let a = serve(dir_a.path(), &database_args(url, &schema));
        let b = serve(dir_b.path(), &database_args(url, &schema));
        // Both rebuilt one genesis: the same CA, the same roster logins.
        assert_eq!(a.root(), b.root());
        let care_manager = a.office(CARE_MANAGER).await;
        let provider = b.office(PROVIDER).await;

        let receipt = care_manager
            .send(&serving::send_unit(0))
            .await
            .expect("sends through A");
        let inbox = provider.inbox().await.expect("lists through B");
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].id, receipt.send_unit);
        for file in inbox[0].files.iter() {
            provider.download(file.id).await.expect("downloads through B");
        }
        let sent = care_manager.sent().await.expect("the sent list through A");
        assert_eq!(sent[0].status, SendUnitStatus::Downloaded);

        // A revocation filed at A's portal (with A's admin token) reaches B's relay, which refuses the
        // certificate from then on.
        let token = std::fs::read_to_string(a.dir.join("admin-token")).expect("A's admin token");
        let portal = PortalClient::new(
            a.endpoints.portal,
            &a.root(),
            std::sync::Arc::new(careplan_core::SystemClock),
        )
        .expect("portal client")
        .with_token(&token);
        let office: OfficeNumber = CARE_MANAGER.parse().expect("number");
        let revoked = portal
            .call(&PortalRequest::RevokeCertificates { office })
            .await
            .expect("revokes");
        assert!(matches!(revoked, PortalResponse::Revoked { .. }));
        let through_b = b.office(CARE_MANAGER).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match through_b.inbox().await {
                Err(e) if e.code() == ErrorCode::CertRevoked => break,
                outcome => assert!(
                    Instant::now() < deadline,
                    "B's relay still accepts the revoked certificate: {outcome:?}"
                ),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        a.stop();
        b.stop();
    });
}

fn main() -> ExitCode {
    let checks: [Check; 2] = [
        (
            "postgres_serve_keeps_every_acknowledged_send_unit_after_sigkill",
            a_killed_relay_keeps_every_acknowledged_send_unit_exactly_once,
        ),
        (
            "postgres_two_serve_processes_share_one_ecosystem",
            two_processes_share_one_ecosystem,
        ),
    ];
    postgres_checks::run("postgres serve", &checks)
}
