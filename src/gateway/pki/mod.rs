//! Public-key infrastructure: certification paths and CRLs by RFC 5280,
//! checking the My Number Card, operator roles. (The demo and test PKI, the
//! CRL generator and `kofu pki bench` are in the devkit; `kofu pki verify`
//! is a command.)
//!
//! - `signature` — verifies signatures with `ring`, binding each key to the
//!   one algorithm its SubjectPublicKeyInfo names (challenge signatures and
//!   certificate signatures).
//! - `path` — RFC 5280 §6.1 path building and validation, owned by kofu:
//!   [`PathValidator`] (anchors, an unordered intermediate pool, optional
//!   CRLs) turns an end-entity [`Certificate`] into a [`ValidatedPath`] or a
//!   typed [`PathError`] with a stable `reason()`.
//!   Revocation is a [`path::RevocationCheck`] the validator calls, so path
//!   validation does not depend on `crl`.
//! - `name` — distinguished-name comparison (RFC 5280 §7.1 normalisation),
//!   general names and name-constraint matching.
//! - `crl` — CRL parsing and validation (§6.3): [`Crl`] → [`ValidatedCrl`]
//!   (signature, signer's cRLSign, freshness, critical extensions), entries,
//!   [`RevocationStatus`], full + delta combination, CRL-number helpers; the
//!   pure pieces a bulk revocation index feeds on.
//! - `reason` — CRLReason, shared by `path` and `crl`.
//! - `card` — verifies the card's user-authentication certificate
//!   (利用者証明用電子証明書) through `path` against the configured JPKI CA(s)
//!   and intermediates, then the JPKI profile and the card's signature over
//!   the session challenge — or, when the path ends at a smartphone CA, the
//!   smartphone certificate's profile ([`Credential`]); the result is a
//!   [`VerifiedCard`], the proof
//!   value every later step (revocation, serial→resident mapping, issuing)
//!   requires.
//! - `operators` — the roles an operator client certificate carries
//!   (`urn:kofu:role:` URIs) on the administration listener.
//!
//! - `revocation` — the national-scale revocation index (10 million serials
//!   at about 16 bytes each), delta CRL overlay, the per-issuer store with
//!   lock-free-for-readers swaps, the streaming CRL loader, persistence.
//!
//! `x509-parser` parses; every signature decision is `ring`'s.

pub mod card;
pub mod crl;
pub mod name;
pub mod operators;
pub mod path;
#[cfg(test)]
mod pkits;
pub mod reason;
pub mod revocation;
pub mod signature;

pub use card::{CardError, CardSerial, CardVerifier, Credential, VerifiedCard};
pub use crl::{
    Crl, CrlEntry, CrlError, CrlSet, RevocationReason, RevocationStatus, ValidatedCrl,
    status_with_delta,
};
pub use path::{Certificate, PathError, PathOptions, PathValidator, ValidatedPath};
pub use signature::{ChallengeAlgorithm, SignatureError, verify_signature};

#[cfg(test)]
mod tests {
    /// Errors cross task boundaries (`spawn_blocking`) and become `Box<dyn Error>`.
    #[test]
    fn errors_and_proof_values_can_cross_threads() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<super::CardError>();
        send_sync::<super::SignatureError>();
        send_sync::<super::VerifiedCard>();
        send_sync::<super::CardVerifier>();
    }
}
