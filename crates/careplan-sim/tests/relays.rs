//! Relays scaled out: three `careplan-sim serve` processes, each in its own container on a private Docker
//! network (the image built locally from scratch, nothing pulled), sharing one PostgreSQL named by
//! `CAREPLAN_TEST_DATABASE_URL`, behind the linkage clients' list of relay addresses. Each relay reaches
//! the database through a proxy of its own on the host, so that one relay can be cut from the database
//! while the others are not. Bounded in time; the containers are removed when the check ends. Without the
//! variable the check is reported as skipped by name (this target has its own harness).

// Set-up helpers outside the checks expect too: a failing set-up is a failing test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod serving;

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use careplan_core::ErrorCode;
use careplan_net::{Endpoints, LinkageClient};
use careplan_store::postgres_checks::{self, Check, schema};
use careplan_testcontainers::{CareplanSim, RunningEcosystem};
use serving::{CARE_MANAGER, PROVIDER, check_after_restart, roster_client, runtime, send_unit};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// A TCP proxy on the host in front of the database: what a relay's network path to it is.
struct Proxy {
    port: u16,
    accepting: AbortHandle,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    /// A proxy to `database` listening on every host address at `port` (0: any free one).
    async fn start(port: u16, database: SocketAddr) -> Proxy {
        let listener = TcpListener::bind(("0.0.0.0", port))
            .await
            .expect("the proxy listens");
        let port = listener.local_addr().expect("bound").port();
        let connections = Arc::new(Mutex::new(Vec::new()));
        let opened = connections.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let forward = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(database).await {
                        // As the database's own clients do: Nagle's algorithm would hold each reply
                        // back for the peer's delayed ACK.
                        let _ = (inbound.set_nodelay(true), outbound.set_nodelay(true));
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                opened.lock().unwrap().push(forward.abort_handle());
            }
        })
        .abort_handle();
        Proxy {
            port,
            accepting,
            connections,
        }
    }

    /// Cuts the path: open connections are closed and new ones refused.
    fn cut(&self) {
        self.accepting.abort();
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

/// The database's `host:port` in `url` (`postgres://user:password@host[:port]/database`).
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

/// `url` with its host and port replaced: the database as a container reaches it through `proxy`.
fn through(url: &str, proxy: &Proxy) -> String {
    url.replacen(authority(url), &format!("host.docker.internal:{}", proxy.port), 1)
}

/// Sends from `clients` in parallel, each send unit until it is acknowledged, until `stop`: serials from
/// `next`; the acknowledged ones into `acknowledged`, every refusal's code into `refusals`.
fn stream(
    runtime: &tokio::runtime::Runtime,
    clients: &[LinkageClient],
    next: &Arc<AtomicU32>,
    stop: &Arc<AtomicBool>,
    acknowledged: &Arc<Mutex<Vec<u32>>>,
    refusals: &Arc<Mutex<BTreeMap<ErrorCode, u32>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    clients
        .iter()
        .cloned()
        .map(|client| {
            let (next, stop, acknowledged, refusals) =
                (next.clone(), stop.clone(), acknowledged.clone(), refusals.clone());
            runtime.spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    loop {
                        match client.send(&send_unit(n)).await {
                            Ok(_) => {
                                acknowledged.lock().unwrap().push(n);
                                break;
                            }
                            Err(e) => {
                                *refusals.lock().unwrap().entry(e.code()).or_default() += 1;
                                if stop.load(Ordering::SeqCst) {
                                    return;
                                }
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                        }
                    }
                }
            })
        })
        .collect()
}

/// Prints the throughput of `sent` send units over `n` relays: a figure for the README, not a bound,
/// since nothing is asserted of it (two cores show no scaling).
#[allow(clippy::print_stdout, clippy::cast_precision_loss)]
fn report_throughput(n: usize, sent: usize, took: Duration) {
    println!(
        "relays in containers: {n} relay(s), 6 senders: {:.0} send units/s",
        sent as f64 / took.as_secs_f64()
    );
}

/// Waits (on this thread, outside the runtime) until `acknowledged` holds `count` send units.
fn wait_for(acknowledged: &Mutex<Vec<u32>>, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while acknowledged.lock().unwrap().len() < count {
        assert!(
            Instant::now() < deadline,
            "{count} send units were not acknowledged in time"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn three_relays_keep_every_send_unit_through_a_stop_and_a_cut(url: &str) {
    let url = url.to_owned();
    let schema = schema("relays");
    let network = format!("careplan-relays-{}", std::process::id());
    serving::bounded(Duration::from_secs(300), remove_relays, move || {
        let runtime = runtime();
        let database = authority(&url)
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .or_else(|| format!("{}:5432", authority(&url)).to_socket_addrs().ok()?.next())
            .expect("the database's address");
        let proxies: Vec<Proxy> = (0..3)
            .map(|_| runtime.block_on(Proxy::start(0, database)))
            .collect();
        // One after another: the first writes the ecosystem's genesis, the others read it.
        let relays: Vec<RunningEcosystem> = proxies
            .iter()
            .map(|proxy| {
                CareplanSim::from_binary(env!("CARGO_BIN_EXE_careplan-sim"))
                    .with_seed(11)
                    .with_database(through(&url, proxy), &schema)
                    .on_network(&network)
                    .start()
                    .expect("a relay starts in its container")
            })
            .collect();
        let addresses: Vec<SocketAddr> = relays.iter().map(RunningEcosystem::relay).collect();
        let dir = relays[0].data_dir().to_owned();
        // Offices log in at the web parties of the relay that stays up.
        let endpoints = Endpoints {
            relay: addresses[2],
            portal: relays[2].portal(),
            usage_site: relays[2].usage_site(),
        };
        let client = |relays: Vec<SocketAddr>| {
            runtime
                .block_on(roster_client(&dir, endpoints, CARE_MANAGER))
                .with_relays(relays)
        };
        let next = Arc::new(AtomicU32::new(0));
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let refusals = Arc::new(Mutex::new(BTreeMap::new()));

        // Throughput with 1, 2 and 3 relays: six senders spread over the first `n` relays.
        for n in 1..=3 {
            let clients: Vec<LinkageClient> = (0..6).map(|k| client(vec![addresses[k % n]])).collect();
            let stop = Arc::new(AtomicBool::new(false));
            let before = acknowledged.lock().unwrap().len();
            let started = Instant::now();
            let senders = stream(&runtime, &clients, &next, &stop, &acknowledged, &refusals);
            wait_for(&acknowledged, before + 120);
            stop.store(true, Ordering::SeqCst);
            for sender in senders {
                runtime.block_on(sender).expect("a sender ends");
            }
            let sent = acknowledged.lock().unwrap().len() - before;
            report_throughput(n, sent, started.elapsed());
        }
        assert!(
            refusals.lock().unwrap().is_empty(),
            "{:?}",
            refusals.lock().unwrap()
        );

        // A day's sends through the three, each sender starting at a different relay; one relay stops,
        // another is cut from the database.
        let clients: Vec<LinkageClient> = (0..6)
            .map(|k| client((0..3).map(|i| addresses[(k + i) % 3]).collect()))
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let before = acknowledged.lock().unwrap().len();
        let senders = stream(&runtime, &clients, &next, &stop, &acknowledged, &refusals);
        wait_for(&acknowledged, before + 40);
        relays[0]
            .stop(Duration::from_secs(2))
            .expect("the first relay stops");
        wait_for(&acknowledged, before + 80);
        proxies[1].cut();
        // A client that knows only the cut relay hears a coded refusal; one that knows only the stopped
        // relay hears that it cannot be reached.
        let pinned = |at: usize| {
            let n = next.fetch_add(1, Ordering::SeqCst);
            runtime
                .block_on(client(vec![addresses[at]]).send(&send_unit(n)))
                .expect_err("refused")
                .code()
        };
        assert_eq!(pinned(1), ErrorCode::StoreUnavailable);
        assert_eq!(pinned(1), ErrorCode::StoreUnavailable);
        assert_eq!(pinned(0), ErrorCode::RelayUnreachable);
        wait_for(&acknowledged, before + 160);
        stop.store(true, Ordering::SeqCst);
        for sender in senders {
            runtime.block_on(sender).expect("a sender ends");
        }
        // Every sender moved to the relay that is left, and saw no refusal: the list absorbed both faults.
        for client in &clients {
            assert_eq!(client.relay(), addresses[2], "{client:?}");
        }
        assert!(
            refusals.lock().unwrap().is_empty(),
            "{:?}",
            refusals.lock().unwrap()
        );

        // The path heals: the cut relay connects to the database again and serves. A connection that died
        // during the cut unnoticed (the journal's, idle meanwhile) refuses the first request that meets it,
        // coded; the next connects again.
        let healed = runtime.block_on(Proxy::start(proxies[1].port, database));
        let n = next.fetch_add(1, Ordering::SeqCst);
        let healed_client = client(vec![addresses[1]]);
        let mut attempts = 0;
        loop {
            attempts += 1;
            match runtime.block_on(healed_client.send(&send_unit(n))) {
                Ok(_) => break,
                Err(e) => {
                    assert_eq!(e.code(), ErrorCode::StoreUnavailable, "{e}");
                    assert!(attempts < 3, "the healed relay still refuses: {e}");
                }
            }
        }
        acknowledged.lock().unwrap().push(n);
        healed.cut();

        // Every acknowledged send unit reaches the provider exactly once, whole.
        let mut acknowledged = acknowledged.lock().unwrap().clone();
        acknowledged.sort_unstable();
        let attempted = next.load(Ordering::SeqCst);
        runtime.block_on(async {
            let provider = roster_client(&dir, endpoints, PROVIDER)
                .await
                .with_relays([addresses[2]]);
            check_after_restart(&provider, &acknowledged, attempted).await;
        });
    });
}

/// Removes the relays' containers (past the time limit).
fn remove_relays() {
    let (name, tag) = careplan_testcontainers::IMAGE;
    serving::remove_containers_of(name, tag);
}

fn main() -> ExitCode {
    let checks: [Check; 1] = [(
        "three_relays_keep_every_send_unit_through_a_stop_and_a_cut",
        three_relays_keep_every_send_unit_through_a_stop_and_a_cut,
    )];
    postgres_checks::run("relays in containers", &checks)
}
