//! Hostile clients beside the real copiers (`--hostile-connections`,
//! `--abusive-copier`, `--abusive-card`): what a stolen copier certificate
//! or a botnet would do, so the run shows that the copiers keep their
//! latency while these are closed, refused or rate-limited.
//!
//! The hostile connections come from loopback addresses other than the
//! copiers' own (127.0.1.x), as a botnet's come from other hosts, and cycle
//! through four behaviours: a TCP connection that never starts TLS, a TLS
//! connection that never sends a request, a request head sent one line
//! every few seconds, and a body sent a byte a second. Each reconnects a
//! second after the gateway closes it.
//!
//! They run in a process of their own (`loadtest hostile`, started by
//! `loadtest run` under `nice`, `--hostile-nice`): on a real deployment the
//! attacker's processors are not the gateway's, and on one machine an
//! attacker at the same priority measures its own handshakes as much as
//! the gateway's.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use hyper::Method;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

use kofu::devkit::sim::CopierClient;

/// What the hostile clients did and what the gateways answered.
#[derive(Debug, Default, Serialize, serde::Deserialize)]
pub struct AbuseReport {
    pub hostile_connections: usize,
    /// Connections opened (each reconnect counts).
    pub hostile_connects: u64,
    /// Connections the gateway refused or closed (by a deadline or a refusal).
    pub hostile_closed_by_gateway: u64,
    /// Connect attempts that failed outright.
    pub hostile_connect_failures: u64,
    /// The abusive copier's requests: answered 201, 429, or otherwise.
    pub abusive_copier_ok: u64,
    pub abusive_copier_429: u64,
    pub abusive_copier_other: u64,
}

#[derive(Default)]
pub struct Counters {
    connects: AtomicU64,
    closed: AtomicU64,
    failures: AtomicU64,
    ok: AtomicU64,
    limited: AtomicU64,
    other: AtomicU64,
}

impl Counters {
    pub fn report(&self, hostile_connections: usize) -> AbuseReport {
        AbuseReport {
            hostile_connections,
            hostile_connects: self.connects.load(Ordering::Relaxed),
            hostile_closed_by_gateway: self.closed.load(Ordering::Relaxed),
            hostile_connect_failures: self.failures.load(Ordering::Relaxed),
            abusive_copier_ok: self.ok.load(Ordering::Relaxed),
            abusive_copier_429: self.limited.load(Ordering::Relaxed),
            abusive_copier_other: self.other.load(Ordering::Relaxed),
        }
    }
}

/// `loadtest hostile`: `n` hostile connections against `gateways` for
/// `seconds`, then what they did.
pub async fn run_process(
    gateways: &[SocketAddr],
    server_ca: &std::path::Path,
    n: usize,
    seconds: f64,
) -> Result<AbuseReport, kofu::BoxError> {
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = JoinSet::new();
    spawn_connections(
        n,
        gateways,
        server_ca,
        counters.clone(),
        stop.clone(),
        &mut tasks,
    )?;
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    Ok(counters.report(n))
}

/// Starts `loadtest hostile` for `seconds` under `nice -n nice` (this
/// very binary); its report is read from its standard output.
pub fn spawn_process(
    gateways: &[SocketAddr],
    server_ca: &std::path::Path,
    n: usize,
    seconds: f64,
    nice: i32,
) -> Result<tokio::process::Child, kofu::BoxError> {
    let exe = std::env::current_exe()?;
    let mut command = tokio::process::Command::new("nice");
    command
        .arg("-n")
        .arg(nice.to_string())
        .arg(exe)
        .arg("hostile")
        .arg("--connections")
        .arg(n.to_string())
        .arg("--seconds")
        .arg(seconds.to_string())
        .arg("--server-ca")
        .arg(server_ca);
    for g in gateways {
        command.arg("--gateway").arg(g.to_string());
    }
    command
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true);
    Ok(command.spawn()?)
}

/// Starts `n` hostile connections against `gateways` until `stop`.
pub fn spawn_connections(
    n: usize,
    gateways: &[SocketAddr],
    server_ca: &std::path::Path,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    tasks: &mut JoinSet<()>,
) -> Result<(), kofu::BoxError> {
    let tls = tokio_rustls::TlsConnector::from(kofu::gateway::tls::client_config(server_ca, None)?);
    for i in 0..n {
        let gateway = gateways[i % gateways.len()];
        // 250 source addresses: 127.0.1.1 ..= 127.0.1.250.
        let source = IpAddr::V4(Ipv4Addr::new(127, 0, 1, (i % 250) as u8 + 1));
        let (tls, counters, stop) = (tls.clone(), counters.clone(), stop.clone());
        tasks.spawn(async move {
            let mut round = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let behaviour = (i + round) % 4;
                round += 1;
                match connect_from(source, gateway).await {
                    Ok(tcp) => {
                        counters.connects.fetch_add(1, Ordering::Relaxed);
                        if hold(behaviour, tcp, &tls, &stop).await {
                            counters.closed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => {
                        counters.failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
    Ok(())
}

async fn connect_from(source: IpAddr, gateway: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(gateway).await
}

/// Holds one connection in its `behaviour` until the gateway closes it
/// (`true`) or the run stops (`false`).
async fn hold(
    behaviour: usize,
    tcp: TcpStream,
    tls: &tokio_rustls::TlsConnector,
    stop: &AtomicBool,
) -> bool {
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").expect("an address");
    if behaviour == 0 {
        // Never starts TLS.
        return wait_closed(tcp, stop, None).await;
    }
    let Ok(Ok(mut stream)) =
        tokio::time::timeout(Duration::from_secs(10), tls.connect(name, tcp)).await
    else {
        return true;
    };
    match behaviour {
        1 => wait_closed(stream, stop, None).await,
        2 => {
            if stream
                .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
                .await
                .is_err()
            {
                return true;
            }
            wait_closed(stream, stop, Some(b"x-slow: 1\r\n")).await
        }
        _ => {
            if stream
                .write_all(b"POST /v1/sessions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 4096\r\n\r\n")
                .await
                .is_err()
            {
                return true;
            }
            wait_closed(stream, stop, Some(b" ")).await
        }
    }
}

/// Reads until the gateway closes, sending `drip` every second if given.
async fn wait_closed<S: AsyncReadExt + AsyncWriteExt + Unpin>(
    mut stream: S,
    stop: &AtomicBool,
    drip: Option<&[u8]>,
) -> bool {
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::Relaxed) {
        match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => {
                if let Some(drip) = drip
                    && stream.write_all(drip).await.is_err()
                {
                    return true;
                }
            }
        }
    }
    false
}

/// A copier (with a valid certificate, as a stolen one would be) opening
/// sessions as fast as four connections allow, until `stop`.
pub fn spawn_abusive_copier(
    copier: CopierClient,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
    tasks: &mut JoinSet<()>,
) {
    for _ in 0..4 {
        let (copier, counters, stop) = (copier.clone(), counters.clone(), stop.clone());
        tasks.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match copier.call(Method::POST, "/v1/sessions", &[], None).await {
                    Ok(r) if r.status == 201 => counters.ok.fetch_add(1, Ordering::Relaxed),
                    Ok(r) if r.status == 429 => counters.limited.fetch_add(1, Ordering::Relaxed),
                    _ => counters.other.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
    }
}
