//! End to end over loopback TLS: 64 concurrent clients sending send units to the relay server (mutual
//! TLS, a fresh handshake per request as the linkage client makes, licences checked, in-memory store),
//! beside the floor of a bare hyper + rustls server with the same TLS configuration that reads the same
//! bytes and answers a fixed receipt. Send units per second from criterion; p99 latency printed at the
//! end. Target: the relay keeps at least 70% of the floor's throughput.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use careplan_ca::{CertificateAuthority, CertificateType};
use careplan_core::{Clock, SimulatedClock};
use careplan_eseikyu::PortalConfig;
use careplan_license::{LicenceConfig, PaymentMethod, UsageApplication};
use careplan_net::{
    Endpoints, LinkageClient, PartyServer, RelayServer, relay_server_config, serve_portal, serve_usage_site,
};
use careplan_parties::{OfficeSetup, Parties, PartyState};
use careplan_relay::{MemoryStore, Relay, RelayConfig, Store, Upload};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const CLIENTS: u64 = 64;
const START: OffsetDateTime = datetime!(2025-05-01 09:00 +9);

/// Send unit `n`: UPPLAN + UPSIKYU + UPHOSOKU of 8 KiB each, serials one second apart.
fn unit(n: usize) -> Vec<Upload> {
    let at = START + time::Duration::seconds(i64::try_from(n).unwrap());
    let serial = careplan_spec::Serial::new(time::PrimitiveDateTime::new(at.date(), at.time())).to_string();
    ["UPPLAN", "UPSIKYU", "UPHOSOKU"]
        .iter()
        .map(|part| {
            Upload::new(
                format!("{part}_202505_1310000001_43_1310000101_11_{serial}.CSV"),
                vec![b'x'; 8 * 1024],
            )
        })
        .collect()
}

struct World {
    client: LinkageClient,
    floor_client: LinkageClient,
    _servers: (RelayServer, PartyServer, PartyServer),
}

async fn world() -> World {
    let clock = Arc::new(SimulatedClock::new(START));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let ca = CertificateAuthority::new().unwrap();
    let root = ca.root().clone();
    let relay_certificate = ca.issue_relay_certificate().unwrap();
    let portal_certificate = ca.issue_portal_certificate().unwrap();
    let site_certificate = ca.issue_usage_site_certificate().unwrap();
    let mut state = PartyState::new(PortalConfig::default(), LicenceConfig::default(), ca, 1);
    let mut known = Vec::new();
    for number in ["1310000001", "1310000101"] {
        let number = number.parse().unwrap();
        let setup = OfficeSetup {
            number,
            account: Some("Bench12345".into()),
            licence: Some((
                START,
                UsageApplication::typical("bench", number, PaymentMethod::Deduction),
            )),
            certificate: Some(CertificateType::CareInsurance),
        };
        known.push(state.provision(START, &setup).unwrap());
    }
    let parties = Arc::new(Parties::new(state));
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let portal = serve_portal(any, parties.clone(), dyn_clock.clone(), &portal_certificate)
        .await
        .unwrap();
    let site = serve_usage_site(any, parties.clone(), dyn_clock.clone(), &site_certificate)
        .await
        .unwrap();
    let relay_state = Arc::new(Mutex::new(Relay::new(
        Box::new(MemoryStore::new()) as Box<dyn Store>,
        RelayConfig::default(),
    )));
    let tls = relay_server_config(&root, &relay_certificate, dyn_clock.clone(), None).unwrap();
    let relay = RelayServer::start(
        any,
        relay_state,
        parties,
        dyn_clock.clone(),
        root.clone(),
        relay_certificate,
        None,
    )
    .await
    .unwrap();
    let endpoints = Endpoints {
        relay: relay.local_addr(),
        portal: portal.local_addr(),
        usage_site: site.local_addr(),
    };
    let client = LinkageClient::new(endpoints, &root, dyn_clock.clone()).unwrap();
    client
        .install_certificate(known[0].certificate.as_ref().unwrap())
        .unwrap();
    client.login(&known[0].login_details().unwrap()).await.unwrap();
    // The floor answers every send with the receipt of a real one.
    let receipt = client.send(&unit(10_000_000)).await.unwrap();
    let answer = Bytes::from(serde_json::to_vec(&receipt).unwrap());
    let floor = floor_server(tls, answer).await;
    let floor_client = LinkageClient::new(
        Endpoints {
            relay: floor,
            ..endpoints
        },
        &root,
        dyn_clock,
    )
    .unwrap();
    floor_client
        .install_certificate(known[0].certificate.as_ref().unwrap())
        .unwrap();
    floor_client
        .login(&known[0].login_details().unwrap())
        .await
        .unwrap();
    World {
        client,
        floor_client,
        _servers: (relay, portal, site),
    }
}

/// A bare hyper + rustls server: the handshake, the request read in full, a fixed answer.
async fn floor_server(tls: rustls::ServerConfig, answer: Bytes) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, answer) = (acceptor.clone(), answer.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = service_fn(move |request: Request<Incoming>| {
                    let answer = answer.clone();
                    async move {
                        black_box(request.into_body().collect().await?.to_bytes());
                        Ok::<_, hyper::Error>(Response::new(Full::new(answer)))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    addr
}

/// `iters` sends spread over [`CLIENTS`] concurrent tasks; the wall time, each latency into `latencies`.
async fn run(
    client: &LinkageClient,
    next: &Arc<AtomicUsize>,
    iters: u64,
    latencies: &Arc<Mutex<Vec<Duration>>>,
) -> Duration {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..CLIENTS {
        let share = iters / CLIENTS + u64::from(task < iters % CLIENTS);
        let (client, next, latencies) = (client.clone(), next.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..share {
                let uploads = unit(next.fetch_add(1, Ordering::Relaxed));
                let sent = Instant::now();
                client.send(&uploads).await.unwrap();
                latencies.lock().unwrap().push(sent.elapsed());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed()
}

fn p99(latencies: &Mutex<Vec<Duration>>) -> Duration {
    let mut all = latencies.lock().unwrap().clone();
    all.sort_unstable();
    all.get(all.len() * 99 / 100).copied().unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let world = runtime.block_on(world());
    let next = Arc::new(AtomicUsize::new(0));
    let relay_latencies = Arc::new(Mutex::new(Vec::new()));
    let floor_latencies = Arc::new(Mutex::new(Vec::new()));
    let mut group = c.benchmark_group("relay-wire");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.bench_function("relay (64 clients, mutual TLS)", |b| {
        b.iter_custom(|iters| runtime.block_on(run(&world.client, &next, iters, &relay_latencies)))
    });
    group.bench_function("floor (bare hyper + rustls)", |b| {
        b.iter_custom(|iters| runtime.block_on(run(&world.floor_client, &next, iters, &floor_latencies)))
    });
    group.finish();
    eprintln!(
        "relay-wire p99 latency: relay {:?}, floor {:?}",
        p99(&relay_latencies),
        p99(&floor_latencies)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
