//! `cargo fuzz run list_parsers`: see `backorder_fuzz::list_parsers`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backorder_fuzz::list_parsers(data));
