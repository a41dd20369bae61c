//! End to end over loopback TLS: 64 concurrent clients sending send units to the relay server (mutual
//! TLS, a fresh handshake per request as the linkage client makes, licences checked, in-memory store),
//! beside the floor of a bare hyper + rustls server with the same TLS configuration that reads the same
//! bytes and answers a fixed receipt. Send units per second from criterion; p99 latency printed at the
//! end. Then one client alone, for the latency of a single send (p50 and p99 printed beside the floor's),
//! once more while 1,000 idle sockets flood the relay, and once more for 60 s while 500 hostile clients hold
//! the relay with slow and oversized requests (p50/p99 of the well-behaved client printed). Target: the relay keeps at least 70%
//! of the floor's throughput; under the hostile load the well-behaved client's p99 stays under 100 ms.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use careplan_ecosystem::{Ecosystem, EcosystemBuilder, OfficeDescription};
use careplan_net::{Endpoints, LinkageClient, relay_server_config};
use careplan_office::{OfficeProfile, OfficeRole};
use careplan_relay::Upload;
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
    ecosystem: Ecosystem,
}

async fn world() -> World {
    let office = |number: &str, kind: &str, role| {
        let profile = OfficeProfile {
            number: number.parse().unwrap(),
            kind: kind.parse().unwrap(),
            role,
            name: "bench".to_owned(),
        };
        OfficeDescription::ready(profile, "Bench12345", START)
    };
    let ecosystem = EcosystemBuilder::new(1, START)
        .office(office("1310000001", "43", OfficeRole::CareManagement))
        .office(office("1310000101", "11", OfficeRole::Service))
        .prepare()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = ecosystem.client_of(0).await.unwrap();
    // The floor answers every send with the receipt of a real one, behind the relay's TLS configuration:
    // a relay certificate from the same CA and the same revocation list.
    let receipt = client.send(&unit(10_000_000)).await.unwrap();
    let answer = Bytes::from(serde_json::to_vec(&receipt).unwrap());
    let clock = ecosystem.clock().as_clock();
    let parties = ecosystem.parties();
    let relay_certificate = parties
        .with(|state| state.portal.ca().issue_relay_certificate())
        .unwrap();
    let crl = parties.crl(clock.now()).unwrap();
    let tls = relay_server_config(ecosystem.root(), &relay_certificate, clock, Some(crl)).unwrap();
    let floor = floor_server(tls, answer).await;
    let floor_client = LinkageClient::new(
        Endpoints {
            relay: floor,
            ..ecosystem.endpoints()
        },
        ecosystem.root(),
        ecosystem.clock().as_clock(),
    )
    .unwrap();
    let known = &ecosystem.offices()[0];
    floor_client
        .install_certificate(known.certificate.as_ref().unwrap())
        .unwrap();
    floor_client.login(&known.login_details().unwrap()).await.unwrap();
    World {
        client,
        floor_client,
        ecosystem,
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

/// `iters` sends spread over `clients` concurrent tasks; the wall time, each latency into `latencies`.
async fn run(
    client: &LinkageClient,
    clients: u64,
    next: &Arc<AtomicUsize>,
    iters: u64,
    latencies: &Arc<Mutex<Vec<Duration>>>,
) -> Duration {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..clients {
        let share = iters / clients + u64::from(task < iters % clients);
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
    percentile(latencies, 99)
}

fn percentile(latencies: &Mutex<Vec<Duration>>, p: usize) -> Duration {
    let mut all = latencies.lock().unwrap().clone();
    all.sort_unstable();
    all.get(all.len() * p / 100).copied().unwrap_or_default()
}

/// A client TLS configuration holding an office's certificate: what a hostile client that got hold of
/// one (or an office's own misbehaving software) connects with.
fn hostile_tls(ecosystem: &Ecosystem, office: &careplan_ca::IssuedCertificate) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ecosystem.root().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_details(
        Arc::new(rustls::crypto::ring::default_provider()),
        Arc::new(careplan_net::ClockTime(ecosystem.clock().as_clock())),
    )
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(vec![office.certificate.clone()], office.private_key())
    .unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Writes `bytes` over and over, one byte per `pause`, until the peer stops reading or closes.
async fn trickle(stream: &mut (impl tokio::io::AsyncWrite + Unpin), bytes: &[u8], pause: Duration) {
    use tokio::io::AsyncWriteExt;
    for byte in bytes.iter().cycle() {
        if stream.write_all(&[*byte]).await.is_err() || stream.flush().await.is_err() {
            return;
        }
        tokio::time::sleep(pause).await;
    }
}

/// Hostile client `n`, until `stop`: a quarter trickle a TLS handshake a byte at a time, a quarter send a
/// request head a byte every 200 ms, a quarter announce a 1 MB body and send 10 bytes a second, and a
/// quarter push a 200 MiB body as fast as they can. Each starts again a second after the relay drops it.
async fn hostile(
    n: usize,
    relay: SocketAddr,
    tls: tokio_rustls::TlsConnector,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    use tokio::io::AsyncWriteExt;
    const HEAD: &[u8] =
        b"POST /v1/send HTTP/1.1\r\nHost: relay.careplan.test\r\nContent-Type: application/json\r\n";
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut tcp) = tokio::net::TcpStream::connect(relay).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let attempt = async {
            match n % 4 {
                0 => {
                    trickle(
                        &mut tcp,
                        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                        Duration::from_millis(500),
                    )
                    .await
                }
                kind => {
                    let name =
                        rustls::pki_types::ServerName::try_from(careplan_ca::RELAY_SERVER_NAME).unwrap();
                    let Ok(mut stream) = tls.connect(name, tcp).await else {
                        return;
                    };
                    match kind {
                        1 => trickle(&mut stream, HEAD, Duration::from_millis(200)).await,
                        2 => {
                            let head = [HEAD, b"Content-Length: 1000000\r\n\r\n"].concat();
                            if stream.write_all(&head).await.is_ok() {
                                trickle(&mut stream, b"{\"files\":[", Duration::from_millis(100)).await;
                            }
                        }
                        _ => {
                            let head = [HEAD, b"Content-Length: 209715200\r\n\r\n"].concat();
                            if stream.write_all(&head).await.is_ok() {
                                let chunk = vec![b'x'; 64 * 1024];
                                while stream.write_all(&chunk).await.is_ok() {}
                            }
                        }
                    }
                }
            }
        };
        // Every attempt ends when the relay drops it, or when the run ends; then the client tries again
        // a second later, as retrying software does.
        tokio::select! {
            () = attempt => {}
            () = async { while !stop.load(Ordering::Relaxed) { tokio::time::sleep(Duration::from_millis(100)).await } } => {}
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
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
        b.iter_custom(|iters| runtime.block_on(run(&world.client, CLIENTS, &next, iters, &relay_latencies)))
    });
    group.bench_function("floor (bare hyper + rustls)", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(run(&world.floor_client, CLIENTS, &next, iters, &floor_latencies))
        })
    });
    group.finish();
    // One client alone: the latency of a send, handshake included, with nothing queued before it.
    let ignored = Arc::new(Mutex::new(Vec::new()));
    let (one_relay, one_floor) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
    let mut one = c.benchmark_group("relay-wire-one-client");
    one.sample_size(10);
    one.bench_function("relay (1 client, mutual TLS)", |b| {
        b.iter_custom(|iters| runtime.block_on(run(&world.client, 1, &next, iters, &one_relay)))
    });
    one.bench_function("floor (bare hyper + rustls)", |b| {
        b.iter_custom(|iters| runtime.block_on(run(&world.floor_client, 1, &next, iters, &one_floor)))
    });
    one.finish();
    if !one_relay.lock().unwrap().is_empty() {
        eprintln!(
            "relay-wire-one-client p50: relay {:?}, floor {:?}; p99: relay {:?}, floor {:?}",
            percentile(&one_relay, 50),
            percentile(&one_floor, 50),
            percentile(&one_relay, 99),
            percentile(&one_floor, 99)
        );
    }
    // One client while 1,000 sockets sit on the relay without starting their handshake (a connection
    // flood): the relay keeps the newest 256 and drops the oldest, so a well-behaved office is served.
    let relay = world.ecosystem.endpoints().relay;
    let idle: Vec<tokio::net::TcpStream> = runtime.block_on(async {
        let mut idle = Vec::with_capacity(1_000);
        for _ in 0..1_000 {
            idle.push(tokio::net::TcpStream::connect(relay).await.unwrap());
        }
        idle
    });
    let mut flood = c.benchmark_group("relay-wire-idle-flood");
    flood.sample_size(10);
    flood.bench_function("relay (1 client, 1,000 idle sockets opened)", |b| {
        b.iter_custom(|iters| runtime.block_on(run(&world.client, 1, &next, iters, &ignored)))
    });
    flood.finish();
    drop(idle);
    // One client for 60 s while 500 others misbehave on the relay (see `hostile`), each starting again as
    // soon as the relay drops it.
    let office = &world.ecosystem.offices()[0];
    let tls = hostile_tls(&world.ecosystem, office.certificate.as_ref().unwrap());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hostile_tasks: Vec<_> = (0..500)
        .map(|n| runtime.spawn(hostile(n, relay, tls.clone(), stop.clone())))
        .collect();
    let under_load = Arc::new(Mutex::new(Vec::new()));
    let mut besieged = c.benchmark_group("relay-wire-hostile");
    besieged.sample_size(10);
    besieged.measurement_time(Duration::from_secs(60));
    besieged.bench_function("relay (1 client, 500 slow or oversized clients)", |b| {
        b.iter_custom(|iters| runtime.block_on(run(&world.client, 1, &next, iters, &under_load)))
    });
    besieged.finish();
    stop.store(true, Ordering::Relaxed);
    for task in hostile_tasks {
        runtime.block_on(task).unwrap();
    }
    // A filtered run measures some groups only: print what was measured.
    let printed = |latencies: &Mutex<Vec<Duration>>| !latencies.lock().unwrap().is_empty();
    if printed(&under_load) {
        eprintln!(
            "relay-wire-hostile: the well-behaved client's p50 {:?}, p99 {:?} over {} sends",
            percentile(&under_load, 50),
            percentile(&under_load, 99),
            under_load.lock().unwrap().len()
        );
    }
    if printed(&relay_latencies) {
        eprintln!(
            "relay-wire p99 latency: relay {:?}, floor {:?}",
            p99(&relay_latencies),
            p99(&floor_latencies)
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
