//! `cargo fuzz run epp_decode`: see `backorder_fuzz::epp_decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backorder_fuzz::epp_decode(data));
