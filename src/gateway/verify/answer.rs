//! What a verification look-up answers: the same for the JSON endpoint
//! (`GET /v1/verify/{code}`) and the human page (`/verify/{code}`).
//!
//! Rule: without the document's digest, nothing here names or describes a
//! person: a guessed code learns only that some document of this kind was
//! issued by this municipality on this date. The printed content comes only
//! with the digest the QR code holds (or a PDF gives).

use serde::Serialize;

/// Why a genuine document no longer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Withdrawn {
    /// Its order was voided (print not confirmed in time, or failed).
    OrderVoided,
    /// The municipality withdrew it.
    WithdrawnByMunicipality,
    /// The municipality revoked the key that signed it.
    KeyRevoked,
}

/// The municipality a document was issued in the name of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issuer {
    /// Local government code.
    pub code: String,
    pub name: String,
}

/// The printed content, given only to a caller holding the digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Content {
    /// Each page's text items, in printed order (the signed content).
    pub pages: Vec<Vec<String>>,
}

/// A document kofu issued, as the look-up finds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The code as printed: `XXXX-XXXX-XXXX-C`.
    pub code: String,
    /// Issued by kofu and not withdrawn.
    pub genuine: bool,
    /// Set when the document no longer stands.
    pub withdrawn: Option<Withdrawn>,
    /// Wire name of the kind (`residence_certificate`, …).
    pub kind: &'static str,
    /// The kind's Japanese title (住民票の写し, …).
    pub title: &'static str,
    pub municipality: Issuer,
    /// When the order was accepted (RFC 3339, UTC): the signed issue time.
    pub issued_at: String,
    /// The issue date in Japan (YYYY-MM-DD).
    pub issued_on: String,
    pub pages: u32,
    /// The id of the key that signed it.
    pub key_id: String,
    /// Whether the caller presented the document's digest and it matched.
    pub digest_matches: Option<bool>,
    /// Only when `digest_matches` is `Some(true)`.
    pub content: Option<Content>,
}
