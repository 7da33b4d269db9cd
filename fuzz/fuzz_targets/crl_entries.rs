//! Fuzz target: the streaming CRL reader on arbitrary bytes. The rule it
//! checks: untrusted CRL bytes never panic, hang or allocate unboundedly —
//! parsing, walking every entry, and building an index all return errors.
#![no_main]

use kofu::pki::revocation::{RevocationIndexBuilder, parse_crl_entries};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(crl) = parse_crl_entries(data) {
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
    }
});
