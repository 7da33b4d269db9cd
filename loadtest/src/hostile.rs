//! Hostile clients beside the real copiers (`--hostile-connections`,
//! `--abusive-copier`, `--abusive-card`): what a stolen copier certificate
//! or a botnet would do, so the run shows that the copiers keep their
//! latency while these are closed, refused or rate-limited.
//!
//! The hostile connections come from loopback addresses other than the
//! copiers' own (127.0.1.x), as a botnet's come from other hosts, and cycle
//! through four behaviours: a TCP connection that never starts TLS, a TLS
//! connection that never sends a request, a request head sent one line
//! every few seconds, and a body sent a byte a second. Each reconnects as
//! soon as the gateway closes it.

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
#[derive(Debug, Default, Serialize)]
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
