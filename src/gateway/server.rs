//! The gateway's start and shutdown, and its two HTTPS listeners: the
//! copier API with the public endpoints (store-network mutual TLS) and the
//! administration API (operator mutual TLS). Each request is dispatched
//! through [`crate::gateway::routes`]; the operations listener is
//! [`crate::gateway::ops`].
//!
//! Rule: everything is bounded — connections (a semaphore), the TLS handshake
//! and request head (a timeout), bodies (`max_body_bytes`) — and shutdown
//! drains in-flight requests before returning.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use crate::gateway::config::Config;
use crate::gateway::db::Checkout;
use crate::gateway::db::Pool;
use crate::gateway::error::RequestError;
use crate::gateway::http::{self, ApiRequest, ApiResponse, CopierIdentity, OperatorIdentity};
use crate::gateway::i18n::Lang;
use crate::gateway::ops;
use crate::gateway::pipeline::workers::{PdfRender, RenderStall, RenderStep};
use crate::gateway::pipeline::{Pipeline, PipelineSettings};
use crate::gateway::pki::CardVerifier;
use crate::gateway::pki::revocation::service::RevocationService;
use crate::gateway::routes::{self, Listener};
use crate::gateway::signing::KeyStore;
use crate::gateway::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("tls: {0}")]
    Tls(#[from] crate::gateway::tls::TlsError),
    #[error("card CA: {0}")]
    CardCa(String),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("{0}")]
    Signing(String),
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
        let tls = crate::gateway::tls::server_config(
            &config.tls.server_cert,
            &config.tls.server_key,
            &config.tls.copier_ca,
        )?;
        crate::gateway::ops::recorder();
        crate::gateway::tls::publish_expiries(&config.tls);
        let anchors = crate::gateway::tls::load_cert_ders(&config.tls.card_ca)?;
        let intermediates = crate::gateway::tls::load_cert_ders(&config.tls.card_intermediates)?;
        let cards = CardVerifier::new(&anchors)
            .and_then(|v| v.with_intermediates(&intermediates))
            .map_err(|e| StartError::CardCa(e.to_string()))?;
        let admin = match &config.tls.operator_ca {
            Some(operator_ca) => {
                let tls = crate::gateway::tls::admin_server_config(
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

        let secret = config
            .signing_secret()
            .map_err(|e| StartError::Signing(e.to_string()))?;
        let keys = Arc::new(KeyStore::new(&secret));
        // Every municipality gets its first key here (and when created);
        // should PostgreSQL be down now, the next start makes them.
        match pool.checkout().await {
            Ok(client) => match keys.provision(&client).await {
                Ok(made) if made > 0 => tracing::info!(made, "document signing keys made"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "document signing keys not provisioned"),
            },
            Err(e) => tracing::warn!(error = %e, "document signing keys not provisioned"),
        }
        let (shutdown, shutdown_rx) = watch::channel(false);
        // The one seam of the test hooks: with them, the render workers
        // render through a stall the operations listener can set.
        let render_stall = config.test_hooks.then(|| Arc::new(RenderStall::default()));
        let render_step: Arc<dyn RenderStep> = match &render_stall {
            Some(stall) => stall.clone(),
            None => Arc::new(PdfRender),
        };
        let mut settings = PipelineSettings::from_config(&config);
        if config.verify_url.is_none() {
            // The address actually bound (`listen` may ask for port 0).
            settings.verify_url = format!("https://{api_addr}");
        }
        // The audit chain's head is signed with a key sealed like the
        // document signing keys (see `audit::checkpoint`).
        let audit = Arc::new(crate::gateway::audit::AuditSigner::new(keys.clone()));
        let (pipeline, workers) = Pipeline::start(
            pool.clone(),
            settings,
            render_step,
            keys,
            shutdown_rx.clone(),
        );
        let revocation = Arc::new(
            RevocationService::new(&anchors, config.revocation.grace())
                .map_err(StartError::CardCa)?,
        );
        // Loaded before the first request when PostgreSQL is up; otherwise
        // cards are refused (`revocation_data_stale`) until it is.
        if let Ok(client) = pool.checkout().await
            && let Err(e) = revocation.refresh(&client).await
        {
            tracing::warn!(error = %e, "revocation data not loaded at start");
        }
        let mut tasks = workers;
        tasks.push(tokio::spawn(crate::gateway::audit::checkpoint::keeper(
            audit,
            pool.clone(),
            shutdown_rx.clone(),
        )));
        tasks.push(tokio::spawn(
            crate::gateway::pki::revocation::service::keep_current(
                revocation.clone(),
                pool.clone(),
                config.revocation.crl_dir.clone(),
                shutdown_rx.clone(),
            ),
        ));
        let state = Arc::new(AppState {
            pool,
            config: config.clone(),
            cards: Arc::new(cards),
            revocation,
            pipeline,
            challenges: Default::default(),
            render_stall,
            verify_limiter: crate::gateway::state::rate_limit::AddressLimiter::per_minute(
                config.verify_lookups_per_minute,
            ),
        });
        tasks.push(tokio::spawn(serve_api(
            api,
            TlsAcceptor::from(tls),
            Listener::Copier,
            state.clone(),
            shutdown_rx.clone(),
        )));
        let admin_addr = admin.as_ref().map(|(_, _, addr)| *addr);
        if let Some((listener, tls, _)) = admin {
            tasks.push(tokio::spawn(serve_api(
                listener,
                TlsAcceptor::from(tls),
                Listener::Admin,
                state.clone(),
                shutdown_rx.clone(),
            )));
        }
        tasks.push(tokio::spawn(serve_ops(
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

async fn serve_api(
    socket: TcpListener,
    acceptor: TlsAcceptor,
    listener: Listener,
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
        let (tcp, remote) = tokio::select! {
            accepted = socket.accept() => match accepted {
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
            let handshake = std::time::Instant::now();
            let tls = match tokio::time::timeout(header_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    crate::gateway::series::stage(
                        "tls_handshake",
                        handshake.elapsed().as_secs_f64(),
                    );
                    tls
                }
                Ok(Err(e)) => {
                    metrics::counter!(crate::gateway::series::TLS_HANDSHAKE_FAILURES).increment(1);
                    tracing::debug!(error = %e, "tls handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let peer = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
            let peer = match listener {
                Listener::Admin => Peer {
                    copier: None,
                    operator: peer.map(|c| OperatorIdentity::from_certificate(c)),
                },
                _ => Peer {
                    copier: peer.map(|c| CopierIdentity::from_certificate(c)),
                    operator: None,
                },
            };
            let service = service_fn(move |req| {
                handle(listener, state.clone(), peer.clone(), remote.ip(), req)
            });
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
    drop(socket);
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
    listener: Listener,
    state: Arc<AppState>,
    peer: Peer,
    remote: std::net::IpAddr,
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
    let route = routes::resolve(listener, &parts.method, parts.uri.path()).label();
    let request_id = uuid::Uuid::from_bytes(crate::gateway::random_bytes());
    let span = tracing::info_span!("request", %request_id, route, method = %parts.method, status = tracing::field::Empty);
    // Register imports and change feeds are the one kind of large body, and
    // only operators reach the administration listener.
    let limit = if listener == Listener::Admin
        && [
            crate::gateway::admin::IMPORTS_ROUTE,
            crate::gateway::admin::CHANGES_ROUTE,
        ]
        .contains(&route)
    {
        state.config.import_max_body_bytes
    } else {
        state.config.max_body_bytes
    };
    let response = async {
        let body = match Limited::new(body, limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return http::problem(&RequestError::BodyTooLarge.into(), lang);
            }
        };
        let request = ApiRequest {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            peer: remote,
            headers: parts.headers,
            body,
            copier: peer.copier,
            operator: peer.operator,
            lang,
        };
        match routes::dispatch(listener, &state, &request).await {
            Ok(response) => response,
            Err(p) => http::problem(&p, lang),
        }
    }
    .instrument(span.clone())
    .await;
    let mut response = response;
    // The id the request's log lines carry, for a copier's or an operator's report.
    response.headers_mut().insert(
        "kofu-request-id",
        hyper::header::HeaderValue::from_str(&request_id.to_string()).expect("a UUID is ASCII"),
    );
    let status = response.status().as_u16();
    span.record("status", status);
    let elapsed = started.elapsed();
    metrics::counter!(crate::gateway::series::HTTP_REQUESTS, "route" => route, "status" => status.to_string())
        .increment(1);
    metrics::histogram!(crate::gateway::series::HTTP_REQUEST_DURATION, "route" => route)
        .record(elapsed.as_secs_f64());
    span.in_scope(|| tracing::info!(status, latency_ms = elapsed.as_millis() as u64, "request"));
    Ok(response)
}

/// Serves the operations listener ([`ops`]) until `stop`. Plain HTTP on a
/// private address; each request's body is bounded like the API's, and
/// anything the route table does not have is a plain-text 404.
async fn serve_ops(listener: TcpListener, state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    ops::recorder();
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted { Ok(c) => c, Err(_) => continue },
            _ = stop.changed() => break,
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let state = state.clone();
                async move {
                    Ok::<_, std::convert::Infallible>(ops_route(&state, remote.ip(), req).await)
                }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

async fn ops_route(
    state: &AppState,
    remote: std::net::IpAddr,
    req: Request<Incoming>,
) -> ApiResponse {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, state.config.max_body_bytes)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => return http::text(StatusCode::PAYLOAD_TOO_LARGE, "text/plain", "too large\n"),
    };
    let request = ApiRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        peer: remote,
        headers: parts.headers,
        body,
        copier: None,
        operator: None,
        lang: Default::default(),
    };
    match routes::dispatch(Listener::Ops, state, &request).await {
        Ok(response) => response,
        Err(_) => http::text(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
    }
}
