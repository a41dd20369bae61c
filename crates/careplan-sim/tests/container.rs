//! The whole ecosystem in a container through the testcontainers module, as a vendor's test starts it:
//! an image built locally from scratch with the `careplan-sim` binary, `serve` inside, the roster's
//! offices sending through the mapped relay port with their PKCS#12 files. Bounded in time; the
//! container is removed when the test ends.

// Helpers outside #[test] functions unwrap too: a failing set-up is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use careplan_net::Endpoints;
use careplan_testcontainers::CareplanSim;

mod serving;

use serving::{CARE_MANAGER, PROVIDER, roster_client, send_unit};

#[test]
fn a_vendor_test_starts_the_ecosystem_in_a_container_and_sends_through_it() {
    serving::bounded(Duration::from_secs(240), remove_containers_of_the_image, || {
        let ecosystem = CareplanSim::from_binary(env!("CARGO_BIN_EXE_careplan-sim"))
            .with_seed(7)
            .with_offices(2)
            .with_simulated_clock("2026-04-01T09:00:00+09:00")
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
            // The admin endpoint is reached through its mapped port, with the data directory's token.
            let clock: std::sync::Arc<dyn careplan_core::Clock> =
                std::sync::Arc::new(careplan_core::SystemClock);
            let admin = careplan_net::AdminClient::new(
                ecosystem.admin(),
                &serving::root_of(ecosystem.data_dir()),
                clock,
            )
            .unwrap()
            .with_token(&ecosystem.admin_token().unwrap());
            let reading = admin.clock().await.expect("the admin endpoint answers");
            assert!(reading.simulated);
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
    });
}

/// The reference adapter's image, for the container adapter.
const ADAPTER_IMAGE: (&str, &str) = ("careplan-reference-adapter", "local");

#[test]
fn a_product_shipped_as_an_image_takes_an_office_s_place_through_a_container_adapter() {
    serving::bounded(Duration::from_secs(240), remove_containers_of_the_image, || {
        let _product = careplan_testcontainers::build_from_binary(
            std::path::Path::new(env!("CARGO_BIN_EXE_careplan-reference-adapter")),
            "/careplan-reference-adapter",
            ADAPTER_IMAGE,
            false,
        )
        .expect("the product's image builds");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("container-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let shipped = std::fs::read_to_string(root.join("adapters/reference/adapter.toml")).unwrap();
        let in_container = shipped.replace(
            "{bin_dir}/careplan-reference-adapter",
            "/careplan-reference-adapter",
        ) + &format!(
            "\n[container]\nimage = \"{}:{}\"\n",
            ADAPTER_IMAGE.0, ADAPTER_IMAGE.1
        );
        std::fs::write(dir.join("adapter.toml"), in_container).unwrap();
        let scenario =
            std::fs::read_to_string(root.join("scenarios/vendors/provider-adapter-round-trip.toml"))
                .unwrap()
                .replace("../../adapters/reference/adapter.toml", "adapter.toml");
        std::fs::write(dir.join("round-trip.toml"), scenario).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_careplan-sim"))
            .args(["run", dir.join("round-trip.toml").to_str().unwrap()])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("import helper: 3 file(s), 41 record(s), 3 user(s) imported"),
            "{stdout}"
        );
        assert!(
            stdout.contains("import cm: 1 file(s), 28 record(s), 3 user(s) imported"),
            "{stdout}"
        );
    });
}

/// Removes every container of the test images (a test stopped at its time limit never drops its own).
fn remove_containers_of_the_image() {
    for (name, tag) in [careplan_testcontainers::IMAGE, ADAPTER_IMAGE] {
        serving::remove_containers_of(name, tag);
    }
}

#[test]
fn a_product_image_missing_from_this_machine_is_never_pulled() {
    use careplan_office::{Call, Runner};
    let runner = careplan_testcontainers::ContainerRunner::new("careplan-no-such-product:never");
    let work = tempfile::tempdir().unwrap();
    let refused = runner
        .run(&Call {
            argv: &["/product".to_owned()],
            folder: work.path(),
            work: work.path(),
            timeout: Duration::from_secs(5),
        })
        .unwrap_err();
    assert!(refused.contains("is not on this machine"), "{refused}");
}
