//! Helpers for tests of `careplan-sim serve` as a process: start it, wait until it listens, connect
//! office clients from the roster it writes, stream sends, kill it.

// Each test target uses part of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use careplan_core::{Clock, ErrorCode, SystemClock};
use careplan_net::{Endpoints, LinkageClient};
use careplan_parties::LoginDetails;
use careplan_relay::{SendUnitRecord, Upload};
use rustls::pki_types::CertificateDer;

/// The care-management office of the default roster.
pub(crate) const CARE_MANAGER: &str = "1310000001";
/// Its first provider.
pub(crate) const PROVIDER: &str = "1310000101";

/// A running `serve` process.
pub(crate) struct Served {
    child: Child,
    pub(crate) dir: PathBuf,
    pub(crate) endpoints: Endpoints,
    pub(crate) admin: std::net::SocketAddr,
}

/// Starts `serve` on `dir` with free loopback ports (unless `extra` has a `--listen`) and `extra`
/// arguments; waits until it has written its addresses.
pub(crate) fn serve(dir: &Path, extra: &[&str]) -> Served {
    let endpoints_file = dir.join("endpoints.json");
    let _ = std::fs::remove_file(&endpoints_file);
    let listen: &[&str] = if extra.contains(&"--listen") {
        &[]
    } else {
        &["--listen", "127.0.0.1:0"]
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_careplan-sim"))
        .arg("serve")
        .args(listen)
        .arg("--data-dir")
        .arg(dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("serve starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let text = loop {
        if let Ok(text) = std::fs::read_to_string(&endpoints_file)
            && text.ends_with('}')
        {
            break text;
        }
        if let Some(status) = child.try_wait().expect("serve can be waited for") {
            panic!("serve exited early with {status}");
        }
        assert!(Instant::now() < deadline, "serve did not start within a minute");
        std::thread::sleep(Duration::from_millis(50));
    };
    let addresses: serde_json::Value = serde_json::from_str(&text).expect("endpoints.json is JSON");
    let address = |key: &str| {
        addresses[key]
            .as_str()
            .and_then(|a| a.parse().ok())
            .expect("an address")
    };
    Served {
        child,
        dir: dir.to_owned(),
        endpoints: Endpoints {
            relay: address("relay"),
            portal: address("portal"),
            usage_site: address("usage_site"),
        },
        admin: address("admin"),
    }
}

impl Served {
    /// A client of the admin endpoint presenting the token of the data directory.
    pub(crate) fn admin_client(
        &self,
        clock: std::sync::Arc<dyn careplan_core::Clock>,
    ) -> careplan_net::AdminClient {
        let token = std::fs::read_to_string(self.dir.join("admin-token")).expect("the admin token");
        careplan_net::AdminClient::new(self.admin, &self.root(), clock)
            .expect("client")
            .with_token(&token)
    }

    /// The CA root from `ca.pem`.
    pub(crate) fn root(&self) -> CertificateDer<'static> {
        root_of(&self.dir)
    }

    /// A linkage client of roster office `number`: its PKCS#12 file installed, logged in.
    pub(crate) async fn office(&self, number: &str) -> LinkageClient {
        roster_client(&self.dir, self.endpoints, number).await
    }

    /// Kills the process at once (SIGKILL): no shutdown, no flush.
    pub(crate) fn kill(mut self) {
        self.child.kill().expect("kill");
        let _ = self.child.wait();
    }

    /// Asks the process to stop (SIGTERM) and waits for a clean exit.
    pub(crate) fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let exit = self.child.wait().expect("serve exits");
        assert!(exit.success(), "serve stopped with {exit}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The CA root from `ca.pem` in a data directory of `serve`.
pub(crate) fn root_of(dir: &Path) -> CertificateDer<'static> {
    let text = std::fs::read(dir.join("ca.pem")).expect("ca.pem");
    CertificateDer::from(pem::parse(text).expect("PEM").into_contents())
}

/// A linkage client of roster office `number` of the data directory `dir`, reaching `endpoints`: its
/// PKCS#12 file installed, logged in.
pub(crate) async fn roster_client(dir: &Path, endpoints: Endpoints, number: &str) -> LinkageClient {
    let office = roster_entry(dir, number);
    let text = |key: &str| office[key].as_str().expect("a text field").to_owned();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let client = LinkageClient::new(endpoints, &root_of(dir), clock).expect("client");
    let p12 = std::fs::read(dir.join(text("certificate"))).expect("PKCS#12 file");
    client
        .install_pkcs12(&p12, &text("certificate_password"))
        .expect("the PKCS#12 file opens");
    client.login(&roster_login(dir, number)).await.expect("logs in");
    client
}

/// Roster office `number`'s entry in `offices.json`.
fn roster_entry(dir: &Path, number: &str) -> serde_json::Value {
    let roster: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("offices.json")).expect("offices.json"))
            .expect("JSON");
    roster
        .as_array()
        .and_then(|offices| offices.iter().find(|o| o["number"] == number))
        .expect("the office is on the roster")
        .clone()
}

/// Roster office `number`'s login details.
pub(crate) fn roster_login(dir: &Path, number: &str) -> LoginDetails {
    let office = roster_entry(dir, number);
    let text = |key: &str| office[key].as_str().expect("a text field").to_owned();
    LoginDetails {
        personal_user_id: text("personal_user_id"),
        personal_password: text("personal_password"),
        user_id: text("user_id"),
        password: text("password"),
    }
}

/// The send unit of serial number `n`: a plan from the care manager to the provider; each file's bytes
/// name the serial and the file, so a mixed-up or truncated file shows.
pub(crate) fn send_unit(n: u32) -> Vec<Upload> {
    let serial = serial(n);
    ["UPPLAN", "UPSIKYU", "UPHOSOKU"]
        .iter()
        .map(|part| {
            let mut content = format!("{part} {serial}\r\n").into_bytes();
            content.resize(4096 + (n as usize % 7) * 100, b'.');
            Upload::new(
                format!("{part}_202605_{CARE_MANAGER}_43_{PROVIDER}_11_{serial}.CSV"),
                content,
            )
        })
        .collect()
}

/// The 14-digit serial of send unit `n`: one second apart from 2026-04-01 09:00:00.
pub(crate) fn serial(n: u32) -> String {
    let at = time::macros::datetime!(2026-04-01 09:00:00) + time::Duration::seconds(i64::from(n));
    careplan_spec::Serial::new(time::PrimitiveDateTime::new(at.date(), at.time())).to_string()
}

/// Sends send units `0..` from `clients` in parallel until the process dies, after `kill_after` of them
/// are acknowledged; gives the serials acknowledged and the number attempted.
pub(crate) async fn stream_until_killed(
    clients: Vec<LinkageClient>,
    served: Served,
    kill_after: usize,
) -> (Vec<u32>, u32) {
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut senders = Vec::new();
    for client in clients {
        let (acknowledged, next) = (acknowledged.clone(), next.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                match client.send(&send_unit(n)).await {
                    Ok(receipt) => {
                        assert_eq!(receipt.files.len(), 3);
                        acknowledged.lock().expect("lock").push(n);
                    }
                    Err(e) => {
                        assert_eq!(e.code(), ErrorCode::RelayUnreachable, "{e}");
                        return;
                    }
                }
            }
        }));
    }
    while acknowledged.lock().expect("lock").len() < kill_after {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    served.kill();
    for sender in senders {
        sender.await.expect("a sender ends when the relay dies");
    }
    let attempted = next.load(std::sync::atomic::Ordering::SeqCst);
    let mut acknowledged = acknowledged.lock().expect("lock").clone();
    acknowledged.sort_unstable();
    (acknowledged, attempted)
}

/// After a restart: every acknowledged send unit is in the provider's inbox exactly once; every send
/// unit there is one that was attempted, whole, its files byte for byte as sent.
pub(crate) async fn check_after_restart(provider: &LinkageClient, acknowledged: &[u32], attempted: u32) {
    let inbox: Vec<SendUnitRecord> = provider.inbox().await.expect("the inbox lists");
    let mut listed: Vec<String> = inbox.iter().map(|b| b.serial.to_string()).collect();
    let before = listed.len();
    listed.sort();
    listed.dedup();
    assert_eq!(listed.len(), before, "a send unit is listed twice");
    for n in acknowledged {
        assert!(
            listed.contains(&serial(*n)),
            "acknowledged send unit {n} ({}) is missing after the crash",
            serial(*n)
        );
    }
    let sent: Vec<String> = (0..attempted).map(serial).collect();
    for listed in &inbox {
        let serial = listed.serial.to_string();
        let n = sent
            .iter()
            .position(|s| *s == serial)
            .expect("every listed send unit was sent");
        let expected = send_unit(u32::try_from(n).expect("small"));
        assert_eq!(
            listed.files.len(),
            expected.len(),
            "send unit {serial} is incomplete"
        );
        for (file, upload) in listed.files.iter().zip(&expected) {
            assert_eq!(*file.name, *upload.name);
            let bytes = provider.download(file.id).await.expect("downloads");
            assert_eq!(
                bytes, upload.content,
                "file {} differs from what was sent",
                file.name
            );
        }
    }
    assert!(inbox.len() >= acknowledged.len());
}

/// A runtime for a test.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs `test` on a thread of its own, bounded to `limit`: the containers go with the test when it ends;
/// past the limit `remove` removes them, and the test fails.
pub(crate) fn bounded(limit: Duration, remove: fn(), test: impl FnOnce() + Send + 'static) {
    let (done, finished) = std::sync::mpsc::channel();
    let runner = std::thread::spawn(move || {
        test();
        let _ = done.send(());
    });
    match finished.recv_timeout(limit) {
        Ok(()) => runner.join().expect("the test thread ends"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match runner.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the test thread reports before it ends"),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            remove();
            panic!("the container test did not finish within {limit:?}");
        }
    }
}

/// Removes every container of the image `name:tag`.
pub(crate) fn remove_containers_of(name: &str, tag: &str) {
    let listed = Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("ancestor={name}:{tag}")])
        .output();
    if let Ok(listed) = listed {
        let ids = String::from_utf8_lossy(&listed.stdout);
        for id in ids.split_whitespace() {
            let _ = Command::new("docker").args(["rm", "-f", id]).status();
        }
    }
}
