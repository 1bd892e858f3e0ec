//! The suite loader and the expectation decoder, on any bytes: a suite file, then optionally
//! a line `%%` and a response that every case's expectations are judged against. Nothing may
//! panic, hang or grow without bound; every refusal names its file.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

include!("../../tests/support/load_any.rs");

fuzz_target!(|data: &[u8]| {
    load_any(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/bad")
            .as_path(),
        data,
    );
});
