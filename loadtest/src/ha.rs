//! `loadtest run --ha`: PostgreSQL as a national deployment runs it — a
//! primary and a synchronous standby under Patroni, with a one-member etcd
//! as its consensus store — all on this machine, on loopback ports.
//!
//! Rules:
//! - Fresh every run: `<data>/ha` is removed and initialised again, since a
//!   cluster left by an interrupted run may have either node as its leader.
//! - No stray process: etcd and each Patroni (which runs its PostgreSQL)
//!   run under the `sh` watchdog pattern of [`crate::cluster`]: when
//!   loadtest ends, however it ends, the pipe closes and the watchdog sends
//!   SIGTERM (Patroni then stops its PostgreSQL).
//! - A failover is a crash of the primary's machine: SIGKILL to its Patroni,
//!   its postmaster and every backend at once ([`HaCluster::crash`]); the
//!   leader key in etcd expires after `ttl` and Patroni promotes the
//!   synchronous standby, which holds every acknowledged commit. The old
//!   primary then starts again ([`HaCluster::restart`]) and rejoins as the
//!   standby, rewound (`pg_rewind`) past what it wrote that nobody received.
//! - The gateways reach it through one multi-host connection string with
//!   `target_session_attrs=read-write` ([`HaCluster::database_url`]): a
//!   connection always lands on the primary, whichever node that is.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use kofu::devkit::pgembed;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdin, Command};

use crate::BoxError;
use crate::cluster::{WATCHDOG, free_port};

/// The superuser (and kofu's user) and the database, as in `pgembed`.
const USER: &str = pgembed::USER;
const DATABASE: &str = pgembed::DATABASE;

/// Seconds the leader key lives in etcd without renewal: how long after a
/// crash of the primary the standby is promoted (Patroni's minimum is 20).
const TTL_S: u32 = 20;
/// Patroni's cycle (how often it renews the key and looks around).
const LOOP_WAIT_S: u32 = 2;
/// How long Patroni retries etcd and PostgreSQL before giving up a cycle.
const RETRY_TIMEOUT_S: u32 = 5;

/// One program under the watchdog.
struct Supervised {
    watchdog: Child,
    stdin: Option<ChildStdin>,
    /// The program's own pid (the watchdog's child).
    pid: u32,
}

impl Supervised {
    async fn spawn(
        program: &str,
        args: &[OsString],
        log: &Path,
        run_as: Option<(u32, u32)>,
        home: &Path,
    ) -> Result<Supervised, BoxError> {
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(log)
            .arg(program)
            .args(args)
            .env("HOME", home)
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some((uid, gid)) = run_as {
            sh.uid(uid).gid(gid);
        }
        let mut watchdog = sh.spawn().map_err(|e| format!("{program}: {e}"))?;
        let stdin = watchdog.stdin.take();
        let stdout = watchdog.stdout.take().ok_or("watchdog without stdout")?;
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(10),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .map_err(|_| format!("{program}: the watchdog printed no pid"))??;
        let pid = line
            .trim()
            .parse()
            .map_err(|_| format!("{program}: the watchdog printed {line:?}, not a pid"))?;
        Ok(Supervised {
            watchdog,
            stdin,
            pid,
        })
    }

    /// SIGTERM through the watchdog, then SIGKILL to the whole tree (and
    /// `also`'s) if it is still there after `limit`.
    async fn stop(mut self, limit: Duration, also: Option<u32>) -> bool {
        drop(self.stdin.take());
        if tokio::time::timeout(limit, self.watchdog.wait())
            .await
            .is_ok()
        {
            return true;
        }
        let roots: Vec<u32> = [Some(self.pid), also].into_iter().flatten().collect();
        pgembed::sigkill_trees(&roots).await;
        let _ = self.watchdog.wait().await;
        false
    }

    /// SIGKILL to the program and everything it started, and to `also`'s
    /// tree, all at once.
    async fn crash(mut self, also: Option<u32>) {
        let roots: Vec<u32> = [Some(self.pid), also].into_iter().flatten().collect();
        pgembed::sigkill_trees(&roots).await;
        drop(self.stdin.take());
        let _ = tokio::time::timeout(Duration::from_secs(30), self.watchdog.wait()).await;
    }
}

/// One Patroni node: its ports, directory and process.
pub struct Node {
    pub name: String,
    pub pg_port: u16,
    pub api_port: u16,
    dir: PathBuf,
    process: Option<Supervised>,
}

/// A member as Patroni's `GET /cluster` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct Member {
    pub name: String,
    /// "leader", "sync_standby" or "replica".
    pub role: String,
    /// "running", "streaming", "starting", "stopped", …
    pub state: String,
}

impl Member {
    fn up(&self) -> bool {
        matches!(self.state.as_str(), "running" | "streaming")
    }
}

#[derive(Deserialize)]
struct ClusterView {
    members: Vec<Member>,
}

/// The running cluster: etcd and two Patroni nodes.
pub struct HaCluster {
    dir: PathBuf,
    run_as: Option<(u32, u32)>,
    etcd: Option<Supervised>,
    pub nodes: Vec<Node>,
}

/// The first of `names` found on PATH or in /usr/bin.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

impl HaCluster {
    /// Starts etcd, then the first node (which bootstraps and leads), then
    /// the second (cloned from it, the synchronous standby), and creates
    /// kofu's database. Everything lives in `<data>/ha`, made afresh.
    ///
    /// # Errors
    /// When Patroni or etcd is not installed (naming the Debian packages),
    /// or the cluster is not healthy within two minutes.
    pub async fn start(data: &Path) -> Result<HaCluster, BoxError> {
        let patroni = find_program("patroni").ok_or(
            "--ha needs Patroni and etcd: apt-get install patroni etcd-server (.ci/run installs them)",
        )?;
        let etcd = find_program("etcd")
            .ok_or("--ha needs etcd: apt-get install etcd-server (.ci/run installs it)")?;
        let bin = pgembed::find_bin_dir().ok_or(pgembed::PgError::NotInstalled)?;
        let run_as = pgembed::server_user()?;
        std::fs::create_dir_all(data)?;
        let dir = std::fs::canonicalize(data)?.join("ha");
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        let own = |p: &Path| -> std::io::Result<()> {
            if let Some((uid, gid)) = run_as {
                std::os::unix::fs::chown(p, Some(uid), Some(gid))?;
            }
            Ok(())
        };
        own(&dir)?;

        // etcd, with the v2 API Debian's Patroni speaks (python3-etcd).
        let (client, peer) = (free_port()?, free_port()?);
        let etcd_dir = dir.join("etcd");
        std::fs::create_dir_all(&etcd_dir)?;
        own(&etcd_dir)?;
        let client_url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let etcd_args: Vec<OsString> = [
            "--name",
            "kofu-ha",
            "--data-dir",
            &etcd_dir.join("data").display().to_string(),
            "--listen-client-urls",
            &client_url,
            "--advertise-client-urls",
            &client_url,
            "--listen-peer-urls",
            &peer_url,
            "--initial-advertise-peer-urls",
            &peer_url,
            "--initial-cluster",
            &format!("kofu-ha={peer_url}"),
            "--enable-v2=true",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let etcd = Supervised::spawn(
            &etcd.display().to_string(),
            &etcd_args,
            &etcd_dir.join("etcd.log"),
            run_as,
            &etcd_dir,
        )
        .await?;
        let mut cluster = HaCluster {
            dir: dir.clone(),
            run_as,
            etcd: Some(etcd),
            nodes: Vec::new(),
        };
        cluster
            .poll("etcd to answer", Duration::from_secs(30), || async {
                http_get(client, "/health").await.ok()
            })
            .await?;

        for i in 0..2 {
            let node_dir = dir.join(format!("pg{i}"));
            std::fs::create_dir_all(&node_dir)?;
            own(&node_dir)?;
            let node = Node {
                name: format!("pg{i}"),
                pg_port: free_port()?,
                api_port: free_port()?,
                dir: node_dir,
                process: None,
            };
            std::fs::write(
                node.dir.join("patroni.yml"),
                patroni_config(&node, client, &bin),
            )?;
            own(&node.dir.join("patroni.yml"))?;
            cluster.nodes.push(node);
        }
        let patroni = patroni.display().to_string();
        for i in 0..2 {
            cluster.nodes[i].process = Some(cluster.spawn_patroni(&patroni, i).await?);
            if i == 0 {
                cluster.wait_leader(None, Duration::from_secs(120)).await?;
            }
        }
        cluster.wait_healthy(Duration::from_secs(120)).await?;
        let mut postgres = cluster.config();
        postgres.dbname("postgres");
        pgembed::create_database(&postgres).await?;
        Ok(cluster)
    }

    async fn spawn_patroni(&self, patroni: &str, i: usize) -> Result<Supervised, BoxError> {
        let node = &self.nodes[i];
        Supervised::spawn(
            patroni,
            &[node.dir.join("patroni.yml").into_os_string()],
            &node.dir.join("patroni.log"),
            self.run_as,
            &node.dir,
        )
        .await
    }

    /// Connection settings for kofu's database on whichever node is primary.
    pub fn config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        for node in &self.nodes {
            config.host("127.0.0.1").port(node.pg_port);
        }
        config
            .user(USER)
            .dbname(DATABASE)
            .target_session_attrs(tokio_postgres::config::TargetSessionAttrs::ReadWrite)
            .connect_timeout(Duration::from_secs(2));
        config
    }

    /// The same, as the `DATABASE_URL` the gateways get.
    pub fn database_url(&self) -> String {
        let ports: Vec<String> = self.nodes.iter().map(|n| n.pg_port.to_string()).collect();
        format!(
            "host={} port={} user={USER} dbname={DATABASE} target_session_attrs=read-write connect_timeout=2",
            vec!["127.0.0.1"; self.nodes.len()].join(","),
            ports.join(",")
        )
    }

    /// The members as the first node that answers sees them.
    pub async fn members(&self) -> Option<Vec<Member>> {
        for node in &self.nodes {
            if node.process.is_none() {
                continue;
            }
            if let Ok(body) = http_get(node.api_port, "/cluster").await
                && let Ok(view) = serde_json::from_slice::<ClusterView>(&body)
            {
                return Some(view.members);
            }
        }
        None
    }

    /// The index of the node that leads and runs.
    pub async fn leader(&self) -> Option<usize> {
        let members = self.members().await?;
        let leader = members.iter().find(|m| m.role == "leader" && m.up())?;
        self.nodes.iter().position(|n| n.name == leader.name)
    }

    /// Waits until a running leader other than `not` exists; returns it.
    pub async fn wait_leader(
        &self,
        not: Option<usize>,
        limit: Duration,
    ) -> Result<usize, BoxError> {
        self.poll("a new Patroni leader", limit, || async {
            self.leader().await.filter(|i| Some(*i) != not)
        })
        .await
    }

    /// Waits until there is a running leader and a running synchronous
    /// standby.
    pub async fn wait_healthy(&self, limit: Duration) -> Result<(), BoxError> {
        self.poll(
            "a running leader and synchronous standby",
            limit,
            || async {
                let members = self.members().await?;
                let leader = members.iter().any(|m| m.role == "leader" && m.up());
                let sync = members.iter().any(|m| m.role == "sync_standby" && m.up());
                (leader && sync).then_some(())
            },
        )
        .await
    }

    /// Asks `probe` every 100 ms until it answers, for at most `limit`.
    async fn poll<T, Fut>(
        &self,
        what: &str,
        limit: Duration,
        probe: impl Fn() -> Fut,
    ) -> Result<T, BoxError>
    where
        Fut: std::future::Future<Output = Option<T>>,
    {
        let started = Instant::now();
        loop {
            if let Some(found) = probe().await {
                return Ok(found);
            }
            if started.elapsed() > limit {
                return Err(format!(
                    "waited {limit:?} for {what} (logs in {})",
                    self.dir.display()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Crashes node `i` as its machine would: Patroni, the postmaster and
    /// every backend get SIGKILL at once. (Patroni starts its postmaster
    /// outside its own process tree, so that PostgreSQL outlives a crash
    /// of Patroni: the postmaster is found by its `postmaster.pid`.)
    pub async fn crash(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let postmaster = pgembed::postmaster_pid(&node.dir.join("data"));
        if let Some(p) = node.process.take() {
            p.crash(postmaster).await;
        }
    }

    /// Starts node `i`'s Patroni again on its data: it rejoins as a standby.
    pub async fn restart(&mut self, i: usize) -> Result<(), BoxError> {
        if self.nodes[i].process.is_none() {
            let patroni = find_program("patroni").ok_or("patroni is gone")?;
            let p = self
                .spawn_patroni(&patroni.display().to_string(), i)
                .await?;
            self.nodes[i].process = Some(p);
        }
        Ok(())
    }

    /// Stops the standbys, then the leader (so nothing fails over on the
    /// way out), then etcd.
    pub async fn stop(mut self) -> bool {
        let leader = self.leader().await;
        let mut clean = true;
        let mut order: Vec<usize> = (0..self.nodes.len())
            .filter(|i| Some(*i) != leader)
            .collect();
        order.extend(leader);
        for i in order {
            let postmaster = pgembed::postmaster_pid(&self.nodes[i].dir.join("data"));
            if let Some(p) = self.nodes[i].process.take() {
                clean &= p.stop(Duration::from_secs(60), postmaster).await;
            }
        }
        if let Some(etcd) = self.etcd.take() {
            clean &= etcd.stop(Duration::from_secs(20), None).await;
        }
        clean
    }
}

/// Patroni's configuration for `node`: synchronous mode, `pg_rewind` to
/// rejoin, trust on loopback only.
fn patroni_config(node: &Node, etcd_port: u16, bin: &Path) -> String {
    let dir = node.dir.display();
    format!(
        r#"scope: kofu
name: {name}
restapi:
  listen: 127.0.0.1:{api}
  connect_address: 127.0.0.1:{api}
etcd:
  host: 127.0.0.1:{etcd_port}
bootstrap:
  dcs:
    ttl: {TTL_S}
    loop_wait: {LOOP_WAIT_S}
    retry_timeout: {RETRY_TIMEOUT_S}
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        max_connections: 200
        wal_level: replica
        wal_log_hints: "on"
        hot_standby: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 512MB
        autovacuum_naptime: 10s
  initdb:
    - encoding: UTF8
    - no-locale
    - data-checksums
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:{pg}
  connect_address: 127.0.0.1:{pg}
  data_dir: {dir}/data
  bin_dir: {bin}
  pgpass: {dir}/pgpass
  authentication:
    superuser:
      username: {USER}
      password: kofu
    replication:
      username: replicator
      password: replicator
    rewind:
      username: {USER}
      password: kofu
  parameters:
    unix_socket_directories: {dir}
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
"#,
        name = node.name,
        api = node.api_port,
        pg = node.pg_port,
        bin = bin.display(),
    )
}

/// A plain HTTP/1.0 GET on loopback; the body when the status is 200.
async fn http_get(port: u16, path: &str) -> std::io::Result<Vec<u8>> {
    let fetch = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
            .await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(2), fetch)
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(std::io::ErrorKind::InvalidData)?;
    let status_ok = raw.starts_with(b"HTTP/1.0 200") || raw.starts_with(b"HTTP/1.1 200");
    if !status_ok {
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    Ok(raw[split + 4..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_string_names_both_nodes_and_asks_for_the_primary() {
        let node = |i: u16| Node {
            name: format!("pg{i}"),
            pg_port: 6000 + i,
            api_port: 7000 + i,
            dir: PathBuf::from("/x"),
            process: None,
        };
        let cluster = HaCluster {
            dir: PathBuf::from("/x"),
            run_as: None,
            etcd: None,
            nodes: vec![node(0), node(1)],
        };
        let url = cluster.database_url();
        let parsed: tokio_postgres::Config = url.parse().unwrap();
        assert_eq!(parsed.get_ports(), &[6000, 6001]);
        assert_eq!(
            parsed.get_target_session_attrs(),
            tokio_postgres::config::TargetSessionAttrs::ReadWrite
        );
        assert_eq!(parsed.get_hosts().len(), 2);
    }

    #[test]
    fn the_patroni_configuration_is_synchronous_and_rewinds() {
        let node = Node {
            name: "pg1".into(),
            pg_port: 6001,
            api_port: 7001,
            dir: PathBuf::from("/d/pg1"),
            process: None,
        };
        let yml = patroni_config(&node, 2379, Path::new("/usr/lib/postgresql/15/bin"));
        for needle in [
            "synchronous_mode: true",
            "use_pg_rewind: true",
            "listen: 127.0.0.1:6001",
            "host: 127.0.0.1:2379",
            "data_dir: /d/pg1/data",
        ] {
            assert!(yml.contains(needle), "{needle}");
        }
    }
}
