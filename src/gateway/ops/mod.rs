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
    for (i, name) in ["accepted", "rendered", "released"].into_iter().enumerate() {
        metrics::gauge!(series::QUEUE_DEPTH, "state" => name).set(row.get::<_, i64>(i) as f64);
    }
    let ordered = state.pipeline.settings().ordered;
    let (tickets, seconds) = if ordered {
        (
            row.get::<_, i64>(3).max(0) as f64,
            row.get::<_, f64>(4).max(0.0),
        )
    } else {
        (0.0, 0.0)
    };
    metrics::gauge!(series::RELEASE_LAG_TICKETS).set(tickets);
    metrics::gauge!(series::RELEASE_LAG_SECONDS).set(seconds);
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

/// `GET /dashboard/state.json`: what the page polls.
pub async fn dashboard_state(state: &AppState, _: &ApiRequest) -> ApiResult {
    Ok(match pipeline_state(state).await {
        Ok(s) => http::json(StatusCode::OK, &s),
        Err(_) => http::text(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "database unavailable\n",
        ),
    })
}

/// Counts the dashboard shows: orders by state and the last minute's flow.
#[derive(Debug, Serialize)]
pub struct PipelineState {
    pub orders_by_state: Vec<(String, i64)>,
    pub accepted_last_minute: i64,
    pub printed_last_minute: i64,
    pub oldest_unfinished_seconds: Option<f64>,
}

const STATE_COUNTS: &str = "SELECT state, count(*) FROM orders GROUP BY state ORDER BY state";
const FLOW: &str = "
    SELECT count(*) FILTER (WHERE accepted_at > now() - interval '1 minute'),
           count(*) FILTER (WHERE printed_at > now() - interval '1 minute'),
           extract(epoch FROM now() - min(accepted_at) FILTER (WHERE state NOT IN ('printed', 'voided')))::float8
      FROM orders";

async fn pipeline_state(state: &AppState) -> Result<PipelineState, crate::gateway::db::DbError> {
    let client = state.pool.checkout().await?;
    let orders_by_state = client
        .query_cached(STATE_COUNTS, &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let flow = client.query_one_cached(FLOW, &[]).await?;
    Ok(PipelineState {
        orders_by_state,
        accepted_last_minute: flow.get(0),
        printed_last_minute: flow.get(1),
        oldest_unfinished_seconds: flow.get(2),
    })
}

const DASHBOARD: &str = include_str!("dashboard.html");
