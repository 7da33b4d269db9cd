//! What the renderer needs to sign a document, and what it gives back.
//!
//! Every document carries a verification code (printed, and in the
//! snapshot's [`DocumentIdentity`](super::model::DocumentIdentity)) and a QR
//! code holding that code, the signing key's id, the issue time, the kind,
//! the content digest and an Ed25519 signature over it. The digest covers
//! the text of every page exactly as printed (see the README, "Verifiable
//! paper"), so `kofu document verify` can check a PDF offline.

/// Signs documents with one municipality's key. The gateway's key store
/// provides it; the key itself never leaves it.
pub trait DocumentSigner: Send + Sync {
    /// The key's id, printed in the QR and published with the public key.
    fn key_id(&self) -> &str;
    /// An Ed25519 signature over `message` (deterministic, RFC 8032).
    fn sign(&self, message: &[u8]) -> [u8; 64];
}

/// The signing inputs of one document. All of them are fixed when the
/// order is accepted (code, key, issue time), so rendering again gives the
/// same bytes.
pub struct Signing<'a> {
    pub signer: &'a dyn DocumentSigner,
    /// When the order was accepted: the issue time signed into the document.
    pub issued_at: time::OffsetDateTime,
    /// Base URL of the public verification page, e.g.
    /// `https://verify.kofu.example`; the QR holds `{base}/verify/{code}?…`.
    pub verify_base: &'a str,
}
