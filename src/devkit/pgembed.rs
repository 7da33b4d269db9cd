//! A private PostgreSQL cluster for `kofu demo` and the test harness.
//!
//! Rule: no orphaned postmaster. The server runs under a small `sh` watchdog
//! whose standard input is a pipe from kofu: when kofu stops — cleanly, on
//! Ctrl-C, or even killed — the pipe closes and the watchdog asks PostgreSQL
//! for a fast shutdown. The cluster's data directory is kept and reused on the
//! next start. When kofu runs as root, PostgreSQL runs as the `postgres` user
//! (it refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, ChildStdin, Command};

/// The database kofu uses inside the cluster.
pub const DATABASE: &str = "kofu";
/// The superuser initdb creates (trust auth over the private Unix socket only).
pub const USER: &str = "kofu";
const PORT: u16 = 5432;

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error(
        "PostgreSQL server binaries (initdb, postgres) were not found in PATH or /usr/lib/postgresql/*/bin. \
         Install the PostgreSQL server, e.g. `apt-get install postgresql` on Debian/Ubuntu \
         or `dnf install postgresql-server` on Fedora, or run `kofu serve` with DATABASE_URL"
    )]
    NotInstalled,
    #[error(
        "running as root but there is no `postgres` user to run PostgreSQL as (create one, or run kofu as an ordinary user)"
    )]
    NoPostgresUser,
    #[error("the data directory {0} was made by PostgreSQL {1}, but the installed server is {2}")]
    VersionMismatch(PathBuf, String, String),
    #[error("socket path {0} is too long for a Unix socket; use a shorter --data directory")]
    SocketPathTooLong(PathBuf),
    #[error("{what} failed: {detail}")]
    Command { what: &'static str, detail: String },
    #[error("PostgreSQL did not become ready within {0:?}; its log says:\n{1}")]
    NotReady(Duration, String),
    #[error("i/o on {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
}

/// Tuning for a cluster: durable for the demo, fast for tests.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Turn off fsync and friends; only for throw-away test clusters.
    pub unsafe_fast: bool,
}

/// A running private cluster. Dropping it also stops PostgreSQL (the watchdog
/// sees its stdin close); [`EmbeddedPostgres::stop`] waits for that to finish.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    cluster_dir: PathBuf,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl EmbeddedPostgres {
    /// Starts (initialising on first use) the cluster in `<data_dir>/pg`.
    ///
    /// # Errors
    /// [`PgError::NotInstalled`] names what to install when no server is found.
    pub async fn start(data_dir: &Path, options: Options) -> Result<Self, PgError> {
        let bin = find_bin_dir().ok_or(PgError::NotInstalled)?;
        let run_as = if running_as_root() {
            Some(postgres_user()?)
        } else {
            None
        };
        std::fs::create_dir_all(data_dir).map_err(|e| PgError::Io(data_dir.to_owned(), e))?;
        let data_dir =
            std::fs::canonicalize(data_dir).map_err(|e| PgError::Io(data_dir.to_owned(), e))?;
        let cluster_dir = data_dir.join("pg");
        let socket = cluster_dir.join(format!(".s.PGSQL.{PORT}"));
        if socket.as_os_str().len() >= 100 {
            return Err(PgError::SocketPathTooLong(socket));
        }

        if !cluster_dir.join("PG_VERSION").exists() {
            init_cluster(&bin, &cluster_dir, run_as, options).await?;
        } else {
            check_version(&bin, &cluster_dir).await?;
        }

        let mut child = spawn_watchdog(&bin, &cluster_dir, run_as, options)?;
        let stdin = child.stdin.take();
        let mut pg = EmbeddedPostgres {
            cluster_dir,
            child,
            stdin,
        };
        pg.wait_ready(Duration::from_secs(60)).await?;
        create_database(&pg.config("postgres")).await?;
        Ok(pg)
    }

    /// Connection settings for `dbname` over the private Unix socket.
    pub fn config(&self, dbname: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(&self.cluster_dir)
            .port(PORT)
            .user(USER)
            .dbname(dbname);
        config.connect_timeout(Duration::from_secs(5));
        config
    }

    /// The directory holding the cluster (and its socket).
    pub fn cluster_dir(&self) -> &Path {
        &self.cluster_dir
    }

    /// Asks PostgreSQL for a fast shutdown and waits until it has exited.
    pub async fn stop(mut self) -> Result<(), PgError> {
        drop(self.stdin.take());
        match tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(PgError::Io(self.cluster_dir.clone(), e)),
            Err(_) => Err(PgError::Command {
                what: "postgres shutdown",
                detail: "timed out after 60 s".into(),
            }),
        }
    }

    /// Crashes the server: SIGKILL to the postmaster and every process it
    /// started, all at once, then waits for the watchdog to see it gone.
    /// No shutdown checkpoint, and WAL still in PostgreSQL's buffers (the
    /// relaxed commits of the last moments) is lost; what the kernel
    /// already holds survives, so this is a crash of PostgreSQL, not of
    /// the machine's power. [`EmbeddedPostgres::start`] on the same data
    /// then runs crash recovery.
    pub async fn crash(mut self) -> Result<(), PgError> {
        let pid = postmaster_pid(&self.cluster_dir).ok_or_else(|| PgError::Command {
            what: "postgres crash",
            detail: "postmaster.pid names no process".into(),
        })?;
        sigkill_trees(&[pid]).await;
        drop(self.stdin.take());
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(_) => Ok(()),
            Err(_) => Err(PgError::Command {
                what: "postgres crash",
                detail: "the watchdog did not exit within 30 s".into(),
            }),
        }
    }

    async fn wait_ready(&mut self, limit: Duration) -> Result<(), PgError> {
        let started = Instant::now();
        let config = self.config("postgres");
        loop {
            if let Ok((client, connection)) = config.connect(tokio_postgres::NoTls).await {
                drop(client);
                let _ = connection.await;
                return Ok(());
            }
            let exited = matches!(self.child.try_wait(), Ok(Some(_)));
            if exited || started.elapsed() > limit {
                return Err(PgError::NotReady(limit, self.log_tail()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.cluster_dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// Creates kofu's database ([`DATABASE`]) through `postgres` (a connection
/// to the server's `postgres` database) unless it exists.
///
/// # Errors
/// When the server cannot be reached or refuses.
pub async fn create_database(postgres: &tokio_postgres::Config) -> Result<(), PgError> {
    let (client, connection) = postgres.connect(tokio_postgres::NoTls).await?;
    let conn = tokio::spawn(connection);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&DATABASE])
        .await?;
    if exists.is_none() {
        client
            .batch_execute(&format!("CREATE DATABASE {DATABASE}"))
            .await?;
    }
    drop(client);
    let _ = conn.await;
    Ok(())
}

/// `pid` and every process descended from it (read from /proc), children
/// first: what one SIGKILL each must reach to stop a server as a crash would.
pub fn process_tree(pid: u32) -> Vec<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(child) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            // "pid (comm) state ppid …": comm may hold spaces and parentheses.
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse().ok());
            if let Some(ppid) = ppid {
                parent_of.push((child, ppid));
            }
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parent_of
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    tree.reverse();
    tree
}

/// SIGKILL to each of `roots` and all their descendants in one `kill`
/// call, so none of them outlives the others long enough to finish what it
/// was doing.
pub async fn sigkill_trees(roots: &[u32]) {
    let pids: Vec<String> = roots
        .iter()
        .flat_map(|root| process_tree(*root))
        .map(|pid| pid.to_string())
        .collect();
    let _ = Command::new("kill")
        .arg("-KILL")
        .args(&pids)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

/// The postmaster's pid from `postmaster.pid` in `data_dir`, if it names one.
pub fn postmaster_pid(data_dir: &Path) -> Option<u32> {
    std::fs::read_to_string(data_dir.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// The uid and gid PostgreSQL must run as: `None` when this process is not
/// root (it runs as ourselves), the `postgres` user's when it is.
///
/// # Errors
/// [`PgError::NoPostgresUser`] when running as root without that user.
pub fn server_user() -> Result<Option<(u32, u32)>, PgError> {
    if running_as_root() {
        postgres_user().map(|u| Some((u.uid, u.gid)))
    } else {
        Ok(None)
    }
}

/// The directory with `initdb` and `postgres`: PATH first, then the newest
/// `/usr/lib/postgresql/*/bin` (Debian), then `/usr/pgsql-*/bin` (RHEL).
pub fn find_bin_dir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_server(d)) {
            // Follow symlinks (e.g. /usr/local/bin/postgres -> /usr/lib/postgresql/15/bin)
            // to the installation's own directory, which also has pgbench and friends.
            let real = std::fs::canonicalize(dir.join("postgres")).ok();
            return Some(
                real.and_then(|p| p.parent().map(Path::to_path_buf))
                    .unwrap_or(dir),
            );
        }
    }
    let mut candidates: Vec<(u32, PathBuf)> = Vec::new();
    for (parent, prefix) in [("/usr/lib/postgresql", ""), ("/usr", "pgsql-")] {
        let Ok(entries) = std::fs::read_dir(parent) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(version) = name
                .strip_prefix(prefix)
                .and_then(|v| v.parse::<u32>().ok())
            else {
                continue;
            };
            let bin = entry.path().join("bin");
            if has_server(&bin) {
                candidates.push((version, bin));
            }
        }
    }
    candidates.sort();
    candidates.pop().map(|(_, dir)| dir)
}

#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

/// Effective uid 0, read from /proc (no unsafe libc call needed).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn postgres_user() -> Result<RunAs, PgError> {
    let passwd =
        std::fs::read_to_string("/etc/passwd").map_err(|e| PgError::Io("/etc/passwd".into(), e))?;
    passwd
        .lines()
        .find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.first() == Some(&"postgres") && f.len() > 3)
                .then(|| {
                    Some(RunAs {
                        uid: f[2].parse().ok()?,
                        gid: f[3].parse().ok()?,
                    })
                })
                .flatten()
        })
        .ok_or(PgError::NoPostgresUser)
}

/// A command run directly, or through `runuser -u postgres` when we are root.
fn command(program: &Path, run_as: Option<RunAs>) -> Command {
    match run_as {
        None => Command::new(program),
        Some(_) => {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        }
    }
}

async fn init_cluster(
    bin: &Path,
    dir: &Path,
    run_as: Option<RunAs>,
    options: Options,
) -> Result<(), PgError> {
    std::fs::create_dir_all(dir).map_err(|e| PgError::Io(dir.to_owned(), e))?;
    if let Some(user) = run_as {
        std::os::unix::fs::chown(dir, Some(user.uid), Some(user.gid))
            .map_err(|e| PgError::Io(dir.to_owned(), e))?;
    }
    let mut initdb = command(&bin.join("initdb"), run_as);
    initdb
        .arg("-D")
        .arg(dir)
        .args(["-U", USER, "-A", "trust", "-E", "UTF8", "--no-locale"]);
    if options.unsafe_fast {
        initdb.arg("--no-sync");
    }
    let out = initdb
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| PgError::Io(bin.join("initdb"), e))?;
    if !out.status.success() {
        return Err(PgError::Command {
            what: "initdb",
            detail: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(())
}

async fn check_version(bin: &Path, dir: &Path) -> Result<(), PgError> {
    let data_version = std::fs::read_to_string(dir.join("PG_VERSION"))
        .map_err(|e| PgError::Io(dir.to_owned(), e))?;
    let out = Command::new(bin.join("postgres"))
        .arg("--version")
        .output()
        .await
        .map_err(|e| PgError::Io(bin.join("postgres"), e))?;
    let server = String::from_utf8_lossy(&out.stdout).into_owned();
    // "postgres (PostgreSQL) 15.18" -> "15"
    let major = server
        .split_whitespace()
        .last()
        .and_then(|v| v.split('.').next())
        .unwrap_or("")
        .to_owned();
    if major != data_version.trim() {
        return Err(PgError::VersionMismatch(
            dir.to_owned(),
            data_version.trim().to_owned(),
            major,
        ));
    }
    Ok(())
}

/// The watchdog: starts postgres in the background, and when its stdin (our
/// pipe) reaches EOF asks for a fast shutdown (SIGINT). It exits when postgres does.
const WATCHDOG: &str = r#"
"$0" -D "$1" -k "$1" -p "$2" -c listen_addresses= $3 >>"$1/server.log" 2>&1 &
pg=$!
exec 3<&0
( read -r _ <&3; kill -INT "$pg" 2>/dev/null ) &
reader=$!
trap 'kill -INT "$pg" 2>/dev/null' INT TERM HUP
wait "$pg"; status=$?
kill "$reader" 2>/dev/null
exit $status
"#;

fn spawn_watchdog(
    bin: &Path,
    dir: &Path,
    run_as: Option<RunAs>,
    options: Options,
) -> Result<Child, PgError> {
    let settings = if options.unsafe_fast {
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    } else {
        // Autovacuum looks every 10 s rather than every minute: the pipeline's
        // tables churn (see sql/0011_orders_vacuum.sql), and a demo or load
        // run is often shorter than a minute.
        "-c max_connections=200 -c autovacuum_naptime=10s"
    };
    let mut sh = command(Path::new("sh"), run_as);
    sh.arg("-c")
        .arg(WATCHDOG)
        .arg(bin.join("postgres"))
        .arg(dir)
        .arg(PORT.to_string())
        .arg(settings);
    // Own process group: a Ctrl-C in the terminal reaches kofu, which then
    // shuts down in order (HTTP first, PostgreSQL last).
    sh.process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    sh.spawn().map_err(|e| PgError::Io(PathBuf::from("sh"), e))
}
