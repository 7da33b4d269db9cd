//! The public endpoints of the copier listener, which need no copier
//! certificate: liveness, readiness and the OpenAPI description.

use bytes::Bytes;
use hyper::StatusCode;

use crate::gateway::db::Checkout;
use crate::gateway::db::DbError;
use crate::gateway::http::{self, ApiRequest, ApiResult};
use crate::gateway::state::AppState;

/// The OpenAPI description served at `/v1/openapi.yaml`.
pub const OPENAPI: &str = include_str!("../openapi.yaml");

/// `GET /healthz`: the process is up.
pub async fn healthz(_: &AppState, _: &ApiRequest) -> ApiResult {
    Ok(http::text(StatusCode::OK, "text/plain", "ok\n"))
}

/// `GET /readyz`: PostgreSQL answers.
pub async fn readyz(state: &AppState, _: &ApiRequest) -> ApiResult {
    let client = state.pool.checkout().await.map_err(DbError::from)?;
    client
        .query_one("SELECT 1", &[])
        .await
        .map_err(DbError::from)?;
    Ok(http::text(StatusCode::OK, "text/plain", "ready\n"))
}

/// `GET /v1/openapi.yaml`.
pub async fn openapi(_: &AppState, _: &ApiRequest) -> ApiResult {
    Ok(http::text(
        StatusCode::OK,
        "application/yaml",
        Bytes::from_static(OPENAPI.as_bytes()),
    ))
}
