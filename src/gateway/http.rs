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
    /// How the operator appears in a history (settings versions): the
    /// first 16 hexadecimal digits of their certificate's SHA-256.
    pub fn audit_name(&self) -> String {
        format!("operator:{}", &hex(self.fingerprint.as_slice())[..16])
    }

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
    /// The query string (without `?`; empty when none).
    pub query: String,
    /// The client's address (the public endpoints' rate limits key on it).
    pub peer: std::net::IpAddr,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub copier: Option<CopierIdentity>,
    /// Set only on the administration listener.
    pub operator: Option<OperatorIdentity>,
    pub lang: Lang,
}

impl ApiRequest {
    /// The first value of query parameter `name`, percent-decoded; `None`
    /// when absent or not UTF-8.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| percent_decode(v)).flatten()
        })
    }

    /// Whether the query names parameter `name` at all (even with a value
    /// that does not decode, which [`Self::query_param`] reads as absent).
    pub fn query_names(&self, name: &str) -> bool {
        self.query
            .split('&')
            .any(|pair| pair.split_once('=').map_or(pair, |(k, _)| k) == name)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON of type `T`, or `malformed_request`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Problem> {
        json_body(&self.body)
    }
}

/// `body` as JSON of type `T`, or `malformed_request`: what
/// [`ApiRequest::json`] reads, for the checks of a body that need no request.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|_| RequestError::MalformedRequest.into())
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

/// `application/x-www-form-urlencoded` decoding of one value (`+` is a
/// space); `None` for a malformed escape or bytes that are not UTF-8.
pub fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod query_tests {
    use super::percent_decode;

    #[test]
    fn form_values_decode_and_malformed_ones_do_not() {
        assert_eq!(percent_decode("ab%2Dcd+ef").as_deref(), Some("ab-cd ef"));
        assert_eq!(percent_decode("%E6%A4%9C").as_deref(), Some("検"));
        assert_eq!(percent_decode("%E6%A4").as_deref(), None);
        assert_eq!(percent_decode("%4").as_deref(), None);
        assert_eq!(percent_decode("%zz").as_deref(), None);
        assert_eq!(percent_decode("%+1").as_deref(), None);
    }
}
