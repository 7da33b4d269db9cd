//! The bodies of the fuzz targets, shared by `fuzz/` (cargo-fuzz, coverage
//! guided) and `tests/it/fuzz_smoke.rs` (a deterministic mutation run in
//! every test run). The rule both check: untrusted certificate and CRL
//! bytes return errors, never panic, hang or allocate without bound.

use time::OffsetDateTime;

use crate::gateway::pki::revocation::{RevocationIndexBuilder, parse_crl_entries};
use crate::gateway::pki::{CardVerifier, ChallengeAlgorithm};

/// The streaming CRL reader, every entry walked, an index built and checked
/// against itself, then the RFC 5280 CRL parser on the same bytes. True when
/// the streaming reader accepted the bytes.
pub fn crl_bytes(data: &[u8]) -> bool {
    let _ = crate::gateway::pki::crl::Crl::from_file_bytes(data);
    let Ok(crl) = parse_crl_entries(data) else {
        return false;
    };
    let _ = crl.info();
    let mut builder = RevocationIndexBuilder::new();
    for entry in crl.entries() {
        match entry {
            Ok(e) => {
                if let Some(serial) = e.serial {
                    builder.push(&serial, e.reason);
                }
            }
            Err(_) => break,
        }
    }
    let index = builder.build();
    for (serial, reason) in index.iter() {
        assert_eq!(index.lookup(&serial).map(|r| r.reason), Some(reason));
    }
    true
}

/// Card verification (profile, path, signature) and the path validator's
/// certificate parser on arbitrary bytes as the card certificate.
pub fn certificate_bytes(verifier: &CardVerifier, data: &[u8], now: OffsetDateTime) {
    let _ = verifier.verify(
        data,
        b"challenge",
        &[0u8; 256],
        ChallengeAlgorithm::RsaPkcs1Sha256,
        now,
    );
    let _ = crate::gateway::pki::path::Certificate::from_der(data);
}
