//! `cargo fuzz run domain_name`: see `backorder_fuzz::domain_name`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backorder_fuzz::domain_name(data));
