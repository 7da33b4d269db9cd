//! `loadtest bench`: what strict order costs, and how close kofu gets to the
//! ceilings this machine allows — all measured in one invocation.
//!
//! 1. `--rounds` alternating pairs of load runs on the same gateways'
//!    configuration: ordered release (production) and unordered release (the
//!    benchmark-only `release_ordered = false`); throughput and end-to-end p99
//!    of each, medians over the rounds, and their ratios.
//! 2. The render ceiling: residence certificates rendered per second by one
//!    thread per core, nothing else running, over a sample of the documents
//!    the runs' orders asked for (their stored snapshots).
//! 3. The database ceiling: `pgbench` single-row INSERT transactions per second
//!    on the same PostgreSQL cluster, divided by the transactions kofu commits
//!    per issuance (measured in the ordered runs from `pg_stat_database`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kofu::devkit::pgembed::{self, EmbeddedPostgres};
use serde_json::{Value, json};

use crate::BoxError;
use crate::run::{self, RunArgs};

pub struct BenchArgs {
    pub rounds: usize,
    /// The ordered run's arguments; the unordered run differs only in `unordered`.
    pub base: RunArgs,
    pub render_seconds: f64,
    pub pgbench_seconds: u64,
    pub pgbench_clients: usize,
}

/// One load run's figures.
#[derive(Debug, Clone)]
struct Figures {
    throughput_per_s: f64,
    p99_ms: f64,
    transactions_per_issuance: Option<f64>,
    out_of_order: i64,
    /// CPU ms per issuance by process (kofu, postgres, loadtest, everything).
    cpu_ms_per_issuance: Value,
    /// The run's `details.database` (transactions, WAL bytes, connections).
    database: Value,
}

pub async fn bench(args: BenchArgs) -> Result<u8, BoxError> {
    let dir = args.base.out.join("bench");
    std::fs::create_dir_all(&dir)?;
    // Every bench starts from a new cluster, so two benches (say, before and
    // after a change) see the same database, not one grown by the other.
    if args.base.data.exists() {
        eprintln!(
            "bench: starting from a new cluster in {}",
            args.base.data.display()
        );
        std::fs::remove_dir_all(&args.base.data)
            .map_err(|e| format!("removing {}: {e}", args.base.data.display()))?;
    }
    // The new cluster's keys are sealed under a new secret.
    let _ = std::fs::remove_file(crate::run::signing_secret_path(&args.base.data));
    let mut ordered = Vec::new();
    let mut unordered = Vec::new();
    for round in 0..args.rounds {
        // Alternate which mode goes first, so drift on the shared machine hits both.
        let modes = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for unordered_mode in modes {
            let name = format!(
                "round{}-{}",
                round + 1,
                if unordered_mode {
                    "unordered"
                } else {
                    "ordered"
                }
            );
            let mut run_args = args.base.clone();
            run_args.unordered = unordered_mode;
            run_args.report = dir.join(format!("{name}.json"));
            run_args.plot = dir.join(format!("{name}.svg"));
            let code = run::run(run_args.clone()).await?;
            let figures = read_figures(&run_args.report)?;
            if code != 0 && !unordered_mode {
                return Err(format!(
                    "{name}: an invariant broke (see {})",
                    run_args.report.display()
                )
                .into());
            }
            eprintln!("bench: {name}: {figures:?}");
            if unordered_mode {
                unordered.push(figures)
            } else {
                ordered.push(figures)
            }
        }
    }

    // One PostgreSQL session for the database side: pgbench, then the
    // documents the runs asked for. It is stopped before the render ceiling,
    // which runs with nothing else.
    let (pgbench_tps, mix) =
        database_side(&args.base.data, args.pgbench_seconds, args.pgbench_clients).await?;
    let (renders_per_s, synthetic_per_s) = tokio::task::spawn_blocking({
        let seconds = args.render_seconds;
        let household_fraction = args.base.household_fraction;
        move || -> Result<(f64, f64), String> {
            let synthetic = synthetic_mix(household_fraction);
            Ok((
                render_ceiling(&mix, seconds)?,
                render_ceiling(&synthetic, seconds / 2.0)?,
            ))
        }
    })
    .await?
    .map_err(|e| format!("render ceiling: {e}"))?;

    let o_tp = median(ordered.iter().map(|f| f.throughput_per_s));
    let u_tp = median(unordered.iter().map(|f| f.throughput_per_s));
    let o_p99 = median(ordered.iter().map(|f| f.p99_ms));
    let u_p99 = median(unordered.iter().map(|f| f.p99_ms));
    let tx_per_issuance = median(ordered.iter().filter_map(|f| f.transactions_per_issuance));
    let db_ceiling = pgbench_tps / tx_per_issuance;
    let lower = db_ceiling.min(renders_per_s);
    let lines = [
        json!({"bench": "issuance_ordered", "instances": args.base.instances, "copiers": args.base.copiers,
               "duration_s": args.base.duration_s, "rounds": args.rounds,
               "throughput_per_s_median": o_tp, "p99_ms_median": o_p99,
               "throughput_per_s": ordered.iter().map(|f| f.throughput_per_s).collect::<Vec<_>>(),
               "p99_ms": ordered.iter().map(|f| f.p99_ms).collect::<Vec<_>>(),
               "out_of_order": ordered.iter().map(|f| f.out_of_order).collect::<Vec<_>>(),
               "cpu_ms_per_issuance": ordered.iter().map(|f| f.cpu_ms_per_issuance.clone()).collect::<Vec<_>>(),
               "database": ordered.iter().map(|f| f.database.clone()).collect::<Vec<_>>(),
               "db_pool_size": args.base.db_pool_size}),
        json!({"bench": "issuance_unordered", "throughput_per_s_median": u_tp, "p99_ms_median": u_p99,
               "throughput_per_s": unordered.iter().map(|f| f.throughput_per_s).collect::<Vec<_>>(),
               "p99_ms": unordered.iter().map(|f| f.p99_ms).collect::<Vec<_>>(),
               "out_of_order": unordered.iter().map(|f| f.out_of_order).collect::<Vec<_>>()}),
        json!({"bench": "cost_of_strict_order",
               "throughput_loss": round3(1.0 - o_tp / u_tp), "p99_increase": round3(o_p99 / u_p99 - 1.0),
               "targets": {"throughput_loss_at_most": 0.10, "p99_increase_at_most": 0.20}}),
        json!({"bench": "render_ceiling", "threads": threads(), "documents": "the runs' own orders",
               "orders_sampled": CEILING_MIX, "renders_per_s": round1(renders_per_s),
               "synthetic_mix_renders_per_s": round1(synthetic_per_s), "household_fraction": args.base.household_fraction}),
        json!({"bench": "database_ceiling", "pgbench_insert_tps": round1(pgbench_tps), "pgbench_clients": args.pgbench_clients,
               "transactions_per_issuance": tx_per_issuance, "issuances_per_s": round1(db_ceiling)}),
        json!({"bench": "throughput_vs_lower_ceiling", "lower_ceiling_per_s": round1(lower),
               "ordered_throughput_per_s": o_tp, "ratio": round3(o_tp / lower), "target_at_least": 0.4}),
    ];
    let mut text = String::new();
    for line in &lines {
        println!("{line}");
        text.push_str(&format!("{line}\n"));
    }
    std::fs::write(dir.join("bench.jsonl"), text)?;
    eprintln!("bench: written to {}", dir.join("bench.jsonl").display());
    Ok(0)
}

fn read_figures(path: &std::path::Path) -> Result<Figures, BoxError> {
    let report: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    Ok(Figures {
        throughput_per_s: report["throughput_per_s"]
            .as_f64()
            .ok_or("report without throughput")?,
        p99_ms: report["latency_ms"]["end_to_end"]["p99_ms"]
            .as_f64()
            .ok_or("report without p99")?,
        transactions_per_issuance: report["details"]["database"]["transactions_per_issuance"]
            .as_f64(),
        out_of_order: report["out_of_order"].as_i64().unwrap_or(-1),
        cpu_ms_per_issuance: report["details"]["cpu_ms_per_issuance"].clone(),
        database: report["details"]["database"].clone(),
    })
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Orders whose documents the render ceiling renders.
const CEILING_MIX: i64 = 400;

/// The certificates the runs' orders asked for: `limit` orders spread over
/// all of them (a fixed pseudo-random pick), each built from its stored
/// snapshot with the identity the render worker prints, so the ceiling
/// renders the same names, households and page counts as the load did.
async fn orders_mix(
    pg: &EmbeddedPostgres,
    limit: i64,
) -> Result<Vec<kofu::gateway::render::model::Certificate>, BoxError> {
    let client = connect(pg).await?;
    let rows = client
        .query(
            // The code through jsonb: a baseline kofu's schema has no such column.
            "SELECT id, snapshot, ticket, municipality_code, kind,
                    to_jsonb(o) ->> 'verification_code'
               FROM orders o ORDER BY md5(id::text) LIMIT $1",
            &[&limit],
        )
        .await?;
    let mix = rows
        .iter()
        .map(|row| {
            let kind = kofu::gateway::domain::CertificateKind::from_wire(row.get(4))
                .ok_or_else(|| serde::de::Error::custom("unknown kind"))?;
            let code = row
                .get::<_, Option<&str>>(5)
                .and_then(|c| kofu::gateway::signing::VerificationCode::parse(c).ok())
                .unwrap_or_else(kofu::gateway::signing::VerificationCode::random);
            kofu::gateway::pipeline::stored_certificate(
                row.get(0),
                kind,
                row.get(1),
                row.get(2),
                row.get(3),
                &code,
            )
        })
        .collect::<Result<Vec<_>, serde_json::Error>>()?;
    if mix.is_empty() {
        return Err("the runs accepted no orders".into());
    }
    Ok(mix)
}

/// The mix before the runs' own orders were used: a `household_fraction`
/// share of three-person whole-household certificates, the rest for one
/// person, all with the same few names. Reported beside the ceiling.
fn synthetic_mix(household_fraction: f64) -> Vec<kofu::gateway::render::model::Certificate> {
    use kofu::gateway::render::model::{Certificate, ResidenceCertificate};
    let households = (household_fraction.clamp(0.0, 1.0) * 10.0).round() as usize;
    (0..10)
        .map(|i| {
            Certificate::Residence(ResidenceCertificate::sample(if i < households {
                3
            } else {
                1
            }))
        })
        .collect()
}

/// Certificates per second with every core rendering (and signing) `mix`
/// round robin and nothing else running. The devkit's fixed key signs here:
/// an Ed25519 signature costs the same whichever key makes it.
fn render_ceiling(
    mix: &[kofu::gateway::render::model::Certificate],
    seconds: f64,
) -> Result<f64, String> {
    let renderer = kofu::gateway::render::Renderer::global();
    let signing = kofu::devkit::samples::signing();
    for certificate in mix {
        renderer
            .render_signed(certificate, &signing)
            .map_err(|e| e.to_string())?; // warm
    }
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let total: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads())
            .map(|_| {
                scope.spawn(|| {
                    let mut n = 0u64;
                    while Instant::now() < until {
                        let certificate = &mix[n as usize % mix.len()];
                        std::hint::black_box(
                            renderer
                                .render_signed(certificate, &signing)
                                .expect("renders"),
                        );
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("render thread"))
            .sum()
    });
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Starts the cluster under `data` once for the database ceiling (`pgbench`)
/// and the render ceiling's documents ([`orders_mix`]), and stops it again.
async fn database_side(
    data: &std::path::Path,
    seconds: u64,
    clients: usize,
) -> Result<(f64, Vec<kofu::gateway::render::model::Certificate>), BoxError> {
    let pg = EmbeddedPostgres::start(data, pgembed::Options { unsafe_fast: false })
        .await
        .map_err(|e| format!("starting PostgreSQL in {}: {e}", data.display()))?;
    let result = async {
        let tps = pgbench(&pg, seconds, clients)
            .await
            .map_err(|e| format!("pgbench: {e}"))?;
        let mix = orders_mix(&pg, CEILING_MIX)
            .await
            .map_err(|e| format!("reading the runs' orders: {e}"))?;
        Ok::<_, BoxError>((tps, mix))
    }
    .await;
    pg.stop().await?;
    result
}

/// A connection to the cluster's kofu database; it closes when dropped.
async fn connect(pg: &EmbeddedPostgres) -> Result<tokio_postgres::Client, BoxError> {
    let (client, conn) = pg
        .config(pgembed::DATABASE)
        .connect(tokio_postgres::NoTls)
        .await?;
    tokio::spawn(conn);
    Ok(client)
}

/// `pgbench` single-row INSERT TPS on the running cluster.
async fn pgbench(pg: &EmbeddedPostgres, seconds: u64, clients: usize) -> Result<f64, BoxError> {
    let bin = pgembed::find_bin_dir().ok_or("no PostgreSQL binaries")?;
    connect(pg)
        .await?
        .batch_execute("DROP TABLE IF EXISTS bench_insert; CREATE TABLE bench_insert (id bigserial PRIMARY KEY, payload text NOT NULL)")
        .await?;
    let script: PathBuf =
        std::env::temp_dir().join(format!("kofu-pgbench-{}.sql", std::process::id()));
    std::fs::write(
        &script,
        "INSERT INTO bench_insert (payload) VALUES ('residence_certificate');\n",
    )?;
    let out = tokio::process::Command::new(bin.join("pgbench"))
        .arg("-h")
        .arg(pg.cluster_dir())
        .args(["-p", "5432", "-U", pgembed::USER, "-n", "-f"])
        .arg(&script)
        .args([
            "-c",
            &clients.to_string(),
            "-j",
            &threads().to_string(),
            "-T",
            &seconds.to_string(),
            pgembed::DATABASE,
        ])
        .output()
        .await
        .map_err(|e| format!("running {}: {e}", bin.join("pgbench").display()))?;
    let _ = std::fs::remove_file(&script);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("pgbench failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    // "tps = 2345.678901 (without initial connection time)"
    stdout
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("tps = ")
                .and_then(|r| r.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .ok_or_else(|| BoxError::from(format!("no tps in pgbench output: {stdout}")))
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0, 2.0, 3.0].into_iter()), 2.5);
        assert!(median(std::iter::empty()).is_nan());
    }
}
