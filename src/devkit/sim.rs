//! A simulated store copier: the HTTPS client (mutual TLS) and the whole
//! issuance flow a real copier runs. Used by `kofu demo`, `loadtest` and the
//! integration tests, so all three exercise the same wire protocol.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use uuid::Uuid;

use crate::devkit::demo_pki::DemoCard;
use crate::gateway::registry::ResidenceOptions;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("bad gateway URL {0:?} (expected https://host:port)")]
    Url(String),
    #[error("tls setup: {0}")]
    Tls(#[from] crate::gateway::tls::TlsError),
    #[error("transport: {0}")]
    Transport(String),
    #[error("no response within {0:?}")]
    Timeout(Duration),
    #[error("{step}: HTTP {status} {code}")]
    Refused {
        step: &'static str,
        status: StatusCode,
        code: String,
    },
    #[error("{step}: unexpected response: {detail}")]
    Protocol { step: &'static str, detail: String },
}

/// One HTTP response, fully read.
#[derive(Debug, Clone)]
pub struct SimResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl SimResponse {
    /// The problem `code` of an error response, if it is problem+json.
    pub fn problem_code(&self) -> Option<String> {
        let v: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        v.get("code")?.as_str().map(str::to_owned)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Retry-After` delay in seconds, if the gateway sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
    }

    fn expect<T: serde::de::DeserializeOwned>(
        self,
        step: &'static str,
        want: StatusCode,
    ) -> Result<T, SimError> {
        if self.status != want {
            return Err(SimError::Refused {
                step,
                status: self.status,
                code: self.problem_code().unwrap_or_default(),
            });
        }
        serde_json::from_slice(&self.body).map_err(|e| SimError::Protocol {
            step,
            detail: e.to_string(),
        })
    }
}

/// How long an idle kept-alive connection is reused. The gateway closes a
/// connection that sends no request head within its header timeout (10 s by
/// default); staying well under it avoids racing that close.
const IDLE_REUSE: Duration = Duration::from_secs(4);
/// Idle connections kept per client (a copier runs one request at a time;
/// clones share the pool).
const IDLE_MAX: usize = 4;
/// The per-request timeout unless [`CopierClient::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

struct IdleConnection {
    sender: Sender,
    since: Instant,
}

/// An HTTPS client speaking to one gateway as one copier.
///
/// Connections are kept alive (HTTP/1.1) and reused, so a busy copier does
/// not pay a TLS handshake per request; a kept connection the gateway has
/// closed meanwhile is replaced transparently — the request is sent again on
/// a fresh connection only when the broken one provably did not deliver it,
/// or broke before any response byte on a reused connection (the keep-alive
/// race; every copier call is safe to repeat then: sessions are cheap, a card
/// answer is `challenge_already_used`, orders carry their Idempotency-Key and
/// printed/failed are idempotent). Clones share the idle connections.
#[derive(Clone)]
pub struct CopierClient {
    host: String,
    port: u16,
    server_name: ServerName<'static>,
    connector: TlsConnector,
    timeout: Duration,
    idle: Arc<Mutex<Vec<IdleConnection>>>,
    connects: Arc<AtomicU64>,
}

/// A request that can be built again for a second attempt.
struct Prepared {
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Bytes>,
}

impl CopierClient {
    /// `gateway` is `https://host:port`; `identity` is the copier's client
    /// certificate and key (PEM), or `None` to connect without one.
    pub fn new(
        gateway: &str,
        server_ca: &Path,
        identity: Option<(&Path, &Path)>,
    ) -> Result<Self, SimError> {
        let uri: Uri = gateway
            .parse()
            .map_err(|_| SimError::Url(gateway.to_owned()))?;
        if uri.scheme_str() != Some("https") {
            return Err(SimError::Url(gateway.to_owned()));
        }
        let host = uri
            .host()
            .ok_or_else(|| SimError::Url(gateway.to_owned()))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let server_name =
            ServerName::try_from(host.clone()).map_err(|_| SimError::Url(gateway.to_owned()))?;
        let config = crate::gateway::tls::client_config(server_ca, identity)?;
        Ok(CopierClient {
            port: uri.port_u16().unwrap_or(443),
            host,
            server_name,
            connector: TlsConnector::from(config),
            timeout: DEFAULT_TIMEOUT,
            idle: Arc::new(Mutex::new(Vec::new())),
            connects: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The same client with another per-request timeout (connect, TLS
    /// handshake, request and whole response body).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many connections (TLS handshakes) this client and its clones have opened.
    pub fn connections_opened(&self) -> u64 {
        self.connects.load(Ordering::Relaxed)
    }

    /// One request, on a kept-alive connection when one is idle.
    ///
    /// # Errors
    /// [`SimError::Transport`] when no connection could carry it,
    /// [`SimError::Timeout`] when it took longer than the client's timeout.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<SimResponse, SimError> {
        let prepared = Prepared {
            method,
            path: path.to_owned(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone()))
                .collect(),
            body: body.map(Bytes::from),
        };
        match tokio::time::timeout(self.timeout, self.send(&prepared)).await {
            Ok(result) => result,
            Err(_) => Err(SimError::Timeout(self.timeout)),
        }
    }

    async fn send(&self, prepared: &Prepared) -> Result<SimResponse, SimError> {
        let transport = |e: &dyn std::fmt::Display| SimError::Transport(e.to_string());
        loop {
            let (mut sender, reused) = match self.take_idle() {
                Some(sender) => (sender, true),
                None => (self.connect().await?, false),
            };
            if let Err(e) = sender.ready().await {
                if reused {
                    continue;
                }
                return Err(transport(&e));
            }
            match sender.try_send_request(self.build(prepared)?).await {
                Ok(response) => {
                    let (parts, body) = response.into_parts();
                    let body = body.collect().await.map_err(|e| transport(&e))?.to_bytes();
                    let closing = parts
                        .headers
                        .get(hyper::header::CONNECTION)
                        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
                    if !closing {
                        self.put_idle(sender);
                    }
                    return Ok(SimResponse {
                        status: parts.status,
                        headers: parts.headers,
                        body,
                    });
                }
                Err(e) => {
                    let unsent = e.message().is_some();
                    let error = e.into_error();
                    let stale =
                        error.is_canceled() || error.is_incomplete_message() || error.is_closed();
                    if reused && (unsent || stale) {
                        continue;
                    }
                    return Err(transport(&error));
                }
            }
        }
    }

    fn build(&self, prepared: &Prepared) -> Result<Request<Full<Bytes>>, SimError> {
        let mut request = Request::builder()
            .method(prepared.method.clone())
            .uri(prepared.path.as_str())
            .header("host", &self.host);
        for (name, value) in &prepared.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        // JSON unless the caller names the body's type (a register file);
        // adding ours beside theirs would send the header twice.
        let typed = prepared
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        if prepared.body.is_some() && !typed {
            request = request.header("content-type", "application/json");
        }
        request
            .body(Full::new(prepared.body.clone().unwrap_or_default()))
            .map_err(|e| SimError::Transport(e.to_string()))
    }

    /// A fresh mutual-TLS connection (TCP, TLS handshake, HTTP/1.1).
    async fn connect(&self) -> Result<Sender, SimError> {
        let transport = |e: &dyn std::fmt::Display| SimError::Transport(e.to_string());
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| transport(&e))?;
        let _ = tcp.set_nodelay(true);
        self.connects.fetch_add(1, Ordering::Relaxed);
        let tls = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|e| transport(&e))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| transport(&e))?;
        tokio::spawn(conn);
        Ok(sender)
    }

    fn take_idle(&self) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(conn) = idle.pop() {
            if !conn.sender.is_closed() && conn.since.elapsed() < IDLE_REUSE {
                return Some(conn.sender);
            }
        }
        None
    }

    fn put_idle(&self, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.retain(|c| !c.sender.is_closed() && c.since.elapsed() < IDLE_REUSE);
        if idle.len() < IDLE_MAX {
            idle.push(IdleConnection {
                sender,
                since: Instant::now(),
            });
        }
    }

    pub async fn post_json(
        &self,
        path: &str,
        headers: &[(&str, String)],
        body: &serde_json::Value,
    ) -> Result<SimResponse, SimError> {
        self.call(
            Method::POST,
            path,
            headers,
            Some(serde_json::to_vec(body).expect("json")),
        )
        .await
    }
}

/// What a copier asks for: a residence certificate with `options`, unless
/// `other` names another kind with its options.
#[derive(Debug, Clone, Default)]
pub struct OrderSpec {
    pub options: ResidenceOptions,
    pub copies: i32,
    pub other: Option<(crate::gateway::domain::CertificateKind, serde_json::Value)>,
}

impl OrderSpec {
    /// An order for `kind` with `options` (a JSON object).
    pub fn of(kind: crate::gateway::domain::CertificateKind, options: serde_json::Value) -> Self {
        OrderSpec {
            other: Some((kind, options)),
            ..OrderSpec::default()
        }
    }
}

/// A session opened at the gateway.
#[derive(Debug, Clone, Deserialize)]
pub struct OpenedSession {
    pub session_id: Uuid,
    pub challenge: String,
    pub expires_at: String,
}

/// The order acknowledgement.
#[derive(Debug, Clone, Deserialize)]
pub struct Ack {
    pub order_id: Uuid,
    pub ticket: i64,
    pub amount_yen: i32,
}

/// Everything one issuance produced.
#[derive(Debug, Clone)]
pub struct Issued {
    pub session_id: Uuid,
    pub menu: serde_json::Value,
    pub ack: Ack,
    pub pdf: Bytes,
    pub page_count: u32,
    pub document_number: String,
    pub sha256_hex: String,
}

impl CopierClient {
    pub async fn open_session(&self) -> Result<OpenedSession, SimError> {
        self.call(Method::POST, "/v1/sessions", &[], None)
            .await?
            .expect("open session", StatusCode::CREATED)
    }

    /// The card step: signs the session's challenge with the card and submits it.
    pub async fn present_card(
        &self,
        session: &OpenedSession,
        card: &DemoCard,
        lang: &str,
    ) -> Result<serde_json::Value, SimError> {
        let challenge =
            URL_SAFE_NO_PAD
                .decode(&session.challenge)
                .map_err(|e| SimError::Protocol {
                    step: "card",
                    detail: e.to_string(),
                })?;
        let body = serde_json::json!({
            "certificate": STANDARD.encode(&card.cert_der),
            "signature": STANDARD.encode(card.sign(&challenge)),
            "algorithm": card.algorithm.as_str(),
        });
        let path = format!("/v1/sessions/{}/card", session.session_id);
        self.post_json(&path, &[("accept-language", lang.to_owned())], &body)
            .await?
            .expect("card", StatusCode::OK)
    }

    pub async fn place_order(
        &self,
        session_id: Uuid,
        key: &str,
        spec: &OrderSpec,
    ) -> Result<Ack, SimError> {
        let (kind, options) = match &spec.other {
            Some((kind, options)) => (*kind, options.clone()),
            None => (
                crate::gateway::domain::CertificateKind::ResidenceCertificate,
                serde_json::to_value(&spec.options).expect("options serialise"),
            ),
        };
        let body = serde_json::json!({
            "kind": kind.wire_name(),
            "options": options,
            "copies": spec.copies.max(1),
        });
        let path = format!("/v1/sessions/{session_id}/orders");
        self.post_json(&path, &[("idempotency-key", key.to_owned())], &body)
            .await?
            .expect("order", StatusCode::CREATED)
    }

    /// Fetches the document, retrying while the gateway answers `document_not_ready`.
    pub async fn fetch_document(
        &self,
        session_id: Uuid,
        order_id: Uuid,
    ) -> Result<SimResponse, SimError> {
        let path = format!("/v1/orders/{order_id}/document");
        for _ in 0..30 {
            let r = self
                .call(
                    Method::GET,
                    &path,
                    &[(
                        crate::gateway::copier::SESSION_HEADER,
                        session_id.to_string(),
                    )],
                    None,
                )
                .await?;
            if r.status == StatusCode::SERVICE_UNAVAILABLE
                && r.problem_code().as_deref() == Some("document_not_ready")
            {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                continue;
            }
            return Ok(r);
        }
        Err(SimError::Protocol {
            step: "document",
            detail: "never became ready".into(),
        })
    }

    pub async fn confirm_printed(&self, order_id: Uuid) -> Result<SimResponse, SimError> {
        self.call(
            Method::POST,
            &format!("/v1/orders/{order_id}/printed"),
            &[],
            None,
        )
        .await
    }

    /// Reports that the print of `order_id` failed (the order is voided and refunded).
    pub async fn report_failed(&self, order_id: Uuid) -> Result<SimResponse, SimError> {
        self.call(
            Method::POST,
            &format!("/v1/orders/{order_id}/failed"),
            &[],
            None,
        )
        .await
    }

    /// The whole flow a copier runs for one resident: session, card, order,
    /// document (checked against its headers), print confirmation.
    pub async fn issue(
        &self,
        card: &DemoCard,
        spec: &OrderSpec,
        lang: &str,
    ) -> Result<Issued, SimError> {
        let session = self.open_session().await?;
        let menu = self.present_card(&session, card, lang).await?;
        let key = Uuid::from_bytes(crate::gateway::random_bytes()).to_string();
        let ack = self.place_order(session.session_id, &key, spec).await?;
        let document = self
            .fetch_document(session.session_id, ack.order_id)
            .await?;
        if document.status != StatusCode::OK {
            return Err(SimError::Refused {
                step: "document",
                status: document.status,
                code: document.problem_code().unwrap_or_default(),
            });
        }
        let sha256_hex = document
            .header("kofu-document-sha256")
            .unwrap_or_default()
            .to_owned();
        let actual = crate::gateway::http::hex(
            ring::digest::digest(&ring::digest::SHA256, &document.body).as_ref(),
        );
        if actual != sha256_hex {
            return Err(SimError::Protocol {
                step: "document",
                detail: "SHA-256 header does not match the PDF".into(),
            });
        }
        let header_ticket = document
            .header("kofu-ticket")
            .and_then(|t| t.parse::<i64>().ok());
        if header_ticket != Some(ack.ticket) {
            return Err(SimError::Protocol {
                step: "document",
                detail: "ticket header does not match the order".into(),
            });
        }
        let page_count = document
            .header("kofu-page-count")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let document_number = document
            .header("kofu-document-number")
            .unwrap_or_default()
            .to_owned();
        let printed = self.confirm_printed(ack.order_id).await?;
        if printed.status != StatusCode::OK {
            return Err(SimError::Refused {
                step: "printed",
                status: printed.status,
                code: printed.problem_code().unwrap_or_default(),
            });
        }
        Ok(Issued {
            session_id: session.session_id,
            menu,
            ack,
            pdf: document.body,
            page_count,
            document_number,
            sha256_hex,
        })
    }
}
