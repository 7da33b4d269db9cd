//! `loadtest`: simulated store copiers for kofu.
//!
//! - `loadtest once --gateway URL` runs one issuance (session → card → order
//!   → document → printed) against a running gateway with the demo PKI and
//!   prints one JSON line.
//! - `loadtest run` is the load and fault harness: many copiers over mutual
//!   TLS against gateways it starts itself (or external ones), faults on a
//!   schedule, then audits of strict order, binding, exactly-once and the
//!   settlement, a JSON report and a latency plot. See loadtest/README.md.
//!
//! # Layout
//! - [`run`]        — orchestration: setup, load, faults, drain, audits, report, teardown.
//! - [`flow`]       — one issuance with a copier's retries, and the checks on what comes back.
//! - [`pdfcheck`]   — reads a delivered PDF back and checks it page by page.
//! - [`audit`]      — the ack book and the database audits (lost, duplicates, out of order).
//! - [`settlement`] — kofu's daily settlement against the orders, to the yen, per municipality and store chain.
//! - [`cluster`]    — `kofu serve` processes under a watchdog: start, SIGKILL, restart, stop.
//! - [`proxy`]      — the TCP proxy in front of PostgreSQL that can cut it off.
//! - [`ha`]         — `--ha`: a Patroni cluster (primary, synchronous standby, etcd) and its failovers.
//! - [`cards`]      — cached card and copier certificates from the demo PKI's CAs.
//! - [`population`] — the synthetic residents and households, and who holds which card.
//! - [`stats`]      — percentiles and the per-second series.
//! - [`svg`]        — the hand-written latency plot.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use kofu::devkit::demo_pki::DemoPki;
use kofu::devkit::sim::{CopierClient, OrderSpec};
use kofu::gateway::registry::ResidenceOptions;

mod audit;
mod bench;
mod cards;
mod cluster;
mod cpu;
mod flow;
mod ha;
mod hostile;
mod pdfcheck;
mod population;
mod proxy;
mod run;
mod settlement;
mod stats;
mod svg;

/// An error from a command, for `main` to print.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser)]
#[command(name = "loadtest", about = "Simulated store copiers for kofu")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One issuance, end to end, printed to stdout as a JSON line.
    Once {
        /// The gateway, e.g. https://127.0.0.1:8443
        #[arg(long, default_value = "https://127.0.0.1:8443")]
        gateway: String,
        /// The demo PKI directory the gateway was started with.
        #[arg(long, default_value = "certs/demo")]
        certs: PathBuf,
        /// Which demo copier (1-based).
        #[arg(long, default_value_t = 1)]
        copier: usize,
        /// Which demo card.
        #[arg(long, default_value = "card-ecdsa-1")]
        card: String,
        /// Ask for the whole household.
        #[arg(long)]
        household: bool,
        /// Where to write the PDF.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The load and fault harness: prints (and writes) a JSON report; exit 1 when an invariant broke.
    Run(Box<RunCli>),
    /// What strict order costs and how close kofu gets to this machine's ceilings:
    /// alternating ordered/unordered load runs, the render ceiling and pgbench, in one go.
    Bench(Box<BenchCli>),
    /// Writes a municipality's `residents` register file (CSV, the header
    /// `kofu municipality import` documents) of N synthetic residents, for
    /// timing an import: `--changed` gives every one of them another
    /// became-resident date, so loading it after the plain file updates all.
    /// The hostile connections of `run --hostile-connections`, in a process
    /// of their own (`run` starts it): prints what they did as JSON.
    #[command(hide = true)]
    Hostile {
        #[arg(long, required = true)]
        gateway: Vec<std::net::SocketAddr>,
        #[arg(long)]
        server_ca: PathBuf,
        #[arg(long)]
        connections: usize,
        #[arg(long)]
        seconds: f64,
    },
    ResidentsCsv {
        #[arg(long, default_value_t = 100_000)]
        residents: u32,
        /// The municipality whose register it is (its name goes in the addresses).
        #[arg(long, default_value = "東京都みなと町")]
        place: String,
        #[arg(long)]
        changed: bool,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args)]
struct BenchCli {
    /// Ordered/unordered pairs of load runs.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds of rendering alone for the render ceiling.
    #[arg(long, default_value_t = 10.0)]
    render_seconds: f64,
    /// Seconds of pgbench for the database ceiling.
    #[arg(long, default_value_t = 15)]
    pgbench_seconds: u64,
    /// pgbench clients.
    #[arg(long, default_value_t = 16)]
    pgbench_clients: usize,
    /// The load runs (same flags as `run`; use --instances 2).
    #[command(flatten)]
    run: RunCli,
}

#[derive(Args)]
struct RunCli {
    /// Seconds of load.
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// Virtual copiers (each with its own client certificate). Closed loop: each runs issuance after issuance.
    #[arg(long, default_value_t = 16)]
    copiers: usize,
    /// Open loop instead: start this many issuances per second (at most --copiers outstanding; arrivals with no idle copier are dropped and counted).
    #[arg(long)]
    rate: Option<f64>,
    /// `kofu serve` processes to start (ignored with --gateway).
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// An external gateway instead (repeatable); only the demo cards and copiers from --certs work there.
    #[arg(long = "gateway")]
    gateways: Vec<String>,
    /// The kofu binary (default: `kofu` next to this executable).
    #[arg(long)]
    kofu: Option<PathBuf>,
    /// Directory of the private PostgreSQL cluster (kept and reused).
    #[arg(long, default_value = "loadtest/out/pg")]
    data: PathBuf,
    /// Output directory: cache/ (PKI, cards, copiers), logs/.
    #[arg(long, default_value = "loadtest/out")]
    out: PathBuf,
    /// Demo PKI directory (external gateways only; default certs/demo).
    #[arg(long)]
    certs: Option<PathBuf>,
    /// PostgreSQL of the external gateways, for the audits (e.g. "host=/path/var/pg user=kofu dbname=kofu").
    #[arg(long)]
    database_url: Option<String>,
    /// Where the JSON report goes (default <out>/report.json).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Where the latency plot goes (default <out>/latency.svg).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Cards (and synthetic residents) in the population.
    #[arg(long, default_value_t = 2000)]
    cards: u32,
    /// Fraction of RSA-2048 cards; the rest are ECDSA P-256.
    #[arg(long, default_value_t = 0.05)]
    rsa_fraction: f64,
    /// Fraction of residents who hold their smartphone certificate
    /// (スマホ用電子証明書, derived from their card) to the copier instead
    /// of the card.
    #[arg(long, default_value_t = 0.0)]
    smartphone_fraction: f64,
    /// Fraction of whole-household certificates.
    #[arg(long, default_value_t = 0.3)]
    household_fraction: f64,
    /// Fraction of issuances for the other six kinds (record, seal, tax and
    /// the three family-register kinds), spread over them; the rest are
    /// residence certificates.
    #[arg(long, default_value_t = 0.0)]
    other_kinds_fraction: f64,
    /// Fraction of issuances reported `failed` instead of printed (voids and refunds).
    #[arg(long, default_value_t = 0.02)]
    fail_fraction: f64,
    /// Fraction of orders sent again with the same Idempotency-Key after their acknowledgement.
    #[arg(long, default_value_t = 0.02)]
    resend_fraction: f64,
    /// Fraction of delivered PDFs parsed and checked page by page (headers are always checked).
    #[arg(long, default_value_t = 1.0)]
    check_fraction: f64,
    /// Milliseconds the copier takes to print before confirming.
    #[arg(long, default_value_t = 0)]
    print_ms: u64,
    /// Seconds an issuance may take, retries included, before the copier gives up.
    #[arg(long, default_value_t = 60.0)]
    issuance_timeout: f64,
    /// Per-request timeout (the gateway may hold a document request for its document_wait_ms).
    #[arg(long, default_value_t = 30_000)]
    request_timeout_ms: u64,
    /// After the load, wait at most this long for every order of the run to be printed or voided.
    #[arg(long, default_value_t = 150.0)]
    drain_timeout: f64,
    /// SIGKILL one gateway every K seconds (round robin) and restart it.
    #[arg(long, value_name = "K")]
    kill_every: Option<f64>,
    /// Seconds a killed gateway stays down.
    #[arg(long, default_value_t = 1.0)]
    kill_down: f64,
    /// Stop PostgreSQL at T seconds and start it again on the same data.
    #[arg(long, value_name = "T")]
    pg_restart_at: Option<f64>,
    /// Crash PostgreSQL at T seconds (SIGKILL to the postmaster and every
    /// backend at once; no shutdown checkpoint) and start it on the same
    /// data; repeatable (`--pg-crash-at 60 --pg-crash-at 120`, or `60,120`).
    #[arg(long, value_name = "T", value_delimiter = ',')]
    pg_crash_at: Vec<f64>,
    /// Run PostgreSQL as a Patroni cluster (a primary and a synchronous
    /// standby, with etcd) on this machine instead of one embedded server.
    #[arg(long)]
    ha: bool,
    /// With --ha: crash the primary's machine at T seconds (Patroni and
    /// PostgreSQL SIGKILLed), let the standby be promoted, and rejoin the
    /// old primary as the standby; repeatable like --pg-crash-at.
    #[arg(long, value_name = "T", value_delimiter = ',')]
    pg_failover_at: Vec<f64>,
    /// With --ha: a failover every K seconds of the run (adds to --pg-failover-at).
    #[arg(long, value_name = "K")]
    pg_failover_every: Option<f64>,
    /// Cut the gateways off PostgreSQL at T seconds (TCP proxy closes every connection and refuses new ones).
    #[arg(long, value_name = "T")]
    db_cut_at: Option<f64>,
    /// How long the cut lasts, in seconds.
    #[arg(long, value_name = "D", default_value_t = 5.0)]
    db_cut_for: f64,
    /// Slow every render down at T seconds (gateways run with KOFU_TEST_HOOKS=true).
    #[arg(long, value_name = "T")]
    stall_render_at: Option<f64>,
    /// How long the stall lasts, in seconds.
    #[arg(long, value_name = "D", default_value_t = 10.0)]
    stall_render_for: f64,
    /// Milliseconds added to each render during the stall.
    #[arg(long, value_name = "X", default_value_t = 2000)]
    stall_render_ms: u64,
    /// Gateways release documents as soon as rendered (KOFU_RELEASE_ORDERED=false; benchmark only).
    #[arg(long)]
    unordered: bool,
    /// KOFU_RENDER_DEADLINE_MS for the gateways (kofu's default when absent).
    #[arg(long)]
    render_deadline_ms: Option<u64>,
    /// KOFU_PRINT_DEADLINE_MS for the gateways (kofu's default when absent).
    #[arg(long)]
    print_deadline_ms: Option<u64>,
    /// KOFU_DB_POOL_SIZE for the gateways.
    #[arg(long)]
    db_pool_size: Option<usize>,
    /// RUST_LOG for the gateways (their logs are in <out>/logs/).
    #[arg(long, default_value = "warn")]
    gateway_log: String,
    /// Copier API requests per minute and copier (KOFU_RATE_LIMITS__COPIER_REQUESTS_PER_MINUTE).
    /// The simulated copiers are a hundred times faster than real ones, so
    /// the default is far above kofu's own (600).
    #[arg(long, default_value_t = 1_000_000)]
    copier_limit: u32,
    /// Copier API requests that may come at once (KOFU_RATE_LIMITS__COPIER_REQUESTS_BURST).
    #[arg(long, default_value_t = 1_000_000)]
    copier_burst: u32,
    /// Copies per hour and card (KOFU_RATE_LIMITS__CARD_COPIES_PER_HOUR; half of it may come at once).
    #[arg(long, default_value_t = 1_000_000)]
    card_limit: u32,
    /// Idle, slow and half-open connections without a certificate, from
    /// 250 other loopback addresses, held for the whole run.
    #[arg(long, default_value_t = 0)]
    hostile_connections: usize,
    /// The niceness of the hostile connections' process (0: the copiers'
    /// own priority; 10: an attacker on other machines, roughly).
    #[arg(long, default_value_t = 10)]
    hostile_nice: i32,
    /// One more copier (a valid certificate) opening sessions as fast as it can.
    #[arg(long)]
    abusive_copier: bool,
    /// One more copier printing one card over and over, as fast as it can.
    #[arg(long)]
    abusive_card: bool,
}

/// `--pg-failover-at` and every multiple of `--pg-failover-every` before
/// the end of the run, in order.
fn failover_times(at: Vec<f64>, every: Option<f64>, duration: f64) -> Vec<f64> {
    let mut times = at;
    if let Some(k) = every.filter(|k| *k > 0.0) {
        times.extend(
            (1..)
                .map(|n| k * f64::from(n))
                .take_while(|t| *t < duration),
        );
    }
    times.sort_by(f64::total_cmp);
    times
}

impl RunCli {
    fn resolve(self) -> run::RunArgs {
        run::RunArgs {
            report: self.report.unwrap_or_else(|| self.out.join("report.json")),
            plot: self.plot.unwrap_or_else(|| self.out.join("latency.svg")),
            duration_s: self.duration,
            copiers: self.copiers,
            rate: self.rate,
            instances: self.instances,
            gateways: self.gateways,
            kofu: self.kofu,
            data: self.data,
            out: self.out,
            certs: self.certs,
            database_url: self.database_url,
            cards: self.cards.max(1),
            rsa_fraction: self.rsa_fraction,
            smartphone_fraction: self.smartphone_fraction.clamp(0.0, 1.0),
            household_fraction: self.household_fraction,
            other_kinds_fraction: self.other_kinds_fraction,
            fail_fraction: self.fail_fraction,
            resend_fraction: self.resend_fraction,
            check_fraction: self.check_fraction,
            print_ms: self.print_ms,
            issuance_timeout_s: self.issuance_timeout,
            request_timeout_ms: self.request_timeout_ms,
            drain_timeout_s: self.drain_timeout,
            kill_every_s: self.kill_every,
            kill_down_s: self.kill_down,
            pg_restart_at_s: self.pg_restart_at,
            pg_crash_at_s: self.pg_crash_at,
            ha: self.ha,
            pg_failover_at_s: failover_times(
                self.pg_failover_at,
                self.pg_failover_every,
                self.duration,
            ),
            db_cut_at_s: self.db_cut_at,
            db_cut_for_s: self.db_cut_for,
            stall_render_at_s: self.stall_render_at,
            stall_render_for_s: self.stall_render_for,
            stall_render_ms: self.stall_render_ms,
            unordered: self.unordered,
            render_deadline_ms: self.render_deadline_ms,
            print_deadline_ms: self.print_deadline_ms,
            db_pool_size: self.db_pool_size,
            gateway_log: self.gateway_log,
            copier_limit: self.copier_limit,
            card_limit: self.card_limit,
            hostile_connections: self.hostile_connections,
            hostile_nice: self.hostile_nice,
            abusive_copier: self.abusive_copier,
            copier_burst: self.copier_burst,
            abusive_card: self.abusive_card,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Once {
            gateway,
            certs,
            copier,
            card,
            household,
            out,
        } => match once(&gateway, &certs, copier, &card, household, out).await {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("loadtest: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Bench(cli) => {
            let BenchCli {
                rounds,
                render_seconds,
                pgbench_seconds,
                pgbench_clients,
                run,
            } = *cli;
            let args = bench::BenchArgs {
                rounds,
                base: run.resolve(),
                render_seconds,
                pgbench_seconds,
                pgbench_clients,
            };
            match bench::bench(args).await {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    eprintln!("loadtest: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Hostile {
            gateway,
            server_ca,
            connections,
            seconds,
        } => match hostile::run_process(&gateway, &server_ca, connections, seconds).await {
            Ok(report) => {
                println!(
                    "{}",
                    serde_json::to_string(&report).expect("a report serialises")
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("loadtest: {e}");
                ExitCode::FAILURE
            }
        },
        Command::ResidentsCsv {
            residents,
            place,
            changed,
            out,
        } => match std::fs::write(&out, population::residents_csv(residents, &place, changed)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("loadtest: {}: {e}", out.display());
                ExitCode::from(2)
            }
        },
        Command::Run(cli) => match run::run(cli.resolve()).await {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("loadtest: {e}");
                ExitCode::from(2)
            }
        },
    }
}

async fn once(
    gateway: &str,
    certs: &std::path::Path,
    copier: usize,
    card: &str,
    household: bool,
    out: Option<PathBuf>,
) -> Result<String, kofu::BoxError> {
    if !certs.join("user-auth-ca.pem").exists() {
        return Err(format!(
            "no demo PKI in {} (start `kofu demo` first, or pass --certs)",
            certs.display()
        )
        .into());
    }
    let pki = DemoPki::load_or_generate(certs)?;
    let card = pki
        .cards
        .iter()
        .find(|c| c.label == card)
        .ok_or_else(|| format!("no demo card {card}"))?;
    let (copier_id, cert, key) =
        kofu::devkit::demo_pki::copier_files(certs, &pki, copier.saturating_sub(1));
    let client = CopierClient::new(gateway, &certs.join("store-ca.pem"), Some((&cert, &key)))?;
    let spec = OrderSpec {
        options: ResidenceOptions {
            whole_household: household,
            ..Default::default()
        },
        copies: 1,
        other: None,
    };
    let started = Instant::now();
    let issued = client.issue(card, &spec, "ja").await?;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Some(path) = &out {
        std::fs::write(path, &issued.pdf)?;
    }
    Ok(serde_json::json!({
        "copier": copier_id,
        "card": card.label,
        "order_id": issued.ack.order_id,
        "ticket": issued.ack.ticket,
        "amount_yen": issued.ack.amount_yen,
        "document_number": issued.document_number,
        "pages": issued.page_count,
        "bytes": issued.pdf.len(),
        "sha256": issued.sha256_hex,
        "elapsed_ms": (elapsed_ms * 10.0).round() / 10.0,
        "printed": true,
    })
    .to_string())
}
