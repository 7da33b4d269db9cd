//! A TCP proxy between the gateways and PostgreSQL, so the harness can cut
//! the database off: the gateways connect to `127.0.0.1:<port>`, the proxy
//! to PostgreSQL's Unix socket. A cut closes every proxied connection at
//! once and refuses new ones until it is lifted.
//!
//! Rule: it listens on 127.0.0.1 only and lives inside the loadtest process,
//! so it cannot outlive the run.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::{TcpListener, UnixStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The running proxy.
pub struct DbProxy {
    pub addr: SocketAddr,
    cut: watch::Sender<bool>,
    accepted: Arc<AtomicU64>,
    refused: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl DbProxy {
    /// Listens on 127.0.0.1 (a free port) and forwards to `socket`.
    pub async fn start(socket: PathBuf) -> std::io::Result<DbProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (cut, cut_rx) = watch::channel(false);
        let accepted = Arc::new(AtomicU64::new(0));
        let refused = Arc::new(AtomicU64::new(0));
        let (acc, refu) = (accepted.clone(), refused.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                if *cut_rx.borrow() {
                    refu.fetch_add(1, Ordering::Relaxed);
                    drop(tcp); // refused: closed at once
                    continue;
                }
                acc.fetch_add(1, Ordering::Relaxed);
                let socket = socket.clone();
                let mut cut_rx = cut_rx.clone();
                tokio::spawn(async move {
                    let _ = tcp.set_nodelay(true);
                    let Ok(unix) = UnixStream::connect(&socket).await else {
                        return; // PostgreSQL down: the client sees the connection close
                    };
                    let (mut tcp, mut unix) = (tcp, unix);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut tcp, &mut unix) => {}
                        _ = cut_rx.wait_for(|c| *c) => {}
                    }
                    // Dropping both ends closes them.
                });
            }
        });
        Ok(DbProxy {
            addr,
            cut,
            accepted,
            refused,
            task,
        })
    }

    /// Closes every proxied connection and refuses new ones (`true`), or lets them through again.
    pub fn set_cut(&self, cut: bool) {
        self.cut.send_replace(cut);
    }

    /// Connections forwarded and refused so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.accepted.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed),
        )
    }
}

impl Drop for DbProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpStream, UnixListener};

    use super::*;

    #[tokio::test]
    async fn forwards_then_cuts_and_refuses_then_forwards_again() {
        let dir = std::env::temp_dir().join(format!("lt-proxy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("echo.sock");
        let _ = std::fs::remove_file(&path);
        let echo = UnixListener::bind(&path).unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = echo.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let proxy = DbProxy::start(path.clone()).await.unwrap();
        let mut c = TcpStream::connect(proxy.addr).await.unwrap();
        c.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");

        proxy.set_cut(true);
        let n = c.read(&mut buf).await.unwrap_or(0);
        assert_eq!(n, 0, "the open connection is closed by the cut");
        let mut refused = TcpStream::connect(proxy.addr).await.unwrap();
        let n = refused.read(&mut buf).await.unwrap_or(0);
        assert_eq!(n, 0, "new connections are closed at once");

        proxy.set_cut(false);
        let mut c = TcpStream::connect(proxy.addr).await.unwrap();
        c.write_all(b"pong").await.unwrap();
        c.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
        assert_eq!(proxy.counts(), (2, 1));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
