//! The operations listener: Prometheus `/metrics` and a live `/dashboard`
//! (and, with `test_hooks`, [`test_hooks`]). Plain HTTP on a private
//! address; never exposed to copiers.
//!
//! Metrics: every series is declared in [`crate::gateway::series`].
//! Labels never carry identifiers or personal data.

use std::sync::OnceLock;

use bytes::Bytes;
use hyper::StatusCode;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;

use crate::gateway::db::Cached;
use crate::gateway::db::Checkout;
use crate::gateway::http::{self, ApiRequest, ApiResult};
use crate::gateway::state::AppState;

pub mod test_hooks;

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Histogram buckets, in seconds: from half a millisecond (a render) to a
/// minute (a print confirmation).
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// Installs the process-wide Prometheus recorder (once; later calls reuse
/// it), histograms with [`BUCKETS`], every series described.
pub fn recorder() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        let builder = || {
            PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .expect("the buckets are not empty")
        };
        let handle = builder()
            .install_recorder()
            .unwrap_or_else(|_| builder().build_recorder().handle());
        crate::gateway::series::describe();
        crate::gateway::series::initialise();
        handle
    })
}

/// The queue as the database holds it: unfinished orders by state, and
/// how far the release watermark trails (tickets, and the age of the
/// oldest order it has not passed). Reads the small index of unfinished
/// orders (sql/0012).
const QUEUE: &str = "
    SELECT count(*) FILTER (WHERE state = 'accepted'),
           count(*) FILTER (WHERE state = 'rendered'),
           count(*) FILTER (WHERE state IN ('released', 'delivered')),
           coalesce((SELECT max(ticket) FROM orders) - (SELECT watermark FROM release_state), 0),
           coalesce(extract(epoch FROM now() - min(accepted_at) FILTER (
               WHERE ticket > (SELECT watermark FROM release_state)))::float8, 0)
      FROM orders WHERE printed_at IS NULL AND voided_at IS NULL";

/// Sets the gauges read at scrape time: the pool's figures, and the queue's
/// when the database answers (else they keep their last values).
async fn sample_gauges(state: &AppState) {
    use crate::gateway::series;
    let status = state.pool.status();
    metrics::gauge!(series::DB_POOL_SIZE).set(status.max_size as f64);
    metrics::gauge!(series::DB_POOL_IN_USE)
        .set(status.size.saturating_sub(status.available) as f64);
    let Ok(client) = state.pool.checkout().await else {
        return;
    };
    let Ok(row) = client.query_one_cached(QUEUE, &[]).await else {
        return;
    };
    let queue = Queue::of(&row, state.pipeline.settings().ordered);
    for (name, depth) in ["accepted", "rendered", "released"]
        .into_iter()
        .zip(queue.depth)
    {
        metrics::gauge!(series::QUEUE_DEPTH, "state" => name).set(depth as f64);
    }
    metrics::gauge!(series::RELEASE_LAG_TICKETS).set(queue.lag_tickets as f64);
    metrics::gauge!(series::RELEASE_LAG_SECONDS).set(queue.lag_seconds);
}

/// A [`QUEUE`] row: unfinished orders (accepted, rendered, released) and the
/// release lag, which is 0 when release is not ordered (no watermark).
struct Queue {
    depth: [i64; 3],
    lag_tickets: i64,
    lag_seconds: f64,
}

impl Queue {
    fn of(row: &tokio_postgres::Row, ordered: bool) -> Queue {
        Queue {
            depth: [row.get(0), row.get(1), row.get(2)],
            lag_tickets: if ordered {
                row.get::<_, i64>(3).max(0)
            } else {
                0
            },
            lag_seconds: if ordered {
                row.get::<_, f64>(4).max(0.0)
            } else {
                0.0
            },
        }
    }
}

/// `GET /metrics`: the Prometheus text format.
pub async fn metrics(state: &AppState, _: &ApiRequest) -> ApiResult {
    // A database that does not answer must not hold the scrape.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), sample_gauges(state)).await;
    Ok(http::text(
        StatusCode::OK,
        "text/plain; version=0.0.4",
        recorder().render(),
    ))
}

/// `GET /dashboard`: the live page.
pub async fn dashboard(_: &AppState, _: &ApiRequest) -> ApiResult {
    Ok(http::text(
        StatusCode::OK,
        "text/html; charset=utf-8",
        Bytes::from_static(DASHBOARD.as_bytes()),
    ))
}

/// `GET /dashboard/state.json`: what the page polls, every 2 s. Always
/// 200: with the database down, `flow` is null and `health` says so.
pub async fn dashboard_state(state: &AppState, _: &ApiRequest) -> ApiResult {
    let health = crate::gateway::health::assess(state).await;
    let flow = if health.database_answers() {
        tokio::time::timeout(std::time::Duration::from_secs(1), flow(state))
            .await
            .ok()
            .and_then(Result::ok)
    } else {
        None
    };
    let now = time::OffsetDateTime::now_utc();
    let body = DashboardState {
        at_ms: (now.unix_timestamp_nanos() / 1_000_000) as i64,
        health,
        flow,
        stages: crate::gateway::series::stage_quantiles()
            .into_iter()
            .map(|(stage, p50, p99, samples)| StageLatency {
                stage,
                p50_ms: p50 * 1000.0,
                p99_ms: p99 * 1000.0,
                samples,
            })
            .collect(),
        refusals: crate::gateway::series::card_refusals(),
        revocation: state
            .revocation
            .data_ages(now)
            .into_iter()
            .map(|(issuer, age)| Freshness {
                issuer,
                age_seconds: age.is_finite().then_some(age),
            })
            .collect(),
    };
    Ok(http::json(StatusCode::OK, &body))
}

/// Everything the dashboard shows.
#[derive(Debug, Serialize)]
pub struct DashboardState {
    pub at_ms: i64,
    pub health: crate::gateway::health::Health,
    /// The whole service's flow, from the database (null when it is down).
    pub flow: Option<Flow>,
    /// This process's recent latency per stage.
    pub stages: Vec<StageLatency>,
    /// This process's card refusals by code since it started.
    pub refusals: Vec<(&'static str, u64)>,
    /// Each card CA's revocation data age (null: none held).
    pub revocation: Vec<Freshness>,
}

#[derive(Debug, Serialize)]
pub struct StageLatency {
    pub stage: &'static str,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub samples: usize,
}

#[derive(Debug, Serialize)]
pub struct Freshness {
    pub issuer: String,
    pub age_seconds: Option<f64>,
}

/// The service's last minute, from the orders of the newest tickets.
#[derive(Debug, Serialize)]
pub struct Flow {
    /// Orders printed in each of the last 60 seconds, oldest first.
    pub printed_per_second: Vec<i64>,
    /// Orders accepted in each of the last 60 seconds, oldest first.
    pub accepted_per_second: Vec<i64>,
    /// Unfinished orders: accepted, rendered, released.
    pub queue: [i64; 3],
    pub release_lag_tickets: i64,
    pub release_lag_seconds: f64,
    /// (code, name, printed in the last minute), busiest first.
    pub busiest_municipalities: Vec<(String, String, i64)>,
    /// (store chain, printed in the last minute), busiest first.
    pub busiest_store_chains: Vec<(String, i64)>,
}

/// The newest tickets the dashboard looks at: more than a minute of the
/// fastest load measured, read through the ticket index (never all orders).
const RECENT_TICKETS: i64 = 30_000;
const PER_SECOND: &str = "
    WITH recent AS (
        SELECT accepted_at, printed_at FROM orders
         WHERE ticket > (SELECT coalesce(max(ticket), 0) FROM orders) - $1),
    printed AS (
        SELECT floor(extract(epoch FROM now() - printed_at))::int AS ago, count(*) AS n
          FROM recent WHERE printed_at > now() - interval '60 seconds' GROUP BY 1),
    accepted AS (
        SELECT floor(extract(epoch FROM now() - accepted_at))::int AS ago, count(*) AS n
          FROM recent WHERE accepted_at > now() - interval '60 seconds' GROUP BY 1)
    SELECT array_agg(coalesce(p.n, 0) ORDER BY g.ago DESC),
           array_agg(coalesce(a.n, 0) ORDER BY g.ago DESC)
      FROM generate_series(0, 59) g(ago)
      LEFT JOIN printed p ON p.ago = g.ago
      LEFT JOIN accepted a ON a.ago = g.ago";
const BUSIEST_MUNICIPALITIES: &str = "
    SELECT o.municipality_code, m.name, count(*) FROM orders o
      JOIN municipalities m ON m.code = o.municipality_code
     WHERE o.ticket > (SELECT coalesce(max(ticket), 0) FROM orders) - $1
       AND o.printed_at > now() - interval '60 seconds'
     GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 5";
const BUSIEST_CHAINS: &str = "
    SELECT coalesce(store_chain, ''), count(*) FROM orders
     WHERE ticket > (SELECT coalesce(max(ticket), 0) FROM orders) - $1
       AND printed_at > now() - interval '60 seconds'
     GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5";

async fn flow(state: &AppState) -> Result<Flow, crate::gateway::db::DbError> {
    let client = state.pool.checkout().await?;
    let window: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&RECENT_TICKETS];
    let (seconds, queue, municipalities, chains) = tokio::try_join!(
        client.query_one_cached(PER_SECOND, &window),
        client.query_one_cached(QUEUE, &[]),
        client.query_cached(BUSIEST_MUNICIPALITIES, &window),
        client.query_cached(BUSIEST_CHAINS, &window),
    )?;
    let queue = Queue::of(&queue, state.pipeline.settings().ordered);
    Ok(Flow {
        printed_per_second: seconds.get(0),
        accepted_per_second: seconds.get(1),
        queue: queue.depth,
        release_lag_tickets: queue.lag_tickets,
        release_lag_seconds: queue.lag_seconds,
        busiest_municipalities: municipalities
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect(),
        busiest_store_chains: chains.iter().map(|r| (r.get(0), r.get(1))).collect(),
    })
}

const DASHBOARD: &str = include_str!("dashboard.html");
