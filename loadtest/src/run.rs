//! `loadtest run`: sets up the world (PKI, cards, PostgreSQL, population,
//! proxy, gateways), drives the load, injects the faults, drains, audits,
//! reports and plots, and tears everything down.
//!
//! Rule: teardown always runs — after an error, after Ctrl-C — in the order
//! load → faults lifted → gateways (SIGTERM) → PostgreSQL, and every load
//! loop is bounded by the run's duration.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kofu::devkit::demo_pki::DemoPki;
use kofu::devkit::pgembed::{self, EmbeddedPostgres};
use kofu::devkit::sim::CopierClient;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::BoxError;
use crate::audit::{self, DbAudit, Lost};
use crate::cards;
use crate::cluster::{self, Gateway};
use crate::flow::{self, Copier, FlowConfig, LoadCard, Tally, World};
use crate::ha::HaCluster;
use crate::population;
use crate::proxy::DbProxy;
use crate::settlement::{self, SettlementReport};
use crate::stats::{self, Summary};
use crate::svg::{self, FaultMark};

/// Everything `loadtest run` was asked to do (the command line, resolved).
#[derive(Debug, Clone, Serialize)]
pub struct RunArgs {
    pub duration_s: f64,
    pub copiers: usize,
    pub rate: Option<f64>,
    pub instances: usize,
    pub gateways: Vec<String>,
    pub kofu: Option<PathBuf>,
    pub data: PathBuf,
    pub out: PathBuf,
    pub certs: Option<PathBuf>,
    #[serde(skip)]
    pub database_url: Option<String>,
    pub report: PathBuf,
    pub plot: PathBuf,
    pub cards: u32,
    pub rsa_fraction: f64,
    /// Share of residents who hold their smartphone certificate to the
    /// copier instead of their card.
    pub smartphone_fraction: f64,
    pub household_fraction: f64,
    pub other_kinds_fraction: f64,
    pub fail_fraction: f64,
    pub resend_fraction: f64,
    pub check_fraction: f64,
    pub print_ms: u64,
    pub issuance_timeout_s: f64,
    pub request_timeout_ms: u64,
    pub drain_timeout_s: f64,
    pub kill_every_s: Option<f64>,
    pub kill_down_s: f64,
    pub pg_restart_at_s: Option<f64>,
    /// SIGKILL PostgreSQL (every process of it at once) at each of these
    /// seconds and start it again on the same data.
    pub pg_crash_at_s: Vec<f64>,
    /// A Patroni cluster (primary, synchronous standby, etcd) instead of
    /// one embedded PostgreSQL.
    pub ha: bool,
    /// With `ha`: crash the primary's machine at each of these seconds,
    /// let the standby be promoted, then rejoin the old primary.
    pub pg_failover_at_s: Vec<f64>,
    pub db_cut_at_s: Option<f64>,
    pub db_cut_for_s: f64,
    pub stall_render_at_s: Option<f64>,
    pub stall_render_for_s: f64,
    pub stall_render_ms: u64,
    pub unordered: bool,
    pub render_deadline_ms: Option<u64>,
    pub print_deadline_ms: Option<u64>,
    pub db_pool_size: Option<usize>,
    pub gateway_log: String,
    pub copier_limit: u32,
    pub card_limit: u32,
    pub hostile_connections: usize,
    pub hostile_nice: i32,
    pub abusive_copier: bool,
    pub copier_burst: u32,
    pub abusive_card: bool,
}

impl RunArgs {
    fn external(&self) -> bool {
        !self.gateways.is_empty()
    }

    fn validate(&self) -> Result<(), BoxError> {
        if self.duration_s <= 0.0 || self.copiers == 0 {
            return Err("--duration and --copiers must be positive".into());
        }
        if self.rate.is_some_and(|r| r <= 0.0) {
            return Err("--rate must be positive".into());
        }
        if self.external() {
            let faults = self.kill_every_s.is_some()
                || self.pg_restart_at_s.is_some()
                || !self.pg_crash_at_s.is_empty()
                || self.ha
                || self.db_cut_at_s.is_some()
                || self.stall_render_at_s.is_some();
            if faults {
                return Err("fault injection needs gateways started by loadtest (--instances, not --gateway)".into());
            }
            if self.abusive_copier || self.abusive_card {
                return Err(
                    "--abusive-copier and --abusive-card need gateways started by loadtest".into(),
                );
            }
            if self.smartphone_fraction > 0.0 {
                return Err("--smartphone-fraction needs gateways started by loadtest".into());
            }
            for g in &self.gateways {
                let host = g
                    .strip_prefix("https://")
                    .and_then(|rest| rest.split([':', '/']).next())
                    .unwrap_or("");
                if !matches!(host, "127.0.0.1" | "localhost" | "[") && !host.starts_with("127.") {
                    return Err(format!(
                        "--gateway {g}: only loopback gateways (127.0.0.1) are allowed"
                    )
                    .into());
                }
            }
        } else if self.instances == 0 {
            return Err("--instances must be at least 1".into());
        }
        if self.ha
            && (self.pg_restart_at_s.is_some()
                || !self.pg_crash_at_s.is_empty()
                || self.db_cut_at_s.is_some())
        {
            return Err(
                "--ha has its own fault (--pg-failover-at); --pg-restart-at, --pg-crash-at and --db-cut-at are for the embedded PostgreSQL"
                    .into(),
            );
        }
        if !self.ha && !self.pg_failover_at_s.is_empty() {
            return Err("--pg-failover-at needs --ha (a standby to fail over to)".into());
        }
        Ok(())
    }
}

/// One line of the fault log.
#[derive(Debug, Clone, Serialize)]
pub struct FaultEvent {
    pub t_s: f64,
    pub kind: &'static str,
    pub target: String,
    pub detail: String,
}

/// The fault log and the plot's marks.
#[derive(Default)]
struct Faults {
    log: Mutex<Vec<FaultEvent>>,
    marks: Mutex<Vec<FaultMark>>,
}

impl Faults {
    fn event(&self, t_s: f64, kind: &'static str, target: &str, detail: String) {
        let e = FaultEvent {
            t_s: (t_s * 100.0).round() / 100.0,
            kind,
            target: target.to_owned(),
            detail,
        };
        self.log.lock().unwrap_or_else(|p| p.into_inner()).push(e);
    }

    /// Starts a mark; returns its index, for [`Faults::end_mark`].
    fn mark(&self, t: f64, label: String) -> usize {
        let mut marks = self.marks.lock().unwrap_or_else(|p| p.into_inner());
        marks.push(FaultMark {
            t,
            until: None,
            label,
        });
        marks.len() - 1
    }

    fn end_mark(&self, index: usize, until: f64) {
        if let Some(m) = self
            .marks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(index)
        {
            m.until = Some(until);
        }
    }

    fn last(&self) -> Option<FaultEvent> {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last()
            .cloned()
    }
}

/// What the harness started and must stop.
struct Infra {
    pg: Arc<tokio::sync::Mutex<Option<EmbeddedPostgres>>>,
    /// `--ha`'s Patroni cluster (instead of `pg`).
    ha: Arc<tokio::sync::Mutex<Option<HaCluster>>>,
    pool: Option<kofu::gateway::db::Pool>,
    proxy: Option<Arc<DbProxy>>,
    gateways: Vec<Arc<tokio::sync::Mutex<Gateway>>>,
    urls: Vec<String>,
    ops: Vec<std::net::SocketAddr>,
    data: PathBuf,
}

impl Infra {
    async fn shutdown(&mut self, say: &dyn Fn(&str)) {
        for g in &self.gateways {
            let mut g = g.lock().await;
            if g.running() && !g.stop(Duration::from_secs(20)).await {
                say(&format!("{} did not stop within 20 s; killed", g.name));
            }
        }
        self.proxy = None;
        self.pool = None;
        if let Some(pg) = self.pg.lock().await.take() {
            if let Err(e) = pg.stop().await {
                say(&format!("PostgreSQL did not stop cleanly: {e}"));
            }
        }
        if let Some(ha) = self.ha.lock().await.take()
            && !ha.stop().await
        {
            say("the Patroni cluster did not stop cleanly; what was left was killed");
        }
    }
}

fn say(msg: &str) {
    eprintln!("loadtest: {msg}");
}

/// Runs the whole thing; returns the process exit code.
pub async fn run(args: RunArgs) -> Result<u8, BoxError> {
    args.validate()?;
    let stop = Arc::new(AtomicBool::new(false));
    let (interrupt_tx, interrupt) = watch::channel(false);
    spawn_signal_handler(interrupt_tx);

    std::fs::create_dir_all(&args.out)?;
    let mut infra = Infra {
        pg: Arc::new(tokio::sync::Mutex::new(None)),
        ha: Arc::new(tokio::sync::Mutex::new(None)),
        pool: None,
        proxy: None,
        gateways: Vec::new(),
        urls: args.gateways.clone(),
        ops: Vec::new(),
        data: args.data.clone(),
    };
    let result = run_in(&args, &mut infra, stop, interrupt).await;
    if !infra.gateways.is_empty()
        || infra.pg.lock().await.is_some()
        || infra.ha.lock().await.is_some()
    {
        say("stopping gateways and PostgreSQL");
    }
    infra.shutdown(&say).await;
    let (report, ok) = result?;
    let text = serde_json::to_string_pretty(&report)?;
    if let Some(dir) = args.report.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.report, format!("{text}\n"))?;
    println!("{text}");
    say(&format!(
        "report written to {}, plot to {}",
        args.report.display(),
        args.plot.display()
    ));
    Ok(if ok { 0 } else { 1 })
}

fn spawn_signal_handler(tx: watch::Sender<bool>) {
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let mut first = true;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
            if !first {
                // Second signal: leave now; the watchdogs stop the gateways and PostgreSQL.
                eprintln!("\nloadtest: interrupted twice; exiting now");
                std::process::exit(130);
            }
            first = false;
            eprintln!(
                "\nloadtest: interrupted; stopping the load, then cleaning up (again to exit at once)"
            );
            let _ = tx.send(true);
        }
    });
}

/// What the setup produced for the load.
struct Setup {
    cards: Vec<LoadCard>,
    copiers: Vec<Arc<Copier>>,
    /// `--abusive-copier`'s client (a copier certificate of its own).
    abusive_copier: Option<kofu::devkit::sim::CopierClient>,
    /// `--abusive-card`'s copier: the last card, which no other copier
    /// uses, issued for in a closed loop beside the load.
    abusive_card: Option<Arc<Copier>>,
    /// The CA of the gateways' server certificate.
    server_ca: PathBuf,
    foreign_names: Vec<String>,
    base_ticket: Option<i64>,
    describe: serde_json::Value,
}

async fn setup(args: &RunArgs, infra: &mut Infra) -> Result<Setup, BoxError> {
    if args.external() {
        return setup_external(args, infra).await;
    }
    let cache = args.out.join("cache");
    let pki_dir = absolute(&cache.join("pki"))?;
    let started = Instant::now();
    let (pki, cards, phones) = {
        let pki_dir = pki_dir.clone();
        let cache = cache.clone();
        let (n, rsa, phone_share) = (args.cards, args.rsa_fraction, args.smartphone_fraction);
        tokio::task::spawn_blocking(move || -> Result<_, String> {
            let pki = DemoPki::load_or_generate(&pki_dir).map_err(|e| e.to_string())?;
            let tty = std::io::stderr().is_terminal();
            let generate = |ca, ids: &[u32], credential, what: &str| {
                cards::load_or_generate(&cache, ca, ids, rsa, credential, |done, of| {
                    if tty {
                        eprint!("\r\x1b[Kloadtest: generating {what} {done}/{of}");
                        if done == of {
                            eprintln!();
                        }
                    } else if done == of || done % 500 == 0 {
                        eprintln!("loadtest: generated {done}/{of} {what}");
                    }
                })
                .map_err(|e| e.to_string())
            };
            let all: Vec<u32> = (1..=n).collect();
            let cards = generate(&pki.user_auth_ca, &all, cards::Credential::Card, "cards")?;
            // The residents who hold their phone to the copier, spread
            // evenly; each phone is derived from the resident's card.
            let ids: Vec<u32> = all
                .into_iter()
                .filter(|i| cards::spread(*i, phone_share))
                .collect();
            let phones = generate(
                &pki.smartphone_ca,
                &ids,
                cards::Credential::Smartphone,
                "smartphone certificates",
            )?;
            Ok((pki, cards, ids.into_iter().zip(phones).collect::<Vec<_>>()))
        })
        .await??
    };
    let abusers = usize::from(args.abusive_copier) + usize::from(args.abusive_card);
    let identities = cards::copiers(&cache, &pki.store_ca, args.copiers + abusers)?;
    let rsa_cards = cards
        .iter()
        .filter(|c| c.algorithm == kofu::gateway::pki::ChallengeAlgorithm::RsaPkcs1Sha256)
        .count();
    say(&format!(
        "PKI and {} cards ({} RSA-2048, {} ECDSA P-256), {} copier certificates ready in {:.1} s (cache {})",
        cards.len(),
        rsa_cards,
        cards.len() - rsa_cards,
        identities.len(),
        started.elapsed().as_secs_f64(),
        cache.display()
    ));

    // PostgreSQL, schema, registers.
    let reused = !args.ha && args.data.join("pg").join("PG_VERSION").exists();
    let (pool, socket, ha_url) = if args.ha {
        let t = Instant::now();
        let ha = HaCluster::start(&args.data).await?;
        say(&format!(
            "Patroni cluster (primary, synchronous standby, etcd) ready in {:.1} s: {}",
            t.elapsed().as_secs_f64(),
            ha.database_url()
        ));
        let pool = kofu::gateway::db::pool(ha.config(), 4, Duration::from_secs(120));
        let url = ha.database_url();
        *infra.ha.lock().await = Some(ha);
        (pool, PathBuf::new(), Some(url))
    } else {
        let pg =
            EmbeddedPostgres::start(&args.data, pgembed::Options { unsafe_fast: false }).await?;
        let socket = pg.cluster_dir().join(".s.PGSQL.5432");
        let pool =
            kofu::gateway::db::pool(pg.config(pgembed::DATABASE), 4, Duration::from_secs(120));
        *infra.pg.lock().await = Some(pg);
        (pool, socket, None)
    };
    let mut client = pool.get().await?;
    kofu::gateway::db::migrate(&mut client).await?;
    kofu::devkit::demo_registers::seed(&mut client).await?;
    population::create_second(&mut client).await?;
    let t = Instant::now();
    let (households, residents) = population::generate(args.cards);
    population::seed(&client, &households, &residents).await?;
    population::seed_other_registers(&mut client).await?;
    let links: Vec<(Vec<u8>, String)> = cards
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let serial =
                kofu::devkit::demo_pki::card_serial(&c.cert_der).map(|s| s.as_bytes().to_vec());
            serial.map(|s| (s, population::resident_code(i as u32 + 1)))
        })
        .collect::<Result<_, _>>()?;
    population::link_cards(&client, &links).await?;
    let phone_links: Vec<(Vec<u8>, Vec<u8>)> = phones
        .iter()
        .map(|(i, phone)| {
            let serial = kofu::devkit::demo_pki::card_serial(&phone.cert_der)?;
            Ok::<_, BoxError>((serial.as_bytes().to_vec(), links[*i as usize - 1].0.clone()))
        })
        .collect::<Result<_, _>>()?;
    population::link_smartphones(&client, &phone_links).await?;
    // A long-running database is vacuumed as it goes; a reused load cluster
    // has been up only during earlier runs, too briefly for autovacuum to
    // clear what they left. Start every run from a vacuumed database, so runs
    // are comparable however many came before.
    client
        .batch_execute("VACUUM (ANALYZE) orders, sessions, documents")
        .await?;
    // A current CRL of the card CA, with national-looking revocations (none of
    // them ours): the gateways refuse every card without one.
    let revoked: Vec<_> = kofu::devkit::crl_gen::random_entries(10_000, 7).collect();
    kofu::devkit::crl_gen::publish_demo_crl(&pki.user_auth_ca, &mut client, &revoked)
        .await
        .map_err(|e| format!("CRL: {e}"))?;
    // And of the smartphone CA, without which every phone is refused.
    kofu::devkit::crl_gen::publish_demo_crl(&pki.smartphone_ca, &mut client, &revoked)
        .await
        .map_err(|e| format!("smartphone CRL: {e}"))?;
    let serials: Vec<Vec<u8>> = links.iter().map(|(s, _)| s.clone()).collect();
    let holders = population::holders(&client, &serials).await?;
    // Each card's holder lives where the generator put them; a cluster
    // seeded before the population spanned two municipalities does not.
    let home: HashMap<&str, &str> = residents
        .iter()
        .map(|r| {
            let place = population::municipality_of_household(r.household);
            (r.resident_code.as_str(), place.code)
        })
        .collect();
    for (serial, code) in &links {
        let found = holders.get(serial).map(|h| h.municipality.as_str());
        if found != home.get(code.as_str()).copied() {
            return Err(format!(
                "resident {code} is registered in {found:?}, not {:?}: the cluster at {} holds an older \
                 population; remove it and {} to start afresh",
                home.get(code.as_str()),
                args.data.display(),
                signing_secret_path(&args.data).display()
            )
            .into());
        }
    }
    let mut residents_by_municipality: BTreeMap<&str, usize> = BTreeMap::new();
    for code in home.values() {
        *residents_by_municipality.entry(*code).or_default() += 1;
    }
    let base_ticket: i64 = client.query_one(audit::BASE_TICKET_SQL, &[]).await?.get(0);
    drop(client);
    say(&format!(
        "PostgreSQL {} at {}; registers: {} households, {} residents ({residents_by_municipality:?} by municipality), {} cards linked ({:.1} s); orders so far: ticket {base_ticket}",
        if reused { "reused" } else { "initialised" },
        args.data.display(),
        households.len(),
        residents.len(),
        holders.len(),
        t.elapsed().as_secs_f64()
    ));
    infra.pool = Some(pool.clone());

    let mut load_cards = Vec::with_capacity(cards.len());
    for (card, (serial, _)) in cards.into_iter().zip(&links) {
        let holder = holders
            .get(serial)
            .cloned()
            .ok_or_else(|| format!("card {} is not linked to a resident", card.label))?;
        load_cards.push(LoadCard { card, holder });
    }
    // A smartphone resident presents the phone; its holder is the card's.
    for (i, phone) in phones.iter() {
        load_cards[*i as usize - 1].card = phone.clone();
    }

    // The proxy (only when a database cut is planned: it costs a hop and CPU
    // on every statement), then the gateways.
    let socket_dir = socket.parent().map(Path::to_path_buf).unwrap_or_default();
    let proxy = match args.db_cut_at_s {
        Some(_) => {
            let proxy = Arc::new(DbProxy::start(socket).await?);
            infra.proxy = Some(proxy.clone());
            Some(proxy)
        }
        None => None,
    };
    let database_url = match (&proxy, ha_url) {
        (_, Some(url)) => url,
        (Some(p), None) => format!(
            "postgres://{}@{}/{}",
            pgembed::USER,
            p.addr,
            pgembed::DATABASE
        ),
        (None, None) => format!(
            "host={} port=5432 user={} dbname={}",
            socket_dir.display(),
            pgembed::USER,
            pgembed::DATABASE
        ),
    };
    let kofu_bin = match &args.kofu {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .map(|d| d.join("kofu"))
            .ok_or("cannot locate the kofu binary; pass --kofu")?,
    };
    if !kofu_bin.is_file() {
        return Err(format!(
            "kofu binary {} not found (build it with `cargo build --release`, or pass --kofu)",
            kofu_bin.display()
        )
        .into());
    }
    let logs = args.out.join("logs");
    std::fs::create_dir_all(&logs)?;
    let file = |name: &str| pki_dir.join(name).display().to_string();
    let mut env: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), database_url),
        ("KOFU_TLS__SERVER_CERT".into(), file("server.pem")),
        ("KOFU_TLS__SERVER_KEY".into(), file("server.key")),
        ("KOFU_TLS__COPIER_CA".into(), file("store-ca.pem")),
        (
            "KOFU_TLS__CARD_CA".into(),
            format!("[{:?}]", file("user-auth-ca.pem")),
        ),
        (
            "KOFU_TLS__SMARTPHONE_CA".into(),
            format!("[{:?}]", file("smartphone-auth-ca.pem")),
        ),
        ("RUST_LOG".into(), args.gateway_log.clone()),
    ];
    // kofu's configuration refuses unknown keys: pass only what was asked for.
    if args.unordered {
        env.push(("KOFU_RELEASE_ORDERED".into(), "false".into()));
    }
    if let Some(ms) = args.render_deadline_ms {
        env.push(("KOFU_RENDER_DEADLINE_MS".into(), ms.to_string()));
    }
    if let Some(ms) = args.print_deadline_ms {
        env.push(("KOFU_PRINT_DEADLINE_MS".into(), ms.to_string()));
    }
    if args.stall_render_at_s.is_some() {
        env.push(("KOFU_TEST_HOOKS".into(), "true".into()));
    }
    if let Some(n) = args.db_pool_size {
        env.push(("KOFU_DB_POOL_SIZE".into(), n.to_string()));
    }
    env.push((
        "KOFU_RATE_LIMITS__COPIER_REQUESTS_PER_MINUTE".into(),
        args.copier_limit.to_string(),
    ));
    env.push((
        "KOFU_RATE_LIMITS__COPIER_REQUESTS_BURST".into(),
        args.copier_burst.to_string(),
    ));
    env.push((
        "KOFU_RATE_LIMITS__CARD_COPIES_PER_HOUR".into(),
        args.card_limit.to_string(),
    ));
    env.push((
        "KOFU_RATE_LIMITS__CARD_COPIES_BURST".into(),
        (args.card_limit / 2).max(1).to_string(),
    ));
    // The harness's copiers all come from 127.0.0.1, faster than real ones.
    env.push((
        "KOFU_RATE_LIMITS__MUNICIPALITY_ORDERS_PER_SECOND".into(),
        "1000000".into(),
    ));
    // A kofu that signs its documents needs the secret its keys are sealed
    // under (the same for every gateway); one from before signing has no
    // `document verify` and would refuse the key.
    // The secret lives beside the cluster (the keys sealed under it stay
    // there across runs), not with one run.
    let signs = signs_documents(&kofu_bin);
    if signs {
        env.push((
            "KOFU_SIGNING_SECRET".into(),
            cluster_signing_secret(&args.data)?,
        ));
    }
    // One public verification URL for every gateway, as kofu requires of
    // processes sharing a database: the QR code is part of the signed
    // bytes, so a document rendered again by another process (its first
    // renderer's copy lost with the process, or with a relaxed commit in a
    // database crash) must come out the same.
    env.push(("KOFU_VERIFY_URL".into(), "https://verify.kofu.test".into()));
    for i in 0..args.instances {
        let log = absolute(&logs.join(format!("gateway-{}.log", i + 1)))?;
        let _ = std::fs::remove_file(&log);
        let mut g = Gateway::new(i, &kofu_bin, env.clone(), log)?;
        let took = g.start(Duration::from_secs(60)).await?;
        say(&format!(
            "{} up at {} (ops {}) in {:.1} s, log {}",
            g.name,
            g.url(),
            g.ops,
            took.as_secs_f64(),
            g.log.display()
        ));
        infra.urls.push(g.url());
        infra.ops.push(g.ops);
        infra.gateways.push(Arc::new(tokio::sync::Mutex::new(g)));
    }
    // The gateways make each municipality's document signing key as they
    // start (after their listeners are bound, which is what "up" saw);
    // without one every order would be refused, so wait a little, then stop.
    if signs {
        let codes: Vec<&str> = population::MUNICIPALITIES.iter().map(|m| m.code).collect();
        let client = pool.get().await?;
        let waited = Instant::now();
        loop {
            let unkeyed: Vec<String> = client
                .query(WITHOUT_SIGNING_KEY, &[&codes])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            if unkeyed.is_empty() {
                break;
            }
            if waited.elapsed() > Duration::from_secs(15) {
                return Err(format!("no current signing key for municipality {unkeyed:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let server_ca = pki_dir.join("store-ca.pem");
    let mut copiers = Vec::with_capacity(identities.len());
    for (i, id) in identities.iter().enumerate() {
        let clients = infra
            .urls
            .iter()
            .map(|u| {
                CopierClient::new(u, &server_ca, Some((&id.cert, &id.key)))
                    .map(|c| c.with_timeout(Duration::from_millis(args.request_timeout_ms)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        copiers.push(Copier::new(clients, i));
    }
    // The abusers' certificates are the last ones; the abusive card is the
    // last card, which no other copier uses.
    let abusive_copier = if args.abusive_copier {
        copiers.pop().map(|c| c.clients[0].clone())
    } else {
        None
    };
    let abusive_card = if args.abusive_card {
        copiers.pop()
    } else {
        None
    };
    let shared = copiers.len();
    let reserved = usize::from(abusive_card.is_some());
    let copiers: Vec<Arc<Copier>> = copiers
        .into_iter()
        .map(|c| Arc::new(c.sharing(shared, reserved)))
        .collect();
    let abusive_card = abusive_card.map(|abuser| Arc::new(abuser.with_card(load_cards.len() - 1)));
    Ok(Setup {
        cards: load_cards,
        copiers,
        abusive_copier,
        abusive_card,
        server_ca,
        foreign_names: Vec::new(),
        base_ticket: Some(base_ticket),
        describe: serde_json::json!({
            "mode": "own gateways",
            "kofu": kofu_bin,
            "database": match &proxy {
                _ if args.ha => format!("Patroni cluster (primary and synchronous standby, etcd) at {}", args.data.join("ha").display()),
                Some(p) => format!("embedded PostgreSQL at {} via TCP proxy {}", args.data.display(), p.addr),
                None => format!("embedded PostgreSQL at {} over its Unix socket", args.data.display()),
            },
            "cards": links.len(),
            "rsa_cards": rsa_cards,
            "smartphone_residents": phones.len(),
            "households": households.len(),
            "residents": residents.len(),
            "residents_by_municipality": residents_by_municipality,
            "gateway_urls": infra.urls,
        }),
    })
}

async fn setup_external(args: &RunArgs, infra: &mut Infra) -> Result<Setup, BoxError> {
    let certs = args
        .certs
        .clone()
        .unwrap_or_else(|| PathBuf::from("certs/demo"));
    if !certs.join("user-auth-ca.pem").exists() {
        return Err(format!(
            "no demo PKI in {} (start `kofu demo` first, or pass --certs)",
            certs.display()
        )
        .into());
    }
    let pki = DemoPki::load_or_generate(&certs)?;
    let holders = population::demo_holders();
    let cards: Vec<LoadCard> = pki
        .cards
        .iter()
        .filter_map(|c| {
            holders.get(&c.label).map(|h| LoadCard {
                card: c.clone(),
                holder: h.clone(),
            })
        })
        .collect();
    if cards.is_empty() {
        return Err("no demo card is linked to a demo resident".into());
    }
    let foreign_names = kofu::devkit::demo_registers::RESIDENTS
        .iter()
        .map(|r| r.name.to_owned())
        .collect();
    let mut copiers = Vec::new();
    for i in 0..args.copiers {
        let (_, cert, key) =
            kofu::devkit::demo_pki::copier_files(&certs, &pki, i % pki.copiers.len().max(1));
        let clients = infra
            .urls
            .iter()
            .map(|u| {
                CopierClient::new(u, &certs.join("store-ca.pem"), Some((&cert, &key)))
                    .map(|c| c.with_timeout(Duration::from_millis(args.request_timeout_ms)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        copiers.push(Arc::new(Copier::new(clients, i).sharing(args.copiers, 0)));
    }
    let mut base_ticket = None;
    if let Some(url) = &args.database_url {
        let config: tokio_postgres::Config = url.parse()?;
        let pool = kofu::gateway::db::pool(config, 2, Duration::from_secs(120));
        let client = pool.get().await?;
        base_ticket = Some(client.query_one(audit::BASE_TICKET_SQL, &[]).await?.get(0));
        drop(client);
        infra.pool = Some(pool);
    }
    Ok(Setup {
        cards,
        copiers,
        abusive_copier: None,
        abusive_card: None,
        server_ca: certs.join("store-ca.pem"),
        foreign_names,
        base_ticket,
        describe: serde_json::json!({
            "mode": "external gateways",
            "certs": certs,
            "cards": pki.cards.len(),
            "gateway_urls": infra.urls,
            "database": if args.database_url.is_some() { "given (audited)" } else { "none (no database audits)" },
        }),
    })
}

fn absolute(p: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(p.parent().unwrap_or(Path::new(".")))?;
    if p.is_absolute() {
        Ok(p.to_owned())
    } else {
        Ok(std::env::current_dir()?.join(p))
    }
}

/// The report, as written to `--report`.
#[derive(Debug, Serialize)]
pub struct Report {
    pub accepted: usize,
    pub printed: u64,
    pub voided: u64,
    pub misdelivered: u64,
    pub duplicates: Option<u64>,
    pub lost: Option<u64>,
    pub out_of_order: Option<u64>,
    /// Settlement figures that differ from the orders', plus orders charged
    /// under another municipality or at another amount (must be 0); `None`
    /// without a database.
    pub settlement_mismatches: Option<u64>,
    /// Orders and settlement totals per municipality, and the mismatches.
    pub settlement: Option<SettlementReport>,
    /// `kofu audit verify` over the run's database after the drain: every
    /// entry, link and signed checkpoint intact (must be true); `None`
    /// without a database.
    pub audit_chain_valid: Option<bool>,
    pub throughput_per_s: f64,
    pub issuances: u64,
    pub failed: u64,
    pub abandoned: u64,
    pub latency_ms: BTreeMap<&'static str, Summary>,
    pub errors: BTreeMap<String, u64>,
    pub retries: BTreeMap<String, u64>,
    pub faults: Vec<FaultEvent>,
    pub invariants_hold: bool,
    pub details: serde_json::Value,
    pub config: RunArgs,
}

/// One copier issuing back to back while `running()`.
async fn closed_loop(
    world: Arc<World>,
    copier: Arc<Copier>,
    in_flight: Arc<AtomicU64>,
    running: impl Fn() -> bool,
) {
    while running() {
        in_flight.fetch_add(1, Ordering::Relaxed);
        flow::issue(&world, &copier).await;
        in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn run_in(
    args: &RunArgs,
    infra: &mut Infra,
    stop: Arc<AtomicBool>,
    mut interrupt: watch::Receiver<bool>,
) -> Result<(Report, bool), BoxError> {
    let setup = setup(args, infra).await?;
    if *interrupt.borrow() {
        return Err("interrupted during setup".into());
    }
    let world = Arc::new(World {
        cards: setup.cards,
        config: FlowConfig {
            issuance_timeout: Duration::from_secs_f64(args.issuance_timeout_s),
            fail_fraction: args.fail_fraction,
            resend_fraction: args.resend_fraction,
            check_fraction: args.check_fraction,
            household_fraction: args.household_fraction,
            other_kinds_fraction: args.other_kinds_fraction,
            print_time: Duration::from_millis(args.print_ms),
        },
        foreign_names: setup.foreign_names,
        fees: population::fees(),
        tally: Mutex::new(Tally::default()),
        started: Instant::now(),
    });
    let faults = Arc::new(Faults::default());
    let in_flight = Arc::new(AtomicU64::new(0));
    let duration = Duration::from_secs_f64(args.duration_s);
    let cpu_before = crate::cpu::snapshot();
    let load_started_at = time::OffsetDateTime::now_utc();
    let counters_before = match &infra.pool {
        Some(pool) => database_counters(pool).await,
        None => None,
    };
    say(&format!(
        "load: {} for {:.0} s on {} gateway(s), {} copiers",
        match args.rate {
            Some(r) => format!("open loop at {r}/s"),
            None => "closed loop".into(),
        },
        args.duration_s,
        infra.urls.len(),
        setup.copiers.len()
    ));

    // Progress line.
    let progress = {
        let (world, faults, in_flight, stop) = (
            world.clone(),
            faults.clone(),
            in_flight.clone(),
            stop.clone(),
        );
        let total = args.duration_s;
        tokio::spawn(async move { progress_loop(&world, &faults, &in_flight, &stop, total).await })
    };

    // Faults.
    let mut fault_tasks = JoinSet::new();
    spawn_faults(args, infra, &world, &faults, &stop, &mut fault_tasks);

    // Load.
    let mut load = JoinSet::new();
    let end_at = world.started + duration;
    let running = {
        let stop = stop.clone();
        move || !stop.load(Ordering::Relaxed) && Instant::now() < end_at
    };
    match args.rate {
        None => {
            for copier in &setup.copiers {
                load.spawn(closed_loop(
                    world.clone(),
                    copier.clone(),
                    in_flight.clone(),
                    running.clone(),
                ));
            }
        }
        Some(rate) => {
            // The copier idle longest takes the next arrival, so the load
            // spreads evenly, as customers spread over a chain's stores
            // (a stack handed most arrivals to the same two or three).
            let idle = Arc::new(Mutex::new(std::collections::VecDeque::from(
                setup.copiers.clone(),
            )));
            let (world, in_flight, running) = (world.clone(), in_flight.clone(), running.clone());
            load.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                let mut issuances = JoinSet::new();
                while running() {
                    tick.tick().await;
                    if !running() {
                        break;
                    }
                    let copier = idle.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(copier) = copier else {
                        world
                            .tally
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .dropped_arrivals += 1;
                        continue;
                    };
                    let (world, idle, in_flight) = (world.clone(), idle.clone(), in_flight.clone());
                    in_flight.fetch_add(1, Ordering::Relaxed);
                    issuances.spawn(async move {
                        flow::issue(&world, &copier).await;
                        in_flight.fetch_sub(1, Ordering::Relaxed);
                        idle.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push_back(copier);
                    });
                    while issuances.try_join_next().is_some() {}
                }
                while issuances.join_next().await.is_some() {}
            });
        }
    }

    // The abusive card: one resident's card issued for back to back, as
    // fast as the gateway answers, beside the copiers' load (whatever its
    // mode), so its card limit is reached in the same run. It shares the
    // run's tally: its refusals are counted by code, its few issuances
    // before the limit with everyone's.
    if let Some(copier) = &setup.abusive_card {
        load.spawn(closed_loop(
            world.clone(),
            copier.clone(),
            in_flight.clone(),
            running.clone(),
        ));
    }

    // Hostile clients beside the copiers.
    let abuse = Arc::new(crate::hostile::Counters::default());
    let mut abuse_tasks = JoinSet::new();
    let mut hostile_process = None;
    if args.hostile_connections > 0 {
        let addresses = infra
            .urls
            .iter()
            .map(|u| u.trim_start_matches("https://").parse())
            .collect::<Result<Vec<std::net::SocketAddr>, _>>()?;
        hostile_process = Some(crate::hostile::spawn_process(
            &addresses,
            &setup.server_ca,
            args.hostile_connections,
            args.duration_s,
            args.hostile_nice,
        )?);
    }
    if let Some(copier) = &setup.abusive_copier {
        crate::hostile::spawn_abusive_copier(
            copier.clone(),
            abuse.clone(),
            stop.clone(),
            &mut abuse_tasks,
        );
    }

    // Until the duration is over or Ctrl-C.
    tokio::select! {
        _ = tokio::time::sleep_until(end_at.into()) => {}
        _ = interrupt.wait_for(|i| *i) => {}
    }
    let interrupted = *interrupt.borrow();
    let load_s = world.now_s().min(args.duration_s);
    let cpu_spent = crate::cpu::spent(&cpu_before, &crate::cpu::snapshot());
    let finished_in_load = {
        let tally = world.tally.lock().unwrap_or_else(|p| p.into_inner());
        tally.printed + tally.voided
    };
    stop.store(true, Ordering::Relaxed);
    say(&format!(
        "load stopped at {load_s:.1} s; waiting for {} issuance(s) in flight",
        in_flight.load(Ordering::Relaxed)
    ));
    let grace = if interrupted {
        Duration::from_secs(10)
    } else {
        world.config.issuance_timeout + Duration::from_secs(15)
    };
    let waited =
        tokio::time::timeout(grace, async { while load.join_next().await.is_some() {} }).await;
    if waited.is_err() {
        say("issuances still in flight after the grace period; abandoned");
        load.abort_all();
    }
    while fault_tasks.join_next().await.is_some() {}
    progress.abort();
    restore_after_faults(args, infra, &faults, &world).await;

    // Drain and audit.
    let mut details = serde_json::Map::new();
    let (db_audit, lost, drain) = match (&infra.pool, setup.base_ticket) {
        (Some(pool), Some(base)) => {
            let drain_limit = if interrupted {
                Duration::from_secs(5)
            } else {
                Duration::from_secs_f64(args.drain_timeout_s)
            };
            let drain = drain(pool, base, drain_limit, &interrupt).await;
            let client = pool.get().await?;
            let acked: std::collections::HashSet<uuid::Uuid> = {
                let tally = world.tally.lock().unwrap_or_else(|p| p.into_inner());
                tally.book.acked().map(|(id, _, _)| id).collect()
            };
            let db_audit = audit::audit_db(&client, base, &acked).await?;
            let tally = world.tally.lock().unwrap_or_else(|p| p.into_inner());
            let lost = audit::lost(tally.book.acked(), &db_audit.rows);
            (Some(db_audit), Some(lost), Some(drain))
        }
        _ => (None, None, None),
    };
    let settlement = match (&infra.pool, &db_audit) {
        (Some(pool), Some(db_audit)) => {
            let charges = {
                let tally = world.tally.lock().unwrap_or_else(|p| p.into_inner());
                settlement::charges(tally.book.charges(), &db_audit.rows)
            };
            let codes: BTreeSet<String> = world
                .cards
                .iter()
                .map(|c| c.holder.municipality.clone())
                .collect();
            let codes: Vec<String> = codes.into_iter().collect();
            let days = settlement::tokyo_days(load_started_at, time::OffsetDateTime::now_utc());
            let client = pool.get().await?;
            let audited = settlement::audit(&client, &codes, &days, charges).await?;
            for (code, m) in &audited.municipalities {
                say(&format!(
                    "settlement {code} ({}): run orders {} (printed {}, voided {}, fees {} yen); settled {} printed, fees {} yen, commission {} yen, payable {} yen, {} voided, refunds {} yen",
                    audited.days.join(", "),
                    m.run.orders,
                    m.run.printed,
                    m.run.voided,
                    m.run.fees_yen,
                    m.settled.printed_orders,
                    m.settled.fees_yen,
                    m.settled.commission_yen,
                    m.settled.payable_yen,
                    m.settled.voided_orders,
                    m.settled.refunds_yen
                ));
            }
            say(&format!(
                "settlement_mismatches: {} ({} figures, {} orders under another municipality, {} at another amount)",
                audited.settlement_mismatches,
                audited.figure_mismatches,
                audited.wrong_municipality,
                audited.wrong_amount
            ));
            Some(audited)
        }
        _ => None,
    };

    // The audit trail the load wrote, checked the way `kofu audit verify` does.
    let audit_chain = match &infra.pool {
        Some(pool) => {
            let client = pool.get().await?;
            // What the load committed is chained first (the gateways' own
            // sealers run every 100 ms; this one may finish their work).
            kofu::gateway::audit::seal_all(&client, Duration::from_secs(10)).await?;
            let chain = kofu::gateway::audit::verify(&client, &[]).await?;
            say(&format!(
                "audit chain: valid {} ({} entries, {} checkpoints{})",
                chain.valid,
                chain.entries,
                chain.checkpoints,
                match chain.first_bad_seq {
                    Some(seq) => format!(", first bad seq {seq}: {}", chain.reason),
                    None => String::new(),
                }
            ));
            Some(chain)
        }
        None => None,
    };

    // A crash or a failover resets the counters (or moves them to another
    // server): only a run without one has figures per issuance.
    let database_faults = args.pg_restart_at_s.is_some()
        || !args.pg_crash_at_s.is_empty()
        || !args.pg_failover_at_s.is_empty();
    let counters_after = match &infra.pool {
        Some(pool) if !database_faults => database_counters(pool).await,
        _ => None,
    };
    {
        // CPU milliseconds per finished issuance during the load, by process:
        // where the two cores go (see `cpu`; meaningful without kill faults).
        let per = |name: &str| {
            let seconds = cpu_spent.get(name).copied().unwrap_or(0.0);
            (seconds * 1000.0 / finished_in_load.max(1) as f64 * 100.0).round() / 100.0
        };
        let total: f64 = cpu_spent.values().sum();
        details.insert(
            "cpu_ms_per_issuance".into(),
            serde_json::json!({
                "kofu": per("kofu"),
                "postgres": per("postgres"),
                "loadtest": per("loadtest"),
                "everything": (total * 1000.0 / finished_in_load.max(1) as f64 * 100.0).round() / 100.0,
            }),
        );
    }
    // The load's metrics, as Prometheus would scrape them, linted.
    let mut lints = serde_json::Map::new();
    for g in &infra.gateways {
        let (name, ops) = {
            let g = g.lock().await;
            (g.name.clone(), g.ops)
        };
        lints.insert(name, cluster::lint_metrics(ops).await.into());
    }
    details.insert("metrics_lint".into(), lints.into());
    abuse_tasks.abort_all();
    // The hostile process ends with the load (dropped, it is killed).
    let hostile = match hostile_process {
        Some(child) => {
            match tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await {
                Ok(Ok(out)) => {
                    serde_json::from_slice::<crate::hostile::AbuseReport>(&out.stdout).ok()
                }
                _ => None,
            }
        }
        None => None,
    };
    if args.hostile_connections > 0 || args.abusive_copier || args.abusive_card {
        let tally = world.tally.lock().unwrap_or_else(|p| p.into_inner());
        let mut report = abuse.report(args.hostile_connections);
        if let Some(h) = hostile {
            report.hostile_connects = h.hostile_connects;
            report.hostile_closed_by_gateway = h.hostile_closed_by_gateway;
            report.hostile_connect_failures = h.hostile_connect_failures;
        }
        let mut report = serde_json::to_value(report)?;
        report["hostile_nice"] = args.hostile_nice.into();
        report["card_rate_limited"] = tally
            .errors
            .iter()
            .filter(|(code, _)| code.contains("card_rate_limited"))
            .map(|(_, n)| n)
            .sum::<u64>()
            .into();
        details.insert("abuse".into(), report);
    }
    let tally = world.tally.lock().unwrap_or_else(|p| p.into_inner());
    if let (Some(before), Some(after)) = (counters_before, counters_after) {
        // Every transaction PostgreSQL committed in kofu's database during the
        // load (reads included), and the WAL written, per finished issuance:
        // the denominators of the database ceiling in `loadtest bench` and
        // of the capacity estimate (`loadtest/capacity.py`).
        let finished = (tally.printed + tally.voided).max(1) as f64;
        let commits = after.commits - before.commits;
        let wal = after.wal_bytes - before.wal_bytes;
        details.insert(
            "database".into(),
            serde_json::json!({
                "transactions_committed": commits,
                "transactions_per_issuance": (commits as f64 / finished * 10.0).round() / 10.0,
                "wal_bytes": wal,
                "wal_bytes_per_issuance": (wal as f64 / finished).round(),
                "connections": before.connections.max(after.connections),
            }),
        );
    }
    let report = build_report(
        args,
        &setup.describe,
        &tally,
        &faults,
        infra,
        &setup.copiers,
        load_s,
        interrupted,
        db_audit.as_ref(),
        lost,
        drain,
        settlement,
        audit_chain,
        &mut details,
    );
    // The plot.
    let series = tally.rec.series(load_s);
    let marks = faults
        .marks
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let title = format!(
        "kofu loadtest: {} gateway(s){}, {}, {:.0} s — printed {}, voided {}, {:.1}/s",
        infra.urls.len(),
        if args.unordered { " UNORDERED" } else { "" },
        match args.rate {
            Some(r) => format!("{r}/s open loop"),
            None => format!("{} copiers closed loop", args.copiers),
        },
        load_s,
        tally.printed,
        tally.voided,
        report.throughput_per_s
    );
    if let Some(dir) = args.plot.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(
        &args.plot,
        svg::latency_svg(&series, &marks, load_s, &title),
    )?;
    let ok = report.invariants_hold;
    Ok((report, ok))
}

async fn drain(
    pool: &kofu::gateway::db::Pool,
    base: i64,
    limit: Duration,
    interrupt: &watch::Receiver<bool>,
) -> (f64, i64) {
    let started = Instant::now();
    let mut said = false;
    loop {
        let unfinished = match pool.get().await {
            Ok(c) => match c.query_one(audit::UNFINISHED_SQL, &[&base]).await {
                Ok(row) => row.get::<_, i64>(0),
                Err(_) => -1,
            },
            Err(_) => -1,
        };
        if unfinished == 0 || started.elapsed() >= limit || (*interrupt.borrow() && said) {
            return (started.elapsed().as_secs_f64(), unfinished);
        }
        if !said {
            say(&format!(
                "draining: {unfinished} order(s) of the run not yet printed or voided (waiting up to {:.0} s)",
                limit.as_secs_f64()
            ));
            said = true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Retries closer than this belong to one window of refusals: more than a
/// copier's longest back-off (2 s, plus up to half of it as jitter), so one
/// outage is one window however few copiers ask during it.
const REFUSAL_GAP_S: f64 = 3.5;

/// For each fault, the longest window of retried answers that began
/// between its start and ten seconds after its end: how long copiers were
/// refused around it (503s and lost connections, retried with back-off).
fn refusal_windows(retried_at: &[f64], faults: &Faults) -> serde_json::Value {
    let windows = stats::windows(retried_at, REFUSAL_GAP_S);
    let marks = faults.marks.lock().unwrap_or_else(|p| p.into_inner());
    let per_fault: Vec<serde_json::Value> = marks
        .iter()
        .map(|m| {
            let end = m.until.unwrap_or(m.t) + 10.0;
            let longest = windows
                .iter()
                .filter(|w| w.from_s >= m.t - 1.0 && w.from_s <= end)
                .max_by(|a, b| (a.to_s - a.from_s).total_cmp(&(b.to_s - b.from_s)));
            serde_json::json!({
                "fault": m.label,
                "at_s": (m.t * 100.0).round() / 100.0,
                "longest_s": longest.map(|w| ((w.to_s - w.from_s) * 100.0).round() / 100.0),
                "window": longest,
            })
        })
        .collect();
    serde_json::json!({
        "longest_s": per_fault.iter().filter_map(|f| f["longest_s"].as_f64()).fold(0.0, f64::max),
        "per_fault": per_fault,
    })
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
fn build_report(
    args: &RunArgs,
    describe: &serde_json::Value,
    tally: &Tally,
    faults: &Faults,
    infra: &Infra,
    copiers: &[Arc<Copier>],
    load_s: f64,
    interrupted: bool,
    db: Option<&DbAudit>,
    lost: Option<Lost>,
    drain: Option<(f64, i64)>,
    settlement: Option<SettlementReport>,
    audit_chain: Option<kofu::gateway::audit::Report>,
    details: &mut serde_json::Map<String, serde_json::Value>,
) -> Report {
    let throughput = if load_s > 0.0 {
        ((tally.printed + tally.voided) as f64 / load_s * 10.0).round() / 10.0
    } else {
        0.0
    };
    let duplicates = db.map(|d| tally.book.duplicates() + d.key_duplicates + d.printed_and_voided);
    let out_of_order = db.and_then(|d| d.out_of_order_sql);
    let lost_total = lost.map(|l| l.total());
    let invariants_hold = tally.misdelivered == 0
        && tally.book.duplicates() == 0
        && duplicates.unwrap_or(0) == 0
        && lost_total.unwrap_or(0) == 0
        && lost.is_none_or(|l| l.outcome_mismatch == 0)
        && db.is_none_or(|d| d.unacknowledged_printed == 0)
        && (args.unordered || out_of_order.unwrap_or(0) == 0)
        && db.is_none_or(|d| d.out_of_order_sql == d.out_of_order_recomputed)
        && settlement
            .as_ref()
            .is_none_or(|s| s.settlement_mismatches == 0)
        && audit_chain.as_ref().is_none_or(|a| a.valid);

    let mut pdf_ms = tally.pdf_check_ms.clone();
    details.insert("interrupted".into(), interrupted.into());
    if let Some(chain) = &audit_chain {
        details.insert(
            "audit_chain".into(),
            serde_json::to_value(chain).expect("serialises"),
        );
    }
    details.insert(
        "load_seconds".into(),
        ((load_s * 10.0).round() / 10.0).into(),
    );
    details.insert("setup".into(), describe.clone());
    details.insert(
        "client_side".into(),
        serde_json::json!({
            "restarts_after_lost_card_answer": tally.restarts,
            "restarts_after_lost_relaxed_commit": tally.relaxed_restarts,
            "order_resends_same_key": tally.resends,
            "dropped_arrivals": tally.dropped_arrivals,
            "voided_by": tally.voided_by,
            "options": tally.options,
            "ticket_conflicts": tally.book.ticket_conflicts,
            "order_ids_shared_by_issuances": tally.book.shared_order_ids,
            "idempotency_key_remapped": tally.book.key_remapped,
            "tls_handshakes": copiers.iter().map(|c| c.connections_opened()).sum::<u64>(),
        }),
    );
    details.insert(
        "refusal_windows".into(),
        refusal_windows(&tally.retried_at, faults),
    );
    details.insert(
        "pdf_checks".into(),
        serde_json::json!({
            "fraction": args.check_fraction,
            "checked": tally.pdf_checked,
            "check_ms": stats::summarize(&mut pdf_ms),
            "misdelivery_examples": tally.misdelivery_examples,
        }),
    );
    match (db, lost, drain) {
        (Some(d), Some(l), Some((drain_s, unfinished))) => {
            details.insert(
                "database_audit".into(),
                serde_json::json!({
                    "drain_seconds": (drain_s * 10.0).round() / 10.0,
                    "unfinished_after_drain": unfinished,
                    "orders_in_run": d.orders,
                    "by_state": d.by_state,
                    "by_credential": d.by_credential,
                    "void_reasons": d.void_reasons,
                    "lost_missing_from_db": l.missing,
                    "lost_not_final": l.unfinished,
                    "outcome_mismatch": l.outcome_mismatch,
                    "unacknowledged_orders": d.unacknowledged,
                    "unacknowledged_but_printed": d.unacknowledged_printed,
                    "duplicate_session_key_rows": d.key_duplicates,
                    "printed_and_voided": d.printed_and_voided,
                    "out_of_order_sql": d.out_of_order_sql,
                    "out_of_order_recomputed": d.out_of_order_recomputed,
                }),
            );
        }
        _ => {
            details.insert(
                "database_audit".into(),
                "skipped: no database (pass --database-url with --gateway)".into(),
            );
        }
    }
    let mut gateway_logs = Vec::new();
    for g in &infra.gateways {
        if let Ok(g) = g.try_lock() {
            let text = cluster::strip_ansi(&std::fs::read_to_string(&g.log).unwrap_or_default());
            let bad: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("ERROR") || l.contains("panicked"))
                .collect();
            let warnings = text.lines().filter(|l| l.contains(" WARN ")).count();
            gateway_logs.push(serde_json::json!({
                "name": g.name,
                "url": g.url(),
                "starts": g.starts,
                "log": g.log,
                "error_lines": bad.len(),
                "warn_lines": warnings,
                "first_errors": bad.iter().take(3).collect::<Vec<_>>(),
            }));
        }
    }
    details.insert("gateways".into(), gateway_logs.into());
    if let Some(p) = &infra.proxy {
        let (forwarded, refused) = p.counts();
        details.insert(
            "db_proxy".into(),
            serde_json::json!({"connections_forwarded": forwarded, "connections_refused": refused}),
        );
    }
    details.insert("plot".into(), args.plot.display().to_string().into());

    Report {
        accepted: tally.book.accepted(),
        printed: tally.printed,
        voided: tally.voided,
        misdelivered: tally.misdelivered,
        duplicates: duplicates.or(Some(tally.book.duplicates())),
        lost: lost_total,
        out_of_order,
        settlement_mismatches: settlement.as_ref().map(|s| s.settlement_mismatches),
        settlement,
        audit_chain_valid: audit_chain.as_ref().map(|a| a.valid),
        throughput_per_s: throughput,
        issuances: tally.issuances,
        failed: tally.failed,
        abandoned: tally.abandoned,
        latency_ms: tally.rec.summaries().into_iter().collect(),
        errors: tally.errors.clone(),
        retries: tally.retries.clone(),
        faults: faults.log.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        invariants_hold,
        details: serde_json::Value::Object(std::mem::take(details)),
        config: args.clone(),
    }
}

async fn progress_loop(
    world: &World,
    faults: &Faults,
    in_flight: &AtomicU64,
    stop: &AtomicBool,
    total_s: f64,
) {
    let tty = std::io::stderr().is_terminal();
    let every = if tty {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(5)
    };
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let now = world.now_s();
        let line = {
            let t = world.tally.lock().unwrap_or_else(|p| p.into_inner());
            let done = (now / total_s).clamp(0.0, 1.0);
            let width = 20;
            let filled = (done * width as f64).round() as usize;
            let bar: String = "#".repeat(filled) + &"-".repeat(width - filled);
            let fault = faults
                .last()
                .map(|f| format!(" | {:.0}s {} {}", f.t_s, f.kind, f.target))
                .unwrap_or_default();
            format!(
                "[{bar}] {:>4.0}/{:.0}s accepted {} printed {} voided {} errors {} misdelivered {} | {:.1}/s | in flight {}{fault}",
                now.min(total_s),
                total_s,
                t.book.accepted(),
                t.printed,
                t.voided,
                t.failed + t.abandoned,
                t.misdelivered,
                t.rec.recent_rate(now, 3),
                in_flight.load(Ordering::Relaxed),
            )
        };
        if tty {
            eprint!("\r\x1b[K{line}");
        } else {
            eprintln!("{line}");
        }
        if stop.load(Ordering::Relaxed) {
            if tty {
                eprintln!();
            }
            return;
        }
    }
}

/// Sleeps until `at_s` into the run; false when the run ended first.
async fn wait_until(world: &World, stop: &AtomicBool, at_s: f64, end_s: f64) -> bool {
    loop {
        let now = world.now_s();
        if stop.load(Ordering::Relaxed) || at_s >= end_s {
            return false;
        }
        if now >= at_s {
            return true;
        }
        tokio::time::sleep(Duration::from_secs_f64((at_s - now).min(0.2))).await;
    }
}

/// Sleeps for `d`, cut short when the run ends.
async fn hold(stop: &AtomicBool, d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        tokio::time::sleep((until - Instant::now()).min(Duration::from_millis(100))).await;
    }
}

/// Milliseconds of render delay in force (0 = none), re-applied to restarted gateways.
static STALL_MS: AtomicU64 = AtomicU64::new(0);

async fn set_render_delay(ops: &[std::net::SocketAddr], ms: u64) -> Vec<String> {
    let mut outcome = Vec::new();
    for addr in ops {
        match cluster::http_put(*addr, "/test/render-delay-ms", &ms.to_string()).await {
            Ok(status) => outcome.push(format!("{addr}: {status}")),
            Err(e) => outcome.push(format!("{addr}: {e}")),
        }
    }
    outcome
}

fn spawn_faults(
    args: &RunArgs,
    infra: &Infra,
    world: &Arc<World>,
    faults: &Arc<Faults>,
    stop: &Arc<AtomicBool>,
    tasks: &mut JoinSet<()>,
) {
    let end_s = args.duration_s;
    if let Some(every) = args.kill_every_s.filter(|k| *k > 0.0) {
        let (world, faults, stop, gateways) = (
            world.clone(),
            faults.clone(),
            stop.clone(),
            infra.gateways.clone(),
        );
        let down = Duration::from_secs_f64(args.kill_down_s);
        tasks.spawn(async move {
            let mut n = 0usize;
            while wait_until(&world, &stop, every * (n + 1) as f64, end_s).await {
                let gw = &gateways[n % gateways.len()];
                let mut g = gw.lock().await;
                let pid = g.pid;
                let t = world.now_s();
                g.kill().await;
                faults.event(
                    t,
                    "kill",
                    &g.name,
                    format!("SIGKILL pid {}", pid.unwrap_or(0)),
                );
                let mark = faults.mark(t, format!("kill {}", g.name));
                tokio::time::sleep(down).await;
                // Like a supervisor (systemd Restart=always): start again until it stays up.
                let mut attempts = 0u32;
                loop {
                    attempts += 1;
                    match g.start(Duration::from_secs(60)).await {
                        Ok(took) => {
                            let t2 = world.now_s();
                            faults.event(
                                t2,
                                "restart",
                                &g.name,
                                format!(
                                    "pid {} serving {:.2} s after the start (attempt {attempts})",
                                    g.pid.unwrap_or(0),
                                    took.as_secs_f64()
                                ),
                            );
                            faults.end_mark(mark, t2);
                            let stall = STALL_MS.load(Ordering::Relaxed);
                            if stall > 0 {
                                set_render_delay(&[g.ops], stall).await;
                            }
                            break;
                        }
                        Err(e) => {
                            if attempts == 1 {
                                faults.event(
                                    world.now_s(),
                                    "restart_failed",
                                    &g.name,
                                    e.to_string(),
                                );
                            }
                            if stop.load(Ordering::Relaxed) {
                                break; // restore_after_faults brings it back
                            }
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
                n += 1;
            }
        });
    }
    if let Some(at) = args.pg_restart_at_s {
        let (world, faults, stop, pg, data) = (
            world.clone(),
            faults.clone(),
            stop.clone(),
            infra.pg.clone(),
            infra.data.clone(),
        );
        tasks.spawn(async move {
            if !wait_until(&world, &stop, at, end_s).await {
                return;
            }
            let mut slot = pg.lock().await;
            let Some(running) = slot.take() else {
                return;
            };
            let t = world.now_s();
            faults.event(t, "pg_stop", "postgresql", "fast shutdown".into());
            let mark = faults.mark(t, "PostgreSQL restart".into());
            let stopped = running.stop().await;
            faults.event(
                world.now_s(),
                "pg_stopped",
                "postgresql",
                match stopped {
                    Ok(()) => "stopped".into(),
                    Err(e) => format!("stop failed: {e}"),
                },
            );
            bring_back(
                &world,
                &faults,
                &mut slot,
                &data,
                (t, mark),
                "pg_started",
                |down, _| format!("down {down:.2} s"),
            )
            .await;
        });
    }
    if !args.pg_crash_at_s.is_empty() {
        let (world, faults, stop, pg, data) = (
            world.clone(),
            faults.clone(),
            stop.clone(),
            infra.pg.clone(),
            infra.data.clone(),
        );
        let times = args.pg_crash_at_s.clone();
        tasks.spawn(async move {
            for at in times {
                if !wait_until(&world, &stop, at, end_s).await {
                    return;
                }
                crash_postgres(&world, &faults, &pg, &data).await;
            }
        });
    }
    if !args.pg_failover_at_s.is_empty() {
        let (world, faults, stop, ha) = (
            world.clone(),
            faults.clone(),
            stop.clone(),
            infra.ha.clone(),
        );
        let times = args.pg_failover_at_s.clone();
        tasks.spawn(async move {
            for at in times {
                if !wait_until(&world, &stop, at, end_s).await {
                    return;
                }
                fail_over(&world, &faults, &ha).await;
            }
        });
    }
    if let (Some(at), Some(proxy)) = (args.db_cut_at_s, infra.proxy.clone()) {
        let (world, faults, stop) = (world.clone(), faults.clone(), stop.clone());
        let d = Duration::from_secs_f64(args.db_cut_for_s);
        tasks.spawn(async move {
            if !wait_until(&world, &stop, at, end_s).await {
                return;
            }
            let t = world.now_s();
            proxy.set_cut(true);
            faults.event(
                t,
                "db_cut",
                "db-proxy",
                format!(
                    "all connections closed, new ones refused for {:.1} s",
                    d.as_secs_f64()
                ),
            );
            let mark = faults.mark(t, "database cut".into());
            hold(&stop, d).await;
            proxy.set_cut(false);
            let t2 = world.now_s();
            faults.event(
                t2,
                "db_restored",
                "db-proxy",
                "connections allowed again".into(),
            );
            faults.end_mark(mark, t2);
        });
    }
    if let Some(at) = args.stall_render_at_s {
        let (world, faults, stop, ops) = (
            world.clone(),
            faults.clone(),
            stop.clone(),
            infra.ops.clone(),
        );
        let (d, ms) = (
            Duration::from_secs_f64(args.stall_render_for_s),
            args.stall_render_ms,
        );
        tasks.spawn(async move {
            if !wait_until(&world, &stop, at, end_s).await {
                return;
            }
            let t = world.now_s();
            STALL_MS.store(ms, Ordering::Relaxed);
            let outcome = set_render_delay(&ops, ms).await;
            faults.event(
                t,
                "render_stall",
                "all gateways",
                format!("{ms} ms per render ({})", outcome.join(", ")),
            );
            let mark = faults.mark(t, format!("render +{ms} ms"));
            hold(&stop, d).await;
            STALL_MS.store(0, Ordering::Relaxed);
            let outcome = set_render_delay(&ops, 0).await;
            let t2 = world.now_s();
            faults.event(t2, "render_normal", "all gateways", outcome.join(", "));
            faults.end_mark(mark, t2);
        });
    }
}

/// `--pg-crash-at`: SIGKILL to every PostgreSQL process at once, then a
/// start on the same data (crash recovery), again until it comes up.
async fn crash_postgres(
    world: &World,
    faults: &Faults,
    pg: &tokio::sync::Mutex<Option<EmbeddedPostgres>>,
    data: &Path,
) {
    let mut slot = pg.lock().await;
    let Some(running) = slot.take() else {
        return;
    };
    let t = world.now_s();
    let crashed = running.crash().await;
    faults.event(
        t,
        "pg_crash",
        "postgresql",
        match crashed {
            Ok(()) => "SIGKILL to the postmaster and every backend".into(),
            Err(e) => format!("crash incomplete: {e}"),
        },
    );
    let mark = faults.mark(t, "PostgreSQL crash".into());
    bring_back(
        world,
        faults,
        &mut slot,
        data,
        (t, mark),
        "pg_recovered",
        |down, attempts| format!("crash recovery done, down {down:.2} s (attempt {attempts})"),
    )
    .await;
}

/// Starts PostgreSQL again after a fault that began at `since` (its time
/// and its mark), records `event` with `detail(seconds down, attempts)` and
/// closes the mark; or records that it would not start.
async fn bring_back(
    world: &World,
    faults: &Faults,
    slot: &mut Option<EmbeddedPostgres>,
    data: &Path,
    since: (f64, usize),
    event: &'static str,
    detail: impl FnOnce(f64, u32) -> String,
) {
    let (t, mark) = since;
    match start_again(data).await {
        Ok((started, attempts)) => {
            *slot = Some(started);
            let t2 = world.now_s();
            faults.event(t2, event, "postgresql", detail(t2 - t, attempts));
            faults.end_mark(mark, t2);
        }
        Err(e) => faults.event(
            world.now_s(),
            "pg_start_failed",
            "postgresql",
            e.to_string(),
        ),
    }
}

/// Starts the embedded PostgreSQL on `data` again, every half second for
/// up to 30 s: after a crash the old backends may take a moment to be
/// reaped, and a start before then is refused (shared memory still
/// attached). Returns the server and the attempts it took.
async fn start_again(data: &Path) -> Result<(EmbeddedPostgres, u32), pgembed::PgError> {
    let mut attempt = 1;
    loop {
        match EmbeddedPostgres::start(data, pgembed::Options { unsafe_fast: false }).await {
            Ok(pg) => return Ok((pg, attempt)),
            Err(e) if attempt == 60 => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
        attempt += 1;
    }
}

/// `--pg-failover-at`: the primary's machine crashes (Patroni, postmaster
/// and backends SIGKILLed at once), the synchronous standby is promoted
/// when the leader key expires, and the old primary starts again and
/// rejoins as the standby.
async fn fail_over(world: &World, faults: &Faults, ha: &tokio::sync::Mutex<Option<HaCluster>>) {
    let mut slot = ha.lock().await;
    let Some(cluster) = slot.as_mut() else {
        return;
    };
    // A failover needs a synchronous standby to promote.
    if let Err(e) = cluster.wait_healthy(Duration::from_secs(60)).await {
        faults.event(
            world.now_s(),
            "pg_failover_skipped",
            "patroni",
            e.to_string(),
        );
        return;
    }
    let Some(old) = cluster.leader().await else {
        faults.event(
            world.now_s(),
            "pg_failover_skipped",
            "patroni",
            "no leader".into(),
        );
        return;
    };
    let name = cluster.nodes[old].name.clone();
    let t = world.now_s();
    cluster.crash(old).await;
    faults.event(
        t,
        "pg_primary_crash",
        &name,
        "SIGKILL to Patroni, the postmaster and every backend".into(),
    );
    let mark = faults.mark(t, format!("failover from {name}"));
    match cluster
        .wait_leader(Some(old), Duration::from_secs(120))
        .await
    {
        Ok(new) => {
            let t2 = world.now_s();
            faults.event(
                t2,
                "pg_promoted",
                &cluster.nodes[new].name,
                format!("primary {:.2} s after the crash", t2 - t),
            );
            faults.end_mark(mark, t2);
        }
        Err(e) => faults.event(
            world.now_s(),
            "pg_promotion_failed",
            "patroni",
            e.to_string(),
        ),
    }
    let t3 = world.now_s();
    match cluster.restart(old).await {
        Ok(()) => match cluster.wait_healthy(Duration::from_secs(120)).await {
            Ok(()) => faults.event(
                world.now_s(),
                "pg_rejoined",
                &name,
                format!(
                    "synchronous standby again {:.2} s after its restart",
                    world.now_s() - t3
                ),
            ),
            Err(e) => faults.event(world.now_s(), "pg_rejoin_failed", &name, e.to_string()),
        },
        Err(e) => faults.event(world.now_s(), "pg_rejoin_failed", &name, e.to_string()),
    }
}

/// After the load: every gateway running, the database reachable, rendering at full speed.
async fn restore_after_faults(args: &RunArgs, infra: &Infra, faults: &Faults, world: &World) {
    if let Some(p) = &infra.proxy {
        p.set_cut(false);
    }
    if args.stall_render_at_s.is_some() && STALL_MS.swap(0, Ordering::Relaxed) > 0 {
        set_render_delay(&infra.ops, 0).await;
    }
    if let Some(cluster) = infra.ha.lock().await.as_mut() {
        for i in 0..cluster.nodes.len() {
            if let Err(e) = cluster.restart(i).await {
                say(&format!(
                    "{} did not start again: {e}",
                    cluster.nodes[i].name
                ));
            }
        }
        if let Err(e) = cluster.wait_healthy(Duration::from_secs(120)).await {
            say(&e.to_string());
        }
    } else if infra.pg.lock().await.is_none() && !args.external() {
        match start_again(&infra.data).await {
            Ok((pg, _)) => *infra.pg.lock().await = Some(pg),
            Err(e) => say(&format!("PostgreSQL did not come back: {e}")),
        }
    }
    for g in &infra.gateways {
        let mut g = g.lock().await;
        if !g.running() {
            match g.start(Duration::from_secs(60)).await {
                Ok(_) => faults.event(world.now_s(), "restart", &g.name, "after the load".into()),
                Err(e) => say(&format!("{} did not come back: {e}", g.name)),
            }
        }
    }
}

/// PostgreSQL's counters for kofu's database, read before and after the load.
#[derive(Debug, Clone, Copy)]
struct DbCounters {
    /// `pg_stat_database.xact_commit`.
    commits: i64,
    /// The WAL insert position, in bytes.
    wal_bytes: i64,
    /// Connections to kofu's database now (the gateways' pools and ours).
    connections: i64,
}

/// [`DbCounters`] now, after flushing this backend's statistics.
async fn database_counters(pool: &kofu::gateway::db::Pool) -> Option<DbCounters> {
    let client = pool.get().await.ok()?;
    // Statistics reach the shared counters about once a second.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let row = client
        .query_one(
            "SELECT xact_commit, (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8,
                    (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database())
               FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .await
        .ok()?;
    Some(DbCounters {
        commits: row.get(0),
        wal_bytes: row.get(1),
        connections: row.get(2),
    })
}

/// The municipalities of `$1` without a current document signing key.
const WITHOUT_SIGNING_KEY: &str = "
    SELECT m.code FROM municipalities m
     WHERE m.code = ANY($1)
       AND NOT EXISTS (SELECT 1 FROM signing_keys k WHERE k.municipality_code = m.code
                          AND k.retired_at IS NULL AND k.revoked_at IS NULL)";

/// Where the signing secret of the cluster in `data` is kept: beside it
/// (`pg` → `pg.signing-secret`), so that removing the cluster directory and
/// this file together starts both afresh.
pub fn signing_secret_path(data: &Path) -> PathBuf {
    let mut name = data.file_name().unwrap_or_default().to_os_string();
    name.push(".signing-secret");
    data.with_file_name(name)
}

/// The signing secret the gateways on the cluster in `data` share: read
/// from [`signing_secret_path`], or generated and written there (mode 0600)
/// the first time. Every run on that cluster then unseals the keys the first
/// one provisioned.
fn cluster_signing_secret(data: &Path) -> Result<String, BoxError> {
    let path = signing_secret_path(data);
    match std::fs::read_to_string(&path) {
        Ok(text) => return Ok(text.trim().to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("reading {}: {e}", path.display()).into()),
    }
    let secret = kofu::gateway::signing::SigningSecret::generate_hex();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, secret.as_bytes())?;
    Ok(secret)
}

/// Whether `kofu` is a build that signs documents (it has `document verify`).
fn signs_documents(kofu: &std::path::Path) -> bool {
    std::process::Command::new(kofu)
        .args(["document", "verify", "--help"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every run on one cluster gets the secret its keys were sealed under
    /// (a bench's second round once could not sign: each run made its own).
    #[test]
    fn runs_on_one_cluster_share_its_signing_secret() {
        let dir = std::env::temp_dir().join(format!("loadtest-secret-{}", std::process::id()));
        let data = dir.join("pg");
        let first = cluster_signing_secret(&data).unwrap();
        assert_eq!(first.len(), 64, "a hex secret of 32 bytes");
        assert_eq!(cluster_signing_secret(&data).unwrap(), first);
        assert_eq!(signing_secret_path(&data), dir.join("pg.signing-secret"));
        std::fs::remove_file(signing_secret_path(&data)).unwrap();
        assert_ne!(cluster_signing_secret(&data).unwrap(), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
