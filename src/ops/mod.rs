//! The operations listener: Prometheus `/metrics` and a live `/dashboard`.
//! Plain HTTP on a private address; never exposed to copiers.
//!
//! Metrics (all under `kofu_`): `http_requests_total{route,status}`,
//! `http_request_duration_seconds{route}`, `sessions_opened_total`,
//! `cards_verified_total{algorithm}`, `card_refusals_total{code}`,
//! `orders_accepted_total{municipality}`, `render_duration_seconds{kind}`,
//! `documents_delivered_total`, `orders_printed_total`,
//! `orders_voided_total{reason}`, `binding_check_failures_total`,
//! `render_queue_full_total`, `tls_handshake_failures_total`.
//! Labels never carry identifiers or personal data.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::db::Cached;
use crate::http::{self, ApiResponse};
use crate::server::AppState;

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide Prometheus recorder (once; later calls reuse it).
pub fn recorder() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        PrometheusBuilder::new()
            .install_recorder()
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder().handle())
    })
}

pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    mut stop: watch::Receiver<bool>,
) {
    let handle = recorder();
    loop {
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted { Ok(c) => c, Err(_) => continue },
            _ = stop.changed() => break,
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(route(&state, handle, req).await) }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

async fn route(state: &AppState, handle: &PrometheusHandle, req: Request<Incoming>) -> ApiResponse {
    let path = req.uri().path().to_owned();
    if state.config.test_hooks
        && path == "/test/render-delay-ms"
        && req.method() == hyper::Method::PUT
    {
        return set_render_delay(state, req).await;
    }
    match path.as_str() {
        "/metrics" => http::text(StatusCode::OK, "text/plain; version=0.0.4", handle.render()),
        "/dashboard" | "/dashboard/" => http::text(
            StatusCode::OK,
            "text/html; charset=utf-8",
            Bytes::from_static(DASHBOARD.as_bytes()),
        ),
        "/dashboard/state.json" => match pipeline_state(state).await {
            Ok(s) => http::json(StatusCode::OK, &s),
            Err(_) => http::text(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                "database unavailable\n",
            ),
        },
        _ => http::text(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
    }
}

/// Test-only (`test_hooks = true`): slow rendering down to exercise deadlines.
async fn set_render_delay(state: &AppState, req: Request<Incoming>) -> ApiResponse {
    use http_body_util::BodyExt;
    let body = match http_body_util::Limited::new(req.into_body(), 64)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => return http::text(StatusCode::PAYLOAD_TOO_LARGE, "text/plain", "too large\n"),
    };
    match std::str::from_utf8(&body)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
    {
        Some(ms) => {
            state.pipeline.set_render_delay_ms(ms);
            tracing::warn!(ms, "test hook: render delay set");
            http::text(StatusCode::OK, "text/plain", format!("{ms}\n"))
        }
        None => http::text(
            StatusCode::BAD_REQUEST,
            "text/plain",
            "expected milliseconds\n",
        ),
    }
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

async fn pipeline_state(state: &AppState) -> Result<PipelineState, crate::db::DbError> {
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
