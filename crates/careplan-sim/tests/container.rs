//! The whole ecosystem in a container through the testcontainers module, as a vendor's test starts it:
//! an image built locally from scratch with the `careplan-sim` binary, `serve` inside, the roster's
//! offices sending through the mapped relay port with their PKCS#12 files. Bounded in time; the
//! container is removed when the test ends.

// Helpers outside #[test] functions unwrap too: a failing set-up is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::mpsc;
use std::time::Duration;

use careplan_net::Endpoints;
use careplan_testcontainers::CareplanSim;

mod serving;

use serving::{CARE_MANAGER, PROVIDER, roster_client, send_unit};

#[test]
fn a_vendor_test_starts_the_ecosystem_in_a_container_and_sends_through_it() {
    let (done, finished) = mpsc::channel();
    let test = std::thread::spawn(move || {
        let ecosystem = CareplanSim::from_binary(env!("CARGO_BIN_EXE_careplan-sim"))
            .with_seed(7)
            .with_offices(2)
            .start()
            .expect("the ecosystem starts in its container");
        assert!(
            ecosystem
                .ca_pem()
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        let roster = ecosystem.roster().unwrap();
        assert_eq!(roster.as_array().map(Vec::len), Some(2), "{roster}");
        let endpoints = Endpoints {
            relay: ecosystem.relay(),
            portal: ecosystem.portal(),
            usage_site: ecosystem.usage_site(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let inbox = runtime.block_on(async {
            let sender = roster_client(ecosystem.data_dir(), endpoints, CARE_MANAGER).await;
            let receipt = sender
                .send(&send_unit(0))
                .await
                .expect("the relay in the container accepts");
            assert_eq!(receipt.files.len(), 3);
            let receiver = roster_client(ecosystem.data_dir(), endpoints, PROVIDER).await;
            receiver.inbox().await.expect("the inbox lists")
        });
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].serial.to_string(), serving::serial(0));
        done.send(()).unwrap();
    });
    // The container goes with the test's thread when it ends; past the time limit it is removed here.
    match finished.recv_timeout(Duration::from_secs(240)) {
        Ok(()) => test.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => match test.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the test thread reports before it ends"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            remove_containers_of_the_image();
            panic!("the container test did not finish within 4 minutes");
        }
    }
}

/// Removes every container of `careplan-sim:local` (a test stopped at its time limit never drops its own).
fn remove_containers_of_the_image() {
    let (name, tag) = careplan_testcontainers::IMAGE;
    let listed = std::process::Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("ancestor={name}:{tag}")])
        .output();
    if let Ok(listed) = listed {
        let ids = String::from_utf8_lossy(&listed.stdout);
        for id in ids.split_whitespace() {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f", id])
                .status();
        }
    }
}
