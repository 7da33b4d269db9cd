//! Fuzz target: register files (CSV and NDJSON) and change feeds, read and
//! checked as an import is before its transaction (the first byte chooses
//! the register and format). Body: `kofu::devkit::fuzzing::register_import`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kofu::devkit::fuzzing::register_import(data);
});
