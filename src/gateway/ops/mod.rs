//! The operations listener: Prometheus `/metrics` and a live `/dashboard`
//! (and, with `test_hooks`, [`test_hooks`]). Plain HTTP on a private
//! address; never exposed to copiers.
//!
//! Metrics (all under `kofu_`): `http_requests_total{route,status}`,
//! `http_request_duration_seconds{route}`, `sessions_opened_total`,
//! `cards_verified_total{algorithm}`, `card_refusals_total{code}`,
//! `orders_accepted_total{municipality}`, `render_duration_seconds{kind}`,
//! `documents_delivered_total`, `orders_printed_total`,
//! `orders_voided_total{reason}`, `binding_check_failures_total`,
//! `render_queue_full_total`, `tls_handshake_failures_total`,
//! `domicile_registrations_total{status}` (new registrations, `active` or
//! `pending`).
//! Labels never carry identifiers or personal data.

use std::sync::OnceLock;

use bytes::Bytes;
use hyper::StatusCode;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;

use crate::gateway::db::Cached;
use crate::gateway::http::{self, ApiRequest, ApiResult};
use crate::gateway::state::AppState;

pub mod test_hooks;

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder (once; later calls reuse it).
pub fn recorder() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        PrometheusBuilder::new()
            .install_recorder()
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder().handle())
    })
}

/// `GET /metrics`: the Prometheus text format.
pub async fn metrics(_: &AppState, _: &ApiRequest) -> ApiResult {
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
    let client = state.pool.get().await?;
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
