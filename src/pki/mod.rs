//! Public-key infrastructure: checking the My Number Card, and making the
//! demo PKI.
//!
//! - `signature` — verifies signatures with `ring`, binding each key to the
//!   one algorithm its SubjectPublicKeyInfo names (challenge signatures and
//!   certificate signatures).
//! - `card` — verifies the card's user-authentication certificate
//!   (利用者証明用電子証明書) against the configured JPKI CA and the card's
//!   signature over the session challenge; the result is a [`VerifiedCard`],
//!   the proof value every later step (revocation, serial→resident mapping,
//!   issuing) requires.
//! - `demo` — generates the demo and test PKI (user-authentication CA,
//!   store-network CA, server and copier certificates, demo cards) with
//!   rcgen. Never production keys; never used on the verification path.
//!
//! - `revocation` — the national-scale revocation index (10 million serials
//!   at about 16 bytes each), delta CRL overlay, the per-issuer store with
//!   lock-free-for-readers swaps, the streaming CRL loader, persistence.
//! - `crlgen` — signed CRLs of any size for tests and the benchmark.
//! - `bench` — `kofu pki bench`: the figures the revocation targets are
//!   judged by, one JSON object a line.
//!
//! `x509-parser` parses; every signature decision is `ring`'s.

pub mod bench;
pub mod card;
pub mod crlgen;
pub mod demo;
pub mod revocation;
pub mod signature;

pub use card::{CardError, CardSerial, CardVerifier, VerifiedCard};
pub use demo::{CardKey, CardSpec, DemoCard, DemoPki, DemoPkiError, Issuer, Leaf};
pub use signature::{ChallengeAlgorithm, SignatureError, verify_signature};

#[cfg(test)]
mod tests {
    /// Errors cross task boundaries (`spawn_blocking`) and become `Box<dyn Error>`.
    #[test]
    fn errors_and_proof_values_can_cross_threads() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<super::CardError>();
        send_sync::<super::DemoPkiError>();
        send_sync::<super::SignatureError>();
        send_sync::<super::VerifiedCard>();
        send_sync::<super::CardVerifier>();
        send_sync::<super::DemoPki>();
    }
}
