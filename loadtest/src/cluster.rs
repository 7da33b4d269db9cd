//! The gateways the harness runs itself: `kofu serve` processes on
//! 127.0.0.1, each with its own ports and log file, that can be killed and
//! restarted on the same ports.
//!
//! Rule: no stray gateway. Each runs under a small `sh` watchdog whose
//! standard input is a pipe from loadtest (the pattern kofu's pgembed uses
//! for PostgreSQL): when loadtest ends — cleanly, on Ctrl-C, or killed — the
//! pipe closes and the watchdog sends the gateway SIGTERM. The gateways get
//! their own process group, so a Ctrl-C in the terminal reaches loadtest
//! only, which then stops them in order (load first, gateways, PostgreSQL last).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdin, Command};

use crate::BoxError;

/// The watchdog: starts `"$@"` (after the log file, `$1`) with its output
/// in the log, prints its pid, and on EOF of its own stdin (our pipe) sends
/// it SIGTERM; exits when it does. The gateways and `--ha`'s etcd and
/// Patroni all run under it.
pub const WATCHDOG: &str = r#"
log=$1; shift
"$@" >>"$log" 2>&1 </dev/null &
p=$!
echo "$p"
exec 3<&0
( read -r _ <&3; kill -TERM "$p" 2>/dev/null ) &
reader=$!
wait "$p"; status=$?
kill "$reader" 2>/dev/null
exit $status
"#;

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// One `kofu serve` process (and its restarts).
pub struct Gateway {
    pub name: String,
    pub api: SocketAddr,
    pub ops: SocketAddr,
    kofu: PathBuf,
    env: Vec<(String, String)>,
    pub log: PathBuf,
    watchdog: Option<Child>,
    stdin: Option<ChildStdin>,
    pub pid: Option<u32>,
    pub starts: u32,
}

impl Gateway {
    /// A gateway to be started with `env` (plus its listen addresses).
    pub fn new(
        index: usize,
        kofu: &Path,
        mut env: Vec<(String, String)>,
        log: PathBuf,
    ) -> std::io::Result<Gateway> {
        let api = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let ops = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        env.push(("KOFU_LISTEN".into(), api.to_string()));
        env.push(("KOFU_OPS_LISTEN".into(), ops.to_string()));
        Ok(Gateway {
            name: format!("gateway-{}", index + 1),
            api,
            ops,
            kofu: kofu.to_owned(),
            env,
            log,
            watchdog: None,
            stdin: None,
            pid: None,
            starts: 0,
        })
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.api)
    }

    /// Starts the process and waits until its copier API accepts connections.
    pub async fn start(&mut self, limit: Duration) -> Result<Duration, BoxError> {
        let started = Instant::now();
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(&self.log)
            .arg(&self.kofu)
            .arg("serve");
        for (name, _) in std::env::vars() {
            if name.starts_with("KOFU_") || name == "DATABASE_URL" {
                sh.env_remove(name);
            }
        }
        sh.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let mut child = sh.spawn()?;
        self.stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("watchdog stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).await?;
        self.pid = line.trim().parse().ok();
        self.watchdog = Some(child);
        self.starts += 1;
        loop {
            if TcpStream::connect(self.api).await.is_ok() {
                return Ok(started.elapsed());
            }
            let exited = match self.watchdog.as_mut() {
                Some(w) => matches!(w.try_wait(), Ok(Some(_))),
                None => true,
            };
            if exited || started.elapsed() > limit {
                let tail = log_tail(&self.log, 15);
                self.kill().await;
                return Err(format!(
                    "{} did not come up within {limit:?} (exited: {exited}); {} says:\n{tail}",
                    self.name,
                    self.log.display()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, as a crash would; waits until it is gone.
    pub async fn kill(&mut self) {
        if let Some(pid) = self.pid.take() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await;
        }
        self.stdin = None;
        if let Some(mut w) = self.watchdog.take() {
            if tokio::time::timeout(Duration::from_secs(5), w.wait())
                .await
                .is_err()
            {
                let _ = w.kill().await;
            }
        }
    }

    /// SIGTERM (through the watchdog), then waits for a graceful exit; SIGKILL after `limit`.
    pub async fn stop(&mut self, limit: Duration) -> bool {
        drop(self.stdin.take());
        let Some(mut w) = self.watchdog.take() else {
            return true;
        };
        match tokio::time::timeout(limit, w.wait()).await {
            Ok(_) => {
                self.pid = None;
                true
            }
            Err(_) => {
                self.watchdog = Some(w);
                self.kill().await;
                false
            }
        }
    }

    pub fn running(&self) -> bool {
        self.watchdog.is_some()
    }
}

/// `text` without ANSI colour sequences (ESC [ ... letter).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The last `n` lines of a log file, without colours.
pub fn log_tail(path: &Path, n: usize) -> String {
    let text = strip_ansi(&std::fs::read_to_string(path).unwrap_or_default());
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `GET /metrics` on a gateway's operations listener, linted by Prometheus's
/// own `promtool check metrics`: `passed`, or what is wrong (or that
/// promtool is not installed, or the listener did not answer).
pub async fn lint_metrics(ops: SocketAddr) -> String {
    let io = async {
        let mut s = TcpStream::connect(ops).await?;
        s.write_all(
            format!("GET /metrics HTTP/1.1\r\nHost: {ops}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
        let mut response = Vec::new();
        s.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let Ok(Ok(response)) = tokio::time::timeout(Duration::from_secs(5), io).await else {
        return "unreachable".to_owned();
    };
    let text = String::from_utf8_lossy(&response);
    let Some((_, body)) = text.split_once("\r\n\r\n") else {
        return "no HTTP answer".to_owned();
    };
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        return "promtool not installed".to_owned();
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(body.as_bytes()).await;
    }
    match child.wait_with_output().await {
        Ok(out) if out.status.success() => "passed".to_owned(),
        Ok(out) => format!(
            "failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => format!("promtool: {e}"),
    }
}

/// `PUT path` with a plain-text body on a plain-HTTP listener (the ops
/// listener's test hook); returns the status code.
pub async fn http_put(addr: SocketAddr, path: &str, body: &str) -> Result<u16, BoxError> {
    let io = async {
        let mut s = TcpStream::connect(addr).await?;
        let request = format!(
            "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        s.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(5), io).await??;
    let head = String::from_utf8_lossy(&response);
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no HTTP status from {addr}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_stripped_from_logs() {
        let line = "\u{1b}[2m2026-11-22T10:52:33Z\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m db error";
        assert_eq!(strip_ansi(line), "2026-11-22T10:52:33Z  WARN db error");
        assert_eq!(strip_ansi("plain"), "plain");
    }

    #[tokio::test]
    async fn put_reads_the_status_code() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 512];
            let n = s.read(&mut buf).await.unwrap();
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            assert!(req.starts_with("PUT /test/render-delay-ms HTTP/1.1\r\n"));
            assert!(req.ends_with("\r\n\r\n250"));
            s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
                .await
                .unwrap();
        });
        assert_eq!(
            http_put(addr, "/test/render-delay-ms", "250")
                .await
                .unwrap(),
            204
        );
    }
}
