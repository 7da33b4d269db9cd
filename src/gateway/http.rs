//! The request and response types handlers work with, and the small helpers
//! that build responses. Handlers never see hyper's streaming body: the
//! server reads a bounded body first.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{HeaderMap, Method, Response, StatusCode};
use serde::Serialize;

use crate::gateway::domain::CertFingerprint;
use crate::gateway::error::{Problem, RequestError};
use crate::gateway::i18n::Lang;

/// Who is on the other end of a mutual-TLS connection: a copier, named by its
/// client certificate (issued by the store-network CA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopierIdentity {
    /// What sessions and orders are bound to.
    pub fingerprint: CertFingerprint,
    /// The certificate's subject CN, e.g. `chain-a/store-000123/copier-1`.
    pub copier_id: String,
}

impl CopierIdentity {
    pub fn from_certificate(der: &[u8]) -> CopierIdentity {
        let fingerprint = CertFingerprint::of_der(der);
        let copier_id = x509_parser::parse_x509_certificate(der)
            .ok()
            .and_then(|(_, cert)| {
                cert.subject()
                    .iter_common_name()
                    .next()
                    .and_then(|cn| cn.as_str().ok())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| hex(&fingerprint.as_bytes()[..8]));
        CopierIdentity {
            fingerprint,
            copier_id,
        }
    }
}

/// An operator on the administration listener, named by a client
/// certificate the operator CA issued; its roles come from the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorIdentity {
    /// For the audit trail.
    pub fingerprint: CertFingerprint,
    /// `urn:kofu:role:<role>` subjectAltNames, without the prefix.
    pub roles: Vec<String>,
}

impl OperatorIdentity {
    pub fn from_certificate(der: &[u8]) -> OperatorIdentity {
        OperatorIdentity {
            fingerprint: CertFingerprint::of_der(der),
            roles: crate::gateway::pki::operators::roles_of(der),
        }
    }
}

/// A request as handlers see it.
#[derive(Debug)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub copier: Option<CopierIdentity>,
    /// Set only on the administration listener.
    pub operator: Option<OperatorIdentity>,
    pub lang: Lang,
}

impl ApiRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON of type `T`, or `malformed_request`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Problem> {
        serde_json::from_slice(&self.body).map_err(|_| RequestError::MalformedRequest.into())
    }
}

pub type ApiResponse = Response<Full<Bytes>>;
pub type ApiResult = Result<ApiResponse, Problem>;

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> ApiResponse {
    let body = serde_json::to_vec(value).expect("API types serialise");
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub fn text(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> ApiResponse {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

pub fn problem(p: &Problem, lang: Lang) -> ApiResponse {
    let mut response = json(p.status, &p.body(lang));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response.headers_mut().insert(
        hyper::header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.tag()),
    );
    if let Some(seconds) = p.retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
