//! Test harness: one private PostgreSQL cluster per test process, a migrated
//! template database, and per test a fresh database cloned from it plus a
//! gateway on port 0. The test PKI is generated once per process by the same
//! code as the demo PKI, with extra cards for the refusal cases.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kofu::devkit::demo_pki::{CardKey, CardSpec, DemoCard, DemoPki, Issuer};
use kofu::devkit::pgembed::{self, EmbeddedPostgres};
use kofu::devkit::sim::CopierClient;
use kofu::gateway::config::{Config, TlsFiles};
use kofu::gateway::db::Pool;
use kofu::gateway::server::Gateway;
use time::{Duration, OffsetDateTime};

/// `(name, state)` of each check of a `/readyz` answer, in order.
pub fn check_states(health: &serde_json::Value) -> Vec<(String, String)> {
    health["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Per-process scratch directory; stale ones from dead test processes are removed.
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let tmp = std::env::temp_dir();
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("kofu-it-")
                    && !Path::new("/proc").join(pid).exists()
                {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = tmp.join(format!("kofu-it-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// The cluster's connection settings (the cluster itself lives on a
/// dedicated thread until the process exits; its watchdog then stops it).
/// The signing secret of every gateway the tests start (they share a database).
pub const SIGNING_SECRET: &str = "6b6f6675207465737420646f63756d656e74207369676e696e67207365637265";

/// Makes `kofu_template` (migrated, demo registers seeded) in `pg`, from
/// which each test's database is cloned; the cluster's admin connection.
pub async fn prepare_template(pg: &EmbeddedPostgres) -> tokio_postgres::Config {
    let admin = pg.config("postgres");
    let (client, conn) = admin.connect(tokio_postgres::NoTls).await.unwrap();
    let conn = tokio::spawn(conn);
    client
        .batch_execute("DROP DATABASE IF EXISTS kofu_template")
        .await
        .unwrap();
    client
        .batch_execute("CREATE DATABASE kofu_template")
        .await
        .unwrap();
    drop(client);
    let _ = conn.await;
    let pool = kofu::gateway::db::pool(
        pg.config("kofu_template"),
        1,
        std::time::Duration::from_secs(30),
    );
    let mut c = pool.get().await.unwrap();
    kofu::gateway::db::migrate(&mut c).await.unwrap();
    kofu::devkit::demo_registers::seed(&mut c).await.unwrap();
    drop(c);
    pool.close();
    admin
}

fn cluster() -> &'static tokio_postgres::Config {
    static CLUSTER: OnceLock<tokio_postgres::Config> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let pg =
                    EmbeddedPostgres::start(scratch_dir(), pgembed::Options { unsafe_fast: true })
                        .await
                        .expect("start the test PostgreSQL");
                let admin = prepare_template(&pg).await;
                tx.send(admin).unwrap();
                // Keep `pg` (and its watchdog pipe) alive for the whole process.
                std::future::pending::<()>().await;
                drop(pg);
            });
        });
        rx.recv().expect("test PostgreSQL started")
    })
}

/// Cards made for the refusal cases, beside the demo ones.
pub struct TestPki {
    pub dir: PathBuf,
    pub demo: DemoPki,
    pub expired: DemoCard,
    pub not_yet_valid: DemoCard,
    pub wrong_key_usage: DemoCard,
    pub no_policy: DemoCard,
    pub unknown_issuer: DemoCard,
    pub unlinked: DemoCard,
}

impl TestPki {
    /// A demo card, or a demo smartphone certificate (`phone-…`).
    pub fn card(&self, label: &str) -> &DemoCard {
        self.demo
            .cards
            .iter()
            .chain(&self.demo.phones)
            .find(|c| c.label == label)
            .unwrap_or_else(|| panic!("no demo card or phone {label}"))
    }
}

/// A card's serial in hexadecimal, as J-LIS events name it.
pub fn serial_hex(card: &DemoCard) -> String {
    kofu::devkit::demo_pki::card_serial(&card.cert_der)
        .unwrap()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn spec(key: CardKey, not_before: OffsetDateTime, not_after: OffsetDateTime) -> CardSpec {
    CardSpec {
        key,
        serial: kofu::gateway::random_bytes::<16>().to_vec(),
        not_before,
        not_after,
        key_usage_digital_signature: true,
        with_policy: true,
        cn: format!(
            "TEST{:08X}",
            u32::from_be_bytes(kofu::gateway::random_bytes())
        ),
    }
}

pub fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = scratch_dir().join("certs");
        let demo = DemoPki::load_or_generate(&dir).expect("generate the test PKI");
        kofu::devkit::operator_pki::OperatorPki::ensure_files(&dir)
            .expect("generate the operator PKI");
        let now = OffsetDateTime::now_utc();
        let ca = &demo.user_auth_ca;
        let card = |label: &str, s: CardSpec| ca.issue_card(label, &s).expect("issue test card");
        let expired = card(
            "expired",
            spec(
                CardKey::EcdsaP256,
                now - Duration::days(400),
                now - Duration::days(1),
            ),
        );
        let not_yet_valid = card(
            "not-yet-valid",
            spec(
                CardKey::EcdsaP256,
                now + Duration::days(2),
                now + Duration::days(400),
            ),
        );
        let wrong_key_usage = card(
            "wrong-ku",
            CardSpec {
                key_usage_digital_signature: false,
                ..spec(
                    CardKey::EcdsaP256,
                    now - Duration::days(1),
                    now + Duration::days(400),
                )
            },
        );
        let no_policy = card(
            "no-policy",
            CardSpec {
                with_policy: false,
                ..spec(
                    CardKey::EcdsaP256,
                    now - Duration::days(1),
                    now + Duration::days(400),
                )
            },
        );
        let unlinked = card(
            "unlinked",
            spec(
                CardKey::EcdsaP256,
                now - Duration::days(1),
                now + Duration::days(400),
            ),
        );
        let stranger = Issuer::user_auth_ca("stranger").expect("second CA");
        let unknown_issuer = stranger
            .issue_card(
                "unknown-issuer",
                &spec(
                    CardKey::EcdsaP256,
                    now - Duration::days(1),
                    now + Duration::days(400),
                ),
            )
            .expect("card from unknown CA");
        TestPki {
            dir,
            demo,
            expired,
            not_yet_valid,
            wrong_key_usage,
            no_policy,
            unknown_issuer,
            unlinked,
        }
    })
}

/// A gateway on a fresh database, with the demo registers and card links.
pub struct TestApp {
    pub gateway: Gateway,
    pub pool: Pool,
    pub api: String,
    pub pki: &'static TestPki,
    pub dbname: String,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_in(cluster(), adjust).await
    }

    /// A gateway on a database of the cluster `admin` connects to (which
    /// [`prepare_template`] has prepared), e.g. one the test stops itself.
    pub async fn spawn_in(
        admin: &tokio_postgres::Config,
        adjust: impl FnOnce(&mut Config),
    ) -> TestApp {
        // RUST_LOG=kofu=debug shows the gateway's logs for a failing test.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
        let pki = pki();
        let dbname = format!(
            "t_{}",
            kofu::gateway::http::hex(&kofu::gateway::random_bytes::<8>())
        );
        let (client, conn) = admin.connect(tokio_postgres::NoTls).await.unwrap();
        let conn = tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {dbname} TEMPLATE kofu_template"))
            .await
            .unwrap();
        drop(client);
        let _ = conn.await;

        let mut db = admin.clone();
        db.dbname(&dbname);
        let pool = kofu::gateway::db::pool(db, 8, std::time::Duration::from_secs(10));
        {
            let mut client = pool.get().await.unwrap();
            kofu::devkit::demo_registers::link_demo_credentials(&mut client, &pki.demo)
                .await
                .expect("demo credentials linked, current CRLs of the test CAs");
        }
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            ops_listen: "127.0.0.1:0".parse().unwrap(),
            admin_listen: "127.0.0.1:0".parse().unwrap(),
            tls: TlsFiles::in_dir(&pki.dir),
            render_workers: 2,
            signing_secret: Some(kofu::gateway::config::Redacted(SIGNING_SECRET.into())),
            // Tests drive copiers far faster than real ones, and many pass
            // one card between two copiers: the limits are tested where
            // they are set (`abuse.rs`), not everywhere.
            rate_limits: kofu::gateway::config::RateLimits {
                copier_requests_per_minute: 1_000_000,
                copier_requests_burst: 1_000_000,
                card_copies_per_hour: 1_000_000,
                card_copies_burst: 100_000,
                card_exclusive_secs: 0,
                municipality_orders_per_second: 1_000_000,
                public_requests_per_minute: 1_000_000,
                refusal_delay_ms: 0,
            },
            ..Config::default()
        };
        adjust(&mut config);
        let gateway = Gateway::start(config, pool.clone())
            .await
            .expect("gateway starts");
        let api = format!("https://{}", gateway.api_addr);
        TestApp {
            gateway,
            pool,
            api,
            pki,
            dbname,
        }
    }

    /// Demo copier `n` (1-based), with its client certificate.
    /// The render stall of a gateway spawned with `test_hooks`.
    pub fn render_stall(&self) -> &kofu::gateway::pipeline::workers::RenderStall {
        self.gateway
            .state
            .render_stall
            .as_deref()
            .expect("spawned with test_hooks = true")
    }

    pub fn copier(&self, n: usize) -> CopierClient {
        let (_, cert, key) =
            kofu::devkit::demo_pki::copier_files(&self.pki.dir, &self.pki.demo, n - 1);
        CopierClient::new(
            &self.api,
            &self.pki.dir.join("store-ca.pem"),
            Some((&cert, &key)),
        )
        .unwrap()
    }

    /// A client of the administration listener presenting the certificate
    /// and key `<stem>.pem`/`.key` from the test PKI directory.
    pub fn admin_client(&self, stem: &str) -> CopierClient {
        let dir = &self.pki.dir;
        let admin = self.gateway.admin_addr.expect("admin listener");
        CopierClient::new(
            &format!("https://{admin}"),
            &dir.join("store-ca.pem"),
            Some((
                &dir.join(format!("{stem}.pem")),
                &dir.join(format!("{stem}.key")),
            )),
        )
        .unwrap()
    }

    /// Demo copier `n` with a session in which `card` has been verified.
    pub async fn authenticated_session(
        &self,
        n: usize,
        card: &str,
    ) -> (CopierClient, kofu::devkit::sim::OpenedSession) {
        let copier = self.copier(n);
        let session = copier.open_session().await.unwrap();
        copier
            .present_card(&session, self.pki.card(card), "ja")
            .await
            .unwrap();
        (copier, session)
    }

    /// A client that presents no certificate.
    pub fn anonymous(&self) -> CopierClient {
        CopierClient::new(&self.api, &self.pki.dir.join("store-ca.pem"), None).unwrap()
    }

    pub async fn db(&self) -> kofu::gateway::db::Client {
        self.pool.get().await.unwrap()
    }

    /// The first column of the one row `sql` returns.
    pub async fn scalar<T: tokio_postgres::types::FromSqlOwned>(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> T {
        self.db().await.query_one(sql, params).await.unwrap().get(0)
    }

    /// The `DATABASE_URL` of this test's database (for `kofu serve` processes).
    pub fn database_url(&self) -> String {
        let config = cluster();
        let host = match &config.get_hosts()[0] {
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
        };
        let dbname = &self.dbname;
        format!(
            "host={host} port={} user={} dbname={dbname}",
            config.get_ports()[0],
            kofu::devkit::pgembed::USER
        )
    }
}

/// The text of each page of a PDF, read back through its ToUnicode map.
pub fn page_texts(pdf: &[u8]) -> Vec<String> {
    kofu::gateway::render::reader::read(pdf)
        .expect("the PDF reads back")
        .pages
        .into_iter()
        .map(|items| items.concat())
        .collect()
}

/// `pdfimages -list` (poppler): each image's width, height and colour space.
pub fn pdfimages(pdf: &[u8]) -> Vec<(u32, u32, String)> {
    let path = std::env::temp_dir().join(format!(
        "kofu-pdfimages-{}.pdf",
        uuid::Uuid::from_bytes(kofu::gateway::random_bytes())
    ));
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&path)
        .output()
        .expect("pdfimages (poppler-utils; .ci/run installs it) runs");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(2)
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            (
                f[3].parse().unwrap(),
                f[4].parse().unwrap(),
                f[5].to_owned(),
            )
        })
        .collect()
}

/// The text of each page as poppler's `pdftotext` reads it (what a
/// receiver's software sees), pages split at form feeds, with the 「複写」
/// background's lines dropped and all whitespace removed (poppler breaks
/// lines at the ideographic space inside names). Compare with [`squeezed`].
pub fn pdftotext(pdf: &[u8]) -> Vec<String> {
    let path = std::env::temp_dir().join(format!(
        "kofu-pdftotext-{}.pdf",
        uuid::Uuid::from_bytes(kofu::gateway::random_bytes())
    ));
    std::fs::write(&path, pdf).expect("temp file written");
    let out = std::process::Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; .ci/run installs it) runs");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 text");
    let mut pages: Vec<String> = text
        .split('\u{c}')
        .map(|page| {
            page.lines()
                .filter(|line| {
                    !line
                        .chars()
                        .all(|c| c == '複' || c == '写' || c.is_whitespace())
                })
                .map(squeezed)
                .collect()
        })
        .collect();
    if pages.last().is_some_and(|p| p.is_empty()) {
        pages.pop();
    }
    pages
}

/// `text` without whitespace (ideographic spaces included).
pub fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A `kofu serve` child process on the test's database.
pub struct ServeProcess {
    child: std::process::Child,
    pub api: String,
    ops: String,
}

impl ServeProcess {
    pub fn start(app: &TestApp) -> ServeProcess {
        Self::start_with(app, &[])
    }

    pub fn start_with(app: &TestApp, env: &[(&str, &str)]) -> ServeProcess {
        use std::io::{BufRead, BufReader};
        let dir = &app.pki.dir;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kofu"))
            .args(["--log-json", "serve"])
            .env("DATABASE_URL", app.database_url())
            .env("KOFU_LISTEN", "127.0.0.1:0")
            .env("KOFU_OPS_LISTEN", "127.0.0.1:0")
            .env("KOFU_TLS__SERVER_CERT", dir.join("server.pem"))
            .env("KOFU_TLS__SERVER_KEY", dir.join("server.key"))
            .env("KOFU_TLS__COPIER_CA", dir.join("store-ca.pem"))
            .env(
                "KOFU_TLS__CARD_CA",
                format!("[\"{}\"]", dir.join("user-auth-ca.pem").display()),
            )
            .env(
                "KOFU_TLS__SMARTPHONE_CA",
                format!("[\"{}\"]", dir.join("smartphone-auth-ca.pem").display()),
            )
            .env("KOFU_SIGNING_SECRET", SIGNING_SECRET)
            // As in `TestApp`: the limits are tested where they are set.
            .env("KOFU_RATE_LIMITS__CARD_EXCLUSIVE_SECS", "0")
            .env("KOFU_RATE_LIMITS__COPIER_REQUESTS_PER_MINUTE", "1000000")
            .env("KOFU_RATE_LIMITS__COPIER_REQUESTS_BURST", "1000000")
            .env("KOFU_RATE_LIMITS__CARD_COPIES_PER_HOUR", "1000000")
            .env("KOFU_RATE_LIMITS__CARD_COPIES_BURST", "100000")
            .env(
                "KOFU_RATE_LIMITS__MUNICIPALITY_ORDERS_PER_SECOND",
                "1000000",
            )
            .env("KOFU_RATE_LIMITS__PUBLIC_REQUESTS_PER_MINUTE", "1000000")
            // One public verification URL for every process on the database,
            // as in a deployment: it is printed in each QR code, so a
            // document re-rendered on this process comes out byte-identical.
            .env("KOFU_VERIFY_URL", &app.api)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let (api, ops) = loop {
            let line = lines.next().expect("kofu serve exited early").unwrap();
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if let (Some(api), Some(ops)) = (
                v["fields"]["api_addr"].as_str(),
                v["fields"]["ops_addr"].as_str(),
            ) {
                break (format!("https://{api}"), ops.to_owned());
            }
        };
        std::thread::spawn(move || for _ in lines {});
        ServeProcess { child, api, ops }
    }

    /// The test-only hook on the operations listener.
    pub fn set_render_delay_ms(&self, ms: u64) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&self.ops).unwrap();
        let body = ms.to_string();
        write!(s, "PUT /test/render-delay-ms HTTP/1.1\r\nHost: ops\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }

    pub fn kill(&mut self) {
        self.child.kill().unwrap(); // SIGKILL: no drain, no goodbye
        self.child.wait().unwrap();
    }

    pub fn copier(&self, app: &TestApp, n: usize) -> CopierClient {
        let (_, cert, key) =
            kofu::devkit::demo_pki::copier_files(&app.pki.dir, &app.pki.demo, n - 1);
        CopierClient::new(
            &self.api,
            &app.pki.dir.join("store-ca.pem"),
            Some((&cert, &key)),
        )
        .unwrap()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

pub fn chromium() -> std::path::PathBuf {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(std::path::PathBuf::from)
    .find(|p| p.exists())
    .expect("chromium is not installed: apt-get install chromium (.ci/run does)")
}

/// Runs headless Chromium on `url` with `args` and returns its stdout.
pub fn headless(url: &str, args: &[&str]) -> String {
    let profile = tempfile_dir("chromium-profile");
    let out = std::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--ignore-certificate-errors",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = scratch_dir().join(format!(
        "{name}-{}",
        uuid::Uuid::from_bytes(kofu::gateway::random_bytes())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
