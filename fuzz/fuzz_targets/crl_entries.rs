//! Fuzz target: CRL bytes (the streaming reader that builds the revocation
//! index, and the RFC 5280 CRL parser). Body: `kofu::devkit::fuzzing::crl_bytes`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kofu::devkit::fuzzing::crl_bytes(data);
});
