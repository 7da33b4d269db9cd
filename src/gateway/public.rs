//! The public endpoints of the copier listener, which need no copier
//! certificate: liveness, readiness and the OpenAPI description.

use bytes::Bytes;
use hyper::StatusCode;

use crate::gateway::http::{self, ApiRequest, ApiResult};
use crate::gateway::state::AppState;

/// The OpenAPI description served at `/v1/openapi.yaml`.
pub const OPENAPI: &str = include_str!("../openapi.yaml");

/// `GET /healthz`: the process is up.
pub async fn healthz(_: &AppState, _: &ApiRequest) -> ApiResult {
    Ok(http::text(StatusCode::OK, "text/plain", "ok\n"))
}

/// `GET /readyz`: ready when nothing fails closed — the database answers,
/// every card CA's revocation data is current, render workers run — as
/// JSON naming each check's state and reason; 503 when not ready.
pub async fn readyz(state: &AppState, _: &ApiRequest) -> ApiResult {
    let health = crate::gateway::health::assess(state).await;
    let status = if health.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok(http::json(status, &health))
}

/// `GET /v1/openapi.yaml`.
pub async fn openapi(_: &AppState, _: &ApiRequest) -> ApiResult {
    Ok(http::text(
        StatusCode::OK,
        "application/yaml",
        Bytes::from_static(OPENAPI.as_bytes()),
    ))
}
