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

use std::future::Future;
use std::pin::Pin;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use crate::gateway::config::Config;
use crate::gateway::connections::{
    Activity, BodyError, Gate, LogThrottle, ProblemAnswers, read_body,
};
use crate::gateway::db::Checkout;
use crate::gateway::db::Pool;
use crate::gateway::error::{Problem, RequestError};
use crate::gateway::http::{self, ApiRequest, ApiResponse, CopierIdentity, OperatorIdentity};
use crate::gateway::i18n::Lang;
use crate::gateway::ops;
use crate::gateway::pipeline::workers::{PdfRender, RenderStall, RenderStep};
use crate::gateway::pipeline::{Pipeline, PipelineSettings};
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
    /// The public listener, when `public_listen` is configured.
    pub public_addr: Option<SocketAddr>,
    pub state: Arc<AppState>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    certificate: Arc<crate::gateway::tls::ServerCertificate>,
}

impl Gateway {
    /// Binds both listeners, starts the render pipeline and begins serving.
    pub async fn start(config: Config, pool: Pool) -> Result<Gateway, StartError> {
        let config = Arc::new(config);
        let certificate = crate::gateway::tls::ServerCertificate::load(
            &config.tls.server_cert,
            &config.tls.server_key,
        )?;
        let tls = crate::gateway::tls::server_config(
            certificate.clone(),
            &config.tls.copier_ca,
            config.public_listen.is_some(),
        )?;
        let public = match config.public_listen {
            Some(address) => {
                let listener = TcpListener::bind(address)
                    .await
                    .map_err(|e| StartError::Bind(address, e))?;
                let bound = listener
                    .local_addr()
                    .map_err(|e| StartError::Bind(address, e))?;
                let tls = crate::gateway::tls::public_server_config(certificate.clone())?;
                Some((listener, tls, bound))
            }
            None => None,
        };
        let public_addr = public.as_ref().map(|(_, _, addr)| *addr);
        crate::gateway::ops::recorder();
        crate::gateway::tls::publish_expiries(&config.tls);
        let cards = crate::gateway::tls::card_verifier(&config.tls).map_err(StartError::CardCa)?;
        let admin = match &config.tls.operator_ca {
            Some(operator_ca) => {
                let tls =
                    crate::gateway::tls::admin_server_config(certificate.clone(), operator_ca)?;
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
            settings.verify_url = format!("https://{}", public_addr.unwrap_or(api_addr));
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
            RevocationService::new(cards.anchor_ders(), config.revocation.grace())
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
            limits: crate::gateway::state::rate_limit::Limits::new(&config.rate_limits),
        });
        tasks.push(tokio::spawn(serve_api(
            api,
            TlsAcceptor::from(tls),
            Listener::Copier,
            state.clone(),
            shutdown_rx.clone(),
        )));
        if let Some((listener, tls, _)) = public {
            tasks.push(tokio::spawn(serve_api(
                listener,
                TlsAcceptor::from(tls),
                Listener::Public,
                state.clone(),
                shutdown_rx.clone(),
            )));
        }
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
        let shutdown_rx_for_reload = shutdown_rx.clone();
        tasks.push(tokio::spawn(serve_ops(
            ops_listener,
            state.clone(),
            shutdown_rx,
        )));
        tasks.push(tokio::spawn(reload_on_hangup(
            certificate.clone(),
            config.clone(),
            shutdown_rx_for_reload,
        )));
        tracing::info!(%api_addr, %ops_addr, "gateway listening");
        Ok(Gateway {
            api_addr,
            ops_addr,
            admin_addr,
            public_addr,
            state,
            shutdown,
            tasks,
            certificate,
        })
    }

    /// The gateway's own certificate, which SIGHUP reads again.
    pub fn server_certificate(&self) -> &crate::gateway::tls::ServerCertificate {
        &self.certificate
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
    let mut limits = state.config.connections.clone();
    if listener == Listener::Public {
        // Anonymous clients are what the public listener is for.
        limits.max_anonymous = state
            .config
            .max_connections
            .saturating_sub(limits.max_handshaking);
    }
    let gate = Gate::new(listener.label(), state.config.max_connections, &limits);
    let gauges = tokio::spawn(publish_open(gate.clone(), listener));
    let accept_errors = LogThrottle::every(Duration::from_secs(60));
    loop {
        // Never waits for a slot: the accept queue keeps moving, and a
        // connection that finds no slot is closed at once (`Gate::admit`).
        let (tcp, remote) = tokio::select! {
            accepted = socket.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    if let Some(suppressed) = accept_errors.ready() {
                        tracing::warn!(error = %e, suppressed, "accept failed");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let Ok(handshaking) = gate.admit(remote.ip()) else {
            // Closed with a reset, not a graceful close: the client learns at once.
            let _ = tcp.set_zero_linger();
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let state = state.clone();
        let watcher = graceful.watcher();
        let limits = limits.clone();
        let header_timeout = state.config.header_timeout();
        tokio::spawn(async move {
            let closed = |phase: &'static str| {
                metrics::counter!(crate::gateway::series::CONNECTIONS_CLOSED, "listener" => listener.label(), "phase" => phase)
                    .increment(1);
            };
            let handshake = std::time::Instant::now();
            let deadline = tokio::time::Instant::now() + limits.handshake_timeout();
            // Until the client says something it is the first to give way.
            let mut first = [0u8; 1];
            tokio::select! {
                spoke = tokio::time::timeout_at(deadline, tcp.peek(&mut first)) => {
                    match spoke {
                        Ok(Ok(n)) if n > 0 => {}
                        Ok(_) => return,
                        Err(_) => {
                            closed("handshake");
                            return;
                        }
                    }
                }
                _ = handshaking.evicted() => return,
            }
            handshaking.speaking();
            let accepting = tokio::time::timeout_at(deadline, acceptor.accept(tcp));
            let accepted = tokio::select! {
                accepted = accepting => accepted,
                // A newer connection took this slot (`Gate::admit`), counted there.
                _ = handshaking.evicted() => return,
            };
            let tls = match accepted {
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
                Err(_) => {
                    closed("handshake");
                    return;
                }
            };
            let (_, session) = tls.get_ref();
            let certificate = session.peer_certificates().and_then(|c| c.first());
            let h2 = session.alpn_protocol() == Some(b"h2".as_slice());
            let peer = match listener {
                Listener::Admin => Peer {
                    copier: None,
                    operator: certificate.map(|c| OperatorIdentity::from_certificate(c)),
                },
                _ => Peer {
                    copier: certificate.map(|c| CopierIdentity::from_certificate(c)),
                    operator: None,
                },
            };
            let fingerprint = peer
                .copier
                .as_ref()
                .map(|c| c.fingerprint)
                .or(peer.operator.as_ref().map(|o| o.fingerprint));
            let Ok(_slot) = handshaking.settle(fingerprint) else {
                return;
            };
            let activity = Arc::new(Activity::default());
            let service = {
                let activity = activity.clone();
                service_fn(move |req| {
                    let in_flight = activity.begin();
                    let served = handle(listener, state.clone(), peer.clone(), remote.ip(), req);
                    async move {
                        let response = served.await;
                        drop(in_flight);
                        response
                    }
                })
            };
            // The protocol is the one ALPN chose: nothing is read to guess it.
            let served: Pin<Box<dyn Future<Output = Result<(), hyper::Error>> + Send>> = if h2 {
                let mut builder = http2::Builder::new(TokioExecutor::new());
                builder
                    .timer(TokioTimer::new())
                    .max_concurrent_streams(limits.h2_max_concurrent_streams)
                    .max_header_list_size(limits.max_header_bytes as u32)
                    .max_pending_accept_reset_streams(16)
                    .max_local_error_reset_streams(64)
                    .keep_alive_interval(Duration::from_millis(limits.h2_keepalive_interval_ms))
                    .keep_alive_timeout(Duration::from_millis(limits.h2_keepalive_timeout_ms));
                Box::pin(watcher.watch(builder.serve_connection(TokioIo::new(tls), service)))
            } else {
                let builder = http1_builder(&limits, header_timeout);
                let io = TokioIo::new(ProblemAnswers::new(tls));
                Box::pin(watcher.watch(builder.serve_connection(io, service)))
            };
            tokio::select! {
                ended = served => {
                    if let Err(e) = ended {
                        tracing::debug!(error = %e, "connection ended with error");
                    }
                }
                deadline = activity.expired(limits.first_request_timeout(), limits.idle_timeout()) => {
                    closed(deadline.label());
                }
            }
        });
    }
    drop(socket);
    gauges.abort();
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 30 s; closing them");
    }
}

/// Reads the server certificate and key again on every SIGHUP, so a renewed
/// certificate is served without a restart (the CAs are read at start only).
async fn reload_on_hangup(
    certificate: Arc<crate::gateway::tls::ServerCertificate>,
    config: Arc<Config>,
    mut stop: watch::Receiver<bool>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("SIGHUP cannot be watched: the server certificate reloads only on restart");
        return;
    };
    loop {
        tokio::select! {
            received = hangups.recv() => if received.is_none() { return },
            _ = stop.changed() => return,
        }
        match certificate.reload() {
            Ok(()) => {
                crate::gateway::tls::publish_expiries(&config.tls);
                tracing::info!("server certificate reloaded");
            }
            Err(e) => {
                tracing::error!(error = %e, "server certificate not reloaded; the previous one stays")
            }
        }
    }
}

/// Publishes the listener's open connections as gauges, once a second.
async fn publish_open(gate: Arc<Gate>, listener: Listener) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let (open, handshaking, anonymous) = gate.open();
        for (slot, n) in [
            ("handshaking", handshaking),
            ("anonymous", anonymous),
            ("authenticated", open - handshaking - anonymous),
        ] {
            metrics::gauge!(crate::gateway::series::CONNECTIONS_OPEN, "listener" => listener.label(), "slot" => slot)
                .set(n as f64);
        }
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
        if let Some(name) = duplicated_header(&parts.headers) {
            tracing::info!(header = name, "duplicate single-valued header refused");
            return http::problem(&RequestError::DuplicateHeader.into(), lang);
        }
        let limits = &state.config.connections;
        let body = match read_body(
            body,
            limit,
            limits.body_min_bytes_per_second,
            limits.body_grace(),
        )
        .await
        {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return close(http::problem(&RequestError::BodyTooLarge.into(), lang));
            }
            Err(BodyError::TooSlow) => {
                metrics::counter!(crate::gateway::series::CONNECTIONS_CLOSED, "listener" => listener.label(), "phase" => "body")
                    .increment(1);
                return close(http::problem(&RequestError::BodyTooSlow.into(), lang));
            }
            Err(BodyError::Aborted) => {
                return close(http::problem(&RequestError::MalformedRequest.into(), lang));
            }
        };
        if listener != Listener::Admin
            && let Err(refused) = state.limits.request(peer.copier.as_ref(), remote)
        {
            pause_before_refusal(&state, &refused).await;
            return http::problem(&refused, lang);
        }
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
            Err(p) => {
                pause_before_refusal(&state, &p).await;
                http::problem(&p, lang)
            }
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

/// Waits before a rate-limit refusal (a `429` with `Retry-After`) is sent:
/// `rate_limits.refusal_delay_ms`, or the `Retry-After` if sooner. The
/// request holds its connection (or stream) meanwhile, so a client that
/// ignores `Retry-After` sends no faster than its connections allow, and a
/// flood costs the gateway a sleeping task per connection instead of a
/// refusal per request. Every other answer goes out at once.
async fn pause_before_refusal(state: &AppState, refusal: &Problem) {
    let Some(retry_after) = refusal
        .retry_after
        .filter(|_| refusal.status.as_u16() == 429)
    else {
        return;
    };
    let pause = Duration::from_millis(state.config.rate_limits.refusal_delay_ms)
        .min(Duration::from_secs(u64::from(retry_after)));
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
}

/// Headers a request may carry once only; a second copy is refused
/// (`duplicate_header`) rather than one of them silently winning.
const SINGLE_VALUED: &[&str] = &[
    "host",
    "content-type",
    "content-length",
    "idempotency-key",
    crate::gateway::copier::SESSION_HEADER,
];

/// The first single-valued header `headers` carries more than once.
fn duplicated_header(headers: &hyper::HeaderMap) -> Option<&'static str> {
    SINGLE_VALUED
        .iter()
        .copied()
        .find(|name| headers.get_all(*name).iter().nth(1).is_some())
}

/// Marks `response` as the connection's last (HTTP/1.1): after a body cut
/// off or refused, what follows on the connection cannot be trusted.
fn close(mut response: ApiResponse) -> ApiResponse {
    response
        .headers_mut()
        .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Serves the operations listener ([`ops`]) until `stop`. Plain HTTP on a
/// private address; each request's body is bounded like the API's, and
/// anything the route table does not have is a plain-text 404.
/// HTTP/1.1 with the request-head deadline and the header bounds.
fn http1_builder(
    limits: &crate::gateway::config::ConnectionLimits,
    header_timeout: Duration,
) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_headers(limits.max_headers)
        .max_buf_size(limits.max_header_bytes.max(8192));
    builder
}

/// Connections the operations listener holds at once (Prometheus and the
/// dashboards need a handful); beyond, a newcomer is reset at once.
const OPS_MAX_CONNECTIONS: usize = 64;

/// The operations listener: plain HTTP/1.1 (metrics, dashboards, health),
/// with the copier listener's deadlines for the request head, the first
/// request and idle keep-alive, and a cap on connections.
async fn serve_ops(listener: TcpListener, state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    ops::recorder();
    let open = Arc::new(tokio::sync::Semaphore::new(OPS_MAX_CONNECTIONS));
    let refusals = LogThrottle::every(Duration::from_secs(10));
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted { Ok(c) => c, Err(_) => continue },
            _ = stop.changed() => break,
        };
        let Ok(slot) = open.clone().try_acquire_owned() else {
            metrics::counter!(crate::gateway::series::CONNECTIONS_REFUSED, "listener" => Listener::Ops.label(), "reason" => "capacity")
                .increment(1);
            if let Some(suppressed) = refusals.ready() {
                tracing::warn!(suppressed, "operations listener full; connection refused");
            }
            let _ = tcp.set_zero_linger();
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let limits = state.config.connections.clone();
            let header_timeout = state.config.header_timeout();
            let activity = Arc::new(Activity::default());
            let service = {
                let activity = activity.clone();
                service_fn(move |req: Request<Incoming>| {
                    let in_flight = activity.begin();
                    let state = state.clone();
                    async move {
                        let response = ops_route(&state, remote.ip(), req).await;
                        drop(in_flight);
                        Ok::<_, std::convert::Infallible>(response)
                    }
                })
            };
            let builder = http1_builder(&limits, header_timeout);
            tokio::select! {
                _ = builder.serve_connection(TokioIo::new(tcp), service) => {}
                deadline = activity.expired(limits.first_request_timeout(), limits.idle_timeout()) => {
                    metrics::counter!(crate::gateway::series::CONNECTIONS_CLOSED, "listener" => Listener::Ops.label(), "phase" => deadline.label())
                        .increment(1);
                }
            }
            drop(slot);
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
