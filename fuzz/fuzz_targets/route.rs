//! The router and the owner/repo rules on arbitrary "METHOD PATH" input,
//! under libFuzzer: the property of `tests/suite/hostile/route_property.rs`
//! (nothing panics; a name that passes is safe in a DynamoDB key and a
//! GitHub URL), which the suite also runs on stable as a proptest in
//! `make unit`.
//!
//! cargo-fuzz needs a nightly toolchain: on a machine that has one,
//! `make fuzz` (FUZZ_SECONDS, default 60), or from `fuzz/`:
//! `cargo +nightly fuzz run route ../target/fuzz-corpus/route seeds/route`.

#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../../tests/suite/hostile/route_property.rs");

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        names_that_pass_are_key_and_url_safe(text);
    }
});
