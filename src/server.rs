//! The HTTPS listener (copier API and public endpoints) and the operations
//! listener, with the route table.
//!
//! Rule: everything is bounded — connections (a semaphore), the TLS handshake
//! and request head (a timeout), bodies (`max_body_bytes`) — and shutdown
//! drains in-flight requests before returning.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use crate::config::Config;
use crate::copier;
use crate::db::Pool;
use crate::error::Problem;
use crate::http::{self, ApiRequest, ApiResponse, CopierIdentity, OperatorIdentity};
use crate::i18n::Lang;
use crate::ops;
use crate::pki::CardVerifier;
use crate::pki::revocation::service::RevocationService;
use crate::queue::{Pipeline, PipelineSettings};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("tls: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("card CA: {0}")]
    CardCa(String),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
}

/// What every request handler may use.
pub struct AppState {
    pub pool: Pool,
    pub config: Arc<Config>,
    pub cards: Arc<CardVerifier>,
    /// CRLs of the card CAs (fail closed: see `pki::revocation::service`).
    pub revocation: Arc<RevocationService>,
    pub pipeline: Pipeline,
    /// Challenges of sessions opened here (see `copier::challenges`).
    pub challenges: crate::copier::challenges::ChallengeCache,
}

/// A running gateway: the API and operations listeners and the render pipeline.
pub struct Gateway {
    pub api_addr: SocketAddr,
    pub ops_addr: SocketAddr,
    /// The administration listener, when `tls.operator_ca` is configured.
    pub admin_addr: Option<SocketAddr>,
    pub state: Arc<AppState>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Gateway {
    /// Binds both listeners, starts the render pipeline and begins serving.
    pub async fn start(config: Config, pool: Pool) -> Result<Gateway, StartError> {
        let config = Arc::new(config);
        let tls = crate::tls::server_config(
            &config.tls.server_cert,
            &config.tls.server_key,
            &config.tls.copier_ca,
        )?;
        let mut anchors = Vec::new();
        for path in &config.tls.card_ca {
            anchors.extend(
                crate::tls::load_certs(path)?
                    .into_iter()
                    .map(|c| c.to_vec()),
            );
        }
        let mut intermediates = Vec::new();
        for path in &config.tls.card_intermediates {
            intermediates.extend(
                crate::tls::load_certs(path)?
                    .into_iter()
                    .map(|c| c.to_vec()),
            );
        }
        let cards = CardVerifier::new(&anchors)
            .and_then(|v| v.with_intermediates(&intermediates))
            .map_err(|e| StartError::CardCa(e.to_string()))?;
        let admin = match &config.tls.operator_ca {
            Some(operator_ca) => {
                let tls = crate::tls::admin_server_config(
                    &config.tls.server_cert,
                    &config.tls.server_key,
                    operator_ca,
                )?;
                let listener = TcpListener::bind(config.admin_listen)
                    .await
                    .map_err(|e| StartError::Bind(config.admin_listen, e))?;
                let addr = listener
                    .local_addr()
                    .map_err(|e| StartError::Bind(config.admin_listen, e))?;
                Some((listener, tls, addr))
            }
            None => None,
        };
        let api = TcpListener::bind(config.listen)
            .await
            .map_err(|e| StartError::Bind(config.listen, e))?;
        let ops_listener = TcpListener::bind(config.ops_listen)
            .await
            .map_err(|e| StartError::Bind(config.ops_listen, e))?;
        let api_addr = api
            .local_addr()
            .map_err(|e| StartError::Bind(config.listen, e))?;
        let ops_addr = ops_listener
            .local_addr()
            .map_err(|e| StartError::Bind(config.ops_listen, e))?;

        let (shutdown, shutdown_rx) = watch::channel(false);
        let (pipeline, workers) = Pipeline::start(
            pool.clone(),
            PipelineSettings::from_config(&config),
            shutdown_rx.clone(),
        );
        let revocation = Arc::new(
            RevocationService::new(&anchors, config.revocation.grace())
                .map_err(StartError::CardCa)?,
        );
        // Loaded before the first request when PostgreSQL is up; otherwise
        // cards are refused (`revocation_data_stale`) until it is.
        if let Ok(client) = pool.get().await
            && let Err(e) = revocation.refresh(&client).await
        {
            tracing::warn!(error = %e, "revocation data not loaded at start");
        }
        let mut tasks = workers;
        tasks.push(tokio::spawn(crate::pki::revocation::service::keep_current(
            revocation.clone(),
            pool.clone(),
            config.revocation.crl_dir.clone(),
            shutdown_rx.clone(),
        )));
        let state = Arc::new(AppState {
            pool,
            config: config.clone(),
            cards: Arc::new(cards),
            revocation,
            pipeline,
            challenges: Default::default(),
        });
        tasks.push(tokio::spawn(serve_api(
            api,
            TlsAcceptor::from(tls),
            Side::Copier,
            state.clone(),
            shutdown_rx.clone(),
        )));
        let admin_addr = admin.as_ref().map(|(_, _, addr)| *addr);
        if let Some((listener, tls, _)) = admin {
            tasks.push(tokio::spawn(serve_api(
                listener,
                TlsAcceptor::from(tls),
                Side::Admin,
                state.clone(),
                shutdown_rx.clone(),
            )));
        }
        tasks.push(tokio::spawn(ops::serve(
            ops_listener,
            state.clone(),
            shutdown_rx,
        )));
        tracing::info!(%api_addr, %ops_addr, "gateway listening");
        Ok(Gateway {
            api_addr,
            ops_addr,
            admin_addr,
            state,
            shutdown,
            tasks,
        })
    }

    /// Stops accepting, drains in-flight requests (up to 30 s) and stops the workers.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        tracing::info!("gateway stopped");
    }
}

/// Which listener a connection came in on: the copier API (store-network CA)
/// or the administration API (operator CA). Each serves only its own routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Copier,
    Admin,
}

async fn serve_api(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    side: Side,
    state: Arc<AppState>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(state.config.max_connections));
    let header_timeout = state.config.header_timeout();
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("semaphore never closed"),
            _ = stop.changed() => break,
        };
        let (tcp, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let state = state.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            let tls = match tokio::time::timeout(header_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    metrics::counter!("kofu_tls_handshake_failures_total").increment(1);
                    tracing::debug!(error = %e, "tls handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let peer = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
            let peer = match side {
                Side::Copier => Peer {
                    copier: peer.map(|c| CopierIdentity::from_certificate(c)),
                    operator: None,
                },
                Side::Admin => Peer {
                    copier: None,
                    operator: peer.map(|c| OperatorIdentity::from_certificate(c)),
                },
            };
            let service = service_fn(move |req| handle(state.clone(), peer.clone(), req));
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            builder
                .http2()
                .timer(TokioTimer::new())
                .max_concurrent_streams(64);
            let conn = builder
                .serve_connection(TokioIo::new(tls), service)
                .into_owned();
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(error = %e, "connection ended with error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 30 s; closing them");
    }
}

/// Who is on the other end, as the listener's trust anchor vouches.
#[derive(Debug, Clone)]
struct Peer {
    copier: Option<CopierIdentity>,
    operator: Option<OperatorIdentity>,
}

async fn handle(
    state: Arc<AppState>,
    peer: Peer,
    req: Request<Incoming>,
) -> Result<ApiResponse, std::convert::Infallible> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let lang = Lang::negotiate(
        parts
            .headers
            .get(hyper::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let route = route_template(&parts.method, parts.uri.path());
    let request_id = uuid::Uuid::from_bytes(crate::random_bytes());
    let span = tracing::info_span!("request", %request_id, route, method = %parts.method, status = tracing::field::Empty);
    let response = async {
        let body = match Limited::new(body, state.config.max_body_bytes)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return http::problem(
                    &Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
                    lang,
                );
            }
        };
        let request = ApiRequest {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            headers: parts.headers,
            body,
            copier: peer.copier,
            operator: peer.operator,
            lang,
        };
        let dispatched = if request.operator.is_some() {
            crate::admin::dispatch(&state, &request).await
        } else {
            dispatch(&state, &request).await
        };
        match dispatched {
            Ok(response) => response,
            Err(p) => http::problem(&p, lang),
        }
    }
    .instrument(span.clone())
    .await;
    let status = response.status().as_u16();
    span.record("status", status);
    let elapsed = started.elapsed();
    metrics::counter!("kofu_http_requests_total", "route" => route, "status" => status.to_string())
        .increment(1);
    metrics::histogram!("kofu_http_request_duration_seconds", "route" => route)
        .record(elapsed.as_secs_f64());
    span.in_scope(|| tracing::info!(status, latency_ms = elapsed.as_millis() as u64, "request"));
    Ok(response)
}

/// The route table. Templates (not raw paths) label logs and metrics, so no
/// identifier ends up in them.
fn route_template(method: &Method, path: &str) -> &'static str {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (&Method::GET, ["healthz"]) => "/healthz",
        (&Method::GET, ["readyz"]) => "/readyz",
        (&Method::GET, ["v1", "openapi.yaml"]) => "/v1/openapi.yaml",
        (&Method::POST, ["v1", "sessions"]) => "/v1/sessions",
        (&Method::POST, ["v1", "sessions", _, "card"]) => "/v1/sessions/{id}/card",
        (&Method::POST, ["v1", "sessions", _, "orders"]) => "/v1/sessions/{id}/orders",
        (&Method::GET, ["v1", "orders", _, "document"]) => "/v1/orders/{id}/document",
        (&Method::POST, ["v1", "orders", _, "printed"]) => "/v1/orders/{id}/printed",
        (&Method::POST, ["v1", "orders", _, "failed"]) => "/v1/orders/{id}/failed",
        (&Method::POST, ["v1", "admin", "certificate-events"]) => "/v1/admin/certificate-events",
        _ => "other",
    }
}

async fn dispatch(state: &AppState, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (&req.method, segments.as_slice()) {
        (&Method::GET, ["healthz"]) => Ok(http::text(StatusCode::OK, "text/plain", "ok\n")),
        (&Method::GET, ["readyz"]) => readyz(state).await,
        (&Method::GET, ["v1", "openapi.yaml"]) => Ok(http::text(
            StatusCode::OK,
            "application/yaml",
            Bytes::from_static(OPENAPI.as_bytes()),
        )),
        (&Method::POST, ["v1", "sessions"]) => copier::open_session(state, req).await,
        (&Method::POST, ["v1", "sessions", id, "card"]) => {
            copier::submit_card(state, req, id).await
        }
        (&Method::POST, ["v1", "sessions", id, "orders"]) => {
            copier::place_order(state, req, id).await
        }
        (&Method::GET, ["v1", "orders", id, "document"]) => {
            copier::fetch_document(state, req, id).await
        }
        (&Method::POST, ["v1", "orders", id, "printed"]) => {
            copier::confirm_printed(state, req, id).await
        }
        (&Method::POST, ["v1", "orders", id, "failed"]) => {
            copier::report_failed(state, req, id).await
        }
        (_, ["healthz" | "readyz"] | ["v1", "sessions", ..] | ["v1", "orders", ..]) => Err(
            Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        ),
        _ => Err(Problem::new(StatusCode::NOT_FOUND, "not_found")),
    }
}

async fn readyz(state: &AppState) -> Result<ApiResponse, Problem> {
    let client = state.pool.get().await.map_err(crate::db::DbError::from)?;
    client
        .query_one("SELECT 1", &[])
        .await
        .map_err(crate::db::DbError::from)?;
    Ok(http::text(StatusCode::OK, "text/plain", "ready\n"))
}

/// The OpenAPI description served at `/v1/openapi.yaml`.
pub const OPENAPI: &str = include_str!("openapi.yaml");
