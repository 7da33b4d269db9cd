//! One HTTPS request to a gateway listener, for the commands that talk to a
//! running gateway (`kofu document verify --online`, `kofu municipality`):
//! rustls on ring, the gateway's CA as the only root, an optional client
//! certificate (operators), HTTP/1.1, one connection per request.

use std::path::Path;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::{Method, StatusCode, Uri};
use hyper_util::rt::TokioIo;

/// Why a request could not be made (as opposed to an answer that refuses).
/// Each is a stable reason the commands print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpsError {
    UrlMalformed,
    UrlMustBeHttps,
    CaUnreadable,
    /// The client certificate or key does not load.
    IdentityUnreadable,
    GatewayUnreachable,
}

impl HttpsError {
    pub const fn code(self) -> &'static str {
        match self {
            HttpsError::UrlMalformed => "url_malformed",
            HttpsError::UrlMustBeHttps => "url_must_be_https",
            HttpsError::CaUnreadable => "ca_unreadable",
            HttpsError::IdentityUnreadable => "identity_unreadable",
            HttpsError::GatewayUnreachable => "gateway_unreachable",
        }
    }
}

/// An answer: its status and body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    /// The problem document's `code`, or `http_<status>` when the body has none.
    pub fn problem_code(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("http_{}", self.status.as_u16()))
    }
}

/// `method` `{base}{path}` with an optional JSON body, trusting only `ca`,
/// presenting `identity` (certificate and key PEM files) when given.
pub async fn request(
    base: &str,
    method: Method,
    path: &str,
    json_body: Option<Vec<u8>>,
    ca: &Path,
    identity: Option<(&Path, &Path)>,
) -> Result<Answer, HttpsError> {
    let body = json_body.map(|b| Upload {
        content_type: "application/json",
        data: Bytes::from(b),
        progress: None,
    });
    send(base, method, path, body, ca, identity).await
}

/// A request body, sent in 64 KiB pieces; `progress` is advanced by the
/// bytes as each piece goes out.
pub struct Upload {
    pub content_type: &'static str,
    pub data: Bytes,
    pub progress: Option<indicatif::ProgressBar>,
}

struct Pieces {
    data: Bytes,
    progress: Option<indicatif::ProgressBar>,
}

impl hyper::body::Body for Pieces {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        if self.data.is_empty() {
            return std::task::Poll::Ready(None);
        }
        let n = self.data.len().min(64 * 1024);
        let piece = self.data.split_to(n);
        if let Some(bar) = &self.progress {
            bar.inc(n as u64);
        }
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.data.len() as u64)
    }
}

/// [`request`] with any body.
pub async fn send(
    base: &str,
    method: Method,
    path: &str,
    body: Option<Upload>,
    ca: &Path,
    identity: Option<(&Path, &Path)>,
) -> Result<Answer, HttpsError> {
    let uri: Uri = format!("{}{path}", base.trim_end_matches('/'))
        .parse()
        .map_err(|_| HttpsError::UrlMalformed)?;
    if uri.scheme_str() != Some("https") {
        return Err(HttpsError::UrlMustBeHttps);
    }
    let host = uri
        .host()
        .ok_or(HttpsError::UrlMalformed)?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = uri.port_u16().unwrap_or(443);
    // Tell a bad CA file from a bad client identity.
    crate::gateway::tls::client_config(ca, None).map_err(|_| HttpsError::CaUnreadable)?;
    let config = crate::gateway::tls::client_config(ca, identity)
        .map_err(|_| HttpsError::IdentityUnreadable)?;
    let name = rustls_pki_types::ServerName::try_from(host.clone())
        .map_err(|_| HttpsError::UrlMalformed)?;
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|_| HttpsError::GatewayUnreachable)?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|_| HttpsError::GatewayUnreachable)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|_| HttpsError::GatewayUnreachable)?;
    tokio::spawn(conn);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(hyper::header::HOST, host);
    if let Some(upload) = &body {
        request = request.header(hyper::header::CONTENT_TYPE, upload.content_type);
    }
    let (data, progress) = body.map_or((Bytes::new(), None), |u| (u.data, u.progress));
    let request = request
        .body(Pieces { data, progress })
        .map_err(|_| HttpsError::UrlMalformed)?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|_| HttpsError::GatewayUnreachable)?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|_| HttpsError::GatewayUnreachable)?
        .to_bytes()
        .to_vec();
    Ok(Answer { status, body })
}
