//! Fuzz target: the API's request bodies, query strings and path segments,
//! read and checked by the functions the handlers call before the database
//! (the first byte chooses which). Body: `kofu::devkit::fuzzing::api_body`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kofu::devkit::fuzzing::api_body(data);
});
